"""A rebuild in parallel (``gateway.rebuild``, ``coopbridge replay --workers``) writes the same
store as a rebuild in one process: every RocksDB key and value, for a log whose savings events
are spread over the savings topic's partitions, with an off-chain event and an unreadable
record among them."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from gateway.projections import end_offsets
from gateway.rebuild import RebuildFailed, _in_workers, plan, rebuild
from schemas import REGISTRY
from schemas import savings as s
from schemas.fields import Money
from schemas.topics import SERVICES, events_topic
from services.runtime.ids import new_id
from tests.bench.synth_events import Synth, produce
from tests.integration.test_catch_up import everything

pytestmark = pytest.mark.kafka


async def test_a_rebuild_in_three_processes_writes_the_same_bytes_as_in_one(node, tmp_path):
    node_id, bootstrap, _, _ = node
    savings = events_topic(node_id, "savings")
    log = [r for r in Synth(node_id, seed=5).log(150, 2500) if not r[0].endswith(".datakeys")]
    opened = next(r for r in log if r[0] == savings and b"AccountOpened" in r[2])
    account = opened[1].decode()
    off_chain = (savings, opened[1], REGISTRY.encode(  # a gap in the account's chain
        s.FundsDeposited(account_id=account, amount=Money(100, "EUR"),
                         balance=Money(100, "EUR")),
        id=new_id(), source="/coopbridge/zombie", subject=account,
        time=dt.datetime.now(dt.UTC), sequence=900, previousid=new_id(), causationid=new_id()))
    unreadable = (savings, b"x", b"{not an event")
    local = [r for r in [*log, off_chain, unreadable] if r[0] == savings]
    # the savings events over every partition of their topic, as the services write them;
    # the others on one partition each (a document that several partitions of a topic touch
    # may list their events in either order, and this test compares bytes)
    await produce(bootstrap, local)
    await produce(bootstrap, [r for r in log if r[0] != savings], partitions=1)

    ends = await end_offsets(bootstrap, [events_topic(node_id, x) for x in SERVICES])
    assert len(plan(ends, frozenset({savings}), 3)) == 3  # three processes, each with work
    one = await asyncio.to_thread(rebuild, node_id, bootstrap, tmp_path / "one", 1)
    seen: list[tuple[int, int]] = []
    three = await asyncio.to_thread(rebuild, node_id, bootstrap, tmp_path / "three", 3,
                                    lambda done, total: seen.append((done, total)))

    assert one == three == {"applied": len(log), "duplicates": 0, "dead_lettered": 2,
                            "skipped": 0}
    single, parallel = everything(tmp_path / "one"), everything(tmp_path / "three")
    assert len(single) > len(log) // 2
    assert single == parallel
    assert sorted(x.name for x in tmp_path.iterdir()) == ["one", "three"]  # no parts left
    assert seen and seen[-1][0] == seen[-1][1] == len(log) + 2  # every record read


def test_the_plan_gives_every_partition_once_and_the_cross_aggregate_topics_to_one_worker():
    ends = {("n.membership.events", p): 100 for p in range(4)}
    ends |= {("n.training.events", p): 10 for p in range(4)}
    ends |= {("n.savings.events", p): 300 + p for p in range(4)}
    parts = plan(ends, frozenset({"n.savings.events"}), 3)
    assert sorted(tp for part in parts for tp in part) == sorted(ends)
    assert all(tp[0] == "n.savings.events" for part in parts[1:] for tp in part)
    assert {tp for tp in ends if tp[0] != "n.savings.events"} <= set(parts[0])
    loads = [sum(ends[tp] for tp in part) for part in parts]
    assert max(loads) - min(loads) <= 303  # shared out by size
    assert plan(ends, frozenset(), 4) == [sorted(ends)]  # nothing local: one process
    assert plan(ends, frozenset({"n.savings.events"}), 1) == [sorted(ends)]


def test_a_rebuild_into_an_existing_store_is_refused(tmp_path):
    (tmp_path / "there").mkdir()
    with pytest.raises(FileExistsError):
        rebuild("n", "127.0.0.1:1", tmp_path / "there", 2)


def test_a_worker_that_stops_stops_the_rebuild_at_once(tmp_path):
    where = tmp_path / "parts"
    where.write_text("a file, where the workers' stores should go")  # they cannot open them
    with pytest.raises(RebuildFailed, match="exit code 1"):
        _in_workers("n", "127.0.0.1:1", where, [[("n.savings.events", 0)],
                                                [("n.savings.events", 1)]], [10, 10], None)
