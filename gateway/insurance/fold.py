"""What the insurance service's events do to the documents (pure: no I/O).

Reads (through ``gateway.fold``) ``{node}.insurance.events``; writes the ``products`` and
``policies`` documents, and each product's figures as its policies' events come
(``_count``), at the insurer's node; and the ``covers`` documents at her host node (her
application, its answer, her death notified).
"""

from __future__ import annotations

from gateway.documents import DocumentStore, MemberRecord, document
from gateway.insurance.documents import (
    Catalogue,
    ClaimDoc,
    CoverView,
    EvidenceDoc,
    PolicyView,
    ProductView,
)
from schemas import insurance as i
from schemas.envelope import Envelope
from schemas.registry import Contract


def fold_product(store: DocumentStore, event: Contract, envelope: Envelope) -> list[str]:
    product = document(store, ProductView, event.product_id)
    match event:
        case i.ProductOffered():
            product.offered = event
            catalogue = document(store, Catalogue, Catalogue.KEYED)
            if event.product_id not in catalogue.products:
                catalogue.products.append(event.product_id)
                store.put(Catalogue.TABLE, Catalogue.KEYED, catalogue)
        case i.ProductWithdrawn():
            product.withdrawn = True
    store.put("products", event.product_id, product)
    return []


def in_force(policy: PolicyView) -> str | None:
    """The day its term ends, if it is in force (issued, not lapsed, not claimed)."""
    if policy.issued is None or policy.lapsed is not None or policy.claim is not None:
        return None
    return policy.ends_on.isoformat()


def fold_policy(store: DocumentStore, event: Contract, envelope: Envelope) -> list[str]:
    policy = document(store, PolicyView, event.policy_id)
    before = _state(policy)
    _fold_policy(policy, event)
    store.put("policies", event.policy_id, policy)
    if policy.issued is not None:
        product = document(store, ProductView, policy.issued.product_id)
        _count(product, event, before, _state(policy))
        store.put("products", product.product_id, product)
    return []


def _state(policy: PolicyView) -> tuple[str | None, bool, bool]:
    """What the product's figures count of a policy: the day its term ends if in force,
    whether it stands lapsed, whether a claim is open on it."""
    return in_force(policy), policy.lapsed is not None, policy.claim is not None


def _count(product: ProductView, event: Contract, was: tuple, now: tuple) -> None:
    """The product's figures after one event of one of its policies."""
    (before, lapsed_before, claimed_before), (after, lapsed, claimed) = was, now
    product.lapsed += lapsed - lapsed_before  # a lapse undone by a premium paid in time
    product.claims += claimed - claimed_before  # a claim withdrawn
    if before != after:
        ending = dict(product.ending)
        if before is not None:
            ending[before] = ending.get(before, 0) - 1
            if not ending[before]:
                del ending[before]
        if after is not None:
            ending[after] = ending.get(after, 0) + 1
        product.ending = ending
    match event:
        case i.PolicyIssued():
            product.issued += 1
        case i.PremiumCollected():
            product.premiums += event.amount.amount
        case i.ClaimApproved():
            product.approved += 1
        case i.ClaimRejected():
            product.rejected += 1
        case i.PaymentReleased():
            product.paid += event.payment.amount.amount
        case i.PaymentReturned():
            product.paid -= event.amount.amount


def _fold_policy(policy: PolicyView, event: Contract) -> None:
    claim = policy.claim
    match event:
        case i.PolicyIssued():
            policy.issued, policy.ends_on = event, event.ends_on
        case i.PolicyRenewed():
            policy.ends_on = event.ends_on
        case i.PremiumCollected():
            policy.periods_paid, policy.paid_through = event.period, event.paid_through
            if policy.lapsed is not None and policy.lapsed.period == event.period:
                policy.lapsed = None  # paid in time, on its way when the lapse was recorded
        case i.PolicyLapsed():
            policy.lapsed = event
        case i.ClaimOpened():
            policy.claim = ClaimDoc(claim_id=event.claim_id, died_on=event.died_on,
                                    notified_by=event.notified_by, opened_at=event.opened_at)
        case i.EvidenceAttached() if claim is not None:
            claim.evidence.append(EvidenceDoc(kind=event.kind.value, sha256=event.sha256,
                                              attached_at=event.attached_at))
        case i.ClaimAssessed() if claim is not None:
            claim.assessment = event
        case i.ClaimApproved() if claim is not None:
            claim.status, claim.decided_at = "approved", event.approved_at
            claim.payments, claim.total = list(event.payments), event.total
        case i.ClaimRejected() if claim is not None:
            claim.status, claim.decided_at = "rejected", event.rejected_at
            claim.reasons = [reason.value for reason in event.reasons]
        case i.PaymentReleased() if claim is not None:
            claim.released.append(event.payment.number)
            claim.released_total = event.released_total
        case i.PaymentCredited() if claim is not None:
            claim.credited.append(event.number)
            claim.credited_total = event.credited_total
        case i.PaymentReturned() if claim is not None:
            claim.returned.append(event.number)
            claim.released_total = event.released_total
        case i.PaymentRedirected() if claim is not None:
            claim.payments.append(event.payment)
        case i.ClaimWithdrawn():
            policy.claim = None  # opened by mistake: the policy stands as before


def fold_cover(store: DocumentStore, event: Contract, envelope: Envelope) -> list[str]:
    cover = document(store, CoverView, event.cover_id)
    match event:
        case i.CoverApplied():
            cover.applied = event
            member = document(store, MemberRecord, event.member_id)  # whatever came first
            if event.cover_id not in member.covers:
                member.covers.append(event.cover_id)  # her record lists it
                store.put(MemberRecord.TABLE, event.member_id, member)
        case i.CoverIssued():
            cover.terms = event.terms
        case i.CoverRefused():
            cover.refused = event.code
        case i.DeathNotified():
            cover.death = event
        case i.DeathNoticeAnswered():
            cover.claim_opened = event.accepted
        case i.CoverPremiumPaid():
            cover.periods_paid = event.period
    store.put("covers", event.cover_id, cover)
    return [cover.applied.member_id] if cover.applied is not None else []  # her record's


#: The events this feature folds.
FOLDS = {
    **dict.fromkeys((i.ProductOffered, i.ProductWithdrawn), fold_product),
    **dict.fromkeys((i.PolicyIssued, i.PolicyRenewed, i.PremiumCollected, i.PolicyLapsed,
                     i.ClaimOpened, i.EvidenceAttached, i.ClaimAssessed, i.ClaimApproved,
                     i.ClaimRejected, i.PaymentReleased, i.PaymentCredited,
                     i.PaymentReturned, i.PaymentRedirected, i.ClaimWithdrawn), fold_policy),
    **dict.fromkeys((i.CoverApplied, i.CoverIssued, i.CoverRefused, i.DeathNotified,
                     i.DeathNoticeAnswered, i.CoverPremiumPaid), fold_cover),
}


def summary(event: Contract) -> str | None:
    """Her cover's events read in her timeline (at her host node); the policy's are the
    insurer's document, in no timeline."""
    match event:
        case i.CoverApplied():
            return "Applied for insurance"
        case i.CoverIssued():
            return "Insurance policy issued"
        case i.CoverRefused():
            return f"Insurance application refused ({event.code})"
        case i.CoverPremiumPaid():
            return f"Insurance premium paid (period {event.period})"
        case i.DeathNotified():
            return "Death notified to the insurer"
        case i.DeathNoticeAnswered():
            return "Insurer opened the claim" if event.accepted else "Insurer opened no claim"
    return None
