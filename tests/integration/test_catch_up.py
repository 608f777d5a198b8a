"""The gateway's two ways of folding the log agree: a store caught up in bulk
(``gateway.catchup``) and one folded by the faust agent alone hold the same bytes, every key
and value of RocksDB, for a log with duplicates, an off-chain event and an unreadable record;
and once caught up, the agent tails from the offsets the store holds."""

from __future__ import annotations

import datetime as dt

import msgspec
import pytest
from rocksdict import Options, Rdict

from gateway.projections import Projections
from schemas import REGISTRY
from schemas import membership as m
from schemas.topics import deadletter_topic, events_topic
from services.runtime import kafka_clients
from services.runtime.deadletter import read_letter
from services.runtime.ids import new_id
from tests.bench.synth_events import Synth, produce

pytestmark = pytest.mark.kafka

HELD_BACK = 3  # the log's last records, written once the bulk store has caught up


def everything(path) -> list[tuple[bytes, bytes]]:
    db = Rdict(str(path), Options(raw_mode=True))
    try:
        return list(db.items())
    finally:
        db.close()


def ref(topic: str, value: bytes) -> tuple[str, str, int]:
    envelope = msgspec.json.decode(value)
    return topic, envelope["subject"], envelope["sequence"]


async def test_bulk_catch_up_and_the_agent_fold_the_same_log_into_the_same_bytes(
        node, tmp_path, monkeypatch):
    node_id, bootstrap, _, _ = node
    membership = events_topic(node_id, "membership")
    synth = Synth(node_id, seed=11)
    log = [r for r in synth.log(120, 1500) if not r[0].endswith(".datakeys")]
    first, later = log[:-HELD_BACK], log[-HELD_BACK:]
    registered = next(r for r in first if r[0] == membership and b"MemberRegistered" in r[2])
    rosa = registered[1].decode()
    off_chain = (membership, registered[1], REGISTRY.encode(  # a gap in Rosa's chain
        m.MemberErased(member_id=rosa), id=new_id(), source="/coopbridge/zombie",
        subject=rosa, time=dt.datetime.now(dt.UTC), sequence=9, previousid=new_id(),
        causationid=new_id()))
    unreadable = (membership, b"x", b"{not an event")
    duplicates = first[:5]  # read again, as after a producer's retry
    # one partition per topic: a document that several partitions of a topic touch may list
    # their events in either order, and this test compares bytes
    await produce(bootstrap, [*first, off_chain, unreadable, *duplicates], partitions=1)

    # the bulk path: a few fetches, then the agent
    monkeypatch.setenv("COOPBRIDGE_CATCH_UP_BEYOND", "0")
    monkeypatch.setenv("COOPBRIDGE_CATCH_UP_BATCH", "400")
    async with Projections(node_id, bootstrap, data_dir=tmp_path / "bulk") as bulk:
        await bulk.ready(timeout=60)
        assert bulk._app is not None  # noqa: SLF001 - the agent took over
        caught_up = dict(bulk.stats)
        await produce(bootstrap, later, partitions=1)
        assert await bulk.wait_for([ref(topic, value) for topic, _, value in later], 30)
        stats_bulk = dict(bulk.stats)

    # the agent alone, on another replica
    monkeypatch.setenv("COOPBRIDGE_CATCH_UP_BEYOND", str(10**9))
    async with Projections(node_id, bootstrap, data_dir=tmp_path / "agent",
                           replica="2") as agent:
        assert agent._catching_up is None  # noqa: SLF001
        await agent.ready(timeout=60)
        stats_agent = dict(agent.stats)

    events = len(log)
    assert caught_up == {"applied": events - HELD_BACK, "duplicates": 5, "dead_lettered": 2,
                         "skipped": 0}
    assert stats_bulk == stats_agent == {"applied": events, "duplicates": 5,
                                         "dead_lettered": 2, "skipped": 0}
    bulk_bytes, agent_bytes = everything(tmp_path / "bulk"), everything(tmp_path / "agent")
    assert len(bulk_bytes) > events // 4
    assert bulk_bytes == agent_bytes
    letters = sorted((x.value, x.reason, x.detail) for x in
                     (read_letter(r.topic, r.key, r.value, r.headers) for r in
                      await kafka_clients.read_topic(deadletter_topic(node_id), bootstrap)))
    # each path dead-lettered both, with the same reasons
    assert [value for value, _, _ in letters] == sorted([off_chain[2], unreadable[2]] * 2)
    reasons = {value: {reason for v, reason, _ in letters if v == value}
               for value in (off_chain[2], unreadable[2])}
    assert reasons[off_chain[2]] == {"off_chain"}
    assert len(reasons[unreadable[2]]) == 1 and reasons[unreadable[2]] != {"off_chain"}
    assert not any(rosa in detail for _, _, detail in letters)
