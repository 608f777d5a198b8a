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

SERVICE = "training"
command = REGISTRY.command
event = REGISTRY.event

Hours = Annotated[int, msgspec.Meta(ge=1, le=5000)]
Reason = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class CourseKind(StrEnum):
    LANGUAGE = "language"
    VOCATIONAL = "vocational"
    BUSINESS_START_UP = "business_start_up"
    FINANCIAL_LITERACY = "financial_literacy"
    GOVERNANCE = "governance"


class Cefr(StrEnum):
    A1 = "A1"
    A2 = "A2"
    B1 = "B1"
    B2 = "B2"
    C1 = "C1"
    C2 = "C2"


class Result(StrEnum):
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
    """A course's title and description in one language."""

    language: LanguageTag
    title: Text
    description: Annotated[str, msgspec.Meta(max_length=2000)] = ""


Titles = Annotated[list[Title], msgspec.Meta(min_length=1, max_length=20)]


@command(SERVICE, "OfferCourse")
class OfferCourse(Contract, frozen=True, kw_only=True):
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


@event(SERVICE, "CourseOffered")
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


@command(SERVICE, "EnrolLearner")
class EnrolLearner(Contract, frozen=True, kw_only=True):
    course_id: Id
    member_id: Id


@event(SERVICE, "LearnerEnrolled")
class LearnerEnrolled(Contract, frozen=True, kw_only=True):
    course_id: Id
    member_id: Id
    places_left: Annotated[int, msgspec.Meta(ge=0)]


@command(SERVICE, "RecordAttendance")
class RecordAttendance(Contract, frozen=True, kw_only=True):
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


@command(SERVICE, "WithdrawLearner")
class WithdrawLearner(Contract, frozen=True, kw_only=True):
    course_id: Id
    member_id: Id
    reason: Reason


@event(SERVICE, "LearnerWithdrew")
class LearnerWithdrew(Contract, frozen=True, kw_only=True):
    course_id: Id
    member_id: Id
    reason: Reason


@command(SERVICE, "CompleteCourse")
class CompleteCourse(Contract, frozen=True, kw_only=True):
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


@command(SERVICE, "IssueCertificate")
class IssueCertificate(Contract, frozen=True, kw_only=True):
    course_id: Id
    member_id: Id
    certificate_id: Id
    issued_on: PastDay


@event(SERVICE, "CertificateIssued")
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


@command(SERVICE, "RevokeCertificate")
class RevokeCertificate(Contract, frozen=True, kw_only=True):
    course_id: Id
    certificate_id: Id
    reason: Reason


@event(SERVICE, "CertificateRevoked")
class CertificateRevoked(Contract, frozen=True, kw_only=True):
    course_id: Id
    certificate_id: Id
    member_id: Id
    reason: Reason
