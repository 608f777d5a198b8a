"""The membership service on the real broker: round trips, rebuild, a single writer,
idempotency, kill -9, erasure, and bad commands."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json
from collections import Counter

import msgspec
import pytest
from aiokafka.partitioner import murmur2
from kafka import KafkaAdminClient

from schemas import REGISTRY
from schemas import membership as m
from schemas.fields import Money
from schemas.topics import (
    NODE_PARTITIONS,
    commands_topic,
    deadletter_topic,
    events_topic,
    processor_group,
    replies_topic,
)
from services.membership.domain import COOPERATIVE, MEMBER, MEMBERSHIP
from services.runtime import kafka_clients
from services.runtime.datakeys import DataKeys
from services.runtime.deadletter import read_letter
from services.runtime.ids import new_id
from services.runtime.log import PartitionLog
from services.runtime.processor import CommandProcessor
from tests.integration.membership_world import (
    share_the_partitions,
    ROSA_DETAILS,
    ServiceProcess,
    audit,
    joins,
    outcome,
    read_events,
    register_cooperative,
    register_member,
    running,
)

pytestmark = pytest.mark.kafka


@pytest.fixture
def world(node):
    return node


async def test_a_command_yields_its_events_and_an_accepted_reply(world):
    node, bootstrap, client, keys = world
    async with running(node, bootstrap, keys):
        cooperative = await register_cooperative(client)
        rosa = await register_member(client, keys)
        reply = await client.send(joins(rosa, cooperative), rosa)

    assert reply.accepted and reply.payload.aggregate_id == rosa
    assert [(e.type, e.sequence) for e in reply.payload.events] == [
        ("coop.membership.MembershipStarted.v2", 2)]  # the newest version
    log = audit(await read_events(bootstrap, node))
    assert log["sequences"][rosa] == [1, 2]
    [started] = log["events"][reply.payload.command_id]
    assert started == m.MembershipStarted(
        member_id=rosa, cooperative_id=cooperative, role=m.MembershipRole.MEMBER,
        started_on=dt.date(2019, 5, 6), share_capital_required=joins(rosa, cooperative)
        .share_capital_required)


async def test_an_invalid_command_gets_a_rejected_reply_with_its_code_and_no_event(world):
    node, bootstrap, client, keys = world
    async with running(node, bootstrap, keys):
        cooperative = await register_cooperative(client)
        rosa = await register_member(client, keys)
        reply = await client.send(m.EndMembership(
            member_id=rosa, cooperative_id=cooperative, reason=m.EndReason.RESIGNED,
            ended_on=dt.date(2026, 1, 1)), rosa)

    assert not reply.accepted and reply.code == "NotAMember"
    assert reply.payload.events == [] and "no active membership" in reply.payload.error.message
    log = audit(await read_events(bootstrap, node))
    assert reply.payload.command_id not in log["events"]
    assert log["rejections"][reply.payload.command_id] == 1
    assert log["sequences"][rosa] == [1]


async def test_a_restarted_service_decides_on_the_state_it_had(world):
    node, bootstrap, client, keys = world
    async with running(node, bootstrap, keys):
        cooperative = await register_cooperative(client)
        rosa = await register_member(client, keys)
        assert (await client.send(joins(rosa, cooperative), rosa)).accepted
    # the first instance is gone with everything it held; only Kafka remembers
    async with running(node, bootstrap, keys) as fresh:
        again = await client.send(joins(rosa, cooperative), rosa)
        leaves = await client.send(m.EndMembership(
            member_id=rosa, cooperative_id=cooperative, reason=m.EndReason.RETURNED_HOME,
            ended_on=dt.date(2025, 9, 30)), rosa)
        rebuilt = sum(len(p.streams) for p in fresh.logs.values())
    assert outcome(again) == "AlreadyAMember"
    assert leaves.accepted and [e.sequence for e in leaves.payload.events] == [3]
    assert rebuilt >= 2  # the cooperative and Rosa came back from the events topic


async def test_fifty_concurrent_joins_across_two_instances_make_one_membership(world,
                                                                               monkeypatch):
    node, bootstrap, client, keys = world
    monkeypatch.setenv("COOPBRIDGE_SNAPSHOT_EVERY", "5")  # snapshots while they decide
    async with running(node, bootstrap, keys) as first, running(node, bootstrap, keys) as second:
        await share_the_partitions(first, second)
        cooperative = await register_cooperative(client)
        rosa = await register_member(client, keys)
        replies = await asyncio.gather(*(client.send(joins(rosa, cooperative), rosa)
                                         for _ in range(50)))
        for _ in range(50):  # every 5 events of a partition (polled twice a second)
            if first.snapshots.written + second.snapshots.written:
                break
            await asyncio.sleep(0.1)
        assert first.snapshots.written + second.snapshots.written > 0
    outcomes = sorted(outcome(r) for r in replies)
    assert outcomes == ["AlreadyAMember"] * 49 + ["accepted"]
    log = audit(await read_events(bootstrap, node))
    started = [e for events in log["events"].values() for e in events
               if isinstance(e, m.MembershipStarted)]
    assert len(started) == 1


async def test_the_same_command_three_times_is_decided_once_and_answered_alike(world):
    node, bootstrap, client, keys = world
    async with running(node, bootstrap, keys):
        cooperative = await register_cooperative(client)
        rosa = await register_member(client, keys)
        command_id = new_id()
        raw = client.encode(joins(rosa, cooperative), rosa, command_id)
        replies = [await client.send_raw("membership", rosa, command_id, raw)
                   for _ in range(3)]
    assert replies[0].accepted
    assert replies[0].raw == replies[1].raw == replies[2].raw
    log = audit(await read_events(bootstrap, node))
    assert len(log["events"][command_id]) == 1
    assert log["sequences"][rosa] == [1, 2]


async def test_replies_go_to_the_partition_their_sender_reads(world):
    """Each client reads one partition of the replies and names it in its commands; a retry
    from another client gets the same bytes on its own partition, and a command that names
    none is answered where its id hashes to (issue 21: no client reads every reply)."""
    from services.runtime.client import CommandClient

    node, bootstrap, client, keys = world
    others = []
    try:
        while not others or others[-1].reply_partition == client.reply_partition:
            others.append(CommandClient(node, bootstrap, source="test"))
            await others[-1].start()
        other = others[-1]
        async with running(node, bootstrap, keys):
            cooperative = await register_cooperative(client)
            rosa = await register_member(client, keys)
            command_id = new_id()
            raw = client.encode(joins(rosa, cooperative), rosa, command_id)
            first = await client.send_raw("membership", rosa, command_id, raw)
            again = await other.send_raw("membership", rosa, command_id, raw)
            bare_id = new_id()
            producer = kafka_clients.producer(bootstrap)
            await producer.start()
            try:  # no header: a client of before, or one that reads every partition
                await producer.send_and_wait(
                    commands_topic(node, "membership"), key=rosa.encode(),
                    value=client.encode(joins(rosa, cooperative), rosa, bare_id))
            finally:
                await producer.stop()
            replies = await kafka_clients.read_topic(replies_topic(node), bootstrap)
            while not any(r.key == bare_id.encode() for r in replies):
                await asyncio.sleep(0.2)
                replies = await kafka_clients.read_topic(replies_topic(node), bootstrap)
    finally:
        for started in others:
            await started.stop()
    assert first.accepted and first.raw == again.raw
    to_command = sorted(r.partition for r in replies if r.key == command_id.encode())
    assert to_command == sorted([client.reply_partition, other.reply_partition])
    assert all(r.value == first.raw for r in replies if r.key == command_id.encode())
    [bare] = [r for r in replies if r.key == bare_id.encode()]
    assert bare.partition == (murmur2(bare_id.encode()) & 0x7FFFFFFF) % NODE_PARTITIONS
    assert REGISTRY.decode(bare.value).payload.error.code == "AlreadyAMember"


async def test_a_rejected_command_sent_again_keeps_its_first_outcome(world):
    node, bootstrap, client, keys = world
    async with running(node, bootstrap, keys):
        cooperative = await register_cooperative(client)
        rosa = await register_member(client, keys)
        command_id = new_id()
        early_leave = client.encode(m.EndMembership(
            member_id=rosa, cooperative_id=cooperative, reason=m.EndReason.MOVED,
            ended_on=dt.date(2026, 1, 1)), rosa, command_id)
        first = await client.send_raw("membership", rosa, command_id, early_leave)
        assert (await client.send(joins(rosa, cooperative), rosa)).accepted
        again = await client.send_raw("membership", rosa, command_id, early_leave)
    assert outcome(first) == outcome(again) == "NotAMember"


async def test_a_replay_request_is_answered_from_the_log_and_never_decided(world):
    """A replay request (``replayof``) hears the logged answer of the command it names, for
    the aggregate it is keyed by; else NotDone. It is never decided nor logged, and a
    processor that does not know ``replayof`` refuses it as misaddressed."""
    node, bootstrap, client, keys = world
    async with running(node, bootstrap, keys):
        cooperative = await register_cooperative(client)
        rosa, ana = await register_member(client, keys), await register_member(client, keys)
        command_id = new_id()
        unknown = await client.send(joins(rosa, cooperative), rosa, replay_of=command_id)
        assert outcome(unknown) == "NotDone" and unknown.payload.command_id != command_id
        decided = await client.send(joins(rosa, cooperative), rosa, command_id=command_id)
        assert decided.accepted  # the replay left nothing in the log to answer with
        replayed = await client.send(joins(rosa, cooperative), rosa, replay_of=command_id)
        elsewhere = await client.send(joins(ana, cooperative), ana, replay_of=command_id)
        # what a processor without replays reads: the attribute dropped, the rest as sent
        request = json.loads(client.encode(joins(ana, cooperative), ana, new_id(),
                                           replay_of=command_id))
        del request["replayof"]
        misaddressed = await client.send_raw("membership", ana, request["id"],
                                             json.dumps(request).encode())
    assert replayed.payload.command_id == command_id
    assert replayed.payload.events == decided.payload.events and replayed.accepted
    assert outcome(elsewhere) == "NotDone"  # her command id, another member's partition
    assert outcome(misaddressed) == "ValidationError"
    log = audit(await read_events(bootstrap, node))
    assert len(log["events"][command_id]) == 1
    assert log["sequences"][rosa] == [1, 2] and log["sequences"][ana] == [1]


async def test_kill_9_while_commands_stream_loses_and_duplicates_nothing(world, tmp_path):
    node, bootstrap, client, keys = world
    instances = [ServiceProcess(node, bootstrap, tmp_path / f"service-{i}.log") for i in range(2)]
    outcomes: dict[str, str] = {}
    members = [new_id() for _ in range(60)]

    async def send(member: str, command) -> None:
        command_id = new_id()
        raw = client.encode(command, member, command_id)
        for _ in range(6):  # a client retries with the same id until it hears back
            try:
                reply = await client.send_raw("membership", member, command_id, raw, timeout=15)
                outcomes[command_id] = outcome(reply)
                return
            except TimeoutError:
                continue
        raise AssertionError(f"no reply to {command_id}")

    async def member_story(member: str, delay: float) -> None:
        await asyncio.sleep(delay)  # the members arrive over ~6 s, many at once
        sealed = await keys.seal(member, msgspec.json.encode(ROSA_DETAILS))
        await send(member, m.RegisterMember(member_id=member, personal=sealed))
        await send(member, joins(member, cooperative))
        await send(member, joins(member, cooperative))  # must fail: already a member

    async def crash() -> None:
        await asyncio.sleep(3)  # mid-stream
        instances[0].kill()
        instances.append(ServiceProcess(node, bootstrap, tmp_path / "service-restarted.log"))

    try:
        cooperative = await register_cooperative(client)
        await asyncio.gather(crash(), *(member_story(member, i * 0.1)
                                        for i, member in enumerate(members)))
    finally:
        for instance in instances:
            if instance.proc.poll() is None:
                instance.terminate()

    assert instances[0].proc.returncode == -9 and len(outcomes) == 3 * len(members)
    log = audit(await read_events(bootstrap, node))
    for command_id, result in outcomes.items():  # exactly one outcome per command
        produced, rejected = log["events"].get(command_id, []), log["rejections"][command_id]
        assert (len(produced), rejected) in ((1, 0), (0, 1)), (command_id, produced, rejected)
        assert (result == "accepted") == bool(produced)
    for member in members:
        assert log["sequences"][member] == [1, 2], member  # contiguous, nothing doubled
    assert sorted(outcomes.values()).count("AlreadyAMember") == len(members)
    assert sorted(outcomes.values()).count("accepted") == 2 * len(members)


async def test_erasure_leaves_no_readable_personal_data_in_the_log(world):
    node, bootstrap, client, keys = world
    async with running(node, bootstrap, keys):
        cooperative = await register_cooperative(client)
        rosa = await register_member(client, keys)
        assert (await client.send(joins(rosa, cooperative), rosa)).accepted
        before = await read_events(bootstrap, node)
        registered = next(REGISTRY.decode(r.value).payload for r in before
                          if b"MemberRegistered" in r.value)
        opened = await keys.open(rosa, registered.personal)
        assert b"Quispe Yupanqui" in opened  # the seal held her name until now
        erased = await client.send(m.EraseMember(member_id=rosa), rosa)
    assert erased.accepted

    names = [ROSA_DETAILS.given_names, ROSA_DETAILS.family_names, ROSA_DETAILS.contact,
             "Rosa", "Quispe", "Yupanqui"]
    after = await read_events(bootstrap, node)
    for record in after:
        for name in names:
            assert name.encode() not in record.value and name.encode() not in (record.key or b"")
    assert any(b"MemberErased" in r.value for r in after)
    async with DataKeys(node, bootstrap) as fresh:  # another process, reading the key topic
        assert await fresh.current(rosa) is None
        assert await fresh.open(rosa, registered.personal) is None
    assert await keys.open(rosa, registered.personal) is None


async def test_a_seal_that_does_not_open_is_refused(world):
    node, bootstrap, client, keys = world
    async with running(node, bootstrap, keys):
        rosa, mallory = new_id(), new_id()
        someone_elses = await keys.seal(mallory, b'{"given_names": "x"}')
        reply = await client.send(m.RegisterMember(member_id=rosa, personal=someone_elses), rosa)
        bad_details = await keys.seal(rosa, b'{"given_names": "Rosa"}')
        missing = await client.send(m.RegisterMember(member_id=rosa, personal=bad_details), rosa)
        unborn = await keys.seal(rosa, msgspec.json.encode(msgspec.structs.replace(
            ROSA_DETAILS, date_of_birth=dt.date.today() + dt.timedelta(days=400))))
        not_yet = await client.send(m.RegisterMember(member_id=rosa, personal=unborn), rosa)
    assert outcome(reply) == "InvalidPersonalDetails"
    assert outcome(missing) == "InvalidPersonalDetails"
    assert "Rosa" not in missing.payload.error.message
    assert outcome(not_yet) == "InvalidPersonalDetails"
    assert not_yet.payload.error.message.startswith("date_of_birth:")


async def test_an_undecodable_command_goes_to_dead_letter_and_the_next_is_served(world):
    node, bootstrap, client, keys = world
    async with running(node, bootstrap, keys):
        cooperative = new_id()
        producer = kafka_clients.producer(bootstrap)
        await producer.start()
        try:
            await producer.send_and_wait(commands_topic(node, "membership"), key=b"k",
                                         value=b"\x00 not a command")
            await producer.send_and_wait(commands_topic(node, "membership"), key=b"k",
                                         value=None)  # a tombstone: no value at all
        finally:
            await producer.stop()
        bad_id = new_id()
        wrong = REGISTRY.encode(m.RegisterCooperative(
            cooperative_id=cooperative, name="x", country="ES", kind=m.CooperativeKind.WORKER,
            languages=["es"], node=node, currency="EUR",
            share_price=Money(1, "EUR")), id=bad_id, source="test", subject=cooperative,
            time=dt.datetime.now(dt.UTC)).replace(b'"amount":1', b'"amount":1.5')
        invalid = await client.send_raw("membership", cooperative, bad_id, wrong)
        served = await register_cooperative(client, cooperative)
    assert outcome(invalid) == "ValidationError" and "amount" in invalid.payload.error.message
    assert served == cooperative
    letters = await kafka_clients.read_topic(deadletter_topic(node), bootstrap)
    reasons = sorted(read_letter(r.topic, r.key, r.value, r.headers).reason for r in letters)
    assert reasons == ["invalid_data", "invalid_json", "invalid_json"]


def partition_of(aggregate_id: str, partitions: int = 4) -> int:
    return (murmur2(aggregate_id.encode()) & 0x7FFFFFFF) % partitions


async def test_sigterm_finishes_the_batch_in_flight_and_commits_it(world, tmp_path):
    node, bootstrap, client, keys = world
    service = ServiceProcess(node, bootstrap, tmp_path / "service.log")
    replied: Counter = Counter()  # replies received, by partition of the commands topic
    try:
        first = await register_cooperative(client)  # the service is up and serving
        replied[partition_of(first)] += 1
        twenty_replies = asyncio.Event()

        async def register(cooperative: str) -> None:
            try:
                await register_cooperative(client, cooperative, timeout=8)
            except TimeoutError:
                return  # not served before the stop: it waits in the topic for the next owner
            replied[partition_of(cooperative)] += 1
            if sum(replied.values()) > 20:
                twenty_replies.set()

        burst = [asyncio.create_task(register(new_id())) for _ in range(300)]
        await asyncio.wait_for(twenty_replies.wait(), 60)
        service.proc.terminate()  # SIGTERM mid-burst
        await asyncio.gather(*burst)
    finally:
        code = service.terminate()
    assert code == 0

    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        group = processor_group(node, "membership")
        committed = admin.list_group_offsets(group)[group]
    finally:
        admin.close()
    by_partition = {tp.partition: meta.offset for tp, meta in committed.items()}
    for partition, count in replied.items():
        # a partition's commands are served in order from offset 0: each reply means that
        # command and all before it were committed, the batch in flight at SIGTERM included
        assert by_partition.get(partition, 0) >= count, (partition, count, by_partition)


async def test_a_second_writer_is_detected_and_the_command_decided_on_its_events(world):
    """A stale instance appends to Rosa's partition behind this writer's back: the writer
    notices its event landed at an unexpected offset, rebuilds, and decides again."""
    node, bootstrap, client, keys = world
    async with running(node, bootstrap, keys) as processor:
        cooperative = await register_cooperative(client)
        rosa = await register_member(client, keys)
        [registered] = [r for r in await read_events(bootstrap, node)
                        if b"MemberRegistered" in r.value]
        zombie = kafka_clients.producer(bootstrap)
        await zombie.start()
        try:
            await zombie.send_and_wait(events_topic(node, "membership"), partition=registered.partition,
                                       key=rosa.encode(), value=REGISTRY.encode(
                m.MemberErased(member_id=rosa), id=new_id(), source="/coopbridge/zombie",
                subject=rosa, time=dt.datetime.now(dt.UTC), sequence=2,
                previousid=REGISTRY.decode(registered.value).envelope.id,
                causationid=new_id()))
        finally:
            await zombie.stop()
        reply = await client.send(joins(rosa, cooperative), rosa)
        stream = processor.logs[registered.partition].streams[("member", rosa)]
    assert outcome(reply) == "MemberErased"  # decided on the state with the zombie's event
    assert stream.state.erased and stream.version == 2
    # the first attempt did land, off the chain: every fold of the log ignores it
    records = [r for r in await read_events(bootstrap, node)
               if r.partition == registered.partition]
    assert sum(b"MembershipStarted" in r.value for r in records) == 1
    fold = PartitionLog(MEMBERSHIP)
    for r in records:
        fold.apply(REGISTRY.decode(r.value))
    assert fold.streams[("member", rosa)].state.erased
    assert fold.streams[("member", rosa)].state.memberships == ()
    assert fold.skipped == 1


async def test_a_bug_for_one_command_sets_it_aside_and_the_partition_goes_on(world):
    node, bootstrap, client, keys = world

    def fragile_decide(state, command, context):
        if isinstance(command, m.RegisterCooperative) and command.name == "Boom":
            raise ZeroDivisionError("a bug in the decider")
        return COOPERATIVE.decide(state, command, context)

    fragile = dataclasses.replace(
        MEMBERSHIP, aggregates=(dataclasses.replace(COOPERATIVE, decide=fragile_decide), MEMBER))
    processor = CommandProcessor(fragile, node, bootstrap)
    task = asyncio.create_task(processor.run())
    try:
        await asyncio.wait_for(processor.ready.wait(), 60)
        boom = new_id()
        crashed = await client.send(m.RegisterCooperative(
            cooperative_id=boom, name="Boom", country="ES", kind=m.CooperativeKind.WORKER,
            languages=["es"], node=node, currency="EUR", share_price=Money(100, "EUR")), boom)
        after = await register_cooperative(client, boom)  # same aggregate, same partition
    finally:
        processor.stop()
        await asyncio.wait_for(task, 60)
    assert outcome(crashed) == "InternalError"
    assert after == boom
    letters = await kafka_clients.read_topic(deadletter_topic(node), bootstrap)
    [letter] = [read_letter(r.topic, r.key, r.value, r.headers) for r in letters]
    assert letter.reason == "internal_error" and letter.detail == "ZeroDivisionError"
