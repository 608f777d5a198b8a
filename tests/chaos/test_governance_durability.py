"""Governance under kill -9 (issue 24): ballots stream in from many members at once, each
retried under its own command id until it is answered, while an instance of the governance
service is killed with SIGKILL mid-stream and another takes its partitions over.

Expected, every run: every acknowledged ballot is in the log once (lost 0, duplicated 0), and
at most one ballot counts per member per motion: the one each member cast last in the log,
as the events' ``set_aside`` says and as the gateway's fold counts (violations 0). Recorded in
the ``governance`` section of the chaos table.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random

import pytest

from deploy.topics import ensure_node_topics
from gateway.fold import MemoryStore, project
from gateway.governance.documents import AssemblyView
from schemas import REGISTRY
from schemas import governance as g
from schemas.runtime import CommandRejected
from schemas.topics import events_topic
from services.runtime import kafka_clients
from services.runtime.client import CommandClient
from services.runtime.datakeys import DataKeys
from services.runtime.ids import new_id
from tests.chaos.figures import record, runs
from tests.integration.membership_world import (
    ServiceProcess,
    joins,
    outcome,
    register_cooperative,
    register_member,
    running,
)

pytestmark = pytest.mark.kafka

MEMBERS = 40
BALLOTS_EACH = 4  # 160 ballots a run, the members arriving over ~4 s


@pytest.fixture
async def world(kafka_bootstrap, node_id):
    """A fresh node's topics, keys, a client, and its membership service in this loop."""
    ensure_node_topics(node_id, kafka_bootstrap)
    async with DataKeys(node_id, kafka_bootstrap) as keys, \
            CommandClient(node_id, kafka_bootstrap) as client, \
            running(node_id, kafka_bootstrap, keys):
        yield node_id, kafka_bootstrap, client, keys


async def test_ballots_count_once_across_kill_9_of_the_governance_service(world, tmp_path):
    node, bootstrap, client, keys = world
    for run in range(runs(at_most=5)):
        await one_run(node, bootstrap, client, keys, tmp_path, random.Random(run))


async def one_run(node, bootstrap, client, keys, tmp_path, rng: random.Random) -> None:
    instances = [ServiceProcess(node, bootstrap, tmp_path / f"governance-{i}.log", "governance")
                 for i in range(2)]
    outcomes: dict[str, str] = {}  # command id -> what its sender heard
    kills = 0
    try:
        cooperative = await register_cooperative(client)
        yesterday = dt.date.today() - dt.timedelta(days=1)
        members = await asyncio.gather(*(register_member(client, keys) for _ in range(MEMBERS)))
        for reply in await asyncio.gather(*(client.send(joins(m, cooperative, on=yesterday), m)
                                            for m in members)):
            assert reply.accepted, reply.payload
        assembly, motion = new_id(), new_id()
        now = dt.datetime.now(dt.UTC)

        async def send(command, command_id: str | None = None) -> str:
            command_id = command_id or new_id()
            raw = client.encode(command, REGISTRY.key_of(command), command_id)
            for _ in range(12):  # a client retries with the same id until it hears back
                try:
                    reply = await client.send_raw("governance", REGISTRY.key_of(command),
                                                  command_id, raw, timeout=10)
                except TimeoutError:
                    continue
                outcomes[command_id] = outcome(reply)
                return outcomes[command_id]
            raise AssertionError(f"no reply to {command_id}")

        for command in (
                g.SetBylaws(cooperative_id=cooperative, general_notice_days=0,
                            extraordinary_notice_days=0, max_proxies_per_holder=1,
                            challenge_days=1),
                g.ConveneAssembly(assembly_id=assembly, cooperative_id=cooperative,
                                  kind=g.AssemblyKind.GENERAL, titles={"es": "Asamblea"},
                                  meeting_on=now.date(), record_date=yesterday,
                                  voting_opens_at=now - dt.timedelta(minutes=1),
                                  voting_closes_at=now + dt.timedelta(hours=1), quorum_percent=50),
                g.AddMotion(assembly_id=assembly, motion_id=motion, titles={"es": "Excedente"},
                            kind=g.MotionKind.RESOLUTION),
                g.FreezeRoll(assembly_id=assembly)):
            assert await send(command) == "accepted", command

        owner = g.ballot_key_owner(assembly)

        async def voter(member: str, delay: float) -> None:
            await asyncio.sleep(delay)
            for _ in range(BALLOTS_EACH):
                sealed = await keys.seal(owner, g.ballot_plaintext(g.BallotContent(
                    assembly_id=assembly, motion_id=motion, choices=[rng.randrange(3)])))
                await send(g.CastBallot(assembly_id=assembly, motion_id=motion,
                                        member_id=member, ballot=sealed,
                                        receipt=g.receipt_of(sealed)))

        async def crash() -> None:
            nonlocal kills
            await asyncio.sleep(rng.uniform(1.0, 3.0))  # mid-stream
            instances[0].kill()
            kills += 1
            instances.append(ServiceProcess(node, bootstrap, tmp_path / "governance-again.log",
                                            "governance"))

        await asyncio.gather(crash(), *(voter(m, i * 0.1) for i, m in enumerate(members)))
    finally:
        for instance in instances:
            if instance.proc.poll() is None:
                instance.terminate()

    records = await kafka_clients.read_topic(events_topic(node, "governance"), bootstrap)
    events: dict[str, list] = {}  # command id -> the events it led to
    rejected: dict[str, int] = {}
    store = MemoryStore()
    cast = []
    for record_ in records:
        message = REGISTRY.decode(record_.value)
        envelope, payload = message
        if isinstance(payload, CommandRejected):
            rejected[payload.command_id] = rejected.get(payload.command_id, 0) + 1
            continue
        events.setdefault(envelope.causationid, []).append(payload)
        project(store, message)
        if isinstance(payload, g.BallotCast) and payload.assembly_id == assembly:
            cast.append(payload)
    lost = sum(1 for cid, heard in outcomes.items()
               if heard == "accepted" and len(events.get(cid, [])) == 0)
    duplicated = sum(len(events.get(cid, [])) - 1 for cid in outcomes
                     if len(events.get(cid, [])) > 1)
    duplicated += sum(n - 1 for n in rejected.values() if n > 1)
    view = store.get(AssemblyView.TABLE, assembly)
    counted = view.counted(motion)
    by_member = [b.member_id for b in counted.values()]
    last = {e.member_id: e.receipt for e in cast}  # each member's last ballot in the log
    violations = (len(by_member) - len(set(by_member))  # two counted for one member
                  + len(set(counted) ^ set(last.values()))  # not her last one
                  + sum(1 for heard in outcomes.values() if heard != "accepted"))
    record("governance", runs=1, faults=kills, acknowledged=len(outcomes), lost=lost,
           duplicated=duplicated, violations=violations)
    assert instances[0].proc.returncode == -9
    assert len(outcomes) == 4 + MEMBERS * BALLOTS_EACH
    assert (lost, duplicated, violations) == (0, 0, 0), (lost, duplicated, violations)
    assert len(counted) == MEMBERS
