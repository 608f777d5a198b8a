"""Documents as rows (``gateway.documents.Row``): what only grows with a member's history (her
timeline, an account's remittances, transfers and repayments) is written as rows of its own,
so applying an event writes as much for a member with a thousand events as for one with ten;
rows read back in order; a store of an older layout is emptied, to be rebuilt from the log."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import msgspec
from rocksdict import Rdict

from gateway.documents import HistoryItem, history_sort
from gateway.fold import MemoryStore, entry, project
from gateway.store import _FORMAT_KEY, FORMAT, RocksStore
from schemas import REGISTRY
from schemas import membership as m
from schemas import savings as s
from schemas.fields import Money, Sealed
from services.runtime.ids import new_id
from tests.bench.synth_events import Synth
from tests.unit.inmemory_node import LocalityWatch

_encode = msgspec.msgpack.Encoder().encode


class CountingStore(MemoryStore):
    """A ``MemoryStore`` that adds up the bytes each event writes, as the store encodes them."""

    def __init__(self) -> None:
        super().__init__()
        self.written = 0

    def put(self, table, key, doc) -> None:
        self.written += len(_encode(doc))
        super().put(table, key, doc)

    def put_row(self, table, key, sort, row) -> None:
        self.written += len(_encode(row))
        super().put_row(table, key, sort, row)

    def stage_raw(self, key, value) -> None:  # the figures' marks
        self.written += len(value)
        super().stage_raw(key, value)


def _deposits_by_depth(store: CountingStore) -> dict[str, list[tuple[int, int]]]:
    """Fold a node's log where a few members have long histories: per account, the bytes
    written by each deposit and how many events its owner had when it came."""
    depth: dict[str, int] = defaultdict(int)
    owner: dict[str, str] = {}
    found: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for topic, _, value in Synth("rows").log(members=3, activity=3000):
        if not topic.endswith(".events"):
            continue
        message = REGISTRY.decode(value, kind="event")
        store.written = 0
        touched = project(store, message)
        event = message.payload
        if isinstance(event, s.AccountOpened):
            owner[event.account_id] = event.member_id
        if isinstance(event, s.FundsDeposited):
            found[event.account_id].append((depth[owner[event.account_id]], store.written))
        for member_id in touched:
            depth[member_id] += 1
    return found


def test_a_deposit_writes_as_much_after_a_thousand_events_as_after_ten():
    found = _deposits_by_depth(CountingStore())
    deep = max(found.values(), key=len)
    early = [written for at, written in deep if at <= 20]
    late = [written for at, written in deep if at >= 1000]
    assert early and late, f"the log gave no member a long history: {len(deep)} deposits"
    # what may grow: the account's flows per month (a year or two of them), never the history
    assert max(late) <= max(early) + 400, (max(early), max(late))


def test_her_timeline_reads_back_in_time_order_whatever_the_order_it_was_written_in():
    store = MemoryStore()
    start = dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC)
    times = [start + dt.timedelta(microseconds=us) for us in (0, 1, 500_000, 2_000_000)]
    for n, at in enumerate(reversed(times)):
        store.put_row("timeline", "rosa", history_sort(at, "acct", n + 1),
                      HistoryItem(at=at, subject="acct", wire="coop.savings.FundsDeposited.v1",
                                  data=b"{}"))
    assert [x.at for x in store.rows("timeline", "rosa")] == times


def test_the_rocks_store_reads_rows_in_order_and_only_the_keys(tmp_path):
    store = RocksStore(tmp_path / "store")
    try:
        at = dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC)
        for key in ("rosa", "rosa2", "ros"):
            for n in (3, 1, 2):
                store.put_row("timeline", key, history_sort(at, key, n),
                              HistoryItem(at=at, subject=key, wire="w", data=b"%d" % n))
        assert list(store.rows("timeline", "rosa")) == []  # nothing before the commit
        store.commit()
        assert [x.data for x in store.rows("timeline", "rosa")] == [b"1", b"2", b"3"]
        second = history_sort(at, "rosa", 2)
        assert [x.data for x in store.rows("timeline", "rosa", after=second)] == [b"3"]
        assert [x.subject for x in store.rows("timeline", "rosa2")] == ["rosa2"] * 3
    finally:
        store.close()


def test_a_store_of_an_older_layout_is_emptied_to_be_rebuilt(tmp_path):
    path = tmp_path / "store"
    store = RocksStore(path)
    store.db[b"offset/es.savings.events/0"] = msgspec.msgpack.encode(120)
    store.db[_FORMAT_KEY] = msgspec.msgpack.encode(FORMAT - 1)
    store.close()
    store = RocksStore(path)
    try:
        assert store.offsets(["es.savings.events"]) == {}  # read again from the start
        assert msgspec.msgpack.decode(store.db[_FORMAT_KEY]) == FORMAT
    finally:
        store.close()
    store = RocksStore(path)  # its own layout: kept
    try:
        store.set_offset("es.savings.events", 0, 7)
        store.commit()
    finally:
        store.close()
    store = RocksStore(path)
    try:
        assert store.offsets(["es.savings.events"]) == {("es.savings.events", 0): 7}
    finally:
        store.close()


def test_a_store_written_before_its_layout_was_recorded_is_emptied(tmp_path):
    path = tmp_path / "store"
    path.mkdir()
    old = Rdict(str(path), RocksStore.options())
    old[b"members/rosa"] = b"\x80"
    old[b"offset/es.savings.events/0"] = msgspec.msgpack.encode(9)
    old.close()
    store = RocksStore(path)
    try:
        assert store.offsets(["es.savings.events"]) == {}
        assert store.db.get(b"members/rosa") is None
    finally:
        store.close()
    assert not path.with_name("store.old-layout").exists()


def test_a_timeline_entry_is_worded_when_read():
    account = "0190d6a2-4c7e-7b1a-9f00-5d2c8e4b1a01"
    event = s.FundsDeposited(account_id=account, amount=Money(2000, "EUR"),
                             balance=Money(2000, "EUR"))
    item = HistoryItem(at=dt.datetime(2026, 3, 1, tzinfo=dt.UTC), subject=account,
                       wire=event.wire_type, data=msgspec.json.encode(event))
    shown = entry(item)
    assert (shown.service, shown.type, shown.subject) == ("savings", "FundsDeposited", account)
    assert shown.summary == "deposited 20.00 EUR"


def test_the_local_services_events_touch_only_what_their_own_aggregate_writes():
    """What lets ``coopbridge replay --workers`` fold the partitions of a local service's
    topic apart: its events write only keys that no other aggregate writes, and read only
    keys that only their own aggregate writes (or that nobody wrote)."""
    store = LocalityWatch()  # raises at the first event that breaks it
    for topic, _, value in Synth("rows", seed=3).log(members=300, activity=6000):
        if topic.endswith(".events"):
            store.fold(REGISTRY.decode(value, kind="event"))
    assert store.local_events > 5000
    # (every event the in-memory node's tests fold is watched the same way: loans, refunds,
    # transfers home, closed accounts, ... tests/unit/inmemory_node.py)


def test_her_timeline_keeps_no_sealed_field_and_still_words_the_event():
    rosa, coop = "0190d6a2-4c7e-7b1a-9f00-5d2c8e4b1a02", "0190d6a2-4c7e-7b1a-9f00-5d2c8e4b1a03"
    sealed = Sealed(kid="k1", iv=b"\x07" * 12, ct=b"CANARY-ciphertext-0123456789")
    registered = m.MemberRegistered(member_id=rosa, cooperative_id=coop, personal=sealed)
    message = REGISTRY.decode(REGISTRY.encode(
        registered, id=new_id(), source="/coopbridge/es/membership", subject=rosa,
        time=dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC), sequence=1, causationid=new_id()))
    store = MemoryStore()
    project(store, message)
    [item] = store.rows("timeline", rosa)
    assert b"CANARY" not in item.data and b"k1" not in item.data
    assert entry(item).summary == "registered as a member of the federation"


def test_a_timeline_row_that_cannot_be_worded_reads_as_its_name():
    item = HistoryItem(at=dt.datetime(2026, 3, 1, tzinfo=dt.UTC), subject="a",
                       wire="coop.savings.FundsDeposited.v2", data=b'{"broken": true}')
    assert entry(item).summary == "FundsDeposited"


def test_a_time_in_another_offset_sorts_as_the_same_instant_in_utc():
    utc = dt.datetime(2026, 3, 1, 9, 30, tzinfo=dt.UTC)
    madrid = utc.astimezone(dt.timezone(dt.timedelta(hours=1)))
    assert history_sort(madrid, "s", 1) == history_sort(utc, "s", 1)
    later = utc + dt.timedelta(microseconds=1)
    assert history_sort(utc, "s", 9) < history_sort(later, "s", 1)
