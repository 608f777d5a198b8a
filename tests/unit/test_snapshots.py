"""Snapshots of a partition's log and the bounded outcome index, without Kafka (issue 21):

* every service's states, chain heads and outcomes come back from a snapshot's records as
  they were, in their declared types, however the snapshot is cut into chunks;
* a cut keeps the states streams had when it was taken while the log goes on;
* a corrupt, truncated, incomplete or mismatched snapshot (another service, partition,
  format or layout of the states, a chunk altered under its digest or of the wrong types)
  is refused, never half used;
* outcomes are forgotten a week behind the newest, by the log's clock, and a command too old
  to be remembered is refused (``CommandOutOfTime``), never decided again.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random

import msgspec
import pytest

from schemas import REGISTRY
from schemas import membership as m
from schemas import savings as s
from schemas.fields import Money
from schemas.runtime import Error, EventRef
from services.membership.domain import COOPERATIVE, MEMBER, MEMBERSHIP, Consent, Member
from services.membership.domain import Membership as Joined
from services.runtime.aggregate import Stream
from services.runtime.core import ACCEPTED_FOR, AHEAD, CommandCore, handle
from services.runtime.ids import new_id
from services.runtime.log import OUTCOMES_KEPT, Outcome, PartitionLog
from services.runtime.snapshots import FORMAT, Chunk, Codec, Manifest, Unusable, digest
from services.savings.domain import ACCOUNT, SAVINGS
from services.savings.state import Account, Pending, TransferHome
from services.training.domain import TRAINING
from services.governance.domain import GOVERNANCE
from tests.bench.synth_events import Synth
from tests.unit.test_command_core import AHORRO, NOW, record, register

SERVICES = {"membership": MEMBERSHIP, "savings": SAVINGS, "training": TRAINING,
            "governance": GOVERNANCE}
WHEN = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)


def folded_logs() -> dict[str, PartitionLog]:
    """A made-up node's events folded into one log per service (one partition each)."""
    logs = {name: PartitionLog(service) for name, service in SERVICES.items()}
    for topic, _, value in Synth("snap", seed=5).log(members=40, activity=1200):
        service = topic.split(".")[1]
        if service in logs:
            logs[service].apply(REGISTRY.decode(value))
            logs[service].next_offset += 1
    for message in an_assembly():  # (the made-up log holds no assembly)
        logs["governance"].apply(message)
        logs["governance"].next_offset += 1
    return logs


def an_assembly() -> list:
    """An assembly's events to its certified result, in envelopes: every part of its state
    (roll, proxies, check-ins, counted ballots, close, result) set."""
    from tests.unit.test_governance_domain import (
        AFTER, ASSEMBLY_ID, LUIS, MEETING, ROSA, VOTING, cast, frozen, paper, tally)
    from schemas import governance as g

    play = frozen()
    play(g.GrantProxy(assembly_id=ASSEMBLY_ID, member_id=ROSA, holder_id=LUIS), at=VOTING)
    play(cast(ROSA), at=VOTING)
    play(g.CheckInMember(assembly_id=ASSEMBLY_ID, member_id=LUIS), at=MEETING)
    play(paper(LUIS), at=MEETING)
    play(g.CloseVoting(assembly_id=ASSEMBLY_ID), at=AFTER)
    play(tally(play, {"for": 2}), at=AFTER)
    messages, previous = [], None
    for sequence, event in enumerate(play.events, 1):
        envelope = REGISTRY.envelope(event, id=new_id(), source="snap", subject=ASSEMBLY_ID,
                                     time=WHEN, sequence=sequence, previousid=previous,
                                     causationid=new_id())
        messages.append((envelope, event))
        previous = envelope.id
    return messages


def with_every_field(logs: dict[str, PartitionLog]) -> None:
    """Streams whose states use the fields a made-up log may leave empty."""
    member = Member(
        registered=True, registered_by=AHORRO, kid="k1",
        memberships=(Joined(AHORRO, m.MembershipRole.MEMBER, dt.date(2025, 1, 2),
                            Money(5000, "EUR"), dt.date(2026, 1, 2), m.EndReason.RETURNED_HOME,
                            "c-1"),),
        consents={"c-1": Consent(m.GranteeKind.COOPERATIVE, AHORRO,
                                 frozenset({m.ConsentScope.SAVINGS, m.ConsentScope.TRAINING}),
                                 WHEN + dt.timedelta(days=30), join=True, granted_at=WHEN)},
        exports={"r-1": False}, imports=frozenset({"r-2"}))
    stream = logs["membership"].stream(MEMBER, "0192d3c4-0000-7000-8000-0000000000aa")
    stream.state = member
    stream.chain.extend(7, "e-7")
    account = dataclasses.replace(
        logs["savings"].stream(ACCOUNT, "0192d3c4-0000-7000-8000-0000000000bb").state,
        opened=True, currency="EUR", balance=123_456_789_012, product=s.Product.SAVINGS,
        pending={"rem-1": Pending(1500, s.Beneficiary(account_id=AHORRO), Money(1400, "USD"))},
        transfers_home={"t-1": TransferHome(900, "ec", "a-3", Money(950, "USD"))},
        received=frozenset({("a-4", "rem-0")}),
        transfers_received=frozenset({("ec", "a-5", "t-0")}))
    logs["savings"].stream(ACCOUNT, "0192d3c4-0000-7000-8000-0000000000bb").state = account


def snapshot_of(service: str, log: PartitionLog, chunk_bytes: int = 4096
                ) -> tuple[Codec, Manifest, list[bytes]]:
    codec = Codec(SERVICES[service], "snap")
    cut = log.cut()
    chunks = list(codec.chunks(cut, "s-1", chunk_bytes))
    raw = codec.manifest(cut, 0, "s-1", 0, "last", [digest(c) for c in chunks], WHEN)
    return codec, codec.read_manifest(raw, 0), chunks


def same_log(restored: PartitionLog, original: PartitionLog) -> None:
    assert restored.streams.keys() == original.streams.keys()
    for key, stream in original.streams.items():
        again = restored.streams[key]
        assert type(again.state) is type(stream.state)
        assert again.state == stream.state, key
        assert (again.chain.version, again.chain.last_id) == \
            (stream.chain.version, stream.chain.last_id)
        assert again.aggregate is stream.aggregate
    assert list(restored.outcomes.items()) == list(original.outcomes.items())
    assert restored.next_offset == original.next_offset
    assert restored.newest == original.newest


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_every_services_state_comes_back_from_a_snapshot_as_it_was(service):
    logs = folded_logs()
    with_every_field(logs)
    log = logs[service]
    assert log.streams and log.outcomes
    # (one assembly is a smaller log than the made-up node's: smaller chunks, several still)
    codec, manifest, chunks = snapshot_of(service, log,
                                          chunk_bytes=1024 if service == "governance" else 4096)
    assert len(chunks) > 2 and manifest.covers == log.next_offset
    same_log(codec.log_of(manifest, chunks), log)
    assert not log.cutting


def test_money_stays_a_whole_number_in_a_snapshot():
    logs = folded_logs()
    with_every_field(logs)
    codec, manifest, chunks = snapshot_of("savings", logs["savings"])
    restored = codec.log_of(manifest, chunks)
    for stream in restored.streams.values():
        assert type(stream.state.balance) is int
        for pending in stream.state.pending.values():
            assert type(pending.debit) is int and type(pending.received.amount) is int


def test_a_cut_keeps_the_states_of_its_moment_while_the_log_goes_on():
    log = folded_logs()["savings"]
    codec = Codec(SAVINGS, "snap")
    before = {key: (stream.state, stream.chain.version) for key, stream in log.streams.items()}
    outcomes = dict(log.outcomes)
    cut = log.cut()
    changed = next(iter(log.streams))
    stream = log.stream(ACCOUNT, changed[1])
    stream.state = dataclasses.replace(stream.state, balance=-1)
    stream.chain.extend(stream.chain.version + 1, "later")
    log.stream(ACCOUNT, "0192d3c4-0000-7000-8000-0000000000cc")  # born after the cut
    log.record("later", Outcome(WHEN, changed[1]))
    chunks = list(codec.chunks(cut, "s-1", 2048))
    raw = codec.manifest(cut, 0, "s-1", 0, None, [digest(c) for c in chunks], WHEN)
    restored = codec.log_of(codec.read_manifest(raw, 0), chunks)
    assert {key: (s.state, s.chain.version) for key, s in restored.streams.items()} == before
    assert restored.outcomes == outcomes
    assert not log.cutting and log.stream(ACCOUNT, changed[1]).state.balance == -1


def test_one_cut_at_a_time():
    log = folded_logs()["training"]
    log.cut()
    with pytest.raises(RuntimeError):
        log.cut()


@pytest.fixture
def snapshot():
    logs = folded_logs()
    return snapshot_of("membership", logs["membership"])


def test_a_chunk_altered_truncated_or_missing_is_refused(snapshot):
    codec, manifest, chunks = snapshot
    flipped = bytearray(chunks[1])
    flipped[len(flipped) // 2] ^= 0x01
    for broken in ([chunks[0], bytes(flipped), *chunks[2:]],
                   [chunks[0], chunks[1][:-7], *chunks[2:]],
                   [chunks[0], None, *chunks[2:]],
                   chunks[:-1],
                   [chunks[1], chunks[0], *chunks[2:]]):
        with pytest.raises(Unusable):
            codec.log_of(manifest, broken)


def test_a_chunk_of_the_wrong_types_is_refused_even_under_its_own_digest(snapshot):
    codec, manifest, chunks = snapshot
    chunk = msgspec.msgpack.decode(chunks[0], type=Chunk)
    entries = msgspec.msgpack.decode(chunk.body)
    entries[0][3]["registered"] = "yes"  # a state field of another type
    forged = msgspec.msgpack.encode(Chunk(chunk.snapshot, 0, chunk.aggregate,
                                          msgspec.msgpack.encode(entries)))
    forged_manifest = msgspec.structs.replace(manifest, chunks=[digest(forged),
                                                                *manifest.chunks[1:]])
    with pytest.raises(Unusable, match="does not decode"):
        codec.log_of(forged_manifest, [forged, *chunks[1:]])
    pickled = msgspec.msgpack.encode(Chunk(chunk.snapshot, 0, chunk.aggregate,
                                           b"\x80\x04\x95cos\nsystem\n"))
    with pytest.raises(Unusable):
        codec.log_of(msgspec.structs.replace(manifest, chunks=[digest(pickled),
                                                                *manifest.chunks[1:]]),
                     [pickled, *chunks[1:]])


@pytest.mark.parametrize("change, reason", [
    ({"format": FORMAT + 1}, "format"),
    ({"service": "savings"}, "service"),
    ({"topic": "xx.membership.events"}, "events topic"),
    ({"partition": 3}, "partition"),
    ({"layout": "0" * 32}, "layout"),
])
def test_a_manifest_of_another_service_partition_format_or_layout_is_refused(
        snapshot, change, reason):
    _, manifest, _ = snapshot
    codec = Codec(MEMBERSHIP, "snap")
    raw = msgspec.msgpack.encode(msgspec.structs.replace(manifest, **change))
    with pytest.raises(Unusable, match=reason):
        codec.read_manifest(raw, 0)


def test_a_manifest_that_is_no_manifest_is_refused(snapshot):
    codec, manifest, _ = snapshot
    raw = msgspec.msgpack.encode(manifest)
    for value in (raw[:-3], b"\x00garbage", msgspec.msgpack.encode({"format": 1})):
        with pytest.raises(Unusable, match="does not decode"):
            codec.read_manifest(value, 0)


def test_the_layout_changes_with_the_state_types():
    assert Codec(SAVINGS, "snap").layout == Codec(SAVINGS, "other").layout
    assert Codec(SAVINGS, "snap").layout != Codec(MEMBERSHIP, "snap").layout
    changed = dataclasses.replace(SAVINGS, aggregates=(dataclasses.replace(
        ACCOUNT, initial=lambda: Pending(0, s.Beneficiary(account_id=AHORRO),
                                         Money(0, "EUR"))),))
    assert Codec(changed, "snap").layout != Codec(SAVINGS, "snap").layout



def test_the_layout_changes_with_the_version_of_the_fold():
    """Same state types, a fold that makes something else of the events (its version
    raised): another layout, so a state an older fold made is never restored by a newer one
    (a reviewer: the fingerprint covered types only)."""
    raised = dataclasses.replace(SAVINGS, aggregates=(dataclasses.replace(
        ACCOUNT, fold_version=ACCOUNT.fold_version + 1),))
    assert Codec(raised, "snap").layout != Codec(SAVINGS, "snap").layout
    again = dataclasses.replace(SAVINGS, aggregates=(dataclasses.replace(ACCOUNT),))
    assert Codec(again, "snap").layout == Codec(SAVINGS, "snap").layout


def test_a_snapshot_of_a_log_that_forgot_is_not_restored_where_nothing_is_forgotten(
        monkeypatch):
    """A processor told to keep every outcome (``COOPBRIDGE_FORGET_OUTCOMES=0``, a rollback)
    does not take a snapshot whose log forgot some over as its log: it would decide again a
    command whose outcome is gone, with no window to refuse it (a reviewer); it folds from
    offset 0, which has them all. A log that forgets takes it."""
    monkeypatch.setenv("COOPBRIDGE_FORGET_OUTCOMES", "1")
    log = PartitionLog(SAVINGS, forget=True)
    for day in range(12):
        log.record(f"c{day}", outcome(WHEN + dt.timedelta(days=day)))
    assert log.pruned > 0
    codec, manifest, chunks = snapshot_of("savings", log)
    assert manifest.forgets
    assert codec.log_of(manifest, chunks).outcomes.keys() == log.outcomes.keys()
    with pytest.raises(Unusable, match="forgot"):
        codec.log_of(manifest, chunks, forget=False)

# -- the bounded outcome index ------------------------------------------------------------


def outcome(at: dt.datetime, n: int = 1) -> Outcome:
    return Outcome(at, "a", [EventRef(id=f"e{n}", type="coop.x.Y.v1", sequence=n)])


def test_outcomes_are_forgotten_a_week_behind_the_newest_by_the_logs_clock():
    log = PartitionLog(SAVINGS, forget=True)
    for hour in range(0, 24 * 10):
        log.record(f"c{hour}", outcome(WHEN + dt.timedelta(hours=hour)))
    newest = WHEN + dt.timedelta(hours=24 * 10 - 1)
    kept = [o.time for o in log.outcomes.values()]
    assert min(kept) >= newest - OUTCOMES_KEPT - dt.timedelta(hours=1)
    assert all(f"c{h}" in log.outcomes for h in range(24 * 10)
               if WHEN + dt.timedelta(hours=h) >= newest - OUTCOMES_KEPT)
    assert log.pruned == 24 * 10 - len(log.outcomes) > 0


def test_the_outcome_index_stays_flat_as_the_log_grows():
    log = PartitionLog(SAVINGS, forget=True)
    sizes = []
    for n in range(100_000):
        log.record(f"c{n}", outcome(WHEN + dt.timedelta(seconds=30 * n), n + 1))
        if n in (30_000, 99_999):
            sizes.append(len(log.outcomes))
    assert sizes[1] <= sizes[0] * 1.05


def test_an_outcome_is_never_forgotten_early_when_clocks_went_back():
    log = PartitionLog(SAVINGS, forget=True)
    log.record("old", outcome(WHEN))
    log.record("ahead", outcome(WHEN + dt.timedelta(days=3)))
    log.record("behind", outcome(WHEN + dt.timedelta(days=2)))  # a clock a day behind
    log.record("now", outcome(WHEN + dt.timedelta(days=8)))  # keeps from WHEN + 1 day on
    assert "old" not in log.outcomes  # older than the week: forgotten
    assert {"ahead", "behind", "now"} <= log.outcomes.keys()  # younger: none early


def test_a_restored_log_forgets_as_the_live_one_did(monkeypatch):
    monkeypatch.setenv("COOPBRIDGE_FORGET_OUTCOMES", "1")  # the default, whatever the shell
    log = PartitionLog(SAVINGS, forget=True)
    for day in range(12):
        log.record(f"c{day}", outcome(WHEN + dt.timedelta(days=day)))
    codec, manifest, chunks = snapshot_of("savings", log)
    restored = codec.log_of(manifest, chunks)
    assert restored.outcomes.keys() == log.outcomes.keys()
    restored.record("c12", outcome(WHEN + dt.timedelta(days=12, hours=2)))
    assert "c5" not in restored.outcomes and "c6" in restored.outcomes


def test_a_log_restored_anywhere_forgets_what_the_live_one_forgets_record_by_record(
        monkeypatch):
    """The live log, and a log restored from a cut of it at any point, fed the same records,
    forget the same outcomes after the same record: pruning follows the hours of the log's
    clock, not the moment a log began (a reviewer: a restored log pruned on a schedule of its
    own, and one that still remembered a command the live log had forgotten would skip the
    event of its second decision and every event chained on it)."""
    monkeypatch.setenv("COOPBRIDGE_FORGET_OUTCOMES", "1")
    rng = random.Random(7)
    times, at = [], WHEN
    for _ in range(1500):  # about ten days, 1 to 17 minutes apart
        at += dt.timedelta(minutes=rng.randint(1, 17), seconds=rng.randint(0, 59))
        times.append(at)
    live = PartitionLog(SAVINGS, forget=True)
    restored = {}
    for n, time in enumerate(times):
        if n in (40, 333, 777, 1201):
            codec, manifest, chunks = snapshot_of("savings", live)
            restored[n] = codec.log_of(manifest, chunks)
        for log in (live, *restored.values()):
            log.record(f"c{n}", outcome(time, n + 1))
        for start, log in restored.items():
            assert log.outcomes.keys() == live.outcomes.keys(), (start, n)
    assert live.pruned > 300 and live.pruned + len(live.outcomes) == len(times)


# -- commands too old to be remembered ------------------------------------------------------


def at(command, command_id: str, time: dt.datetime):
    plain = record(command, command_id)
    raw = msgspec.json.decode(plain.value)
    raw["time"] = time.isoformat()
    return dataclasses.replace(plain, value=msgspec.json.encode(raw))


async def test_a_command_older_than_the_log_remembers_is_refused_never_decided():
    core, log = CommandCore(MEMBERSHIP, "es"), PartitionLog(MEMBERSHIP, forget=True)
    old = at(register(), "c-old", NOW - ACCEPTED_FOR - dt.timedelta(minutes=1))
    plan = await handle(core, log, old, NOW)
    assert plan.write is None and plan.stream_key is None  # answered, nothing logged
    assert reply_of(core, plan).error.code == "CommandOutOfTime"
    assert ("cooperative", AHORRO) not in log.streams or \
        log.streams[("cooperative", AHORRO)].version == 0
    again = await handle(core, log, old, NOW + dt.timedelta(minutes=5))
    assert again.write is None and reply_of(core, again).error.code == "CommandOutOfTime"
    assert "c-old" not in log.outcomes


async def test_a_forgotten_outcome_is_refused_after_a_clock_ran_ahead_once():
    """The log forgets by its own clock, its newest outcome; a processor whose clock ran a
    day ahead once moved it for good. A retry of a command forgotten by then, stamped with its
    first time, is refused by a processor whose clock is right again: the window runs from
    the later of the two clocks (a reviewer: it ran from the processor's alone, and the
    retry was decided a second time)."""
    core, log = CommandCore(MEMBERSHIP, "es"), PartitionLog(MEMBERSHIP, forget=True)
    assert (await handle(core, log, at(register(), "c1", NOW), NOW)).stream_key is not None
    ahead = NOW + dt.timedelta(days=7, hours=2)  # a clock a day ahead, at NOW + 6 days
    other = at(register(new_id(), "Otra"), "c2", ahead)
    assert (await handle(core, log, other, ahead)).stream_key is not None
    assert "c1" not in log.outcomes  # forgotten, by the log's clock
    late = NOW + dt.timedelta(days=6, hours=2)  # the right time again
    plan = await handle(core, log, at(register(), "c1", NOW), late)
    assert plan.write is None and reply_of(core, plan).error.code == "CommandOutOfTime"


async def test_a_command_from_too_far_ahead_is_refused():
    core, log = CommandCore(MEMBERSHIP, "es"), PartitionLog(MEMBERSHIP, forget=True)
    ahead = at(register(), "c-ahead", NOW + AHEAD + dt.timedelta(minutes=1))
    plan = await handle(core, log, ahead, NOW)
    assert plan.write is None and reply_of(core, plan).error.code == "CommandOutOfTime"
    # not logged: the same id sent again once the sender's clock is put right is decided
    near = at(register(), "c-ahead", NOW + AHEAD - dt.timedelta(minutes=1))
    assert (await handle(core, log, near, NOW)).stream_key == ("cooperative", AHORRO)


async def test_a_retry_after_its_outcome_is_forgotten_is_refused_not_decided_again():
    core, log = CommandCore(MEMBERSHIP, "es"), PartitionLog(MEMBERSHIP, forget=True)
    first = record(register(), "c1")  # its time: NOW
    assert (await handle(core, log, first, NOW)).stream_key is not None
    later = NOW + OUTCOMES_KEPT + dt.timedelta(hours=2)
    other = at(register("0192d3c4-0000-7000-8000-0000000c0e5c"), "c2", later)
    await handle(core, log, other, later)  # the log's clock moves on: c1 is forgotten
    assert "c1" not in log.outcomes
    plan = await handle(core, log, first, later)
    assert plan.stream_key is None and plan.write is None
    assert reply_of(core, plan).error.code == "CommandOutOfTime"
    assert log.streams[("cooperative", AHORRO)].version == 1


def reply_of(core: CommandCore, plan):
    return REGISTRY.decode(core.reply(plan), kind="reply").payload


def test_the_windows_leave_room_for_clocks_that_differ():
    assert ACCEPTED_FOR + AHEAD + dt.timedelta(minutes=30) <= OUTCOMES_KEPT


def test_an_outcome_with_an_error_round_trips():
    log = PartitionLog(MEMBERSHIP)
    log.record("c1", Outcome(WHEN, "a", error=Error(code="NotAMember", message="no")))
    log.stream(COOPERATIVE, AHORRO)
    codec, manifest, chunks = snapshot_of("membership", log)
    assert codec.log_of(manifest, chunks).outcomes["c1"].error == Error("NotAMember", "no")
    assert isinstance(codec.log_of(manifest, chunks).streams[("cooperative", AHORRO)], Stream)


class _Replies:
    """A command client whose deliveries meet an account that received the remittance
    already (its first outcome forgotten): it answers ``DuplicateRemittance``."""

    def __init__(self):
        self.sent = []

    async def send(self, command, aggregate_id, *, command_id):
        self.sent.append(type(command).__name__)
        code = "DuplicateRemittance" if isinstance(command, s.ReceiveRemittance) else None
        payload = type("Payload", (), {"accepted": code is None})()
        return type("Reply", (), {"accepted": code is None, "code": code,
                                  "payload": payload})()


async def test_a_delivery_decided_again_after_its_outcome_is_forgotten_is_not_refunded():
    from services.savings.courier import Courier

    client = _Replies()
    courier = Courier(client)
    pending = Pending(1500, s.Beneficiary(account_id=AHORRO), Money(1400, "EUR"))
    await courier._carry("0192d3c4-0000-7000-8000-0000000000bb", "rem-1", pending)  # noqa: SLF001
    assert client.sent == ["ReceiveRemittance", "ConfirmRemittanceDelivered"]


def test_a_processor_forgets_outcomes_unless_told_not_to(monkeypatch):
    """Forgetting outcomes after the week is on by default (the gateway sends a late retry
    with its first time: ``gateway.decided``); a log told not to forget keeps every outcome
    however far its clock moves, and a bad setting is a clear error."""
    from services import config

    monkeypatch.delenv("COOPBRIDGE_FORGET_OUTCOMES", raising=False)
    assert config.forget_outcomes() is True
    monkeypatch.setenv("COOPBRIDGE_FORGET_OUTCOMES", "0")
    assert config.forget_outcomes() is False
    monkeypatch.setenv("COOPBRIDGE_FORGET_OUTCOMES", "2")
    with pytest.raises(config.ConfigError):
        config.forget_outcomes()

    keeping, forgetting = PartitionLog(SAVINGS, forget=False), PartitionLog(SAVINGS, forget=True)
    for hours in range(0, 24 * 30, 6):
        for log in (keeping, forgetting):
            log.record(f"c{hours}", Outcome(WHEN + dt.timedelta(hours=hours), "a"))
    assert len(keeping.outcomes) == 120 and keeping.pruned == 0
    assert forgetting.pruned > 0 and len(forgetting.outcomes) < 120


def test_a_log_that_does_not_forget_keeps_every_outcome_through_a_snapshot():
    """With forgetting off (``COOPBRIDGE_FORGET_OUTCOMES=0``), a takeover from a snapshot
    keeps every outcome, as a fold from offset 0 does (a reviewer found the restore pruned
    regardless)."""
    log = PartitionLog(SAVINGS, forget=False)
    for day in range(12):
        log.record(f"c{day}", outcome(WHEN + dt.timedelta(days=day)))
    codec, manifest, chunks = snapshot_of("savings", log)
    restored = codec.log_of(manifest, chunks, forget=False)
    assert restored.outcomes.keys() == log.outcomes.keys() and len(restored.outcomes) == 12
    restored.record("c12", outcome(WHEN + dt.timedelta(days=12, hours=2)))
    assert len(restored.outcomes) == 13


async def test_a_snapshot_that_fails_is_tried_again_only_after_more_events():
    """A snapshot that cannot be written (a state too large for a message, any error) is not
    cut again every poll, stopping the commands each time: only once the partition gained
    another ``every`` events (a reviewer measured a 1.1 MB cooperative state)."""
    import asyncio
    from types import SimpleNamespace

    from services.runtime.processor import CommandProcessor

    processor = CommandProcessor(SAVINGS, "es", bootstrap="localhost:1", snapshot_every=2)
    tried = []

    async def too_large(partition, cut):
        tried.append(cut.covers)
        raise ValueError("MessageSizeTooLarge, say")

    processor.snapshots = SimpleNamespace(every=2, enabled=True, covered=lambda partition: 0,
                                          write=too_large)
    partition_log = processor.logs[0] = PartitionLog(SAVINGS, next_offset=10)
    task = asyncio.create_task(processor._snapshot_every(0, poll_s=0.005))
    await asyncio.sleep(0.1)
    assert tried == [10] and not partition_log.cutting  # once, and the cut released
    partition_log.next_offset = 12
    await asyncio.sleep(0.1)
    assert tried == [10, 12]
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def test_a_log_that_forgets_nothing_decides_a_command_of_any_time():
    """The time window guards only forgotten outcomes: where nothing is forgotten
    (``COOPBRIDGE_FORGET_OUTCOMES=0``) an old redelivery or a sender's clock 15 minutes fast is decided as ever."""
    for when in (NOW - ACCEPTED_FOR - dt.timedelta(days=30), NOW + AHEAD + dt.timedelta(hours=1)):
        core, log = CommandCore(MEMBERSHIP, "es"), PartitionLog(MEMBERSHIP)
        plan = await handle(core, log, at(register(), "c-any", when), NOW)
        assert plan.stream_key == ("cooperative", AHORRO), when


def test_a_chunk_is_closed_before_the_item_that_would_take_it_over_its_size():
    """Chunks stay under their size (the broker's 1 MiB a message is the hard limit), an
    item alone larger than it going alone; in order, nothing lost."""
    from services.runtime.snapshots import _packed

    items = [b"a" * 3, b"b" * 4, b"c" * 2, b"d" * 12, b"e" * 1]
    runs = list(_packed(iter(items), 8))
    assert runs == [[b"aaa", b"bbbb"], [b"cc"], [b"d" * 12], [b"e"]]
    assert [item for run in runs for item in run] == items


def test_the_chunks_a_manifest_of_a_newer_format_names_are_not_orphans():
    """During a rolling upgrade an older processor meets a manifest with fields it does not
    know: it does not use it, but it must not sweep its chunks away either."""
    from services.runtime.snapshots import _Names

    newer = msgspec.msgpack.encode({"format": 99, "snapshot": "s1", "chunks": ["d1", "d2"],
                                    "a_field_from_the_future": [1, 2]})
    named = msgspec.msgpack.decode(newer, type=_Names)
    assert named.snapshot == "s1" and named.chunks == ["d1", "d2"]
