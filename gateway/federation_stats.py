"""Federation aggregates: members, savings, remittances and training by cooperative, country,
corridor (host country -> home country, ``ES-EC``: the way every corridor is written, a
remittance's too), gender, month or group (a cooperative's solidarity groups and societies,
keyed by group id: a member counts in each group she belongs to, and those in no group in the
cell ``none``). For analysts and the node admin; a cooperative's admins get the figures of
their own cooperative only, under the same rule.

What it owns: the GraphQL types of the figures, the scan that turns the read models into each
member's contributions (opening her seal for nationality and gender, so an erased member is
gone from every figure once the atoms are scanned again, within ``FRESH_SECONDS``), and the
guard around that scan. The disclosure-control rule is ``gateway.disclosure``'s
(``docs/figures.md``): every figure is a sum over atoms (a cooperative's members of one
nationality and gender, and a month for flows), an atom about fewer than ``MIN_CELL`` people
adds to no figure in any answer, and a key with no safe atom goes into the cell ``*`` (its key
hidden, no figures).

Every flow has a month (joined, left, returned home, arrived home, deposited, remitted,
completed, certified), so the period filter bounds all of them, and grouping by ``MONTH``
gives a time series; deposits and remittances count in the month they were booked. The
savings balance and the active members (memberships started and not ended by today) are
stocks, today's, shown for the other groupings only; the active members are null with a period
filter too (a stock has no month to bound). The average fee is the mean, over account-months
with remittances, of fees / amount sent. ``arrived_home`` counts the records brought home from
other nodes and imported here (once per cell, in the cooperatives where she is a member);
``returned_home`` the memberships that ended because she went home. A gender filter keeps
only the atoms of that gender (``unstated``: those who gave none).

The guard (issue 18, finding 5), so that one request cannot hold the gateway: the field weighs
``FIGURES_COST`` in the cost rule (``gateway.schema``); a cooperative's atoms, once scanned,
are used again for ``FRESH_SECONDS`` whatever arrives meanwhile (so the figures may be that
old), and up to ``KEEP_SECONDS`` while nothing at all is applied (the ``applied`` count of
``views.stats``), that day; an answer is kept (the last ``MAX_ANSWERS``) while the atoms it
was summed from are the ones in use, so aliases of one request, other callers and the same
question asked again share one scan even while events keep arriving; one computation runs at
a time; and a scan yields to the event loop every ``YIELD_EVERY`` members. The live feed
(``gateway.activity``) asks the same atoms who is in a safe population atom.
"""

from __future__ import annotations

import asyncio
import contextvars
import datetime as dt
import re
import uuid
import time
import weakref
from collections import Counter, OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import Annotated

import msgspec
import strawberry
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.types import Info

from gateway.auth import Role
from gateway.context import GatewayContext, Keys, Views
from gateway.disclosure import (
    HIDDEN,
    MIN_CELL,
    NO_GROUP,
    Contribution,
    CooperativeAtoms,
    Question,
    cells,
    cooperative_atoms,
)
from gateway.documents import MemberRecord
from gateway.members.documents import ALL_COUNTRIES
from gateway.types import Money
from schemas import membership as m
from schemas.fields import Money as MoneyValue
from schemas.savings import corridor

GENDERS = (*(g.value for g in m.Gender), "unstated")
MONTH = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])")
COUNTRY = re.compile(r"[A-Za-z]{2}")
#: What one federationStats field costs in the cost rule, whatever it selects: a document
#: holds at most MAX_COST / FIGURES_COST (10) of them.
FIGURES_COST = 500
#: A scan lets other requests run after this many members.
YIELD_EVERY = 200
#: Atoms computed less than this long ago are used again, whatever was applied since: the
#: figures may be this old (docs/figures.md).
FRESH_SECONDS = 5.0
#: Atoms are used again this long at most, and only while nothing at all was applied since.
KEEP_SECONDS = 60.0
#: The answers kept (the least recently asked goes first).
MAX_ANSWERS = 256


@strawberry.enum(description="What the figures' cells are")
class StatsDimension(Enum):
    COOPERATIVE = strawberry.enum_value("cooperative", description="one cell per cooperative, "
                                        "keyed by its id")
    COUNTRY = strawberry.enum_value("country", description="one cell per country of the "
                                    "cooperatives, keyed by its ISO 3166-1 alpha-2 code")
    CORRIDOR = strawberry.enum_value(
        "corridor", description="one cell per migration corridor: the cooperative's country, "
        "a hyphen, her nationality (ES-EC), written like a remittance's corridor")
    GENDER = strawberry.enum_value("gender", description="one cell per gender: female, male, "
                                   "other, unstated")
    MONTH = strawberry.enum_value(
        "month", description="one cell per month (YYYY-MM), each flow in its month: a time "
        "series; the stocks (active members, savings balance) are null")
    GROUP = strawberry.enum_value(
        "group", description="one cell per member group of a cooperative, keyed by its id "
        "(its cooperative's id, a slash and its id where two shown cells would share a key); a "
        "member counts in each of her groups, those in none in their cooperative's cell none. "
        "A group's figures are also held "
        "back when the people left outside the groups shown, or those in two or more of them, "
        "would be fewer than 5 (in any cooperative and month); not with the gender filter")


@strawberry.input(description="Which figures, and how to group them")
class StatsFilter:
    group_by: StatsDimension = strawberry.field(
        default=StatsDimension.COUNTRY, description="what the cells are (default: COUNTRY)")
    country: str | None = strawberry.field(
        default=None, description="only the cooperatives of this country: an ISO 3166-1 "
                                  "alpha-2 code (ES)")
    cooperative_id: strawberry.ID | None = strawberry.field(
        default=None, description="only this cooperative (its id); a cooperative's admin "
                                  "always gets her own cooperative's figures only")
    from_month: str | None = strawberry.field(default=None, description="YYYY-MM, inclusive")
    to_month: str | None = strawberry.field(default=None, description="YYYY-MM, inclusive")
    gender: str | None = strawberry.field(
        default=None, description="only members of this gender: " + ", ".join(GENDERS)
                                  + "; not with groupBy GROUP")


@strawberry.type(description="How many of one kind")
class Count:
    key: str = strawberry.field(description="the kind: a course kind (language …) or a CEFR "
                                            "level (A1 … C2)")
    count: int = strawberry.field(description="how many")


@strawberry.type(description="The figures of one cell, each a sum over its atoms of at least "
                             "5 people (a cooperative's members of one nationality and "
                             "gender, in one month for flows; docs/figures.md): flows are "
                             "counted in the period asked (all time without one), stocks are "
                             "today's")
class StatsCell:
    key: str = strawberry.field(
        description="the cell's key, as the grouping says (a cooperative's id, ES, ES-EC, "
                    "female, 2026-03, a group's id or none); * for the keys without an atom of at least 5 "
                    "people, merged")
    suppressed: bool = strawberry.field(
        description="this is the cell * that merges the keys without an atom of at least 5 "
                    "people: every figure is null")
    members: int | None = strawberry.field(
        description="the people behind the cell's figures, each counted once across the "
                    "cell's atoms (so one in two cooperatives counts once in their country): "
                    "without a period, the members its cooperatives ever had; with one, those "
                    "behind a figure in it")
    joined: int | None = strawberry.field(description="memberships started")
    left: int | None = strawberry.field(description="memberships ended")
    active_members: int | None = strawberry.field(
        description="memberships active today (started, not ended): a stock, null when "
                    "grouped by MONTH or filtered by period")
    returned_home: int | None = strawberry.field(
        description="memberships that ended because she returned home")
    arrived_home: int | None = strawberry.field(
        description="records from other nodes imported here (members coming home)")
    deposits: list[Money] | None = strawberry.field(
        description="money deposited, booked in the period: one amount per currency")
    savings_balance: list[Money] | None = strawberry.field(
        description="what savings accounts hold today (a stock), one amount per currency: "
                    "null when grouped by MONTH, empty with a period")
    remittances_sent: int | None = strawberry.field(
        description="remittances sent, booked in the period (refunded ones not counted)")
    remittance_volume: list[Money] | None = strawberry.field(
        description="the amounts those remittances sent, fees not included: one per currency")
    average_fee_percent: str | None = strawberry.field(
        description="the average fee as a percentage of the amount sent (\"1.75\"): the mean "
                    "over account-months with remittances; null when none were sent")
    courses_completed: list[Count] | None = strawberry.field(
        description="courses passed, by kind of course")
    cefr_levels: list[Count] | None = strawberry.field(
        description="CEFR levels certified, by level")
    certificates: int | None = strawberry.field(
        description="certificates issued and not revoked")


@strawberry.type(description="The federation's figures: one cell per key of the grouping")
class FederationStats:
    group_by: StatsDimension = strawberry.field(description="what the cells are")
    min_cell: int = strawberry.field(
        description="the fewest people an atom (a cooperative's members of one nationality "
                    "and gender, in one month for flows) must be about to count in any "
                    "figure (5)")
    cells: list[StatsCell] = strawberry.field(
        description="the cells in key order, then the cell * of the keys without figures, "
                    "if any")


async def federation_stats(info: Info[GatewayContext, None],
                           filter: Annotated[StatsFilter | None, strawberry.argument(
                               description="which figures and how to group them; absent: "
                                           "all, by COUNTRY")] = None,
                           ) -> FederationStats | None:
    context = info.context
    caller = context.caller
    filter = filter or StatsFilter()
    cooperative_id = filter.cooperative_id
    if caller.role is Role.ADMIN:  # a cooperative's admins: their own cooperative's figures
        if cooperative_id not in (None, caller.cooperative_id):
            return None
        cooperative_id = caller.cooperative_id
    elif caller.role not in (Role.ANALYST, Role.NODE_ADMIN):
        return None
    if filter.gender is not None and filter.gender not in GENDERS:
        raise GraphQLError(f"gender is one of {', '.join(GENDERS)}")
    for name, month in (("fromMonth", filter.from_month), ("toMonth", filter.to_month)):
        if month is not None and not MONTH.fullmatch(month):
            raise GraphQLError(f"{name} is a month written YYYY-MM (2026-03)")
    if filter.country is not None and not COUNTRY.fullmatch(filter.country):
        raise GraphQLError("country is an ISO 3166-1 alpha-2 code (ES)")
    if filter.cooperative_id is not None and not _is_uuid(filter.cooperative_id):
        raise GraphQLError("cooperativeId is a cooperative's id (a UUID)")
    if filter.gender is not None and filter.group_by is StatsDimension.GROUP:
        raise GraphQLError("groupBy GROUP cannot be combined with the gender filter: a "
                           "group's cells are not split by gender (docs/figures.md)")
    question = Question(group_by=filter.group_by.value,
                        country=filter.country.upper() if filter.country else None,
                        cooperative_id=cooperative_id, from_month=filter.from_month,
                        to_month=filter.to_month, gender=filter.gender)
    return await figures_of(context.views).answer(context, question)


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


# -- the guard ------------------------------------------------------------------------------

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
        found = self._kept_answer(context, question, pinned)
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
        (``gateway.activity``, which knows when its people last changed)."""
        async with self.lock:
            scanned = self._atoms.get(cooperative_id)
            if scanned is None or scanned.began < since:
                scanned = await self._rescan(views, keys, cooperative_id, today, _Pace())
        return scanned.atoms

    def _kept_answer(self, context: GatewayContext, question: Question,
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
                   for c in _cooperatives(context.views, question)]
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
        atoms = await _scan(views, keys, cooperative_id, today, pace)
        scanned = self._atoms[cooperative_id] = _Scanned(cooperative_id, atoms, today, began,
                                                         time.monotonic(), applied)
        return scanned

    async def _compute(self, context: GatewayContext, question: Question,
                       pinned: dict[str, _Scanned]) -> FederationStats:
        async with self.lock:
            found = self._kept_answer(context, question, pinned)
            if found is not None:
                return found
            views, today, pace = context.views, context.now.date(), _Pace()
            self._forget_stale(views, today)
            used = []
            for cooperative_id in _cooperatives(views, question):
                scanned = pinned.get(cooperative_id) or self._atoms.get(cooperative_id)
                if scanned is None or (pinned.get(cooperative_id) is not scanned
                                       and not self._fresh(scanned, views, today)):
                    scanned = await self._rescan(views, context.keys, cooperative_id, today,
                                                 pace)
                pinned[cooperative_id] = scanned
                used.append(scanned)
            answer = _answer([s.atoms for s in used if s.atoms is not None], question)
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


# -- the scan (issue 20 replaces it with counters kept as events arrive) -----------------------


def _cooperatives(views: Views, question: Question) -> Iterator[str]:
    index = views.get("countries", ALL_COUNTRIES)
    countries = [question.country] if question.country else (index.cooperatives if index else [])
    for country in countries:
        country_index = views.get("countries", country)
        for cooperative_id in (country_index.cooperatives if country_index else []):
            if question.cooperative_id in (None, cooperative_id):
                yield cooperative_id


async def _scan(views: Views, keys: Keys, cooperative_id: str, today: dt.date,
                pace: _Pace) -> CooperativeAtoms | None:
    """The atoms of one cooperative, from every member it ever had."""
    coop = views.get("cooperatives", cooperative_id)
    if coop is None:
        return None
    contributions = []
    for member_id in coop.members:
        await pace()
        record = views.get("members", member_id)
        if record is None or record.erased or record.personal is None:
            continue
        plaintext = await keys.open(member_id, record.personal)
        if plaintext is None:
            continue
        person = msgspec.json.decode(plaintext, type=m.PersonalDetails)
        contributions.append(_contribution(views, record, person, coop.country,
                                           cooperative_id, today))
    # the atoms' arithmetic (the groups' suppression above all) runs in a thread, so a
    # cooperative of many groups does not hold the gateway's event loop
    return await asyncio.to_thread(cooperative_atoms, cooperative_id, coop.country,
                                   contributions)


def _contribution(views: Views, record: MemberRecord, person: m.PersonalDetails,
                  country: str, cooperative_id: str, today: dt.date) -> Contribution:
    member_id = record.member_id
    me = Contribution(
        member_id=member_id, corridor=corridor(country, person.nationality),
        gender=person.gender.value if person.gender else "unstated",
        groups=tuple(g.group_id for g in record.groups
                     if g.cooperative_id == cooperative_id) or (NO_GROUP,))
    for membership in record.memberships:
        if membership.cooperative_id != cooperative_id:
            continue
        me.add(_month(membership.started_on), "joined")
        if membership.ended_on is not None:
            ended = _month(membership.ended_on)
            me.add(ended, "left")
            if membership.end_reason == m.EndReason.RETURNED_HOME.value:
                me.add(ended, "returned_home")
        if membership.started_on <= today and (membership.ended_on is None
                                               or membership.ended_on > today):
            me.add(None, "active")
    for imported in record.imports:
        me.add(_month(imported.imported_at), "arrivals", imported.credential_id)
    for account_id in record.accounts:
        account = views.get("accounts", account_id)
        if account is None or account.cooperative_id != cooperative_id:
            continue
        if account.product == "savings" and account.balance is not None:
            me.add(None, "balances", account.balance.currency, account.balance.amount)
        for month, flows in account.months.items():
            if not (flows.deposits or flows.remittances):
                continue
            me.add(month, "deposits", account.currency, flows.deposits)
            me.add(month, "sent", amount=flows.remittances)
            me.add(month, "volume", account.currency, flows.remitted)
            if flows.remitted:
                me.add(month, "fee_percents", amount=Decimal(flows.fees * 100) / flows.remitted)
    for enrolment in record.enrolments:
        course = views.get("courses", enrolment.course_id)
        if (course is not None and course.cooperative_id == cooperative_id
                and enrolment.result == "passed" and enrolment.completed_on is not None):
            me.add(_month(enrolment.completed_on), "courses", course.kind)
    for certificate in record.certificates:
        if (certificate.cooperative_id == cooperative_id and not certificate.revoked
                and certificate.issued_on is not None):
            issued = _month(certificate.issued_on)
            me.add(issued, "certificates")
            if certificate.level:
                me.add(issued, "levels", certificate.level)
    return me


def _month(day: dt.date) -> str:
    return day.strftime("%Y-%m")


# -- the answer -----------------------------------------------------------------------------


def _answer(cooperatives: list[CooperativeAtoms], question: Question) -> FederationStats:
    shown, hidden = cells(cooperatives, question)
    by_month = question.group_by == "month"
    answer = [StatsCell(
        key=key, suppressed=False, members=len(tally.members), joined=tally.joined,
        left=tally.left, returned_home=tally.returned_home,
        active_members=tally.active if question.stocks else None,
        arrived_home=len(tally.arrivals), deposits=_money(tally.deposits),
        savings_balance=None if by_month else _money(tally.balances),
        remittances_sent=tally.sent, remittance_volume=_money(tally.volume),
        average_fee_percent=(f"{sum(tally.fee_percents) / len(tally.fee_percents):.2f}"
                             if tally.fee_percents else None),
        courses_completed=[Count(key=k, count=v) for k, v in sorted(tally.courses.items())],
        cefr_levels=[Count(key=k, count=v) for k, v in sorted(tally.levels.items())],
        certificates=tally.certificates) for key, tally in shown]
    if hidden:
        answer.append(StatsCell(key=HIDDEN, suppressed=True, members=None, joined=None,
                                left=None, active_members=None, returned_home=None,
                                arrived_home=None, deposits=None, savings_balance=None,
                                remittances_sent=None, remittance_volume=None,
                                average_fee_percent=None, courses_completed=None,
                                cefr_levels=None, certificates=None))
    return FederationStats(group_by=StatsDimension(question.group_by), min_cell=MIN_CELL,
                           cells=answer)


def _money(counter: Counter) -> list[Money]:
    return [Money.from_value(MoneyValue(amount, currency))
            for currency, amount in sorted(counter.items())]
