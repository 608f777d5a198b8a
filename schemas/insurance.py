"""Contracts of the insurance service: products, policies, premiums, claims and payouts
(issue 25).

Two aggregates, both at the insurer's node (usually the member's home node):

* the **product** (key ``product_id``) an insurance cooperative offers: repatriation cover up
  to a limit, a monthly benefit to the family for N months, its premium and period, waiting
  and grace periods, an age band and exclusions (language-tagged text);
* the **policy** (key ``policy_id``): issued to one member, its premiums period by period, at
  most one claim (her death is the insured event), the claim's evidence, assessment and
  decision, and the payments the decision schedules, each released at most once.

Premiums are debited at the member's host node and arrive here by the federation relay
(``CollectPremium``); the death is notified the same way (``OpenClaim``). What a premium or a
payment is: fixed amounts in the product's currency, integer minor units. The events hold
member ids and account ids, never personal fields; evidence travels as SHA-256 digests, the
documents stay with the cooperative; staff appear as ``StaffRef`` digests (the gateway's
``staff_ref``), enough to tell two people apart and never to name one.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated

import msgspec

from schemas.fields import (
    CurrencyCode,
    Id,
    LanguageMap,
    LanguageTag,
    Money,
    NodeId,
    PastDay,
    Sealed,
    UtcDateTime,
)
from schemas.registry import REGISTRY, Contract
from schemas.rejections import declare_rejections

SERVICE = "insurance"
command = REGISTRY.command
event = REGISTRY.event

#: Commands only the relay and the insurer's schedulers send: the gateway never offers them.
INTERNAL_COMMANDS = ("IssuePolicy", "CollectPremium", "LapsePolicy", "ReleasePayment",
                     "ConfirmPayment", "ReturnPayment", "RecordPolicyAnswer",
                     "RecordDeathAnswer", "RecordPremiumPaid",
                     # her cover's death watcher's
                     "NotifyDeath")

REJECTIONS = declare_rejections(SERVICE, {
    "AgeOutsideBand": "her age is outside the product's age band",
    "AssessedForRejection": "the assessment recommends rejecting the claim",
    "ClaimAlreadyDecided": "the claim is approved or rejected already",
    "ClaimAlreadyOpen": "a claim is open on this policy: one claim per insured event",
    "ClaimNotAssessed": "the claim is not assessed yet",
    "CurrencyMismatch": "the amount is not in the product's currency",
    "EvidenceAlreadyAttached": "this document's digest is attached already",
    "FourEyes": "the claim is decided by someone other than its assessor",
    "NoClaim": "no claim is open on this policy",
    "NotAnInsurer": "the cooperative is not an insurance cooperative",
    "NotInArrears": "no premium is overdue past its grace period",
    "PaymentAlreadyReleased": "this payment is released already",
    "PaymentNotReleased": "this payment is not released yet",
    "PaymentNotReturned": "this payment was not returned, or was paid again already",
    "ClaimHasPayments": "the claim is decided: it is not withdrawn",
    "PaymentSettled": "this payment was credited or returned already",
    "PaymentNotDue": "this payment is not due yet",
    "PolicyAlreadyIssued": "a policy with this id is issued",
    "PolicyClaimed": "a claim is open on the policy: no more premiums are collected",
    "PolicyEnded": "the policy's term is over",
    "PolicyLapsed": "the policy lapsed: a premium was not paid within the grace period",
    "PremiumAlreadyPaid": "this payment of the premium was collected already",
    "PremiumMismatch": "the amount is not the policy's premium",
    "PremiumOutOfOrder": "an earlier period's premium is unpaid: arrears are paid first",
    "PeriodPaidBefore": "another payment paid this period already: this one goes back",
    "NotHerPolicy": "the policy insures another member, or is paid from another node",
    "ProductAlreadyOffered": "a product with this id is offered",
    "ProductWithdrawn": "the product is withdrawn: it takes no new policies",
    "UnknownCooperative": "no cooperative is registered with this id",
    "UnknownPayment": "the claim's schedule has no payment with this number",
    "UnknownPolicy": "no policy is issued with this id",
    "UnknownProduct": "no product is offered with this id",
}, release=7)

#: The most payees one policy names, and exclusions one product lists.
MAX_PAYEES = 10
MAX_EXCLUSIONS = 30
#: The most pieces of evidence one claim holds.
MAX_EVIDENCE = 50

Age = Annotated[int, msgspec.Meta(ge=0, le=130)]
Days = Annotated[int, msgspec.Meta(ge=0, le=365)]
Months = Annotated[int, msgspec.Meta(ge=1, le=120)]
Period = Annotated[int, msgspec.Meta(ge=1, le=1200, description="a premium period, from 1")]
Percent = Annotated[int, msgspec.Meta(ge=1, le=100)]
Sha256 = Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{64}$",
                                     description="a SHA-256 digest, lowercase hex")]
#: Who on a cooperative's staff did it, as the gateway's digest of their token's subject.
StaffRef = Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{64}$",
                                       description="a staff member, as a digest (never a name)")]
ExclusionText = Annotated[dict[LanguageTag, Annotated[str, msgspec.Meta(min_length=1,
                                                                        max_length=2000)]],
                          msgspec.Meta(max_length=20)]


class EvidenceKind(StrEnum):
    """What a document attached to a claim is."""

    DEATH_CERTIFICATE = "death_certificate"
    TRANSPORT_PERMIT = "transport_permit"
    REPATRIATION_INVOICE = "repatriation_invoice"
    IDENTITY_DOCUMENT = "identity_document"
    POLICE_REPORT = "police_report"
    OTHER = "other"


class Recommendation(StrEnum):
    """What an assessment recommends."""

    APPROVE = "approve"
    REJECT = "reject"


class ClaimReason(StrEnum):
    """Why a claim is not paid (an assessment names every one that holds)."""

    WAITING_PERIOD = "waiting_period"
    NOT_COVERED = "not_covered"  # she died before the policy started or after its term
    LAPSED = "lapsed"  # a premium was unpaid past its grace period when she died
    EXCLUSION = "exclusion"  # one of the product's exclusions applies
    NO_EVIDENCE = "no_evidence"
    OTHER = "other"


class PaymentKind(StrEnum):
    REPATRIATION = "repatriation"
    MONTHLY_BENEFIT = "monthly_benefit"


class Payee(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Who receives the monthly benefit: an open savings account at the insurer's node and its
    share of each month's benefit (the shares add up to 100). Who holds it is the savings
    account's business; the member names them, sealed, at her host cooperative."""

    account_id: Id
    share_percent: Percent


class Payment(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One payment of an approved claim: its number (1 is the repatriation, if any), to which
    account, how much and from which day."""

    number: Annotated[int, msgspec.Meta(ge=1)]
    kind: PaymentKind
    account_id: Id
    amount: Money
    due_on: dt.date
    month: Annotated[int, msgspec.Meta(ge=0)] = 0  # the benefit month, from 1 (0: repatriation)


# -- the product ------------------------------------------------------------------------------


class _Terms(Contract, frozen=True, kw_only=True):
    product_id: Id
    cooperative_id: Id
    names: LanguageMap
    currency: CurrencyCode
    repatriation_limit: Money
    monthly_benefit_cap: Money
    benefit_months: Months = 12
    premium: Money
    premium_months: Annotated[int, msgspec.Meta(ge=1, le=12)] = 1
    term_months: Months = 12
    waiting_days: Days = 0
    grace_days: Annotated[int, msgspec.Meta(ge=0, le=90)] = 30
    min_age: Age = 18
    max_age: Age = 60
    exclusions: Annotated[list[ExclusionText], msgspec.Meta(max_length=MAX_EXCLUSIONS)] = []


@command(SERVICE, "OfferProduct", key="product_id")
class OfferProduct(_Terms, frozen=True, kw_only=True):
    """Offer a product: repatriation up to ``repatriation_limit``, then a monthly benefit to
    the family for ``benefit_months`` (the member's average remittance, at most
    ``monthly_benefit_cap``), for a ``premium`` every ``premium_months``, over a renewable term
    of ``term_months``; nothing is paid for a death within ``waiting_days`` of the start, and
    a premium may be paid up to ``grace_days`` after it is due. Ages ``min_age``-``max_age``
    at the start. Exclusions are texts by language. The cooperative is an insurance
    cooperative (else UnknownCooperative, NotAnInsurer); every amount is in ``currency`` (else
    CurrencyMismatch); the premium is above zero and the age band not empty (else
    ValidationError); the id is new (else ProductAlreadyOffered)."""


@event(SERVICE, "ProductOffered")
class ProductOffered(_Terms, frozen=True, kw_only=True):
    offered_at: UtcDateTime


@command(SERVICE, "WithdrawProduct", key="product_id")
class WithdrawProduct(Contract, frozen=True, kw_only=True):
    """Take no new policies of the product (those issued run on). It is offered (else
    UnknownProduct) and not withdrawn (else ProductWithdrawn)."""

    product_id: Id


@event(SERVICE, "ProductWithdrawn")
class ProductWithdrawn(Contract, frozen=True, kw_only=True):
    product_id: Id
    withdrawn_at: UtcDateTime


# -- the policy -------------------------------------------------------------------------------


@command(SERVICE, "IssuePolicy", key="policy_id")
class IssuePolicy(Contract, frozen=True, kw_only=True):
    """Issue a policy of a product to a member of a cooperative at ``from_node`` (the relay
    carries her application from there, with her ``insurance`` consent). Her age at the start
    is in the band (else AgeOutsideBand); the monthly benefit is her ``average_remittance`` of
    the last 12 months (which her host node computed and discloses), or less if she names a
    ``requested_benefit`` (any amount when she has no remittance history), at most the
    product's cap; it is above zero (else ValidationError). Payees' shares add up to 100 (else ValidationError). The product is
    offered (else UnknownProduct, ProductWithdrawn), amounts are in its currency (else
    CurrencyMismatch), the id is new (else PolicyAlreadyIssued)."""

    policy_id: Id
    product_id: Id
    member_id: Id
    from_node: NodeId
    starts_on: dt.date
    age: Age
    average_remittance: Money
    requested_benefit: Money | None = None
    payees: Annotated[list[Payee], msgspec.Meta(min_length=1, max_length=MAX_PAYEES)]
    application_id: Id | None = None  # her cover's id at her host node, to answer it by


@event(SERVICE, "PolicyIssued")
class PolicyIssued(Contract, frozen=True, kw_only=True):
    """The policy and the terms it keeps, whatever becomes of the product."""

    policy_id: Id
    product_id: Id
    cooperative_id: Id
    member_id: Id
    from_node: NodeId
    starts_on: dt.date
    term_months: int
    ends_on: dt.date  # the first day it no longer covers
    age: Age
    premium: Money
    premium_months: int
    grace_days: int
    waiting_days: int
    repatriation_limit: Money
    average_remittance: Money
    monthly_benefit: Money
    benefit_months: int
    payees: list[Payee]
    issued_at: UtcDateTime
    application_id: Id | None = None


@command(SERVICE, "RenewPolicy", key="policy_id")
class RenewPolicy(Contract, frozen=True, kw_only=True):
    """Renew the policy for another term, at the same premium. It is issued (else
    UnknownPolicy), its term is still running (else PolicyEnded: a renewal never covers a
    gap backwards), it has not lapsed (else PolicyLapsed) and no claim is open (else
    PolicyClaimed); her age at the renewal (``age``) is in the band (else AgeOutsideBand)."""

    policy_id: Id
    age: Age


@event(SERVICE, "PolicyRenewed")
class PolicyRenewed(Contract, frozen=True, kw_only=True):
    policy_id: Id
    age: Age
    term_months: int  # what the renewal adds
    ends_on: dt.date


@command(SERVICE, "CollectPremium", key="policy_id")
class CollectPremium(Contract, frozen=True, kw_only=True):
    """A premium her host savings account paid (carried by the relay): the period's whole
    premium, paid at ``paid_at`` (the debit's time at her host node). The policy is issued
    (else UnknownPolicy); the period is within its term (else PolicyEnded) and the first
    unpaid one (else PremiumOutOfOrder; PremiumAlreadyPaid if this very payment, the same
    id from the same account for the same period, was collected; PeriodPaidBefore if any other
    one paid it); it was paid within the grace
    period of every unpaid period (else PolicyLapsed) and before any claim (else
    PolicyClaimed); the amount is the premium (else PremiumMismatch); it is paid for the
    insured member from the policy's node (else NotHerPolicy). A refused premium goes back
    whole to her account."""

    policy_id: Id
    transfer_id: Id
    from_account_id: Id
    member_id: Id
    period: Period
    amount: Money
    from_node: NodeId
    paid_at: UtcDateTime


@event(SERVICE, "PremiumCollected")
class PremiumCollected(Contract, frozen=True, kw_only=True):
    policy_id: Id
    transfer_id: Id
    from_account_id: Id
    period: Period
    amount: Money
    from_node: NodeId
    paid_at: UtcDateTime
    due_on: dt.date
    paid_through: dt.date  # the last day the premiums paid so far cover


@command(SERVICE, "LapsePolicy", key="policy_id")
class LapsePolicy(Contract, frozen=True, kw_only=True):
    """Record that the policy lapsed: a premium is unpaid past its grace period (else
    NotInArrears). Sent by the insurer's scheduler; a premium paid in time but still on its
    way is judged by its ``paid_at``, so it is collected even after this."""

    policy_id: Id


@event(SERVICE, "PolicyLapsed")
class PolicyLapsed(Contract, frozen=True, kw_only=True):
    policy_id: Id
    period: Period  # the first period unpaid
    due_on: dt.date
    lapsed_on: dt.date  # the first day after its grace period


@command(SERVICE, "OpenClaim", key="policy_id")
class OpenClaim(Contract, frozen=True, kw_only=True):
    """Open the claim for her death, notified by her host node (or recorded by the insurer's
    staff). The policy is issued (else UnknownPolicy) and has no claim (else ClaimAlreadyOpen:
    one claim per insured event); a notice the relay brings comes from her host node, the one
    the policy was applied for from (else NotHerPolicy). Whether it pays is the
    assessment's."""

    policy_id: Id
    claim_id: Id
    died_on: PastDay
    notified_by: NodeId
    relayed: bool = False  # notified by the relay: then only her host node notifies it


@event(SERVICE, "ClaimOpened")
class ClaimOpened(Contract, frozen=True, kw_only=True):
    policy_id: Id
    claim_id: Id
    died_on: dt.date
    notified_by: NodeId
    opened_at: UtcDateTime


@command(SERVICE, "AttachEvidence", key="policy_id")
class AttachEvidence(Contract, frozen=True, kw_only=True):
    """Attach a document to the claim as its SHA-256 digest (the document stays with the
    cooperative). A claim is open (else NoClaim) and not decided (else ClaimAlreadyDecided);
    the digest is new on this claim (else EvidenceAlreadyAttached)."""

    policy_id: Id
    kind: EvidenceKind
    sha256: Sha256


@event(SERVICE, "EvidenceAttached")
class EvidenceAttached(Contract, frozen=True, kw_only=True):
    policy_id: Id
    claim_id: Id
    kind: EvidenceKind
    sha256: Sha256
    attached_at: UtcDateTime


@command(SERVICE, "AssessClaim", key="policy_id")
class AssessClaim(Contract, frozen=True, kw_only=True):
    """Assess the claim: the repatriation cost claimed (paid to ``repatriation_account_id``,
    the provider's or the family's account at this node, up to the product's limit; zero if
    nobody claims it) and the exclusions that apply, by their index in the product's list.
    The service checks the rest: the term (a death before the policy was issued is not
    covered), the waiting period, the premiums (paid through the day of death, grace
    included) and a death certificate. A claim is open (else NoClaim) and not decided (else
    ClaimAlreadyDecided); assessing it again (evidence came, a premium in time arrived)
    replaces the assessment, and the decision is then someone else's than the last assessor.
    ``by`` is filled by the gateway."""

    policy_id: Id
    repatriation_cost: Money
    repatriation_account_id: Id | None = None
    exclusions: Annotated[list[Annotated[int, msgspec.Meta(ge=0)]],
                          msgspec.Meta(max_length=MAX_EXCLUSIONS)] = []
    by: StaffRef


@event(SERVICE, "ClaimAssessed")
class ClaimAssessed(Contract, frozen=True, kw_only=True):
    policy_id: Id
    claim_id: Id
    recommendation: Recommendation
    reasons: list[ClaimReason] = []
    repatriation: Money  # what is paid for it: the cost claimed, at most the limit
    repatriation_account_id: Id | None = None
    exclusions: list[int] = []
    by: StaffRef
    assessed_at: UtcDateTime


@command(SERVICE, "ApproveClaim", key="policy_id")
class ApproveClaim(Contract, frozen=True, kw_only=True):
    """Approve the assessed claim: its payments are scheduled (the repatriation now, then each
    month's benefit split among the payees by their shares), each released once when due.
    A claim is open (else NoClaim) and assessed (else ClaimNotAssessed) for approval (else
    AssessedForRejection) and not decided (else ClaimAlreadyDecided); ``by`` is not its
    assessor (else FourEyes)."""

    policy_id: Id
    by: StaffRef


@event(SERVICE, "ClaimApproved")
class ClaimApproved(Contract, frozen=True, kw_only=True):
    policy_id: Id
    claim_id: Id
    payments: list[Payment]
    total: Money
    by: StaffRef
    approved_at: UtcDateTime


@command(SERVICE, "RejectClaim", key="policy_id")
class RejectClaim(Contract, frozen=True, kw_only=True):
    """Reject the claim with its reasons (at least one). It is open (else NoClaim), not decided
    (else ClaimAlreadyDecided), assessed (else ClaimNotAssessed), and ``by`` is not its
    assessor (else FourEyes)."""

    policy_id: Id
    reasons: Annotated[list[ClaimReason], msgspec.Meta(min_length=1, max_length=6)]
    by: StaffRef


@event(SERVICE, "ClaimRejected")
class ClaimRejected(Contract, frozen=True, kw_only=True):
    policy_id: Id
    claim_id: Id
    reasons: list[ClaimReason]
    by: StaffRef
    rejected_at: UtcDateTime


@command(SERVICE, "ReleasePayment", key="policy_id")
class ReleasePayment(Contract, frozen=True, kw_only=True):
    """Release one scheduled payment of the approved claim (sent by the insurer's scheduler,
    one command id per payment). It is in the schedule (else UnknownPayment, NoClaim), due
    (else PaymentNotDue) and not released yet (else PaymentAlreadyReleased)."""

    policy_id: Id
    number: Annotated[int, msgspec.Meta(ge=1)]


@event(SERVICE, "PaymentReleased")
class PaymentReleased(Contract, frozen=True, kw_only=True):
    """A payment leaves the insurer for an account at this node; ``released_total`` is what
    the claim has paid so far, never more than its total."""

    policy_id: Id
    claim_id: Id
    payment: Payment
    released_total: Money
    released_at: UtcDateTime


@command(SERVICE, "ConfirmPayment", key="policy_id")
class ConfirmPayment(Contract, frozen=True, kw_only=True):
    """The payee's savings account credited a released payment (sent by the insurer's payer).
    It is released (else PaymentNotReleased, UnknownPayment, NoClaim) and not settled (else
    PaymentSettled)."""

    policy_id: Id
    number: Annotated[int, msgspec.Meta(ge=1)]


@event(SERVICE, "PaymentCredited")
class PaymentCredited(Contract, frozen=True, kw_only=True):
    """A released payment reached its account: ``credited_total`` is what the claim's
    payees have been credited so far."""

    policy_id: Id
    number: int
    account_id: Id
    amount: Money
    credited_total: Money


@command(SERVICE, "ReturnPayment", key="policy_id")
class ReturnPayment(Contract, frozen=True, kw_only=True):
    """The payee's account refused a released payment (closed, in another currency): the
    money stays with the insurer, which pays it again to an account the family names. Same
    rules as ConfirmPayment."""

    policy_id: Id
    number: Annotated[int, msgspec.Meta(ge=1)]
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


@event(SERVICE, "PaymentReturned")
class PaymentReturned(Contract, frozen=True, kw_only=True):
    """The money is back with the insurer: ``released_total`` is what the claim has paid
    out so far, net of it."""

    policy_id: Id
    number: int
    account_id: Id
    amount: Money
    reason: str
    released_total: Money


@command(SERVICE, "RedirectPayment", key="policy_id")
class RedirectPayment(Contract, frozen=True, kw_only=True):
    """Pay a returned payment again, to another account of this node the family names: the
    schedule gets a new payment (a new number, due at once) of the same amount. The payment
    was returned and not redirected yet (else PaymentNotReturned, UnknownPayment, NoClaim)."""

    policy_id: Id
    number: Annotated[int, msgspec.Meta(ge=1)]
    account_id: Id


@event(SERVICE, "PaymentRedirected")
class PaymentRedirected(Contract, frozen=True, kw_only=True):
    policy_id: Id
    number: int  # the returned one
    payment: Payment  # the new one


@command(SERVICE, "WithdrawClaim", key="policy_id")
class WithdrawClaim(Contract, frozen=True, kw_only=True):
    """Withdraw a claim opened by mistake (she is alive): the policy stands as before, its
    evidence and assessment are set aside. The claim is open (else NoClaim) and not decided
    (else ClaimHasPayments, for an approved one; ClaimAlreadyDecided for a rejected one)."""

    policy_id: Id
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


@event(SERVICE, "ClaimWithdrawn")
class ClaimWithdrawn(Contract, frozen=True, kw_only=True):
    policy_id: Id
    claim_id: Id
    reason: str
    withdrawn_at: UtcDateTime


# -- her cover, at her host node --------------------------------------------------------------

#: ... of her cover at her host node: her application, the insurer's answer, her death.
COVER_REJECTIONS = declare_rejections(SERVICE, {
    "CoverAlreadyApplied": "an application with this id was made already",
    "UnknownCover": "no application was made with this id",
    "CoverAnswered": "the insurer answered this application already",
    "CoverNotIssued": "the insurer has not issued this policy (yet)",
    "ConsentNotLive": "her insurance consent to the insurer's node is not live",
    "NotAMember": "she is not an active member of this cooperative",
    "NotHerAccount": "the account is not hers, not open, or of another cooperative",
    "NoRecordedDeath": "no cooperative of this node recorded her death",
    "DeathAlreadyNotified": "her death was notified to the insurer already",
    "DeathNotNotified": "her death was not notified to the insurer",
    "PremiumAlreadyRecorded": "this period's premium was recorded as paid already",
    "NotTheInsurer": "the answer comes from another node than her insurer's",
}, release=7)
# (CurrencyMismatch, declared above, also answers an application's benefit in a currency
# that is not the product's)


class NamedBeneficiary(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A person her benefit is for, as she names them."""

    full_name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    relationship: Annotated[str, msgspec.Meta(min_length=1, max_length=100)] | None = None
    account_id: Id | None = None


class Beneficiaries(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Her beneficiaries, as ``ApplyForPolicy.beneficiaries`` holds them sealed with her data
    key: names stay at her host node; the insurer knows only the accounts it pays."""

    people: Annotated[list[NamedBeneficiary], msgspec.Meta(min_length=1,
                                                            max_length=MAX_PAYEES)]


class PolicyTerms(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """What the insurer issued, as her host node keeps it: enough to pay each premium on its
    day and to tell her what she is covered for."""

    policy_id: Id
    starts_on: dt.date
    ends_on: dt.date  # the first day it no longer covers
    premium: Money
    premium_months: int
    grace_days: int
    waiting_days: int
    repatriation_limit: Money
    monthly_benefit: Money
    benefit_months: int


@command(SERVICE, "ApplyForPolicy", key="cover_id")
class ApplyForPolicy(Contract, frozen=True, kw_only=True):
    """Apply, at her host node, for a policy of a product the insurer at ``insurer_node``
    offers. She is an active member of ``cooperative_id`` here (else NotAMember); her
    ``insurance`` consent to that node is live (else ConsentNotLive); ``account_id`` is her open
    account at that cooperative, which pays the premiums (else NotHerAccount); the id is new
    (else CoverAlreadyApplied); it starts today or at most 92 days ahead (else
    ValidationError). ``currency`` is the product's (its premium's and benefits'), and the
    benefit she names is in it (else CurrencyMismatch; the insurer refuses a currency that is
    not its product's). The gateway fills her ``age`` from her date of birth; the service
    adds her average remittance of the last 12 months in that currency (what her family
    received in it) from her savings history, disclosed on the policy. With neither a
    remittance history nor a ``requested_benefit`` there is nothing to insure
    (ValidationError). Her beneficiaries' names travel sealed with her data key and stay at
    this node; the insurer sees only the accounts it pays (``payees``). Whether the product
    takes her (age band, currency, cap) is the insurer's answer."""

    cover_id: Id
    member_id: Id
    cooperative_id: Id
    insurer_node: NodeId
    product_id: Id
    currency: CurrencyCode
    account_id: Id
    starts_on: dt.date
    age: Age
    requested_benefit: Money | None = None
    payees: Annotated[list[Payee], msgspec.Meta(min_length=1, max_length=MAX_PAYEES)]
    beneficiaries: Sealed | None = None


@event(SERVICE, "CoverApplied")
class CoverApplied(Contract, frozen=True, kw_only=True):
    """Her application, as the relay carries it to the insurer (``IssuePolicy``), with the
    policy id her node chose and her average remittance (None: no remittance history)."""

    cover_id: Id
    policy_id: Id
    member_id: Id
    cooperative_id: Id
    insurer_node: NodeId
    product_id: Id
    currency: CurrencyCode
    account_id: Id
    starts_on: dt.date
    age: Age
    average_remittance: Money | None = None
    requested_benefit: Money | None = None
    payees: list[Payee]
    beneficiaries: Sealed | None = None
    applied_at: UtcDateTime


@command(SERVICE, "RecordPolicyAnswer", key="cover_id")
class RecordPolicyAnswer(Contract, frozen=True, kw_only=True):
    """The insurer's answer to her application, as the relay brings it: issued (with its
    ``terms``) or refused (with the insurer's rejection ``code``), from her insurer's node
    (else NotTheInsurer: another peer cannot answer for it). Once (else CoverAnswered)."""

    cover_id: Id
    from_node: NodeId  # who answers: her insurer's node, as the relay verified it
    accepted: bool
    code: Annotated[str, msgspec.Meta(pattern=r"^[A-Z][A-Za-z0-9]{1,63}$")] | None = None
    terms: PolicyTerms | None = None


@event(SERVICE, "CoverIssued")
class CoverIssued(Contract, frozen=True, kw_only=True):
    cover_id: Id
    terms: PolicyTerms
    answered_at: UtcDateTime


@event(SERVICE, "CoverRefused")
class CoverRefused(Contract, frozen=True, kw_only=True):
    cover_id: Id
    code: str
    answered_at: UtcDateTime


@command(SERVICE, "RecordPremiumPaid", key="cover_id")
class RecordPremiumPaid(Contract, frozen=True, kw_only=True):
    """Her standing instruction paid a period's premium from her account (``premium_id``),
    or found it paid or on its way (None: by another payment): the next one is paid when it
    falls due. Periods are recorded in order (else ValidationError), once (else
    PremiumAlreadyRecorded), on an issued policy (else CoverNotIssued)."""

    cover_id: Id
    period: Period
    premium_id: Id | None = None


@event(SERVICE, "CoverPremiumPaid")
class CoverPremiumPaid(Contract, frozen=True, kw_only=True):
    cover_id: Id
    period: int
    premium_id: Id | None = None
    recorded_at: UtcDateTime


@command(SERVICE, "NotifyDeath", key="cover_id")
class NotifyDeath(Contract, frozen=True, kw_only=True):
    """Notify the insurer of her death, which a cooperative of this node recorded (her
    membership ended as ``deceased``; else NoRecordedDeath): the relay carries it as
    ``OpenClaim``. The policy is issued (else CoverNotIssued), her ``insurance`` consent to
    the insurer's node is live (else ConsentNotLive), and it is notified once (else
    DeathAlreadyNotified)."""

    cover_id: Id


@event(SERVICE, "DeathNotified")
class DeathNotified(Contract, frozen=True, kw_only=True):
    cover_id: Id
    policy_id: Id
    claim_id: Id
    member_id: Id
    insurer_node: NodeId
    died_on: dt.date
    notified_at: UtcDateTime


@command(SERVICE, "RecordDeathAnswer", key="cover_id")
class RecordDeathAnswer(Contract, frozen=True, kw_only=True):
    """Whether the insurer opened the claim her death was notified for (``accepted``; a
    claim already open from this notice counts) or not (its ``code``), from her insurer's
    node (else NotTheInsurer). Once."""

    cover_id: Id
    from_node: NodeId
    accepted: bool
    code: Annotated[str, msgspec.Meta(pattern=r"^[A-Z][A-Za-z0-9]{1,63}$")] | None = None


@event(SERVICE, "DeathNoticeAnswered")
class DeathNoticeAnswered(Contract, frozen=True, kw_only=True):
    cover_id: Id
    accepted: bool
    code: str | None = None
    answered_at: UtcDateTime
