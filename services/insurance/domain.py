"""The insurance rules, as pure functions: no I/O; the clock and lookups come in through
``Context``.

Two aggregates at the insurer's node: the **product** (key ``product_id``) and the
**policy** (key ``policy_id``). Everything about one policy (its premiums, its one claim,
the claim's evidence, assessment, decision and payments) has one writer, so "one claim per
insured event", "each period's premium at most once", "each payment at most once" and "never
more than the benefit" hold under any load and any redelivery.

Time, for a policy that starts on day S with a premium every P months: period k (from 1)
is due on S + (k-1)·P months and covers until the next is due; a period unpaid on its due
day is in arrears, and the policy lapses the day after its grace period. A premium is judged
by when her host node debited it (``paid_at``), not when the relay brought it, so a premium
paid in time is collected even if the lapse was recorded while it travelled (the lapse is
then undone). A claim is judged by the day she died: covered if she died inside the term,
after the waiting period, and no premium was then unpaid past its grace period.

Lookups: ``cooperatives`` (from membership events: each cooperative's kind) and
``products`` (this service's own events).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

from schemas import insurance as i
from schemas import membership as ms
from schemas.fields import Money, add_months, earliest_day
from schemas.registry import Contract, fields_of
from services.insurance.lookups import (
    Members,
    Savers,
    apply_to_members,
    apply_to_savers,
)
from services.runtime.aggregate import (
    Aggregate,
    Context,
    Lookup,
    Rejected,
    ServiceDefinition,
)
from services.runtime.ids import derived_id

replace = dataclasses.replace

#: How far back a policy may start (an application that waited for the relay), and ahead.
START_DAYS_BACK = 7
START_DAYS_AHEAD = 92


def premium_due_on(starts_on: dt.date, premium_months: int, period: int) -> dt.date:
    """The day premium ``period`` (from 1) of a policy starting on ``starts_on`` falls due:
    at the policy's node and at her host node alike."""
    return add_months(starts_on, (period - 1) * premium_months)


# -- the product ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Product:
    offered: i.ProductOffered | None = None
    withdrawn: bool = False


def decide_product(state: Product, command: Contract, context: Context) -> list[Contract]:
    match command:
        case i.OfferProduct():
            if state.offered is not None:
                raise Rejected("ProductAlreadyOffered", "a product with this id is offered")
            kind = context.lookups["cooperatives"].get(command.cooperative_id)
            if kind is None:
                raise Rejected("UnknownCooperative", "no cooperative is registered with this id")
            if kind is not ms.CooperativeKind.INSURANCE:
                raise Rejected("NotAnInsurer", "products are offered by insurance cooperatives")
            for amount in (command.repatriation_limit, command.monthly_benefit_cap,
                           command.premium):
                _in_currency(amount, command.currency)
            if command.premium.amount == 0:
                raise Rejected("ValidationError", "the premium is above zero")
            if command.min_age > command.max_age:
                raise Rejected("ValidationError", "the age band is empty: min_age > max_age")
            if command.term_months % command.premium_months:
                raise Rejected("ValidationError", "the term is a whole number of premium "
                               "periods")
            return [i.ProductOffered(**fields_of(command), offered_at=context.now)]
        case i.WithdrawProduct():
            if state.offered is None:
                raise Rejected("UnknownProduct", "no product is offered with this id")
            if state.withdrawn:
                raise Rejected("ProductWithdrawn", "the product is withdrawn already")
            return [i.ProductWithdrawn(product_id=command.product_id, withdrawn_at=context.now)]
    raise TypeError(f"not a product command: {type(command).__name__}")


def evolve_product(state: Product, event: Contract) -> Product:
    match event:
        case i.ProductOffered():
            return Product(offered=event)
        case i.ProductWithdrawn():
            return replace(state, withdrawn=True)
    raise TypeError(f"not a product event: {type(event).__name__}")


# -- the policy -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Policy:
    issued: i.PolicyIssued | None = None
    months: int = 0  # the whole term so far, renewals included
    paid_at: tuple[dt.datetime, ...] = ()  # when each period was paid, in order
    collected_by: tuple[tuple[str, str], ...] = ()  # ... by which (account, payment id)
    lapsed: i.PolicyLapsed | None = None
    claim: i.ClaimOpened | None = None
    evidence: Mapping[str, i.EvidenceKind] = field(default_factory=dict)  # digest -> kind
    assessment: i.ClaimAssessed | None = None
    approved: i.ClaimApproved | None = None
    rejected: i.ClaimRejected | None = None
    released: frozenset[int] = frozenset()
    released_total: int = 0
    credited: frozenset[int] = frozenset()
    credited_total: int = 0
    returned: frozenset[int] = frozenset()
    redirected: tuple[i.Payment, ...] = ()  # returned payments paid again, as new ones
    redirected_from: frozenset[int] = frozenset()

    # what the terms say of time

    @property
    def ends_on(self) -> dt.date:
        assert self.issued is not None
        return add_months(self.issued.starts_on, self.months)

    @property
    def periods(self) -> int:
        assert self.issued is not None
        return self.months // self.issued.premium_months

    def due_on(self, period: int) -> dt.date:
        assert self.issued is not None
        return premium_due_on(self.issued.starts_on, self.issued.premium_months, period)

    def lapses_on(self, period: int) -> dt.date:
        """The first day the policy no longer stands if ``period`` is still unpaid."""
        assert self.issued is not None
        return self.due_on(period) + dt.timedelta(days=self.issued.grace_days + 1)

    def paid_through(self, paid: int) -> dt.date:
        """The last day ``paid`` periods cover."""
        return self.due_on(paid + 1) - dt.timedelta(days=1)

    def lapsed_by(self, day: dt.date, paid: int | None = None) -> int | None:
        """The first unpaid period, if it was past its grace period on ``day`` with ``paid``
        periods paid (default: those paid now)."""
        first = (len(self.paid_at) if paid is None else paid) + 1
        if first <= self.periods and day >= self.lapses_on(first):
            return first
        return None

    def paid_by(self, day: dt.date) -> int:
        """How many periods were paid by the end of ``day`` (in order)."""
        return sum(1 for at in self.paid_at if at.date() <= day)

    def decided(self) -> bool:
        return self.approved is not None or self.rejected is not None

    def payments(self) -> tuple[i.Payment, ...]:
        """The approved schedule, and the returned payments paid again."""
        return (*(self.approved.payments if self.approved else ()), *self.redirected)


def decide(state: Policy, command: Contract, context: Context) -> list[Contract]:
    today = context.now.date()
    match command:
        case i.IssuePolicy():
            return [_issue(state, command, context)]
        case i.RenewPolicy():
            issued = _issued(state)
            if state.claim is not None:
                raise Rejected("PolicyClaimed", "a claim is open on the policy")
            if today >= state.ends_on:  # a renewal never covers a gap backwards
                raise Rejected("PolicyEnded", f"the term ended on {state.ends_on}")
            if state.lapsed is not None or state.lapsed_by(today) is not None:
                raise Rejected("PolicyLapsed", "the policy lapsed: it is not renewed")
            product = _product(context, issued.product_id)
            _age_in_band(command.age, product)
            return [i.PolicyRenewed(policy_id=command.policy_id, age=command.age,
                                    term_months=product.term_months,
                                    ends_on=add_months(state.ends_on, product.term_months))]
        case i.CollectPremium():
            return [_collect(state, command)]
        case i.LapsePolicy():
            _issued(state)
            if state.claim is not None:
                raise Rejected("PolicyClaimed", "a claim is open: the claim judges the premiums")
            if state.lapsed is not None:
                raise Rejected("PolicyLapsed", "the policy lapsed already")
            period = state.lapsed_by(today)
            if period is None:
                raise Rejected("NotInArrears", "no premium is unpaid past its grace period")
            return [i.PolicyLapsed(policy_id=command.policy_id, period=period,
                                   due_on=state.due_on(period),
                                   lapsed_on=state.lapses_on(period))]
        case i.OpenClaim():
            issued = _issued(state)
            if state.claim is not None:
                raise Rejected("ClaimAlreadyOpen", "a claim is open on this policy: one claim "
                               "per insured event")
            if command.relayed and command.notified_by != issued.from_node:
                raise Rejected("NotHerPolicy", "her death is notified by her host node, the "
                               "one her policy was applied for from")
            return [i.ClaimOpened(policy_id=command.policy_id, claim_id=command.claim_id,
                                  died_on=command.died_on, notified_by=command.notified_by,
                                  opened_at=context.now)]
        case i.AttachEvidence():
            claim = _claim(state)
            if state.decided():
                raise Rejected("ClaimAlreadyDecided", "the claim is decided")
            if command.sha256 in state.evidence:
                raise Rejected("EvidenceAlreadyAttached", "this digest is attached already")
            if len(state.evidence) >= i.MAX_EVIDENCE:
                raise Rejected("ValidationError", f"a claim holds at most {i.MAX_EVIDENCE} "
                               "documents")
            return [i.EvidenceAttached(policy_id=command.policy_id, claim_id=claim.claim_id,
                                       kind=command.kind, sha256=command.sha256,
                                       attached_at=context.now)]
        case i.AssessClaim():
            return [_assess(state, command, context)]
        case i.ApproveClaim():
            claim, assessment = _to_decide(state, command.by)
            if assessment.recommendation is not i.Recommendation.APPROVE:
                raise Rejected("AssessedForRejection", "the assessment recommends rejecting it: "
                               f"{', '.join(assessment.reasons)}")
            payments = schedule(state, assessment, today)
            total = sum(p.amount.amount for p in payments)
            return [i.ClaimApproved(policy_id=command.policy_id, claim_id=claim.claim_id,
                                    payments=payments,
                                    total=Money(total, state.issued.premium.currency),
                                    by=command.by, approved_at=context.now)]
        case i.RejectClaim():
            claim, _ = _to_decide(state, command.by)
            return [i.ClaimRejected(policy_id=command.policy_id, claim_id=claim.claim_id,
                                    reasons=list(dict.fromkeys(command.reasons)),
                                    by=command.by, rejected_at=context.now)]
        case i.ReleasePayment():
            return [_release(state, command, today, context)]
        case i.ConfirmPayment():
            payment = _released(state, command.number)
            credited = state.credited_total + payment.amount.amount
            return [i.PaymentCredited(
                policy_id=command.policy_id, number=command.number,
                account_id=payment.account_id, amount=payment.amount,
                credited_total=Money(credited, payment.amount.currency))]
        case i.ReturnPayment():
            payment = _released(state, command.number)
            net = state.released_total - payment.amount.amount
            return [i.PaymentReturned(policy_id=command.policy_id, number=command.number,
                                      account_id=payment.account_id, amount=payment.amount,
                                      reason=command.reason,
                                      released_total=Money(net, payment.amount.currency))]
        case i.RedirectPayment():
            _claim(state)
            returned = next((p for p in state.payments() if p.number == command.number), None)
            if returned is None:
                raise Rejected("UnknownPayment", "the claim's schedule has no payment with "
                               "this number")
            if command.number not in state.returned or command.number in state.redirected_from:
                raise Rejected("PaymentNotReturned", f"payment {command.number} was not "
                               "returned, or was paid again already")
            payment = i.Payment(number=len(state.payments()) + 1, kind=returned.kind,
                                account_id=command.account_id, amount=returned.amount,
                                due_on=today, month=returned.month)
            return [i.PaymentRedirected(policy_id=command.policy_id, number=command.number,
                                        payment=payment)]
        case i.WithdrawClaim():
            claim = _claim(state)
            if state.approved is not None:
                raise Rejected("ClaimHasPayments", "the claim is approved: it is not withdrawn")
            if state.rejected is not None:
                raise Rejected("ClaimAlreadyDecided", "the claim is rejected already")
            return [i.ClaimWithdrawn(policy_id=command.policy_id, claim_id=claim.claim_id,
                                     reason=command.reason, withdrawn_at=context.now)]
    raise TypeError(f"not a policy command: {type(command).__name__}")


def evolve(state: Policy, event: Contract) -> Policy:
    match event:
        case i.PolicyIssued():
            return Policy(issued=event, months=event.term_months)
        case i.PolicyRenewed():
            return replace(state, months=state.months + event.term_months)
        case i.PremiumCollected():
            lapsed = state.lapsed
            if lapsed is not None and lapsed.period == event.period:
                lapsed = None  # paid in time, on its way when the lapse was recorded
            return replace(state, paid_at=(*state.paid_at, event.paid_at),
                           collected_by=(*state.collected_by,
                                         (event.from_account_id, event.transfer_id)),
                           lapsed=lapsed)
        case i.PolicyLapsed():
            return replace(state, lapsed=event)
        case i.ClaimOpened():
            return replace(state, claim=event)
        case i.EvidenceAttached():
            return replace(state, evidence={**state.evidence, event.sha256: event.kind})
        case i.ClaimAssessed():
            return replace(state, assessment=event)
        case i.ClaimApproved():
            return replace(state, approved=event)
        case i.ClaimRejected():
            return replace(state, rejected=event)
        case i.PaymentReleased():
            return replace(state, released=state.released | {event.payment.number},
                           released_total=event.released_total.amount)
        case i.PaymentCredited():
            return replace(state, credited=state.credited | {event.number},
                           credited_total=event.credited_total.amount)
        case i.PaymentReturned():
            return replace(state, returned=state.returned | {event.number},
                           released_total=event.released_total.amount)
        case i.PaymentRedirected():
            return replace(state, redirected=(*state.redirected, event.payment),
                           redirected_from=state.redirected_from | {event.number})
        case i.ClaimWithdrawn():
            return replace(state, claim=None, evidence={}, assessment=None)
    raise TypeError(f"not a policy event: {type(event).__name__}")


def _issue(state: Policy, command: i.IssuePolicy, context: Context) -> i.PolicyIssued:
    if state.issued is not None:
        raise Rejected("PolicyAlreadyIssued", "a policy with this id is issued")
    product = _product(context, command.product_id)
    if context.lookups["products"][command.product_id].withdrawn:
        raise Rejected("ProductWithdrawn", "the product takes no new policies")
    _age_in_band(command.age, product)
    _in_currency(command.average_remittance, product.currency)
    if command.requested_benefit is not None:
        _in_currency(command.requested_benefit, product.currency)
    today = earliest_day(context.now)
    if not (today - dt.timedelta(days=START_DAYS_BACK) <= command.starts_on
            <= today + dt.timedelta(days=START_DAYS_AHEAD)):
        raise Rejected("ValidationError", f"a policy starts at most {START_DAYS_BACK} days "
                       f"back and {START_DAYS_AHEAD} ahead")
    accounts = [p.account_id for p in command.payees]
    if len(set(accounts)) != len(accounts):
        raise Rejected("ValidationError", "each payee's account is named once")
    if sum(p.share_percent for p in command.payees) != 100:
        raise Rejected("ValidationError", "the payees' shares add up to 100")
    wanted = (command.average_remittance if command.requested_benefit is None
              else command.requested_benefit)
    if command.average_remittance.amount and wanted.amount > command.average_remittance.amount:
        raise Rejected("ValidationError", "the monthly benefit is at most her average "
                       "remittance: it keeps what the family lives on, no more")
    monthly = min(wanted.amount, product.monthly_benefit_cap.amount)
    if monthly == 0:
        raise Rejected("ValidationError", "the monthly benefit is above zero: with no "
                       "remittance history, she names the benefit she wants")
    return i.PolicyIssued(
        policy_id=command.policy_id, product_id=command.product_id,
        cooperative_id=product.cooperative_id, member_id=command.member_id,
        from_node=command.from_node, starts_on=command.starts_on,
        term_months=product.term_months,
        ends_on=add_months(command.starts_on, product.term_months), age=command.age,
        premium=product.premium, premium_months=product.premium_months,
        grace_days=product.grace_days, waiting_days=product.waiting_days,
        repatriation_limit=product.repatriation_limit,
        average_remittance=command.average_remittance,
        monthly_benefit=Money(monthly, product.currency),
        benefit_months=product.benefit_months, payees=list(command.payees),
        issued_at=context.now, application_id=command.application_id)


def _collect(state: Policy, command: i.CollectPremium) -> i.PremiumCollected:
    issued = _issued(state)
    paid = len(state.paid_at)
    if command.member_id != issued.member_id or command.from_node != issued.from_node:
        raise Rejected("NotHerPolicy", "the policy insures another member, or is paid from "
                       "another node")
    if command.period <= paid:
        if state.collected_by[command.period - 1] == (command.from_account_id,
                                                      command.transfer_id):
            raise Rejected("PremiumAlreadyPaid", "this payment was collected already")
        raise Rejected("PeriodPaidBefore", f"period {command.period} was paid by another "
                       "payment")
    if command.period > state.periods:
        raise Rejected("PolicyEnded", f"the term has {state.periods} periods")
    if command.period != paid + 1:
        raise Rejected("PremiumOutOfOrder", f"period {paid + 1} is unpaid: it is paid first")
    if state.claim is not None and command.paid_at.date() > state.claim.died_on:
        raise Rejected("PolicyClaimed", "the premium was paid after her death")
    if command.amount != issued.premium:
        raise Rejected("PremiumMismatch", f"the premium is {issued.premium.amount} "
                       f"{issued.premium.currency} minor units")
    if state.lapsed_by(command.paid_at.date()) is not None:
        raise Rejected("PolicyLapsed", f"period {command.period} was due on "
                       f"{state.due_on(command.period)}: its grace period was over")
    return i.PremiumCollected(
        policy_id=command.policy_id, transfer_id=command.transfer_id,
        from_account_id=command.from_account_id, period=command.period, amount=command.amount,
        from_node=command.from_node, paid_at=command.paid_at,
        due_on=state.due_on(command.period), paid_through=state.paid_through(paid + 1))


def reasons_for(state: Policy, exclusions: list[int]) -> list[i.ClaimReason]:
    """Why the claim would not be paid, the service's checks and the exclusions the assessor
    named: none means it is paid."""
    issued, claim = state.issued, state.claim
    assert issued is not None and claim is not None
    died = claim.died_on
    reasons = []
    if not issued.starts_on <= died < state.ends_on or died < issued.issued_at.date():
        reasons.append(i.ClaimReason.NOT_COVERED)  # (nobody insures a death already known)
    elif died < issued.starts_on + dt.timedelta(days=issued.waiting_days):
        reasons.append(i.ClaimReason.WAITING_PERIOD)
    if issued.starts_on <= died and state.lapsed_by(died, state.paid_by(died)) is not None:
        reasons.append(i.ClaimReason.LAPSED)
    if exclusions:
        reasons.append(i.ClaimReason.EXCLUSION)
    if i.EvidenceKind.DEATH_CERTIFICATE not in state.evidence.values():
        reasons.append(i.ClaimReason.NO_EVIDENCE)
    return reasons


def _assess(state: Policy, command: i.AssessClaim, context: Context) -> i.ClaimAssessed:
    claim = _claim(state)
    issued = state.issued
    if state.decided():
        raise Rejected("ClaimAlreadyDecided", "the claim is decided")
    _in_currency(command.repatriation_cost, issued.premium.currency)
    product = _product(context, issued.product_id)
    if any(index >= len(product.exclusions) for index in command.exclusions):
        raise Rejected("ValidationError", f"the product lists {len(product.exclusions)} "
                       "exclusions (by index, from 0)")
    if command.repatriation_cost.amount and command.repatriation_account_id is None:
        raise Rejected("ValidationError", "the repatriation is paid to an account: name it")
    reasons = reasons_for(state, sorted(set(command.exclusions)))
    repatriation = min(command.repatriation_cost.amount, issued.repatriation_limit.amount)
    return i.ClaimAssessed(
        policy_id=command.policy_id, claim_id=claim.claim_id,
        recommendation=i.Recommendation.REJECT if reasons else i.Recommendation.APPROVE,
        reasons=reasons, repatriation=Money(repatriation, issued.premium.currency),
        repatriation_account_id=command.repatriation_account_id if repatriation else None,
        exclusions=sorted(set(command.exclusions)), by=command.by, assessed_at=context.now)


def schedule(state: Policy, assessment: i.ClaimAssessed, today: dt.date) -> list[i.Payment]:
    """The payments an approval makes: the repatriation (number 1, due today) if any, then
    for each benefit month (the first due today, then one a month) each payee's share of the
    monthly benefit; a month's cents that the shares leave over go to the first payees, so
    each month pays exactly the benefit."""
    issued = state.issued
    assert issued is not None
    currency = issued.premium.currency
    payments: list[i.Payment] = []
    if assessment.repatriation.amount:
        payments.append(i.Payment(number=1, kind=i.PaymentKind.REPATRIATION,
                                  account_id=assessment.repatriation_account_id,
                                  amount=assessment.repatriation, due_on=today))
    monthly = issued.monthly_benefit.amount
    parts = [monthly * p.share_percent // 100 for p in issued.payees]
    for index in range(monthly - sum(parts)):
        parts[index % len(parts)] += 1
    for month in range(1, issued.benefit_months + 1):
        due = add_months(today, month - 1)
        for payee, part in zip(issued.payees, parts, strict=True):
            if part:
                payments.append(i.Payment(
                    number=len(payments) + 1, kind=i.PaymentKind.MONTHLY_BENEFIT,
                    account_id=payee.account_id, amount=Money(part, currency), due_on=due,
                    month=month))
    return payments


def _release(state: Policy, command: i.ReleasePayment, today: dt.date,
             context: Context) -> i.PaymentReleased:
    _claim(state)
    if state.approved is None:
        raise Rejected("UnknownPayment", "the claim is not approved: nothing is scheduled")
    payment = next((p for p in state.payments() if p.number == command.number), None)
    if payment is None:
        raise Rejected("UnknownPayment", f"the schedule has {len(state.payments())} payments")
    if command.number in state.released:
        raise Rejected("PaymentAlreadyReleased", f"payment {command.number} is released")
    if payment.due_on > today:
        raise Rejected("PaymentNotDue", f"payment {command.number} is due on {payment.due_on}")
    total = state.released_total + payment.amount.amount  # net of what came back
    if total > state.approved.total.amount:  # cannot happen: the schedule adds up to it
        raise AssertionError("a payment beyond the approved total")
    return i.PaymentReleased(policy_id=command.policy_id, claim_id=state.claim.claim_id,
                             payment=payment, released_total=Money(total, payment.amount.currency),
                             released_at=context.now)


def _released(state: Policy, number: int) -> i.Payment:
    """A released payment not yet credited or returned."""
    _claim(state)
    payment = next((p for p in state.payments() if p.number == number), None)
    if payment is None:
        raise Rejected("UnknownPayment", "the claim's schedule has no payment with this number")
    if number not in state.released:
        raise Rejected("PaymentNotReleased", f"payment {number} is not released yet")
    if number in state.credited or number in state.returned:
        raise Rejected("PaymentSettled", f"payment {number} was credited or returned already")
    return payment


def _issued(state: Policy) -> i.PolicyIssued:
    if state.issued is None:
        raise Rejected("UnknownPolicy", "no policy is issued with this id")
    return state.issued


def _claim(state: Policy) -> i.ClaimOpened:
    _issued(state)
    if state.claim is None:
        raise Rejected("NoClaim", "no claim is open on this policy")
    return state.claim


def _to_decide(state: Policy, by: str) -> tuple[i.ClaimOpened, i.ClaimAssessed]:
    claim = _claim(state)
    if state.decided():
        raise Rejected("ClaimAlreadyDecided", "the claim is decided")
    if state.assessment is None:
        raise Rejected("ClaimNotAssessed", "the claim is assessed before it is decided")
    if by == state.assessment.by:
        raise Rejected("FourEyes", "the claim is decided by someone other than its assessor")
    return claim, state.assessment


def _product(context: Context, product_id: str) -> i.ProductOffered:
    entry = context.lookups["products"].get(product_id)
    if entry is None or entry.offered is None:
        raise Rejected("UnknownProduct", "no product is offered with this id")
    return entry.offered


def _age_in_band(age: int, product: i.ProductOffered) -> None:
    if not product.min_age <= age <= product.max_age:
        raise Rejected("AgeOutsideBand", f"the product covers ages {product.min_age}-"
                       f"{product.max_age}")


def _in_currency(amount: Money, currency: str) -> None:
    if amount.currency != currency:
        raise Rejected("CurrencyMismatch", f"the product's amounts are in {currency}")


# -- her cover, at her host node --------------------------------------------------------------


@dataclass(frozen=True)
class Cover:
    applied: i.CoverApplied | None = None
    issued: i.PolicyTerms | None = None
    refused: str | None = None
    death: i.DeathNotified | None = None
    death_answered: bool = False
    periods_paid: int = 0  # by her standing instruction, in order

    def due_on(self, period: int) -> dt.date:
        return premium_due_on(self.issued.starts_on, self.issued.premium_months, period)

    def next_premium(self) -> tuple[int, dt.date, dt.date] | None:
        """The next period her instruction pays, the day it falls due and the last day of
        its grace; None when there is none (not issued, her death notified, the term paid)."""
        if self.issued is None or self.death is not None:
            return None
        period = self.periods_paid + 1
        due = self.due_on(period)
        if due >= self.issued.ends_on:
            return None
        return period, due, due + dt.timedelta(days=self.issued.grace_days)


def decide_cover(state: Cover, command: Contract, context: Context) -> list[Contract]:
    members: Members = context.lookups["members"]
    match command:
        case i.ApplyForPolicy():
            if state.applied is not None:
                raise Rejected("CoverAlreadyApplied", "an application with this id was made")
            if (command.member_id, command.cooperative_id) not in members.active \
                    or command.member_id in members.died_on:
                raise Rejected("NotAMember", "she is not an active member of this cooperative")
            savers: Savers = context.lookups["savers"]
            if (savers.owner.get(command.account_id) != (command.member_id,
                                                         command.cooperative_id)
                    or command.account_id in savers.closed):
                raise Rejected("NotHerAccount", "the account that pays is her open account at "
                               "this cooperative")
            _consented(members, command.member_id, command.insurer_node, context.now)
            today = earliest_day(context.now)
            if not today <= command.starts_on <= today + dt.timedelta(days=START_DAYS_AHEAD):
                raise Rejected("ValidationError", "a policy starts today or at most "
                               f"{START_DAYS_AHEAD} days ahead")
            if (command.requested_benefit is not None
                    and command.requested_benefit.currency != command.currency):
                raise Rejected("CurrencyMismatch", "the benefit she names is in the product's "
                               f"currency, {command.currency}")
            average = savers.average_remittance(command.member_id, context.now,
                                                command.currency)
            if average is None and command.requested_benefit is None:
                raise Rejected("ValidationError", "with no remittance history, she names the "
                               "monthly benefit she wants (requested_benefit)")
            return [i.CoverApplied(
                **fields_of(command),
                policy_id=derived_id(f"{i.SERVICE}/cover/{command.cover_id}/policy", 0,
                                     context.now),
                average_remittance=average, applied_at=context.now)]
        case i.RecordPolicyAnswer():
            _from_her_insurer(_applied(state), command.from_node)
            if state.issued is not None or state.refused is not None:
                raise Rejected("CoverAnswered", "the insurer answered this application already")
            if command.accepted:
                if command.terms is None or command.terms.policy_id != state.applied.policy_id:
                    raise Rejected("ValidationError", "an issued policy comes with its terms")
                return [i.CoverIssued(cover_id=command.cover_id, terms=command.terms,
                                      answered_at=context.now)]
            return [i.CoverRefused(cover_id=command.cover_id, code=command.code or "Refused",
                                   answered_at=context.now)]
        case i.NotifyDeath():
            applied = _applied(state)
            if state.issued is None:
                raise Rejected("CoverNotIssued", "the insurer has not issued this policy")
            if state.death is not None:
                raise Rejected("DeathAlreadyNotified", "her death was notified already")
            died_on = members.died_on.get(applied.member_id)
            if died_on is None:
                raise Rejected("NoRecordedDeath", "no cooperative of this node recorded her "
                               "death")
            _consented(members, applied.member_id, applied.insurer_node, context.now)
            return [i.DeathNotified(
                cover_id=command.cover_id, policy_id=applied.policy_id,
                claim_id=derived_id(f"{i.SERVICE}/cover/{command.cover_id}/claim", 0,
                                    context.now),
                member_id=applied.member_id, insurer_node=applied.insurer_node,
                died_on=died_on, notified_at=context.now)]
        case i.RecordPremiumPaid():
            _applied(state)
            if state.issued is None:
                raise Rejected("CoverNotIssued", "the insurer has not issued this policy")
            if command.period <= state.periods_paid:
                raise Rejected("PremiumAlreadyRecorded", f"period {command.period} is recorded")
            if command.period != state.periods_paid + 1:
                raise Rejected("ValidationError", "premium periods are recorded in order")
            return [i.CoverPremiumPaid(cover_id=command.cover_id, period=command.period,
                                       premium_id=command.premium_id,
                                       recorded_at=context.now)]
        case i.RecordDeathAnswer():
            _from_her_insurer(_applied(state), command.from_node)
            if state.death is None:
                raise Rejected("DeathNotNotified", "her death was not notified")
            if state.death_answered:
                raise Rejected("CoverAnswered", "the insurer answered this notice already")
            return [i.DeathNoticeAnswered(cover_id=command.cover_id, accepted=command.accepted,
                                          code=command.code, answered_at=context.now)]
    raise TypeError(f"not a cover command: {type(command).__name__}")


def evolve_cover(state: Cover, event: Contract) -> Cover:
    match event:
        case i.CoverApplied():
            return Cover(applied=event)
        case i.CoverIssued():
            return replace(state, issued=event.terms)
        case i.CoverRefused():
            return replace(state, refused=event.code)
        case i.DeathNotified():
            return replace(state, death=event)
        case i.DeathNoticeAnswered():
            return replace(state, death_answered=True)
        case i.CoverPremiumPaid():
            return replace(state, periods_paid=event.period)
    raise TypeError(f"not a cover event: {type(event).__name__}")


def _from_her_insurer(applied: i.CoverApplied, node: str) -> None:
    if node != applied.insurer_node:
        raise Rejected("NotTheInsurer", f"only node {applied.insurer_node} answers for her "
                       "insurer")


def _consented(members: Members, member_id: str, node: str, now: dt.datetime) -> None:
    """Her application and her death go to ``node`` only under her live consent."""
    if not members.consented(member_id, node, ms.ConsentScope.INSURANCE, now):
        raise Rejected("ConsentNotLive", f"she has no live insurance consent to node {node}")


def _applied(state: Cover) -> i.CoverApplied:
    if state.applied is None:
        raise Rejected("UnknownCover", "no application was made with this id")
    return state.applied


# -- lookups ----------------------------------------------------------------------------------


def apply_to_cooperatives(view: dict[str, ms.CooperativeKind], event: Contract) -> None:
    if isinstance(event, ms.CooperativeRegistered):
        view[event.cooperative_id] = event.kind


def apply_to_products(view: dict[str, Product], event: Contract) -> None:
    if isinstance(event, i.ProductOffered | i.ProductWithdrawn):
        view[event.product_id] = evolve_product(view.get(event.product_id, Product()), event)


# -- the service, wired at the bottom ---------------------------------------------------------

PRODUCT = Aggregate(
    name="product", initial=Product, decide=decide_product, evolve=evolve_product,
    commands=(i.OfferProduct, i.WithdrawProduct), events=(i.ProductOffered, i.ProductWithdrawn))

POLICY = Aggregate(
    name="policy", initial=Policy, decide=decide, evolve=evolve,
    commands=(i.IssuePolicy, i.RenewPolicy, i.CollectPremium, i.LapsePolicy, i.OpenClaim,
              i.AttachEvidence, i.AssessClaim, i.ApproveClaim, i.RejectClaim,
              i.ReleasePayment, i.ConfirmPayment, i.ReturnPayment, i.RedirectPayment,
              i.WithdrawClaim),
    events=(i.PolicyIssued, i.PolicyRenewed, i.PremiumCollected, i.PolicyLapsed,
            i.ClaimOpened, i.EvidenceAttached, i.ClaimAssessed, i.ClaimApproved,
            i.ClaimRejected, i.PaymentReleased, i.PaymentCredited, i.PaymentReturned,
            i.PaymentRedirected, i.ClaimWithdrawn),
)

COVER = Aggregate(
    name="cover", initial=Cover, decide=decide_cover, evolve=evolve_cover,
    commands=(i.ApplyForPolicy, i.RecordPolicyAnswer, i.NotifyDeath, i.RecordDeathAnswer,
              i.RecordPremiumPaid),
    events=(i.CoverApplied, i.CoverIssued, i.CoverRefused, i.DeathNotified,
            i.DeathNoticeAnswered, i.CoverPremiumPaid),
)

INSURANCE = ServiceDefinition(
    name=i.SERVICE,
    aggregates=(PRODUCT, POLICY, COVER),
    lookups=(
        Lookup("cooperatives", dict, apply_to_cooperatives, source="membership"),
        Lookup("products", dict, apply_to_products),
        Lookup("members", Members, apply_to_members, source="membership"),
        Lookup("savers", Savers, apply_to_savers, source="savings", timed=True),
    ),
)
