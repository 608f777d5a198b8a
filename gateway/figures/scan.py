"""The scan behind the figures: every member a cooperative ever had, turned into her
contributions (opening her seal for nationality and gender, so an erased member is gone from
every figure once the atoms are scanned again), and from them the cooperative's atoms
(``gateway.figures.disclosure``). Reads the views and opens seals; writes nothing.

The gateway keeps its figures instead (``gateway.figures.kept``), from each member's
``contribution`` made here when she changes; the whole scan is what views without kept
figures use, and the reference the kept figures are tested against.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable, Iterator
from decimal import Decimal

import msgspec

from gateway.context import Keys, Views
from gateway.documents import MemberRecord, accounts_of
from gateway.figures.disclosure import (
    NO_GROUP,
    Contribution,
    CooperativeAtoms,
    Question,
    cooperative_atoms,
)
from gateway.members.documents import ALL_COUNTRIES
from schemas import membership as m
from schemas.savings import corridor


def cooperatives_asked(views: Views, question: Question) -> Iterator[str]:
    index = views.get("countries", ALL_COUNTRIES)
    countries = [question.country] if question.country else (index.cooperatives if index else [])
    for country in countries:
        country_index = views.get("countries", country)
        for cooperative_id in (country_index.cooperatives if country_index else []):
            if question.cooperative_id in (None, cooperative_id):
                yield cooperative_id


async def scan(views: Views, keys: Keys, cooperative_id: str, today: dt.date,
                pace: Callable[[], Awaitable[None]]) -> CooperativeAtoms | None:
    """The atoms of one cooperative, from every member it ever had."""
    coop = views.get("cooperatives", cooperative_id)
    if coop is None:
        return None
    contributions = []
    for member_id in (row.member_id for row in views.rows("coop_members", cooperative_id)):
        await pace()
        record = views.get("members", member_id)
        person = await person_of(keys, record)
        if record is None or person is None:
            continue
        contributions.append(contribution(views, record, person, coop.country,
                                          cooperative_id, today))
    # the atoms' arithmetic (the groups' suppression above all) runs in a thread, so a
    # cooperative of many groups does not hold the gateway's event loop
    return await asyncio.to_thread(cooperative_atoms, cooperative_id, coop.country,
                                   contributions)


async def person_of(keys: Keys, record: MemberRecord | None) -> m.PersonalDetails | None:
    """Her personal details, opened with her data key: None for no one, an erased member,
    one without details or whose key is gone (she is in no figure)."""
    if record is None or record.erased or record.personal is None:
        return None
    plaintext = await keys.open(record.member_id, record.personal)
    if plaintext is None:
        return None
    return msgspec.json.decode(plaintext, type=m.PersonalDetails)


def contribution(views: Views, record: MemberRecord, person: m.PersonalDetails,
                 country: str, cooperative_id: str, today: dt.date | None) -> Contribution:
    """Her part in one cooperative's figures. Her active memberships are today's; with no
    ``today`` (figures kept for any day, ``gateway.figures.kept``) they are the days each one
    starts and stops being active instead (``active_days``: +1, -1)."""
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
        if today is None:  # active from the day it starts until the day it ends
            me.add(None, "active_days", membership.started_on, 1)
            if membership.ended_on is not None:
                me.add(None, "active_days", max(membership.started_on, membership.ended_on), -1)
        elif membership.started_on <= today and (membership.ended_on is None
                                                 or membership.ended_on > today):
            me.add(None, "active")
    for imported in record.imports:
        me.add(_month(imported.imported_at), "arrivals", imported.credential_id)
    for account_id in accounts_of(views, member_id):
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
