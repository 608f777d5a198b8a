"""The gateway's projections: the read models of ``gateway.fold``, kept on local disk.

What it owns: one RocksDB database per gateway replica (``<home>/gateway/<node>-<replica>``
by default) holding

* every document of ``gateway.fold.TABLES`` under ``{table}/{key}`` (msgpack), and every
  row of ``gateway.fold.ROWS`` under ``{table}/{key}\x00{sort}``;
* the chain position of every aggregate it has folded, under ``chain/{topic}/{subject}``
  = ``(version, last event id)``;
* how far it has read every partition, under ``offset/{topic}/{partition}`` = the next offset.

What it reads: ``{node}.membership.events``, ``{node}.savings.events`` and
``{node}.training.events``, every partition, with a faust app whose consumer group is its own
(``{node}-gateway-{replica}``), so every replica holds everything and can answer any query;
one agent reads the three topics as one stream, in batches (``take_events``). A store more
than a batch behind the log (``COOPBRIDGE_CATCH_UP_BEYOND``) is first brought up to it in bulk by
``gateway.catchup`` (a batch consumer, outside the group), through the same ``_apply``; the
agent then tails from the offsets the store holds. ``follow=False`` (``coopbridge replay``)
folds the log up to its end as of ``start`` in bulk and starts no agent; with ``partitions``,
only those (a worker of ``gateway.rebuild``).
What it writes: ``{node}.deadletter`` (events it cannot apply), and faust's own assignor
topic. Nothing else: the gateway owns no truth.

An event applies only if it continues its aggregate's chain (``services.runtime.aggregate
.Chain``): an event below the aggregate's version, or at it with the id last applied, is a
redelivery and is ignored (``stats["duplicates"]``); a gap, a foreign ``previousid``, or
another event at the current version (a second writer's) goes to dead-letter
(``off_chain``), as does an event the projection code fails on (``projection_error``; its
chain still advances, so one bad event does not turn every later event of that aggregate
into a gap), and a record that is no readable event (``ContractError``'s reason). Records
are read by ``services.runtime.reading.read_event``: what the full decode reads, refused with
its reasons, for less.

A batch (up to ``MAX_BATCH`` records, or what came within ``BATCH_WITHIN_S``) is folded in memory: the
documents it touches are decoded once (or taken from a small cache of committed documents,
``CACHE_DOCS``, that keeps the busiest records from being decoded again every batch), changed
in place, and encoded once; then its dead letters are acknowledged by the broker, then the
changed documents, the chain positions and the partition offsets of the whole batch are
written in one ``WriteBatch``: after a crash a view and its position never disagree, and a
batch is either wholly applied or read again.
Readers (``get``, ``position``, ``wait_for``) see committed batches only, and so do the
subscriptions: a written batch's applied events go to their listeners (``listen``;
``gateway.listeners``) in one hand-over that never waits for them. An event whose
projection raises is set aside by folding the batch again from its start without it (the
fold is pure), so nothing it half changed survives.

Positions are the store's, not the consumer group's. A document here combines events of
several topics, which a changelog partitioned by source could not restore in order, so the
store is the checkpoint: whenever partitions are assigned, the group's committed offsets are
overwritten with the store's, and the consumer seeks there. A lost data directory is therefore
rebuilt from the newest checkpoint of the node (``gateway.checkpoints``: a copy of a store,
documents, chains and offsets of the same batches) and the tail of the log after it, or by
replaying the events topics from the start when there is none, whatever the group had
committed; a kept one resumes where it stopped, without replay. ``checkpoint`` takes one.
(faust commits what the agent has taken since, which ``coopbridge status`` shows as lag.)

Why batches: ``docs/gateway-notes.md``; the store itself: ``gateway.store``.

``stats``: ``applied``, ``duplicates``, ``dead_lettered`` (off-chain, projection errors and
records that are no readable event) and ``skipped`` (records without a sequence, such as
``CommandRejected``), counted since this instance started.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import shutil
from collections.abc import Awaitable, Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import faust
from aiokafka import TopicPartition

from gateway import decided
from gateway.auth import Caller
from gateway.catchup import catch_up
from gateway.checkpoints import Checkpoint, begin, finish, restore, unmoved
from gateway.documents import Doc, Row
from gateway.figures.kept import KeptFigures
from gateway.fold import project
from gateway.listeners import Listener, Listeners
from gateway.store import RocksStore
from schemas import Message
from schemas.topics import SERVICES, check_node, events_topic, gateway_group
from services import config
from services.runtime import kafka_clients
from services.runtime.deadletter import DeadLetter, letter_for, publish_faust
from services.runtime.reading import Unreadable, envelope_of, read_event
from services.runtime.streams import contract_topic, make_app

log = logging.getLogger(__name__)

#: ``(topic, subject, sequence)``: "the aggregate ``subject`` of ``topic`` has reached ``sequence``".
Ref = tuple[str, str, int]

#: Records folded and written together at most (one batch of faust's ``take_events``) ...
MAX_BATCH = 4000
#: ... or what came within this many seconds (faust's ``take_events`` flushes on a fixed
#: timer: what a reader waits at most for its write to show, on top of the fold and of the
#: batch before). 20 ms until issue 21; measured the same
#: evening (``--only roundtrip``, depositFunds p50 over its command alone on Kafka): 20 ms
#: 29.3 ms (3.51x), 5 ms 19.6 ms (2.49x), 1 ms 18.3 ms (2.17x), but at 1 ms the projections
#: took 226 µs of CPU a command in the pipeline against 186 at 5 ms (smaller batches).
BATCH_WITHIN_S = 0.005
_REPLICA = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


def check_replica(replica: str) -> str:
    """``replica`` if it is a gateway replica's id (1-32 letters, digits, '-' or '_'), else
    ``ValueError``."""
    if not _REPLICA.match(replica):
        raise ValueError(f"invalid gateway replica id {replica!r}: "
                         "1-32 letters, digits, '-' or '_'")
    return replica


def store_dir(node: str, replica: str) -> Path:
    """Where a gateway replica keeps its store by default: ``<home>/gateway/<node>-<replica>``."""
    return config.home() / "gateway" / f"{node}-{replica}"


class ProjectionsFailed(RuntimeError):
    """The projections stopped on a failure of their own store or of Kafka (see the log)."""


class _Redo(Exception):
    """The projection of the record at ``where`` raised: fold the batch again without it."""

    def __init__(self, where: tuple[str, int, int], error: Exception):
        self.where, self.error = where, error


# -- the projections ------------------------------------------------------------------------


async def end_offsets(bootstrap: str | None, topics: Iterable[str]) -> dict[tuple[str, int], int]:
    """The end offset of every partition of ``topics``."""
    probe = kafka_clients.offsets_probe(bootstrap)
    await probe.start()
    try:
        partitions = [tp for topic in topics
                      for tp in await kafka_clients.all_partitions(probe, topic)]
        ends = await probe.end_offsets(partitions)
    finally:
        await probe.stop()
    return {(tp.topic, tp.partition): end for tp, end in ends.items()}


class Projections:
    """The read side of one gateway replica: ``start``, ``ready``, then read and wait."""

    def __init__(self, node: str, bootstrap: str | None = None, *,
                 data_dir: Path | None = None, replica: str | None = None,
                 follow: bool = True, partitions: Iterable[tuple[str, int]] | None = None,
                 checkpoints: Path | None = None, from_checkpoint: bool = True):
        self.node = check_node(node)
        self.follow = follow  # False: fold up to the end as of start, in bulk, and no further
        # not following: only these (topic, partition)s, if given (a worker of gateway.rebuild)
        self.partitions = None if partitions is None else frozenset(partitions)
        if self.partitions is not None and follow:
            raise ValueError("a replica that follows the log reads every partition")
        self.bootstrap = bootstrap
        self.replica = replica or config.gateway_replica()
        check_replica(self.replica)
        self.data_dir = Path(data_dir) if data_dir else store_dir(self.node, self.replica)
        self.group = gateway_group(self.node, self.replica)
        #: where this node's checkpoints are taken and found (``gateway.checkpoints``); a
        #: store that does not exist yet starts from the newest, unless ``from_checkpoint``
        #: is False (``coopbridge replay`` folds the whole log)
        self.checkpoints = checkpoints or config.checkpoints_dir(self.node)
        self.from_checkpoint = from_checkpoint
        self.restored: Checkpoint | None = None
        self._checkpointing = asyncio.Lock()
        self.topics: dict[str, str] = {service: events_topic(self.node, service)
                                       for service in SERVICES}
        self.stats: dict[str, int] = {"applied": 0, "duplicates": 0, "dead_lettered": 0,
                                      "skipped": 0}
        self.failure: BaseException | None = None
        self._started = False
        self._store: RocksStore | None = None
        self._app: faust.App | None = None
        self.listeners = Listeners()
        self._tick = asyncio.Event()  # set and replaced when a chain moves (wakes wait_for)
        self._ready = asyncio.Event()
        self._failed = asyncio.Event()
        self._ends: dict[tuple[str, int], int] = {}
        self._done: dict[tuple[str, int], int] = {}  # next offset, per partition
        self._catching_up: asyncio.Task | None = None
        #: the figures kept in the store (``gateway.figures.kept``), once started
        self.figures: KeptFigures | None = None

    # -- lifecycle

    async def start(self) -> None:
        """Open the store, note the end offsets of the log, and start following it (once
        per instance: a restart is a new ``Projections`` on the same ``data_dir``). A store
        far behind is caught up in bulk first, in a task (``progress`` shows how far)."""
        if self._started:
            raise RuntimeError("projections start once; make a new one to restart")
        self._started = True
        # read now: a bad value is a clear error at start, not when a catch-up comes
        self._beyond, self._batch = config.catch_up_beyond(), config.catch_up_batch()
        if self.from_checkpoint and not (self.data_dir / "CURRENT").exists() and not (
                self.data_dir.exists() and any(self.data_dir.iterdir())):
            self.restored = await asyncio.to_thread(
                restore, self.node, self.data_dir, self.checkpoints, list(self.topics.values()))
        self._store = RocksStore(self.data_dir)
        try:
            self._done = self._store.offsets(self.topics.values())
            ends = await self._end_offsets()
            if self.restored is not None and any(
                    next_offset > ends.get(tp, 0) for tp, next_offset in self._done.items()):
                # a copy of another log (the topics recreated, another cluster): folding on
                # top of it would mix two histories; the whole log instead
                log.warning("checkpoint %s is ahead of the log: not used, the log is folded "
                            "from the start", self.restored.name)
                self._store.close()
                shutil.rmtree(self.data_dir)
                self.restored = None
                self._store = RocksStore(self.data_dir)
                self._done = {}
            # after the store is settled on: the figures follow its commits (not a replay's
            # part: it leaves the marks to the gateway that opens the store, and would hold
            # every member's id in memory for nothing)
            self.figures = KeptFigures(self._store, self) if self.follow else None
            self._ends = {tp: end for tp, end in ends.items()
                          if self.partitions is None or tp in self.partitions}
            behind = sum(max(0, end - self._done.get(tp, 0)) for tp, end in self._ends.items())
            if behind > self._beyond or not self.follow:
                self._catching_up = asyncio.create_task(self._catch_up())
            else:
                self._check_ready()
                await self._tail()
        except BaseException:
            await self.stop()
            raise

    async def _catch_up(self) -> None:
        """Fold the log in bulk up to (nearly) its end, then tail it with the agent; ready
        only then. A failure stops this replica as one of the agent would (``_fail``)."""
        try:
            await catch_up(self.bootstrap, dict(self._done), self._ends, self._apply,
                           beyond=self._beyond if self.follow else 0, batch=self._batch)
            if self.follow:
                await self._tail()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - see _fail
            await self._fail(exc, hold=False)
            return
        self._catching_up = None
        self._check_ready()

    async def _tail(self) -> None:
        """Start the faust app whose agent follows the log from the store's offsets."""
        app = make_app(self.group, self.bootstrap)
        # one stream over the three topics: a batch holds whatever has come from any
        topic = contract_topic(app, *self.topics.values())
        app.agent(topic, name=f"{self.group}-fold", concurrency=1)(self._agent)
        app.on_rebalance_complete.connect(self._on_rebalance_complete)
        self._app = app
        await app.start()

    async def stop(self) -> None:
        task, self._catching_up = self._catching_up, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        app, self._app = self._app, None
        try:
            if app is not None:
                await app.stop()
        finally:
            store, self._store = self._store, None
            if store is not None:
                store.close()

    async def checkpoint(self, keep: int | None = None) -> Checkpoint:
        """Take a checkpoint of the store now (one at a time), keeping the newest ``keep``
        (default ``COOPBRIDGE_CHECKPOINT_KEEP``). RocksDB's checkpoint is made here, on the
        event loop, where batches are committed, so it holds whole batches; hashing and
        syncing the files run in a thread while the fold goes on."""
        keep = keep or config.checkpoint_keep()
        async with self._checkpointing:
            staging, manifest = begin(self._require_store(), list(self.topics.values()),
                                      self.node, self.replica, self.checkpoints)
            work = asyncio.ensure_future(asyncio.to_thread(finish, staging, manifest, keep,
                                                           self.checkpoints))
            try:
                return await asyncio.shield(work)
            except asyncio.CancelledError:
                raise  # the thread completes the checkpoint on its own
            except BaseException:
                shutil.rmtree(staging, ignore_errors=True)
                raise

    async def checkpoint_if_moved(self) -> Checkpoint | None:
        """``checkpoint``, unless the node's newest checkpoint was taken at the offsets the
        store holds now (an idle node takes no copies of the same state on its schedule)."""
        if unmoved(self.checkpoints, self._require_store().offsets(self.topics.values())):
            return None
        return await self.checkpoint()

    async def __aenter__(self) -> Projections:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def ready(self, timeout: float | None = None) -> None:
        """Wait until every partition was read up to its end offset as of ``start``."""
        await self._until(self._ready, timeout)

    @property
    def is_ready(self) -> bool:
        return self._ready.is_set()

    def progress(self) -> tuple[int, int]:
        """(records read, records to read) up to the log's end as of ``start``."""
        total = sum(self._ends.values())
        done = sum(min(self._done.get(tp, 0), end) for tp, end in self._ends.items())
        return done, total

    # -- reading

    def get(self, table: str, key: str) -> Doc | None:
        """The document ``key`` of ``table`` (a copy: change it freely), or None."""
        return self._require_store().read(table, key)

    def rows(self, table: str, key: str, after: str | None = None) -> Iterator[Row]:
        """The rows of ``key`` in rows table ``table``, in order (after ``after`` only)."""
        return self._require_store().rows(table, key, after)

    def decided_at(self, topic: str, aggregate_id: str,
                   command_id: str) -> decided.Decided | None:
        """When the log decided a command sent under an idempotency key
        (``gateway.decided``), as far as this replica has folded, or None. Raises
        ``ProjectionsFailed`` if the projections stopped (what they know may be behind)."""
        if self.failure is not None:
            raise ProjectionsFailed(str(self.failure)) from self.failure
        return decided.decided_at(self._require_store(), topic, aggregate_id, command_id)

    def position(self, topic: str, subject: str) -> int:
        """The last applied sequence of aggregate ``subject`` of events topic ``topic``."""
        return self._require_store().position(topic, subject)[0]

    async def wait_for(self, refs: list[Ref], timeout: float = 10.0) -> bool:
        """Read-your-writes: True once every ``(topic, subject, sequence)`` has been reached
        (applied, or set aside as a ``projection_error``), False after ``timeout`` seconds.
        Raises ``ProjectionsFailed`` if the projections stopped on a failure."""
        try:
            async with asyncio.timeout(timeout):
                while True:
                    tick = self._tick
                    if all(self.position(t, s) >= q for t, s, q in refs):
                        return True
                    if self.failure is not None:
                        raise ProjectionsFailed(str(self.failure)) from self.failure
                    await self._first(tick, self._failed)
        except TimeoutError:
            return False

    def listen(self, caller: Caller, member: str | None = None) -> Listener:
        """``caller``'s listener of every applied event from now on (``(member ids touched,
        message)``), or of those that touch ``member``: capped, and ended if it falls behind
        (``gateway.listeners``)."""
        return self.listeners.listen(caller, member)

    def unlisten(self, listener: Listener) -> None:
        self.listeners.unlisten(listener)

    # -- following the log

    async def _agent(self, stream: faust.StreamT) -> None:
        """Fold, write, repeat, a batch at a time (concurrency 1). Never lets an exception
        escape (faust would acknowledge and skip the records): a failure of the store or of
        Kafka stops this replica instead (``failure``), with the batch in hand unwritten."""
        try:
            async for events in stream.take_events(MAX_BATCH, within=BATCH_WITHIN_S):
                await self._apply([event.message for event in events])
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - see _fail
            await self._fail(exc)

    async def _apply(self, records: list,
                     publish: Callable[[DeadLetter], Awaitable[None]] | None = None) -> None:
        """Fold one batch, acknowledge its dead letters (with ``publish``, else the faust
        app's producer), write it, then tell everyone."""
        store = self._require_store()
        set_aside: dict[tuple[str, int, int], Exception] = {}
        while True:
            try:
                stats, letters, applied, moved = self._fold(store, records, set_aside)
                break
            except _Redo as redo:  # a bug in the projection, for this one event
                store.rollback()
                set_aside[redo.where] = redo.error
                log.warning("projection of a record of %s failed with %s", redo.where[0],
                            type(redo.error).__name__)
        try:
            for letter in letters:  # raises: the batch stays unwritten (see _agent)
                await (publish(letter) if publish else publish_faust(self._app, letter))
            store.commit()
        except BaseException:
            store.rollback()
            raise
        for name, count in stats.items():
            self.stats[name] += count
        for record in records:
            tp, next_offset = (record.topic, record.partition), record.offset + 1
            if next_offset > self._done.get(tp, 0):
                self._done[tp] = next_offset
        if moved:
            self._moved()
        self.listeners.publish(applied)  # never waits for a subscriber
        self._check_ready()

    def _fold(self, store: RocksStore, records: list,
              set_aside: dict[tuple[str, int, int], Exception]):
        """The batch's effect on the store's session: (stats, dead letters, applied events,
        whether a chain moved). Raises ``_Redo`` for a projection that fails."""
        stats = {"applied": 0, "duplicates": 0, "dead_lettered": 0, "skipped": 0}
        letters: list[DeadLetter] = []
        applied: list[tuple[list[str], Message]] = []
        moved = False
        for record in records:
            topic, partition, offset = record.topic, record.partition, record.offset
            store.set_offset(topic, partition, offset + 1)
            message = read_event(record)  # read(record, kind="event"), for less
            if isinstance(message, Unreadable):
                head = envelope_of(record)  # a newer version's: its command was decided
                if head is not None:
                    decided.note(store, topic, head)
                letters.append(message.letter(self.node))
                stats["dead_lettered"] += 1
                continue
            envelope = message.envelope
            sequence = envelope.sequence
            if sequence is None:  # a CommandRejected: part of the log, no state
                decided.note(store, topic, envelope)
                stats["skipped"] += 1
                continue
            subject = envelope.subject
            version, last_id = store.chain(topic, subject)
            if sequence < version or (sequence == version and envelope.id == last_id):
                stats["duplicates"] += 1  # read again after a restart
                continue
            if sequence != version + 1 or envelope.previousid != last_id:
                # a gap, or a second writer's event (also one at the current version but
                # with another id): every fold of the log ignores it, so do we, and say so
                letters.append(self._letter(record, "off_chain", (
                    f"{topic} partition {partition} offset {offset}: sequence {sequence} "
                    "does not continue its aggregate's chain")))
                stats["dead_lettered"] += 1
                continue
            decided.note(store, topic, envelope)
            where = (topic, partition, offset)
            failed = set_aside.get(where)
            if failed is None:
                try:
                    touched = project(store, message)
                except Exception as exc:  # noqa: BLE001 - a bug in the projection
                    raise _Redo(where, exc) from exc
                stats["applied"] += 1
                applied.append((list(touched), message))
            else:
                letters.append(self._letter(record, "projection_error", type(failed).__name__))
                stats["dead_lettered"] += 1
            store.set_chain(topic, subject, sequence, envelope.id)
            moved = True
        return stats, letters, applied, moved

    def _letter(self, record: Any, reason: str, detail: str) -> DeadLetter:
        return letter_for(self.node, source_topic=record.topic, partition=record.partition,
                          offset=record.offset, key=record.key, value=record.value,
                          reason=reason, detail=detail)

    def _moved(self) -> None:
        """A chain position changed: wake everyone in ``wait_for``."""
        self._tick.set()
        self._tick = asyncio.Event()

    async def _on_rebalance_complete(self, sender: Any = None, **_: Any) -> None:
        """Partitions assigned, streams not yet resumed: make the group's committed offsets
        the store's, and seek there. faust seeks every partition to its committed offset
        right after this signal (and ignores a committed 0), hence both the commit and the
        seek; without the commit faust would also drop the records below the old offset."""
        app = self._app
        if app is None or self._store is None:
            return
        assigned = [TopicPartition(tp.topic, tp.partition) for tp in app.consumer.assignment()
                    if tp.topic in self.topics.values()]
        if not assigned:
            return
        stored = self._store.offsets(self.topics.values())
        offsets = {tp: stored.get((tp.topic, tp.partition), 0) for tp in assigned}
        try:
            # faust has no public call to commit chosen offsets; this is what its own
            # commit uses, in the consumer's thread
            if not await app.consumer._commit(offsets):  # noqa: SLF001
                log.warning("committing the store's offsets failed; a rebalance follows")
                return
            await app.consumer.seek_wait(offsets)
        except Exception as exc:  # noqa: BLE001
            await self._fail(exc, hold=False)  # faust's recovery must not hang here

    async def _fail(self, exc: BaseException, hold: bool = True) -> None:
        """The store or Kafka failed under us: stop serving (never skip records silently).
        ``hold`` parks the calling agent on its batch, so nothing after it is acknowledged."""
        log.error("gateway projections failed: %s", type(exc).__name__, exc_info=exc)
        self.failure = exc
        self._failed.set()
        if self._app is not None:
            await self._app.crash(exc)
        if hold:
            await asyncio.Event().wait()

    # -- helpers

    async def _end_offsets(self) -> dict[tuple[str, int], int]:
        return await end_offsets(self.bootstrap, self.topics.values())

    def _check_ready(self) -> None:
        if self._catching_up is not None:
            return  # ready once the agent has taken over (or, not following, at the end)
        if not self._ready.is_set() and all(
                self._done.get(tp, 0) >= end for tp, end in self._ends.items()):
            self._ready.set()

    async def _until(self, event: asyncio.Event, timeout: float | None) -> None:
        async with asyncio.timeout(timeout):
            await self._first(event, self._failed)
        if not event.is_set() and self.failure is not None:
            raise ProjectionsFailed(str(self.failure)) from self.failure

    @staticmethod
    async def _first(*events: asyncio.Event) -> None:
        waiters = [asyncio.ensure_future(e.wait()) for e in events]
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()

    def _require_store(self) -> RocksStore:
        if self._store is None:
            raise RuntimeError("projections not started")
        return self._store
