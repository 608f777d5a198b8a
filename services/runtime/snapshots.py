"""Snapshots of a command processor's partitions, kept in Kafka: a processor that takes a
partition over starts from its newest snapshot and folds only the events after it.

Reads and writes ``{node}.{service}.snapshots`` (compacted, as many partitions as the events
topic: the snapshot of events partition ``p`` lives in its partition ``p``), and reads one
record of the events topic to check what a snapshot claims.

A snapshot is a ``PartitionLog`` at one offset of its events partition (``covers``: every
event before it): each stream's state and chain head, and the outcome index. It is written
as chunks (each under ``CHUNK_BYTES``: one aggregate type's streams, or outcomes) keyed
``{partition}/{snapshot id}/{index}``, then, once every chunk is acknowledged, a
``Manifest`` keyed ``{partition}/manifest/{slot}``: a snapshot without its manifest does not
exist, so a half-written one is never used. Two slots alternate, so the newest snapshot and
the one before it are kept; the chunks of the one a new manifest replaces are then deleted
(tombstones), and a takeover deletes the chunks no manifest names (a writer that died).

Serialised with msgspec's MessagePack, never pickle: a record of the topic is data, decoded
into the declared type of each aggregate's state (``type(aggregate.initial())``), so a
record can only ever become such a state (money stays ``int``). A snapshot is ignored, the
reason logged (no personal data: ids of snapshots, offsets, counts), and an older one or the
events from offset 0 used instead, when its manifest or a chunk does not decode, a chunk is
missing or not the one the manifest's digest names, it is of another service, events topic,
partition, format or layout of the states (``layout``: a fingerprint of the state types and
of each aggregate's ``fold_version``, so a changed state type, or a fold that changed what
it makes of the events, is never fed a state an older fold made: after such an upgrade a
partition is folded from offset 0 once, then snapshotted anew; ``tests/unit/
test_fold_versions.py`` fails on a changed ``evolve`` until its version is raised), it
covers more than the events partition
holds, or the event it says it ends on is not the one at that offset (topics remade).

When (``CommandProcessor``): every ``COOPBRIDGE_SNAPSHOT_EVERY`` events of a partition, and
on a clean revocation or stop. The processor stops for the ``PartitionLog.cut`` only (copies
of two maps), then the chunks are encoded and sent while commands go on.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import hashlib
import logging
from collections.abc import Iterator

import msgspec
from aiokafka import TopicPartition

from schemas.runtime import Error, EventRef
from schemas.topics import events_topic, snapshots_topic
from services.runtime import kafka_clients
from services.runtime.aggregate import Chain, ServiceDefinition, Stream
from services.runtime.ids import new_id
from services.runtime.log import Cut, Outcome, PartitionLog

log = logging.getLogger(__name__)

#: The layout of the records; a snapshot of another format is ignored.
FORMAT = 2  # 2: the manifest says whether its log forgets outcomes
#: Chunks hold at most this many bytes of items (the broker takes 1 MiB records by default);
#: one item larger goes alone.
CHUNK_BYTES = 512 * 1024
#: Snapshots kept per partition: the newest, and one to fall back on.
SLOTS = 2

_OUTCOME = tuple[str, dt.datetime, str, list[EventRef], Error | None]


class Manifest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """What a snapshot is and where its chunks are; written last."""

    format: int
    service: str
    topic: str  # the events topic it covers
    partition: int
    layout: str  # fingerprint of the state types it holds
    snapshot: str  # its id, in its chunks' keys
    slot: int
    covers: int  # every event before this offset is in it
    last_event: str | None  # the id of the record at covers - 1
    chunks: list[str]  # the digest of each chunk's record, in order
    streams: int
    outcomes: int
    newest: dt.datetime | None  # the log's clock
    written: dt.datetime
    forgets: bool  # whether its log forgot outcomes older than the week (PartitionLog.forget)


class _Names(msgspec.Struct, frozen=True):
    """What any manifest, of any format, says of its chunks (unknown fields ignored): what a
    takeover keeps of another version's snapshot instead of sweeping it as orphans."""

    snapshot: str
    chunks: list[str]


class Chunk(msgspec.Struct, frozen=True, forbid_unknown_fields=True, array_like=True):
    """Part of a snapshot: the streams of one aggregate type (``aggregate``), or outcomes
    (``aggregate == ""``), as a MessagePack array of entries in ``body``."""

    snapshot: str
    index: int
    aggregate: str
    body: bytes


class _Id(msgspec.Struct):
    id: str


class Unusable(Exception):
    """Why a snapshot is not used (the message is logged: no personal data)."""


def chunk_key(partition: int, snapshot: str, index: int) -> bytes:
    return f"{partition}/{snapshot}/{index}".encode()


def manifest_key(partition: int, slot: int) -> bytes:
    return f"{partition}/manifest/{slot}".encode()


def digest(value: bytes) -> str:
    return hashlib.blake2b(value, digest_size=16).hexdigest()


def _array(items: list[bytes]) -> bytes:
    """A MessagePack array of already-encoded items."""
    n = len(items)
    head = (bytes([0x90 | n]) if n < 16 else
            b"\xdc" + n.to_bytes(2, "big") if n < 1 << 16 else b"\xdd" + n.to_bytes(4, "big"))
    return head + b"".join(items)


def _packed(items: Iterator[bytes], limit: int) -> Iterator[list[bytes]]:
    """``items`` in runs of at most ``limit`` bytes, in order: a run is closed before the item
    that would take it over (an item larger than ``limit`` goes alone)."""
    run: list[bytes] = []
    size = 0
    for item in items:
        if run and size + len(item) > limit:
            yield run
            run, size = [], 0
        run.append(item)
        size += len(item)
    if run:
        yield run


class Codec:
    """Encodes a cut of one service's partition log into records, and decodes them back
    into the declared types (pure: no Kafka)."""

    def __init__(self, service: ServiceDefinition, node: str):
        self.service = service
        self.topic = events_topic(node, service.name)
        self.aggregates = {aggregate.name: aggregate for aggregate in service.aggregates}
        states = {name: type(aggregate.initial()) for name, aggregate in self.aggregates.items()}
        self._streams = {name: msgspec.msgpack.Decoder(list[tuple[str, int, str | None, state]])
                         for name, state in states.items()}
        self._outcomes = msgspec.msgpack.Decoder(list[_OUTCOME])
        self._encoder = msgspec.msgpack.Encoder()
        shapes = repr([(name, msgspec.inspect.type_info(state))
                       for name, state in sorted(states.items())]
                      + [msgspec.inspect.type_info(_OUTCOME)])
        folds = sorted((a.name, a.fold_version) for a in service.aggregates)
        self.layout = digest(f"{FORMAT}|{service.name}|{shapes}|{folds}".encode())

    # -- writing

    def chunks(self, cut: Cut, snapshot: str, chunk_bytes: int = CHUNK_BYTES
               ) -> Iterator[bytes]:
        """The chunk records of ``cut``; the cut is released once its streams are read."""
        index = 0
        encode = self._encoder.encode
        by_type: dict[str, list] = {name: [] for name in self.aggregates}
        for key, stream in cut.streams.items():
            by_type[key[0]].append((key, stream))

        def stream_item(key, stream) -> bytes:
            state, version, last_id = cut.frozen(key, stream)
            return encode((stream.aggregate_id, version, last_id, state))

        for name, streams in by_type.items():
            for items in _packed((stream_item(key, stream) for key, stream in streams),
                                 chunk_bytes):
                yield self._chunk(snapshot, index, name, items)
                index += 1
        cut.log.release(cut)
        for items in _packed((encode((command_id, outcome.time, outcome.aggregate_id,
                                      outcome.events, outcome.error))
                              for command_id, outcome in cut.outcomes.items()), chunk_bytes):
            yield self._chunk(snapshot, index, "", items)
            index += 1

    def _chunk(self, snapshot: str, index: int, aggregate: str, items: list[bytes]) -> bytes:
        return self._encoder.encode(Chunk(snapshot, index, aggregate, _array(items)))

    def manifest(self, cut: Cut, partition: int, snapshot: str, slot: int,
                 last_event: str | None, digests: list[str], now: dt.datetime) -> bytes:
        return self._encoder.encode(Manifest(
            format=FORMAT, service=self.service.name, topic=self.topic, partition=partition,
            layout=self.layout, snapshot=snapshot, slot=slot, covers=cut.covers,
            last_event=last_event, chunks=digests, streams=len(cut.streams),
            outcomes=len(cut.outcomes), newest=cut.newest, written=now,
            forgets=cut.log.forget))

    # -- reading

    def read_manifest(self, value: bytes, partition: int) -> Manifest:
        """The manifest in ``value``, if it is one of this service's partition, format and
        layout; ``Unusable`` otherwise."""
        try:
            manifest = msgspec.msgpack.decode(value, type=Manifest)
        except msgspec.DecodeError as bad:
            raise Unusable(f"its manifest does not decode ({type(bad).__name__})") from None
        for name, found, expected in (("format", manifest.format, FORMAT),
                                      ("service", manifest.service, self.service.name),
                                      ("events topic", manifest.topic, self.topic),
                                      ("partition", manifest.partition, partition),
                                      ("layout of the states", manifest.layout, self.layout)):
            if found != expected:
                raise Unusable(f"it is of another {name}")
        return manifest

    def log_of(self, manifest: Manifest, chunks: list[bytes | None],
               forget: bool = True) -> PartitionLog:
        """The partition log a snapshot holds, from its manifest and chunk records (in
        order), for a processor that forgets outcomes after the week or not (``forget``);
        ``Unusable`` if any is missing, altered or undecodable."""
        if len(chunks) != len(manifest.chunks):
            raise Unusable("it has another number of chunks than its manifest")
        partition_log = PartitionLog(self.service, forget=forget)
        if manifest.forgets and not partition_log.forget:  # its outcomes are not all there
            raise Unusable("its log forgot old outcomes, which this processor keeps "
                           "(COOPBRIDGE_FORGET_OUTCOMES=0): the events from offset 0 have them")
        streams, outcomes = partition_log.streams, partition_log.outcomes
        for index, (value, expected) in enumerate(zip(chunks, manifest.chunks, strict=True)):
            if value is None:
                raise Unusable(f"chunk {index} is missing")
            if digest(value) != expected:
                raise Unusable(f"chunk {index} is not the one its manifest names")
            try:
                chunk = msgspec.msgpack.decode(value, type=Chunk)
                if chunk.snapshot != manifest.snapshot or chunk.index != index:
                    raise Unusable(f"chunk {index} belongs elsewhere")
                if chunk.aggregate:
                    aggregate = self.aggregates.get(chunk.aggregate)
                    if aggregate is None:
                        raise Unusable(f"chunk {index} is of an unknown aggregate type")
                    for aggregate_id, version, last_id, state in \
                            self._streams[chunk.aggregate].decode(chunk.body):
                        streams[(aggregate.name, aggregate_id)] = Stream(
                            aggregate, aggregate_id, state, Chain(version, last_id))
                else:
                    for command_id, time, aggregate_id, events, error in \
                            self._outcomes.decode(chunk.body):
                        outcomes[command_id] = Outcome(time, aggregate_id, events, error)
            except (msgspec.DecodeError, TypeError, ValueError) as bad:
                raise Unusable(f"chunk {index} does not decode ({type(bad).__name__})") from None
        if len(streams) != manifest.streams or len(outcomes) != manifest.outcomes:
            raise Unusable("it holds other counts than its manifest says")
        partition_log.next_offset = manifest.covers
        partition_log.newest = manifest.newest  # its outcomes are the live log's at the cut,
        # pruned as the live log pruned them: nothing is pruned here (``PartitionLog.record``
        # prunes when the clock enters the next hour, as the live log will)
        return partition_log


@dataclasses.dataclass
class _Found:
    """What a read of a snapshots partition found."""

    manifests: list[Manifest]  # usable ones, newest first
    chunks: dict[bytes, bytes]  # every chunk record still there, by key
    named: set[bytes]  # the keys of the chunks that some manifest (of any version) names


class Snapshots:
    """One service's snapshots: restores a partition's log from the newest usable one, and
    writes new ones. A companion of the processor (started before it, stopped after)."""

    def __init__(self, service: ServiceDefinition, node: str, bootstrap: str, every: int,
                 forget: bool = True):
        self.codec = Codec(service, node)
        self.forget = forget  # whether the processor's logs forget outcomes after the week
        self.topic = snapshots_topic(node, service.name)
        self.bootstrap = bootstrap
        self.every = every  # events of a partition between two snapshots; 0: none
        #: the snapshots known of each partition, newest first (at most SLOTS)
        self.known: dict[int, list[Manifest]] = {}
        self.written = 0  # snapshots written by this instance
        self.enabled = every > 0
        self._producer = None

    async def start(self) -> None:
        if not self.enabled:
            return
        reader = kafka_clients.reader(self.bootstrap)
        await reader.start()
        try:
            events = len(await kafka_clients.all_partitions(reader, self.codec.topic))
            snapshots = len(await kafka_clients.all_partitions(reader, self.topic))
        except RuntimeError:
            snapshots, events = 0, -1
        finally:
            await reader.stop()
        if snapshots != events:
            log.warning("%s is missing or not partitioned as %s (run `coopbridge topics`): "
                        "partitions are taken over from offset 0 and no snapshot is written",
                        self.topic, self.codec.topic)
            self.enabled = False
            return
        self._producer = kafka_clients.producer(self.bootstrap, linger_ms=5)
        await self._producer.start()

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    def covered(self, partition: int) -> int:
        """The events offset the newest known snapshot of ``partition`` covers (0: none)."""
        known = self.known.get(partition)
        return known[0].covers if known else 0

    # -- takeover

    async def restore(self, partition: int) -> PartitionLog | None:
        """The log of ``partition`` from its newest usable snapshot, checked against the
        events partition; ``None`` when there is none (fold from offset 0)."""
        if not self.enabled:
            return None
        log.info("taking %s[%d] over: reading its snapshots", self.codec.topic, partition)
        snapshots_tp = TopicPartition(self.topic, partition)
        events_tp = TopicPartition(self.codec.topic, partition)
        reader = kafka_clients.reader(self.bootstrap)
        await reader.start()
        try:
            # before any fetch is in flight: aiokafka answers only after it
            ends = await reader.end_offsets([snapshots_tp, events_tp])
            found = await self._read(reader, snapshots_tp, ends[snapshots_tp])
            events_end = ends[events_tp]
            for manifest in found.manifests:
                try:
                    if manifest.covers > events_end:
                        raise Unusable(f"it covers {manifest.covers} events, the partition "
                                       f"holds {events_end}")
                    if manifest.last_event != await _id_at(reader, events_tp, manifest.covers,
                                                           events_end):
                        raise Unusable("the event it ends on is not in the events partition")
                    partition_log = self.codec.log_of(manifest, forget=self.forget, chunks=[
                        found.chunks.get(chunk_key(partition, manifest.snapshot, index))
                        for index in range(len(manifest.chunks))])
                except Unusable as why:
                    log.warning("snapshot %s of %s[%d] ignored: %s", manifest.snapshot,
                                self.codec.topic, partition, why)
                    continue
                self.known[partition] = [m for m in found.manifests
                                         if m.covers <= manifest.covers][:SLOTS]
                await self._forget_orphans(partition, found)
                return partition_log
            self.known[partition] = []
            await self._forget_orphans(partition, found)
            return None
        finally:
            await reader.stop()

    async def _read(self, reader, tp: TopicPartition, end: int) -> _Found:
        """Every manifest and chunk left in a snapshots partition (up to ``end``)."""
        reader.assign([tp])
        await reader.seek_to_beginning(tp)
        manifests: dict[bytes, bytes] = {}
        chunks: dict[bytes, bytes] = {}
        while await reader.position(tp) < end:
            batches = await reader.getmany(tp, timeout_ms=500, max_records=100)
            for record in batches.get(tp, ()):
                kept = manifests if b"/manifest/" in (record.key or b"") else chunks
                if record.value is None:
                    kept.pop(record.key, None)
                else:
                    kept[record.key] = record.value
        usable, named = [], set()
        for key, value in manifests.items():
            try:
                usable.append(self.codec.read_manifest(value, tp.partition))
            except Unusable as why:
                log.warning("a snapshot manifest of %s[%d] (%s) ignored: %s", self.codec.topic,
                            tp.partition, key.decode(errors="replace"), why)
            try:  # another version's snapshot stays whole for that version
                other = msgspec.msgpack.decode(value, type=_Names)
                named.update(chunk_key(tp.partition, other.snapshot, index)
                             for index in range(len(other.chunks)))
            except (msgspec.DecodeError, TypeError):
                pass
        usable.sort(key=lambda m: (m.covers, m.written), reverse=True)
        return _Found(usable, chunks, named)

    async def _forget_orphans(self, partition: int, found: _Found) -> None:
        """Delete the chunks no manifest names (a writer died before its manifest)."""
        orphans = [key for key in found.chunks if key not in found.named]
        if orphans and self._producer is not None:
            await asyncio.gather(*[await self._producer.send(
                self.topic, key=key, value=None, partition=partition) for key in orphans])

    # -- writing

    async def write(self, partition: int, cut: Cut) -> Manifest:
        """Write ``cut`` as the newest snapshot of ``partition``: chunks, then the manifest,
        then tombstones for the snapshot it replaces. Releases the cut."""
        log.info("writing a snapshot of %s[%d] at offset %d", self.codec.topic, partition,
                 cut.covers)
        try:
            snapshot = new_id()
            known = self.known.get(partition, [])
            slot = 1 - known[0].slot if known else 0
            last_event = await self._last_event(partition, cut.covers)
            sends, digests = [], []
            for value in self.codec.chunks(cut, snapshot):
                digests.append(digest(value))
                sends.append(await self._producer.send(
                    self.topic, key=chunk_key(partition, snapshot, len(digests) - 1),
                    value=value, partition=partition))
                await asyncio.sleep(0)  # commands go on between chunks
            await asyncio.gather(*sends)
        finally:
            cut.log.release(cut)
        value = self.codec.manifest(cut, partition, snapshot, slot, last_event, digests,
                                    dt.datetime.now(dt.UTC))
        await (await self._producer.send(self.topic, key=manifest_key(partition, slot),
                                         value=value, partition=partition))
        manifest = msgspec.msgpack.decode(value, type=Manifest)
        replaced = [m for m in known if m.slot == slot]
        self.known[partition] = [manifest, *(m for m in known if m.slot != slot)]
        for old in replaced:
            await asyncio.gather(*[await self._producer.send(
                self.topic, key=chunk_key(partition, old.snapshot, index), value=None,
                partition=partition) for index in range(len(old.chunks))])
        self.written += 1
        return manifest

    async def _last_event(self, partition: int, covers: int) -> str | None:
        reader = kafka_clients.reader(self.bootstrap)
        await reader.start()
        tp = TopicPartition(self.codec.topic, partition)
        try:
            return await _id_at(reader, tp, covers, (await reader.end_offsets([tp]))[tp])
        finally:
            await reader.stop()


async def _id_at(reader, tp: TopicPartition, covers: int, end: int) -> str | None:
    """The envelope id of the record at ``covers - 1`` of ``tp`` (None before the first, or
    past ``end``, the partition's end offset)."""
    if covers == 0 or end < covers:
        return None
    reader.assign([tp])
    reader.seek(tp, covers - 1)
    while await reader.position(tp) < covers:
        batches = await reader.getmany(tp, timeout_ms=500, max_records=1)
        for record in batches.get(tp, ()):
            if record.offset == covers - 1:
                try:
                    return msgspec.json.decode(record.value, type=_Id).id
                except msgspec.DecodeError:
                    return None
    return None
