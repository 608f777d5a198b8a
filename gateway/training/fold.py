"""What the training service's events do to the documents (pure: no I/O), and how each reads
in her timeline.

Reads (through ``gateway.fold``) ``{node}.training.events``; writes the ``courses`` documents
and her record's enrolments and certificates. (A revoked certificate's status bit is the
records feature's: ``gateway.records.fold``.)
"""

from __future__ import annotations

from gateway.documents import CertificateDoc, DocumentStore, EnrolmentDoc, MemberRecord, document
from gateway.training.documents import CourseView
from schemas import training as t
from schemas.envelope import Envelope
from schemas.registry import Contract


def title_of(titles: list[t.Title]) -> str:
    """A course's title in its first language."""
    return titles[0].title if titles else ""


def titles_of(titles: list[t.Title], part: str = "title") -> dict[str, str]:
    """A course's titles (or its ``part``: criteria) by language, its first language first
    (a language given twice: its first; one that does not say it: left out)."""
    by_language: dict[str, str] = {}
    for title in titles:
        if getattr(title, part):
            by_language.setdefault(title.language, getattr(title, part))
    return by_language


def skill_of(skill: t.EscoSkill | t.IscoOccupation) -> str:
    """A skill as the documents write it: an ESCO URI, or ``isco08:<code>``."""
    return skill.uri if isinstance(skill, t.EscoSkill) else f"isco08:{skill.code}"


def fold(store: DocumentStore, event: Contract, envelope: Envelope) -> list[str]:
    """Apply one event; returns the member ids whose record changed."""
    if isinstance(event, t.CourseOffered):
        course = document(store, CourseView, event.course_id)
        course.offered, course.cooperative_id = True, event.cooperative_id
        course.titles, course.kind = list(event.titles), event.kind.value
        course.language_taught = event.language_taught
        course.target_level = event.target_level.value if event.target_level else None
        course.skills = [skill_of(x) for x in event.skills]
        course.hours, course.capacity = event.hours, event.capacity
        course.starts_on, course.ends_on = event.starts_on, event.ends_on
        store.put("courses", event.course_id, course)
        return []
    course = document(store, CourseView, event.course_id)
    member = document(store, MemberRecord, event.member_id)

    def enrolment() -> EnrolmentDoc:
        found = next((e for e in reversed(member.enrolments)
                      if e.course_id == event.course_id), None)
        if found is None:
            found = EnrolmentDoc(course_id=event.course_id)
            member.enrolments.append(found)
        return found

    match event:
        case t.LearnerEnrolled():
            member.enrolments.append(EnrolmentDoc(course_id=event.course_id))
            course.enrolled += 1
        case t.AttendanceRecorded():
            enrolment().hours = event.total_hours
        case t.LearnerWithdrew():
            enrolment().status = "withdrawn"
            course.enrolled = max(0, course.enrolled - 1)
        case t.CourseCompleted():
            done = enrolment()
            done.status, done.result, done.score = "completed", event.result.value, event.score
            done.level_attained = event.level_attained.value if event.level_attained else None
            done.completed_on = event.completed_on
            course.completed += 1
        case t.CertificateIssued():
            member.certificates.append(CertificateDoc(
                certificate_id=event.certificate_id, course_id=event.course_id,
                cooperative_id=event.cooperative_id, kind=event.kind.value,
                title=title_of(event.titles), titles=titles_of(event.titles),
                criteria=titles_of(event.titles, "criteria"),
                skills=[skill_of(x) for x in event.skills],
                language=event.language, level=event.level.value if event.level else None,
                hours=event.hours, score=event.score, completed_on=event.completed_on,
                issued_on=event.issued_on))
        case t.CertificateRevoked():
            for certificate in member.certificates:
                if certificate.certificate_id == event.certificate_id:
                    certificate.revoked, certificate.revocation_reason = True, event.reason
    store.put("courses", event.course_id, course)
    store.put("members", event.member_id, member)
    return [event.member_id]


#: The events this feature folds.
FOLDS = dict.fromkeys((
    t.CourseOffered, t.LearnerEnrolled, t.AttendanceRecorded, t.LearnerWithdrew,
    t.CourseCompleted, t.CertificateIssued, t.CertificateRevoked), fold)


def summary(event: Contract) -> str | None:
    """Her timeline's line for one of this feature's events."""
    match event:
        case t.LearnerEnrolled():
            return f"enrolled in course {event.course_id}"
        case t.AttendanceRecorded():
            return f"attended {event.hours} hour(s) (total {event.total_hours})"
        case t.LearnerWithdrew():
            return f"withdrew from course {event.course_id}"
        case t.CourseCompleted():
            level = f" at {event.level_attained.value}" if event.level_attained else ""
            return f"completed course {event.course_id}: {event.result.value}{level}, score {event.score}"
        case t.CertificateIssued():
            return f"was awarded certificate {event.certificate_id}"
        case t.CertificateRevoked():
            return f"certificate {event.certificate_id} was revoked"
    return None
