"""The disclosure-control rule for the federation's figures (``docs/figures.md``): atoms, which
atoms are safe, which group atoms survive secondary suppression, and how an answer's cells
are summed from safe atoms only. Pure: no I/O, no GraphQL. ``gateway.figures.scan`` turns
the read models into each member's contributions and asks this module for the atoms;
``gateway.figures.types`` asks it for the cells.

* A **population atom** is (cooperative, corridor, gender): the members of one cooperative of
  one nationality and gender; a **flow atom** adds a month. Stocks (savings balance, active
  members) come from population atoms, flows from flow atoms.
* An atom is **safe** when at least ``MIN_CELL`` distinct members contribute to it. An unsafe
  atom adds to no published figure, in any answer: the filters and groupings select whole
  atoms, so any difference of published figures is a sum of safe atoms.
* **Group atoms** are (cooperative, group) and (cooperative, group, month), built only from
  what safe atoms hold, with the same threshold. Groups overlap, and some members are in none,
  so for each cooperative and each slot (today's population, or one month) the slot's people
  are parted by the exact set of published group atoms they are in (the *regions*; those in
  none are the remainder), and every region must hold 0 or at least ``MIN_CELL`` people;
  otherwise the smallest published group atom is suppressed too, and the check is made again.
"""

from __future__ import annotations

import secrets
from collections import ChainMap, Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

MIN_CELL = 5
#: The group of the members who belong to no group of their cooperative.
NO_GROUP = "none"
#: The cell that stands for every key with no safe atom: no figures, not even its keys.
HIDDEN = "*"


#: The figures of a ``Tally`` that are counts, and those counted per key (a currency, a kind
#: of course, a CEFR level).
COUNTS = ("joined", "left", "active", "returned_home", "sent", "certificates")
KEYED = ("deposits", "balances", "volume", "courses", "levels")


@dataclass(slots=True)
class Tally:
    """Figures that add up: of an atom, or of a cell. ``members`` holds who is behind them:
    member ids, or where the figures are kept (``gateway.figures.kept``) the id of a class of
    members alike, which stands for ``weights[id]`` people (absent: one)."""

    members: set = field(default_factory=set)
    weights: dict = field(default_factory=dict)
    shapes: dict = field(default_factory=dict)
    joined: int = 0
    left: int = 0
    active: int = 0  # memberships active today
    returned_home: int = 0
    arrivals: set = field(default_factory=set)  # (member id, credential id) imported
    deposits: Counter = field(default_factory=Counter)
    balances: Counter = field(default_factory=Counter)
    sent: int = 0
    volume: Counter = field(default_factory=Counter)
    fee_sum: Decimal = Decimal(0)  # of the fees as a percentage of the amounts sent,
    fee_count: int = 0  # over this many account-months with remittances
    courses: Counter = field(default_factory=Counter)
    levels: Counter = field(default_factory=Counter)
    certificates: int = 0

    def take(self, member_id: str, flow: Flow) -> None:
        """One figure of one member (``Contribution.flows``)."""
        self.members.add(member_id)
        _, what, key, amount = flow
        if what in COUNTS:
            setattr(self, what, getattr(self, what) + amount)
        elif what in KEYED:
            getattr(self, what)[key] += amount
        elif what == "arrivals":
            self.arrivals.add((member_id, key))
        elif what == "fee_percents":  # key: how many account-months (None: one)
            self.fee_sum += amount
            self.fee_count += 1 if key is None else key

    def add(self, other: Tally) -> None:
        self.members |= other.members
        for what in COUNTS:
            setattr(self, what, getattr(self, what) + getattr(other, what))
        for what in KEYED:
            if getattr(other, what):  # most are empty; Counter.update is not free
                getattr(self, what).update(getattr(other, what))
        self.arrivals |= other.arrivals
        self.fee_sum += other.fee_sum
        self.fee_count += other.fee_count

    @property
    def people(self) -> int:
        """How many people are behind the figures."""
        return headcount(self.members, self.weights, self.shapes)

    @property
    def safe(self) -> bool:
        return self.people >= MIN_CELL


def headcount(members: Iterable, weights: dict | None = None,
              shapes: Mapping | None = None) -> int:
    """The people that ``members`` stand for: each one, or ``weights[id]`` people; an id
    ``(row, slot)`` stands for the people of a kept row in one slot (``gateway.figures.kept``),
    and those of one row in several slots are counted once, by the row's ``shapes`` (how
    many of its people have a flow in exactly which months, ``|``-joined)."""
    if not weights:
        return len(members)  # type: ignore[arg-type]
    if not shapes:
        return sum(weights.get(member, 1) for member in members)
    total, rows = 0, {}
    for member in members:
        if type(member) is tuple:
            rows.setdefault(member[0], []).append(member[1])
        else:
            total += weights.get(member, 1)
    for row, slots in rows.items():
        if None in slots or len(slots) == 1:  # today's slot: all of them
            total += weights[(row, None if None in slots else slots[0])]
        else:  # how many have a flow in one of these months (shapes: "2026-05|2026-07")
            chosen = frozenset(slots)
            total += sum(n for months, n in shapes[row].items()
                         if not chosen.isdisjoint(months.split("|")))
    return total


#: One figure of a member: (its month, or None for today's; which figure of a ``Tally``, or
#: "member" for none but her being counted; its key; how much)
Flow = tuple[str | None, str, Any, Any]


@dataclass(slots=True)
class Contribution:
    """One member's part in one cooperative's figures: her figures of today (stocks, and her
    being a member) and of each month (flows), as plain tuples: a scan makes one per member."""

    member_id: str
    corridor: str
    gender: str
    groups: tuple[str, ...]  # her groups in this cooperative, or (NO_GROUP,)
    flows: list[Flow] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.flows.append((None, "member", None, None))

    def add(self, month: str | None, what: str, key: Any = None, amount: Any = 1) -> None:
        self.flows.append((month, what, key, amount))


@dataclass(frozen=True)
class Atom:
    """The figures of one atom and whether they may be published. A corridor atom has a
    corridor and a gender, a group atom a group; a population atom has no month."""

    tally: Tally
    published: bool
    corridor: str | None = None
    gender: str | None = None
    group: str | None = None
    month: str | None = None


@dataclass(frozen=True)
class CooperativeAtoms:
    cooperative_id: str
    country: str
    atoms: list[Atom]
    #: the members in a safe atom of each slot (None: the population atoms; a month: that
    #: month's flow atoms), and every member with something in each slot, safe or not: what
    #: the live feed asks (``gateway.figures.activity``), through ``who``
    safe_in: dict[str | None, frozenset[str]] = field(default_factory=dict)
    seen_in: dict[str | None, frozenset[str]] = field(default_factory=dict)
    #: the people each kept row stands for in a slot, and the month sets of a row's people
    #: (kept figures, ``headcount``; empty: each member one person)
    weights: dict = field(default_factory=dict)
    shapes: Mapping = field(default_factory=dict)
    #: how the atoms name a member in a slot (her id, or her row's: ``gateway.figures.kept``)
    identify: Callable[[str, str | None], Any] | None = None

    @property
    def safe_members(self) -> frozenset[str]:
        """The members in a safe population atom (as the atoms name them: ``who``)."""
        return self.safe_in.get(None, frozenset())

    def who(self, members: Iterable[str], slot: str | None) -> list:
        """``members`` as the atoms name them in ``slot`` (None: one they do not know)."""
        identify = self.identify
        return list(members) if identify is None else [identify(m, slot) for m in members]


def cooperative_atoms(cooperative_id: str, country: str,
                      contributions: Iterable[Contribution],
                      weights: dict | None = None, shapes: Mapping | None = None,
                      identify: Callable[[str, str | None], Any] | None = None,
                      ) -> CooperativeAtoms:
    """The atoms of one cooperative, each marked published or not, from its members'
    contributions (or its kept rows', each ``weights[id]`` people: ``headcount``)."""
    contributions = list(contributions)
    weights, shapes = weights or {}, shapes or {}

    def tally() -> Tally:
        return Tally(weights=weights, shapes=shapes)

    corridors: dict[tuple[str, str, str | None], Tally] = defaultdict(tally)
    for c in contributions:
        for flow in c.flows:
            corridors[(c.corridor, c.gender, flow[0])].take(c.member_id, flow)
    # group atoms hold only what safe corridor atoms hold: an unsafe atom adds to no figure
    safe = {key: kept.safe for key, kept in corridors.items()}
    groups: dict[tuple[str, str | None], Tally] = defaultdict(tally)
    slots: dict[str | None, set[str]] = defaultdict(set)  # the people of each slot
    for c in contributions:
        for flow in c.flows:
            month = flow[0]
            if safe[(c.corridor, c.gender, month)]:
                slots[month].add(c.member_id)
                for group in c.groups:
                    groups[(group, month)].take(c.member_id, flow)
    by_slot: dict[str | None, dict[str, set[str]]] = defaultdict(dict)
    for (group, month), kept in groups.items():
        by_slot[month][group] = kept.members
    published: set[tuple[str, str | None]] = set()
    for month, people in slots.items():
        published.update((group, month)
                         for group in _kept_groups(people, by_slot[month], weights))
    atoms = [Atom(kept, safe[(corridor, gender, month)], corridor=corridor, gender=gender,
                  month=month) for (corridor, gender, month), kept in corridors.items()]
    atoms += [Atom(kept, (group, month) in published, group=group, month=month)
              for (group, month), kept in groups.items()]
    seen: dict[str | None, set[str]] = defaultdict(set)
    for (_, _, month), kept in corridors.items():
        seen[month] |= kept.members
    return CooperativeAtoms(cooperative_id, country, atoms,
                            {month: frozenset(people) for month, people in slots.items()},
                            {month: frozenset(people) for month, people in seen.items()},
                            weights, shapes, identify)


def _kept_groups(people: set[str], groups: dict[str, set[str]],
                 weights: dict[str, int] | None = None) -> set[str]:
    """The group atoms of one slot that may be published: the safe ones, less the smallest
    (ties by key) until every region (the people of the slot in exactly the same published
    groups; those in none are the remainder) holds 0 or at least ``MIN_CELL`` people. Any set
    an analyst can make of the published cells of a slot (an intersection, a difference, the
    slot's total minus their union) is a union of regions, so it holds 0 or ``MIN_CELL``.
    (A class of members alike, ``weights``, is in the same groups: it moves as one, with
    all its people.)

    The regions are kept up to date as groups are suppressed, each suppression moving only
    the suppressed group's people, so the work grows with the sum of the groups' sizes, not
    with their number squared. A person's set of published groups is held as the XOR of a
    random 128-bit token per group (drawn anew for each call, so no one can choose groups
    that collide): two different sets share a token with a chance of 2**-128."""
    weights = weights or {}
    sizes = {group: headcount(members, weights) for group, members in groups.items()}
    order = sorted((group for group, size in sizes.items() if size >= MIN_CELL),
                   key=lambda group: (sizes[group], group))
    kept = set(order)
    draw = secrets.randbits
    tokens = {group: draw(128) for group in order}
    theirs: dict[str, int] = {}  # each person's published groups (0: none)
    for group in order:
        token = tokens[group]
        for member in groups[group]:
            theirs[member] = theirs.get(member, 0) ^ token
    regions: Counter = Counter()
    for member, token in theirs.items():
        regions[token] += weights.get(member, 1)
    regions[0] += headcount(people, weights) - headcount(theirs, weights)  # the remainder
    short = sum(1 for size in regions.values() if not enough(size))  # regions of 1 to 4
    for group in order:  # the smallest first
        if not short:
            break
        kept.remove(group)
        token = tokens[group]
        for member in groups[group]:
            before = theirs[member]
            theirs[member] = after = before ^ token
            weight = weights.get(member, 1)
            for region, by in ((before, -weight), (after, weight)):
                size = regions[region]
                short += (not enough(size + by)) - (not enough(size))
                regions[region] = size + by
    return kept


def enough(people: int) -> bool:
    """Whether a set of people may stand apart: none, or at least ``MIN_CELL``."""
    return people == 0 or people >= MIN_CELL


@dataclass(frozen=True)
class Question:
    """What an answer selects and how it groups: ``group_by`` is ``cooperative``,
    ``country``, ``corridor``, ``gender``, ``month`` or ``group``; the months are
    ``YYYY-MM``, inclusive."""

    group_by: str
    country: str | None = None
    cooperative_id: str | None = None
    from_month: str | None = None
    to_month: str | None = None
    gender: str | None = None

    @property
    def has_period(self) -> bool:
        return self.from_month is not None or self.to_month is not None

    @property
    def stocks(self) -> bool:
        """Whether today's figures (population atoms) answer it: not by month, nor with a
        period (a stock has no month)."""
        return not self.has_period and self.group_by != "month"

    def in_period(self, month: str) -> bool:
        return ((self.from_month is None or month >= self.from_month)
                and (self.to_month is None or month <= self.to_month))


def cells(cooperatives: Iterable[CooperativeAtoms], question: Question,
          ) -> tuple[list[tuple[str, Tally]], bool]:
    """The published cells in key order, each the sum of its published atoms, and whether
    some key had none (its cell is ``HIDDEN``). A group's id is new only in its cooperative,
    and every cooperative has its ``NO_GROUP``: group cells are one cooperative's each, keyed
    by the group's id alone unless two shown cells would share it, then each of those by its
    cooperative's id, a slash and the group's id."""
    cooperatives = list(cooperatives)
    by_group = question.group_by == "group"
    found: dict[str | tuple[str, str], list[Atom]] = defaultdict(list)
    for cooperative in cooperatives:
        for atom in cooperative.atoms:
            if (atom.group is not None) != by_group:
                continue
            if question.gender is not None and atom.gender != question.gender:
                continue
            if atom.month is None:
                if not question.stocks:
                    continue
            elif not question.in_period(atom.month):
                continue
            key = _key(question.group_by, cooperative, atom)
            found[(cooperative.cooperative_id, key) if by_group else key].append(atom)
    weights: dict = {}  # every kept row's, across the cooperatives (ids never meet)
    for cooperative in cooperatives:
        weights.update(cooperative.weights)
    shapes = ChainMap(*(cooperative.shapes for cooperative in cooperatives))  # read if asked
    shown, hidden = [], False
    for key, atoms in found.items():
        tally = Tally(weights=weights, shapes=shapes)
        for atom in atoms:
            if atom.published:
                tally.add(atom.tally)
        if tally.members:
            shown.append((key, tally))
        else:
            hidden = True
    if by_group:
        twice = {g for g, n in Counter(group for (_, group), _ in shown).items() if n > 1}
        shown = [(f"{cooperative}/{group}" if group in twice else group, tally)
                 for (cooperative, group), tally in shown]
    return sorted(shown, key=lambda cell: cell[0]), hidden


def _key(group_by: str, cooperative: CooperativeAtoms, atom: Atom) -> str:
    match group_by:
        case "cooperative":
            return cooperative.cooperative_id
        case "country":
            return cooperative.country
        case "corridor":
            return atom.corridor
        case "gender":
            return atom.gender
        case "month":
            return atom.month
        case "group":
            return atom.group
    raise ValueError(f"no such grouping: {group_by}")
