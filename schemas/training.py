"""Contracts of the training service: courses, learners, results and certificates.

One aggregate, the **course** (key ``course_id``): what is offered, who is enrolled (so its
capacity has a single writer), attendance, results, and the certificates it issued. The
events hold member ids, never personal fields.

Skills are coded so that any cooperative, in any country, reads them the same way: ESCO
skill or occupation URIs, or ISCO-08 occupation codes; languages are BCP 47 tags and levels
are CEFR (A1 … C2).
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated

import msgspec

from schemas.fields import Id, LanguageTag, PastDay, Text
from schemas.registry import REGISTRY, Contract
from schemas.rejections import declare_rejections

SERVICE = "training"
command = REGISTRY.command
event = REGISTRY.event

#: The codes the training service rejects a command with (besides the runtime's).
REJECTIONS = declare_rejections(SERVICE, {
    "AlreadyCompleted": "her course is completed: nothing more is recorded on it",
    "AlreadyEnrolled": "she is enrolled in this course already",
    "CertificateAlreadyIssued": "a certificate with this id exists, or she holds this one",
    "CertificateAlreadyRevoked": "the certificate is revoked already",
    "CourseAlreadyOffered": "a course with this id is offered",
    "CourseFull": "every place of the course is taken",
    "CourseNotPassed": "certificates are for passed courses only",
    "MemberErased": "she was erased: nothing more is recorded about her",
    "NotCompleted": "she has not completed the course",
    "NotEnrolled": "she is not enrolled in this course",
    "UnknownCertificate": "the course issued no certificate with this id",
    "UnknownCooperative": "no cooperative is registered with this id",
    "UnknownCourse": "no course is offered with this id",
    "UnknownMember": "no member is registered with this id",
})

Hours = Annotated[int, msgspec.Meta(ge=1, le=5000)]
Reason = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class CourseKind(StrEnum):
    """The kinds of course."""

    LANGUAGE = "language"
    VOCATIONAL = "vocational"
    BUSINESS_START_UP = "business_start_up"
    FINANCIAL_LITERACY = "financial_literacy"
    GOVERNANCE = "governance"


class Cefr(StrEnum):
    """Language levels of the Common European Framework of Reference (CEFR): A1 (beginner) to
    C2 (mastery)."""

    A1 = "A1"
    A2 = "A2"
    B1 = "B1"
    B2 = "B2"
    C1 = "C1"
    C2 = "C2"


class Result(StrEnum):
    """How a learner's course ended."""

    PASSED = "passed"
    FAILED = "failed"


class EscoSkill(msgspec.Struct, frozen=True, forbid_unknown_fields=True, tag="esco",
                tag_field="scheme"):
    """An ESCO skill or occupation: ``http://data.europa.eu/esco/skill/<uuid>``."""

    uri: Annotated[str, msgspec.Meta(
        pattern=r"^http://data\.europa\.eu/esco/(skill|occupation|isco)/[A-Za-z0-9.\-]{1,64}$")]


class IscoOccupation(msgspec.Struct, frozen=True, forbid_unknown_fields=True, tag="isco08",
                     tag_field="scheme"):
    """An ISCO-08 occupation group: 1 to 4 digits (``5113`` travel guides)."""

    code: Annotated[str, msgspec.Meta(pattern=r"^[0-9]{1,4}$")]


Skill = EscoSkill | IscoOccupation


class Title(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A course's title, description and criteria (what earning its certificate takes) in one
    language."""

    language: LanguageTag
    title: Text
    description: Annotated[str, msgspec.Meta(max_length=2000)] = ""
    criteria: Annotated[str, msgspec.Meta(max_length=2000)] = ""


class TitleV1(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A course's title and description in one language (version 1 of the course's and the
    certificate's contracts: no criteria)."""

    language: LanguageTag
    title: Text
    description: Annotated[str, msgspec.Meta(max_length=2000)] = ""


Titles = Annotated[list[Title], msgspec.Meta(min_length=1, max_length=20)]


@command(SERVICE, "OfferCourse", version=2, key="course_id")
class OfferCourse(Contract, frozen=True, kw_only=True):
    """Offer a course: its titles, kind, skills or language level, hours, dates and capacity.
    A language course names the language taught and a CEFR target level; every other kind names
    at least one skill (an ESCO URI or an ISCO-08 code) and no language; a course ends no earlier
    than it starts (else ValidationError). The cooperative is registered (else
    UnknownCooperative) and the course's id is new (else CourseAlreadyOffered)."""

    course_id: Id
    cooperative_id: Id
    titles: Titles
    kind: CourseKind
    language_taught: LanguageTag | None = None  # language courses
    target_level: Cefr | None = None  # language courses
    skills: Annotated[list[Skill], msgspec.Meta(max_length=50)] = []  # the other kinds
    hours: Hours
    starts_on: dt.date
    ends_on: dt.date
    capacity: Annotated[int, msgspec.Meta(ge=1, le=10_000)]


@event(SERVICE, "CourseOffered", version=2)
class CourseOffered(Contract, frozen=True, kw_only=True):
    course_id: Id
    cooperative_id: Id
    titles: Titles
    kind: CourseKind
    language_taught: LanguageTag | None = None
    target_level: Cefr | None = None
    skills: Annotated[list[Skill], msgspec.Meta(max_length=50)] = []
    hours: Hours
    starts_on: dt.date
    ends_on: dt.date
    capacity: Annotated[int, msgspec.Meta(ge=1, le=10_000)]


@command(SERVICE, "EnrolLearner", key="course_id")
class EnrolLearner(Contract, frozen=True, kw_only=True):
    """Enrol a member in a course, taking one of its places.
    She is registered at this node (else UnknownMember) and not erased (else MemberErased), not
    enrolled already (else AlreadyEnrolled), and a place is free (else CourseFull)."""

    course_id: Id
    member_id: Id


@event(SERVICE, "LearnerEnrolled")
class LearnerEnrolled(Contract, frozen=True, kw_only=True):
    course_id: Id
    member_id: Id
    places_left: Annotated[int, msgspec.Meta(ge=0)]


@command(SERVICE, "RecordAttendance", key="course_id")
class RecordAttendance(Contract, frozen=True, kw_only=True):
    """Record the hours a learner attended on one day of a course.
    The day lies within the course's dates and all her hours together within the course's
    (else ValidationError); she is enrolled (else NotEnrolled) and has not completed it (else
    AlreadyCompleted)."""

    course_id: Id
    member_id: Id
    hours: Hours
    on: PastDay


@event(SERVICE, "AttendanceRecorded")
class AttendanceRecorded(Contract, frozen=True, kw_only=True):
    course_id: Id
    member_id: Id
    hours: Hours
    on: PastDay
    total_hours: Annotated[int, msgspec.Meta(ge=0)]


@command(SERVICE, "WithdrawLearner", key="course_id")
class WithdrawLearner(Contract, frozen=True, kw_only=True):
    """Withdraw a learner from a course, with the reason: her place is free again.
    She is enrolled (else NotEnrolled) and has not completed it (else AlreadyCompleted)."""

    course_id: Id
    member_id: Id
    reason: Reason


@event(SERVICE, "LearnerWithdrew")
class LearnerWithdrew(Contract, frozen=True, kw_only=True):
    course_id: Id
    member_id: Id
    reason: Reason


@command(SERVICE, "CompleteCourse", key="course_id")
class CompleteCourse(Contract, frozen=True, kw_only=True):
    """Record a learner's result in a course: passed or failed, a score, a language level.
    A passed language course names the CEFR level attained, other kinds never do; a course is
    completed no earlier than its first day (else ValidationError); she is enrolled (else
    NotEnrolled) and not completed already (else AlreadyCompleted)."""

    course_id: Id
    member_id: Id
    result: Result
    score: Annotated[int, msgspec.Meta(ge=0, le=100)]
    level_attained: Cefr | None = None  # language courses
    completed_on: PastDay


@event(SERVICE, "CourseCompleted")
class CourseCompleted(Contract, frozen=True, kw_only=True):
    course_id: Id
    member_id: Id
    result: Result
    score: Annotated[int, msgspec.Meta(ge=0, le=100)]
    level_attained: Cefr | None = None
    completed_on: PastDay
    hours_attended: Annotated[int, msgspec.Meta(ge=0)]


@command(SERVICE, "IssueCertificate", key="course_id")
class IssueCertificate(Contract, frozen=True, kw_only=True):
    """Issue a certificate of a course to a learner who passed it.
    She completed it (else NotCompleted) and passed (else CourseNotPassed) and holds no
    certificate of it that is not revoked (else CertificateAlreadyIssued); it is issued no
    earlier than she completed (else ValidationError)."""

    course_id: Id
    member_id: Id
    certificate_id: Id
    issued_on: PastDay


@event(SERVICE, "CertificateIssued", version=2)
class CertificateIssued(Contract, frozen=True, kw_only=True):
    """What the portable record carries: who issued it, for what, attaining what."""

    certificate_id: Id
    course_id: Id
    member_id: Id
    cooperative_id: Id
    kind: CourseKind
    titles: Titles
    skills: list[Skill] = []
    language: LanguageTag | None = None
    level: Cefr | None = None
    hours: Annotated[int, msgspec.Meta(ge=0)]
    score: Annotated[int, msgspec.Meta(ge=0, le=100)]
    course_started_on: dt.date
    completed_on: PastDay
    issued_on: PastDay


@command(SERVICE, "RevokeCertificate", key="course_id")
class RevokeCertificate(Contract, frozen=True, kw_only=True):
    """Revoke a certificate a course issued, with the reason: verifiers then see it revoked.
    An unknown certificate is UnknownCertificate, one revoked already
    CertificateAlreadyRevoked."""

    course_id: Id
    certificate_id: Id
    reason: Reason


@event(SERVICE, "CertificateRevoked")
class CertificateRevoked(Contract, frozen=True, kw_only=True):
    course_id: Id
    certificate_id: Id
    member_id: Id
    reason: Reason


# -- earlier versions: version 1 of the course's and the certificate's contracts had titles
# without criteria (``TitleV1``); each reads as version 2 with none


@command(SERVICE, "OfferCourse", key="course_id")
class OfferCourseV1(Contract, frozen=True, kw_only=True):
    """Offer a course (version 1: titles without criteria)."""

    course_id: Id
    cooperative_id: Id
    titles: Annotated[list[TitleV1], msgspec.Meta(min_length=1, max_length=20)]
    kind: CourseKind
    language_taught: LanguageTag | None = None
    target_level: Cefr | None = None
    skills: Annotated[list[Skill], msgspec.Meta(max_length=50)] = []
    hours: Hours
    starts_on: dt.date
    ends_on: dt.date
    capacity: Annotated[int, msgspec.Meta(ge=1, le=10_000)]


@event(SERVICE, "CourseOffered")
class CourseOfferedV1(Contract, frozen=True, kw_only=True):
    """A course offered (version 1: titles without criteria)."""

    course_id: Id
    cooperative_id: Id
    titles: Annotated[list[TitleV1], msgspec.Meta(min_length=1, max_length=20)]
    kind: CourseKind
    language_taught: LanguageTag | None = None
    target_level: Cefr | None = None
    skills: Annotated[list[Skill], msgspec.Meta(max_length=50)] = []
    hours: Hours
    starts_on: dt.date
    ends_on: dt.date
    capacity: Annotated[int, msgspec.Meta(ge=1, le=10_000)]


@event(SERVICE, "CertificateIssued")
class CertificateIssuedV1(Contract, frozen=True, kw_only=True):
    """A certificate issued (version 1: titles without criteria)."""

    certificate_id: Id
    course_id: Id
    member_id: Id
    cooperative_id: Id
    kind: CourseKind
    titles: Annotated[list[TitleV1], msgspec.Meta(min_length=1, max_length=20)]
    skills: list[Skill] = []
    language: LanguageTag | None = None
    level: Cefr | None = None
    hours: Annotated[int, msgspec.Meta(ge=0)]
    score: Annotated[int, msgspec.Meta(ge=0, le=100)]
    course_started_on: dt.date
    completed_on: PastDay
    issued_on: PastDay


def _with_criteria(new: type[Contract]):
    def upcast(old: Contract) -> Contract:
        fields = {name: getattr(old, name) for name in old.__struct_fields__}
        return new(**{**fields, "titles": [Title(language=t.language, title=t.title,
                                                 description=t.description)
                                           for t in old.titles]})
    return upcast


for _old, _new in ((OfferCourseV1, OfferCourse), (CourseOfferedV1, CourseOffered),
                   (CertificateIssuedV1, CertificateIssued)):
    REGISTRY.upcaster(_old, _new)(_with_criteria(_new))
del _old, _new
