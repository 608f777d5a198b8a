"""The training service on the real broker, next to the membership service: capacity under
concurrency across two instances, and Rosa's two courses and certificates."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from schemas import REGISTRY
from schemas import training as t
from schemas.topics import events_topic
from services.runtime import kafka_clients
from services.runtime.ids import new_id
from services.training.app import training_processor
from tests.integration.membership_world import (
    share_the_partitions,
    outcome,
    register_cooperative,
    register_member,
    running,
)

pytestmark = pytest.mark.kafka

TOUR_GUIDE = t.EscoSkill(uri="http://data.europa.eu/esco/occupation/5113.1")
GUIDING = t.EscoSkill(uri="http://data.europa.eu/esco/skill/b7e0c1d4-0f1f-4ee2-8a3e-1c1b7f2e5a11")


@pytest.fixture
async def world(node):
    node_id, bootstrap, _, keys = node
    async with running(node_id, bootstrap, keys):  # the membership service
        yield node


def spanish_b1(course_id: str, cooperative: str, capacity: int = 20) -> t.OfferCourse:
    return t.OfferCourse(
        course_id=course_id, cooperative_id=cooperative,
        titles=[t.Title(language="es-ES", title="Español para el trabajo (B1)")],
        kind=t.CourseKind.LANGUAGE, language_taught="es-ES", target_level=t.Cefr.B1,
        hours=80, starts_on=dt.date(2026, 3, 2), ends_on=dt.date(2026, 6, 26),
        capacity=capacity)


async def training_events(bootstrap: str, node: str) -> list:
    records = await kafka_clients.read_topic(events_topic(node, "training"), bootstrap)
    return [REGISTRY.decode(r.value).payload for r in records]


async def test_sixty_members_race_for_twenty_places_across_two_instances(world):
    node, bootstrap, client, keys = world
    async with running(node, bootstrap, keys, training_processor) as first, \
            running(node, bootstrap, keys, training_processor) as second:
        await share_the_partitions(first, second)
        cooperative = await register_cooperative(client)
        members = await asyncio.gather(*(register_member(client, keys) for _ in range(60)))
        course = new_id()
        assert (await client.send(spanish_b1(course, cooperative), course)).accepted
        replies = await asyncio.gather(*(
            client.send(t.EnrolLearner(course_id=course, member_id=member), course)
            for member in members))
    assert sorted(outcome(r) for r in replies) == ["CourseFull"] * 40 + ["accepted"] * 20
    enrolled = [e for e in await training_events(bootstrap, node)
                if isinstance(e, t.LearnerEnrolled)]
    assert len(enrolled) == 20 and sorted(e.places_left for e in enrolled) == list(range(20))


async def test_rosa_learns_spanish_and_tour_guiding_and_one_certificate_is_revoked(world):
    node, bootstrap, client, keys = world
    async with running(node, bootstrap, keys, training_processor):
        cooperative = await register_cooperative(client)
        rosa = await register_member(client, keys)
        spanish, guiding = new_id(), new_id()
        assert (await client.send(spanish_b1(spanish, cooperative), spanish)).accepted
        offer = await client.send(t.OfferCourse(
            course_id=guiding, cooperative_id=cooperative,
            titles=[t.Title(language="es-ES", title="Guía turística"),
                    t.Title(language="en", title="Tour guiding")],
            kind=t.CourseKind.VOCATIONAL, skills=[TOUR_GUIDE, GUIDING], hours=120,
            starts_on=dt.date(2026, 7, 1), ends_on=dt.date(2026, 10, 16), capacity=15), guiding)
        assert offer.accepted, offer.payload
        steps = [
            (spanish, t.EnrolLearner(course_id=spanish, member_id=rosa)),
            *[(spanish, t.RecordAttendance(course_id=spanish, member_id=rosa, hours=20,
                                           on=dt.date(2026, 3, 2) + dt.timedelta(weeks=4 * w)))
              for w in range(4)],
            (spanish, t.CompleteCourse(course_id=spanish, member_id=rosa, result=t.Result.PASSED,
                                       score=84, level_attained=t.Cefr.B1,
                                       completed_on=dt.date(2026, 6, 26))),
            (spanish, t.IssueCertificate(course_id=spanish, member_id=rosa,
                                         certificate_id=(spanish_cert := new_id()),
                                         issued_on=dt.date(2026, 6, 30))),
            (guiding, t.EnrolLearner(course_id=guiding, member_id=rosa)),
            (guiding, t.RecordAttendance(course_id=guiding, member_id=rosa, hours=120,
                                         on=dt.date(2026, 10, 16))),
            (guiding, t.CompleteCourse(course_id=guiding, member_id=rosa, result=t.Result.PASSED,
                                       score=91, completed_on=dt.date(2026, 10, 16))),
            (guiding, t.IssueCertificate(course_id=guiding, member_id=rosa,
                                         certificate_id=(guide_cert := new_id()),
                                         issued_on=dt.date(2026, 10, 20))),
        ]
        for course, command in steps:
            reply = await client.send(command, course)
            assert reply.accepted, (type(command).__name__, reply.payload)
        revoked = await client.send(t.RevokeCertificate(
            course_id=guiding, certificate_id=guide_cert, reason="assessment irregularity"),
            guiding)
        again = await client.send(t.RevokeCertificate(
            course_id=guiding, certificate_id=guide_cert, reason="again"), guiding)
    assert revoked.accepted and outcome(again) == "CertificateAlreadyRevoked"
    events = await training_events(bootstrap, node)
    certificates = {e.certificate_id: e for e in events if isinstance(e, t.CertificateIssued)}
    spanish_certificate, guide_certificate = certificates[spanish_cert], certificates[guide_cert]
    assert (spanish_certificate.language, spanish_certificate.level,
            spanish_certificate.hours) == ("es-ES", t.Cefr.B1, 80)
    assert guide_certificate.skills == [TOUR_GUIDE, GUIDING] and guide_certificate.level is None
    assert guide_certificate.hours == 120 and guide_certificate.score == 91
    revocations = [e for e in events if isinstance(e, t.CertificateRevoked)]
    assert [(r.certificate_id, r.member_id) for r in revocations] == [(guide_cert, rosa)]
    assert not [r for r in revocations if r.certificate_id == spanish_cert]
