"""A write the brokers never acknowledge fails its writer (``TimeoutError``) rather than
holding it for ever: aiokafka's idempotent producer retries a batch without end
(``kafka_clients.landed``, ``acknowledged``). A service then ends (status 1) and its stop is
bounded too (``kafka_clients.close``); what lives as long as the gateway (its command
client, its data keys) replaces the producer instead."""

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
    assert waiting.stuck(now, 30.0, old) is None  # nothing waited that long yet
    assert waiting.stuck(now + 31.0, 30.0, new) is new
    quick.set_result(None)
    await asyncio.sleep(0)  # its done callback runs: acknowledged, forgotten
    assert waiting.stuck(now + 31.0, 30.0, new) is None
    assert waiting.stuck(now + 31.0, 30.0, old) is old  # a caller that gave up: not hidden
    waiting.forget(old)
    assert waiting.stuck(now + 31.0, 30.0, old) is None


async def test_what_a_replaced_producer_owes_does_not_hide_the_one_in_use():
    from services.runtime.client import Unacknowledged  # noqa: PLC0415

    loop = asyncio.get_running_loop()
    waiting, replaced, current = Unacknowledged(), object(), object()
    waiting.watch(loop.create_future(), replaced)
    waiting.watch(loop.create_future(), current)
    assert waiting.stuck(loop.time() + 31.0, 30.0, current) is current


class _NeverAcknowledges:
    """A producer that takes records and never hears back from a broker (as aiokafka's did
    after a whole cluster was stopped and started)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes | None]] = []
        self.stopped = False

    async def stop(self) -> None:
        self.stopped = True

    async def send(self, topic, value=None, key=None, headers=None):
        self.sent.append((topic, value))
        return asyncio.get_running_loop().create_future()


async def test_the_dead_letter_writer_is_bounded_too(monkeypatch):
    """The dead-letter writer sends one record through ``kafka_clients.acknowledged``:
    bounded like ``landed``, never ``send_and_wait`` (the relay's sends go the same way; the
    data keys' bound is the test of ``_write`` below)."""
    from services.runtime import deadletter  # noqa: PLC0415

    monkeypatch.setattr(kafka_clients, "ACKNOWLEDGED_WITHIN_S", 0.05)
    producer = _NeverAcknowledges()
    letter = deadletter.letter_for("es", source_topic="es.commands", partition=0, offset=7,
                                   key=b"k", value=b"not json", reason="unreadable",
                                   detail="")
    with pytest.raises(TimeoutError, match="not acknowledged"):
        await deadletter.publish(producer, letter)
    assert producer.sent == [(letter.topic, letter.value)]


async def test_a_command_clients_watchdog_outlives_brokers_that_are_still_away(monkeypatch):
    """A stuck producer is replaced even when the first attempts to start a new one fail
    (the whole cluster is still down): the watchdog keeps trying rather than dying."""
    from services.runtime import client as client_module  # noqa: PLC0415

    class Producer:
        made: list[Producer] = []  # noqa: RUF012
        starts_failing = 2

        def __init__(self) -> None:
            self.stopped = False
            Producer.made.append(self)

        async def start(self) -> None:
            if Producer.starts_failing:
                Producer.starts_failing -= 1
                raise ConnectionError("Unable to bootstrap")

        async def stop(self) -> None:
            self.stopped = True

    monkeypatch.setattr(kafka_clients, "producer", lambda *_, **__: Producer())
    monkeypatch.setattr(client_module, "STUCK_AFTER_S", 0.0)
    commands = client_module.CommandClient("es")
    stuck = commands._producer = object.__new__(Producer)
    stuck.stopped = False
    commands._unacknowledged.watch(asyncio.get_running_loop().create_future(), stuck)
    watchdog = asyncio.create_task(commands._watch(every_s=0.01))
    for _ in range(200):
        if commands._producer is not stuck:
            break
        await asyncio.sleep(0.01)
    assert not watchdog.done()  # it outlived the failed replacements
    watchdog.cancel()
    await asyncio.gather(watchdog, return_exceptions=True)
    await asyncio.gather(*commands._closing)
    assert commands._producer is Producer.made[-1] and len(Producer.made) == 3
    assert all(p.stopped for p in Producer.made[:2])  # the failed attempts left nothing open
    assert stuck.stopped


async def test_data_keys_replace_a_producer_that_stopped_delivering(monkeypatch):
    """The gateway keeps its data keys as long as it runs: a write that timed out fails, and
    the next goes through a new producer rather than the one that never delivers."""
    from services.runtime.datakeys import DataKeys  # noqa: PLC0415

    monkeypatch.setattr(kafka_clients, "ACKNOWLEDGED_WITHIN_S", 0.05)
    fresh = _NeverAcknowledges()

    async def started(_bootstrap=None):
        return fresh

    monkeypatch.setattr(kafka_clients, "started_producer", started)
    keys = DataKeys("es", node_key=bytes(32))
    stuck = keys._producer = _NeverAcknowledges()
    with pytest.raises(TimeoutError):
        await keys._write((b"member/kid", b"{}"))
    assert [topic for topic, _ in stuck.sent] == [keys.topic]
    assert keys._producer is fresh and stuck.stopped


class _FailedForGood(_NeverAcknowledges):
    """A producer whose batches fail with ``OutOfOrderSequenceNumber`` (seen after a whole
    cluster was stopped a minute): aiokafka fails the delivery, and never repairs the
    sequence, so every later batch to the partition fails alike."""

    async def send(self, topic, value=None, key=None, headers=None):
        from aiokafka.errors import OutOfOrderSequenceNumber  # noqa: PLC0415

        self.sent.append((topic, value))
        failed = asyncio.get_running_loop().create_future()
        failed.set_exception(OutOfOrderSequenceNumber())
        return failed


async def test_a_producer_that_failed_for_good_is_replaced_at_the_next_send(monkeypatch):
    from aiokafka.errors import OutOfOrderSequenceNumber  # noqa: PLC0415

    from services.runtime import client as client_module  # noqa: PLC0415

    fresh = _NeverAcknowledges()

    async def started(_bootstrap=None):
        return fresh

    monkeypatch.setattr(kafka_clients, "started_producer", started)
    commands = client_module.CommandClient("es")
    commands._follower = asyncio.create_task(asyncio.sleep(60))  # following replies
    commands.reply_partition = 0
    broken = commands._producer = _FailedForGood()
    try:
        with pytest.raises(OutOfOrderSequenceNumber):  # this one is not sent: the caller's
            await commands.send_raw("savings", "account", "command", b"{}", timeout=0.05)
    finally:
        commands._follower.cancel()
    await asyncio.gather(*commands._closing)
    assert commands._producer is fresh and broken.stopped  # the next goes through a new one


async def test_a_producer_whose_stop_hangs_is_abandoned_not_waited_for(monkeypatch):
    """Closing is bounded, and a producer that will not stop has its sender cancelled and
    its connections closed: left running, it would deliver what its senders were told was
    not sent."""
    from aiokafka import AIOKafkaProducer  # noqa: PLC0415

    monkeypatch.setattr(kafka_clients, "CLOSED_WITHIN_S", 0.05)
    stuck = AIOKafkaProducer(bootstrap_servers="127.0.0.1:9")
    closed: list[str] = []

    async def never_stops():
        await asyncio.sleep(3600)

    async def client_closed():
        closed.append("connections")

    monkeypatch.setattr(stuck, "stop", never_stops)
    monkeypatch.setattr(stuck.client, "close", client_closed)
    await asyncio.wait_for(kafka_clients.close(stuck), 5)
    assert closed == ["connections"]


async def test_data_keys_replace_a_producer_that_failed_for_good(monkeypatch):
    from aiokafka.errors import OutOfOrderSequenceNumber  # noqa: PLC0415

    from services.runtime.datakeys import DataKeys  # noqa: PLC0415

    fresh = _NeverAcknowledges()

    async def started(_bootstrap=None):
        return fresh

    monkeypatch.setattr(kafka_clients, "started_producer", started)
    keys = DataKeys("es", node_key=bytes(32))
    keys._producer = _FailedForGood()
    with pytest.raises(OutOfOrderSequenceNumber):
        await keys._write((b"member/kid", b"{}"))
    assert keys._producer is fresh


async def test_a_data_key_delivered_after_her_erasure_is_never_used_and_is_tombstoned():
    """A replaced producer's late batch could bring a member's key back after she was erased:
    it is not used (no seal, no open) and it is tombstoned."""
    import datetime as dt  # noqa: PLC0415

    import msgspec  # noqa: PLC0415
    from cryptography.hazmat.primitives.keywrap import aes_key_wrap  # noqa: PLC0415

    from services.runtime.datakeys import ERASED, DataKeys, KeyRecord  # noqa: PLC0415

    keys = DataKeys("es", node_key=bytes(32))
    keys._producer = written = _Acknowledges()

    def record(key: str, value: bytes | None):
        return SimpleNamespace(key=key.encode(), value=value, topic=keys.topic, partition=0,
                               offset=0)

    keys._apply(record(f"m1/{ERASED}", b'{"erased":true}'))
    late = KeyRecord(member_id="m1", kid="k1", wrapped=aes_key_wrap(bytes(32), bytes(32)),
                     created=dt.datetime.now(dt.UTC))
    keys._apply(record("m1/k1", msgspec.json.encode(late)))
    assert await keys.current("m1") is None and await keys.key("m1", "k1") is None
    assert keys._late == [("m1", "k1")]
    rounds = iter([{}])

    async def one_round_then_stop(**_):
        try:
            return next(rounds)
        except StopIteration:
            raise _Stop from None

    keys._reader = SimpleNamespace(getmany=one_round_then_stop)
    with pytest.raises(_Stop):
        await keys._follow()
    assert written.sent == [(keys.topic, None)] and keys._late == []  # its tombstone


class _Stop(Exception):
    pass


class _Acknowledges(_NeverAcknowledges):
    async def send(self, topic, value=None, key=None, headers=None):
        self.sent.append((topic, value))
        done = asyncio.get_running_loop().create_future()
        done.set_result(SimpleNamespace(offset=0))
        return done
