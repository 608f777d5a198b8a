"""A write the brokers never acknowledge ends its writer rather than holding it for ever
(``kafka_clients.landed``): aiokafka's idempotent producer retries a batch without end."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest

from services.runtime import kafka_clients


async def test_records_never_acknowledged_are_a_timeout_not_a_wait_for_ever():
    never = asyncio.get_running_loop().create_future()
    with pytest.raises(TimeoutError, match="not acknowledged"):
        await kafka_clients.landed([(never, 3)], within_s=0.05)
    assert not never.cancelled()  # the batch itself is left to its producer


async def test_acknowledged_records_give_their_offsets():
    done = asyncio.get_running_loop().create_future()
    done.set_result(SimpleNamespace(offset=40))
    assert await kafka_clients.landed([(done, 3)], within_s=0.05) == [40, 41, 42]


async def test_a_command_client_takes_a_producer_for_stuck_by_its_oldest_acknowledgement():
    from services.runtime.client import Unacknowledged  # noqa: PLC0415

    loop = asyncio.get_running_loop()
    waiting, old, new = Unacknowledged(), object(), object()
    slow, quick = loop.create_future(), loop.create_future()
    waiting.watch(slow, old)
    waiting.watch(quick, new)
    now = loop.time()
    assert waiting.stuck(now, 30.0) is None  # nothing waited that long yet
    assert waiting.stuck(now + 31.0, 30.0) in (old, new)
    quick.set_result(None)
    await asyncio.sleep(0)  # its done callback runs: acknowledged, forgotten
    assert waiting.stuck(now + 31.0, 30.0) is old  # a caller that gave up does not hide it
    waiting.forget(old)
    assert waiting.stuck(now + 31.0, 30.0) is None


class _NeverAcknowledges:
    """A producer that takes records and never hears back from a broker (as aiokafka's did
    after a whole cluster was stopped and started)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes | None]] = []

    async def send(self, topic, value=None, key=None, headers=None):
        self.sent.append((topic, value))
        return asyncio.get_running_loop().create_future()


async def test_every_single_record_writer_is_bounded_too(monkeypatch):
    """The dead-letter writer, the relay and the data keys send one record at a time through
    ``kafka_clients.acknowledged``: bounded like ``landed``, never ``send_and_wait``."""
    from services.runtime import deadletter  # noqa: PLC0415

    monkeypatch.setattr(kafka_clients, "ACKNOWLEDGED_WITHIN_S", 0.05)
    producer = _NeverAcknowledges()
    letter = deadletter.letter_for("es", source_topic="es.commands", partition=0, offset=7,
                                   key=b"k", value=b"not json", reason="unreadable",
                                   detail="")
    with pytest.raises(TimeoutError, match="not acknowledged"):
        await deadletter.publish(producer, letter)
    assert producer.sent == [(letter.topic, letter.value)]
