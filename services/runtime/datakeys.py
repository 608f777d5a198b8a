"""Personal data protection: one data key per member, wrapped by the node key, kept in Kafka.

Every personal field travels sealed (``schemas.fields.Sealed``): AES-256-GCM under the
member's data key, with the member id and key id as associated data, so a seal cannot be
moved to another member. Data keys live in the compacted topic ``{node}.datakeys``, one
record per key (Kafka key ``<member id>/<key id>``), wrapped with AES key wrap (RFC 3394)
under the node key from configuration; they never sit in the events.

Erasure destroys a member's keys: first an ``<member id>/erased`` marker (kept for good, so
no process creates a key for them again), then a tombstone per key, acknowledged by the
broker, repeated until no key is left. A process that creates a key checks for the marker
again after writing it and destroys its own key if erasure came first. From then on every
copy of their personal fields, in every topic, replay and backup of the events, is noise;
compaction removes the wrapped keys from the topic itself.

``DataKeys`` follows the topic in the background, so a key another process created or
destroyed is seen here too (within the follower's lag, milliseconds on a healthy broker);
``catch_up`` waits until it has read everything written so far. If the follower dies, every
later call fails rather than serve keys that may have been destroyed since.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import secrets
from dataclasses import dataclass

import msgspec
from aiokafka.errors import KafkaError
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.keywrap import aes_key_unwrap, aes_key_wrap

from schemas.fields import Sealed
from schemas.topics import datakeys_topic
from services import config
from services.runtime import kafka_clients
from services.runtime.ids import new_id

log = logging.getLogger(__name__)


class KeyRecord(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The value of a ``{node}.datakeys`` record."""

    member_id: str
    kid: str
    wrapped: bytes
    created: dt.datetime
    alg: str = "A256KW"


class SealBroken(ValueError):
    """A seal that does not open: wrong member, unknown key, or tampered ciphertext."""


class KeysUnavailable(ConnectionError):
    """The key topic is no longer followed: an infrastructure failure, never a verdict."""


class MemberErased(Exception):
    """The member was erased: no data key is made for them again."""


ERASED = "erased"  # the key id of the erasure marker


@dataclass(frozen=True)
class DataKey:
    member_id: str
    kid: str
    key: bytes


def seal(key: DataKey, plaintext: bytes) -> Sealed:
    """Encrypt ``plaintext`` for ``key``'s member (pure)."""
    iv = secrets.token_bytes(12)
    ct = AESGCM(key.key).encrypt(iv, plaintext, _aad(key.member_id, key.kid))
    return Sealed(kid=key.kid, iv=iv, ct=ct)


def unseal(key: DataKey, sealed: Sealed) -> bytes:
    """Decrypt a seal made for ``key`` (pure); ``SealBroken`` if it does not open."""
    if sealed.kid != key.kid or sealed.alg != "A256GCM":
        raise SealBroken("the seal was made with another key")
    try:
        return AESGCM(key.key).decrypt(sealed.iv, sealed.ct, _aad(key.member_id, key.kid))
    except InvalidTag:
        raise SealBroken("the seal does not open with this member's key") from None


def _aad(member_id: str, kid: str) -> bytes:
    return f"{member_id}/{kid}".encode()


class DataKeys:
    """The node's member data keys, followed from ``{node}.datakeys``."""

    def __init__(self, node: str, bootstrap: str | None = None, node_key: bytes | None = None):
        self.node = node
        self.topic = datakeys_topic(node)
        self._bootstrap = bootstrap
        self._kek = node_key or config.node_key(node)
        self._keys: dict[str, dict[str, bytes]] = {}  # member id -> key id -> data key
        self._erased: set[str] = set()
        self._late: list[tuple[str, str]] = []  # keys of erased members, to tombstone
        self._failure: BaseException | None = None
        self._reader = None
        self._probe = None
        self._producer = None
        self._partitions = []
        self._follower: asyncio.Task | None = None
        self._progress = asyncio.Condition()
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        self._reader = kafka_clients.reader(self._bootstrap)
        self._probe = kafka_clients.offsets_probe(self._bootstrap)
        self._producer = kafka_clients.producer(self._bootstrap)
        try:
            await self._probe.start()
            await self._reader.start()
            await self._producer.start()
            self._partitions = await kafka_clients.all_partitions(self._reader, self.topic)
            self._reader.assign(self._partitions)
            await self._reader.seek_to_beginning(*self._partitions)
            self._follower = asyncio.create_task(self._follow(), name=f"datakeys-{self.node}")
            self._follower.add_done_callback(self._follower_ended)
            await self.catch_up()
        except BaseException:
            await self.stop()
            raise

    def _follower_ended(self, task: asyncio.Task) -> None:
        if not task.cancelled() and task.exception() is not None:
            self._failure = task.exception()
            log.error("the data keys follower of %s stopped: %s", self.topic,
                      type(self._failure).__name__)

    def _healthy(self) -> None:
        if self._failure is not None:
            raise KeysUnavailable("data keys are no longer followed") from self._failure

    async def stop(self) -> None:
        if self._follower:
            self._follower.remove_done_callback(self._follower_ended)
            self._follower.cancel()
            await asyncio.gather(self._follower, return_exceptions=True)
        await kafka_clients.close(self._reader, self._probe, self._producer)

    async def __aenter__(self) -> DataKeys:
        await self.start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.stop()

    async def catch_up(self, timeout: float = 30) -> None:
        """Wait until every key record written before this call has been read."""
        ends = await self._probe.end_offsets(self._partitions)

        async def caught_up() -> bool:
            for tp, end in ends.items():
                if await self._reader.position(tp) < end:
                    return False
            return True

        self._healthy()
        async with self._progress:
            deadline = asyncio.get_running_loop().time() + timeout
            while not await caught_up():
                self._healthy()
                remaining = deadline - asyncio.get_running_loop().time()
                if remaining <= 0:
                    raise TimeoutError(f"{self.topic} not read to its end in {timeout} s")
                try:
                    await asyncio.wait_for(self._progress.wait(), timeout=min(remaining, 0.5))
                except TimeoutError:
                    pass

    async def current(self, member_id: str) -> DataKey | None:
        """The member's newest data key, or ``None`` if they have none (or were erased)."""
        self._healthy()
        if member_id in self._erased:
            return None
        keys = self._keys.get(member_id)
        if not keys:
            await self.catch_up()
            keys = self._keys.get(member_id)
        if not keys:
            return None
        kid = max(keys)  # key ids are time-ordered
        return DataKey(member_id, kid, keys[kid])

    async def key(self, member_id: str, kid: str) -> DataKey | None:
        """One of the member's data keys, or ``None`` if it does not (or no longer) exist."""
        self._healthy()
        if member_id in self._erased:
            return None
        if kid not in self._keys.get(member_id, {}):
            await self.catch_up()
        key = self._keys.get(member_id, {}).get(kid)
        return DataKey(member_id, kid, key) if key else None

    async def create(self, member_id: str) -> DataKey:
        """A new data key for the member, acknowledged by the broker before it is used;
        ``MemberErased`` if the member was erased (before or while it was made)."""
        await self.catch_up()
        if member_id in self._erased:
            raise MemberErased(member_id)
        key = DataKey(member_id, new_id(), AESGCM.generate_key(bit_length=256))
        record = KeyRecord(member_id=member_id, kid=key.kid,
                           wrapped=aes_key_wrap(self._kek, key.key),
                           created=dt.datetime.now(dt.UTC))
        await self._write((f"{member_id}/{key.kid}".encode(), msgspec.json.encode(record)))
        self._keys.setdefault(member_id, {})[key.kid] = key.key
        await self.catch_up()
        if member_id in self._erased:  # erasure raced with us: our key must not outlive it
            await self._tombstone(member_id, [key.kid])
            raise MemberErased(member_id)
        return key

    async def seal(self, member_id: str, plaintext: bytes) -> Sealed:
        """Seal ``plaintext`` with the member's key, creating the key on first use."""
        async with self._lock:  # one key per member from this process
            key = await self.current(member_id) or await self.create(member_id)
        return seal(key, plaintext)

    async def open(self, member_id: str, sealed: Sealed) -> bytes | None:
        """The plaintext of a seal, or ``None`` once the member's key is destroyed.

        ``SealBroken`` if the key exists but the seal does not open with it."""
        key = await self.key(member_id, sealed.kid)
        return None if key is None else unseal(key, sealed)

    def gone(self, member_id: str) -> bool:
        """Whether the member's (or owner's) keys are known destroyed: the erasure marker
        seen, and no key of theirs left."""
        return member_id in self._erased and not self._keys.get(member_id)

    async def destroy(self, member_id: str) -> int:
        """Erase: mark the member erased, then tombstone every data key of theirs until none
        is left; returns how many keys were destroyed. Idempotent."""
        async with self._lock:
            await self._write((f"{member_id}/{ERASED}".encode(), b'{"erased":true}'))
            destroyed = 0
            for _ in range(10):
                await self.catch_up()
                kids = sorted(self._keys.get(member_id, {}))
                if not kids:
                    return destroyed
                await self._tombstone(member_id, kids)
                destroyed += len(kids)
            raise RuntimeError("keys kept appearing for an erased member")

    async def _tombstone(self, member_id: str, kids: list[str]) -> None:
        await self._write(*((f"{member_id}/{kid}".encode(), None) for kid in kids))
        keys = self._keys.get(member_id, {})
        for kid in kids:
            keys.pop(kid, None)
        if not keys:
            self._keys.pop(member_id, None)

    async def _write(self, *records: tuple[bytes, bytes | None]) -> None:
        """Write ``(key, value)`` records to the keys topic and wait until they are
        acknowledged. A producer that does not get them acknowledged in time
        (``kafka_clients.landed``), or that failed (aiokafka never repairs its sequence), is
        replaced, and the error raised: the gateway
        keeps its ``DataKeys`` as long as it runs, so one producer that stopped delivering
        must not fail every key it makes from then on."""
        producer = self._producer
        try:
            sent = [await producer.send(self.topic, key=key, value=value)
                    for key, value in records]
            await kafka_clients.landed([(one, 1) for one in sent])
        except (TimeoutError, KafkaError):
            if self._producer is producer:
                try:
                    self._producer = await kafka_clients.started_producer(self._bootstrap)
                except Exception:  # noqa: BLE001 - the brokers are away: the next write tries
                    log.warning("a failed data keys producer could not be replaced yet")
                else:
                    log.warning("data keys were not acknowledged in time, or failed: the "
                                "producer was replaced")
                    await kafka_clients.close(producer)
            raise

    async def _follow(self) -> None:
        while True:
            batches = await self._reader.getmany(timeout_ms=500, max_records=5000)
            for records in batches.values():
                for record in records:
                    self._apply(record)
            late, self._late = self._late, []
            for member_id, kid in late:
                try:
                    await self._write((f"{member_id}/{kid}".encode(), None))
                except Exception:  # noqa: BLE001 - the brokers are away: the next round
                    log.warning("a late data key of an erased member is not tombstoned yet")
                    self._late.append((member_id, kid))
            async with self._progress:
                self._progress.notify_all()

    def _apply(self, record) -> None:
        try:
            member_id, _, kid = (record.key or b"").decode().partition("/")
        except UnicodeDecodeError:
            member_id, kid = "", ""
        if not member_id or not kid:
            log.warning("skipped a record without a <member>/<key> key in %s[%d] at offset %d",
                        record.topic, record.partition, record.offset)
            return
        if kid == ERASED:
            if record.value is not None:
                self._erased.add(member_id)
            return
        if record.value is None:  # tombstone: the key is destroyed
            keys = self._keys.get(member_id, {})
            keys.pop(kid, None)
            if not keys:
                self._keys.pop(member_id, None)
            return
        if member_id in self._erased:  # written before her erasure, delivered after it (a
            # replaced producer's late batch): never used, and tombstoned (``_follow``)
            self._late.append((member_id, kid))
            return
        try:
            stored = msgspec.json.decode(record.value, type=KeyRecord)
            self._keys.setdefault(member_id, {})[kid] = aes_key_unwrap(self._kek, stored.wrapped)
        except Exception:  # noqa: BLE001 - a key we cannot read is skipped, not fatal
            log.warning("unreadable data key record at %s/%s offset %s (wrong node key?)",
                        record.topic, record.partition, record.offset)
