"""The fold: what one event does to every document it touches, by calling the fold of each
feature that folds it (pure: no I/O). ``gateway.projections`` runs it over the log;
tests and anything that folds a log by hand run it over a ``MemoryStore``.

Each feature's ``fold.py`` says what its events do to its documents (``FOLDS``: event type ->
fold) and how they read in her timeline (``summary``); an event may be folded by several
features (a revoked consent: the members feature marks it revoked, the records feature
revokes what she shared under it), in the order of ``FEATURES``; the first of them words it.
Here too: her timeline (rows ``timeline``), one row per event that touched her record, in
time order, holding the event as written but for its sealed fields (``NOTHING_SEALED``); it
is worded only when a query reads it (``entry``), so the fold does no presentation.

``TABLES``: every table of documents, and the class of its documents; ``ROWS``: every table
of rows, and the class of its rows.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import msgspec

from gateway.documents import (
    AccountRef,
    Doc,
    DocumentStore,
    HistoryItem,
    MemberRecord,
    Row,
    history_sort,
)
from gateway.figures import kept as figures
from gateway.governance import fold as governance
from gateway.governance.documents import AssemblyRef, AssemblyView, BallotKeysView, BylawsView
from gateway.insurance import fold as insurance
from gateway.insurance.documents import Catalogue, CoverView, PolicyView, ProductView
from gateway.member_access import fold as member_access
from gateway.member_access.documents import AccessEntry, ActivationCode
from gateway.members import fold as members
from gateway.members.documents import CooperativeView, CoopMember, CountryIndex
from gateway.placement import fold as placement
from gateway.placement.documents import CoopJobOrder, EmployerView, JobOrderView, WageFloorsView
from gateway.records import fold as records
from gateway.records.documents import StatusListView
from gateway.savings import fold as savings
from gateway.savings.documents import AccountView, Pointer, RemittanceDoc, RepaymentDoc, TransferDoc
from gateway.training import fold as training
from gateway.training.documents import CourseView
from schemas import REGISTRY, Message
from schemas.envelope import Envelope
from schemas.fields import Sealed
from schemas.registry import Contract

log = logging.getLogger(__name__)

TABLES: dict[str, type[Doc]] = {cls.TABLE: cls for cls in (
    MemberRecord, AccountView, CooperativeView, CourseView, CountryIndex, StatusListView,
    ActivationCode, AssemblyView, BallotKeysView, BylawsView, ProductView, PolicyView,
    CoverView, Catalogue, JobOrderView, EmployerView, WageFloorsView)}
ROWS: dict[str, type[Row]] = {cls.TABLE: cls for cls in (
    HistoryItem, AccountRef, CoopMember, RemittanceDoc, TransferDoc, RepaymentDoc, Pointer,
    AccessEntry, AssemblyRef, CoopJobOrder)}
assert not TABLES.keys() & ROWS.keys(), "a table holds documents or rows, not both"

#: The features whose folds apply events, in the order they apply one event.
FEATURES = (members, savings, training, records, member_access, governance, insurance,
            placement)

Fold = Callable[[DocumentStore, Contract, Envelope], list[str]]
_FOLDS: dict[type[Contract], tuple[Fold, ...]] = {}
#: Who words an event in her timeline: the first feature that folds it.
_SUMMARIES: dict[type[Contract], Callable[[Contract], str | None]] = {}
for _feature in FEATURES:
    for _event, _fold in _feature.FOLDS.items():
        _FOLDS[_event] = (*_FOLDS.get(_event, ()), _fold)
        _SUMMARIES.setdefault(_event, _feature.summary)


#: The services whose events' folds write only documents of their own aggregate (the
#: event's ``subject``) and rows no other aggregate's events write, and read nothing else:
#: their topics' partitions can be folded apart and the results merged (``gateway.rebuild``;
#: ``tests/unit/test_rows.py`` checks it). The others' events write across aggregates.
LOCAL_SERVICES = frozenset({"savings"})


def folds_of(event_type: type[Contract]) -> tuple[Fold, ...]:
    """The folds that apply events of ``event_type`` (none: it changes no document)."""
    return _FOLDS.get(event_type, ())


class MemoryStore:
    """Documents and rows in dicts (tests, and anything that folds a log by hand), and raw
    rows in a dict (written at once: there is no session to commit)."""

    def __init__(self) -> None:
        self.tables: dict[str, dict[str, Doc]] = {name: {} for name in TABLES}
        self.row_tables: dict[str, dict[str, dict[str, Row]]] = {name: {} for name in ROWS}
        self.raw_rows: dict[bytes, bytes] = {}
        self.on_commit: list[Callable[[dict[bytes, bytes]], None]] = []

    def get(self, table: str, key: str) -> Doc | None:
        return self.tables[table].get(key)

    def put(self, table: str, key: str, doc: Doc) -> None:
        self.tables[table][key] = doc

    def row(self, table: str, key: str, sort: str) -> Row | None:
        return self.row_tables[table].get(key, {}).get(sort)

    def put_row(self, table: str, key: str, sort: str, row: Row) -> None:
        self.row_tables[table].setdefault(key, {})[sort] = row

    def rows(self, table: str, key: str, after: str | None = None) -> Iterator[Row]:
        found = self.row_tables[table].get(key, {})
        return iter([found[k] for k in sorted(found) if after is None or k > after])

    def stage_raw(self, key: bytes, value: bytes) -> None:
        self.raw_rows[key] = value
        for listener in self.on_commit:
            listener({key: value})

    def raw(self, key: bytes) -> bytes | None:
        return self.raw_rows.get(key)

    def raw_items(self, prefix: bytes) -> Iterator[tuple[bytes, bytes]]:
        return iter(sorted((k, v) for k, v in self.raw_rows.items() if k.startswith(prefix)))

    def write_raw(self, puts: dict[bytes, bytes], deletes: Iterable[bytes]) -> None:
        self.raw_rows.update(puts)
        for key in deletes:
            self.raw_rows.pop(key, None)


def project(store: DocumentStore, message: Message) -> list[str]:
    """Apply one event; returns the member ids whose record or history changed. Those whose
    figures it may change are marked for the figures' follower (``gateway.figures.kept``)."""
    envelope, event = message
    touched: list[str] = []
    for fold in _FOLDS.get(type(event), ()):
        for member_id in fold(store, event, envelope):
            if member_id not in touched:
                touched.append(member_id)
    if touched:
        # the three services' topics are read concurrently: the sort key keeps time order
        if _holds_sealed(type(event)):  # as upcast, then written again without them
            wire, data = event.wire_type, msgspec.json.encode(_unsealed(event))
        else:
            wire, data = envelope.type, bytes(envelope.data)
        item = HistoryItem(at=envelope.time, subject=envelope.subject, wire=wire, data=data,
                           actor=envelope.actor)
        sort = history_sort(envelope.time, envelope.subject, envelope.sequence or 0)
        for member_id in touched:
            store.put_row("timeline", member_id, sort, item)
    figures.mark(store, message, touched)
    return touched


#: What her timeline keeps of a sealed field: nothing (her wording needs none), in a shape
#: that still reads as an event of its contract.
NOTHING_SEALED = Sealed(kid="-", iv=bytes(12), ct=bytes(16))
_SEALED_IN: dict[type, bool] = {}


def _holds_sealed(cls: type[Contract]) -> bool:
    """Whether events of ``cls`` can hold a ``Sealed`` field, however deep."""
    found = _SEALED_IN.get(cls)
    if found is None:
        found = _SEALED_IN[cls] = _sealed_in(msgspec.inspect.type_info(cls), set())
    return found


def _sealed_in(info: msgspec.inspect.Type, seen: set[type]) -> bool:
    if isinstance(info, msgspec.inspect.StructType):
        if info.cls is Sealed:
            return True
        if info.cls in seen:
            return False
        seen.add(info.cls)
        return any(_sealed_in(f.type, seen) for f in info.fields)
    inner = [getattr(info, name) for name in ("type", "item_type", "key_type", "value_type")
             if isinstance(getattr(info, name, None), msgspec.inspect.Type)]
    inner += list(getattr(info, "types", ()) or getattr(info, "item_types", ()))
    return any(_sealed_in(t, seen) for t in inner)


def _unsealed(value: Any) -> Any:
    """``value`` with every ``Sealed`` in it, however deep, replaced by ``NOTHING_SEALED``."""
    if isinstance(value, Sealed):
        return NOTHING_SEALED
    if isinstance(value, msgspec.Struct):
        return msgspec.structs.replace(value, **{
            name: _unsealed(getattr(value, name)) for name in value.__struct_fields__})
    if isinstance(value, list | tuple):
        return type(value)(_unsealed(x) for x in value)
    return value


@dataclass(frozen=True)
class Entry:
    """A line of her timeline as a query shows it."""

    at: dt.datetime
    service: str
    type: str
    item: HistoryItem

    @property
    def subject(self) -> str:
        """The aggregate the event is of."""
        return self.item.subject

    @property
    def summary(self) -> str:
        """Worded now, from the event as written (upcast to its newest version); if that
        fails, its name (the timeline still reads, and the log says which event)."""
        try:
            return summary(REGISTRY.decode_payload(self.item.wire, self.item.data))
        except Exception as exc:  # noqa: BLE001 - a bug in a wording, or an old event
            log.warning("wording a %s in a timeline failed with %s", self.item.wire,
                        type(exc).__name__)
            return self.type


def entry(item: HistoryItem) -> Entry:
    """A timeline row, with what the scopes need to know of it (its service and event name)
    and its wording on demand."""
    cls = REGISTRY.contract(item.wire)
    return Entry(at=item.at, service=cls.contract_service, type=cls.contract_name, item=item)


def summary(event: Contract) -> str:
    """One readable line for the member's timeline (no personal data): what the first
    feature that folds the event says of it, else the event's name."""
    words = _SUMMARIES.get(type(event))
    line = words(event) if words is not None else None
    return line if line is not None else event.contract_name
