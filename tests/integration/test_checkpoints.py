"""A new gateway replica starts from a checkpoint and replays only the tail: its store then
holds the same bytes, every key and value of RocksDB, as a replica that folded the whole log;
the checkpoint was taken while the first replica was running and being written to."""

from __future__ import annotations

import asyncio
import time

import pytest
from kafka.admin import KafkaAdminClient

from deploy.topics import ensure_node_topics

from gateway.checkpoints import listed
from gateway.projections import Projections
from schemas.topics import SERVICES, events_topic
from tests.bench.synth_events import Synth, produce
from tests.integration.test_catch_up import everything, ref

pytestmark = pytest.mark.kafka


async def test_a_replica_from_a_checkpoint_and_the_tail_holds_the_bytes_of_a_full_replay(
        node, tmp_path, monkeypatch):
    node_id, bootstrap, _, _ = node
    log = [r for r in Synth(node_id, seed=5).log(150, 2000) if not r[0].endswith(".datakeys")]
    head, middle, tail = log[:len(log) // 2], log[len(log) // 2:-300], log[-300:]
    where = tmp_path / "checkpoints" / node_id
    # one partition per topic: the stores are compared byte for byte (see test_catch_up)
    await produce(bootstrap, head, partitions=1)

    async with Projections(node_id, bootstrap, data_dir=tmp_path / "first",
                           checkpoints=where) as first:
        await first.ready(timeout=60)
        # taken while the agent folds more of the log
        more = asyncio.create_task(produce(bootstrap, middle, partitions=1))
        taken = await first.checkpoint(keep=2)
        await more
        last = {t: (t, k, v) for t, k, v in middle}  # each topic's last: all of it folded
        assert await first.wait_for([ref(t, v) for t, _, v in last.values()], 60)
        assert (await first.checkpoint(keep=2)).records == len(head) + len(middle)
        newest = await first.checkpoint(keep=2)
    assert [c.name for c in listed(where)] == [newest.name, listed(where)[1].name]
    assert taken.name not in {c.name for c in listed(where)}  # only the newest two are kept
    assert newest.records == len(head) + len(middle)

    await produce(bootstrap, tail, partitions=1)
    monkeypatch.setenv("COOPBRIDGE_CATCH_UP_BEYOND", "100")  # the tail in bulk
    async with Projections(node_id, bootstrap, data_dir=tmp_path / "restored", replica="2",
                           checkpoints=where) as restored:
        await restored.ready(timeout=60)
        assert restored.restored is not None and restored.restored.name == newest.name
        tail_stats = dict(restored.stats)
    async with Projections(node_id, bootstrap, data_dir=tmp_path / "full", replica="3",
                           checkpoints=where, from_checkpoint=False) as full:
        await full.ready(timeout=60)
        assert full.restored is None
        full_stats = dict(full.stats)

    assert tail_stats == {"applied": len(tail), "duplicates": 0, "dead_lettered": 0,
                          "skipped": 0}
    assert full_stats["applied"] == len(log)
    restored_bytes = everything(tmp_path / "restored")
    assert len(restored_bytes) > len(log) // 4
    assert restored_bytes == everything(tmp_path / "full")


async def test_a_checkpoint_ahead_of_the_log_is_not_used(node, tmp_path):
    """The node's topics deleted and made again (or another cluster): a checkpoint of the
    old log must not be folded on, or the new log's events would be taken for redeliveries
    of the old ones."""
    node_id, bootstrap, _, _ = node
    log = [r for r in Synth(node_id, seed=6).log(120, 600) if not r[0].endswith(".datakeys")]
    where = tmp_path / "checkpoints" / node_id
    await produce(bootstrap, log, partitions=1)
    async with Projections(node_id, bootstrap, data_dir=tmp_path / "old",
                           checkpoints=where) as old:
        await old.ready(timeout=60)
        await old.checkpoint(keep=1)

    topics = [events_topic(node_id, service) for service in SERVICES]
    await asyncio.to_thread(_remade, bootstrap, topics, node_id)
    shorter = [r for r in Synth(node_id, seed=8).log(110, 100)
               if not r[0].endswith(".datakeys")]
    await produce(bootstrap, shorter, partitions=1)
    async with Projections(node_id, bootstrap, data_dir=tmp_path / "new", replica="2",
                           checkpoints=where) as new:
        await new.ready(timeout=60)
        assert new.restored is None
        assert new.stats == {"applied": len(shorter), "duplicates": 0, "dead_lettered": 0,
                             "skipped": 0}


def _remade(bootstrap: str, topics: list[str], node_id: str) -> None:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="test-remake")
    try:
        admin.delete_topics(topics)
        deadline = time.monotonic() + 60
        while set(topics) & set(admin.list_topics()):
            assert time.monotonic() < deadline, "the topics were not deleted"
            time.sleep(0.2)
    finally:
        admin.close()
    deadline = time.monotonic() + 60
    while True:
        try:
            ensure_node_topics(node_id, bootstrap)
            return
        except Exception:  # noqa: BLE001 - "marked for deletion" for a moment
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
