"""Rebuilding a gateway replica's store from the log, in parallel (``coopbridge replay
--workers N``).

The partitions of the node's events topics are shared out between N worker processes; each
folds its own into a store of its own with the gateway's projections (``Projections`` with
``follow=False`` and ``partitions``: the same bulk catch-up, the same pure fold); when every
worker is done, the parts are merged into one store, which the caller swaps in for the old.

Which partitions may be folded apart: those of the services in ``gateway.fold.LOCAL_SERVICES``,
whose events write only their own aggregate's documents and rows that no other aggregate's
events write (``tests/unit/test_rows.py`` checks this over a generated log), so the parts never
hold the same key and no event reads what another part wrote; but the figures' marks
(``gateway.figures.kept``: ``figures/dirty/{member}``, empty), which any event that touches
her stages, so that two parts may each hold hers: the same empty value, which no fold reads
and only the figures' follower deletes (not run here: the new store's gateway settles every
mark once it starts), so the merged store holds what one fold would. The other topics' partitions
all go to the first worker: their events write documents of other aggregates (a membership
started counts in its cooperative's document; a course's events write her record). The local
partitions are then given out largest first, each to the worker with the fewest records so
far (``plan``).

Reads the events topics (as the projections do) and writes their dead letters; writes the
store under ``into`` and, while it works, its parts beside it (a directory of its own per
run, removed at the end): at the peak, the disk holds the parts and their SST files, about
twice the new store. A worker whose parent is gone stops at once, and the parent stops the
rebuild as soon as one worker stops before the end of its partitions: no store built from
a part that was not finished is ever swapped in.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import multiprocessing.connection
import os
import queue
import shutil
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

from rocksdict import Rdict, SstFileWriter

from gateway.fold import LOCAL_SERVICES
from gateway.projections import Projections, end_offsets
from gateway.store import RocksStore
from schemas.topics import SERVICES, events_topic

log = logging.getLogger(__name__)

TopicPartition = tuple[str, int]
#: ``(records read, records to read)`` so far, over every worker.
Progress = Callable[[int, int], None]
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
    ends = asyncio.run(end_offsets(bootstrap, topics))
    local = frozenset(events_topic(node, service) for service in LOCAL_SERVICES)
    parts = plan(ends, local, workers)
    if len(parts) == 1:
        return asyncio.run(_fold(node, bootstrap, into, None, progress))
    into.parent.mkdir(parents=True, exist_ok=True)
    where = Path(tempfile.mkdtemp(prefix=into.name + ".parts-", dir=into.parent))
    try:
        stats = _in_workers(node, bootstrap, where, parts,
                            [sum(ends[tp] for tp in part) for part in parts], progress)
        _merge([where / str(i) for i in range(len(parts))], into)
    finally:
        shutil.rmtree(where, ignore_errors=True)
    return stats


async def _fold(node: str, bootstrap: str | None, path: Path,
                partitions: list[TopicPartition] | None,
                progress: Progress | None) -> dict[str, int]:
    """One store: the projections of these partitions (all: None), in bulk, to their end."""
    projections = Projections(node, bootstrap, data_dir=path, follow=False,
                              partitions=partitions, from_checkpoint=False)  # the whole log
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
    """A worker process: fold its partitions, saying how far it is and then its counts; if
    its parent goes (killed, or stopped on another worker's failure), it goes too."""
    logging.basicConfig(level=logging.WARNING)
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(target=_orphaned, args=(parent.sentinel,), daemon=True).start()
    stats = asyncio.run(_fold(node, bootstrap, Path(path), partitions,
                              lambda done, total: said.put(("progress", index, done, total))))
    said.put(("done", index, stats))


def _orphaned(sentinel: int) -> None:
    multiprocessing.connection.wait([sentinel])
    os._exit(70)  # nothing of this part is used: the parent removes it, or a re-run does


def _in_workers(node: str, bootstrap: str | None, where: Path,
                parts: list[list[TopicPartition]], sizes: list[int],
                progress: Progress | None) -> dict[str, int]:
    spawn = multiprocessing.get_context("spawn")  # no forked asyncio loops nor threads
    said = spawn.Queue()
    workers = [spawn.Process(target=_worker, name=f"coopbridge-replay-{i}", daemon=True,
                             args=(i, node, bootstrap, str(where / str(i)), part, said))
               for i, part in enumerate(parts)]
    for worker in workers:
        worker.start()
    how_far = {i: (0, size) for i, size in enumerate(sizes)}
    totals: dict[str, int] = {}
    finished: set[int] = set()
    stopped: dict[int, int] = {}  # workers gone without saying they were done: exit codes
    try:
        while len(finished) < len(workers):
            for i, worker in enumerate(workers):
                if i not in finished and worker.exitcode is not None:
                    stopped.setdefault(i, worker.exitcode)
            try:
                message = said.get(timeout=_EVERY_S)
            except queue.Empty:
                if stopped:  # and nothing more to hear from them
                    raise RebuildFailed("; ".join(
                        f"{workers[i].name} stopped (exit code {code}) before the end of its "
                        "partitions" for i, code in sorted(stopped.items()))) from None
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
                stopped.pop(index, None)  # it said so before it went
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
    """Ingest every other part into the first, then make the first ``into``: each part is
    read in key order into one SST file that RocksDB takes in whole (no write-ahead log, no
    memtable). The parts never hold the same key but the layout's and the figures' marks, the
same in each (an ingested key replaces its like: the same bytes)."""
    first, *others = parts
    target = RocksStore(first)  # the projections' own options, and its layout checked
    try:
        for part in others:
            source = Rdict(str(part), RocksStore.options())
            table = part.with_suffix(".sst")
            try:
                writer = SstFileWriter(options=RocksStore.options())
                writer.open(str(table))
                for key, value in source.items():
                    writer[key] = value
                writer.finish()
            finally:
                source.close()
            target.db.ingest_external_file([str(table)])
    finally:
        target.close()
    first.rename(into)
