"""The guard around the figures, so that one request cannot hold the gateway: each
cooperative's atoms, once computed (from the figures the views keep,
``gateway.figures.kept``, after settling the members marked so far; or by the scan of
``gateway.figures.scan`` where the views keep none), are used again for
``FRESH_SECONDS`` whatever arrives meanwhile (so the figures may be that old), and up to
``KEEP_SECONDS`` while nothing at all is applied (the ``applied`` count of ``views.stats``),
that day; an answer is kept (the last ``MAX_ANSWERS``) while the atoms it was summed from
are the ones in use, so aliases of one request, other callers and the same question asked
again share one scan even while events keep arriving; one computation runs at a time; and a
scan yields to the event loop every ``YIELD_EVERY`` members. (The field also weighs
``FIGURES_COST`` in the cost rule of ``gateway.schema``.) The live feed
(``gateway.figures.activity``) asks the same atoms who is in a safe population atom.
"""

from __future__ import annotations

import asyncio
import contextvars
import datetime as dt
import time
import weakref
from collections import OrderedDict
from dataclasses import dataclass

from strawberry.extensions import SchemaExtension

from gateway.context import GatewayContext, Keys, Views
from gateway.figures.disclosure import CooperativeAtoms, Question
from gateway.figures.kept import kept_of
from gateway.figures.scan import cooperatives_asked, scan
from gateway.figures.types import FederationStats, answer_of

#: A scan lets other requests run after this many members.
YIELD_EVERY = 200
#: Atoms computed less than this long ago are used again, whatever was applied since: the
#: figures may be this old (docs/figures.md).
FRESH_SECONDS = 5.0
#: Atoms are used again this long at most, and only while nothing at all was applied since.
KEEP_SECONDS = 60.0
#: The answers kept (the least recently asked goes first).
MAX_ANSWERS = 256


#: The atoms one operation has used, per cooperative: every federationStats field of one
#: request (aliases too) is summed from the same atoms, so no two of its answers come from
#: two moments (their difference would be the events in between). Set per operation by
#: ``OneMomentPerOperation``; None outside one (each answer then pins for itself).
_PINNED: contextvars.ContextVar[dict[str, _Scanned] | None] = contextvars.ContextVar(
    "figures_pinned", default=None)


class OneMomentPerOperation(SchemaExtension):
    """Gives each operation its own ``_PINNED`` (one per operation, not per context: a
    websocket's operations share one context)."""

    def on_operation(self):
        # set, not reset by token: a subscription's operation may end in another context
        before = _PINNED.get()
        _PINNED.set({})
        try:
            yield
        finally:
            _PINNED.set(before)



@dataclass(frozen=True, slots=True)
class _Scanned:
    """One cooperative's atoms (None: no such cooperative) and when they were computed: the
    day, when the scan began and ended (``time.monotonic``), and the events applied when it
    began."""

    cooperative_id: str
    atoms: CooperativeAtoms | None
    day: dt.date
    began: float
    ended: float
    applied: int | None


class FiguresCache:
    """The figures of one gateway's views: each cooperative's atoms, used again while they
    are fresh (younger than ``FRESH_SECONDS`` whatever arrived since, or than
    ``KEEP_SECONDS`` if nothing was applied at all, and of today); the last ``MAX_ANSWERS``
    answers, each used again while the atoms it was summed from are the ones in use; the
    computations under way (a question asked meanwhile waits for its answer); and the lock
    that lets one computation run at a time."""

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self._atoms: dict[str, _Scanned] = {}
        #: question -> (the atoms it was summed from, the answer), least recently asked first
        self.answers: OrderedDict[Question, tuple[tuple[_Scanned, ...], FederationStats]] = (
            OrderedDict())
        self._pending: dict[Question, asyncio.Future] = {}

    async def answer(self, context: GatewayContext, question: Question) -> FederationStats:
        pinned = _PINNED.get()
        if pinned is None:
            pinned = {}
        found = self._keptanswer_of(context, question, pinned)
        if found is not None:
            return found
        # one computation per question and operation: within one, aliases share it; across
        # operations, the atoms (not the answers under way) are shared
        key = (question, id(pinned))
        task = self._pending.get(key)
        if task is None:
            task = self._pending[key] = asyncio.ensure_future(
                self._compute(context, question, pinned))
            task.add_done_callback(lambda _: self._pending.pop(key, None))
        return await asyncio.shield(task)  # a caller who goes away stops no one else's answer

    async def atoms_since(self, views: Views, keys: Keys, cooperative_id: str,
                          today: dt.date, since: float) -> CooperativeAtoms | None:
        """The atoms of ``cooperative_id`` from a scan that began at ``since``
        (``time.monotonic``) or later, however old: the live feed's rule
        (``gateway.figures.activity``, which knows when its people last changed)."""
        async with self.lock:
            scanned = self._atoms.get(cooperative_id)
            if scanned is None or scanned.began < since:
                scanned = await self._rescan(views, keys, cooperative_id, today, _Pace())
        return scanned.atoms

    def _keptanswer_of(self, context: GatewayContext, question: Question,
                     pinned: dict[str, _Scanned]) -> FederationStats | None:
        """The answer given before, if every atom it was summed from is the one this
        operation uses (pinned), or else still fresh and still the one in use (so no
        cooperative was scanned again, or added, since); its atoms are then pinned."""
        kept = self.answers.get(question)
        if kept is None:
            return None
        used, answer = kept
        today = context.now.date()
        current = [pinned.get(c) or self._atoms.get(c)
                   for c in cooperatives_asked(context.views, question)]
        if len(current) != len(used) or not all(
                now is then and (pinned.get(now.cooperative_id) is now
                                 or self._fresh(now, context.views, today))
                for now, then in zip(current, used, strict=True)):
            return None
        for scanned in used:
            pinned[scanned.cooperative_id] = scanned
        self.answers.move_to_end(question)
        return answer

    def _forget_stale(self, views: Views, today: dt.date) -> None:
        """Let go of the atoms that can no longer be used, and of the answers made of them."""
        self._atoms = {c: scanned for c, scanned in self._atoms.items()
                       if self._fresh(scanned, views, today)}
        for question in [q for q, (used, _) in self.answers.items()
                         if any(self._atoms.get(s.cooperative_id) is not s for s in used)]:
            del self.answers[question]

    @staticmethod
    def _fresh(scanned: _Scanned, views: Views, today: dt.date) -> bool:
        age = time.monotonic() - scanned.ended
        return scanned.day == today and (age < FRESH_SECONDS or (
            age < KEEP_SECONDS and scanned.applied is not None
            and scanned.applied == _applied(views)))

    async def _rescan(self, views: Views, keys: Keys, cooperative_id: str, today: dt.date,
                      pace: _Pace) -> _Scanned:
        """Scan one cooperative (the lock held) and keep its atoms. Their age counts from the
        scan's end (a long scan is not stale at once), but the position is the one before
        it: what was applied meanwhile may be missing, so it is not taken as seen."""
        applied, began = _applied(views), time.monotonic()
        kept = kept_of(views)
        if kept is None:
            atoms = await scan(views, keys, cooperative_id, today, pace)
        else:  # the marks before this moment settled, then read: no member is scanned
            await kept.settle(keys)
            atoms = await kept.atoms(cooperative_id, today)
        scanned = self._atoms[cooperative_id] = _Scanned(cooperative_id, atoms, today, began,
                                                         time.monotonic(), applied)
        return scanned

    async def _compute(self, context: GatewayContext, question: Question,
                       pinned: dict[str, _Scanned]) -> FederationStats:
        async with self.lock:
            found = self._keptanswer_of(context, question, pinned)
            if found is not None:
                return found
            views, today, pace = context.views, context.now.date(), _Pace()
            self._forget_stale(views, today)
            used = []
            for cooperative_id in cooperatives_asked(views, question):
                scanned = pinned.get(cooperative_id) or self._atoms.get(cooperative_id)
                if scanned is None or (pinned.get(cooperative_id) is not scanned
                                       and not self._fresh(scanned, views, today)):
                    scanned = await self._rescan(views, context.keys, cooperative_id, today,
                                                 pace)
                pinned[cooperative_id] = scanned
                used.append(scanned)
            answer = answer_of([s.atoms for s in used if s.atoms is not None], question)
            self.answers[question] = (tuple(used), answer)
            self.answers.move_to_end(question)
            while len(self.answers) > MAX_ANSWERS:
                self.answers.popitem(last=False)
            return answer


def _applied(views: Views) -> int | None:
    """The events the views have applied, if they tell (``stats``)."""
    stats = getattr(views, "stats", None)
    return stats.get("applied") if stats is not None else None


_CACHES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def figures_of(views: Views) -> FiguresCache:
    """The figures of ``views`` (one per gateway, made when first asked)."""
    cache = _CACHES.get(views)
    if cache is None:
        cache = _CACHES[views] = FiguresCache()
    return cache


class _Pace:
    """Called once per member scanned: every ``YIELD_EVERY``-th call lets the event loop
    serve other requests."""

    def __init__(self) -> None:
        self.members = 0

    async def __call__(self) -> None:
        self.members += 1
        if self.members % YIELD_EVERY == 0:
            await asyncio.sleep(0)
