"""Federation aggregates: members, savings, remittances and training by cooperative, country,
corridor (host country -> home country, ``ES-EC``: the way every corridor is written, a
remittance's too), gender, joining month or group (a cooperative's solidarity groups and
societies, keyed by group id: a member counts in each group she belongs to, and those in no
group in the cell ``none``). For analysts and the node admin; a cooperative's admins get the
figures of their own cooperative only.

Computed per request from the read models, opening each member's seal for nationality and
gender, so an erased member is gone from every figure at once. A cell about fewer than
``MIN_CELL`` people is suppressed: its key shows, its figures do not (small numbers could
point at a person). Suppressed cells are merged into one cell keyed ``*``, so that even
their keys (a corridor, a gender) cannot single anyone out; with a period filter a cell
counts only the people who contributed a figure in that period.

Every figure is a flow with a month (joined, left, returned home, arrived home, deposited,
remitted, completed, certified), so the period filter bounds all of them, and grouping by
``MONTH`` gives a time series; deposits and remittances count in the month they were booked.
The savings balance and the active members (memberships started and not ended by today) are
stocks, today's, shown for the other groupings only; the active members are null with a period
filter too (a stock has no month to bound). The average fee is the mean, over account-months
with remittances, of fees / amount sent. ``arrived_home``
counts the records brought home from other nodes and imported here (once per cell, in the
cooperatives where she is a member); ``returned_home`` the memberships that ended because she
went home. A gender filter keeps only the members of that gender (``unstated``: those who
gave none).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum
from typing import Annotated

import msgspec
import strawberry
from graphql import GraphQLError
from strawberry.types import Info

from gateway.auth import Role
from gateway.context import GatewayContext
from gateway.readmodel import ALL_COUNTRIES
from gateway.types import Money
from schemas import membership as m
from schemas.fields import Money as MoneyValue
from schemas.savings import corridor

MIN_CELL = 5
#: The GROUP cell of the members who belong to no group of their cooperative.
NO_GROUP = "none"
GENDERS = (*(g.value for g in m.Gender), "unstated")


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
        "group", description="one cell per member group, keyed by its id; a member counts in "
        "each of her groups, those in none in the cell none")


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
        default=None, description="only members of this gender: " + ", ".join(GENDERS))


@strawberry.type(description="How many of one kind")
class Count:
    key: str = strawberry.field(description="the kind: a course kind (language …) or a CEFR "
                                            "level (A1 … C2)")
    count: int = strawberry.field(description="how many")


@strawberry.type(description="The figures of one cell: flows are counted in the period "
                             "asked (all time without one), stocks are today's")
class StatsCell:
    key: str = strawberry.field(
        description="the cell's key, as the grouping says (a cooperative's id, ES, ES-EC, "
                    "female, 2026-03, a group's id or none); * for the suppressed cells merged")
    suppressed: bool = strawberry.field(
        description="this is the cell * that merges the cells about fewer than 5 people: "
                    "every figure is null")
    members: int | None = strawberry.field(
        description="the people behind the cell's figures: without a period, every member "
                    "its cooperatives ever had; with one, those behind a figure in it")
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
        description="the fewest people a cell must be about to show its figures (5)")
    cells: list[StatsCell] = strawberry.field(
        description="the cells in key order, then the cell * of the suppressed ones, if any")


@dataclass
class _Tally:
    members: set = field(default_factory=set)
    joined: int = 0
    left: int = 0
    active: int = 0  # memberships active today
    returned_home: int = 0
    arrivals: set = field(default_factory=set)  # (member id, credential id) imported
    deposits: Counter = field(default_factory=Counter)
    balances: Counter = field(default_factory=Counter)
    sent: int = 0
    volume: Counter = field(default_factory=Counter)
    fee_percents: list = field(default_factory=list)
    courses: Counter = field(default_factory=Counter)
    levels: Counter = field(default_factory=Counter)
    certificates: int = 0


def _money(counter: Counter) -> list[Money]:
    return [Money.from_value(MoneyValue(amount, currency))
            for currency, amount in sorted(counter.items())]


async def federation_stats(info: Info[GatewayContext, None],
                           filter: Annotated[StatsFilter | None, strawberry.argument(
                               description="which figures and how to group them; absent: "
                                           "all, by COUNTRY")] = None,
                           ) -> FederationStats | None:
    context = info.context
    caller = context.caller
    filter = filter or StatsFilter()
    if caller.role is Role.ADMIN:  # a cooperative's admins: their own cooperative's figures
        if filter.cooperative_id not in (None, caller.cooperative_id):
            return None
        filter.cooperative_id = caller.cooperative_id
    elif caller.role not in (Role.ANALYST, Role.NODE_ADMIN):
        return None
    if filter.gender is not None and filter.gender not in GENDERS:
        raise GraphQLError(f"gender is one of {', '.join(GENDERS)}")
    views = context.views
    index = views.get("countries", ALL_COUNTRIES)
    countries = [filter.country.upper()] if filter.country else (index.cooperatives if index else [])
    by_month = filter.group_by is StatsDimension.MONTH
    period = filter.from_month is not None or filter.to_month is not None
    today = context.now.date()
    tallies: dict[str, _Tally] = defaultdict(_Tally)

    def counts(day: dt.date | str | None) -> bool:
        if day is None:
            return False
        month = day if isinstance(day, str) else day.strftime("%Y-%m")
        return ((filter.from_month is None or month >= filter.from_month)
                and (filter.to_month is None or month <= filter.to_month))

    for country in countries:
        country_index = views.get("countries", country)
        for cooperative_id in (country_index.cooperatives if country_index else []):
            if filter.cooperative_id and cooperative_id != filter.cooperative_id:
                continue
            coop = views.get("cooperatives", cooperative_id)
            if coop is None:
                continue
            for member_id in coop.members:
                record = views.get("members", member_id)
                if record is None or record.erased or record.personal is None:
                    continue
                plaintext = await context.keys.open(member_id, record.personal)
                if plaintext is None:
                    continue
                person = msgspec.json.decode(plaintext, type=m.PersonalDetails)
                gender = person.gender.value if person.gender else "unstated"
                if filter.gender is not None and gender != filter.gender:
                    continue
                if filter.group_by is StatsDimension.GROUP:
                    keys = [g.group_id for g in record.groups
                            if g.cooperative_id == cooperative_id] or [NO_GROUP]
                else:
                    keys = [{
                        StatsDimension.COOPERATIVE: cooperative_id,
                        StatsDimension.COUNTRY: coop.country,
                        StatsDimension.CORRIDOR: corridor(coop.country, person.nationality),
                        StatsDimension.GENDER: gender,
                    }.get(filter.group_by)]
                for fixed in keys:  # a member of several groups counts in each of them

                    def tally(month: str) -> _Tally:
                        cell = tallies[month if by_month else fixed]
                        cell.members.add(member_id)
                        return cell

                    for membership in record.memberships:
                        if membership.cooperative_id != cooperative_id:
                            continue
                        if counts(membership.started_on):
                            tally(membership.started_on.strftime("%Y-%m")).joined += 1
                        if counts(membership.ended_on):
                            cell = tally(membership.ended_on.strftime("%Y-%m"))
                            cell.left += 1
                            if membership.end_reason == m.EndReason.RETURNED_HOME.value:
                                cell.returned_home += 1
                        if not by_month and not period:
                            # the cell's population: members, active lately or not
                            tally("").active += (membership.started_on <= today and (
                                membership.ended_on is None or membership.ended_on > today))
                    for imported in record.imports:
                        if counts(imported.imported_at):
                            tally(imported.imported_at.strftime("%Y-%m")).arrivals.add(
                                (member_id, imported.credential_id))
                    _add_accounts(tally, counts, by_month or period, views, record.accounts,
                                  cooperative_id)
                    _add_training(tally, counts, views, record, cooperative_id)
    cells, suppressed = [], False
    for key, tally_ in sorted(tallies.items()):
        if len(tally_.members) < MIN_CELL:
            suppressed = True
            continue
        fee = (f"{sum(tally_.fee_percents) / len(tally_.fee_percents):.2f}"
               if tally_.fee_percents else None)
        cells.append(StatsCell(
            key=key, suppressed=False, members=len(tally_.members), joined=tally_.joined,
            left=tally_.left, returned_home=tally_.returned_home,
            active_members=None if by_month or period else tally_.active,
            arrived_home=len(tally_.arrivals), deposits=_money(tally_.deposits),
            savings_balance=None if by_month else _money(tally_.balances),
            remittances_sent=tally_.sent, remittance_volume=_money(tally_.volume),
            average_fee_percent=fee,
            courses_completed=[Count(key=k, count=v) for k, v in sorted(tally_.courses.items())],
            cefr_levels=[Count(key=k, count=v) for k, v in sorted(tally_.levels.items())],
            certificates=tally_.certificates))
    if suppressed:
        cells.append(StatsCell(key="*", suppressed=True, members=None, joined=None,
                               left=None, active_members=None, returned_home=None,
                               arrived_home=None,
                               deposits=None, savings_balance=None,
                               remittances_sent=None, remittance_volume=None,
                               average_fee_percent=None, courses_completed=None,
                               cefr_levels=None, certificates=None))
    return FederationStats(group_by=filter.group_by, min_cell=MIN_CELL, cells=cells)


def _add_accounts(tally, counts, flows_only: bool, views, account_ids: list[str],
                  cooperative_id: str) -> None:
    for account_id in account_ids:
        account = views.get("accounts", account_id)
        if account is None or account.cooperative_id != cooperative_id:
            continue
        if account.product == "savings" and account.balance is not None and not flows_only:
            tally("").balances[account.balance.currency] += account.balance.amount
        for month, flows in sorted(account.months.items()):
            if not counts(month) or not (flows.deposits or flows.remittances):
                continue
            cell = tally(month)
            cell.deposits[account.currency] += flows.deposits
            cell.sent += flows.remittances
            cell.volume[account.currency] += flows.remitted
            if flows.remitted:
                cell.fee_percents.append(Decimal(flows.fees * 100) / flows.remitted)


def _add_training(tally, counts, views, record, cooperative_id: str) -> None:
    for enrolment in record.enrolments:
        course = views.get("courses", enrolment.course_id)
        if (course is None or course.cooperative_id != cooperative_id
                or enrolment.result != "passed" or not counts(enrolment.completed_on)):
            continue
        tally(enrolment.completed_on.strftime("%Y-%m")).courses[course.kind] += 1
    for certificate in record.certificates:
        if (certificate.cooperative_id != cooperative_id or certificate.revoked
                or not counts(certificate.issued_on)):
            continue
        cell = tally(certificate.issued_on.strftime("%Y-%m"))
        cell.certificates += 1
        if certificate.level:
            cell.levels[certificate.level] += 1
