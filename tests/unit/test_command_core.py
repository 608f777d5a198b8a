"""The command core without Kafka: bytes and a partition's log in, what to write, to
dead-letter and to reply out (given / when / then on the records it plans)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import msgspec
import pytest

from schemas import REGISTRY
from schemas import membership as m
from schemas.fields import Money, Sealed
from services.membership.domain import COOPERATIVE, MEMBER, MEMBERSHIP
from services.runtime.aggregate import Rejected
from services.runtime.client import command_bytes
from services.runtime.core import CommandCore, Hooks, handle, partition_for
from services.runtime.log import PartitionLog
from tests.unit.inmemory_node import Record

NOW = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)
ROSA = "0192d3c4-0000-7000-8000-00000000a05a"
AHORRO = "0192d3c4-0000-7000-8000-0000000c0e5b"
SEAL = Sealed(kid="k", iv=bytes(12), ct=bytes(32))
TOPIC = "es.membership.commands"


def register(cooperative_id: str = AHORRO, name: str = "Ahorro Solidario Madrid"):
    return m.RegisterCooperative(
        cooperative_id=cooperative_id, name=name, country="ES",
        kind=m.CooperativeKind.SAVINGS_AND_CREDIT, languages=["es"], node="es",
        currency="EUR", share_price=Money(2500, "EUR"))


def record(command, command_id: str, *, key: str | None = None, replay_of=None,
           value: bytes | None = None, actor: str | None = None) -> Record:
    key = key or REGISTRY.key_of(command)
    return Record(TOPIC, 0, 0, key.encode(), value or command_bytes(
        command, key, command_id, "/coopbridge/es/client", time=NOW, replay_of=replay_of,
        actor=actor))


def reply_of(core: CommandCore, plan):
    return REGISTRY.decode(core.reply(plan), kind="reply").payload


async def test_an_accepted_command_plans_its_event_and_a_retry_is_answered_from_the_log():
    core, log = CommandCore(MEMBERSHIP, "es"), PartitionLog(MEMBERSHIP)
    first = await handle(core, log, record(register(), "c1"), NOW)
    event = REGISTRY.decode(first.write)
    assert isinstance(event.payload, m.CooperativeRegistered) and event.envelope.sequence == 1
    assert first.stream_key == ("cooperative", AHORRO) and first.letter is None
    again = await handle(core, log, record(register(), "c1"), NOW)
    assert again.write is None and core.reply(again) == core.reply(first)
    assert log.streams[("cooperative", AHORRO)].version == 1


async def test_the_event_says_who_sent_its_command_as_the_command_did():
    core, log = CommandCore(MEMBERSHIP, "es"), PartitionLog(MEMBERSHIP)
    plan = await handle(core, log, record(register(), "c1", actor="node"), NOW)
    assert REGISTRY.decode(plan.write).envelope.actor == "node"
    unsaid = await handle(CommandCore(MEMBERSHIP, "es"), PartitionLog(MEMBERSHIP),
                          record(register(), "c1"), NOW)
    assert REGISTRY.decode(unsaid.write).envelope.actor is None
    assert b'"actor"' not in unsaid.write  # absent, not null: older readers see nothing new


async def test_a_rejection_is_written_to_the_log_without_a_sequence():
    core, log = CommandCore(MEMBERSHIP, "es"), PartitionLog(MEMBERSHIP)
    await handle(core, log, record(register(), "c1"), NOW)
    plan = await handle(core, log, record(register(), "c2"), NOW)
    written = REGISTRY.decode(plan.write)
    assert written.envelope.sequence is None
    assert written.payload.error.code == reply_of(core, plan).error.code == \
        "CooperativeAlreadyRegistered"


async def test_bytes_that_are_no_envelope_are_dead_lettered_and_answered_by_no_one():
    core, log = CommandCore(MEMBERSHIP, "es"), PartitionLog(MEMBERSHIP)
    plan = await handle(core, log, Record(TOPIC, 0, 7, b"k", b"{not json"), NOW)
    assert plan.letter.reason == "invalid_json" and plan.letter.offset == 7
    assert plan.write is None and core.reply(plan) is None


async def test_an_unknown_type_in_a_readable_envelope_is_dead_lettered_and_rejected():
    core, log = CommandCore(MEMBERSHIP, "es"), PartitionLog(MEMBERSHIP)
    raw = msgspec.json.decode(record(register(), "c1").value)
    raw["type"] = "coop.membership.RegisterCooperative.v9"
    plan = await handle(core, log, Record(TOPIC, 0, 0, AHORRO.encode(),
                                          msgspec.json.encode(raw)), NOW)
    assert plan.letter.reason == "future_version"
    assert reply_of(core, plan).error.code == "UnsupportedCommand"


async def test_a_command_keyed_by_another_id_or_on_another_partition_is_refused():
    core, log = CommandCore(MEMBERSHIP, "es", partitions=4), PartitionLog(MEMBERSHIP)
    misaddressed = await handle(core, log, record(register(), "c1", key=ROSA), NOW)
    assert reply_of(core, misaddressed).error.code == "ValidationError"
    right = partition_for(AHORRO.encode(), core.partitions)
    elsewhere = dataclasses.replace(record(register(), "c2"), partition=(right + 1) % 4)
    assert reply_of(core, await handle(core, log, elsewhere, NOW)).error.code == "WrongPartition"
    there = dataclasses.replace(record(register(), "c3"), partition=right)
    assert reply_of(core, await handle(core, log, there, NOW)).accepted


async def test_a_replay_is_answered_only_for_the_same_aggregate_and_never_decided():
    core, log = CommandCore(MEMBERSHIP, "es"), PartitionLog(MEMBERSHIP)
    first = await handle(core, log, record(register(), "c1"), NOW)
    replay = await handle(core, log, record(register(), "r1", replay_of="c1"), NOW)
    assert replay.write is None and reply_of(core, replay) == reply_of(core, first)
    other = await handle(core, log, record(register(), "r2", key=ROSA, replay_of="c1"), NOW)
    unknown = await handle(core, log, record(register(), "r3", replay_of="c9"), NOW)
    for plan, command_id in ((other, "r2"), (unknown, "r3")):
        answer = reply_of(core, plan)
        assert answer.error.code == "NotDone" and answer.command_id == command_id
    assert "r1" not in log.outcomes and "r3" not in log.outcomes


def fragile_membership():
    """The membership service, whose cooperative decider has a bug for a cooperative named
    Boom, and answers an undeclared code for one named Odd."""
    def fragile(state, command, context):
        if command.name == "Boom":
            raise ZeroDivisionError("a bug in the decider")
        if command.name == "Odd":
            raise Rejected("CooperativeOnFire", "a code the service never declared")
        return COOPERATIVE.decide(state, command, context)

    return dataclasses.replace(MEMBERSHIP, aggregates=(
        dataclasses.replace(COOPERATIVE, decide=fragile), MEMBER))


async def test_a_bug_is_an_internal_error_and_a_dead_letter(caplog):
    service = fragile_membership()
    core, log = CommandCore(service, "es"), PartitionLog(service)
    plan = await handle(core, log, record(register(name="Boom"), "Boom"), NOW)
    assert reply_of(core, plan).error.code == "InternalError"
    assert (plan.letter.reason, plan.letter.detail) == ("internal_error", "ZeroDivisionError")
    assert isinstance(plan.bug, ZeroDivisionError)  # for a test's fake to raise again
    assert log.streams[("cooperative", AHORRO)].version == 0
    # an undeclared code is still the service's answer, as before the codes were declared;
    # the operator is told, and tests/unit/test_rejection_codes.py should have caught it
    plan = await handle(core, log, record(register(name="Odd"), "Odd"), NOW)
    assert reply_of(core, plan).error.code == "CooperativeOnFire" and plan.letter is None
    assert "does not declare in schemas: CooperativeOnFire" in caplog.text


async def test_a_check_refuses_before_the_decision_and_an_effect_runs_before_the_write():
    done = []

    async def check(command):
        if command.name == "Refused":
            raise Rejected("NothingToChange", "refused by the check")

    async def effect(event):
        done.append(event.cooperative_id)

    hooks = Hooks(checks={m.RegisterCooperative: check},
                  effects={m.CooperativeRegistered: effect})
    core, log = CommandCore(MEMBERSHIP, "es"), PartitionLog(MEMBERSHIP)
    refused = await handle(core, log, record(register(name="Refused"), "c1"), NOW, hooks)
    assert reply_of(core, refused).error.code == "NothingToChange" and done == []
    accepted = await handle(core, log, record(register(), "c2"), NOW, hooks)
    assert reply_of(core, accepted).accepted and done == [AHORRO]


async def test_a_lookup_folds_only_the_events_that_continue_their_chain():
    core, log = CommandCore(MEMBERSHIP, "es"), PartitionLog(MEMBERSHIP)
    registered = REGISTRY.decode((await handle(core, log, record(register(), "c1"), NOW)).write)
    stale = REGISTRY.decode(REGISTRY.encode(
        m.CooperativeRegistered(**{f: getattr(registered.payload, f)
                                   for f in registered.payload.__struct_fields__}),
        id="e2", source="/coopbridge/zombie", subject=AHORRO, time=NOW, sequence=2,
        previousid="not-the-last-event"))
    core.lookups.apply("membership", stale)
    core.lookups.apply("savings", registered)  # not a source of membership's lookups
    assert core.lookups.views["cooperatives"] == {}
    core.lookups.apply("membership", registered)
    assert set(core.lookups.views["cooperatives"]) == {AHORRO}


async def test_the_in_memory_node_raises_a_deciders_bug_and_refuses_an_undeclared_code():
    """The unit tests' node runs the real core, which answers a bug with InternalError: the
    node raises it again, so a bug fails the test that met it instead of hiding in a reply;
    and an undeclared code fails it too (the review of issue 19)."""
    from tests.unit.inmemory_node import LocalCommands, LocalKeys, LocalViews

    service = fragile_membership()
    commands = LocalCommands(LocalViews(), LocalKeys())
    commands.cores["membership"] = CommandCore(service, "es")
    with pytest.raises(ZeroDivisionError):
        await commands.send(register(name="Boom"))
    with pytest.raises(AssertionError, match="CooperativeOnFire"):
        await commands.send(register(cooperative_id="0192d3c4-0000-7000-8000-0000000000aa",
                                     name="Odd"))
    commands.bugs_expected = True
    reply = await commands.send(register(cooperative_id="0192d3c4-0000-7000-8000-0000000000bb",
                                         name="Boom"))
    assert reply.payload.error.code == "InternalError" and len(commands.letters) == 1


def test_a_reply_goes_to_the_partition_its_sender_reads_and_nothing_else_routes_it():
    """The processor answers on the partition a command names in ``REPLY_PARTITION_HEADER``
    if the replies topic has it; anything else (absent, not digits, out of range, hostile)
    falls back to the partition the command id hashes to, as before the header existed."""
    from types import SimpleNamespace

    from schemas.topics import REPLY_PARTITION_HEADER
    from services.runtime.processor import CommandProcessor

    processor = CommandProcessor(MEMBERSHIP, "es", bootstrap="localhost:1")
    processor.reply_partitions = 4
    key = b"0192d3c4-0000-7000-8000-00000000c0de"
    hashed = partition_for(key, 4)

    def to(*headers):
        return processor._reply_partition(SimpleNamespace(headers=list(headers)), key)

    assert to((REPLY_PARTITION_HEADER, b"3")) == 3
    assert to(("other", b"1"), (REPLY_PARTITION_HEADER, b"0")) == 0
    for hostile in (b"4", b"-1", b"1.0", b"", b" 1", b"\xd9\xa1", b"9" * 40, None):
        assert to((REPLY_PARTITION_HEADER, hostile)) == hashed, hostile
    assert to() == hashed and processor._reply_partition(SimpleNamespace(headers=None),
                                                         key) == hashed


async def test_own_events_go_into_own_lookups_as_acknowledged_and_in_order_only():
    """The processor folds its own acknowledged events into its own lookups and has the
    lookup reader skip them; an event whose earlier ones the reader has not reached yet
    (written by the partition's previous owner) is left for the reader, in order, or her
    ended membership would stay in the view for good."""
    from services.runtime.processor import CommandProcessor

    def ending(command_id: str):
        return record(m.EndMembership(member_id=ROSA, cooperative_id=AHORRO,
                                      ended_on=NOW.date(), reason=m.EndReason.MOVED), command_id)

    before = CommandCore(MEMBERSHIP, "es"), PartitionLog(MEMBERSHIP)  # the previous owner
    registered = await handle(*before, record(register(), "c1"), NOW)
    before[0].lookups.apply("membership", REGISTRY.decode(registered.write))
    earlier = [await handle(*before, record(command, command_id), NOW) for command, command_id in (
        (m.RegisterMember(member_id=ROSA, personal=SEAL), "c2"),
        (m.StartMembership(member_id=ROSA, cooperative_id=AHORRO, started_on=NOW.date(),
                           share_capital_required=Money(2500, "EUR")), "c3"))]
    assert all(plan.event is not None for plan in earlier)

    processor = CommandProcessor(MEMBERSHIP, "es", bootstrap="localhost:1")
    core, log = processor.core, PartitionLog(MEMBERSHIP)
    for plan in (registered, *earlier):  # the takeover folds the partition ...
        log.apply(REGISTRY.decode(plan.write))
    ended = await handle(core, log, ending("c4"), NOW)  # ... before its lookups caught up
    refused = await handle(core, log, record(register(), "c5"), NOW)
    assert ended.event.sequence == 3 and refused.event is None and refused.write is not None
    processor._keep_own(0, [3, 4], [ended, refused])
    views = core.lookups.views
    assert views["memberships"] == set() and views["cooperatives"] == {}  # not on its chain
    assert not processor._was_written(0, 3) and processor._was_written(0, 4)

    for offset, plan in enumerate((registered, *earlier, ended, refused)):  # the reader
        if not processor._was_written(0, offset):
            core.lookups.apply("membership", REGISTRY.decode(plan.write))
    assert views["memberships"] == set() and set(views["cooperatives"]) == {AHORRO}

    again = await handle(core, log, record(m.StartMembership(
        member_id=ROSA, cooperative_id=AHORRO, started_on=NOW.date(),
        share_capital_required=Money(2500, "EUR")), "c6"), NOW)
    processor._keep_own(0, [5], [again])  # on its chain now: folded at once, then skipped
    assert views["memberships"] == {(ROSA, AHORRO)} and processor._was_written(0, 5)
    assert not processor._was_written(0, 6) and processor._written[0] == []  # passed: gone


async def test_produce_batches_go_out_every_partitions_first_before_any_second():
    """``kafka_clients.queue`` fills batches per partition in order, a record too large for
    a batch alone in one, and submits every partition's first batch before any second (a
    partition's next batch waits until the one before is on its way: partition by
    partition, the others would wait a round trip for each)."""
    from services.runtime.kafka_clients import queue

    class Batch:
        def __init__(self, room: int):
            self.room, self.items, self.closed = room, [], False

        def append(self, *, key, value, timestamp):
            if self.closed or (self.items and len(value) > self.room):
                self.closed = True
                return None
            self.items.append(value)
            self.room -= len(value)
            return object()

        def close(self):
            self.closed = True

    class Producer:
        def __init__(self):
            self.submitted = []

        def create_batch(self):
            return Batch(10)

        async def send_batch(self, batch, topic, *, partition):
            assert batch.closed
            self.submitted.append((partition, batch.items))
            return f"{partition}/{len(self.submitted)}"

    producer = Producer()
    queued = await queue(producer, "t", {
        0: [(b"k", b"aaaa"), (b"k", b"bbbb"), (b"k", b"cccc"), (b"k", b"d" * 30)],
        1: [(b"k", b"eeee")], 2: []})
    assert producer.submitted == [(0, [b"aaaa", b"bbbb"]), (1, [b"eeee"]), (0, [b"cccc"]),
                                  (0, [b"d" * 30])]
    assert {p: [count for _, count in q] for p, q in queued.items()} == {
        0: [2, 1, 1], 1: [1], 2: []}


async def test_a_replies_partition_beyond_those_known_is_learnt_at_most_every_ten_seconds():
    """A client that drew a partition the replies topic was given after the processor
    started is answered there, once the processor has asked the cluster again; a hostile
    header naming partition 99999 makes it ask at most every ``REPLY_METADATA_EVERY_S``."""
    from types import SimpleNamespace

    from schemas.topics import REPLY_PARTITION_HEADER
    from services.runtime.processor import CommandProcessor

    asked = []

    async def force_metadata_update():
        asked.append("asked")

    cluster = SimpleNamespace(partitions_for_topic=lambda topic: set(range(8)))
    processor = CommandProcessor(MEMBERSHIP, "es", bootstrap="localhost:1")
    processor._producer = SimpleNamespace(client=SimpleNamespace(
        force_metadata_update=force_metadata_update, cluster=cluster))
    processor.reply_partitions = 4
    key = b"0192d3c4-0000-7000-8000-00000000c0de"

    def plans(partition: bytes):
        record = SimpleNamespace(headers=[(REPLY_PARTITION_HEADER, partition)])
        return {"tp": (None, [record], [])}, record

    batch, record = plans(b"6")
    await processor._reply_partitions_known(batch)
    assert processor.reply_partitions == 8 and processor._reply_partition(record, key) == 6
    for hostile in (b"99999", b"99999"):
        batch, record = plans(hostile)
        await processor._reply_partitions_known(batch)
        assert processor._reply_partition(record, key) == partition_for(key, 8)
    assert asked == ["asked"]  # within ten seconds of the first: not again
