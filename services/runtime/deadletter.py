"""Dead letters: a message nobody can read goes to ``{node}.deadletter``, and the stream goes on.

The dead letter keeps the original key and value byte for byte (so it can be inspected or
re-published once the reader is fixed) and says why in headers, in the manner of Kafka
Connect's dead-letter queues::

    coop.dlq.reason     a stable code (``invalid_json``, ``unknown_type``, ``sequence_gap`` …)
    coop.dlq.detail     what exactly was wrong (never the values: they may be personal data)
    coop.dlq.topic      where the message was read
    coop.dlq.partition
    coop.dlq.offset
    coop.dlq.time       when it was dead-lettered (UTC, ISO 8601)
    coop.dlq.truncated  only on a value over ``MAX_VALUE`` bytes: its original length

A value over ``MAX_VALUE`` (a ``too_large`` message, which got in compressed) cannot be
written back whole: the producers' and the broker's limits are about 1 MiB as well, and a
letter that cannot be written would stop its consumer on that record for good. Its letter
keeps the first ``MAX_VALUE`` bytes and says so; the whole record stays where
``coop.dlq.topic``/``partition``/``offset`` point.

``letter_for`` builds the record (pure). ``publish`` (aiokafka) and ``publish_faust`` (a
faust app's producer) send it and wait for the broker's acknowledgement, so a consumer commits past the bad message only once its letter is safe.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from schemas.topics import deadletter_topic
from services.runtime import kafka_clients

PREFIX = "coop.dlq."
MAX_DETAIL = 500
#: The most of a value a letter keeps: with key, headers and batch overhead it stays under
#: the producers' ``max_request_size`` and the broker's ``max.message.bytes`` (1 MiB).
MAX_VALUE = 960 * 1024


@dataclass(frozen=True)
class DeadLetter:
    """One record for the dead-letter topic, and what it says about the original message."""

    topic: str
    key: bytes | None
    value: bytes
    reason: str
    detail: str
    source_topic: str
    partition: int
    offset: int
    time: dt.datetime
    truncated: int | None = None  # the original length, when only the start is kept

    @property
    def headers(self) -> list[tuple[str, bytes]]:
        fields = {
            "reason": self.reason,
            "detail": self.detail,
            "topic": self.source_topic,
            "partition": str(self.partition),
            "offset": str(self.offset),
            "time": self.time.isoformat(),
        }
        if self.truncated is not None:
            fields["truncated"] = str(self.truncated)
        return [(PREFIX + name, value.encode()) for name, value in fields.items()]


def letter_for(
    node: str,
    *,
    source_topic: str,
    partition: int,
    offset: int,
    key: bytes | None,
    value: bytes | None,
    reason: str,
    detail: str,
    now: dt.datetime | None = None,
) -> DeadLetter:
    """The dead letter for one unreadable record of ``source_topic``."""
    value = value if value is not None else b""
    truncated = len(value) if len(value) > MAX_VALUE else None
    return DeadLetter(
        topic=deadletter_topic(node),
        key=key,
        value=bytes(value[:MAX_VALUE]),
        reason=reason,
        detail=detail[:MAX_DETAIL],
        source_topic=source_topic,
        partition=partition,
        offset=offset,
        time=now or dt.datetime.now(dt.UTC),
        truncated=truncated,
    )


def read_letter(
    topic: str, key: bytes | None, value: bytes, headers: Iterable[tuple[str, bytes]]
) -> DeadLetter:
    """Parse a record read back from a dead-letter topic."""
    found = {k[len(PREFIX):]: v.decode() for k, v in headers if k.startswith(PREFIX)}
    return DeadLetter(
        topic=topic,
        key=key,
        value=value,
        reason=found["reason"],
        detail=found.get("detail", ""),
        source_topic=found["topic"],
        partition=int(found["partition"]),
        offset=int(found["offset"]),
        time=dt.datetime.fromisoformat(found["time"]),
        truncated=int(found["truncated"]) if "truncated" in found else None,
    )


async def publish(producer: Any, letter: DeadLetter) -> None:
    """Send with an ``AIOKafkaProducer`` and wait (bounded) until the broker has
    acknowledged it."""
    await kafka_clients.acknowledged(producer, letter.topic, letter.value, key=letter.key,
                                     headers=letter.headers)


async def publish_faust(app: Any, letter: DeadLetter) -> None:
    """Send with a faust app's producer and wait until the broker has acknowledged it."""
    await app.producer.send_and_wait(
        letter.topic, letter.key, letter.value, None, None, letter.headers
    )
