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
           value: bytes | None = None) -> Record:
    key = key or REGISTRY.key_of(command)
    return Record(TOPIC, 0, 0, key.encode(), value or command_bytes(
        command, key, command_id, "/coopbridge/es/client", time=NOW, replay_of=replay_of))


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
