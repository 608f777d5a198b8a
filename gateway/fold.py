"""The fold: what one event does to every document it touches, by calling the fold of each
feature that folds it (pure: no I/O). ``gateway.projections`` runs it over the log;
tests and anything that folds a log by hand run it over a ``MemoryStore``.

Each feature's ``fold.py`` says what its events do to its documents (``FOLDS``: event type ->
fold) and how they read in her timeline (``summary``); an event may be folded by several
features (a revoked consent: the members feature marks it revoked, the records feature
revokes what she shared under it), in the order of ``FEATURES``; the first of them words it.
Here too: her timeline (``history``), one line per event that touched her record, kept in
time order.

``TABLES``: every table of documents, and the class of its documents.
"""

from __future__ import annotations

import bisect
import operator
from collections.abc import Callable, Iterable, Iterator

from gateway.documents import Doc, DocumentStore, History, HistoryItem, MemberRecord, document
from gateway.figures import kept as figures
from gateway.members import fold as members
from gateway.members.documents import CooperativeView, CountryIndex
from gateway.records import fold as records
from gateway.records.documents import StatusListView
from gateway.savings import fold as savings
from gateway.savings.documents import AccountView
from gateway.training import fold as training
from gateway.training.documents import CourseView
from schemas import Message
from schemas.envelope import Envelope
from schemas.registry import Contract

TABLES: dict[str, type[Doc]] = {cls.TABLE: cls for cls in (
    MemberRecord, AccountView, CooperativeView, CourseView, History, CountryIndex,
    StatusListView)}

#: The features whose folds apply events, in the order they apply one event.
FEATURES = (members, savings, training, records)

Fold = Callable[[DocumentStore, Contract, Envelope], list[str]]
_FOLDS: dict[type[Contract], tuple[Fold, ...]] = {}
#: Who words an event in her timeline: the first feature that folds it.
_SUMMARIES: dict[type[Contract], Callable[[Contract], str | None]] = {}
for _feature in FEATURES:
    for _event, _fold in _feature.FOLDS.items():
        _FOLDS[_event] = (*_FOLDS.get(_event, ()), _fold)
        _SUMMARIES.setdefault(_event, _feature.summary)


def folds_of(event_type: type[Contract]) -> tuple[Fold, ...]:
    """The folds that apply events of ``event_type`` (none: it changes no document)."""
    return _FOLDS.get(event_type, ())


class MemoryStore:
    """Documents in dicts (tests, and anything that folds a log by hand), and raw rows in a
    dict (written at once: there is no session to commit)."""

    def __init__(self) -> None:
        self.tables: dict[str, dict[str, Doc]] = {name: {} for name in TABLES}
        self.raw: dict[bytes, bytes] = {}
        self.on_commit: list[Callable[[dict[bytes, bytes]], None]] = []

    def get(self, table: str, key: str) -> Doc | None:
        return self.tables[table].get(key)

    def put(self, table: str, key: str, doc: Doc) -> None:
        self.tables[table][key] = doc

    def stage(self, key: bytes, value: bytes) -> None:
        self.raw[key] = value
        for listener in self.on_commit:
            listener({key: value})

    def row(self, key: bytes) -> bytes | None:
        return self.raw.get(key)

    def rows(self, prefix: bytes) -> Iterator[tuple[bytes, bytes]]:
        return iter(sorted((k, v) for k, v in self.raw.items() if k.startswith(prefix)))

    def write_rows(self, puts: dict[bytes, bytes], deletes: Iterable[bytes]) -> None:
        self.raw.update(puts)
        for key in deletes:
            self.raw.pop(key, None)


def project(store: DocumentStore, message: Message) -> list[str]:
    """Apply one event; returns the member ids whose record or history changed. Those whose
    figures it may change are marked for the figures' follower (``gateway.figures.kept``)."""
    envelope, event = message
    touched: list[str] = []
    for fold in _FOLDS.get(type(event), ()):
        for member_id in fold(store, event, envelope):
            if member_id not in touched:
                touched.append(member_id)
    for member_id in touched:
        history = document(store, History, member_id)
        item = HistoryItem(at=envelope.time, service=event.contract_service,
                           type=event.contract_name, summary=summary(event),
                           subject=envelope.subject)
        # the three services' topics are read concurrently: keep the timeline in time order
        history.items.insert(bisect.bisect_right(history.items, item.at, key=_at), item)
        store.put("history", member_id, history)
    figures.mark(store, message, touched)
    return touched


_at = operator.attrgetter("at")


def summary(event: Contract) -> str:
    """One readable line for the member's timeline (no personal data): what the first
    feature that folds the event says of it, else the event's name."""
    words = _SUMMARIES.get(type(event))
    line = words(event) if words is not None else None
    return line if line is not None else event.contract_name
