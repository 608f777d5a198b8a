"""What the placement service's events do to the documents (pure: no I/O).

Reads (through ``gateway.fold``) ``{node}.placement.events``; writes ``wage_floors``,
``employers`` (their ratings counted as they come), ``job_orders`` (every offer and its
answer, her acceptance from her calendar, the placement, wages, end, rating, grievances),
the rows ``coop_job_orders``, and her ``MemberRecord.placements``. An event of a job offered
to her, answered, confirmed, paid or ended touches her record (her timeline, her
``jobOffers`` subscription); her rating and her grievance do not: the employer must never
learn who rated, and a grievance is for her cooperative's admins alone.
"""

from __future__ import annotations

from gateway.documents import DocumentStore, MemberRecord, document
from gateway.placement.documents import (
    CoopJobOrder,
    EmployerView,
    JobOrderView,
    OfferDoc,
    WageFloorsView,
    job_order_sort,
)
from schemas import placement as p
from schemas.envelope import Envelope
from schemas.money import major_text
from schemas.registry import Contract


def fold_floors(store: DocumentStore, event: p.WageFloorSet, envelope: Envelope) -> list[str]:
    view = document(store, WageFloorsView, event.cooperative_id)
    view.floors = {**view.floors, event.occupation: event.hourly}
    view.set_at = {**view.set_at, event.occupation: event.set_at}
    store.put(WageFloorsView.TABLE, event.cooperative_id, view)
    return []


def fold_employer(store: DocumentStore, event: Contract, envelope: Envelope) -> list[str]:
    employer = document(store, EmployerView, event.employer_id)
    match event:
        case p.EmployerRegistered():
            employer.registered = event
        case p.EmployerErased():
            employer.erased = True
    store.put(EmployerView.TABLE, event.employer_id, employer)
    return []


def fold_job_order(store: DocumentStore, event: Contract, envelope: Envelope) -> list[str]:
    job = document(store, JobOrderView, event.job_order_id)
    touched = _fold(store, job, event)
    store.put(JobOrderView.TABLE, event.job_order_id, job)
    return touched


def _fold(store: DocumentStore, job: JobOrderView, event: Contract) -> list[str]:
    match event:
        case p.JobOrderPosted():
            job.posted = event
            employer = document(store, EmployerView, event.employer_id)
            if event.job_order_id not in employer.job_orders:
                employer.job_orders.append(event.job_order_id)
                store.put(EmployerView.TABLE, event.employer_id, employer)
            store.put_row(CoopJobOrder.TABLE, event.cooperative_id, job_order_sort(event),
                          CoopJobOrder(job_order_id=event.job_order_id))
            return []
        case p.JobOffered():
            offer = OfferDoc(member_id=event.member_id, offered_at=event.offered_at,
                             expires_at=event.expires_at)
            job.offers.append(offer)
            for member_id, what, at in list(job.early):  # her calendar was folded first
                if member_id == event.member_id and at >= event.offered_at:
                    _calendar(offer, what, at)
                    job.early.remove((member_id, what, at))
            member = document(store, MemberRecord, event.member_id)
            if event.job_order_id not in member.placements:
                member.placements.append(event.job_order_id)
                store.put(MemberRecord.TABLE, event.member_id, member)
            return [event.member_id]
        case p.OfferDeclined():
            return _answer(job, event.member_id, "declined",
                           decline_reason=event.reason.value)
        case p.JobOrderWithdrawn():
            job.withdrawn = event
            touched = []
            for offer in job.offers:
                if offer.outcome in ("open", "accepted"):
                    offer.outcome = "withdrawn"
                    touched.append(offer.member_id)
            return touched
        case p.PlacementConfirmed():
            job.placement, job.account_id = event, event.account_id
            return _answer(job, event.member_id, "confirmed",
                           accepted_at=event.accepted_at)
        case p.WagesSettled():
            job.settlements.append(event)
            return [event.member_id]
        case p.WagePaid():
            job.paid.append(event.settlement_id)
            job.returned = [x for x in job.returned if x != event.settlement_id]
            job.paid_total = event.paid_total
            return _hers(job)
        case p.WagePaymentReturned():
            if event.settlement_id not in job.returned:
                job.returned.append(event.settlement_id)
            return _hers(job)
        case p.WagesRedirected():
            job.account_id = event.account_id
            return _hers(job)
        case p.PlacementEnded():
            job.ended = event
            return [event.member_id]
        case p.EmployerRated():
            job.stars = event.stars
            employer = document(store, EmployerView, event.employer_id)
            employer.stars.append(event.stars)
            store.put(EmployerView.TABLE, event.employer_id, employer)
            return []  # the employer never learns who rated
        case p.GrievanceFiled():
            job.grievances.append(event)
            return []  # her cooperative's admins' alone
    return []


def _answer(job: JobOrderView, member_id: str, outcome: str, **fields) -> list[str]:
    offer = job.offer_to(member_id)
    if offer is not None:
        offer.outcome = outcome
        for name, value in fields.items():
            setattr(offer, name, value)
    return [member_id]


def _hers(job: JobOrderView) -> list[str]:
    return [job.placement.member_id] if job.placement is not None else []


def fold_calendar(store: DocumentStore, event: Contract, envelope: Envelope) -> list[str]:
    """Her calendar's events, on the job order's document: she accepted (before the job
    order confirms), or her booking was released (the job order could not confirm it). Her
    calendar and the job order are on different partitions, folded in any order: an event
    that comes before the offer it answers waits on the document (``early``)."""
    if isinstance(event, p.BookingConfirmed):
        return []  # the job order's confirmation said it already
    job = document(store, JobOrderView, event.job_order_id)
    what = "accepted" if isinstance(event, p.OfferAccepted) else event.code
    offer = next((o for o in reversed(job.offers) if o.member_id == event.member_id
                  and o.offered_at <= event.accepted_at), None)
    if offer is None:
        job.early.append((event.member_id, what, event.accepted_at))
    else:
        _calendar(offer, what, event.accepted_at)
    store.put(JobOrderView.TABLE, event.job_order_id, job)
    return [event.member_id]


def _calendar(offer: OfferDoc, what: str, accepted_at) -> None:
    """Her acceptance (``what``: "accepted") or its release (the job order's code) on the
    offer it answers; neither undoes a confirmation, a decline or a withdrawal folded
    first."""
    if what == "accepted":
        if offer.outcome == "open":
            offer.outcome, offer.accepted_at = "accepted", accepted_at
    elif offer.outcome in ("open", "accepted"):
        offer.outcome, offer.code, offer.accepted_at = "released", what, accepted_at


#: The events this feature folds.
FOLDS = {
    p.WageFloorSet: fold_floors,
    **dict.fromkeys((p.EmployerRegistered, p.EmployerErased), fold_employer),
    **dict.fromkeys((p.JobOrderPosted, p.JobOffered, p.OfferDeclined, p.JobOrderWithdrawn,
                     p.PlacementConfirmed, p.WagesSettled, p.WagePaid, p.WagePaymentReturned,
                     p.WagesRedirected, p.PlacementEnded, p.EmployerRated, p.GrievanceFiled),
                    fold_job_order),
    **dict.fromkeys((p.OfferAccepted, p.BookingConfirmed, p.BookingReleased), fold_calendar),
}


def summary(event: Contract) -> str | None:
    """How her placement's events read in her timeline (no personal data, no employer)."""
    match event:
        case p.JobOffered():
            return f"was offered job {event.job_order_id}"
        case p.OfferDeclined():
            return f"declined job {event.job_order_id}"
        case p.JobOrderWithdrawn():
            return f"job {event.job_order_id} was withdrawn"
        case p.OfferAccepted():
            return f"accepted job {event.job_order_id}"
        case p.BookingReleased():
            return f"job {event.job_order_id} was not confirmed ({event.code})"
        case p.PlacementConfirmed():
            return f"was placed in job {event.job_order_id}"
        case p.WagesSettled():
            return (f"wages for {event.minutes} minutes of job {event.job_order_id} settled: "
                    f"{major_text(event.wage.amount, event.wage.currency)} "
                    f"{event.wage.currency}, all hers")
        case p.WagePaid():
            return f"wages of job {event.job_order_id} credited to her savings"
        case p.WagePaymentReturned():
            return f"her account refused wages of job {event.job_order_id} ({event.reason})"
        case p.WagesRedirected():
            return f"wages of job {event.job_order_id} go to another of her accounts"
        case p.PlacementEnded():
            return (f"job {event.job_order_id} ended "
                    f"({event.reason.value.replace('_', ' ')})")
    return None
