"""The insurance feature's GraphQL types (issue 25): products and policies as the insurer's
documents hold them. Each maps a document with ``from_doc``."""

from __future__ import annotations

import datetime as dt
import typing
from decimal import Decimal

import strawberry
from strawberry.types import Info

from gateway.auth import Role
from gateway.figures.disclosure import enough
from gateway.i18n.types import LANG, LocalizedText, localized
from gateway.insurance.documents import ClaimDoc, CoverView, PolicyView, ProductView
from gateway.types import Money
from schemas.fields import Money as MoneyValue


@strawberry.type(description="An insurance product an insurance cooperative offers")
class InsuranceProduct:
    product_id: strawberry.ID
    cooperative_id: strawberry.ID = strawberry.field(description="the insurer")
    names: strawberry.Private[dict[str, str]]
    exclusion_texts: strawberry.Private[list[dict[str, str]]]
    repatriation_limit: Money = strawberry.field(
        description="the most it pays for bringing her home")
    monthly_benefit_cap: Money = strawberry.field(
        description="the most the monthly benefit to her family may be")
    benefit_months: int = strawberry.field(description="the months the family is paid")
    premium: Money = strawberry.field(description="the premium of one period")
    premium_months: int = strawberry.field(description="the months one premium pays for")
    term_months: int = strawberry.field(description="the months a policy runs before renewal")
    waiting_days: int = strawberry.field(description="the days after the start during which "
                                                     "a death is not covered")
    grace_days: int = strawberry.field(description="the days a premium may be paid late "
                                                   "before the policy lapses")
    min_age: int
    max_age: int
    withdrawn: bool = strawberry.field(description="it takes no new policies")

    @strawberry.field(description="its name in the reader's language when it has one, else "
                                  "in its first language, marked as a fallback")
    def name(self, info: Info, lang: typing.Annotated[
            list[str] | None, strawberry.argument(description=LANG)] = None) -> LocalizedText:
        return localized(self.names, info, lang)

    @strawberry.field(description="what it does not cover, each in the reader's language when "
                                  "it has it, in the order the claims' assessments number "
                                  "them (from 0)")
    def exclusions(self, info: Info, lang: typing.Annotated[
            list[str] | None, strawberry.argument(description=LANG)] = None
            ) -> list[LocalizedText]:
        return [localized(text, info, lang) for text in self.exclusion_texts]

    @strawberry.field(description=(
        "its figures (policies in force, claims, premiums, benefits paid, loss ratio): for "
        "the insurer's own people and the node admin in full, for federation analysts with "
        "small cells suppressed; null for anyone else"))
    def figures(self, info: Info) -> InsuranceFigures | None:
        doc = info.context.views.get("products", self.product_id)
        return figures_for(info.context, doc) if doc is not None else None

    @classmethod
    def from_doc(cls, doc: ProductView) -> InsuranceProduct:
        offered = doc.offered
        return cls(product_id=doc.product_id, cooperative_id=offered.cooperative_id,
                   names=dict(offered.names), exclusion_texts=[dict(x) for x in
                                                               offered.exclusions],
                   repatriation_limit=Money.from_value(offered.repatriation_limit),
                   monthly_benefit_cap=Money.from_value(offered.monthly_benefit_cap),
                   benefit_months=offered.benefit_months,
                   premium=Money.from_value(offered.premium),
                   premium_months=offered.premium_months, term_months=offered.term_months,
                   waiting_days=offered.waiting_days, grace_days=offered.grace_days,
                   min_age=offered.min_age, max_age=offered.max_age, withdrawn=doc.withdrawn)


@strawberry.type(description="One payment an approved claim scheduled")
class ClaimPayment:
    number: int
    kind: str = strawberry.field(description="repatriation or monthly_benefit")
    account_id: strawberry.ID = strawberry.field(description="the account it is paid into")
    amount: Money
    due_on: dt.date = strawberry.field(description="the first day it may be released")
    month: int = strawberry.field(description="the benefit month, from 1 (0: repatriation)")
    status: str = strawberry.field(description="scheduled, released, credited or returned")


@strawberry.type(description="The claim for her death, its evidence, assessment, decision "
                             "and payments")
class Claim:
    claim_id: strawberry.ID
    died_on: dt.date
    notified_by: str = strawberry.field(description="the node that notified her death")
    evidence: list[str] = strawberry.field(description="each document as kind:sha256")
    status: str = strawberry.field(description="open, approved or rejected")
    recommendation: str | None = strawberry.field(
        description="approve or reject; null until assessed")
    reasons: list[str] = strawberry.field(
        description="why it is not paid: the assessment's, or the rejection's")
    repatriation: Money | None = strawberry.field(description="what the repatriation is paid")
    total: Money | None = strawberry.field(description="what the approval pays in all")
    released_total: Money | None = strawberry.field(description="paid out so far")
    credited_total: Money | None = strawberry.field(
        description="credited to the payees' accounts so far")
    payments: list[ClaimPayment]

    @classmethod
    def from_doc(cls, doc: ClaimDoc) -> Claim:
        assessment = doc.assessment
        released, credited, returned = set(doc.released), set(doc.credited), set(doc.returned)

        def status(number: int) -> str:
            return ("credited" if number in credited else "returned" if number in returned
                    else "released" if number in released else "scheduled")

        return cls(
            claim_id=doc.claim_id, died_on=doc.died_on, notified_by=doc.notified_by,
            evidence=[f"{e.kind}:{e.sha256}" for e in doc.evidence], status=doc.status,
            recommendation=assessment.recommendation.value if assessment else None,
            reasons=doc.reasons or ([r.value for r in assessment.reasons] if assessment
                                    else []),
            repatriation=Money.from_value(assessment.repatriation) if assessment else None,
            total=Money.from_value(doc.total), released_total=Money.from_value(
                doc.released_total), credited_total=Money.from_value(doc.credited_total),
            payments=[ClaimPayment(number=p.number, kind=p.kind.value,
                                   account_id=p.account_id, amount=Money.from_value(p.amount),
                                   due_on=p.due_on, month=p.month, status=status(p.number))
                      for p in doc.payments])


@strawberry.type(description="A policy an insurance cooperative of this node issued")
class InsurancePolicy:
    policy_id: strawberry.ID
    product_id: strawberry.ID
    cooperative_id: strawberry.ID = strawberry.field(description="the insurer")
    member_id: strawberry.ID = strawberry.field(description="the insured member's global id")
    from_node: str = strawberry.field(description="her host cooperative's node")
    starts_on: dt.date
    ends_on: dt.date = strawberry.field(description="the first day it no longer covers her")
    premium: Money
    monthly_benefit: Money = strawberry.field(
        description="what her family receives each month after her death")
    average_remittance: Money = strawberry.field(
        description="her average remittance of the last 12 months, as her host node "
                    "disclosed it")
    benefit_months: int
    periods_paid: int = strawberry.field(description="how many premium periods are paid")
    paid_through: dt.date | None = strawberry.field(
        description="the last day the premiums paid cover")
    status: str = strawberry.field(description="in_force, lapsed, ended or claimed")
    lapsed_on: dt.date | None
    claim: Claim | None = strawberry.field(description="the claim for her death; null if none")

    @classmethod
    def from_doc(cls, doc: PolicyView, today: dt.date) -> InsurancePolicy:
        issued = doc.issued
        status = ("claimed" if doc.claim is not None else "lapsed" if doc.lapsed is not None
                  else "ended" if doc.ends_on <= today else "in_force")
        return cls(
            policy_id=doc.policy_id, product_id=issued.product_id,
            cooperative_id=issued.cooperative_id, member_id=issued.member_id,
            from_node=issued.from_node, starts_on=issued.starts_on, ends_on=doc.ends_on,
            premium=Money.from_value(issued.premium),
            monthly_benefit=Money.from_value(issued.monthly_benefit),
            average_remittance=Money.from_value(issued.average_remittance),
            benefit_months=issued.benefit_months, periods_paid=doc.periods_paid,
            paid_through=doc.paid_through, status=status,
            lapsed_on=doc.lapsed.lapsed_on if doc.lapsed else None,
            claim=Claim.from_doc(doc.claim) if doc.claim else None)


@strawberry.type(description=(
    "A product's figures, kept as its policies' events come (never a scan): for the "
    "insurer's own people and the node admin in full; for a federation analyst, a count of 1 "
    "to 4 policies or claims reads null, with the counts that would give it away by "
    "subtraction and the money it would reveal (small cells suppressed)"))
class InsuranceFigures:
    product_id: strawberry.ID
    cooperative_id: strawberry.ID = strawberry.field(description="the insurer")
    policies_issued: int | None = strawberry.field(description="policies ever issued")
    in_force: int | None = strawberry.field(
        description="policies in force today: not lapsed, not claimed, their term running")
    lapsed: int | None = strawberry.field(description="policies that stand lapsed")
    claims: int | None = strawberry.field(description="claims made (not withdrawn)")
    approved: int | None = strawberry.field(description="claims approved")
    rejected: int | None = strawberry.field(description="claims rejected")
    premiums_collected: Money | None = strawberry.field(description="premiums collected")
    benefits_paid: Money | None = strawberry.field(
        description="benefits paid out, net of payments the accounts returned")
    loss_ratio: str | None = strawberry.field(description=(
        "benefits paid / premiums collected, a decimal string to 4 places (\"0.8125\"); null "
        "before any premium, or when suppressed"))
    suppressed: bool = strawberry.field(description="some figures read null: too few to show")

    @classmethod
    def from_doc(cls, doc: ProductView, today: dt.date, insider: bool) -> InsuranceFigures:
        currency = doc.offered.currency
        in_force = sum(n for day, n in doc.ending.items() if dt.date.fromisoformat(day) > today)
        # every policy issued is in force, lapsed, claimed or ended, and every claim approved,
        # rejected or open: an analyst reads a part only when no part is 1 to 4, or the parts
        # shown would give the small one away by subtraction
        ended = doc.issued - in_force - doc.lapsed - doc.claims
        open_claims = doc.claims - doc.approved - doc.rejected

        def whole(*parts: int) -> bool:
            return insider or all(enough(n) for n in parts)

        status = whole(in_force, doc.lapsed, doc.claims, ended)
        decisions = whole(doc.approved, doc.rejected, open_claims)
        counts = {"policies_issued": doc.issued if whole(doc.issued) else None,
                  "in_force": in_force if status else None,
                  "lapsed": doc.lapsed if status else None,
                  "claims": doc.claims if status else None,
                  "approved": doc.approved if decisions else None,
                  "rejected": doc.rejected if decisions else None}
        premiums = doc.premiums if whole(doc.issued) else None  # of five policies or more
        paid = doc.paid if decisions and whole(doc.approved) else None
        ratio = None
        if premiums is not None and paid is not None and doc.premiums:
            ratio = str((Decimal(doc.paid) / Decimal(doc.premiums)).quantize(Decimal("0.0001")))
        hidden = [v for v in (*counts.values(), premiums, paid) if v is None]
        return cls(product_id=doc.product_id, cooperative_id=doc.offered.cooperative_id,
                   **counts,
                   premiums_collected=None if premiums is None else Money.from_value(
                       MoneyValue(premiums, currency)),
                   benefits_paid=None if paid is None else Money.from_value(
                       MoneyValue(paid, currency)),
                   loss_ratio=ratio, suppressed=bool(hidden))


@strawberry.type(description=(
    "Someone her payouts went to, as a beneficiary she may name when she applies for "
    "insurance (issue 25): the name as she wrote it when sending"))
class SuggestedBeneficiary:
    full_name: str = strawberry.field(description="the name her payouts were sent to")
    country: str = strawberry.field(description="the country the payouts went to (ISO 3166-1 "
                                                "alpha-2)")
    payouts: int = strawberry.field(description="how many of her latest payouts went to them")
    last_sent_on: dt.date = strawberry.field(description="the day the latest one was booked")


@strawberry.type(description=(
    "One of her applications for insurance at this node, her host node (issue 25), and what "
    "came of it: the policy the insurer issued, with its terms, or its refusal; the premiums "
    "her standing instruction paid; her death notified. Her beneficiaries' names stay sealed "
    "and are not shown here"))
class InsuranceCover:
    cover_id: strawberry.ID = strawberry.field(description="her application's id")
    policy_id: strawberry.ID = strawberry.field(description="the policy's id at the insurer")
    insurer_node: str = strawberry.field(description="the insurer's node")
    product_id: strawberry.ID
    status: str = strawberry.field(description="applied (no answer yet), issued, refused or "
                                               "claimed (her death was notified)")
    refused_because: str | None = strawberry.field(
        description="the insurer's rejection code, when it refused her")
    starts_on: dt.date
    ends_on: dt.date | None = strawberry.field(description="the first day it no longer "
                                                           "covers her, once issued")
    premium: Money | None = strawberry.field(description="the premium of one period, once "
                                                         "issued")
    premium_months: int | None
    grace_days: int | None
    monthly_benefit: Money | None = strawberry.field(
        description="what her family receives each month after her death, once issued")
    average_remittance: Money | None = strawberry.field(
        description="her average remittance of the last 12 months, as this node computed and "
                    "disclosed it (null: no remittance history)")
    periods_paid: int = strawberry.field(description="the premium periods her standing "
                                                     "instruction paid")
    claim_opened: bool | None = strawberry.field(
        description="the insurer opened the claim for her death (null: not notified, or no "
                    "answer yet)")

    @classmethod
    def from_doc(cls, doc: CoverView) -> InsuranceCover:
        applied, terms = doc.applied, doc.terms
        money = Money.from_value
        return cls(
            cover_id=doc.cover_id, policy_id=applied.policy_id,
            insurer_node=applied.insurer_node, product_id=applied.product_id,
            status=doc.status,
            refused_because=doc.refused, starts_on=applied.starts_on,
            ends_on=terms.ends_on if terms else None,
            premium=money(terms.premium) if terms else None,
            premium_months=terms.premium_months if terms else None,
            grace_days=terms.grace_days if terms else None,
            monthly_benefit=money(terms.monthly_benefit) if terms else None,
            average_remittance=money(applied.average_remittance)
            if applied.average_remittance else None,
            periods_paid=doc.periods_paid, claim_opened=doc.claim_opened)


def figures_for(context, doc: ProductView) -> InsuranceFigures | None:
    """A product's figures as the caller may read them (``InsuranceFigures.from_doc``):
    whole for its insurer's people and the node admin, suppressed for analysts, none for
    anyone else."""
    if doc.offered is None:
        return None
    insider = context.caller.of_cooperative(doc.offered.cooperative_id)
    if not insider and context.caller.role is not Role.ANALYST:
        return None
    return InsuranceFigures.from_doc(doc, context.now.date(), insider)
