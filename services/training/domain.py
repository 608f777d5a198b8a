"""The training rules, as pure functions: no I/O; the clock and lookups come in through
``Context``.

One aggregate, the **course** (key ``course_id``): capacity, enrolments, attendance,
results and certificates all have one writer, so "20 places" means 20 under any load.

Lookups (from membership events): ``members`` (member id -> registered / erased) and
``cooperatives`` (the registered cooperative ids).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field

from schemas import membership as ms
from schemas import training as t
from schemas.registry import Contract, fields_of
from services.runtime.aggregate import Aggregate, Context, Lookup, Rejected, ServiceDefinition


@dataclass(frozen=True)
class Learner:
    hours: int = 0
    withdrawn: bool = False
    completion: t.CourseCompleted | None = None


@dataclass(frozen=True)
class Course:
    offered: t.CourseOffered | None = None
    learners: Mapping[str, Learner] = field(default_factory=dict)
    certificates: Mapping[str, tuple[str, bool]] = field(default_factory=dict)  # id -> (member, revoked)

    @property
    def enrolled(self) -> int:
        return sum(1 for learner in self.learners.values() if not learner.withdrawn)


def decide(state: Course, command: Contract, context: Context) -> list[Contract]:
    match command:
        case t.OfferCourse():
            if state.offered is not None:
                raise Rejected("CourseAlreadyOffered", "a course with this id exists")
            if command.cooperative_id not in context.lookups["cooperatives"]:
                raise Rejected("UnknownCooperative", "no cooperative is registered with this id")
            _valid_offer(command)
            return [t.CourseOffered(**fields_of(command))]
        case t.EnrolLearner():
            offered = _offered(state)
            _member(context, command.member_id)
            learner = state.learners.get(command.member_id)
            if learner is not None and not learner.withdrawn:
                raise Rejected("AlreadyEnrolled", "the member is enrolled in this course")
            if state.enrolled >= offered.capacity:
                raise Rejected("CourseFull", f"all {offered.capacity} places are taken")
            return [t.LearnerEnrolled(course_id=command.course_id, member_id=command.member_id,
                                      places_left=offered.capacity - state.enrolled - 1)]
        case t.RecordAttendance():
            offered = _offered(state)
            learner = _enrolled(state, command.member_id)
            if learner.completion is not None:
                raise Rejected("AlreadyCompleted", "the course is completed for this member")
            if not offered.starts_on <= command.on <= offered.ends_on:
                raise Rejected("ValidationError", "attendance falls within the course dates")
            if learner.hours + command.hours > offered.hours:
                raise Rejected("ValidationError", f"the course has {offered.hours} hours")
            return [t.AttendanceRecorded(**fields_of(command),
                                         total_hours=learner.hours + command.hours)]
        case t.WithdrawLearner():
            _offered(state)
            learner = _enrolled(state, command.member_id)
            if learner.completion is not None:
                raise Rejected("AlreadyCompleted", "the course is completed for this member")
            return [t.LearnerWithdrew(**fields_of(command))]
        case t.CompleteCourse():
            offered = _offered(state)
            learner = _enrolled(state, command.member_id)
            if learner.completion is not None:
                raise Rejected("AlreadyCompleted", "the course is completed for this member")
            language = offered.kind is t.CourseKind.LANGUAGE
            if command.level_attained is not None and not language:
                raise Rejected("ValidationError", "a CEFR level is attained in language courses")
            if language and command.result is t.Result.PASSED and command.level_attained is None:
                raise Rejected("ValidationError", "a passed language course names the level")
            if command.completed_on < offered.starts_on:
                raise Rejected("ValidationError", "a course completes after it starts")
            return [t.CourseCompleted(**fields_of(command), hours_attended=learner.hours)]
        case t.IssueCertificate():
            offered = _offered(state)
            learner = state.learners.get(command.member_id)
            completion = learner.completion if learner else None
            if completion is None:
                raise Rejected("NotCompleted", "the member has not completed this course")
            if completion.result is not t.Result.PASSED:
                raise Rejected("CourseNotPassed", "certificates are for passed courses only")
            if command.certificate_id in state.certificates:
                raise Rejected("CertificateAlreadyIssued", "a certificate with this id exists")
            if any(member == command.member_id and not revoked
                   for member, revoked in state.certificates.values()):
                raise Rejected("CertificateAlreadyIssued", "the member holds this certificate")
            if command.issued_on < completion.completed_on:
                raise Rejected("ValidationError", "a certificate follows the completion")
            return [t.CertificateIssued(
                certificate_id=command.certificate_id, course_id=command.course_id,
                member_id=command.member_id, cooperative_id=offered.cooperative_id,
                kind=offered.kind, titles=offered.titles, skills=offered.skills,
                language=offered.language_taught, level=completion.level_attained,
                hours=completion.hours_attended, score=completion.score,
                course_started_on=offered.starts_on, completed_on=completion.completed_on,
                issued_on=command.issued_on)]
        case t.RevokeCertificate():
            _offered(state)
            certificate = state.certificates.get(command.certificate_id)
            if certificate is None:
                raise Rejected("UnknownCertificate", "this course issued no such certificate")
            member, revoked = certificate
            if revoked:
                raise Rejected("CertificateAlreadyRevoked", "the certificate is revoked already")
            return [t.CertificateRevoked(course_id=command.course_id,
                                         certificate_id=command.certificate_id,
                                         member_id=member, reason=command.reason)]
    raise TypeError(f"not a training command: {type(command).__name__}")


def evolve(state: Course, event: Contract) -> Course:
    replace = dataclasses.replace
    match event:
        case t.CourseOffered():
            return Course(offered=event)
        case t.LearnerEnrolled():
            return _with_learner(state, event.member_id, Learner())
        case t.AttendanceRecorded():
            return _with_learner(state, event.member_id, replace(
                state.learners[event.member_id], hours=event.total_hours))
        case t.LearnerWithdrew():
            return _with_learner(state, event.member_id, replace(
                state.learners[event.member_id], withdrawn=True))
        case t.CourseCompleted():
            return _with_learner(state, event.member_id, replace(
                state.learners[event.member_id], completion=event))
        case t.CertificateIssued():
            return replace(state, certificates={
                **state.certificates, event.certificate_id: (event.member_id, False)})
        case t.CertificateRevoked():
            return replace(state, certificates={
                **state.certificates, event.certificate_id: (event.member_id, True)})
    raise TypeError(f"not a training event: {type(event).__name__}")


def _valid_offer(command: t.OfferCourse) -> None:
    language = command.kind is t.CourseKind.LANGUAGE
    if language and (command.language_taught is None or command.target_level is None):
        raise Rejected("ValidationError", "a language course names its language and CEFR target")
    if not language and (command.language_taught or command.target_level):
        raise Rejected("ValidationError", "only language courses teach a language level")
    if not language and not command.skills:
        raise Rejected("ValidationError", "name the skills covered (ESCO URIs or ISCO-08 codes)")
    if command.ends_on < command.starts_on:
        raise Rejected("ValidationError", "a course ends after it starts")


def _offered(state: Course) -> t.CourseOffered:
    if state.offered is None:
        raise Rejected("UnknownCourse", "no course is offered with this id")
    return state.offered


def _enrolled(state: Course, member_id: str) -> Learner:
    learner = state.learners.get(member_id)
    if learner is None or learner.withdrawn:
        raise Rejected("NotEnrolled", "the member is not enrolled in this course")
    return learner


def _member(context: Context, member_id: str) -> None:
    status = context.lookups["members"].get(member_id)
    if status is None:
        raise Rejected("UnknownMember", "no member is registered with this id")
    if status == "erased":
        raise Rejected("MemberErased", "this member was erased")


def _with_learner(state: Course, member_id: str, learner: Learner) -> Course:
    return dataclasses.replace(state, learners={**state.learners, member_id: learner})


# -- lookups (from membership events) --------------------------------------------------------


def apply_to_members(view: dict[str, str], event: Contract) -> None:
    """Who is present at this node: registered here, or arrived by an imported record (a
    returnee has no ``MemberRegistered`` at home), until erased."""
    match event:
        case ms.MemberRegistered() | ms.RecordImported() if view.get(event.member_id) != "erased":
            view[event.member_id] = "registered"
        case ms.MemberErased():
            view[event.member_id] = "erased"


def apply_to_cooperatives(view: set[str], event: Contract) -> None:
    if isinstance(event, ms.CooperativeRegistered):
        view.add(event.cooperative_id)


# -- the service, wired at the bottom ------------------------------------------------------

COURSE = Aggregate(
    name="course",
    initial=Course,
    decide=decide,
    evolve=evolve,
    commands=(t.OfferCourse, t.EnrolLearner, t.RecordAttendance, t.WithdrawLearner,
              t.CompleteCourse, t.IssueCertificate, t.RevokeCertificate),
    events=(t.CourseOffered, t.LearnerEnrolled, t.AttendanceRecorded, t.LearnerWithdrew,
            t.CourseCompleted, t.CertificateIssued, t.CertificateRevoked),
)

TRAINING = ServiceDefinition(
    name=t.SERVICE,
    aggregates=(COURSE,),
    lookups=(
        Lookup("members", dict, apply_to_members, source="membership"),
        Lookup("cooperatives", set, apply_to_cooperatives, source="membership"),
    ),
)
