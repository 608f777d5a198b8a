"""Every decision of the training decider, given / when / then (pure, no broker)."""

from __future__ import annotations

import datetime as dt

import pytest

from schemas import membership as m
from schemas import training as t
from schemas.fields import latest_day
from services.runtime.aggregate import Context, Rejected, fold
from services.training.domain import COURSE, apply_to_cooperatives, apply_to_members

NOW = dt.datetime(2026, 7, 1, 9, 0, tzinfo=dt.UTC)  # after the June course: its days have come
ROSA = "0192d3c4-0000-7000-8000-00000000a05a"
LUIS = "0192d3c4-0000-7000-8000-00000000a05b"
ERASED = "0192d3c4-0000-7000-8000-00000000a05c"
AHORRO = "0192d3c4-0000-7000-8000-0000000c0e5b"
SPANISH = "0192d3c4-0000-7000-8000-00000000c501"
CERTIFICATE = "0192d3c4-0000-7000-8000-00000000ce01"
TOUR_GUIDE = t.EscoSkill(uri="http://data.europa.eu/esco/occupation/5113.1")


def context() -> Context:
    return Context(NOW, {"members": {ROSA: "registered", LUIS: "registered",
                                     ERASED: "erased"},
                         "cooperatives": {AHORRO}})


def offer(capacity=2, **changes) -> t.OfferCourse:
    fields = dict(course_id=SPANISH, cooperative_id=AHORRO,
                  titles=[t.Title(language="es-ES", title="Español para el trabajo B1"),
                          t.Title(language="en", title="Spanish for work, B1")],
                  kind=t.CourseKind.LANGUAGE, language_taught="es-ES",
                  target_level=t.Cefr.B1, hours=80, starts_on=dt.date(2026, 3, 2),
                  ends_on=dt.date(2026, 6, 26), capacity=capacity)
    fields.update(changes)
    return t.OfferCourse(**fields)


def offered(**changes) -> t.CourseOffered:
    o = offer(**changes)
    return t.CourseOffered(**{f: getattr(o, f) for f in o.__struct_fields__})


def enrolled(member=ROSA, left=1):
    return t.LearnerEnrolled(course_id=SPANISH, member_id=member, places_left=left)


def attended(hours=80, total=80):
    return t.AttendanceRecorded(course_id=SPANISH, member_id=ROSA, hours=hours,
                                on=dt.date(2026, 6, 20), total_hours=total)


def completed(result=t.Result.PASSED, level=t.Cefr.B1):
    return t.CourseCompleted(course_id=SPANISH, member_id=ROSA, result=result, score=81,
                             level_attained=level, completed_on=dt.date(2026, 6, 26),
                             hours_attended=80)


def when(history, command):
    return COURSE.decision(fold(COURSE, list(history)), command, context())


def rejected(history, command, code):
    with pytest.raises(Rejected) as caught:
        when(history, command)
    assert caught.value.code == code, caught.value
    return caught.value


def test_a_registered_cooperative_offers_a_course_once():
    assert when([], offer()) == [offered()]
    rejected([offered()], offer(), "CourseAlreadyOffered")
    rejected([], offer(cooperative_id=ROSA), "UnknownCooperative")


def test_a_language_course_names_its_language_and_target_the_others_their_skills():
    rejected([], offer(target_level=None), "ValidationError")
    rejected([], offer(kind=t.CourseKind.VOCATIONAL), "ValidationError")  # a language level
    rejected([], offer(kind=t.CourseKind.VOCATIONAL, language_taught=None, target_level=None),
             "ValidationError")  # no skills
    guide = offer(kind=t.CourseKind.VOCATIONAL, language_taught=None, target_level=None,
                  skills=[TOUR_GUIDE, t.IscoOccupation(code="5113")])
    assert when([], guide)[0].skills == [TOUR_GUIDE, t.IscoOccupation(code="5113")]
    rejected([], offer(ends_on=dt.date(2026, 1, 1)), "ValidationError")


def test_members_enrol_until_the_course_is_full():
    enrol = t.EnrolLearner(course_id=SPANISH, member_id=ROSA)
    assert when([offered()], enrol) == [enrolled(ROSA, left=1)]
    rejected([offered(), enrolled(ROSA)], enrol, "AlreadyEnrolled")
    rejected([offered(capacity=1), enrolled(LUIS, 0)], enrol, "CourseFull")
    rejected([], enrol, "UnknownCourse")
    rejected([offered()], t.EnrolLearner(course_id=SPANISH, member_id=AHORRO), "UnknownMember")
    rejected([offered()], t.EnrolLearner(course_id=SPANISH, member_id=ERASED), "MemberErased")


def test_a_withdrawal_frees_a_place():
    withdrew = t.LearnerWithdrew(course_id=SPANISH, member_id=LUIS, reason="moved")
    history = [offered(capacity=1), enrolled(LUIS, 0), withdrew]
    assert when(history, t.EnrolLearner(course_id=SPANISH, member_id=ROSA))[0].places_left == 0
    rejected(history, t.WithdrawLearner(course_id=SPANISH, member_id=LUIS, reason="x"),
             "NotEnrolled")


def test_attendance_adds_up_within_the_course_hours_and_dates():
    record = t.RecordAttendance(course_id=SPANISH, member_id=ROSA, hours=30,
                                on=dt.date(2026, 4, 1))
    history = [offered(), enrolled()]
    assert when(history, record)[0].total_hours == 30
    rejected([*history, attended(60, 60)], record, "ValidationError")  # 90 > 80 hours
    rejected(history, t.RecordAttendance(course_id=SPANISH, member_id=ROSA, hours=2,
                                         on=dt.date(2027, 1, 1)), "ValidationError")
    rejected([offered()], record, "NotEnrolled")


def test_completing_needs_an_enrolment_and_a_level_for_a_passed_language_course():
    complete = t.CompleteCourse(course_id=SPANISH, member_id=ROSA, result=t.Result.PASSED,
                                score=81, level_attained=t.Cefr.B1,
                                completed_on=dt.date(2026, 6, 26))
    assert when([offered(), enrolled(), attended()], complete) == [completed()]
    rejected([offered()], complete, "NotEnrolled")
    rejected([offered(), enrolled(), completed()], complete, "AlreadyCompleted")
    no_level = t.CompleteCourse(course_id=SPANISH, member_id=ROSA, result=t.Result.PASSED,
                                score=81, completed_on=dt.date(2026, 6, 26))
    rejected([offered(), enrolled()], no_level, "ValidationError")


def test_a_certificate_is_issued_only_for_a_passed_completion_and_carries_the_level():
    issue = t.IssueCertificate(course_id=SPANISH, member_id=ROSA, certificate_id=CERTIFICATE,
                               issued_on=dt.date(2026, 6, 30))
    [certificate] = when([offered(), enrolled(), attended(), completed()], issue)
    assert (certificate.level, certificate.language, certificate.hours) == (
        t.Cefr.B1, "es-ES", 80)
    assert certificate.cooperative_id == AHORRO and certificate.score == 81
    rejected([offered(), enrolled()], issue, "NotCompleted")
    rejected([offered(), enrolled(), completed(t.Result.FAILED, None)], issue, "CourseNotPassed")
    rejected([offered(), enrolled(), completed(), certificate], issue,
             "CertificateAlreadyIssued")


def test_a_certificate_is_revoked_once_with_a_reason():
    issued = when([offered(), enrolled(), attended(), completed()],
                  t.IssueCertificate(course_id=SPANISH, member_id=ROSA,
                                     certificate_id=CERTIFICATE,
                                     issued_on=dt.date(2026, 6, 30)))[0]
    history = [offered(), enrolled(), attended(), completed(), issued]
    revoke = t.RevokeCertificate(course_id=SPANISH, certificate_id=CERTIFICATE,
                                 reason="issued in error")
    assert when(history, revoke) == [t.CertificateRevoked(
        course_id=SPANISH, certificate_id=CERTIFICATE, member_id=ROSA, reason="issued in error")]
    revoked = when(history, revoke)[0]
    rejected([*history, revoked], revoke, "CertificateAlreadyRevoked")
    rejected(history, t.RevokeCertificate(course_id=SPANISH, certificate_id=ROSA, reason="x"),
             "UnknownCertificate")


def test_the_lookups_know_members_erasures_and_cooperatives():
    from schemas import membership as m
    from schemas.fields import Sealed
    members, cooperatives = {}, set()
    apply_to_members(members, m.MemberRegistered(
        member_id=ROSA, personal=Sealed(kid="k", iv=bytes(12), ct=bytes(16))))
    apply_to_members(members, m.MemberErased(member_id=ROSA))
    assert members == {ROSA: "erased"}
    apply_to_cooperatives(cooperatives, m.CooperativeUpdated(cooperative_id=AHORRO, name="x"))
    assert cooperatives == set()


def test_a_member_who_arrived_by_an_imported_record_is_present_until_erased():
    """Regression: a returnee imported at home has no ``MemberRegistered`` there, and the
    training service's view of who is present did not know her (``UnknownMember``)."""
    from tests.unit.test_membership_records import imported
    members: dict = {}
    apply_to_members(members, imported())
    assert members == {imported().member_id: "registered"}
    apply_to_members(members, m.MemberErased(member_id=imported().member_id))
    apply_to_members(members, imported())  # a replay of the log cannot bring her back
    assert members == {imported().member_id: "erased"}


def test_attendance_completion_and_certificates_are_never_dated_after_today():
    """Regression (issue 17): a day on which something happened may not lie ahead, and
    "today" is today somewhere on Earth (UTC+14 leads UTC by 14 hours)."""
    tomorrow_everywhere = latest_day(NOW) + dt.timedelta(days=1)
    course = [offered(ends_on=dt.date(2027, 6, 26)), enrolled()]
    for command in (
            t.RecordAttendance(course_id=SPANISH, member_id=ROSA, hours=2,
                               on=tomorrow_everywhere),
            t.CompleteCourse(course_id=SPANISH, member_id=ROSA, result=t.Result.PASSED,
                             score=80, level_attained=t.Cefr.B1,
                             completed_on=tomorrow_everywhere)):
        error = rejected(course, command, "ValidationError")
        assert "not come yet" in error.message
    error = rejected([*course, completed()], t.IssueCertificate(
        course_id=SPANISH, member_id=ROSA, certificate_id=CERTIFICATE,
        issued_on=tomorrow_everywhere), "ValidationError")
    assert error.message.startswith("issued_on:")
    [attended_today] = when(course, t.RecordAttendance(  # the latest day on Earth has come
        course_id=SPANISH, member_id=ROSA, hours=2, on=latest_day(NOW)))
    assert attended_today.total_hours == 2
