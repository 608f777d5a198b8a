"""The gateway's projections: the read models of ``gateway.readmodel``, kept on local disk.

What it owns: one RocksDB database per gateway replica (``<home>/gateway/<node>-<replica>``
by default) holding

* every document of ``gateway.readmodel.TABLES`` under ``{table}/{key}`` (msgpack);
* the chain position of every aggregate it has folded, under ``chain/{topic}/{subject}``
  = ``(version, last event id)``;
* how far it has read every partition, under ``offset/{topic}/{partition}`` = the next offset.

What it reads: ``{node}.membership.events``, ``{node}.savings.events`` and
``{node}.training.events``, every partition, with a faust app whose consumer group is its own
(``{node}-gateway-{replica}``), so every replica holds everything and can answer any query.
What it writes: ``{node}.deadletter`` (events it cannot apply), and faust's own assignor
topic. Nothing else: the gateway owns no truth.

An event applies only if it continues its aggregate's chain (``services.runtime.aggregate
.Chain``): an event below the aggregate's version, or at it with the id last applied, is a
redelivery and is ignored (``stats["duplicates"]``); a gap, a foreign ``previousid``, or
another event at the current version (a second writer's) goes to dead-letter
(``off_chain``), as does an event the projection code fails on (``projection_error``; its
chain still advances, so one bad event does not turn every later event of that aggregate
into a gap). The documents an event
changes, its chain position and its partition offset are written in one ``WriteBatch``: after
a crash a view and its position never disagree.

Positions are the store's, not the consumer group's. A document here combines events of
several topics, which a faust table (changelog partitioned by source) could not restore in
order, so the store is the checkpoint: whenever partitions are assigned, the group's committed
offsets are overwritten with the store's, and the consumer seeks there. A lost data directory
is therefore rebuilt by replaying the events topics from the start, whatever the group had
committed; a kept one resumes where it stopped, without replay.

``stats``: ``applied``, ``duplicates``, ``dead_lettered`` (off-chain, projection errors and
records ``decoded`` could not read) and ``skipped`` (records without a sequence, such as
``CommandRejected``), counted since this instance started.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any

import faust
import msgspec
from aiokafka import TopicPartition
from rocksdict import Options, Rdict, WriteBatch

from gateway.readmodel import TABLES, Doc, project
from schemas import Message
from schemas.topics import SERVICES, check_node, events_topic, gateway_group
from services import config
from services.runtime import kafka_clients
from services.runtime.deadletter import letter_for, publish_faust
from services.runtime.streams import contract_topic, decoded, make_app

log = logging.getLogger(__name__)

#: ``(topic, subject, sequence)``: "the aggregate ``subject`` of ``topic`` has reached ``sequence``".
Ref = tuple[str, str, int]
#: What a listener receives after each applied event.

REPLICA_ENV = "COOPBRIDGE_GATEWAY_REPLICA"
LISTENER_QUEUE_SIZE = 1000
_REPLICA = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


class ProjectionsFailed(RuntimeError):
    """The projections stopped on a failure of their own store or of Kafka (see the log)."""


# -- storage --------------------------------------------------------------------------------


def _doc_key(table: str, key: str) -> bytes:
    return f"{table}/{key}".encode()


def _chain_key(topic: str, subject: str) -> bytes:
    return f"chain/{topic}/{subject}".encode()


def _offset_key(topic: str, partition: int) -> bytes:
    return f"offset/{topic}/{partition}".encode()


_CHAIN = tuple[int, str | None]


class RocksStore:
    """A ``readmodel.DocumentStore`` on RocksDB (``rocksdict`` in raw mode).

    ``get``/``put`` work in a session (one event): ``get`` returns the session's copy of a
    document, ``put`` marks it changed, and nothing reaches the disk until ``commit`` writes
    the changed documents together with the given position records in one ``WriteBatch``;
    ``rollback`` forgets the session. ``read`` returns a fresh copy of a committed document,
    so readers never see an event half applied nor share objects with the projection.
    """

    def __init__(self, path: Path):
        path.mkdir(parents=True, exist_ok=True)
        options = Options(raw_mode=True)
        options.create_if_missing(True)
        self.path = path
        self.db = Rdict(str(path), options)
        self._session: dict[bytes, Doc] = {}
        self._changed: dict[bytes, Doc] = {}

    # DocumentStore (the session of one event)
    def get(self, table: str, key: str) -> Doc | None:
        k = _doc_key(table, key)
        doc = self._session.get(k)
        if doc is None:
            doc = self.read(table, key)
            if doc is not None:
                self._session[k] = doc
        return doc

    def put(self, table: str, key: str, doc: Doc) -> None:
        if not isinstance(doc, TABLES[table]):
            raise TypeError(f"{type(doc).__name__} does not belong in table {table}")
        k = _doc_key(table, key)
        self._session[k] = doc
        self._changed[k] = doc

    def commit(self, records: Iterable[tuple[bytes, bytes]] = ()) -> None:
        """Write the session's changed documents and ``records`` atomically."""
        batch = WriteBatch(raw_mode=True)
        for k, doc in self._changed.items():
            batch.put(k, msgspec.msgpack.encode(doc))
        for k, value in records:
            batch.put(k, value)
        self.db.write(batch)
        self.rollback()

    def rollback(self) -> None:
        self._session.clear()
        self._changed.clear()

    # committed state
    def read(self, table: str, key: str) -> Doc | None:
        raw = self.db.get(_doc_key(table, key))
        return None if raw is None else msgspec.msgpack.decode(raw, type=TABLES[table])

    def chain(self, topic: str, subject: str) -> tuple[int, str | None]:
        raw = self.db.get(_chain_key(topic, subject))
        return (0, None) if raw is None else msgspec.msgpack.decode(raw, type=_CHAIN)

    def offsets(self, topics: Iterable[str]) -> dict[tuple[str, int], int]:
        """The next offset to read of every stored partition of ``topics``."""
        found: dict[tuple[str, int], int] = {}
        for topic in topics:
            prefix = f"offset/{topic}/".encode()
            for k, v in self.db.items(from_key=prefix):
                if not k.startswith(prefix):
                    break
                found[(topic, int(k[len(prefix):]))] = msgspec.msgpack.decode(v, type=int)
        return found

    @staticmethod
    def chain_record(topic: str, subject: str, version: int, last_id: str) -> tuple[bytes, bytes]:
        return _chain_key(topic, subject), msgspec.msgpack.encode((version, last_id))

    @staticmethod
    def offset_record(topic: str, partition: int, next_offset: int) -> tuple[bytes, bytes]:
        return _offset_key(topic, partition), msgspec.msgpack.encode(next_offset)

    def close(self) -> None:
        self.rollback()
        self.db.close()


# -- the stream of one topic ----------------------------------------------------------------


class _Feed:
    """One topic's faust stream as ``decoded`` reads it, watched from outside: which record is
    in hand, whether ``decoded`` passed it on (else it dead-lettered it), and when it is done
    (the code after ``yield`` runs once the record's handling is over, i.e. when the next one
    is asked for; faust acknowledges it at that moment too)."""

    def __init__(self, stream: faust.StreamT,
                 on_done: Callable[[Any, bool], Awaitable[None]]):
        self.stream = stream
        self.record: Any = None
        self.delivered = False
        self._on_done = on_done

    async def events(self) -> AsyncIterator[faust.EventT]:
        async for event in self.stream.events():
            self.record, self.delivered = event.message, False
            yield event
            await self._on_done(self.record, self.delivered)


# -- the projections ------------------------------------------------------------------------


class Projections:
    """The read side of one gateway replica: ``start``, ``ready``, then read and wait."""

    def __init__(self, node: str, bootstrap: str | None = None, *,
                 data_dir: Path | None = None, replica: str | None = None):
        self.node = check_node(node)
        self.bootstrap = bootstrap
        self.replica = replica or os.environ.get(REPLICA_ENV) or "1"
        if not _REPLICA.match(self.replica):
            raise ValueError(f"invalid gateway replica id {self.replica!r}: "
                             "1-32 letters, digits, '-' or '_'")
        self.data_dir = Path(data_dir) if data_dir else (
            config.home() / "gateway" / f"{self.node}-{self.replica}")
        self.app_id = gateway_group(self.node, self.replica)
        self.topics: dict[str, str] = {service: events_topic(self.node, service)
                                       for service in SERVICES}
        self.stats: dict[str, int] = {"applied": 0, "duplicates": 0, "dead_lettered": 0,
                                      "skipped": 0}
        self.failure: BaseException | None = None
        self._started = False
        self._store: RocksStore | None = None
        self._app: faust.App | None = None
        self._listeners: set[asyncio.Queue] = set()
        self._tick = asyncio.Event()  # set and replaced when a chain moves (wakes wait_for)
        self._ready = asyncio.Event()
        self._failed = asyncio.Event()
        self._ends: dict[tuple[str, int], int] = {}
        self._done: dict[tuple[str, int], int] = {}  # next offset, per partition

    # -- lifecycle

    async def start(self) -> None:
        """Open the store, note the end offsets of the log, and start following it (once
        per instance: a restart is a new ``Projections`` on the same ``data_dir``)."""
        if self._started:
            raise RuntimeError("projections start once; make a new one to restart")
        self._started = True
        self._store = RocksStore(self.data_dir)
        try:
            self._done = self._store.offsets(self.topics.values())
            self._ends = await self._end_offsets()
            self._check_ready()
            app = make_app(self.app_id, self.bootstrap)
            for service, topic in self.topics.items():
                app.agent(contract_topic(app, topic), name=f"{self.app_id}-{service}",
                          concurrency=1)(self._agent)
            app.on_rebalance_complete.connect(self._on_rebalance_complete)
            self._app = app
            await app.start()
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        app, self._app = self._app, None
        try:
            if app is not None:
                await app.stop()
        finally:
            store, self._store = self._store, None
            if store is not None:
                store.close()

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

    def position(self, topic: str, subject: str) -> int:
        """The last applied sequence of aggregate ``subject`` of events topic ``topic``."""
        return self._require_store().chain(topic, subject)[0]

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

    def listen(self) -> asyncio.Queue:
        """A queue of ``(member ids touched, message)``, one per applied event from now on.
        Bounded: when the listener falls 1,000 behind, the oldest update is dropped."""
        queue: asyncio.Queue = asyncio.Queue(maxsize=LISTENER_QUEUE_SIZE)
        self._listeners.add(queue)
        return queue

    def unlisten(self, queue: asyncio.Queue) -> None:
        self._listeners.discard(queue)

    # -- the agents

    async def _agent(self, stream: faust.StreamT) -> None:
        """One per events topic (concurrency 1). Never lets an exception escape: faust would
        skip the record. A failure of the store or of Kafka stops this replica instead."""
        feed = _Feed(stream, self._done_with)
        try:
            async for message in decoded(self._app, self.node, feed, kind="event"):
                feed.delivered = True
                await self._handle(feed.record, message)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - see _fail
            await self._fail(exc)

    async def _handle(self, record: Any, message: Message) -> None:
        store = self._require_store()
        topic, partition, offset = record.topic, record.partition, record.offset
        position = store.offset_record(topic, partition, offset + 1)
        envelope = message.envelope
        sequence = envelope.sequence
        if sequence is None:  # a CommandRejected: part of the log, no state
            self.stats["skipped"] += 1
            store.commit([position])
            return
        subject = envelope.subject
        version, last_id = store.chain(topic, subject)
        if sequence < version or (sequence == version and envelope.id == last_id):
            self.stats["duplicates"] += 1  # read again after a restart or a rebalance
            store.commit([position])
            return
        if sequence != version + 1 or envelope.previousid != last_id:
            # a gap, or a second writer's event (also one at the current version but with
            # another id): every fold of the log ignores it, so do we, and say so
            await self._dead_letter(record, "off_chain", (
                f"{topic} partition {partition} offset {offset}: sequence {sequence} "
                "does not continue its aggregate's chain"))
            store.commit([position])
            return
        chained = store.chain_record(topic, subject, sequence, envelope.id)
        try:
            touched = project(store, message)
        except Exception as exc:  # noqa: BLE001 - a bug in the projection, for this event
            store.rollback()
            log.warning("projection of %s failed with %s", envelope.type, type(exc).__name__)
            await self._dead_letter(record, "projection_error", type(exc).__name__)
            store.commit([chained, position])
            self._moved()
            return
        store.commit([chained, position])
        self.stats["applied"] += 1
        self._moved()
        self._publish(list(touched), message)

    def _moved(self) -> None:
        """A chain position changed: wake everyone in ``wait_for``."""
        self._tick.set()
        self._tick = asyncio.Event()

    async def _dead_letter(self, record: Any, reason: str, detail: str) -> None:
        letter = letter_for(self.node, source_topic=record.topic, partition=record.partition,
                            offset=record.offset, key=record.key, value=record.value,
                            reason=reason, detail=detail)
        await publish_faust(self._app, letter)  # raises: the record stays unread (see _fail)
        self.stats["dead_lettered"] += 1

    def _publish(self, touched: list[str], message: Message) -> None:
        for queue in list(self._listeners):
            if queue.full():
                try:
                    queue.get_nowait()
                except asyncio.QueueEmpty:  # pragma: no cover - full, then empty: not here
                    pass
            queue.put_nowait((touched, message))

    async def _done_with(self, record: Any, delivered: bool) -> None:
        """After each record of a feed, handled or dead-lettered by ``decoded``."""
        tp, next_offset = (record.topic, record.partition), record.offset + 1
        if not delivered:  # undecodable: ``decoded`` has dead-lettered it
            self.stats["dead_lettered"] += 1
            self._require_store().commit(
                [RocksStore.offset_record(record.topic, record.partition, next_offset)])
        if next_offset > self._done.get(tp, 0):
            self._done[tp] = next_offset
        self._check_ready()

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
        ``hold`` parks the calling agent on its record, so nothing after it is acknowledged."""
        log.error("gateway projections failed: %s", type(exc).__name__, exc_info=exc)
        self.failure = exc
        self._failed.set()
        if self._app is not None:
            await self._app.crash(exc)
        if hold:
            await asyncio.Event().wait()

    # -- helpers

    async def _end_offsets(self) -> dict[tuple[str, int], int]:
        probe = kafka_clients.offsets_probe(self.bootstrap)
        await probe.start()
        try:
            partitions = [tp for topic in self.topics.values()
                          for tp in await kafka_clients.all_partitions(probe, topic)]
            ends = await probe.end_offsets(partitions)
        finally:
            await probe.stop()
        return {(tp.topic, tp.partition): end for tp, end in ends.items()}

    def _check_ready(self) -> None:
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
