"""Rebuilding a gateway replica's store from the log, in parallel (``coopbridge replay
--workers N``).

The partitions of the node's events topics are shared out between N worker processes; each
folds its own into a store of its own with the gateway's projections (``Projections`` with
``follow=False`` and ``partitions``: the same bulk catch-up, the same pure fold); when every
worker is done, the parts are merged into one store, which the caller swaps in for the old.

Which partitions may be folded apart: those of the services in ``gateway.fold.LOCAL_SERVICES``,
whose events write only their own aggregate's documents and rows that no other aggregate's
events write (``tests/unit/test_rows.py`` checks this over a generated log), so the parts never
hold the same key and no event reads what another part wrote. The other topics' partitions
all go to the first worker: their events write documents of other aggregates (a membership
started counts in its cooperative's document; a course's events write her record). The local
partitions are then given out largest first, each to the worker with the fewest records so
far (``plan``).

Reads the events topics (as the projections do) and writes their dead letters; writes the
store under ``into`` and, while it works, its parts beside it (``<into>.parts``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import queue
import shutil
from collections.abc import Callable
from pathlib import Path

from rocksdict import Rdict, WriteBatch

from gateway.fold import LOCAL_SERVICES
from gateway.projections import Projections
from gateway.store import RocksStore
from schemas.topics import SERVICES, events_topic

log = logging.getLogger(__name__)

TopicPartition = tuple[str, int]
#: ``(records read, records to read)`` so far, over every worker.
Progress = Callable[[int, int], None]
#: Keys written into the merged store at a time.
MERGE_BATCH = 50_000
_EVERY_S = 0.2  # how often a worker says how far it is


class RebuildFailed(RuntimeError):
    """A worker of the rebuild stopped before the end of its partitions (see the log)."""


def plan(ends: dict[TopicPartition, int], local_topics: frozenset[str],
         workers: int) -> list[list[TopicPartition]]:
    """The partitions of each worker: every partition of a topic not in ``local_topics`` to
    the first; the others, largest first, each to the worker with the fewest records so far
    (``ends``: records a partition holds). Workers left without a partition are dropped."""
    parts: list[list[TopicPartition]] = [[] for _ in range(max(1, workers))]
    load = [0] * len(parts)
    for tp, end in ends.items():
        if tp[0] not in local_topics:
            parts[0].append(tp)
            load[0] += end
    for tp in sorted((tp for tp in ends if tp[0] in local_topics), key=lambda tp: -ends[tp]):
        lightest = min(range(len(parts)), key=load.__getitem__)
        parts[lightest].append(tp)
        load[lightest] += ends[tp]
    return [sorted(part) for part in parts if part]


def rebuild(node: str, bootstrap: str | None, into: Path, workers: int = 1,
            progress: Progress | None = None) -> dict[str, int]:
    """Fold the log of ``node`` up to its end as of now into a new store at ``into`` (which
    must not exist), with ``workers`` processes; returns the projections' counts summed
    (``applied``, ``duplicates``, ``dead_lettered``, ``skipped``)."""
    if into.exists():
        raise FileExistsError(f"{into.name} exists: a rebuild writes a new store")
    topics = [events_topic(node, service) for service in SERVICES]
    ends = asyncio.run(_end_offsets(bootstrap, topics))
    local = frozenset(events_topic(node, service) for service in LOCAL_SERVICES)
    parts = plan(ends, local, workers)
    if len(parts) == 1:
        return asyncio.run(_fold(node, bootstrap, into, None, progress))
    where = into.with_name(into.name + ".parts")
    shutil.rmtree(where, ignore_errors=True)
    try:
        stats = _in_workers(node, bootstrap, where, parts, progress)
        _merge([where / str(i) for i in range(len(parts))], into)
    finally:
        shutil.rmtree(where, ignore_errors=True)
    return stats


async def _end_offsets(bootstrap: str | None, topics: list[str]) -> dict[TopicPartition, int]:
    from services.runtime import kafka_clients  # noqa: PLC0415 - only the planner needs it

    probe = kafka_clients.offsets_probe(bootstrap)
    await probe.start()
    try:
        partitions = [tp for topic in topics
                      for tp in await kafka_clients.all_partitions(probe, topic)]
        found = await probe.end_offsets(partitions)
    finally:
        await probe.stop()
    return {(tp.topic, tp.partition): end for tp, end in found.items()}


async def _fold(node: str, bootstrap: str | None, path: Path,
                partitions: list[TopicPartition] | None,
                progress: Progress | None) -> dict[str, int]:
    """One store: the projections of these partitions (all: None), in bulk, to their end."""
    projections = Projections(node, bootstrap, data_dir=path, follow=False,
                              partitions=partitions)
    async with projections:
        waiting = asyncio.ensure_future(projections.ready())
        while not waiting.done():
            if progress is not None:
                progress(*projections.progress())
            await asyncio.wait([waiting], timeout=_EVERY_S)
        waiting.result()
        if progress is not None:
            progress(*projections.progress())
        return dict(projections.stats)


def _worker(index: int, node: str, bootstrap: str | None, path: str,
            partitions: list[TopicPartition], said: multiprocessing.Queue) -> None:
    """A worker process: fold its partitions, saying how far it is and then its counts."""
    logging.basicConfig(level=logging.WARNING)
    stats = asyncio.run(_fold(node, bootstrap, Path(path), partitions,
                              lambda done, total: said.put(("progress", index, done, total))))
    said.put(("done", index, stats))


def _in_workers(node: str, bootstrap: str | None, where: Path,
                parts: list[list[TopicPartition]], progress: Progress | None) -> dict[str, int]:
    spawn = multiprocessing.get_context("spawn")  # no forked asyncio loops nor threads
    said = spawn.Queue()
    where.mkdir(parents=True)
    workers = [spawn.Process(target=_worker, name=f"coopbridge-replay-{i}", daemon=True,
                             args=(i, node, bootstrap, str(where / str(i)), part, said))
               for i, part in enumerate(parts)]
    for worker in workers:
        worker.start()
    how_far: dict[int, tuple[int, int]] = {}
    totals: dict[str, int] = {}
    finished: set[int] = set()
    try:
        while len(finished) < len(workers):
            try:
                message = said.get(timeout=_EVERY_S)
            except queue.Empty:
                dead = [w.name for i, w in enumerate(workers)
                        if i not in finished and not w.is_alive()]
                if dead and said.empty():
                    raise RebuildFailed(f"{', '.join(dead)} stopped before the end of its "
                                        "partitions") from None
                continue
            if message[0] == "progress":
                _, index, done, total = message
                how_far[index] = (done, total)
                if progress is not None:
                    progress(sum(d for d, _ in how_far.values()),
                             sum(t for _, t in how_far.values()))
            else:
                _, index, stats = message
                finished.add(index)
                for name, count in stats.items():
                    totals[name] = totals.get(name, 0) + count
        for worker in workers:
            worker.join()
    finally:
        for worker in workers:
            if worker.is_alive():
                worker.terminate()
                with contextlib.suppress(Exception):
                    worker.join(5)
    return totals


def _merge(parts: list[Path], into: Path) -> None:
    """Write every key of every other part into the first, then make the first ``into``.
    (The parts never hold the same key, but for the store's layout, the same in each.)"""
    first, *others = parts
    target = RocksStore(first)  # the projections' own options, and its layout checked
    try:
        for part in others:
            source = Rdict(str(part), RocksStore.options())
            try:
                batch, count = WriteBatch(raw_mode=True), 0
                for key, value in source.items():
                    batch.put(key, value)
                    count += 1
                    if count % MERGE_BATCH == 0:
                        target.db.write(batch)
                        batch = WriteBatch(raw_mode=True)
                target.db.write(batch)
            finally:
                source.close()
    finally:
        target.close()
    first.rename(into)
