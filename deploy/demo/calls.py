"""The parts a demo plan is made of, and the drafter that writes them: a ``Call`` is one
mutation (where, as whom, what, under which idempotency key), a ``Chain`` is calls sent one
after the other, a ``Round`` is chains sent side by side, and a ``Plan`` is its rounds in
order. The ``Drafter`` holds what the whole plan shares (the seed's random numbers, the ids,
which node hosts which cooperative) and writes the calls every part needs: an account opened,
a course offered, a loan disbursed and repaid. Pure; no I/O."""

from __future__ import annotations

import calendar
import datetime as dt
import random
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from deploy.demo.catalogue import COOPERATIVES, Coop, Course
from gateway.auth import Role
from schemas import savings as s
from schemas.fields import Money
from schemas.money import exponent, major_text
from services.savings.arithmetic import annuity_schedule
from services.savings.rates import load_rates

#: The root of every id and idempotency key the demo makes (with the seed, and a name).
NAMESPACE = uuid.UUID("5d1e4f0c-8a53-4b7e-9d55-2f0f6a3c7b11")

# ---- SWITCH: booking dates ----------------------------------------------------------------
#: Send ``bookedOn`` with deposits, withdrawals and remittances, so that they fall in the
#: months they belong to. On by itself where the contracts have the field (version 2 of
#: DepositFunds, WithdrawFunds and SendRemittance); set it to False to book everything today.
BOOKED_ON = all("booked_on" in c.__struct_fields__
                for c in (s.DepositFunds, s.WithdrawFunds, s.SendRemittance))
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    """One mutation: where, as whom, what, under which idempotency key. ``keep`` names a
    result field later steps of the chain use, ``needs`` the one this step puts in its input."""

    node: str
    role: Role
    cooperative: str | None
    mutation: str
    input: dict
    key: str
    keep: str | None = None
    needs: str | None = None


Chain = list[Call]  # sent one after the other
#: A member's nationality and gender (None: unstated)
Kind = tuple[str, str | None]


@dataclass
class Round:
    name: str
    chains: list[Chain] = field(default_factory=list)

    @property
    def calls(self) -> int:
        return sum(len(chain) for chain in self.chains)


@dataclass
class Plan:
    seed: int
    members: int
    nodes: list[str]
    today: dt.date
    cooperatives: dict[str, tuple[str, str]]  # key -> (id, node)
    people: Counter  # node -> people planned there (a member who goes home counts twice)
    rounds: list[Round]
    rosa: dict[str, str]  # the ids of Rosa's story that the settling step looks at

    @property
    def calls(self) -> int:
        return sum(r.calls for r in self.rounds)

    def months_label(self) -> str:
        return f"{month_starts(self.today)[0]:%Y-%m} to {self.today:%Y-%m}"


def month_starts(today: dt.date) -> list[dt.date]:
    """The first days of the 12 calendar months ending with today's."""
    year, month = today.year, today.month
    starts = []
    for _ in range(12):
        starts.append(dt.date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return starts[::-1]


def money(minor: int, currency: str) -> dict:
    """GraphQL's MoneyInput: a decimal string in major units, exact."""
    return {"amount": major_text(minor, currency), "currency": currency}


@dataclass
class Session:
    """One run of a cooperative's course, and how many members the plan enrolled in it."""

    id: str
    coop: Coop
    course: Course
    starts: dt.date
    ends: dt.date
    enrolled: int = 0


class Drafter:
    """Writes the calls of one plan: the state every part of it shares, and the steps they
    have in common."""

    def __init__(self, seed: int, members: int, nodes: list[str], today: dt.date):
        self.seed, self.members, self.nodes, self.today = seed, members, list(nodes), today
        self.rng = random.Random(seed)
        self.root = uuid.uuid5(NAMESPACE, f"seed/{seed}")  # cooperatives, groups, Rosa
        self.crowd = uuid.uuid5(self.root, f"members/{members}")  # the rest
        self.months = month_starts(today)
        self.rates = load_rates()
        self.host_node = self.nodes[0]
        homes = self.nodes[1:] or self.nodes
        self.node_of: dict[str, str] = {}
        for i, coop in enumerate(c for c in COOPERATIVES if not c.host):
            self.node_of[coop.key] = homes[i % len(homes)]
        for coop in COOPERATIVES:
            self.node_of.setdefault(coop.key, self.host_node)
        self.coops = {c.key: c for c in COOPERATIVES}
        self.ids = {c.key: self.id(self.root, f"cooperative/{c.key}") for c in COOPERATIVES}
        self.groups = {c.key: [(self.id(self.root, f"group/{c.key}/{name}"), name)
                               for name in c.groups] for c in COOPERATIVES}
        self.people: Counter = Counter()
        self.returnees = 0  # host members of the crowd planned to take their record home
        self.relatives: dict[str, list[str]] = defaultdict(list)  # coop -> savings accounts

    # -- helpers

    @staticmethod
    def id(namespace: uuid.UUID, name: str) -> str:
        return str(uuid.uuid5(namespace, name))

    def call(self, namespace: uuid.UUID, label: str, node: str, role: Role,
             cooperative: str | None, mutation: str, input: dict, **extra) -> Call:
        return Call(node, role, cooperative, mutation, input,
                    self.id(namespace, f"key/{label}"), **extra)

    def staff(self, namespace, label, coop: Coop, mutation, input, **extra) -> Call:
        return self.call(namespace, label, self.node_of[coop.key], Role.STAFF,
                         self.ids[coop.key], mutation, input, **extra)

    def admin(self, namespace, label, coop: Coop, mutation, input) -> Call:
        return self.call(namespace, label, self.node_of[coop.key], Role.ADMIN,
                         self.ids[coop.key], mutation, input)

    def node_admin(self, namespace, label, node: str, mutation, input) -> Call:
        return self.call(namespace, label, node, Role.NODE_ADMIN, None, mutation, input)

    def day(self, month: int, not_before: dt.date | None = None) -> dt.date:
        """A day of month ``month`` (0: eleven months ago, 11: this one), never after today."""
        first = self.months[month]
        day = first.replace(day=self.rng.randint(1, calendar.monthrange(first.year,
                                                                         first.month)[1]))
        if not_before is not None and day < not_before:
            day = not_before
        return min(day, self.today)

    def amount(self, coop: Coop, low_high_step: tuple[int, int, int]) -> int:
        low, high, step = low_high_step
        return self.rng.randrange(low, high + 1, step) * 10 ** exponent(coop.currency)

    def has_rate(self, base: str, quote: str) -> bool:
        return self.rates.quote(base, quote, self.today) is not None

    @staticmethod
    def booked(input: dict, day: dt.date) -> dict:
        return {**input, "bookedOn": day.isoformat()} if BOOKED_ON else input

    # -- steps every part of the plan takes

    def offer(self, namespace, label, coop: Coop, course_id: str, course: Course,
              starts: dt.date, ends: dt.date, capacity: int) -> Call:
        input = {"courseId": course_id, "cooperativeId": self.ids[coop.key], "kind": course.kind,
                 "titles": [{"language": lang, "title": title} for lang, title in course.titles],
                 "hours": course.hours, "startsOn": starts.isoformat(),
                 "endsOn": ends.isoformat(), "capacity": capacity}
        if course.language:
            input |= {"languageTaught": course.language, "targetLevel": course.level}
        else:
            input["skills"] = [{scheme: {"uri" if scheme == "esco" else "code": value}}
                               for scheme, value in course.skills]
        return self.admin(namespace, label, coop, "offerCourse", input)

    def open(self, ns, label, coop: Coop, account_id: str, member_id: str, product: str) -> Call:
        return self.staff(ns, label, coop, "openAccount", {
            "accountId": account_id, "memberId": member_id, "cooperativeId": self.ids[coop.key],
            "product": product, "currency": coop.currency})

    def loan(self, ns, label, coop: Coop, account_id: str, principal: int, rate: str,
             months: int, first_due: dt.date, paid_off: bool = False,
             instalments_paid: int = 0) -> list[Call]:
        """Disbursed today (a first instalment falls due after today), then repaid today: the
        first instalment on time, or the whole loan (the rest early)."""
        currency = coop.currency
        schedule = annuity_schedule(Money(principal, currency), rate, months, first_due)
        calls = [self.admin(ns, f"{label}/disburse", coop, "disburseLoan", {
            "accountId": account_id, "principal": money(principal, currency),
            "annualRate": rate, "termMonths": months, "firstDueOn": first_due.isoformat()})]
        payments = ([schedule[0].total.amount, sum(i.total.amount for i in schedule[1:])]
                    if paid_off else [i.total.amount for i in schedule[:instalments_paid]])
        for n, amount in enumerate(payments):
            calls.append(self.staff(ns, f"{label}/repay/{n}", coop, "recordRepayment", {
                "accountId": account_id, "amount": money(amount, currency),
                "paidOn": self.today.isoformat()}))
        return calls
