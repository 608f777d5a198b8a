"""Federation aggregates for analysts: members, savings, remittances and training by
cooperative, country, corridor (nationality -> host country), gender or joining month.

Computed per request from the read models, opening each member's seal for nationality and
gender, so an erased member is gone from every figure at once. A cell about fewer than
``MIN_CELL`` people is suppressed: its key shows, its figures do not (small numbers could
point at a person). Money is summed per currency; deposits, balances, remittances and
training are lifetime figures, while the period filter bounds joining and leaving.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum

import msgspec
import strawberry
from strawberry.types import Info

from gateway.auth import Role
from gateway.context import GatewayContext
from gateway.readmodel import ALL_COUNTRIES
from gateway.types import Money
from schemas import membership as m
from schemas.fields import Money as MoneyValue

MIN_CELL = 5


@strawberry.enum
class StatsDimension(Enum):
    COOPERATIVE = "cooperative"
    COUNTRY = "country"
    CORRIDOR = "corridor"
    GENDER = "gender"
    MONTH = "month"


@strawberry.input
class StatsFilter:
    group_by: StatsDimension = StatsDimension.COUNTRY
    country: str | None = None
    cooperative_id: strawberry.ID | None = None
    from_month: str | None = strawberry.field(default=None, description="YYYY-MM, inclusive")
    to_month: str | None = strawberry.field(default=None, description="YYYY-MM, inclusive")


@strawberry.type
class Count:
    key: str
    count: int


@strawberry.type
class StatsCell:
    key: str
    suppressed: bool
    members: int | None
    joined: int | None
    left: int | None
    deposits: list[Money] | None
    savings_balance: list[Money] | None
    remittances_sent: int | None
    remittance_volume: list[Money] | None
    average_fee_percent: str | None
    courses_completed: list[Count] | None
    cefr_levels: list[Count] | None
    certificates: int | None


@strawberry.type
class FederationStats:
    group_by: StatsDimension
    min_cell: int
    cells: list[StatsCell]


@dataclass
class _Tally:
    members: set = field(default_factory=set)
    joined: int = 0
    left: int = 0
    deposits: Counter = field(default_factory=Counter)
    balances: Counter = field(default_factory=Counter)
    sent: int = 0
    volume: Counter = field(default_factory=Counter)
    fee_percents: list = field(default_factory=list)
    courses: Counter = field(default_factory=Counter)
    levels: Counter = field(default_factory=Counter)
    certificates: int = 0


def _in_period(day: dt.date | None, start: str | None, end: str | None) -> bool:
    if day is None:
        return False
    month = day.strftime("%Y-%m")
    return (start is None or month >= start) and (end is None or month <= end)


def _money(counter: Counter) -> list[Money]:
    return [Money.from_value(MoneyValue(amount, currency))
            for currency, amount in sorted(counter.items())]


async def federation_stats(info: Info[GatewayContext, None],
                           filter: StatsFilter | None = None) -> FederationStats | None:
    context = info.context
    caller = context.caller
    if caller is None or caller.role not in (Role.ANALYST, Role.NODE_ADMIN):
        return None
    filter = filter or StatsFilter()
    views = context.views
    index = views.get("countries", ALL_COUNTRIES)
    countries = [filter.country.upper()] if filter.country else (index.cooperatives if index else [])
    tallies: dict[str, _Tally] = defaultdict(_Tally)
    seen_members: set[str] = set()
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
                seen_members.add(member_id)
                for membership in record.memberships:
                    if membership.cooperative_id != cooperative_id:
                        continue
                    key = {
                        StatsDimension.COOPERATIVE: cooperative_id,
                        StatsDimension.COUNTRY: coop.country,
                        StatsDimension.CORRIDOR: f"{person.nationality}-{coop.country}",
                        StatsDimension.GENDER: person.gender.value if person.gender else "unstated",
                        StatsDimension.MONTH: membership.started_on.strftime("%Y-%m"),
                    }[filter.group_by]
                    tally = tallies[key]
                    tally.members.add(member_id)
                    tally.joined += _in_period(membership.started_on, filter.from_month,
                                               filter.to_month)
                    tally.left += _in_period(membership.ended_on, filter.from_month,
                                             filter.to_month)
                    _add_accounts(tally, views, record.accounts, cooperative_id)
                    _add_training(tally, views, record, cooperative_id)
    cells = []
    for key, tally in sorted(tallies.items()):
        if len(tally.members) < MIN_CELL:
            cells.append(StatsCell(key=key, suppressed=True, members=None, joined=None,
                                   left=None, deposits=None, savings_balance=None,
                                   remittances_sent=None, remittance_volume=None,
                                   average_fee_percent=None, courses_completed=None,
                                   cefr_levels=None, certificates=None))
            continue
        fee = (f"{sum(tally.fee_percents) / len(tally.fee_percents):.2f}"
               if tally.fee_percents else None)
        cells.append(StatsCell(
            key=key, suppressed=False, members=len(tally.members), joined=tally.joined,
            left=tally.left, deposits=_money(tally.deposits),
            savings_balance=_money(tally.balances), remittances_sent=tally.sent,
            remittance_volume=_money(tally.volume), average_fee_percent=fee,
            courses_completed=[Count(key=k, count=v) for k, v in sorted(tally.courses.items())],
            cefr_levels=[Count(key=k, count=v) for k, v in sorted(tally.levels.items())],
            certificates=tally.certificates))
    return FederationStats(group_by=filter.group_by, min_cell=MIN_CELL, cells=cells)


def _add_accounts(tally: _Tally, views, account_ids: list[str], cooperative_id: str) -> None:
    for account_id in account_ids:
        account = views.get("accounts", account_id)
        if account is None or account.cooperative_id != cooperative_id:
            continue
        if account.deposits is not None:
            tally.deposits[account.deposits.currency] += account.deposits.amount
        if account.product == "savings" and account.balance is not None:
            tally.balances[account.balance.currency] += account.balance.amount
        for remittance in account.remittances:
            if remittance.direction != "sent" or remittance.status == "refunded":
                continue
            tally.sent += 1
            tally.volume[remittance.amount.currency] += remittance.amount.amount
            if remittance.fee is not None and remittance.amount.amount:
                tally.fee_percents.append(
                    Decimal(remittance.fee.amount * 100) / remittance.amount.amount)


def _add_training(tally: _Tally, views, record, cooperative_id: str) -> None:
    for enrolment in record.enrolments:
        course = views.get("courses", enrolment.course_id)
        if (course is None or course.cooperative_id != cooperative_id
                or enrolment.status != "completed" or enrolment.result != "passed"):
            continue
        tally.courses[course.kind] += 1
    for certificate in record.certificates:
        if certificate.cooperative_id != cooperative_id or certificate.revoked:
            continue
        tally.certificates += 1
        if certificate.level:
            tally.levels[certificate.level] += 1
