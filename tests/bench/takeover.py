"""Takeover and processor memory (issue 21): a savings partition of 1,000,000 events taken over
from a snapshot against folding it from offset 0, and the processor's resident memory after
100,000 and after 1,000,000 commands.

A fresh node whose services have one partition, so that every savings event lands in
partition 0. Its events are made up (``tests.bench.synth_events``: ``Synth.log`` for 1 member
per 50 events, every member joining within the first tenth of the log, then only their
activity; only the savings events kept: accounts opened, deposits, withdrawals,
remittances…, each with its command id, a chain per account, an event at most a minute after
the one before, so a million span about a year) and produced straight into the events topic,
as the processor would have written them; no command goes through the pipeline.

Each measurement is a real ``CommandProcessor`` of the savings service in a process of its own
(``python -m tests.bench.takeover``), started against the node and stopped once it is ready:

1. after the first 100,000 events: fold from offset 0, RSS (snapshots off);
2. after all 1,000,000: fold from offset 0 (the baseline of the takeover), RSS (snapshots off);
   RSS after 1,000,000 / RSS after 100,000 is the memory row (target ≤ 1.2x): the same
   accounts, nine times the history; the outcome index keeps a week of commands by the log's
   clock, what grows is what the accounts' states keep of their history;
3. snapshots on: the processor folds from offset 0 and writes a snapshot of the partition at
   once (its cut, in ms: how long commands would have stopped; its writing, in s);
4. snapshots on: a new processor takes the partition over from that snapshot (target ≤ 0.1x
   of 2's fold).

The takeover time is the processor's own (``CommandProcessor.rebuilt``: from the assignment
to the partition's resumption: reading the snapshot, checking it, decoding it, folding the
tail), not the group join around it.
"""

from __future__ import annotations

import asyncio
import ctypes
import gc
import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

from deploy.topics import ensure_topics
from schemas import savings as s
from schemas.topics import events_topic, node_topics
from services.runtime.ids import new_id
from tests.bench.harness import Bench, Row, rss_bytes
from tests.bench.synth_events import Synth, produce

ROOT = Path(__file__).resolve().parents[2]
EVENTS_PER_MEMBER = 50


class _Settling(Synth):
    """The replay's generator, with remittances delivered within about 50 events of being
    sent, as the courier does in seconds (the replay's own leaves them pending for long, a
    backlog that would grow with the log)."""

    def _activity(self):
        if len(self._pending_remittances) > 50:
            account, remittance_id = self._pending_remittances.popleft()
            yield self._event("savings", account.account_id, s.RemittanceDelivered(
                account_id=account.account_id, remittance_id=remittance_id))
            return
        yield from super()._activity()


def _savings_events(node: str, events: int):
    """About ``events`` savings events: every member joins within the first tenth of them,
    then only activity (so 100,000 and 1,000,000 commands are the same accounts' history)."""
    topic = events_topic(node, "savings")
    synth = _Settling(node, seed=11)
    members = max(3, events // EVENTS_PER_MEMBER)
    made = itertools.chain(synth.log(members=members, activity=events // 20),
                           synth.log(members=0, activity=events * 2))
    return itertools.islice((r for r in made if r[0] == topic), events)


async def _processor(bench: Bench, node: str, every: int, wait_for_snapshot: bool) -> dict:
    """Run a savings processor in a process of its own until it is ready; what it saw."""
    # outcomes forgotten after the week (the default, services.config.forget_outcomes; set
    # here so that a bench run in a shell that turned it off measures the same)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COOPBRIDGE_SESSION_TIMEOUT_S": "6",
           "COOPBRIDGE_HOME": str(bench.work / "takeover-home"),
           "COOPBRIDGE_FORGET_OUTCOMES": "1"}
    done = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "tests.bench.takeover", node, bench.bootstrap,
                         str(every), "1" if wait_for_snapshot else "0"],
        cwd=ROOT, env=env, capture_output=True, timeout=3600)
    if done.returncode != 0:
        raise RuntimeError(f"the processor failed: {done.stderr.decode()[-2000:]}")
    return json.loads(done.stdout.decode().strip().splitlines()[-1])


async def run(bench: Bench) -> None:
    full = bench.size(1_000_000, 10_000)
    first = full // 10
    node = "tk" + new_id().replace("-", "")[-10:]
    await asyncio.to_thread(ensure_topics, node_topics(node, partitions=1), bench.bootstrap)
    events = _savings_events(node, full)
    produced = await produce(bench.bootstrap, itertools.islice(events, first), partitions=1)
    small = await _processor(bench, node, 0, False)
    produced += await produce(bench.bootstrap, events, partitions=1)
    large = await _processor(bench, node, 0, False)
    writer = await _processor(bench, node, 1, True)
    taker = await _processor(bench, node, 1, False)
    assert taker["from"] == writer["to"] == large["to"] == produced, (taker, writer, large)
    label = f"{produced:,}"
    bench.add(Row("takeover", f"partition of {label} events taken over from a snapshot",
                  taker["seconds"], "s", large["seconds"], "folded from offset 0",
                  higher_is_better=False, target=0.1,
                  note=f"{large['aggregates']:,} aggregates, {large['outcomes']:,} outcomes kept"))
    bench.add(Row("takeover", f"processor RSS after {label} commands", large["rss"] / 2**20,
                  "MiB", small["rss"] / 2**20, f"after {small['to']:,} commands",
                  higher_is_better=False, target=1.2,
                  note=f"outcomes kept {small['outcomes']:,} -> {large['outcomes']:,}, "
                       f"aggregates {small['aggregates']:,} -> {large['aggregates']:,}; after "
                       f"malloc_trim {small['rss_trimmed'] / 2**20:.0f} -> "
                       f"{large['rss_trimmed'] / 2**20:.0f} MiB"))
    bench.add(Row("takeover", f"commands stopped for a snapshot's cut ({label} events)",
                  writer["cut_s"] * 1000, "ms"))
    bench.add(Row("takeover", f"a snapshot written beside the commands ({label} events)",
                  writer["write_s"], "s"))


async def _child(node: str, bootstrap: str, every: int, wait_for_snapshot: bool) -> dict:
    from services.runtime.processor import CommandProcessor
    from services.savings.domain import SAVINGS

    processor = CommandProcessor(SAVINGS, node, bootstrap, snapshot_every=every)
    running = asyncio.create_task(processor.run())
    ready = asyncio.create_task(processor.ready.wait())
    await asyncio.wait({running, ready}, return_when=asyncio.FIRST_COMPLETED)
    if running.done():
        running.result()
    while wait_for_snapshot and not processor.snapshots.written:
        await asyncio.sleep(0.1)
        if running.done():
            running.result()
    gc.collect()
    start, reached, seconds = processor.rebuilt[0]
    partition_log = processor.logs[0]
    seen = {"from": start, "to": reached, "seconds": seconds, "rss": rss_bytes(),
            "aggregates": len(partition_log.streams), "outcomes": len(partition_log.outcomes)}
    ctypes.CDLL("libc.so.6").malloc_trim(0)  # what the allocator keeps but holds nothing
    seen["rss_trimmed"] = rss_bytes()
    if processor.last_snapshot is not None:
        seen["cut_s"], seen["write_s"] = processor.last_snapshot
    processor.stop()
    await running
    return seen


if __name__ == "__main__":
    node_, bootstrap_, every_, wait_ = sys.argv[1:5]
    print(json.dumps(asyncio.run(_child(node_, bootstrap_, int(every_), wait_ == "1"))))
