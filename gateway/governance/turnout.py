"""Turnout of the assemblies once their voting closed (``assemblyTurnout``), by assembly,
country of residence and gender, under the figures' rule (``docs/figures.md``,
``docs/governance.md``):

* **Atoms.** Every figure is a sum over atoms ``(assembly, residence, gender)``: the members
  on that assembly's roll who live in that country and have that gender, with how many of
  them voted and how (remotely, by proxy, in person). Her residence is the country she said
  she lives in (``PersonalDetails.residence``, which she may correct herself), else her home
  country (her nationality) if her latest membership ended because she went home, else the
  country of the cooperative.
* **Fixed at the first answer.** An assembly's atoms are read once, at the first answer after
  its close (each member's seal opened for her residence and gender), and kept as counts: a
  later correction or erasure changes none of them (else the figures before and after would
  tell how she voted). A member erased before that reading is in no atom (in the rest).
* **Safe atoms.** An atom is published when at least ``MIN_CELL`` people of the roll are in
  it. The filters (cooperative, its country, assembly, residence, gender) and the groupings
  select whole atoms, so any published figure, and any difference of two, is about 5 people
  or more.
* **The rest of the roll.** An assembly's roll and its voters are published whole to those
  who see the assembly (the result counts everybody), so the people of the roll in no
  published atom (small atoms, the erased, those whose details cannot be read) must be 0 or
  at least ``MIN_CELL``; otherwise the smallest published atom of that assembly (ties by key)
  is held back too, and the check is made again.
* **The held-back cell.** One cell ``suppressed`` stands for every atom held back in the
  assemblies asked, whatever the residence or gender asked and however grouped: whether it is
  there says nothing about which keys are held back.
* Nothing before the close: an assembly counts here only once its ``PollClosed`` is folded
  (``voted`` in her record is set then), so no turnout is readable while the voting is open.

Reads the views (the assemblies, the cooperatives' assemblies, her record) and opens seals
(once per roll member and assembly, one assembly at a time); writes nothing.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import weakref
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from enum import Enum
from typing import Annotated

import msgspec
import strawberry
from graphql import GraphQLError
from strawberry.types import Info

from gateway.access import SignedIn, whose_figures
from gateway.context import GatewayContext, Keys, Views
from gateway.documents import MemberRecord
from gateway.figures import cache
from gateway.figures.disclosure import MIN_CELL, Question, enough
from gateway.figures.scan import cooperatives_asked, person_of
from gateway.figures.types import GENDERS, is_a
from gateway.governance.documents import AssemblyRef, AssemblyView
from gateway.i18n.types import LANG, LocalizedText, localized
from gateway.members.documents import CooperativeView
from schemas import governance as g
from schemas import membership as m
from schemas.fields import CountryCode, Id
from services.runtime.datakeys import SealBroken

#: How she voted, as her record says once the voting closed (``no``: she did not).
CHANNELS = tuple(c.value for c in g.Channel)


@dataclass
class Counts:
    on_roll: int = 0
    channels: dict[str, int] = field(default_factory=lambda: dict.fromkeys(CHANNELS, 0))

    @property
    def voted(self) -> int:
        return sum(self.channels.values())

    def add(self, other: Counts) -> None:
        self.on_roll += other.on_roll
        for channel, n in other.channels.items():
            self.channels[channel] += n


@dataclass(frozen=True)
class Atoms:
    """One closed assembly's atoms: (residence, gender) -> counts, and its roll's size."""

    roll: int
    atoms: dict[tuple[str, str], Counts]


def residence_of(person: m.PersonalDetails, record: MemberRecord, country: str) -> str:
    """Where she lives, as far as the node knows: what she said, else home if she is a member
    nowhere now and the membership that ended last ended because she went home, else the
    country of the cooperative (``country``)."""
    if person.residence:
        return person.residence
    ended = [x for x in record.memberships if x.ended_on is not None]
    if record.memberships and len(ended) == len(record.memberships):
        last = max(ended, key=lambda x: (x.ended_on, x.started_on))
        if last.end_reason == m.EndReason.RETURNED_HOME.value:
            return person.nationality
    return country


def _key(person: m.PersonalDetails, record: MemberRecord, country: str) -> tuple[str, str]:
    return (residence_of(person, record, country),
            person.gender.value if person.gender else "unstated")


def atoms_of(size: int, members: Iterable[tuple[tuple[str, str], str]]) -> Atoms:
    """The atoms of a closed assembly of ``size`` from its members readable, each her atom's
    key and how she voted (pure)."""
    atoms: dict[tuple[str, str], Counts] = {}
    for key, how in members:
        counts = atoms.setdefault(key, Counts())
        counts.on_roll += 1
        if how in CHANNELS:
            counts.channels[how] += 1
    return Atoms(size, atoms)


def published(atoms: Atoms) -> dict[tuple[str, str], Counts]:
    """The atoms shown: at least ``MIN_CELL`` on the roll each, and the rest of the roll 0 or
    at least ``MIN_CELL`` people (smallest atoms held back first, ties by key)."""
    shown = {k: c for k, c in atoms.atoms.items() if c.on_roll >= MIN_CELL}
    while shown:
        rest = atoms.roll - sum(c.on_roll for c in shown.values())
        if enough(rest):
            break
        del shown[min(shown, key=lambda k: (shown[k].on_roll, k))]
    return shown


# -- GraphQL ---------------------------------------------------------------------------------


@strawberry.enum(description="What the turnout's cells are")
class TurnoutDimension(Enum):
    ASSEMBLY = strawberry.enum_value("assembly", description="one cell per assembly")
    RESIDENCE = strawberry.enum_value(
        "residence", description="one cell per country of residence (ISO 3166-1 alpha-2)")
    GENDER = strawberry.enum_value("gender", description="one cell per gender: female, male, "
                                   "other, unstated")


@strawberry.input(description="Which assemblies' turnout, and how to group it")
class TurnoutFilter:
    group_by: list[TurnoutDimension] = strawberry.field(
        default_factory=lambda: [TurnoutDimension.ASSEMBLY],
        description="the cells' keys, one or more dimensions (absent: by assembly)")
    cooperative_id: strawberry.ID | None = strawberry.field(
        default=None, description="only this cooperative's assemblies")
    country: str | None = strawberry.field(
        default=None, description="only the assemblies of this country's cooperatives "
                                  "(ISO 3166-1 alpha-2)")
    assembly_id: strawberry.ID | None = strawberry.field(
        default=None, description="only this assembly")
    residence: str | None = strawberry.field(
        default=None, description="only members living in this country (ISO 3166-1 alpha-2)")
    gender: str | None = strawberry.field(
        default=None, description="only members of this gender: female, male, other, unstated")


def _title(root, info: Info, lang: Annotated[
        list[str] | None, strawberry.argument(description=LANG)] = None) -> LocalizedText | None:
    return localized(root.titles, info, lang) if root.titles else None


@strawberry.type(description=(
    "The turnout of the members of some atoms (an assembly's roll, members of one country of "
    "residence and gender, at least 5 people each); a key of the grouping that is null is not "
    "grouped by. The one cell with suppressed true says some atoms of the assemblies asked "
    "were held back (fewer than 5 people, or so that the rest of a roll is not fewer than 5), "
    "whatever was selected: keys and figures null"))
class TurnoutCell:
    suppressed: bool = strawberry.field(description="true for the one cell that says some "
                                        "atoms were held back: no keys, no figures")
    assembly_id: strawberry.ID | None = strawberry.field(description="grouped by ASSEMBLY")
    cooperative_id: strawberry.ID | None = strawberry.field(
        description="the assembly's cooperative, grouped by ASSEMBLY")
    meeting_on: dt.date | None = strawberry.field(description="its meeting day, grouped by "
                                                              "ASSEMBLY")
    residence: str | None = strawberry.field(description="grouped by RESIDENCE")
    gender: str | None = strawberry.field(description="grouped by GENDER")
    on_roll: int | None = strawberry.field(description="places on the rolls (a member on "
                                                       "two assemblies' rolls counts twice)")
    voted: int | None = strawberry.field(description="of them, those who voted")
    remote: int | None = strawberry.field(description="of them, herself (from anywhere)")
    proxy: int | None = strawberry.field(description="of them, through her proxy holder")
    in_person: int | None = strawberry.field(description="of them, on paper at the meeting")
    turnout_percent: str | None = strawberry.field(
        description="voted / on the roll, in percent with one decimal (\"62.5\")")
    titles: strawberry.Private[dict[str, str]]
    title: LocalizedText | None = strawberry.field(
        resolver=_title, description="the assembly's title in the reader's language, grouped "
                                     "by ASSEMBLY")


@strawberry.type(description="Assemblies' turnout, once their voting closed")
class AssemblyTurnout:
    assemblies: int = strawberry.field(description="the closed assemblies asked")
    cells: list[TurnoutCell] = strawberry.field(
        description="one per key of the grouping with a published atom, and at most one "
                    "suppressed cell")


def cells_of(shown: dict[str, dict[tuple[str, str], Counts]], held_back: bool, views: Views,
             group_by: list[TurnoutDimension], residence: str | None,
             gender: str | None) -> list[TurnoutCell]:
    """The cells: every published atom selected, summed by the grouping's keys (by meeting
    day, then key); and the suppressed cell if any atom of the assemblies asked is held back
    (``held_back``), whatever was selected and however grouped."""
    dims = set(group_by)

    def key(assembly_id: str, atom: tuple[str, str]) -> tuple:
        return (assembly_id if TurnoutDimension.ASSEMBLY in dims else None,
                atom[0] if TurnoutDimension.RESIDENCE in dims else None,
                atom[1] if TurnoutDimension.GENDER in dims else None)

    sums: dict[tuple, Counts] = {}
    for assembly_id, atoms in shown.items():
        for atom, counts in atoms.items():
            if residence in (None, atom[0]) and gender in (None, atom[1]):
                sums.setdefault(key(assembly_id, atom), Counts()).add(counts)
    cells = []
    for (assembly_id, where, who), c in sums.items():
        view = views.get(AssemblyView.TABLE, assembly_id) if assembly_id else None
        convened = view.convened if view else None
        percent = (Decimal(c.voted * 100) / c.on_roll).quantize(Decimal("0.1"), ROUND_HALF_UP)
        cells.append(TurnoutCell(
            suppressed=False, assembly_id=assembly_id,
            cooperative_id=convened.cooperative_id if convened else None,
            meeting_on=convened.meeting_on if convened else None, residence=where, gender=who,
            on_roll=c.on_roll, voted=c.voted, remote=c.channels["remote"],
            proxy=c.channels["proxy"], in_person=c.channels["in_person"],
            turnout_percent=str(percent), titles=dict(convened.titles) if convened else {}))
    cells.sort(key=lambda c: (str(c.meeting_on or ""), c.assembly_id or "", c.residence or "",
                              c.gender or ""))
    if held_back:
        cells.append(TurnoutCell(suppressed=True, assembly_id=None, cooperative_id=None,
                                 meeting_on=None, residence=None, gender=None, on_roll=None,
                                 voted=None, remote=None, proxy=None, in_person=None,
                                 turnout_percent=None, titles={}))
    return cells


#: Per views: assembly id -> its ``Atoms`` (or the task reading them), for the process's life:
#: counts only (a few hundred bytes an assembly), nobody's id, residence, gender or vote.
_KEPT: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


async def _read_atoms(views: Views, keys: Keys, view: AssemblyView, country: str) -> Atoms:
    """Her atom and how she voted, for each member of the roll whose details open (a seal
    that cannot be opened or read: in no atom, so in the rest of the roll); a failure of the
    node's keys (unavailable, timed out) fails the reading, to be read again."""
    members = []
    for n, member_id in enumerate(view.roll, 1):
        if n % cache.YIELD_EVERY == 0:
            await asyncio.sleep(0)
        record = views.get(MemberRecord.TABLE, member_id)
        try:
            person = await person_of(keys, record)
        except (SealBroken, msgspec.DecodeError, msgspec.ValidationError):
            continue
        if person is None:
            continue
        part = next((p for p in record.assemblies if p.assembly_id == view.assembly_id), None)
        members.append((_key(person, record, country),
                        part.voted if part is not None and part.voted else "no"))
    return atoms_of(len(view.roll), members)


async def _atoms(views: Views, keys: Keys, view: AssemblyView, country: str) -> Atoms:
    """An assembly's atoms as read at the first answer after its close, kept: a correction
    or an erasure after it changes none of them (else the figures before and after would
    tell how she voted); one reading however many ask meanwhile."""
    kept: dict = _KEPT.setdefault(views, {})
    found = kept.get(view.assembly_id)
    if found is None:
        found = kept[view.assembly_id] = asyncio.ensure_future(
            _read_atoms(views, keys, view, country))
        found.add_done_callback(lambda task: task.cancelled() or task.exception())
    try:
        return await asyncio.shield(found)
    except Exception:
        if kept.get(view.assembly_id) is found:  # read again next time (not a newer reading)
            del kept[view.assembly_id]
        raise


def closed_assemblies(views: Views, country: str | None, cooperative_id: str | None,
                      assembly_id: str | None) -> Iterable[tuple[AssemblyView, str]]:
    """The closed assemblies asked, each with its cooperative's country."""
    question = Question(group_by="cooperative", country=country, cooperative_id=cooperative_id)
    for coop_id in cooperatives_asked(views, question):
        coop = views.get(CooperativeView.TABLE, coop_id)
        for ref in views.rows(AssemblyRef.TABLE, coop_id):
            if assembly_id not in (None, ref.assembly_id):
                continue
            view = views.get(AssemblyView.TABLE, ref.assembly_id)
            if view is not None and view.closed is not None and coop is not None:
                yield view, coop.country


async def assembly_turnout(info: Info[GatewayContext, None],
                           filter: Annotated[TurnoutFilter | None, strawberry.argument(
                               description="which assemblies and how to group them; absent: "
                                           "every closed assembly, by assembly")] = None,
                           ) -> AssemblyTurnout | None:
    context = info.context
    filter = filter or TurnoutFilter()
    may, cooperative_id = whose_figures(context.caller, filter.cooperative_id)
    if not may:
        return None
    if not filter.group_by:
        raise GraphQLError("groupBy names one dimension or more")
    if filter.gender is not None and filter.gender not in GENDERS:
        raise GraphQLError(f"gender is one of {', '.join(GENDERS)}")
    for name, code in (("country", filter.country), ("residence", filter.residence)):
        if code is not None and not is_a(CountryCode, code.upper()):
            raise GraphQLError(f"{name} is an ISO 3166-1 alpha-2 code (ES)")
    for name, given in (("cooperativeId", filter.cooperative_id),
                        ("assemblyId", filter.assembly_id)):
        if given is not None and not is_a(Id, given):
            raise GraphQLError(f"{name} is an id (a UUID)")
    shown, held_back = {}, False
    for view, country in closed_assemblies(
            context.views, filter.country.upper() if filter.country else None, cooperative_id,
            filter.assembly_id):
        atoms = await _atoms(context.views, context.keys, view, country)
        shown[view.assembly_id] = published(atoms)
        held_back = held_back or shown[view.assembly_id].keys() != atoms.atoms.keys()
    return AssemblyTurnout(assemblies=len(shown), cells=cells_of(
        shown, held_back, context.views, filter.group_by,
        filter.residence.upper() if filter.residence else None, filter.gender))


#: The queries this feature adds to the schema.
QUERIES = {
    "assembly_turnout": strawberry.field(
        resolver=assembly_turnout, permission_classes=[SignedIn],
        description="The turnout of assemblies whose voting closed, by assembly, country of "
                    "residence and gender: for analysts and the node admin; a cooperative's "
                    "admins get their own cooperative's only; null for others. Every figure "
                    "sums only atoms of at least 5 people on a roll (one assembly, country of "
                    "residence and gender), and the rest of each roll is 0 or at least 5 "
                    "people; one suppressed cell says some atoms were held back, whatever was "
                    "asked (docs/governance.md). Never before the close. Weighs 500 in the cost "
                    "limit"),
}
