"""The death watcher: at her host node, notifies the insurer of her death once a cooperative
of the node recorded it (her membership ended as ``deceased``), for each of her covers the
insurer issued.

It reads ``{node}.membership.events`` from the start at every start (only the records that
may be a ``MembershipEnded`` are decoded; deaths are few), keeps who died, and learns her
covers from their states, which the command processor shows it after every batch and every
rebuild: a death read before her cover was seen, or before the insurer answered, is notified
when the cover is. For each it sends ``NotifyDeath``: the cover's decider checks again that
the death is recorded (its lookup), that her ``insurance`` consent to the insurer's node is
live (else nothing is sent: ``ConsentNotLive`` ends the errand), and that it was not
notified before (``DeathAlreadyNotified``: done). A death the decider's lookup has not read
yet (``NoRecordedDeath``) is tried again a few seconds later, under a new command id (the
decider refuses a second notice, so a repeat is harmless). The relay carries it as
``OpenClaim``.

Reads ``{node}.membership.events`` and ``{node}.replies``; writes
``{node}.insurance.commands``. Logs cover ids only.
"""

from __future__ import annotations

import asyncio
import logging
import time

from schemas import insurance as i
from schemas import membership as ms
from schemas.topics import events_topic
from services.insurance.domain import Cover
from services.runtime import kafka_clients
from services.runtime.aggregate import Stream
from services.runtime.client import CommandClient
from services.runtime.errands import Errands
from services.runtime.reading import read_log

log = logging.getLogger(__name__)

#: Answers that end the errand: notified (now or before), or not to be notified.
DONE = frozenset({"DeathAlreadyNotified", "ConsentNotLive", "CoverNotIssued", "UnknownCover"})


class DeathWatcher(Errands):
    """Notifies deaths recorded here to the insurers of the dead; ``observe`` is the
    processor's observer."""

    name = "deaths"

    def __init__(self, client: CommandClient, node: str, bootstrap: str | None,
                 retry_every: float = 5.0):
        super().__init__(client, retry_every)
        self.topic = events_topic(node, "membership")
        self.bootstrap = bootstrap
        self._covers: dict[str, set[str]] = {}  # member -> her issued covers, not notified
        self._died: set[str] = set()  # members whose death a cooperative here recorded
        self._todo: set[str] = set()  # covers to notify

    def observe(self, streams: list[Stream]) -> None:
        for stream in streams:
            state, cover_id = stream.state, stream.aggregate_id
            if not isinstance(state, Cover) or state.applied is None:
                continue
            member = state.applied.member_id
            if state.issued is not None and state.death is None:
                self._covers.setdefault(member, set()).add(cover_id)
                if member in self._died:
                    self._todo.add(cover_id)
                    self._dispatch(cover_id)
            else:
                self._todo.discard(cover_id)
                covers = self._covers.get(member)
                if covers is not None:
                    covers.discard(cover_id)
                    if not covers:
                        del self._covers[member]

    def _died_now(self, member: str) -> None:
        self._died.add(member)
        for cover_id in self._covers.get(member, ()):
            self._todo.add(cover_id)
            self._dispatch(cover_id)

    def _dispatch(self, cover_id: str) -> None:
        if cover_id in self._running or cover_id not in self._todo:
            return
        self._run(cover_id, self._notify(cover_id), cover_id)

    async def _notify(self, cover_id: str) -> None:
        try:
            reply = await self.client.send(i.NotifyDeath(cover_id=cover_id), cover_id)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - the sweep tries again; nothing is lost
            log.warning("deaths: cover %s not notified yet: %s", cover_id, type(exc).__name__)
            return
        if reply.accepted or reply.code in DONE:
            self._todo.discard(cover_id)
            log.info("deaths: cover %s %s", cover_id,
                     "notified" if reply.accepted else f"not notified ({reply.code})")

    async def _sweep(self) -> None:
        """Read the membership events as they come; what is left to notify is tried again
        every ``retry_every`` seconds. A reader that fails (the broker away, the topic not
        made yet) starts again from the beginning a moment later."""
        while True:
            try:
                await self._watch()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - read again from the start
                log.warning("deaths: reading %s failed (%s); starting again", self.topic,
                            type(exc).__name__)
                await asyncio.sleep(self.retry_every)

    async def _watch(self) -> None:
        reader = kafka_clients.reader(self.bootstrap)
        await reader.start()
        try:
            reader.assign(await kafka_clients.all_partitions(reader, self.topic))
            last = time.monotonic()
            while True:
                batches = await reader.getmany(timeout_ms=500, max_records=5000)
                for records in batches.values():
                    for record in records:
                        self._read(record)
                if time.monotonic() - last >= self.retry_every:
                    last = time.monotonic()
                    for cover_id in list(self._todo):
                        self._dispatch(cover_id)
        finally:
            await reader.stop()

    def _read(self, record) -> None:
        if record.value is None or b"MembershipEnded" not in record.value:
            return  # not a membership's end: not decoded
        message = read_log(record)
        if message is None:
            return
        ended = message.payload
        if isinstance(ended, ms.MembershipEnded) and ended.reason is ms.EndReason.DECEASED:
            self._died_now(ended.member_id)
