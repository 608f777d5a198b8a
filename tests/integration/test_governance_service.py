"""The governance service on the real broker, next to the membership service: a roll that a
replay of the membership events recomputes, 500 concurrent ballots and their retries under
the same ids across two instances, at most one counted ballot per member per motion, and the
tally opened only after the close, from the same folds the gateway runs."""

from __future__ import annotations

import asyncio
import datetime as dt
import random
from collections import Counter
from types import SimpleNamespace

import pytest

from gateway.fold import MemoryStore, project
from gateway.governance.documents import AssemblyView
from gateway.governance.mutations import opened_tally
from schemas import REGISTRY, merkle
from schemas import governance as g
from schemas.topics import events_topic
from services.governance.domain import GOVERNANCE, Memberships, apply_to_memberships, roll_of
from services.runtime import kafka_clients
from services.runtime.ids import new_id
from services.runtime.processor import CommandProcessor
from tests.integration.membership_world import (
    audit,
    joins,
    outcome,
    register_cooperative,
    register_member,
    running,
    share_the_partitions,
)

pytestmark = pytest.mark.kafka

MEMBERS = 100
BALLOTS_EACH = 5  # 500 ballots, all at once


@pytest.fixture
async def world(node):
    node_id, bootstrap, _, keys = node
    async with running(node_id, bootstrap, keys):  # the membership service
        yield node


async def read(bootstrap: str, node: str, service: str) -> list:
    return await kafka_clients.read_topic(events_topic(node, service), bootstrap)


async def test_five_hundred_concurrent_ballots_count_once_per_member(world):
    node, bootstrap, client, keys = world
    later = [dt.timedelta(0)]  # the governance service's clock, moved past the window here

    def governance(node_id, bs, _keys):
        return CommandProcessor(GOVERNANCE, node_id, bs,
                                clock=lambda: dt.datetime.now(dt.UTC) + later[0])

    cooperative = await register_cooperative(client)
    members = await asyncio.gather(*(register_member(client, keys) for _ in range(MEMBERS + 1)))
    yesterday = dt.date.today() - dt.timedelta(days=1)
    joined = await asyncio.gather(*(client.send(joins(m, cooperative, on=yesterday), m)
                                    for m in members[:MEMBERS]))
    assert {outcome(r) for r in joined} == {"accepted"}
    late = members[MEMBERS]  # joins today, after the record date: not on the roll
    assert (await client.send(joins(late, cooperative, on=dt.date.today()), late)).accepted

    async with running(node, bootstrap, keys, governance) as first, \
            running(node, bootstrap, keys, governance) as second:
        await share_the_partitions(first, second)
        assert (await client.send(g.SetBylaws(
            cooperative_id=cooperative, general_notice_days=0, extraordinary_notice_days=0,
            max_proxies_per_holder=2, challenge_days=1), cooperative)).accepted
        assembly, motion = new_id(), new_id()
        now = dt.datetime.now(dt.UTC)
        convened = await client.send(g.ConveneAssembly(
            assembly_id=assembly, cooperative_id=cooperative, kind=g.AssemblyKind.GENERAL,
            titles={"es": "Asamblea", "en": "Assembly"}, meeting_on=now.date(),
            record_date=yesterday, voting_opens_at=now - dt.timedelta(minutes=1),
            voting_closes_at=now + dt.timedelta(hours=1), quorum_percent=50), assembly)
        assert convened.accepted, convened.payload
        assert (await client.send(g.AddMotion(
            assembly_id=assembly, motion_id=motion, titles={"en": "The surplus"},
            kind=g.MotionKind.RESOLUTION), assembly)).accepted
        assert (await client.send(g.FreezeRoll(assembly_id=assembly), assembly)).accepted

        owner = g.ballot_key_owner(assembly)
        rnd = random.Random(24)

        async def ballot(member: str) -> tuple[str, g.CastBallot]:
            sealed = await keys.seal(owner, g.ballot_plaintext(g.BallotContent(
                assembly_id=assembly, motion_id=motion, choices=[rnd.randrange(3)])))
            return new_id(), g.CastBallot(assembly_id=assembly, motion_id=motion,
                                          member_id=member, ballot=sealed,
                                          receipt=g.receipt_of(sealed))

        sent = [await ballot(m) for m in members[:MEMBERS] for _ in range(BALLOTS_EACH)]
        sent.append(await ballot(late))
        replies = await asyncio.gather(*(client.send(c, assembly, command_id=cid)
                                         for cid, c in sent))
        # each retried under its own id (a lost answer), all at once again: decided once
        retries = await asyncio.gather(*(client.send(c, assembly, command_id=cid)
                                         for cid, c in sent[:200]))
        assert [outcome(r) for r in retries] == [outcome(r) for r in replies[:200]]
        assert Counter(outcome(r) for r in replies) == {"accepted": MEMBERS * BALLOTS_EACH,
                                                       "NotOnRoll": 1}
        # no result before the close: the service refuses a tally
        early = await client.send(g.CertifyResult(assembly_id=assembly, tallies=[],
                                                  receipts_digest="0" * 64), assembly)
        assert outcome(early) == "NotClosed"
        assert outcome(await client.send(g.CloseVoting(assembly_id=assembly),
                                         assembly)) == "VotingStillOpen"
        later[0] = dt.timedelta(hours=2)
        assert (await client.send(g.CloseVoting(assembly_id=assembly), assembly)).accepted
        refused = await client.send(sent[0][1], assembly)  # a new command: too late
        assert outcome(refused) == "VotingClosed"

        records = await read(bootstrap, node, "governance")
        store = MemoryStore()
        for record in records:
            project(store, REGISTRY.decode(record.value))
        view = store.get(AssemblyView.TABLE, assembly)
        tallies = await opened_tally(SimpleNamespace(keys=keys), view)
        certified = await client.send(g.CertifyResult(
            assembly_id=assembly, tallies=tallies,
            receipts_digest=g.receipts_digest(view.counted())), assembly)
        assert certified.accepted, certified.payload

    log = audit(records)
    assert all(len(events) == 1 for events in log["events"].values())  # one fact a command
    events = [REGISTRY.decode(r.value).payload for r in records]
    cast = [e for e in events if isinstance(e, g.BallotCast)]
    assert len(cast) == MEMBERS * BALLOTS_EACH  # the retries added nothing
    counted = view.counted(motion)
    assert len(counted) == MEMBERS == len({b.member_id for b in counted.values()})
    last = {e.member_id: e.receipt for e in cast}  # each member's last ballot in the log
    assert set(counted) == set(last.values())
    [closed] = [e for e in events if isinstance(e, g.PollClosed)]
    assert closed.voters == MEMBERS and closed.receipts_digest == g.receipts_digest(counted)
    [tally] = tallies
    assert tally.ballots == MEMBERS and sum(tally.counts.values()) == MEMBERS and not tally.spoiled

    # the roll recomputed from a replay of the membership events equals the frozen root
    [frozen] = [e for e in events if isinstance(e, g.RollFrozen)]
    replayed = Memberships()
    for record in await read(bootstrap, node, "membership"):
        envelope, event = REGISTRY.decode(record.value)
        apply_to_memberships(replayed, event, envelope.time)
    roll = roll_of(replayed, cooperative, yesterday, frozen.ledger_at, frozen.as_of)
    assert merkle.root(roll) == frozen.root and sorted(members[:MEMBERS]) == roll
    assert late not in roll
