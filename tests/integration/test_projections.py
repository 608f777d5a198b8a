"""The gateway's projections on the real broker, next to the three services: Rosa's story
folds into one record, a restart does not replay, a lost store is rebuilt from the log, an
off-chain event is dead-lettered without stopping the stream, and read-your-writes waits."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import time

import pytest

from gateway import projections as projections_module
from gateway.auth import Caller, Role
from gateway.projections import Projections
from gateway.documents import EnrolmentDoc, MembershipDoc, accounts_of
from gateway.fold import entry
from schemas import REGISTRY
from schemas import membership as m
from schemas import savings as s
from schemas import training as t
from schemas.fields import Money
from schemas.topics import deadletter_topic, events_topic
from services.runtime import kafka_clients
from services.runtime.client import Reply
from services.runtime.deadletter import read_letter
from services.runtime.ids import new_id
from services.savings.app import savings_processor
from services.training.app import training_processor
from tests.integration.membership_world import (
    joins,
    read_events,
    register_cooperative,
    register_member,
    running,
)

def members_of(views, cooperative: str) -> list[str]:
    """Everyone who ever joined ``cooperative``, in joining order."""
    return [row.member_id for row in views.rows("coop_members", cooperative)]


pytestmark = pytest.mark.kafka


def refs(node: str, reply: Reply) -> list[tuple[str, str, int]]:
    """What a reply says was written: ``(events topic, aggregate id, sequence)`` per event."""
    service = reply.payload.command_type.split(".")[1]
    return [(events_topic(node, service), reply.payload.aggregate_id, e.sequence)
            for e in reply.payload.events]


async def accepted(views: Projections, node: str, client, command, aggregate_id: str) -> Reply:
    """Send ``command``, expect it accepted, and wait until the views show it."""
    reply = await client.send(command, aggregate_id)
    assert reply.accepted, reply.payload
    assert await views.wait_for(refs(node, reply), timeout=15)
    return reply


async def seen(views: Projections, node: str, service: str, aggregate_id: str,
               sequence: int = 1) -> None:
    assert await views.wait_for([(events_topic(node, service), aggregate_id, sequence)], 15)


@contextlib.asynccontextmanager
async def started(node: str, bootstrap: str, data_dir, replica: str = "1"):
    """Projections running and caught up with the log as it stood when they started."""
    async with Projections(node, bootstrap, data_dir=data_dir, replica=replica) as views:
        await views.ready(timeout=30)
        yield views


def spanish_b1(course_id: str, cooperative: str) -> t.OfferCourse:
    return t.OfferCourse(
        course_id=course_id, cooperative_id=cooperative,
        titles=[t.Title(language="es-ES", title="Español para el trabajo (B1)")],
        kind=t.CourseKind.LANGUAGE, language_taught="es-ES", target_level=t.Cefr.B1,
        hours=80, starts_on=dt.date(2026, 3, 2), ends_on=dt.date(2026, 6, 26), capacity=20)


def open_account(account_id: str, member: str, cooperative: str) -> s.OpenAccount:
    return s.OpenAccount(account_id=account_id, member_id=member, cooperative_id=cooperative,
                         product=s.Product.SAVINGS, currency="EUR")


def deposit(account_id: str, amount: int) -> s.DepositFunds:
    return s.DepositFunds(account_id=account_id, amount=Money(amount, "EUR"))


async def test_rosas_story_folds_into_one_record(node, tmp_path):
    node_id, bootstrap, client, keys = node
    async with running(node_id, bootstrap, keys), \
            running(node_id, bootstrap, keys, savings_processor), \
            running(node_id, bootstrap, keys, training_processor), \
            started(node_id, bootstrap, tmp_path / "views") as views:
        updates = views.listen(Caller("test", Role.NODE_ADMIN))
        cooperative = await register_cooperative(client)
        await seen(views, node_id, "membership", cooperative)
        rosa = await register_member(client, keys)
        await seen(views, node_id, "membership", rosa)
        await accepted(views, node_id, client, joins(rosa, cooperative), rosa)
        account = new_id()
        await accepted(views, node_id, client, open_account(account, rosa, cooperative), account)
        await accepted(views, node_id, client, deposit(account, 20000), account)
        await accepted(views, node_id, client, deposit(account, 5000), account)
        course = new_id()
        await accepted(views, node_id, client, spanish_b1(course, cooperative), course)
        last = await accepted(views, node_id, client,
                              t.EnrolLearner(course_id=course, member_id=rosa), course)

        assert await views.wait_for(refs(node_id, last))
        record = views.get("members", rosa)
        account_view = views.get("accounts", account)
        her_accounts = accounts_of(views, rosa)
        history = [entry(x) for x in views.rows("timeline", rosa)]
        course_view = views.get("courses", course)
        members = members_of(views, cooperative)
        stats = dict(views.stats)
        got = [updates.get_nowait() for _ in range(updates.qsize())]

    assert record.registered and not record.erased and record.personal is not None
    assert record.memberships == [MembershipDoc(
        cooperative_id=cooperative, role="member", started_on=dt.date(2019, 5, 6),
        share_capital_required=Money(5000, "EUR"))]
    assert her_accounts == [account]
    assert record.enrolments == [EnrolmentDoc(course_id=course, status="enrolled")]
    assert (account_view.member_id, account_view.cooperative_id) == (rosa, cooperative)
    assert account_view.balance == Money(25000, "EUR")
    assert account_view.deposits == Money(25000, "EUR")
    assert course_view.enrolled == 1 and course_view.cooperative_id == cooperative
    assert members == [rosa]
    assert [(i.service, i.type) for i in history] == [
        ("membership", "MemberRegistered"), ("membership", "MembershipStarted"),
        ("savings", "AccountOpened"), ("savings", "FundsDeposited"),
        ("savings", "FundsDeposited"), ("training", "LearnerEnrolled")]
    assert [i.subject for i in history] == [rosa, rosa, account, account, account, course]
    assert history[3].summary == "deposited 200.00 EUR"
    assert stats == {"applied": 8, "duplicates": 0, "dead_lettered": 0, "skipped": 0}
    # every applied event reached the listener, in order, with the members it touched
    assert [(touched, msg.payload.contract_name) for touched, msg in got] == [
        ([], "CooperativeRegistered"), ([rosa], "MemberRegistered"),
        ([rosa], "MembershipStarted"), ([rosa], "AccountOpened"), ([rosa], "FundsDeposited"),
        ([rosa], "FundsDeposited"), ([], "CourseOffered"), ([rosa], "LearnerEnrolled")]


async def test_a_restart_resumes_where_it_stopped_without_replay(node, tmp_path):
    node_id, bootstrap, client, keys = node
    data = tmp_path / "views"
    savings_topic = events_topic(node_id, "savings")
    async with running(node_id, bootstrap, keys), \
            running(node_id, bootstrap, keys, savings_processor):
        async with started(node_id, bootstrap, data) as first:
            cooperative = await register_cooperative(client)
            rosa = await register_member(client, keys)
            await accepted(first, node_id, client, joins(rosa, cooperative), rosa)
            account = new_id()
            await accepted(first, node_id, client, open_account(account, rosa, cooperative),
                           account)
            await accepted(first, node_id, client, deposit(account, 1000), account)
            assert first.stats["applied"] == 5
        # written while the gateway is down: caught up before ready
        while_down = await client.send(deposit(account, 200), account)
        assert while_down.accepted

        async with started(node_id, bootstrap, data) as second:
            assert second.stats == {"applied": 1, "duplicates": 0, "dead_lettered": 0,
                                    "skipped": 0}  # only what it had not seen
            assert second.position(savings_topic, account) == 3
            assert second.get("accounts", account).balance == Money(1200, "EUR")
            assert members_of(second, cooperative) == [rosa]
            await accepted(second, node_id, client, deposit(account, 300), account)
            assert second.stats["applied"] == 2
            balance = second.get("accounts", account).balance
            history = [entry(x) for x in second.rows("timeline", rosa)]
    assert balance == Money(1500, "EUR")
    assert [i.type for i in history] == [
        "MemberRegistered", "MembershipStarted", "AccountOpened",
        "FundsDeposited", "FundsDeposited", "FundsDeposited"]


async def test_a_lost_store_is_rebuilt_from_the_log_and_every_replica_holds_everything(
        node, tmp_path):
    node_id, bootstrap, client, keys = node
    async with running(node_id, bootstrap, keys):
        async with started(node_id, bootstrap, tmp_path / "first") as first:
            cooperative = await register_cooperative(client)
            rosa = await register_member(client, keys)
            await accepted(first, node_id, client, joins(rosa, cooperative), rosa)
        # the same replica (same consumer group, offsets committed past everything) on an
        # empty disk, and a second replica: both read the whole log
        async with started(node_id, bootstrap, tmp_path / "again") as again, \
                started(node_id, bootstrap, tmp_path / "other", replica="2") as other:
            for views in (again, other):
                assert views.stats["applied"] == 3
                assert members_of(views, cooperative) == [rosa]
                assert views.position(events_topic(node_id, "membership"), rosa) == 2
                assert len(views.get("members", rosa).memberships) == 1


async def test_an_off_chain_event_is_dead_lettered_and_the_stream_goes_on(node, tmp_path):
    node_id, bootstrap, client, keys = node
    topic = events_topic(node_id, "membership")
    async with running(node_id, bootstrap, keys), \
            started(node_id, bootstrap, tmp_path / "views") as views:
        cooperative = await register_cooperative(client)
        rosa = await register_member(client, keys)
        await seen(views, node_id, "membership", rosa)
        [registered] = [r for r in await read_events(bootstrap, node_id)
                        if r.key == rosa.encode()]
        refused = await client.send(m.EndMembership(  # a CommandRejected record, no sequence
            member_id=rosa, cooperative_id=cooperative, reason=m.EndReason.MOVED,
            ended_on=dt.date(2026, 1, 1)), rosa)
        assert refused.code == "NotAMember"
        zombie_value = REGISTRY.encode(
            m.MemberErased(member_id=rosa), id=new_id(), source="/coopbridge/zombie",
            subject=rosa, time=dt.datetime.now(dt.UTC), sequence=2, previousid=new_id(),
            causationid=new_id())
        zombie = kafka_clients.producer(bootstrap)
        await zombie.start()
        try:
            sent = await zombie.send_and_wait(topic, partition=registered.partition,
                                              key=rosa.encode(), value=zombie_value)
        finally:
            await zombie.stop()
        # the next good event of the same aggregate, on the same partition, is applied
        await accepted(views, node_id, client, joins(rosa, cooperative), rosa)
        record = views.get("members", rosa)
        position = views.position(topic, rosa)
        stats = dict(views.stats)
    assert stats == {"applied": 3, "duplicates": 0, "dead_lettered": 1, "skipped": 1}
    assert not record.erased and record.personal is not None and len(record.memberships) == 1
    assert position == 2
    letters = [read_letter(r.topic, r.key, r.value, r.headers)
               for r in await kafka_clients.read_topic(deadletter_topic(node_id), bootstrap)]
    [letter] = letters
    assert letter.reason == "off_chain" and letter.value == zombie_value
    assert (letter.source_topic, letter.partition, letter.offset) == (
        topic, sent.partition, sent.offset)
    assert "sequence 2" in letter.detail and rosa not in letter.detail


async def test_a_projection_bug_and_a_second_writers_event_are_set_aside(
        node, tmp_path, monkeypatch):
    node_id, bootstrap, client, keys = node
    topic = events_topic(node_id, "membership")
    real_project = projections_module.project

    def fragile(store, message):
        if isinstance(message.payload, m.MemberRegistered):
            raise ZeroDivisionError("a bug in the projection")
        return real_project(store, message)

    monkeypatch.setattr(projections_module, "project", fragile)
    async with running(node_id, bootstrap, keys), \
            started(node_id, bootstrap, tmp_path / "views") as views:
        cooperative = await register_cooperative(client)
        rosa = await register_member(client, keys)
        await seen(views, node_id, "membership", rosa)
        zombie = kafka_clients.producer(bootstrap)
        await zombie.start()
        try:  # another writer's first event for Rosa: her sequence 1, another id
            sent = await zombie.send_and_wait(topic, key=rosa.encode(), value=REGISTRY.encode(
                m.MemberErased(member_id=rosa), id=new_id(), source="/coopbridge/zombie",
                subject=rosa, time=dt.datetime.now(dt.UTC), sequence=1, causationid=new_id()))
        finally:
            await zombie.stop()
        await accepted(views, node_id, client, joins(rosa, cooperative), rosa)
        record = views.get("members", rosa)
        stats = dict(views.stats)
    # the failed event is set aside, its chain goes on: Rosa's membership is still applied
    assert stats == {"applied": 2, "duplicates": 0, "dead_lettered": 2, "skipped": 0}
    assert not record.registered and not record.erased and len(record.memberships) == 1
    letters = sorted((read_letter(r.topic, r.key, r.value, r.headers) for r in
                      await kafka_clients.read_topic(deadletter_topic(node_id), bootstrap)),
                     key=lambda letter: letter.reason)
    assert [(x.reason, x.detail) for x in letters][1] == ("projection_error", "ZeroDivisionError")
    assert letters[0].reason == "off_chain" and letters[0].offset == sent.offset
    assert b"MemberRegistered" in letters[1].value


async def test_wait_for_gives_up_on_a_sequence_that_never_comes(node, tmp_path):
    node_id, bootstrap, _, _ = node
    async with started(node_id, bootstrap, tmp_path / "views") as views:
        assert await views.wait_for([], timeout=0.1)
        begin = time.monotonic()
        never = [(events_topic(node_id, "membership"), new_id(), 1)]
        assert await views.wait_for(never, timeout=0.5) is False
        assert 0.45 <= time.monotonic() - begin < 2
        waiting = asyncio.create_task(views.wait_for(never, timeout=0.3))
        assert await waiting is False
