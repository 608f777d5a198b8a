"""The live feed's counting (``federationActivity``): one hub per gateway replica counts every
followed country's events per window, under the figures' rule (``docs/figures.md``), once for
all its subscribers.

What it owns: the hub (``hub_of``, made when the first subscriber of some views comes, and
stopped when the last one goes), its one listener of every applied event
(``gateway.listeners``, ``Listeners.tap``), the windows it counts, and the answer of each
window per country. What it reads: the views (an event's cooperative, and that
cooperative's country) and the figures' atoms (``gateway.figures.cache``: who is in a safe
population atom). It writes nothing.

The rule of a window: windows end at whole multiples of the window's length (UTC), so every
subscriber sees the same ones, and the hub's first window, which began before it, is never
counted. An event counts in the window during which the hub took it, and only if every member
it touches is in a safe population atom (at least ``MIN_CELL`` people of one cooperative,
nationality and gender) of the event's cooperative, in the atoms as they are once the window
has ended (so a member who joined in the window counts if her atom is safe with her). A
country's counts are shown for a window only when at least ``MIN_CELL`` such members are
behind them; otherwise its answer is None, as it is for a window in which the hub fell behind
and missed events.

One hub: an event costs one look-up (its account or course, when it does not name its
cooperative) whoever follows the feed, and a subscriber waits for one answer per window
(docs/gateway-notes.md says why). Each subscriber still holds a
place under the caps (an unfed listener), so the caps count it as a subscription.

The atoms a window needs are those of the cooperatives it touched, computed (a "scan", as
the figures' cache still calls it, whether kept figures are read or members) after the last
event the hub took that may have changed who is in them (a membership started, a
registration, a member's details corrected, an erasure; ``_note_change``), and after the hub
began: a window of deposits by people the atoms already hold costs no scan, a newcomer's
window one scan of her cooperative, whoever follows the feed.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import math
import time
import weakref
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from gateway.auth import Caller
from gateway.context import Keys, Views
from gateway.figures.cache import figures_of
from gateway.figures.disclosure import MIN_CELL
from gateway.listeners import FellBehind
from schemas import membership as m
from schemas.fields import days_happened

log = logging.getLogger(__name__)

#: The hub lets other coroutines run after taking this many events in a row.
YIELD_EVERY = 500
#: The windows whose answers are kept after they are counted, for a subscriber that reads
#: late; an older window is answered None.
KEPT_WINDOWS = 4

#: A count of one window: (service, event type) -> how many.
Counts = Counter


@dataclass
class _Window:
    """What the hub took in one window: per cooperative, per set of members touched and
    months the events are about (``_months``), how many events of each type."""

    events: dict[str, dict[tuple[tuple[str, ...], tuple[str, ...]], Counts]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(Counter)))
    missed: bool = False  # the hub fell behind during it
    closed: float = 0.0  # when it ended (``time.monotonic``)


class ActivityHub:
    """Counts the followed countries' events of one gateway's views per window of
    ``window`` seconds, for every subscriber of the feed."""

    def __init__(self, views: Views, keys: Keys, window: float):
        self.views, self.keys, self.window = views, keys, window
        self._following: Counter[str] = Counter()  # country -> subscribers
        self._task: asyncio.Task | None = None
        self._closing: set[asyncio.Task] = set()
        self._answers: dict[int, asyncio.Future] = {}  # window number -> its answers
        self._first = self._number = 0  # the hub's first window; the one under way
        self._countries: dict[str, str | None] = {}  # cooperative -> country (never changes)
        #: cooperative -> when the hub last took an event that may change who is in its
        #: population atoms (``time.monotonic``); unknown ones: when the hub began taking
        self._changed: dict[str, float] = {}
        self._began = 0.0
        self.missed = 0  # windows not shown because the hub fell behind during them

    @property
    def running(self) -> bool:
        return self._task is not None

    def number_at(self, moment: float) -> int:
        """The number of the window under way at ``moment`` (``time.time()``): it ends at
        that number times ``window``."""
        return math.floor(moment / self.window) + 1

    @contextlib.asynccontextmanager
    async def following(self, caller: Caller, country: str) -> AsyncIterator[None]:
        """``caller`` follows ``country`` while inside: a subscription under the caps
        (raises ``TooManySubscriptions`` over one), counted by the hub, started if need be."""
        listeners = self.views.listeners
        seat = listeners.listen(caller, fed=False)
        self._following[country] += 1
        if self._task is None:
            self._first = self._number = self.number_at(time.time())
            self._task = asyncio.ensure_future(self._count())
        try:
            yield
        finally:
            listeners.unlisten(seat)
            self._following[country] -= 1
            if self._following[country] <= 0:
                del self._following[country]
            if not self._following:
                self._stop()

    async def counts(self, number: int, country: str) -> Counts | None:
        """``country``'s counts of window ``number`` once it has ended and been counted, or
        None if they are not shown (or the window is too old to be kept)."""
        if number < self._number - KEPT_WINDOWS:
            return None
        answers = await asyncio.shield(self._answer(number))
        return answers.get(country)

    def _answer(self, number: int) -> asyncio.Future:
        future = self._answers.get(number)
        if future is None:
            future = self._answers[number] = asyncio.get_running_loop().create_future()
        return future

    def _stop(self) -> None:
        for task in (self._task, *self._closing):
            if task is not None:
                task.cancel()
        self._task, self._closing = None, set()
        for future in self._answers.values():
            future.cancel()
        self._answers = {}

    # -- counting

    async def _count(self) -> None:
        """Take every applied event into the window under way; at each window's end, count
        it apart (``_close``) and go on with the next."""
        listeners = self.views.listeners
        tap = listeners.tap()
        self._began, self._changed = time.monotonic(), {}
        window = _Window()
        try:
            while True:
                try:
                    async with asyncio.timeout(max(0.0, self._number * self.window
                                                   - time.time())):
                        taken = 0
                        while True:
                            touched, (envelope, event) = await tap.get()
                            self._take(window, touched, envelope, event)
                            taken += 1
                            if taken % YIELD_EVERY == 0:
                                await asyncio.sleep(0)
                except TimeoutError:
                    pass
                except FellBehind:  # it missed events: this window is not shown
                    if not window.missed:
                        self.missed += 1
                        log.warning("the live feed's hub fell behind and missed events: "
                                    "its window is shown as null")
                    window.missed = True
                    tap = listeners.tap()
                    self._began, self._changed = time.monotonic(), {}  # what did it miss?
                    continue
                self._close(self._number, window)
                window = _Window()
                self._number += 1
        finally:
            listeners.unlisten(tap)

    def _take(self, window: _Window, touched: list[str], envelope, event) -> None:
        cooperative_id = self._cooperative_of(event)
        self._note_change(event, cooperative_id)
        if cooperative_id is None or not touched:
            return  # an event of nobody, or of no cooperative, counts nowhere
        if self._country_of(cooperative_id) not in self._following:
            return
        kind = (event.contract_service, event.contract_name)
        window.events[cooperative_id][tuple(sorted(touched)), _months(envelope, event)][kind] += 1

    def _note_change(self, event, cooperative_id: str | None) -> None:
        """Note the cooperatives whose population atoms ``event`` may change: a membership
        started or a registration there, a member's details corrected or her erasure in each
        of her cooperatives (population atoms hold everyone who ever joined, by nationality
        and gender, so nothing else moves anyone in or out of them)."""
        if isinstance(event, m.MembershipStarted | m.MemberRegistered):
            cooperatives = [cooperative_id] if cooperative_id else []
        elif isinstance(event, m.MemberDetailsCorrected | m.MemberErased):
            record = self.views.get("members", event.member_id)
            cooperatives = {x.cooperative_id for x in record.memberships} if record else ()
        else:
            return
        now = time.monotonic()
        for changed in cooperatives:
            self._changed[changed] = now

    def _cooperative_of(self, event) -> str | None:
        views = self.views
        cooperative_id = getattr(event, "cooperative_id", None)
        if cooperative_id is None and hasattr(event, "account_id"):
            account = views.get("accounts", event.account_id)
            cooperative_id = account.cooperative_id if account else None
        if cooperative_id is None and hasattr(event, "course_id"):
            course = views.get("courses", event.course_id)
            cooperative_id = course.cooperative_id if course else None
        return cooperative_id

    def _country_of(self, cooperative_id: str) -> str | None:
        if cooperative_id not in self._countries:
            cooperative = self.views.get("cooperatives", cooperative_id)
            if cooperative is None or not cooperative.country:
                return None  # not registered yet: asked again next time
            self._countries[cooperative_id] = cooperative.country
        return self._countries[cooperative_id]

    def _close(self, number: int, window: _Window) -> None:
        """Count window ``number`` apart, while the next one fills; forget old answers."""
        window.closed = time.monotonic()
        task = asyncio.ensure_future(self._settle(number, window))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)
        for old in [n for n in self._answers if n < number - KEPT_WINDOWS]:
            future = self._answers.pop(old)
            if not future.done():  # still being counted that late: null, so none waits on
                future.set_result({})

    async def _settle(self, number: int, window: _Window) -> None:
        answers: dict[str, Counts] = {}
        if number != self._first and not window.missed:
            try:
                answers = await self._shown(window)
            except Exception as error:  # noqa: BLE001 - a window shown as null, not a hub down
                log.warning("the live feed's window could not be counted: %s",
                            type(error).__name__)
        future = self._answer(number)
        if not future.done():
            future.set_result(answers)

    async def _shown(self, window: _Window) -> dict[str, Counts]:
        """Each followed country's counts of ``window``, for those with at least
        ``MIN_CELL`` members behind them: an event counts if each member it touches is in a
        safe population atom and in a safe flow atom of each month the event is about, in
        atoms scanned after the last change the hub took of each cooperative's people (so
        after the window's own newcomers; a window of deposits by members the atoms already
        hold in that month needs no scan), and scanned again after the window if one of its
        members had nothing in one of those months yet."""
        figures, today = figures_of(self.views), dt.datetime.now(dt.UTC).date()
        found: dict[str, tuple[Counts, set[str]]] = {}
        for cooperative_id, by_members in window.events.items():
            country = self._country_of(cooperative_id)
            if country not in self._following:
                continue
            since = self._changed.get(cooperative_id, self._began)
            atoms = await figures.atoms_since(self.views, self.keys, cooperative_id, today,
                                              since=since)
            if atoms is not None and not all(
                    atoms.seen_in.get(month, frozenset()).issuperset(atoms.who(touched, month))
                    for touched, months in by_members for month in months):
                atoms = await figures.atoms_since(self.views, self.keys, cooperative_id,
                                                  today, since=max(since, window.closed))
            if atoms is None:
                continue
            counts, members = found.setdefault(country, (Counter(), set()))
            for (touched, months), kinds in by_members.items():
                if all(atoms.safe_in.get(slot, frozenset()).issuperset(atoms.who(touched, slot))
                       for slot in (None, *months)):  # as the atoms name them (kept: rows)
                    counts.update(kinds)
                    members.update(touched)
        return {country: counts for country, (counts, members) in found.items()
                if len(members) >= MIN_CELL}


def _months(envelope, event) -> tuple[str, ...]:
    """The months an event is about: the one it was recorded in, and those of the days it
    says something happened on. Its members' flows of those months are the figures' flow
    atoms it may add to, so it counts only if they are safe (a feed's count minus the
    figures' must not give a hidden atom's events)."""
    months = {envelope.time.strftime("%Y-%m")}  # a booked_on of None: the day it was recorded
    months.update(day.strftime("%Y-%m") for day in days_happened(event))
    return tuple(sorted(months))


_HUBS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def hub_of(views: Views, keys: Keys, window: float) -> ActivityHub:
    """The hub of ``views`` (one per gateway), made when first asked for, with windows of
    ``window`` seconds."""
    hub = _HUBS.get(views)
    if hub is None or (hub.window != window and not hub.running):
        hub = _HUBS[views] = ActivityHub(views, keys, window)
    return hub
