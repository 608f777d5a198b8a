"""``read_event``, the projections' short way of reading an event, reads what the full decode
(``read(record, kind="event")``) reads and refuses what it refuses, with the same reason and
detail: record by record, and folded into a store (every RocksDB key and value compared)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

import msgspec
import pytest

from gateway import projections as projections_module
from gateway.projections import Projections
from gateway.store import RocksStore
from schemas import REGISTRY, Message
from schemas import savings as s
from schemas.envelope import Envelope
from schemas.fields import Money
from schemas.registry import MAX_MESSAGE_BYTES
from schemas.topics import events_topic
from services.runtime.ids import new_id
from services.runtime.reading import Unreadable, read, read_event
from tests.bench.synth_events import Synth

NODE = "es"
T = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)
ACCOUNT = "0192d3c4-0000-7000-8000-00000000acc1"


@dataclass
class Record:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None


def deposit() -> bytes:
    return REGISTRY.encode(
        s.FundsDeposited(account_id=ACCOUNT, amount=Money(1000, "EUR"),
                         balance=Money(1500, "EUR"), booked_on=dt.date(2026, 3, 1)),
        id=new_id(), source="/coopbridge/es/savings", subject=ACCOUNT, time=T, sequence=2,
        previousid=new_id(), causationid=new_id())


def changed(value: bytes, fields: dict | None = None, **envelope) -> bytes:
    """``value`` with ``envelope`` attributes set (None: removed) and the ``fields`` of its
    data set (None: removed)."""
    doc = json.loads(value)
    doc.update(envelope)
    doc["data"].update(fields or {})
    doc = {k: v for k, v in doc.items() if v is not None}
    doc["data"] = {k: v for k, v in doc["data"].items() if v is not None}
    return json.dumps(doc).encode()


def as_version_1(value: bytes) -> bytes:
    """A deposit as version 1 wrote it (no booking date): read through its upcaster."""
    return changed(value, {"booked_on": None}, type="coop.savings.FundsDeposited.v1")


GOOD = deposit()
COMMAND = REGISTRY.encode(s.DepositFunds(account_id=ACCOUNT, amount=Money(1000, "EUR")),
                          id=new_id(), source="/coopbridge/es/gateway", subject=ACCOUNT, time=T)

#: Every kind of record that is no readable event, and the reason the full decode gives it.
BAD = {
    "a tombstone": (None, "invalid_json"),
    "too large": (changed(GOOD, pad="x" * MAX_MESSAGE_BYTES), "too_large"),
    "no JSON": (b"\xff\xfe garbage", "invalid_json"),
    "JSON, no envelope": (b'{"hello": "world"}', "invalid_envelope"),
    "another specversion": (changed(GOOD, specversion="2.0"), "invalid_envelope"),
    "an empty id": (changed(GOOD, id=""), "invalid_envelope"),
    "a subject too long": (changed(GOOD, subject="x" * 201), "invalid_envelope"),
    "a time without zone": (changed(GOOD, time="2026-03-01T09:00:00"), "invalid_envelope"),
    "sequence 0": (changed(GOOD, sequence=0), "invalid_envelope"),
    "a type that is none": (changed(GOOD, type="coop.savings.funds"), "invalid_envelope"),
    "a type and a newline": (changed(GOOD, type="coop.savings.FundsDeposited.v2\n"),
                             "unknown_type"),
    "an unknown type": (changed(GOOD, type="coop.savings.Hostile.v1"), "unknown_type"),
    "a future version": (changed(GOOD, type="coop.savings.FundsDeposited.v9"),
                         "future_version"),
    "a command": (COMMAND, "unexpected_kind"),
    "no data": (changed(GOOD, data={}), "invalid_data"),
    "a float for money": (changed(GOOD, {"amount": {"amount": 1000.5, "currency": "EUR"}}),
                          "invalid_data"),
    "a malformed id": (changed(GOOD, {"account_id": "not-a-uuid"}), "invalid_data"),
    "a malformed currency": (changed(GOOD, {"balance": {"amount": 1, "currency": "eur"}}),
                             "invalid_data"),
    "a negative amount": (changed(GOOD, {"amount": {"amount": -1, "currency": "EUR"}}),
                          "invalid_data"),
    "a malformed day": (changed(GOOD, {"booked_on": "1 March"}), "invalid_data"),
    "an unknown field": (changed(GOOD, {"note": "hi"}), "invalid_data"),
    "version 1 with a version 2 field": (changed(as_version_1(GOOD), {"booked_on": "2026-03-01"}),
                                         "invalid_data"),
}


@pytest.mark.parametrize("kind", BAD)
def test_a_bad_record_is_refused_with_the_reason_and_detail_of_the_full_decode(kind):
    value, reason = BAD[kind]
    record = Record(events_topic(NODE, "savings"), 3, 41, ACCOUNT.encode(), value)
    short, full = read_event(record), read(record, kind="event")
    assert isinstance(full, Unreadable) and full.reason == reason
    assert isinstance(short, Unreadable) and short.reason == reason
    assert str(short.error) == str(full.error)
    assert short.letter(NODE, now=T) == full.letter(NODE, now=T)


def same_message(short: Message, full: Message) -> bool:
    return (msgspec.structs.asdict(short.envelope) == msgspec.structs.asdict(full.envelope)
            and type(short.payload) is type(full.payload) and short.payload == full.payload)


def test_a_good_event_reads_the_same_either_way_and_an_older_version_is_upcast():
    topic = events_topic(NODE, "savings")
    short, full = (read_event(Record(topic, 0, 0, None, GOOD)),
                   read(Record(topic, 0, 0, None, GOOD), kind="event"))
    assert same_message(short, full)
    assert type(short.envelope) is not Envelope and isinstance(short.envelope, Envelope)
    old = Record(topic, 0, 1, None, as_version_1(GOOD))
    upcast = read_event(old)
    assert same_message(upcast, read(old, kind="event"))  # the full way: no shortcut
    assert type(upcast.payload) is s.FundsDeposited and upcast.payload.booked_on is None


def a_log() -> list[Record]:
    """A generated node's log (every event valid, chained), a few deposits as version 1
    wrote them, and every kind of bad record in among them, one partition per topic."""
    synth = Synth(NODE, seed=5)
    records: list[Record] = []
    offsets: dict[str, int] = {}
    bad = iter(BAD.values())
    for index, (topic, key, value) in enumerate(synth.log(60, 1500)):
        if topic.endswith(".datakeys"):
            continue
        if index % 7 == 0 and b"FundsDeposited.v2" in value:
            value = as_version_1(value)
        records.append(Record(topic, 0, offsets.get(topic, 0), key, value))
        offsets[topic] = offsets.get(topic, 0) + 1
        if index % 50 == 0 and (spoilt := next(bad, None)) is not None:
            records.append(Record(topic, 0, offsets[topic], key, spoilt[0]))
            offsets[topic] += 1
    assert next(bad, None) is None, "the log is too short for every kind of bad record"
    return records


def fold(path, records: list[Record]) -> tuple[dict, list[tuple], list[tuple[bytes, bytes]]]:
    """(stats, dead letters, every key and value of the store) of folding ``records`` as the
    projections fold a batch."""
    views = Projections(NODE, data_dir=path)
    store = RocksStore(path)
    try:
        stats, letters, applied, _ = views._fold(store, records, {})  # noqa: SLF001
        store.commit()
        written = list(store.db.items())
    finally:
        store.close()
    assert len(applied) == stats["applied"]
    return stats, [(x.source_topic, x.offset, x.reason, x.detail) for x in letters], written


def test_the_short_way_and_the_full_way_fold_a_log_into_the_same_store(tmp_path, monkeypatch):
    records = a_log()
    short = fold(tmp_path / "short", records)
    monkeypatch.setattr(projections_module, "read_event",
                        lambda record: read(record, kind="event"))
    full = fold(tmp_path / "full", records)
    assert short == full
    stats, letters, written = short
    assert stats["dead_lettered"] == len(BAD) == len(letters)
    assert stats["applied"] == len(records) - len(BAD)
    assert sorted(reason for _, _, reason, _ in letters) == sorted(r for _, r in BAD.values())
    assert {key.split(b"/")[0] for key, _ in written} >= {
        b"members", b"accounts", b"courses", b"timeline", b"chain", b"offset"}
