"""Sending commands and waiting for their replies: what the gateway, the CLI and tests use.

``CommandClient`` produces a command to ``{node}.{service}.commands`` keyed by its aggregate id
(the field its contract declares as its key, ``REGISTRY.key_of``: so every command of one
aggregate reaches the same single writer) and waits for the reply on
``{node}.replies``, which it follows from the moment it starts. It follows one partition of
it, drawn at random when it starts, and names that partition in every command it sends
(``REPLY_PARTITION_HEADER``): the processor answers there, so a client reads its own replies
and those of the few clients that drew the same partition, not every reply of the node. The
command id is the caller's idempotency key when given: sending the same id again returns the
same reply (the same bytes), on the partition the sender of that retry reads.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import random
from collections import defaultdict, deque
from dataclasses import dataclass

from aiokafka.errors import KafkaError

from schemas import REGISTRY, ContractError
from schemas.envelope import source_for
from schemas.registry import Contract
from schemas.runtime import CommandReply
from schemas.topics import REPLY_PARTITION_HEADER, commands_topic, replies_topic
from services.runtime import clock, kafka_clients
from services.runtime.ids import new_id

log = logging.getLogger("coopbridge.client")


@dataclass(frozen=True)
class Reply:
    """A reply as received: the decoded payload and the exact bytes."""

    payload: CommandReply
    raw: bytes

    @property
    def accepted(self) -> bool:
        return self.payload.accepted

    @property
    def code(self) -> str | None:
        return self.payload.error.code if self.payload.error else None


def command_bytes(command: Contract, aggregate_id: str, command_id: str, source: str,
                  correlation_id: str | None = None, time: dt.datetime | None = None,
                  replay_of: str | None = None, actor: str | None = None) -> bytes:
    """The bytes of a command from ``source`` as it travels: keyed (``partitionkey``) by its
    aggregate id, whose id is also its subject, except on a replay request, whose subject is
    its own id."""
    return REGISTRY.encode(
        command, id=command_id, source=source,
        subject=command_id if replay_of else aggregate_id, partitionkey=aggregate_id,
        time=time or clock.now(), correlationid=correlation_id or command_id,
        replayof=replay_of, actor=actor)


#: How long a command may wait for the brokers' acknowledgement before its producer is
#: taken for stuck and replaced (a broker failover takes seconds; aiokafka's idempotent
#: producer retries for ever, and after a whole cluster was stopped and started one was seen
#: never to deliver again).
STUCK_AFTER_S = 30.0


class Unacknowledged:
    """The produce acknowledgements a client still waits for, with when each was asked and
    by which producer; an entry goes when its acknowledgement comes (or fails)."""

    def __init__(self) -> None:
        self._since: dict[asyncio.Future, tuple[float, object]] = {}

    def watch(self, acknowledgement: asyncio.Future, producer: object) -> None:
        self._since[acknowledgement] = (asyncio.get_running_loop().time(), producer)
        acknowledgement.add_done_callback(lambda done: self._since.pop(done, None))

    def stuck(self, now: float, after_s: float, current: object) -> object | None:
        """``current``, if it owes an acknowledgement older than ``after_s`` (None: it does
        not). What a producer replaced already owes is not looked at: it must not hide the
        one in use."""
        for asked, producer in self._since.values():
            if producer is current and now - asked > after_s:
                return producer
        return None

    def forget(self, producer: object) -> None:
        for acknowledgement, (_, of) in list(self._since.items()):
            if of is producer:
                self._since.pop(acknowledgement, None)


class CommandClient:
    """Send commands to a node's services and wait for their replies."""

    def __init__(self, node: str, bootstrap: str | None = None, source: str = "client"):
        self.node = node
        self._bootstrap = bootstrap
        self._source = source_for(node, source)
        self._waiting: dict[str, deque[asyncio.Future]] = defaultdict(deque)
        self._follower: asyncio.Task | None = None
        self._watchdog: asyncio.Task | None = None
        self._unacknowledged = Unacknowledged()
        self._renewing = asyncio.Lock()
        self._closing: set[asyncio.Task] = set()  # replaced producers being closed
        #: the partition of ``{node}.replies`` this client reads, drawn at ``start``
        self.reply_partition: int | None = None

    async def start(self) -> None:
        self._producer = kafka_clients.producer(self._bootstrap)
        self._replies = kafka_clients.reader(self._bootstrap, auto_offset_reset="latest")
        await self._producer.start()
        await self._replies.start()
        partitions = await kafka_clients.all_partitions(self._replies, replies_topic(self.node))
        mine = random.choice(partitions)  # drawn: clients share one by chance (fewer, the
        # more partitions the topic has)
        self.reply_partition = mine.partition
        self._replies.assign([mine])
        await self._replies.seek_to_end(mine)
        await self._replies.position(mine)  # fixed now: replies from here on are ours to see
        self._follower = asyncio.create_task(self._follow(), name=f"replies-{self.node}")
        self._watchdog = asyncio.create_task(self._watch(), name=f"producer-{self.node}")

    async def _watch(self, every_s: float = 1.0) -> None:
        """Replace the producer once a command it took has gone unacknowledged for
        ``STUCK_AFTER_S``, whether or not its sender still waits (a caller that gave up
        first must not hide a producer that will never deliver)."""
        while True:
            await asyncio.sleep(every_s)
            stuck = self._unacknowledged.stuck(asyncio.get_running_loop().time(),
                                               STUCK_AFTER_S, self._producer)
            if stuck is None:
                continue
            try:
                await self._renew(stuck)
            except Exception:  # noqa: BLE001 - the brokers are still away: try next tick
                log.warning("a stuck producer could not be replaced yet: the brokers do not "
                            "answer; trying again")

    async def _renew_now(self, broken) -> None:
        """Replace a producer that failed for good, for the next send (the failed one is
        the caller's to answer: not sent, send it again)."""
        try:
            await self._renew(broken)
        except Exception:  # noqa: BLE001 - the brokers are away: the next send tries again
            log.warning("a failed producer could not be replaced yet: the brokers do not "
                        "answer")

    async def _renew(self, stuck) -> None:
        """Replace a producer that did not get a command acknowledged in time. A command it
        took counts as not sent (a retry under its idempotency key is safe); the next goes
        through a new one."""
        async with self._renewing:  # one at a time: several sends may fail together
            if self._producer is not stuck:
                return  # another send renewed it already
            fresh = await kafka_clients.started_producer(self._bootstrap)
            self._producer = fresh
        self._unacknowledged.forget(stuck)
        log.warning("commands were not acknowledged in time, or failed: the producer was "
                    "replaced")
        closing = asyncio.create_task(kafka_clients.close(stuck))  # not on the caller's time
        self._closing.add(closing)
        closing.add_done_callback(self._closing.discard)

    async def stop(self) -> None:
        if self._watchdog:
            self._watchdog.cancel()
            await asyncio.gather(self._watchdog, return_exceptions=True)
        if self._follower:
            self._follower.cancel()
            await asyncio.gather(self._follower, return_exceptions=True)
        await kafka_clients.close(self._replies, self._producer)
        await asyncio.gather(*self._closing, return_exceptions=True)

    async def __aenter__(self) -> CommandClient:
        await self.start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.stop()

    def encode(self, command: Contract, aggregate_id: str, command_id: str,
               correlation_id: str | None = None, time: dt.datetime | None = None,
               replay_of: str | None = None, actor: str | None = None) -> bytes:
        """The bytes of a command as it travels (a replay request's subject is its own id)."""
        return command_bytes(command, aggregate_id, command_id, self._source, correlation_id,
                             time, replay_of, actor)

    async def send(self, command: Contract, aggregate_id: str | None = None, *,
                   command_id: str | None = None, correlation_id: str | None = None,
                   timeout: float = 30, replay_of: str | None = None,
                   time: dt.datetime | None = None, actor: str | None = None) -> Reply:
        """Send ``command`` for ``aggregate_id`` (by default the one its key names) and wait
        for its reply. ``replay_of``: this is a replay request (its id is ``command_id``) for
        the logged answer of the command with that id; the reply speaks of that command, or
        of the request itself with ``NotDone`` when the log holds no such command for
        ``aggregate_id``. It is never decided. ``time``: the command's (default now): a retry
        of a command that was decided is sent with the time it was decided at
        (``gateway.decided``). ``actor``: who sends it (``schemas.envelope``), copied onto
        the event it leads to."""
        command_id = command_id or new_id()
        aggregate_id = aggregate_id or REGISTRY.key_of(command)
        raw = self.encode(command, aggregate_id, command_id, correlation_id, time,
                          replay_of=replay_of, actor=actor)
        return await self.send_raw(command.contract_service, aggregate_id, command_id, raw,
                                   timeout=timeout)

    async def send_raw(self, service: str, aggregate_id: str, command_id: str, raw: bytes,
                       *, timeout: float = 30) -> Reply:
        """Send already-encoded command bytes and wait for the reply to ``command_id``."""
        if self._follower is None or self._follower.done():
            raise RuntimeError("the client is not following replies") from (
                self._follower.exception() if self._follower and not self._follower.cancelled()
                else None)
        waiter = asyncio.get_running_loop().create_future()
        self._waiting[command_id].append(waiter)
        producer = self._producer
        try:
            try:
                acknowledged = await producer.send(
                    commands_topic(self.node, service), value=raw, key=aggregate_id.encode(),
                    headers=[(REPLY_PARTITION_HEADER, str(self.reply_partition).encode())])
                self._unacknowledged.watch(acknowledged, producer)
                await asyncio.wait_for(asyncio.shield(acknowledged), timeout)
            except KafkaError:  # aiokafka never repairs a producer's sequence after a
                # failed batch (OutOfOrderSequenceNumber was seen after a whole cluster was
                # down a minute): the next command goes through a new producer
                await self._renew_now(producer)
                raise
            return await asyncio.wait_for(waiter, timeout)
        finally:
            queue = self._waiting.get(command_id)
            if queue is not None and waiter in queue:
                queue.remove(waiter)
            if queue is not None and not queue:
                self._waiting.pop(command_id, None)

    async def _follow(self) -> None:
        while True:
            batches = await self._replies.getmany(timeout_ms=500, max_records=1000)
            for records in batches.values():
                for record in records:
                    self._deliver(record)

    def _deliver(self, record) -> None:
        command_id = (record.key or b"").decode(errors="replace")
        queue = self._waiting.get(command_id)
        while queue and queue[0].done():  # a waiter that gave up (timeout, cancel)
            queue.popleft()
        if not queue:
            return
        try:
            payload = REGISTRY.decode(record.value, kind="reply").payload
        except ContractError as error:
            queue.popleft().set_exception(error)
            return
        queue.popleft().set_result(Reply(payload, record.value))
