"""Her cover at her host node (issue 25), pure: her application (member, account, live
insurance consent, her average remittance from her savings history), the insurer's answer
once, and her death notified once, only when a cooperative here recorded it and only under
a live consent."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from schemas import insurance as i
from schemas import membership as ms
from schemas import savings as s
from schemas.fields import Money
from services.insurance.domain import COVER, Cover
from services.insurance.lookups import (
    Members,
    Savers,
    apply_to_members,
    apply_to_savers,
)
from services.runtime.aggregate import Context, Rejected

COVER_ID = "00000000-0000-7000-8000-00000000c0a1"
MEMBER = "00000000-0000-7000-8000-0000000000d1"
OTHER_MEMBER = "00000000-0000-7000-8000-0000000000d2"
HOST_COOP = "00000000-0000-7000-8000-0000000000a2"
ACCOUNT = "00000000-0000-7000-8000-0000000000a9"
PRODUCT_ID = "00000000-0000-7000-8000-0000000000b1"
MOTHER_ACCOUNT = "00000000-0000-7000-8000-0000000000e1"
CONSENT = "00000000-0000-7000-8000-00000000c011"
NOW = dt.datetime(2027, 3, 10, 12, tzinfo=dt.UTC)


def usd(amount: int) -> Money:
    return Money(amount, "USD")


def members(*, consent_scopes=("insurance",), grantee="sv", expires=NOW + dt.timedelta(days=300),
            revoked=False, died_on: dt.date | None = None, active=True) -> Members:
    view = Members()
    if active:
        apply_to_members(view, ms.MembershipStarted(
            member_id=MEMBER, cooperative_id=HOST_COOP, role=ms.MembershipRole.MEMBER,
            started_on=dt.date(2025, 1, 2), share_capital_required=usd(0)))
    if consent_scopes:
        apply_to_members(view, ms.ConsentGranted(
            member_id=MEMBER, consent_id=CONSENT, grantee_kind=ms.GranteeKind.NODE,
            grantee=grantee, scopes=list(consent_scopes), expires_at=expires))
    if revoked:
        apply_to_members(view, ms.ConsentRevoked(member_id=MEMBER, consent_id=CONSENT))
    if died_on is not None:
        apply_to_members(view, ms.MembershipEnded(
            member_id=MEMBER, cooperative_id=HOST_COOP, reason=ms.EndReason.DECEASED,
            ended_on=died_on))
    return view


def remittance(n: int, received: Money) -> s.RemittanceSent:
    return s.RemittanceSent(
        account_id=ACCOUNT, remittance_id=f"00000000-0000-7000-8000-{n:012d}",
        to=s.Beneficiary(account_id=MOTHER_ACCOUNT), amount=received, fee=usd(0),
        rate=Decimal(1), rate_date=dt.date(2027, 1, 1), received=received,
        corridor="US-SV", balance=usd(0))


def savers(sent: list[tuple[dt.datetime, Money]] = (), *, closed=False) -> Savers:
    view = Savers()
    apply_to_savers(view, s.AccountOpened(account_id=ACCOUNT, member_id=MEMBER,
                                          cooperative_id=HOST_COOP,
                                          product=s.Product.SAVINGS, currency="USD"),
                    NOW - dt.timedelta(days=800))
    for n, (when, money) in enumerate(sent, 1):
        apply_to_savers(view, remittance(n, money), when)
    if closed:
        apply_to_savers(view, s.AccountClosed(account_id=ACCOUNT), NOW)
    return view


def context(now: dt.datetime = NOW, **lookups) -> Context:
    return Context(now=now, lookups={"members": lookups.get("members") or members(),
                                     "savers": lookups.get("savers") or savers()})


def apply(**changes) -> i.ApplyForPolicy:
    fields = dict(cover_id=COVER_ID, member_id=MEMBER, cooperative_id=HOST_COOP,
                  insurer_node="sv", product_id=PRODUCT_ID, currency="USD", account_id=ACCOUNT,
                  starts_on=NOW.date(), age=34, requested_benefit=usd(20_000),
                  payees=[i.Payee(account_id=MOTHER_ACCOUNT, share_percent=100)])
    return i.ApplyForPolicy(**{**fields, **changes})


def decide(state: Cover, command, ctx: Context | None = None) -> list:
    return COVER.decide(state, command, ctx or context())


def then(state: Cover, events: list) -> Cover:
    for event in events:
        state = COVER.evolve(state, event)
    return state


def rejected(state: Cover, command, ctx: Context | None = None) -> str:
    with pytest.raises(Rejected) as caught:
        decide(state, command, ctx)
    return caught.value.code


def terms(policy_id: str) -> i.PolicyTerms:
    return i.PolicyTerms(policy_id=policy_id, starts_on=NOW.date(),
                         ends_on=dt.date(2028, 3, 10), premium=usd(1_500), premium_months=1,
                         grace_days=30, waiting_days=30, repatriation_limit=usd(400_000),
                         monthly_benefit=usd(20_000), benefit_months=12)


def applied(ctx: Context | None = None) -> Cover:
    return then(Cover(), decide(Cover(), apply(), ctx))


def issued() -> Cover:
    state = applied()
    return then(state, decide(state, i.RecordPolicyAnswer(
        cover_id=COVER_ID, from_node="sv", accepted=True, terms=terms(state.applied.policy_id))))


def test_an_application_names_a_policy_and_carries_what_the_insurer_needs():
    [event] = decide(Cover(), apply())
    assert isinstance(event, i.CoverApplied)
    assert event.policy_id != COVER_ID  # the insurer's id, never her cover's
    assert (event.member_id, event.insurer_node, event.age) == (MEMBER, "sv", 34)
    assert event.average_remittance is None  # no remittance history here
    assert event.requested_benefit == usd(20_000)
    assert rejected(applied(), apply()) == "CoverAlreadyApplied"


def test_her_average_remittance_of_the_last_twelve_months_is_disclosed():
    sent = [(NOW - dt.timedelta(days=30 * k), usd(25_000 + 1_000 * (k % 2))) for k in range(12)]
    sent.append((NOW - dt.timedelta(days=375), usd(999_999)))  # 13 months ago: not counted
    ctx = context(savers=savers(sent))
    [event] = decide(Cover(), apply(requested_benefit=None), ctx)
    total = sum(money.amount for when, money in sent[:12])
    assert event.average_remittance == usd(total // 12)


def test_a_short_history_is_averaged_over_the_months_since_her_first_remittance():
    sent = [(NOW - dt.timedelta(days=65), usd(30_000)), (NOW - dt.timedelta(days=35),
                                                         usd(30_000)),
            (NOW - dt.timedelta(days=5), usd(30_001))]
    [event] = decide(Cover(), apply(), context(savers=savers(sent)))
    assert event.average_remittance == usd((90_001) // 3)


def test_only_what_the_family_received_in_the_products_currency_counts():
    sent = [(NOW - dt.timedelta(days=5), usd(30_000)),
            (NOW - dt.timedelta(days=2), Money(2_000_000, "MXN"))]
    [event] = decide(Cover(), apply(), context(savers=savers(sent)))
    assert event.average_remittance == usd(30_000)
    assert rejected(Cover(), apply(requested_benefit=Money(400_000, "MXN"))) \
        == "CurrencyMismatch"


def test_a_refunded_remittance_never_reached_the_family():
    view = savers([(NOW - dt.timedelta(days=8), usd(30_000)),  # both this month
                   (NOW - dt.timedelta(days=5), usd(50_000))])
    apply_to_savers(view, s.RemittanceRefunded(
        account_id=ACCOUNT, remittance_id="00000000-0000-7000-8000-000000000002",
        amount=usd(50_000), reason="Refused", balance=usd(50_000)), NOW)
    [event] = decide(Cover(), apply(), context(savers=view))
    assert event.average_remittance == usd(30_000)


def test_nothing_to_insure_without_history_or_a_benefit_named():
    assert rejected(Cover(), apply(requested_benefit=None)) == "ValidationError"


@pytest.mark.parametrize(("view", "code"), [
    (dict(active=False), "NotAMember"),
    (dict(consent_scopes=()), "ConsentNotLive"),
    (dict(consent_scopes=("savings", "identity")), "ConsentNotLive"),
    (dict(grantee="gt"), "ConsentNotLive"),
    (dict(revoked=True), "ConsentNotLive"),
    (dict(expires=NOW), "ConsentNotLive"),
])
def test_she_applies_as_a_member_under_a_live_insurance_consent_to_that_node(view, code):
    assert rejected(Cover(), apply(), context(members=members(**view))) == code


def test_the_account_that_pays_is_her_open_account_at_that_cooperative():
    assert rejected(Cover(), apply(account_id=MOTHER_ACCOUNT)) == "NotHerAccount"
    assert rejected(Cover(), apply(), context(savers=savers(closed=True))) == "NotHerAccount"
    other = members()
    apply_to_members(other, ms.MembershipStarted(
        member_id=OTHER_MEMBER, cooperative_id=HOST_COOP, role=ms.MembershipRole.MEMBER,
        started_on=dt.date(2025, 1, 2), share_capital_required=usd(0)))
    apply_to_members(other, ms.ConsentGranted(
        member_id=OTHER_MEMBER, consent_id=CONSENT, grantee_kind=ms.GranteeKind.NODE,
        grantee="sv", scopes=["insurance"], expires_at=NOW + dt.timedelta(days=9)))
    assert rejected(Cover(), apply(member_id=OTHER_MEMBER),
                    context(members=other)) == "NotHerAccount"


def test_the_insurer_answers_once_and_an_issue_comes_with_its_own_terms():
    state = applied()
    assert rejected(state, i.RecordPolicyAnswer(cover_id=COVER_ID, from_node="sv", accepted=True)) \
        == "ValidationError"
    assert rejected(state, i.RecordPolicyAnswer(
        cover_id=COVER_ID, from_node="sv", accepted=True, terms=terms(COVER_ID))) == "ValidationError"
    [refused] = decide(state, i.RecordPolicyAnswer(cover_id=COVER_ID, from_node="sv", accepted=False,
                                                   code="AgeOutsideBand"))
    assert refused.code == "AgeOutsideBand"
    state = issued()
    assert state.issued.policy_id == state.applied.policy_id
    for again in (i.RecordPolicyAnswer(cover_id=COVER_ID, from_node="sv", accepted=False, code="X1"),
                  i.RecordPolicyAnswer(cover_id=COVER_ID, from_node="sv", accepted=True,
                                       terms=state.issued)):
        assert rejected(state, again) == "CoverAnswered"
    assert rejected(Cover(), i.RecordPolicyAnswer(cover_id=COVER_ID, from_node="sv", accepted=False,
                                                  code="X1")) == "UnknownCover"


def test_her_death_is_notified_once_when_recorded_here_and_under_a_live_consent():
    died = dt.date(2027, 9, 2)
    notify = i.NotifyDeath(cover_id=COVER_ID)
    assert rejected(applied(), notify, context(members=members(died_on=died))) \
        == "CoverNotIssued"
    state = issued()
    assert rejected(state, notify) == "NoRecordedDeath"
    assert rejected(state, notify, context(members=members(died_on=died, revoked=True))) \
        == "ConsentNotLive"
    [event] = decide(state, notify, context(members=members(died_on=died)))
    assert (event.policy_id, event.died_on, event.insurer_node) \
        == (state.applied.policy_id, died, "sv")
    state = then(state, [event])
    assert rejected(state, notify, context(members=members(died_on=died))) \
        == "DeathAlreadyNotified"
    answer = i.RecordDeathAnswer(cover_id=COVER_ID, from_node="sv", accepted=True)
    assert rejected(issued(), answer) == "DeathNotNotified"
    state = then(state, decide(state, answer))
    assert rejected(state, answer) == "CoverAnswered"


def test_her_consents_go_with_her_erasure():
    view = members()
    apply_to_members(view, ms.MemberErased(member_id=MEMBER))
    assert not view.consented(MEMBER, "sv", "insurance", NOW)


def test_her_instruction_pays_each_period_in_order_until_the_term_is_paid_or_she_died():
    state = issued()
    assert applied().next_premium() is None  # nothing to pay before the insurer issued it
    assert state.next_premium() == (1, NOW.date(), NOW.date() + dt.timedelta(days=30))
    record = i.RecordPremiumPaid(cover_id=COVER_ID, period=2,
                                 premium_id="00000000-0000-7000-8000-00000000c0b2")
    assert rejected(state, record) == "ValidationError"  # in order
    for period in range(1, 13):
        state = then(state, decide(state, i.RecordPremiumPaid(
            cover_id=COVER_ID, period=period,
            premium_id=f"00000000-0000-7000-8000-00000000c{period:03d}")))
        assert rejected(state, i.RecordPremiumPaid(
            cover_id=COVER_ID, period=period, premium_id=record.premium_id)) \
            == "PremiumAlreadyRecorded"
        if period == 1:
            assert state.next_premium()[:2] == (2, dt.date(2027, 4, 10))
    assert state.next_premium() is None  # twelve monthly premiums pay the year
    died = then(issued(), decide(issued(), i.NotifyDeath(cover_id=COVER_ID),
                                 context(members=members(died_on=dt.date(2027, 3, 9)))))
    assert died.next_premium() is None
    assert rejected(applied(), record) == "CoverNotIssued"


def test_only_her_insurers_node_answers_for_her_insurer():
    state = applied()
    for forged in (i.RecordPolicyAnswer(cover_id=COVER_ID, from_node="gt", accepted=False,
                                        code="AgeOutsideBand"),
                   i.RecordPolicyAnswer(cover_id=COVER_ID, from_node="gt", accepted=True,
                                        terms=terms(state.applied.policy_id))):
        assert rejected(state, forged) == "NotTheInsurer"
    died = dt.date(2027, 9, 2)
    state = issued()
    state = then(state, decide(state, i.NotifyDeath(cover_id=COVER_ID),
                               context(members=members(died_on=died))))
    assert rejected(state, i.RecordDeathAnswer(cover_id=COVER_ID, from_node="gt",
                                               accepted=False, code="NoClaim")) \
        == "NotTheInsurer"


def test_a_death_recorded_by_a_cooperative_that_admitted_her_under_consent_does_not_count():
    view = members()
    other_coop = "00000000-0000-7000-8000-0000000000a3"
    apply_to_members(view, ms.MembershipStarted(
        member_id=MEMBER, cooperative_id=other_coop, role=ms.MembershipRole.MEMBER,
        started_on=dt.date(2026, 1, 2), share_capital_required=usd(0),
        consent_id="00000000-0000-7000-8000-00000000c012"))
    apply_to_members(view, ms.MembershipEnded(
        member_id=MEMBER, cooperative_id=other_coop, reason=ms.EndReason.DECEASED,
        ended_on=dt.date(2027, 3, 1)))
    assert rejected(issued(), i.NotifyDeath(cover_id=COVER_ID), context(members=view)) \
        == "NoRecordedDeath"


def test_nobody_applies_for_a_member_whose_death_was_recorded():
    assert rejected(Cover(), apply(), context(members=members(
        died_on=dt.date(2027, 3, 1), active=True))) == "NotAMember"
