"""The figures feature's GraphQL types: what a question may ask (``StatsFilter``), the cells
of an answer, and the live feed's windows; and the answer made from the cells of the safe
atoms (``answer_of``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from enum import Enum

import msgspec
import strawberry

from gateway.figures.disclosure import HIDDEN, MIN_CELL, CooperativeAtoms, Question, cells
from gateway.types import Money
from schemas import membership as m
from schemas.fields import Money as MoneyValue

GENDERS = (*(g.value for g in m.Gender), "unstated")
MONTH = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])")


def is_a(kind, value: str) -> bool:
    """Whether ``value`` is of the contracts' type ``kind`` (``CountryCode``, ``Id`` …): what
    a filter must look like before it becomes a key of the figures' caches."""
    try:
        msgspec.convert(value, kind)
    except msgspec.ValidationError:
        return False
    return True


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


def answer_of(cooperatives: list[CooperativeAtoms], question: Question) -> FederationStats:
    """The answer to ``question``: the cells summed from the cooperatives' safe atoms only,
    and the cell ``*`` of the keys without one."""
    shown, hidden = cells(cooperatives, question)
    by_month = question.group_by == "month"
    answer = [StatsCell(
        key=key, suppressed=False, members=tally.people, joined=tally.joined,
        left=tally.left, returned_home=tally.returned_home,
        active_members=tally.active if question.stocks else None,
        arrived_home=len(tally.arrivals), deposits=_money(tally.deposits),
        savings_balance=None if by_month else _money(tally.balances),
        remittances_sent=tally.sent, remittance_volume=_money(tally.volume),
        average_fee_percent=(f"{tally.fee_sum / tally.fee_count:.2f}"
                             if tally.fee_count else None),
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


@strawberry.type(description="How many events of one type a window had")
class ActivityCount:
    service: str = strawberry.field(description="membership, savings or training")
    type: str = strawberry.field(description="the event's name (FundsDeposited)")
    count: int = strawberry.field(description="how many of them")


@strawberry.type(description="A window of 30 seconds of what happened in a country's "
                             "cooperatives: how many events of each type, never who. Sent at "
                             "the end of every window (windows start at whole multiples of 30 "
                             "seconds, UTC). Only the events of members in an atom of at "
                             "least 5 people (a cooperative's members of one nationality and "
                             "gender, as in federationStats) count, and the counts are null "
                             "when fewer than 5 such members were behind them, so a window "
                             "with a few people's events looks like a quiet one")
class ActivityWindow:
    country: str = strawberry.field(
        description="the country of the cooperatives counted (ISO 3166-1 alpha-2)")
    started_at: dt.datetime = strawberry.field(description="when the window began")
    ended_at: dt.datetime = strawberry.field(description="when it ended")
    total: int | None = strawberry.field(
        description="the events counted in it (of members in an atom of at least 5 "
                    "people); null when fewer than 5 such members were behind them (or "
                    "none), and for the first window, which began before the subscription")
    events: list[ActivityCount] | None = strawberry.field(
        description="how many of each type, by service and type; null when total is")
