"""The insurance rules (issue 25), pure: products, policies, premiums and their grace period,
the one claim, its assessment and four-eyes decision, and payments released once each.

The invariants are checked by a hypothesis state machine that drives one policy with a
moving clock and commands in any order (premiums early, late, twice, out of order, of the
wrong amount; lapses; claims; decisions by the same or another person; payments released
early, twice, or numbers that do not exist) and reads the events it got, not the state."""

from __future__ import annotations

import datetime as dt
import hashlib

import msgspec
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from gateway.fold import MemoryStore
from gateway.insurance import fold as insurance_fold
from schemas import insurance as i
from schemas import membership as ms
from schemas.fields import Money, add_months
from services.insurance.domain import (
    INSURANCE,
    POLICY,
    PRODUCT,
    Product,
    apply_to_products,
)
from services.runtime.aggregate import Context, Rejected, fold

INSURER = "00000000-0000-7000-8000-0000000000a1"
PRODUCT_ID = "00000000-0000-7000-8000-0000000000b1"
POLICY_ID = "00000000-0000-7000-8000-0000000000c1"
MEMBER = "00000000-0000-7000-8000-0000000000d1"
MOTHER = "00000000-0000-7000-8000-0000000000e1"
BROTHER = "00000000-0000-7000-8000-0000000000e2"
FUNERAL_HOME = "00000000-0000-7000-8000-0000000000f1"
CLAIM = "00000000-0000-7000-8000-0000000000c9"
HER_ACCOUNT = "00000000-0000-7000-8000-0000000000a9"  # at her host node: pays the premiums
ASSESSOR = hashlib.sha256(b"staff ana").hexdigest()
APPROVER = hashlib.sha256(b"staff ben").hexdigest()
START = dt.date(2027, 1, 15)


def usd(amount: int) -> Money:
    return Money(amount, "USD")


def at(day: dt.date, hour: int = 12) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=dt.UTC)


def offer(**changes) -> i.OfferProduct:
    terms = dict(product_id=PRODUCT_ID, cooperative_id=INSURER,
                 names={"es": "Repatriación y remesa segura", "en": "Repatriation cover"},
                 currency="USD", repatriation_limit=usd(400_000),
                 monthly_benefit_cap=usd(30_000), premium=usd(1_500), waiting_days=30,
                 grace_days=30, exclusions=[{"es": "Suicidio en el primer año",
                                             "en": "Suicide in the first year"}])
    return i.OfferProduct(**{**terms, **changes})


def context(now: dt.datetime, *, product: i.ProductOffered | None = None,
            withdrawn: bool = False) -> Context:
    products: dict[str, Product] = {}
    if product is not None:
        apply_to_products(products, product)
        if withdrawn:
            apply_to_products(products, i.ProductWithdrawn(product_id=PRODUCT_ID,
                                                           withdrawn_at=now))
    return Context(now=now, lookups={
        "cooperatives": {INSURER: ms.CooperativeKind.INSURANCE},
        "products": products})


def offered() -> i.ProductOffered:
    return PRODUCT.decide(Product(), offer(), context(at(START)))[0]


def issue(**changes) -> i.IssuePolicy:
    fields = dict(policy_id=POLICY_ID, product_id=PRODUCT_ID, member_id=MEMBER,
                  from_node="us", starts_on=START, age=34, average_remittance=usd(25_000),
                  payees=[i.Payee(account_id=MOTHER, share_percent=100)])
    return i.IssuePolicy(**{**fields, **changes})


def transfer_of(period: int, attempt: int = 0) -> str:
    """The id of one payment of a period's premium at her host."""
    return f"00000000-0000-7000-8000-{period:06d}{attempt:06d}"


def collect(**fields) -> i.CollectPremium:
    """A premium as her host's relay brings it: by default, the period's first payment, of
    the insured member, from the policy's node."""
    fields.setdefault("transfer_id", transfer_of(fields["period"]))
    fields.setdefault("from_account_id", HER_ACCOUNT)
    fields.setdefault("member_id", MEMBER)
    return i.CollectPremium(**fields)


class Book:
    """One policy decided step by step: its events and state."""

    def __init__(self, **changes):
        self.product = offered()
        self.events: list = []
        self.run(issue(**changes), at(START))

    @property
    def state(self):
        return fold(POLICY, self.events)

    def run(self, command, now: dt.datetime):
        new = POLICY.decision(self.state, command, context(now, product=self.product))
        self.events.extend(new)
        return new[0]

    def refused(self, command, now: dt.datetime) -> str:
        with pytest.raises(Rejected) as refused:
            self.run(command, now)
        return refused.value.code

    def pay(self, period: int, paid_on: dt.date, amount: int = 1_500):
        return self.run(collect(policy_id=POLICY_ID, period=period, amount=usd(amount),
                                from_node="us", paid_at=at(paid_on)), at(paid_on, 18))

    def due(self, period: int) -> dt.date:
        return add_months(START, period - 1)


# -- products -------------------------------------------------------------------------------


def test_only_an_insurance_cooperative_offers_a_product():
    state = Product()
    now = at(START)
    bank = Context(now=now, lookups={"cooperatives": {
        INSURER: ms.CooperativeKind.SAVINGS_AND_CREDIT}, "products": {}})
    with pytest.raises(Rejected, match="NotAnInsurer"):
        PRODUCT.decide(state, offer(), bank)
    with pytest.raises(Rejected, match="UnknownCooperative"):
        PRODUCT.decide(state, offer(cooperative_id=MEMBER), context(now))
    with pytest.raises(Rejected, match="CurrencyMismatch"):
        PRODUCT.decide(state, offer(premium=Money(1_500, "EUR")), context(now))
    with pytest.raises(Rejected, match="ValidationError"):
        PRODUCT.decide(state, offer(min_age=61), context(now))
    with pytest.raises(Rejected, match="ValidationError"):
        PRODUCT.decide(state, offer(premium_months=5), context(now))  # 12 is not 5 x n
    product = PRODUCT.decide(state, offer(), context(now))[0]
    assert product.benefit_months == 12 and product.premium == usd(1_500)
    with pytest.raises(Rejected, match="ProductAlreadyOffered"):
        PRODUCT.decide(fold(PRODUCT, [product]), offer(), context(now))


def test_an_exclusions_text_is_keyed_by_a_language_tag():
    wire = msgspec.json.decode(msgspec.json.encode(offer()))
    assert msgspec.json.decode(msgspec.json.encode(wire), type=i.OfferProduct) == offer()
    for bad in ("", "not a tag!"):
        wire["exclusions"] = [{bad: "Guerra"}]
        with pytest.raises(msgspec.ValidationError):
            msgspec.json.decode(msgspec.json.encode(wire), type=i.OfferProduct)


def test_a_withdrawn_product_takes_no_new_policy_but_its_policies_run_on():
    product = offered()
    with pytest.raises(Rejected, match="ProductWithdrawn"):
        POLICY.decide(fold(POLICY, []), issue(),
                      context(at(START), product=product, withdrawn=True))
    with pytest.raises(Rejected, match="UnknownProduct"):
        POLICY.decide(fold(POLICY, []), issue(), context(at(START)))


# -- policies -------------------------------------------------------------------------------


def test_the_benefit_is_her_average_remittance_capped_by_the_product():
    assert Book().state.issued.monthly_benefit == usd(25_000)
    assert Book(average_remittance=usd(90_000)).state.issued.monthly_benefit == usd(30_000)
    assert Book(requested_benefit=usd(10_000)).state.issued.monthly_benefit == usd(10_000)
    no_history = Book(average_remittance=usd(0), requested_benefit=usd(20_000))
    assert no_history.state.issued.monthly_benefit == usd(20_000)
    issued = Book().state.issued
    assert issued.average_remittance == usd(25_000)  # disclosed on the policy
    assert issued.ends_on == dt.date(2028, 1, 15) and issued.premium == usd(1_500)


@pytest.mark.parametrize(("changes", "code"), [
    ({"age": 17}, "AgeOutsideBand"),
    ({"age": 61}, "AgeOutsideBand"),
    ({"average_remittance": Money(25_000, "MXN")}, "CurrencyMismatch"),
    ({"average_remittance": usd(0)}, "ValidationError"),  # no history and no benefit named
    ({"requested_benefit": usd(25_001)}, "ValidationError"),  # more than she sends home
    ({"payees": [i.Payee(account_id=MOTHER, share_percent=60)]}, "ValidationError"),
    ({"payees": [i.Payee(account_id=MOTHER, share_percent=50),
                 i.Payee(account_id=MOTHER, share_percent=50)]}, "ValidationError"),
    ({"starts_on": START - dt.timedelta(days=30)}, "ValidationError"),  # insuring the past
])
def test_a_policy_is_issued_only_within_the_products_terms(changes, code):
    product = offered()
    with pytest.raises(Rejected) as refused:
        POLICY.decision(fold(POLICY, []), issue(**changes), context(at(START), product=product))
    assert refused.value.code == code


def test_premiums_are_paid_whole_in_order_and_once():
    book = Book()
    assert book.refused(collect(policy_id=POLICY_ID, period=2, amount=usd(1_500),
                                         from_node="us", paid_at=at(START)),
                        at(START)) == "PremiumOutOfOrder"
    with pytest.raises(Rejected, match="PremiumMismatch"):
        book.pay(1, START, amount=1_499)
    first = book.pay(1, START)
    assert first.paid_through == dt.date(2027, 2, 14) and first.due_on == START
    with pytest.raises(Rejected, match="PremiumAlreadyPaid"):  # the relay delivered it twice
        book.pay(1, START)
    for period in range(2, 13):
        book.pay(period, book.due(period))
    with pytest.raises(Rejected, match="PolicyEnded"):
        book.pay(13, book.due(13))


def test_a_missed_premium_paid_within_grace_keeps_the_policy():
    book = Book()
    for period in range(1, 7):
        book.pay(period, book.due(period))
    late = book.due(7) + dt.timedelta(days=29)  # within the 30 days of grace
    assert book.refused(i.LapsePolicy(policy_id=POLICY_ID), at(late)) == "NotInArrears"
    book.pay(7, late)
    assert book.state.lapsed is None


def test_after_the_grace_period_the_policy_lapses_and_takes_no_premium():
    book = Book()
    book.pay(1, START)
    lapse_day = book.due(2) + dt.timedelta(days=31)
    assert book.refused(i.LapsePolicy(policy_id=POLICY_ID),
                        at(lapse_day - dt.timedelta(days=1))) == "NotInArrears"
    lapsed = book.run(i.LapsePolicy(policy_id=POLICY_ID), at(lapse_day))
    assert (lapsed.period, lapsed.due_on, lapsed.lapsed_on) == (2, book.due(2), lapse_day)
    with pytest.raises(Rejected, match="PolicyLapsed"):
        book.pay(2, lapse_day)
    assert book.refused(i.RenewPolicy(policy_id=POLICY_ID, age=35), at(lapse_day)) == \
        "PolicyLapsed"


def test_a_premium_paid_in_time_but_still_travelling_undoes_the_lapse():
    book = Book()
    book.pay(1, START)
    in_time = book.due(2) + dt.timedelta(days=30)
    book.run(i.LapsePolicy(policy_id=POLICY_ID), at(in_time + dt.timedelta(days=2)))
    book.run(collect(policy_id=POLICY_ID, period=2, amount=usd(1_500), from_node="us",
                              paid_at=at(in_time)), at(in_time + dt.timedelta(days=3)))
    assert book.state.lapsed is None and len(book.state.paid_at) == 2


def test_a_renewal_adds_a_term_and_checks_her_age_again():
    book = Book()
    assert book.refused(i.RenewPolicy(policy_id=POLICY_ID, age=35),
                        at(START + dt.timedelta(days=300))) == "PolicyLapsed"  # unpaid
    for period in range(1, 11):
        book.pay(period, book.due(period))
    book.run(i.RenewPolicy(policy_id=POLICY_ID, age=35), at(START + dt.timedelta(days=300)))
    assert book.state.ends_on == dt.date(2029, 1, 15) and book.state.periods == 24
    assert book.refused(i.RenewPolicy(policy_id=POLICY_ID, age=61),
                        at(START + dt.timedelta(days=301))) == "AgeOutsideBand"
    for period in range(11, 25):
        book.pay(period, book.due(period))
    assert book.refused(i.RenewPolicy(policy_id=POLICY_ID, age=36),
                        at(dt.datetime(2029, 1, 20, tzinfo=dt.UTC))) == "PolicyEnded"


# -- claims ---------------------------------------------------------------------------------


def died(book: Book, day: dt.date, *, certificate: bool = True) -> None:
    book.run(i.OpenClaim(policy_id=POLICY_ID, claim_id=CLAIM, died_on=day, notified_by="us"),
             at(day + dt.timedelta(days=1)))
    if certificate:
        book.run(i.AttachEvidence(policy_id=POLICY_ID, kind=i.EvidenceKind.DEATH_CERTIFICATE,
                                  sha256=hashlib.sha256(b"certificate").hexdigest()),
                 at(day + dt.timedelta(days=2)))


def assess(book: Book, day: dt.date, cost: int = 350_000, **changes) -> i.ClaimAssessed:
    fields = dict(policy_id=POLICY_ID, repatriation_cost=usd(cost),
                  repatriation_account_id=FUNERAL_HOME, by=ASSESSOR)
    return book.run(i.AssessClaim(**{**fields, **changes}), at(day))


def test_one_claim_per_death_and_the_evidence_as_digests_once_each():
    book = Book()
    book.pay(1, START)
    died(book, START + dt.timedelta(days=40))
    assert book.refused(i.OpenClaim(policy_id=POLICY_ID, claim_id=MEMBER,
                                    died_on=START + dt.timedelta(days=40), notified_by="sv"),
                        at(START + dt.timedelta(days=41))) == "ClaimAlreadyOpen"
    assert book.refused(i.AttachEvidence(policy_id=POLICY_ID,
                                         kind=i.EvidenceKind.DEATH_CERTIFICATE,
                                         sha256=hashlib.sha256(b"certificate").hexdigest()),
                        at(START + dt.timedelta(days=42))) == "EvidenceAlreadyAttached"


@pytest.mark.parametrize(("death_after_start", "paid", "certificate", "exclusions", "reasons"), [
    (40, 2, True, [], []),
    (10, 1, True, [], [i.ClaimReason.WAITING_PERIOD]),
    (100, 1, True, [], [i.ClaimReason.LAPSED]),  # period 2 due day 31, grace to day 61
    (50, 1, True, [], []),  # period 2 unpaid but within its grace when she died
    (40, 2, False, [], [i.ClaimReason.NO_EVIDENCE]),
    (40, 2, True, [0], [i.ClaimReason.EXCLUSION]),
    (400, 12, True, [], [i.ClaimReason.NOT_COVERED]),  # after the term
])
def test_the_assessment_checks_waiting_premiums_evidence_and_exclusions(
        death_after_start, paid, certificate, exclusions, reasons):
    book = Book()
    for period in range(1, paid + 1):
        book.pay(period, book.due(period))
    day = START + dt.timedelta(days=death_after_start)
    died(book, day, certificate=certificate)
    assessment = assess(book, day + dt.timedelta(days=5), exclusions=exclusions)
    assert assessment.reasons == reasons
    assert assessment.recommendation is (i.Recommendation.REJECT if reasons
                                         else i.Recommendation.APPROVE)


def test_a_premium_paid_after_its_grace_period_is_refused_even_before_the_lapse_is_recorded():
    book = Book()
    book.pay(1, START)
    late = book.due(2) + dt.timedelta(days=31)  # period 2 unpaid past its grace
    with pytest.raises(Rejected, match="PolicyLapsed"):
        book.pay(2, late)
    assert book.state.lapsed is None  # judged by the day it was paid, not by a recorded lapse


def test_a_premium_debited_after_her_death_is_refused_once_the_claim_is_open():
    book = Book()
    book.pay(1, START)
    day = START + dt.timedelta(days=40)
    died(book, day)
    assert book.refused(collect(policy_id=POLICY_ID, period=2, amount=usd(1_500),
                                from_node="us", paid_at=at(day + dt.timedelta(days=1))),
                        at(day + dt.timedelta(days=3))) == "PolicyClaimed"
    paid_before = book.run(collect(policy_id=POLICY_ID, period=2, amount=usd(1_500),
                                   from_node="us", paid_at=at(day - dt.timedelta(days=5))),
                           at(day + dt.timedelta(days=3)))  # debited before she died
    assert paid_before.period == 2


def test_one_payment_of_a_period_is_collected_and_any_other_goes_back():
    book = Book()
    first = collect(policy_id=POLICY_ID, period=1, amount=usd(1_500), from_node="us",
                    paid_at=at(START))
    book.run(first, at(START))
    assert book.refused(first, at(START)) == "PremiumAlreadyPaid"  # the same one, again
    assert book.refused(collect(policy_id=POLICY_ID, period=1, amount=usd(1_500),
                                from_node="us", paid_at=at(START),
                                transfer_id=transfer_of(1, attempt=1)),
                        at(START)) == "PeriodPaidBefore"  # another payment: refunded
    assert book.refused(collect(policy_id=POLICY_ID, period=1, amount=usd(1_500),
                                from_node="us", paid_at=at(START), from_account_id=MOTHER),
                        at(START)) == "PeriodPaidBefore"  # its id, from another account
    for stranger in ({"member_id": MOTHER}, {"from_node": "es"}):
        assert book.refused(collect(**{"policy_id": POLICY_ID, "period": 2,
                                       "amount": usd(1_500), "from_node": "us",
                                       "paid_at": at(START), **stranger}),
                            at(START)) == "NotHerPolicy"


def test_a_death_before_the_policy_was_issued_is_not_covered_however_far_back_it_starts():
    book = Book(starts_on=START - dt.timedelta(days=7))  # issued at START, starting before
    book.pay(1, START)
    died(book, START - dt.timedelta(days=2))
    assert assess(book, START + dt.timedelta(days=1)).reasons == [i.ClaimReason.NOT_COVERED]


def test_a_claim_is_assessed_again_until_it_is_decided_and_the_last_assessor_does_not_decide():
    book = Book()
    book.pay(1, START)
    book.pay(2, book.due(2))
    day = START + dt.timedelta(days=40)
    died(book, day, certificate=False)
    assert assess(book, day).reasons == [i.ClaimReason.NO_EVIDENCE]
    book.run(i.AttachEvidence(policy_id=POLICY_ID, kind=i.EvidenceKind.DEATH_CERTIFICATE,
                              sha256=hashlib.sha256(b"late certificate").hexdigest()), at(day))
    again = assess(book, day, by=APPROVER)  # another person assesses it again
    assert again.recommendation is i.Recommendation.APPROVE
    assert book.refused(i.ApproveClaim(policy_id=POLICY_ID, by=APPROVER), at(day)) == \
        "FourEyes"
    book.run(i.ApproveClaim(policy_id=POLICY_ID, by=ASSESSOR), at(day))
    assert book.refused(i.AssessClaim(policy_id=POLICY_ID, repatriation_cost=usd(0),
                                      by=ASSESSOR), at(day)) == "ClaimAlreadyDecided"


def test_the_approver_is_not_the_assessor_and_the_schedule_adds_up():
    book = Book(payees=[i.Payee(account_id=MOTHER, share_percent=67),
                        i.Payee(account_id=BROTHER, share_percent=33)],
                average_remittance=usd(25_001))
    book.pay(1, START)
    book.pay(2, book.due(2))
    day = START + dt.timedelta(days=45)
    died(book, day)
    assess(book, day + dt.timedelta(days=3), cost=500_000)  # above the limit: the limit
    decided = day + dt.timedelta(days=4)
    assert book.refused(i.ApproveClaim(policy_id=POLICY_ID, by=ASSESSOR), at(decided)) == \
        "FourEyes"
    approved = book.run(i.ApproveClaim(policy_id=POLICY_ID, by=APPROVER), at(decided))
    repatriation, *monthly = approved.payments
    assert repatriation.amount == usd(400_000) and repatriation.account_id == FUNERAL_HOME
    assert len(monthly) == 24 and {p.month for p in monthly} == set(range(1, 13))
    for month in range(1, 13):
        paid = [p for p in monthly if p.month == month]
        assert sum(p.amount.amount for p in paid) == 25_001
        assert {p.due_on for p in paid} == {add_months(decided, month - 1)}
    assert approved.total == usd(400_000 + 12 * 25_001)
    assert [p.number for p in approved.payments] == list(range(1, 26))
    assert book.refused(i.RejectClaim(policy_id=POLICY_ID, reasons=[i.ClaimReason.OTHER],
                                      by=APPROVER), at(decided)) == "ClaimAlreadyDecided"


def approved_claim() -> tuple[Book, dt.date, i.ClaimApproved]:
    """A policy with its first premium paid, whose insured died on day 40, the claim assessed
    and approved that day by two people."""
    book = Book()
    book.pay(1, START)
    day = START + dt.timedelta(days=40)
    died(book, day)
    assess(book, day)
    return book, day, book.run(i.ApproveClaim(policy_id=POLICY_ID, by=APPROVER), at(day))


def test_payments_are_released_when_due_and_once_each():
    book, day, approved = approved_claim()
    book.run(i.ReleasePayment(policy_id=POLICY_ID, number=1), at(day))
    assert book.refused(i.ReleasePayment(policy_id=POLICY_ID, number=1), at(day)) == \
        "PaymentAlreadyReleased"
    assert book.refused(i.ReleasePayment(policy_id=POLICY_ID, number=3), at(day)) == \
        "PaymentNotDue"
    assert book.refused(i.ReleasePayment(policy_id=POLICY_ID, number=14), at(day)) == \
        "UnknownPayment"
    clock = day
    for number in range(2, 14):
        clock = approved.payments[number - 1].due_on
        released = book.run(i.ReleasePayment(policy_id=POLICY_ID, number=number), at(clock))
        assert released.payment.account_id == MOTHER
    assert released.released_total == approved.total


def test_a_rejected_or_undecided_claim_pays_nothing():
    book = Book()
    book.pay(1, START)
    day = START + dt.timedelta(days=10)  # inside the waiting period
    died(book, day)
    assessment = assess(book, day)
    assert assessment.reasons == [i.ClaimReason.WAITING_PERIOD]
    assert book.refused(i.ReleasePayment(policy_id=POLICY_ID, number=1), at(day)) == \
        "UnknownPayment"
    assert book.refused(i.ApproveClaim(policy_id=POLICY_ID, by=APPROVER), at(day)) == \
        "AssessedForRejection"
    book.run(i.RejectClaim(policy_id=POLICY_ID, reasons=[i.ClaimReason.WAITING_PERIOD],
                           by=APPROVER), at(day))
    assert book.refused(i.ReleasePayment(policy_id=POLICY_ID, number=1), at(day)) == \
        "UnknownPayment"


def test_a_returned_payment_is_paid_again_once_to_an_account_the_family_names():
    book, day, approved = approved_claim()
    book.run(i.ReleasePayment(policy_id=POLICY_ID, number=2), at(day))
    returned = book.run(i.ReturnPayment(policy_id=POLICY_ID, number=2, reason="AccountClosed"),
                        at(day))
    assert returned.released_total == usd(0)  # the money is back with the insurer
    assert book.refused(i.RedirectPayment(policy_id=POLICY_ID, number=3, account_id=BROTHER),
                        at(day)) == "PaymentNotReturned"
    again = book.run(i.RedirectPayment(policy_id=POLICY_ID, number=2, account_id=BROTHER),
                     at(day)).payment
    assert (again.number, again.account_id, again.amount, again.month) == (
        len(approved.payments) + 1, BROTHER, usd(25_000), 1)
    assert book.refused(i.RedirectPayment(policy_id=POLICY_ID, number=2, account_id=BROTHER),
                        at(day)) == "PaymentNotReturned"  # once
    released = book.run(i.ReleasePayment(policy_id=POLICY_ID, number=again.number), at(day))
    assert released.released_total == usd(25_000)  # net: paid once, not twice
    book.run(i.ConfirmPayment(policy_id=POLICY_ID, number=again.number), at(day))


def test_the_products_figures_count_a_returned_payment_back_and_a_withdrawn_claim_out():
    book, day, _ = approved_claim()
    book.run(i.ReleasePayment(policy_id=POLICY_ID, number=2), at(day))
    book.run(i.ReturnPayment(policy_id=POLICY_ID, number=2, reason="AccountClosed"), at(day))
    store = MemoryStore()
    insurance_fold.fold_product(store, book.product, None)
    for event in book.events:
        insurance_fold.fold_policy(store, event, None)
    product = store.get("products", PRODUCT_ID)
    assert (product.paid, product.premiums, product.claims, product.approved) == (
        0, 1_500, 1, 1)
    other = Book()
    died(other, START + dt.timedelta(days=5))
    other.run(i.WithdrawClaim(policy_id=POLICY_ID, reason="a namesake"),
              at(START + dt.timedelta(days=6)))
    store = MemoryStore()
    insurance_fold.fold_product(store, other.product, None)
    for event in other.events:
        insurance_fold.fold_policy(store, event, None)
    product = store.get("products", PRODUCT_ID)
    assert product.claims == 0 and sum(product.ending.values()) == 1  # in force again


def test_a_claim_opened_by_mistake_is_withdrawn_and_the_policy_stands():
    book = Book()
    book.pay(1, START)
    day = START + dt.timedelta(days=40)
    died(book, day)
    book.run(i.WithdrawClaim(policy_id=POLICY_ID, reason="a namesake"), at(day))
    assert book.state.claim is None and not book.state.evidence
    book.pay(2, book.due(2) + dt.timedelta(days=5))  # her premiums are taken again
    for period in range(3, 10):
        book.pay(period, book.due(period))
    died(book, day + dt.timedelta(days=200))  # and her real death is claimed later
    assess(book, day + dt.timedelta(days=201))
    book.run(i.ApproveClaim(policy_id=POLICY_ID, by=APPROVER), at(day + dt.timedelta(days=201)))
    assert book.refused(i.WithdrawClaim(policy_id=POLICY_ID, reason="x"),
                        at(day + dt.timedelta(days=202))) == "ClaimHasPayments"


def test_every_command_and_event_belongs_to_one_aggregate():
    assert {a.name for a in INSURANCE.aggregates} == {"product", "policy", "cover"}
    for command in (i.OfferProduct, i.IssuePolicy, i.ReleasePayment, i.ApplyForPolicy,
                    i.NotifyDeath):
        assert INSURANCE.for_command(command) is not None


# -- the invariants, as a state machine ----------------------------------------------------


class OnePolicy(RuleBasedStateMachine):
    """One policy, a clock that only moves forward, and anything sent at any time."""

    def __init__(self):
        super().__init__()
        self.book = Book()
        self.now = at(START, 9)
        self.log: list[tuple[dt.datetime, object]] = []  # (decided at, event)

    def send(self, command) -> None:
        try:
            event = self.book.run(command, self.now)
        except Rejected:
            return
        self.log.append((self.now, event))

    def events(self, kind):
        return [(when, e) for when, e in self.log if isinstance(e, kind)]

    @rule(days=st.integers(0, 45), hours=st.integers(0, 23))
    def time_passes(self, days, hours):
        self.now += dt.timedelta(days=days, hours=hours)

    @rule(period=st.integers(1, 14), back=st.integers(0, 40),
          amount=st.sampled_from([1_500, 1_500, 1_500, 1_499, 3_000]),
          attempt=st.sampled_from([0, 0, 1]), node=st.sampled_from(["us", "us", "es"]))
    def a_premium_arrives(self, period, back, amount, attempt, node):
        paid_at = max(self.now - dt.timedelta(days=back), at(START, 0))
        self.send(collect(policy_id=POLICY_ID, period=period, amount=usd(amount),
                          from_node=node, paid_at=paid_at,
                          transfer_id=transfer_of(period, attempt)))

    @rule(late=st.one_of(st.integers(0, 30), st.integers(0, 30), st.integers(31, 45)))
    def her_standing_instruction_pays_the_next_premium(self, late):
        period = len(self.events(i.PremiumCollected)) + 1
        paid_at = at(add_months(START, period - 1) + dt.timedelta(days=late), 8)
        self.now = max(self.now, paid_at)  # paid now, or long ago and only arriving now
        self.send(collect(policy_id=POLICY_ID, period=period, amount=usd(1_500),
                          from_node="us", paid_at=paid_at))

    @rule()
    def the_scheduler_lapses_it(self):
        self.send(i.LapsePolicy(policy_id=POLICY_ID))

    @precondition(lambda self: self.now.date() >= START + dt.timedelta(days=25))
    @rule(back=st.integers(0, 60))
    def she_dies(self, back):
        day = max((self.now - dt.timedelta(days=back)).date(), START - dt.timedelta(days=3))
        self.send(i.OpenClaim(policy_id=POLICY_ID, claim_id=CLAIM, died_on=day,
                              notified_by="us"))

    @rule(kind=st.sampled_from([i.EvidenceKind.DEATH_CERTIFICATE, *i.EvidenceKind]),
          n=st.integers(0, 3))
    def evidence(self, kind, n):
        self.send(i.AttachEvidence(policy_id=POLICY_ID, kind=kind,
                                   sha256=hashlib.sha256(bytes([n])).hexdigest()))

    @precondition(lambda self: self.events(i.EvidenceAttached))
    @rule(cost=st.integers(0, 600_000), excluded=st.sampled_from([False, False, True]),
          by=st.sampled_from([ASSESSOR, APPROVER]))
    def assessed(self, cost, excluded, by):
        self.send(i.AssessClaim(policy_id=POLICY_ID, repatriation_cost=usd(cost),
                                repatriation_account_id=FUNERAL_HOME,
                                exclusions=[0] if excluded else [], by=by))

    @rule(by=st.sampled_from([ASSESSOR, APPROVER]), approve=st.booleans())
    def decided(self, by, approve):
        if approve:
            self.send(i.ApproveClaim(policy_id=POLICY_ID, by=by))
        else:
            self.send(i.RejectClaim(policy_id=POLICY_ID, reasons=[i.ClaimReason.OTHER], by=by))

    @rule(cost=st.integers(0, 600_000), by=st.sampled_from([APPROVER, APPROVER, ASSESSOR]))
    def staff_handle_the_claim_by_the_book(self, cost, by):
        self.evidence(i.EvidenceKind.DEATH_CERTIFICATE, 9)
        self.assessed(cost, False, ASSESSOR)
        self.decided(by, True)

    @rule(number=st.integers(1, 30), times=st.integers(1, 2))
    def a_payment_is_released(self, number, times):
        for _ in range(times):
            self.send(i.ReleasePayment(policy_id=POLICY_ID, number=number))

    @precondition(lambda self: self.events(i.ClaimApproved))
    @rule(twice=st.booleans())
    def the_scheduler_releases_what_is_due(self, twice):
        (_, approved), = self.events(i.ClaimApproved)
        for payment in approved.payments:
            for _ in range(1 + twice):
                self.send(i.ReleasePayment(policy_id=POLICY_ID, number=payment.number))

    @rule(pick=st.integers(0, 60), refused=st.sampled_from([False, False, True]),
          times=st.integers(1, 2))
    def the_payees_account_answers(self, pick, refused, times):
        released = [e.payment.number for _, e in self.events(i.PaymentReleased)]
        number = released[pick % len(released)] if released and pick < 50 else pick % 30 + 1
        for _ in range(times):
            self.send(i.ReturnPayment(policy_id=POLICY_ID, number=number, reason="AccountClosed")
                      if refused else i.ConfirmPayment(policy_id=POLICY_ID, number=number))

    @rule(pick=st.integers(0, 10), account=st.sampled_from([MOTHER, BROTHER]))
    def staff_pay_a_returned_payment_again(self, pick, account):
        returned = [e.number for _, e in self.events(i.PaymentReturned)]
        number = returned[pick % len(returned)] if returned else pick + 1
        self.send(i.RedirectPayment(policy_id=POLICY_ID, number=number, account_id=account))

    @rule()
    def a_claim_opened_by_mistake_is_withdrawn(self):
        self.send(i.WithdrawClaim(policy_id=POLICY_ID, reason="she called: she is alive"))

    @invariant()
    def credited_once_each_only_when_released_and_never_both_ways(self):
        released = {e.payment.number for _, e in self.events(i.PaymentReleased)}
        credited = [e.number for _, e in self.events(i.PaymentCredited)]
        returned = [e.number for _, e in self.events(i.PaymentReturned)]
        assert len(set(credited)) == len(credited) and len(set(returned)) == len(returned)
        assert set(credited) <= released and set(returned) <= released
        assert not set(credited) & set(returned)
        total = sum(e.amount.amount for _, e in self.events(i.PaymentCredited))
        assert total <= sum(e.payment.amount.amount for _, e in self.events(i.PaymentReleased))

    @invariant()
    def decided_by_someone_other_than_the_assessor(self):
        last = None  # the assessment that stands when a decision is taken
        for _, event in self.log:
            if isinstance(event, i.ClaimAssessed):
                last = event
            elif isinstance(event, i.ClaimWithdrawn):
                last = None
            elif isinstance(event, i.ClaimApproved | i.ClaimRejected):
                assert last is not None and event.by != last.by
                if isinstance(event, i.ClaimApproved):
                    assert last.recommendation is i.Recommendation.APPROVE

    @invariant()
    def the_products_figures_follow_its_policy(self):
        """The gateway's fold keeps the product's figures from the policy's events alone:
        they agree with the decider's own state after any sequence."""
        store = MemoryStore()
        insurance_fold.fold_product(store, self.book.product, None)
        for event in self.book.events:
            insurance_fold.fold_policy(store, event, None)
        product, state = store.get("products", PRODUCT_ID), self.book.state
        assert product.issued == 1
        assert product.lapsed == (state.lapsed is not None)
        assert product.claims == (state.claim is not None)
        assert product.premiums == 1_500 * len(state.paid_at)
        assert product.paid == state.released_total
        standing = state.lapsed is None and state.claim is None
        assert product.ending == ({state.ends_on.isoformat(): 1} if standing else {})

    @invariant()
    def one_claim_per_death(self):
        open_ = 0  # claims open at once: one, until one opened by mistake is withdrawn
        for _, event in self.log:
            open_ += {i.ClaimOpened: 1, i.ClaimWithdrawn: -1}.get(type(event), 0)
            assert open_ in (0, 1)
        if self.events(i.ClaimApproved) or self.events(i.ClaimRejected):
            decided_at = next(n for n, (_, e) in enumerate(self.log)
                              if isinstance(e, i.ClaimApproved | i.ClaimRejected))
            assert not [e for _, e in self.log[decided_at:]
                        if isinstance(e, i.ClaimWithdrawn | i.ClaimOpened)]

    @invariant()
    def each_period_once_in_order_never_partial_never_past_grace(self):
        collected = [e for _, e in self.events(i.PremiumCollected)]
        assert [e.period for e in collected] == list(range(1, len(collected) + 1))
        assert len({e.transfer_id for e in collected}) == len(collected)
        assert {e.from_node for e in collected} <= {"us"}  # the policy's node only
        for e in collected:
            assert e.amount == usd(1_500)
            last_day = add_months(START, e.period - 1) + dt.timedelta(days=30)
            assert e.paid_at.date() <= last_day  # paid within its grace period

    @invariant()
    def each_payment_at_most_once_and_never_beyond_the_benefit(self):
        released = [(when, e) for when, e in self.events(i.PaymentReleased)]
        numbers = [e.payment.number for _, e in released]
        assert len(numbers) == len(set(numbers))
        if not released:
            return
        (_, approved), = self.events(i.ClaimApproved)
        back = sum(e.amount.amount for _, e in self.events(i.PaymentReturned))
        assert sum(e.payment.amount.amount for _, e in released) - back <= approved.total.amount
        redirected = [e.number for _, e in self.events(i.PaymentRedirected)]
        assert len(redirected) == len(set(redirected))  # a returned payment paid again once
        assert set(redirected) <= {e.number for _, e in self.events(i.PaymentReturned)}
        assert approved.total.amount <= 400_000 + 12 * 25_000
        for when, e in released:
            assert e.payment.due_on <= when.date()

    @invariant()
    def nothing_paid_inside_the_waiting_period_or_on_a_lapsed_policy(self):
        if not self.events(i.PaymentReleased) and not self.events(i.ClaimApproved):
            return
        (_, claim) = self.events(i.ClaimOpened)[-1]  # the one not withdrawn
        assert len(self.events(i.ClaimApproved)) == 1
        death = claim.died_on
        assert START + dt.timedelta(days=30) <= death < dt.date(2028, 1, 15)
        paid_by_death = {e.period for _, e in self.events(i.PremiumCollected)
                         if e.paid_at.date() <= death}
        for period in range(1, 13):  # every period past its grace on that day was paid
            if add_months(START, period - 1) + dt.timedelta(days=31) <= death:
                assert period in paid_by_death


OnePolicy.TestCase.settings = settings(max_examples=120, stateful_step_count=50, deadline=None,
                                       suppress_health_check=[HealthCheck.too_slow])
test_one_policy_holds_its_invariants = OnePolicy.TestCase
