"""The placement feature's queries and subscription (issue 26).

* ``jobOrder``: one job order, as ``types.viewer_of`` lets the caller read it;
* ``jobOrders``: a cooperative's job orders, a page at a time, for its staff and admins;
* ``jobCandidates``: the cooperative's active members whose verified records (certificates
  from courses here, records imported from other nodes) show what the job needs, ranked by
  ``schemas.matching.score``, each with whether her accepted shifts leave her free
  (read from the cooperative's member list: a scan of it, a page of candidates at a time);
* ``employer``: an employer client, for their cooperative and themselves;
* ``wageFloors``: a cooperative's floors, for any signed-in caller (what it pays at least is
  no secret);
* ``myJobOffers``: for a member's own token, the jobs offered to her here, newest first;
* subscription ``jobOffers``: for a member's own token, each job offered to her, and each
  change of an offer of hers, as it happens.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Annotated

import strawberry
from strawberry.types import Info

from gateway.access import SignedIn
from gateway.auth import Role
from gateway.context import GatewayContext, caller_of
from gateway.documents import MemberRecord
from gateway.member_access.liveness import live
from gateway.paging import MAX_PAGE, page_size
from gateway.placement.documents import JobOrderView
from gateway.placement.types import (
    Employer,
    JobCandidate,
    JobOrder,
    Viewer,
    WageFloor,
    employer_for,
    viewer_of,
)
from gateway.types import Money
from schemas import placement as p
from schemas.matching import Evidence, freed, overlaps, score, skill_key, unmet

#: The events that change an offer of hers (``jobOffers``).
OFFER_EVENTS = (p.JobOffered, p.OfferDeclined, p.JobOrderWithdrawn, p.OfferAccepted,
                p.BookingReleased, p.PlacementConfirmed)


def _job(context: GatewayContext, job_order_id: str) -> tuple[JobOrderView, Viewer] | None:
    doc = context.views.get(JobOrderView.TABLE, job_order_id)
    viewer = viewer_of(context.caller, doc, context.views)
    return None if viewer is None else (doc, viewer)


@strawberry.field(permission_classes=[SignedIn], description=(
    "A job order: for the staff and admins of the cooperative that posted it and the node "
    "admin, the employer it is for (their own token), and a worker it was offered to (her "
    "own token); neither side is named to the other before she accepts. Null for anyone "
    "else, as for what does not exist"))
def job_order(info: Info[GatewayContext, None],
              id: Annotated[strawberry.ID, strawberry.argument(
                  description="the job order's id")]) -> JobOrder | None:
    context = info.context
    found = _job(context, id)
    return None if found is None else JobOrder.from_doc(*found, context.caller, context.now)


@strawberry.field(permission_classes=[SignedIn], description=(
    "A cooperative's job orders, newest first, at most `first` (1 to 100): for its staff and "
    "admins and the node admin; null for others"))
def job_orders(info: Info[GatewayContext, None], cooperative_id: strawberry.ID,
               first: int = 20) -> list[JobOrder] | None:
    context = info.context
    if not context.caller.of_cooperative(cooperative_id):
        return None
    rows = list(context.views.rows("coop_job_orders", cooperative_id))
    found = []
    for row in reversed(rows):
        if len(found) == page_size(first):
            break
        doc = context.views.get(JobOrderView.TABLE, row.job_order_id)
        viewer = viewer_of(context.caller, doc, context.views)
        if viewer is not None:
            found.append(JobOrder.from_doc(doc, viewer, context.caller, context.now))
    return found


def evidence_of(record: MemberRecord) -> list[Evidence]:
    """Her verified certificates, as matching reads them: those courses here issued her
    (not revoked), and those of the records imported for her."""
    found = [Evidence(frozenset(c.skills), c.language, c.level)
             for c in record.certificates if not c.revoked]
    found += [Evidence(frozenset(c.skills), c.language, c.level)
              for imported in record.imports for c in imported.history.certificates
              if not c.revoked]
    return found


def _booked(context: GatewayContext, record: MemberRecord, job: JobOrderView) -> bool:
    """Whether a job she accepted here has a shift overlapping one of ``job``'s, by the rule
    her calendar decides by (``schemas.matching.freed``, ``overlaps``)."""
    for other_id in record.placements:
        if other_id == job.job_order_id:
            continue
        other = context.views.get(JobOrderView.TABLE, other_id)
        offer = other.offer_to(record.member_id) if other is not None else None
        if other is None or other.posted is None or offer is None \
                or offer.outcome not in ("accepted", "confirmed"):
            continue
        ended_on = other.ended.ended_on if other.ended is not None else None
        for mine in other.posted.shifts:
            if not freed(mine.starts_at, ended_on) and any(
                    overlaps(mine.starts_at, mine.ends_at, x.starts_at, x.ends_at)
                    for x in job.posted.shifts):
                return True
    return False


@strawberry.field(permission_classes=[SignedIn], description=(
    "The cooperative's active members whose verified records (certificates from courses "
    "here, records imported from other nodes) show every language level and skill the job "
    "needs, best first, at most `first` (1 to 100): for the staff and admins of the "
    "cooperative that posted it and the node admin; null for others"))
def job_candidates(info: Info[GatewayContext, None], job_order_id: strawberry.ID,
                   first: int = 20) -> list[JobCandidate] | None:
    context = info.context
    found = _job(context, job_order_id)
    if found is None or found[1] not in (Viewer.COOPERATIVE, Viewer.ADMIN):
        return None
    size = page_size(first)
    job = found[0]
    posted = job.posted
    skills = [skill_key(x) for x in posted.skills]
    ranked = []
    for row in context.views.rows("coop_members", posted.cooperative_id):
        record = context.views.get(MemberRecord.TABLE, row.member_id)
        if record is None or record.erased or not any(
                ms.cooperative_id == posted.cooperative_id and ms.ended_on is None
                for ms in record.memberships):
            continue
        evidence = evidence_of(record)
        if unmet(posted.languages, skills, evidence):
            continue
        ranked.append(JobCandidate(member_id=record.member_id,
                                   score=score(posted.languages, skills, evidence),
                                   available=not _booked(context, record, job)))
    ranked.sort(key=lambda c: (not c.available, -c.score))  # stable: joining order next
    return ranked[:size]


@strawberry.field(permission_classes=[SignedIn], description=(
    "An employer client: for the staff and admins of their cooperative, the node admin, and "
    "the employer themselves; null for others (a worker sees her employer on her job order "
    "once placed)"))
async def employer(info: Info[GatewayContext, None],
                   id: Annotated[strawberry.ID, strawberry.argument(
                       description="the employer's id")]) -> Employer | None:
    context = info.context
    doc = context.views.get("employers", id)
    if doc is None or doc.registered is None:
        return None
    caller = context.caller
    if not (caller.of_cooperative(doc.registered.cooperative_id)
            or (caller.employer_id == doc.employer_id and not doc.erased)):
        return None
    return await employer_for(context, doc, with_jobs=True)


@strawberry.field(permission_classes=[SignedIn], description=(
    "A cooperative's wage floors by ISCO-08 group (what it places anyone at, at least), for "
    "any signed-in caller; empty if it set none"))
def wage_floors(info: Info[GatewayContext, None],
                cooperative_id: strawberry.ID) -> list[WageFloor]:
    doc = info.context.views.get("wage_floors", cooperative_id)
    return [WageFloor(occupation=group, hourly=Money.from_value(hourly))
            for group, hourly in sorted((doc.floors if doc else {}).items())]


def _her_offers(context: GatewayContext, member_id: str) -> list[JobOrder]:
    record = context.views.get(MemberRecord.TABLE, member_id)
    found = []
    for job_order_id in reversed(record.placements if record else []):
        doc = context.views.get(JobOrderView.TABLE, job_order_id)
        viewer = viewer_of(context.caller, doc, context.views)
        if viewer is Viewer.WORKER:
            found.append(JobOrder.from_doc(doc, viewer, context.caller, context.now))
    return found


@strawberry.field(permission_classes=[SignedIn], description=(
    "For a member's own token: the jobs offered to her here, newest first, each with her "
    "offer (the employer is named once her placement is confirmed); null for any other "
    "caller"))
def my_job_offers(info: Info[GatewayContext, None],
                  first: int = MAX_PAGE) -> list[JobOrder] | None:
    context = info.context
    caller = context.caller
    if caller.role is not Role.MEMBER or live(caller, context.views) is None:
        return None
    return _her_offers(context, caller.member_id)[:page_size(first)]


async def job_offers(info: Info[GatewayContext, None]) -> AsyncGenerator[JobOrder, None]:
    """Each job offered to her, and each change of an offer of hers, as it happens."""
    context, caller = info.context, caller_of(info.context)
    if caller is None or caller.role is not Role.MEMBER or caller.expired() \
            or live(caller, context.views) is None:
        return
    listener = context.views.listen(caller, caller.member_id)
    try:
        while True:
            _, message = await listener.get()
            if caller.expired() or live(caller, context.views) is None:
                return
            envelope, event = message
            if not isinstance(event, OFFER_EVENTS):
                continue
            doc = context.views.get(JobOrderView.TABLE, event.job_order_id)
            if viewer_of(caller, doc, context.views) is Viewer.WORKER:  # as of that event
                yield JobOrder.from_doc(doc, Viewer.WORKER, caller, envelope.time)
    finally:
        context.views.unlisten(listener)


#: The queries this feature adds to the schema.
QUERIES = {"jobOrder": job_order, "jobOrders": job_orders, "jobCandidates": job_candidates,
           "employer": employer, "wageFloors": wage_floors, "myJobOffers": my_job_offers}

#: The subscriptions this feature adds to the schema.
SUBSCRIPTIONS = {
    "job_offers": strawberry.subscription(job_offers, description=(
        "For a member's own token: each job offered to her here, and each change of an offer "
        "of hers (answered, confirmed, released, withdrawn), as the job order she reads; "
        "ends silently when her access is revoked or her token expires")),
}
