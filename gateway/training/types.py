"""The training feature's GraphQL types: courses, her enrolments and her certificates. Each
maps a document with ``from_doc``.
"""

from __future__ import annotations

import datetime as dt
import typing

import strawberry
from strawberry.types import Info

from gateway.i18n.types import LANG, LocalizedText, localized
from gateway.training.documents import CourseView
from gateway.types import SMALL, own_id, shown_count, use_id


@strawberry.type(description="Her place in a course and how it went")
class Enrolment:
    course_id: strawberry.ID
    status: str = strawberry.field(description="enrolled, withdrawn or completed")
    hours: int = strawberry.field(description="the hours she has attended")
    result: str | None = strawberry.field(description="passed or failed; null until completed")
    score: int | None = strawberry.field(description="0 to 100; null until completed")
    level_attained: str | None
    completed_on: dt.date | None


#: How a skill is written in the record's output types.
SKILLS = ("the skills the course covered: ESCO URIs (http://data.europa.eu/esco/skill/<id>) and "
          "ISCO-08 codes written isco08:<code>")
#: The kinds of course, as the record's output types write them.
COURSE_KINDS = "language, vocational, business_start_up, financial_literacy or governance"


@strawberry.type(description="A certificate a course issued her")
class Certificate:
    certificate_id: strawberry.ID = use_id()
    id: strawberry.ID = own_id("certificate_id", "certificate")
    course_id: strawberry.ID
    cooperative_id: strawberry.ID = strawberry.field(
        description="the issuing cooperative: the one that offered the course")
    kind: str = strawberry.field(description="the kind of course: " + COURSE_KINDS)
    title: str = strawberry.field(description="the course's title, in its first language")
    titles: strawberry.Private[dict[str, str]]
    skills: list[str] = strawberry.field(description=SKILLS)
    language: str | None
    level: str | None

    @strawberry.field(description="the course's title in the reader's language when the "
                                  "course has it (or a region of it), else in its first "
                                  "language, marked as a fallback")
    def localized_title(self, info: Info, lang: typing.Annotated[
            list[str] | None, strawberry.argument(description=LANG)] = None) -> LocalizedText:
        return localized(self.titles or {"und": self.title}, info, lang)

    criteria: strawberry.Private[dict[str, str]] = None

    @strawberry.field(description="what earning it took, in the reader's language when its "
                                  "course said it in several (null when the course did not "
                                  "say: its hours and its assessment)")
    def localized_criteria(self, info: Info, lang: typing.Annotated[
            list[str] | None, strawberry.argument(description=LANG)] = None
                           ) -> LocalizedText | None:
        return localized(self.criteria or {}, info, lang)
    hours: int = strawberry.field(description="the hours she attended")
    score: int = strawberry.field(description="her final score, 0 to 100")
    completed_on: dt.date | None
    issued_on: dt.date | None
    revoked: bool = strawberry.field(description="its cooperative revoked it: verifiers see it "
                                                 "revoked")
    revocation_reason: str | None = strawberry.field(
        description="why it was revoked; null if it was not")


@strawberry.type(description="A course's title and description in one language")
class CourseTitle:
    language: str = strawberry.field(description="the language of this title and description: "
                                                 "a BCP 47 tag (es)")
    title: str = strawberry.field(description="the course's title in that language")
    description: str


@strawberry.type(description="A course a cooperative offers: its public facts")
class Course:
    course_id: strawberry.ID = use_id()
    id: strawberry.ID = own_id("course_id", "course")
    cooperative_id: strawberry.ID = strawberry.field(
        description="the cooperative that offers it")
    titles: list[CourseTitle]
    kind: str = strawberry.field(description=COURSE_KINDS)
    language_taught: str | None
    target_level: str | None
    skills: list[str] = strawberry.field(description=SKILLS)
    hours: int
    starts_on: dt.date | None
    ends_on: dt.date | None
    capacity: int
    enrolled: int | None = strawberry.field(
        description="learners enrolled and not withdrawn (those who completed it included); "
                    "null for outsiders when under 5")
    places_left: int | None = strawberry.field(
        description="places not taken; null for outsiders while the enrolled count is hidden "
                    "(capacity minus places left would give it away): see hasPlaces")
    has_places: bool | None = strawberry.field(
        description="a place is free: the course can enrol another learner; null for "
                    "outsiders on a course of fewer than 5 places (full would tell how many "
                    "are enrolled)")
    completed: int | None = strawberry.field(
        description="learners who completed it; null for outsiders when under 5")

    @strawberry.field(description="its title in the reader's language when the course has "
                                  "it (or a region of it), else in its first language, "
                                  "marked as a fallback")
    def localized_title(self, info: Info, lang: typing.Annotated[
            list[str] | None, strawberry.argument(description=LANG)] = None
            ) -> LocalizedText | None:
        texts: dict[str, str] = {}
        for title in self.titles:  # in order: the first language first
            texts.setdefault(title.language, title.title)
        return localized(texts, info, lang)

    @classmethod
    def from_doc(cls, doc: CourseView, insider: bool = False) -> Course:
        return cls(course_id=doc.course_id, cooperative_id=doc.cooperative_id,
                   titles=[CourseTitle(language=x.language, title=x.title,
                                       description=x.description) for x in doc.titles],
                   kind=doc.kind, language_taught=doc.language_taught,
                   target_level=doc.target_level, skills=doc.skills, hours=doc.hours,
                   starts_on=doc.starts_on, ends_on=doc.ends_on, capacity=doc.capacity,
                   enrolled=shown_count(doc.enrolled, insider),
                   places_left=(max(0, doc.capacity - doc.enrolled)
                                if shown_count(doc.enrolled, insider) is not None else None),
                   has_places=(doc.capacity > doc.enrolled
                               if insider or doc.capacity >= SMALL else None),
                   completed=shown_count(doc.completed, insider))
