"""The placement feature's GraphQL types (issue 26) and who sees what of them.

Who reads a job order (``viewer_of``): the staff and admins of the cooperative that posted it
and the node admin (everything but her grievances' text, which only the cooperative's admins
open: not the node's operator); the employer it is for, with their own token, until they
are erased (the job, its status, and the worker only once the placement is confirmed); and a
worker it was offered to, with her own token (the job's terms and her own offer; the
employer only once her placement is confirmed). For anyone else it does not exist. So
neither side's identity reaches the other before she accepts. The reader is resolved once,
when the job order is read (``reader``): on a socket the request's context has no caller.
"""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal

import msgspec
import strawberry
from strawberry.types import Info

from gateway.auth import Caller, Role
from gateway.context import GatewayContext
from gateway.placement.documents import EmployerView, JobOrderView, OfferDoc
from gateway.records.subject import hours_text
from gateway.types import Money
from schemas import membership as m
from schemas import placement as p
from schemas.matching import skill_key


class Viewer(enum.Enum):
    COOPERATIVE = "cooperative"  # its staff, its admins, the node admin
    ADMIN = "admin"  # its admins (and the node admin): grievances too
    EMPLOYER = "employer"
    WORKER = "worker"


def erased_employer(views, employer_id: str) -> bool:
    """An erased employer's token opens nothing (it cannot be revoked otherwise)."""
    doc = views.get("employers", employer_id) if views is not None else None
    return doc is not None and doc.erased


def viewer_of(caller: Caller | None, job: JobOrderView | None,
              views=None) -> Viewer | None:
    """How ``caller`` may read ``job`` (None: not at all)."""
    if caller is None or job is None or job.posted is None:
        return None
    if caller.role is Role.ADMIN and caller.of_cooperative(job.posted.cooperative_id):
        return Viewer.ADMIN
    if caller.of_cooperative(job.posted.cooperative_id):  # its staff, the node admin
        return Viewer.COOPERATIVE
    if caller.role is Role.EMPLOYER and caller.employer_id == job.posted.employer_id:
        return None if erased_employer(views, caller.employer_id) else Viewer.EMPLOYER
    if caller.role is Role.MEMBER and job.offer_to(caller.member_id) is not None:
        return Viewer.WORKER
    return None


@strawberry.type(description="Hours of work, from starts_at to ends_at (UTC)")
class Shift:
    starts_at: dt.datetime
    ends_at: dt.datetime


@strawberry.type(description="A language the job needs, at least at a CEFR level")
class LanguageNeed:
    language: str = strawberry.field(description="a BCP 47 tag: without a region (es) met in "
                                                 "any region's variety")
    level: str = strawberry.field(description="the CEFR level needed, A1 to C2")


@strawberry.type(description="An employer's rating by the workers placed with them, in "
                             "batches of 5: shown once 5 rated, and again only when 5 more "
                             "did (so no one rating can be told from the change)")
class EmployerRating:
    average: str = strawberry.field(description="the average stars, 1 to 5, as a decimal "
                                                "string with one decimal (\"4.2\")")
    ratings: int = strawberry.field(description="how many ratings the average is of: a "
                                                "multiple of 5")


def rating_of(employer: EmployerView | None) -> EmployerRating | None:
    found = employer.rating if employer is not None else None
    if found is None:
        return None
    stars, count = found
    return EmployerRating(average=format((Decimal(stars) / count).quantize(Decimal("0.1")),
                                         "f"), ratings=count)


@strawberry.type(description="An employer client of a cooperative: who they are is shown to "
                             "the cooperative, to the employer, and to a worker once her "
                             "placement with them is confirmed; null once erased")
class Employer:
    employer_id: strawberry.ID
    cooperative_id: strawberry.ID = strawberry.field(description="whose client they are")
    erased: bool = strawberry.field(description="their details were erased at their request")
    name: str | None = strawberry.field(default=None, description="a person or a household")
    address: str | None = strawberry.field(default=None, description="where the work is done")
    phone: str | None = None
    email: str | None = strawberry.field(default=None, description="their email address")
    rating: EmployerRating | None = strawberry.field(
        default=None, description="their workers' rating: null until 5 rated them")
    job_order_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="their job orders, oldest first (for the cooperative and "
                                  "the employer only)")


async def employer_for(context: GatewayContext, doc: EmployerView | None,
                       with_jobs: bool) -> Employer | None:
    if doc is None or doc.registered is None:
        return None
    details = None
    if not doc.erased:
        plaintext = await context.keys.open(p.employer_key_owner(doc.employer_id),
                                            doc.registered.details)
        details = (msgspec.json.decode(plaintext, type=p.EmployerDetails)
                   if plaintext is not None else None)
    return Employer(employer_id=doc.employer_id, cooperative_id=doc.registered.cooperative_id,
                    erased=doc.erased or details is None,
                    name=details.name if details else None,
                    address=details.address if details else None,
                    phone=details.phone if details else None,
                    email=details.email if details else None, rating=rating_of(doc),
                    job_order_ids=list(doc.job_orders) if with_jobs else None)


@strawberry.type(description="The worker placed in a job: for the cooperative, for herself, "
                             "and for the employer once her placement is confirmed")
class Worker:
    member_id: strawberry.ID
    given_names: str | None = strawberry.field(default=None, description="null once erased")
    family_names: str | None = strawberry.field(default=None, description="null once erased")


async def worker_for(context: GatewayContext, member_id: str) -> Worker:
    record = context.views.get("members", member_id)
    if record is None or record.erased or record.personal is None:
        return Worker(member_id=member_id)
    plaintext = await context.keys.open(member_id, record.personal)
    if plaintext is None:
        return Worker(member_id=member_id)
    details = msgspec.json.decode(plaintext, type=m.PersonalDetails)
    return Worker(member_id=member_id, given_names=details.given_names,
                  family_names=details.family_names)


@strawberry.type(description="One offer of a job to a worker, and what became of it")
class JobOffer:
    job_order_id: strawberry.ID
    member_id: strawberry.ID
    offered_at: dt.datetime
    expires_at: dt.datetime = strawberry.field(description="her answer is due by then")
    outcome: str = strawberry.field(description=(
        "open (awaiting her answer), accepted (her calendar booked it; the job order is "
        "confirming it), confirmed (she is placed), declined, released (accepted, but the "
        "job order could not confirm it: see code), or withdrawn (with the job order); an "
        "open offer past expiresAt has lapsed"))
    accepted_at: dt.datetime | None = None
    decline_reason: str | None = strawberry.field(default=None, description=(
        "why she declined, if she said: not_available, wage, place, hours, terms, other, "
        "unsaid"))
    code: str | None = strawberry.field(default=None, description="why a booking was "
                                                                  "released")

    @classmethod
    def from_doc(cls, job_order_id: str, offer: OfferDoc) -> JobOffer:
        return cls(job_order_id=job_order_id, member_id=offer.member_id,
                   offered_at=offer.offered_at, expires_at=offer.expires_at,
                   outcome=offer.outcome, accepted_at=offer.accepted_at,
                   decline_reason=offer.decline_reason, code=offer.code)


@strawberry.type(description="Wages settled for days of a placement: the whole wage is hers")
class WageSettlement:
    settlement_id: strawberry.ID
    worked_from: dt.date
    worked_to: dt.date
    minutes: int
    hourly_wage: Money
    wage: Money = strawberry.field(description="the whole wage for the minutes, rounded up "
                                               "in her favour: all credited to her")
    margin: Money = strawberry.field(description="the cooperative's margin, which the "
                                                 "employer paid on top")
    employer_paid: Money = strawberry.field(description="wage plus margin, exactly")
    status: str = strawberry.field(description="pending, credited (to her savings), or "
                                               "returned (her account refused it; held for "
                                               "her until it is redirected)")


@strawberry.type(description="How a placement ended: what her portable record shows")
class PlacementEnd:
    started_on: dt.date
    ended_on: dt.date
    minutes: int = strawberry.field(description="the minutes settled")
    hours: str = strawberry.field(description="the same, in hours, as a decimal string")
    reason: str


@strawberry.type(description="A job order of a cooperative for an employer client, as the "
                             "caller may read it")
class JobOrder:
    job_order_id: strawberry.ID
    cooperative_id: strawberry.ID = strawberry.field(description="the cooperative that "
                                                                 "posted it")
    occupation: str = strawberry.field(description="an ISCO-08 unit group (5311: child care "
                                                   "workers)")
    country: str
    locality: str = strawberry.field(description="a town or district, never an address")
    shifts: list[Shift]
    hours: str = strawberry.field(description="of all its shifts, as a decimal string")
    wage: Money = strawberry.field(description="an hour's wage: all of it the worker's")
    margin: Money = strawberry.field(description="the cooperative's margin an hour, which the "
                                                 "employer pays on top of the wage; the "
                                                 "worker pays no fee")
    floor: Money = strawberry.field(description="the cooperative's floor it was checked "
                                                "against")
    languages: list[LanguageNeed]
    skills: list[str] = strawberry.field(description="skills a certificate must show: ESCO "
                                                     "URIs, or isco08:<group>")
    terms_sha256: str = strawberry.field(description="the SHA-256 of the written terms of "
                                                     "employment (ILO C189, Art. 7)")
    for_node: str | None = strawberry.field(default=None, description=(
        "posted by a home cooperative for the client of a cooperative at this node"))
    for_cooperative_id: strawberry.ID | None = None
    posted_at: dt.datetime
    status: str = strawberry.field(description="open, offered, filled, ended or withdrawn")
    viewer: strawberry.Private[Viewer]
    doc: strawberry.Private[JobOrderView]
    reader: strawberry.Private[Caller]

    @strawberry.field(description="the employer's workers' rating, once 5 rated them")
    def employer_rating(self, info: Info) -> EmployerRating | None:
        return rating_of(info.context.views.get("employers", self.doc.posted.employer_id))

    @strawberry.field(description=(
        "who the employer is: for the cooperative and the employer; for the worker only "
        "once her placement is confirmed; null otherwise, and once erased"))
    async def employer(self, info: Info) -> Employer | None:
        if self.viewer is Viewer.WORKER and not self._placed_her(info):
            return None
        doc = info.context.views.get("employers", self.doc.posted.employer_id)
        return await employer_for(info.context, doc, self.viewer is not Viewer.WORKER)

    @strawberry.field(description=(
        "the worker placed: for the cooperative and herself; for the employer only once her "
        "placement is confirmed; null before"))
    async def worker(self, info: Info) -> Worker | None:
        placement = self.doc.placement
        if placement is None or (self.viewer is Viewer.WORKER and not self._placed_her(info)):
            return None
        return await worker_for(info.context, placement.member_id)

    @strawberry.field(description=(
        "every offer of it and its answer: for the cooperative; for a worker, her own "
        "offers; null for the employer (nobody is named to them before she accepts)"))
    def offers(self, info: Info) -> list[JobOffer] | None:
        if self.viewer is Viewer.EMPLOYER:
            return None
        mine = self.reader.member_id if self.viewer is Viewer.WORKER else None
        return [JobOffer.from_doc(self.job_order_id, o) for o in self.doc.offers
                if mine is None or o.member_id == mine]

    @strawberry.field(description="the wages settled: for the cooperative and the worker "
                                  "placed")
    def settlements(self, info: Info) -> list[WageSettlement] | None:
        if self.viewer is Viewer.EMPLOYER or (self.viewer is Viewer.WORKER
                                              and not self._placed_her(info)):
            return None
        doc = self.doc
        return [WageSettlement(
            settlement_id=x.settlement_id, worked_from=x.worked_from, worked_to=x.worked_to,
            minutes=x.minutes, hourly_wage=Money.from_value(x.hourly_wage),
            wage=Money.from_value(x.wage), margin=Money.from_value(x.margin),
            employer_paid=Money.from_value(x.employer_paid),
            status=("credited" if x.settlement_id in doc.paid else
                    "returned" if x.settlement_id in doc.returned else "pending"))
            for x in doc.settlements]

    @strawberry.field(description="the wages credited to her so far: for the cooperative and "
                                  "the worker placed")
    def paid_total(self, info: Info) -> Money | None:
        if self.viewer is Viewer.EMPLOYER or (self.viewer is Viewer.WORKER
                                              and not self._placed_her(info)):
            return None
        return Money.from_value(self.doc.paid_total)

    @strawberry.field(description="how the placement ended (for everyone who reads the job)")
    def ended(self) -> PlacementEnd | None:
        end = self.doc.ended
        if end is None:
            return None
        minutes = self.doc.worked_minutes  # credited to her, settled after the end too
        return PlacementEnd(started_on=end.started_on, ended_on=end.ended_on,
                            minutes=minutes, hours=hours_text(minutes),
                            reason=end.reason.value)

    @strawberry.field(description="her rating of the employer for this placement: for "
                                  "herself only (the employer sees only the average)")
    def my_rating(self, info: Info) -> int | None:
        return self.doc.stars if self.viewer is Viewer.WORKER and self._placed_her(info) \
            else None

    @strawberry.field(description=(
        "her grievances about this placement, opened: for the cooperative's admins only "
        "(and the node admin); null for everyone else, the employer and its staff included"))
    async def grievances(self, info: Info) -> list[Grievance] | None:
        if self.viewer is not Viewer.ADMIN:
            return None
        found = []
        for filed in self.doc.grievances:
            plaintext = await info.context.keys.open(filed.member_id, filed.grievance)
            text = (msgspec.json.decode(plaintext, type=p.Grievance).text
                    if plaintext is not None else None)
            found.append(Grievance(grievance_id=filed.grievance_id, member_id=filed.member_id,
                                   filed_at=filed.filed_at, text=text))
        return found

    def _placed_her(self, info: Info) -> bool:
        placement = self.doc.placement
        return placement is not None and placement.member_id == self.reader.member_id

    @classmethod
    def from_doc(cls, doc: JobOrderView, viewer: Viewer, reader: Caller,
                 now: dt.datetime) -> JobOrder:
        posted = doc.posted
        return cls(
            job_order_id=doc.job_order_id, cooperative_id=posted.cooperative_id,
            occupation=posted.occupation, country=posted.country, locality=posted.locality,
            shifts=[Shift(starts_at=x.starts_at, ends_at=x.ends_at) for x in posted.shifts],
            hours=hours_text(posted.minutes), wage=Money.from_value(posted.wage),
            margin=Money.from_value(posted.margin), floor=Money.from_value(posted.floor),
            languages=[LanguageNeed(language=x.language, level=x.level.value)
                       for x in posted.languages],
            skills=[skill_key(x) for x in posted.skills], terms_sha256=posted.terms_sha256,
            for_node=posted.for_node, for_cooperative_id=posted.for_cooperative_id,
            posted_at=posted.posted_at, status=doc.status(now), viewer=viewer, doc=doc,
            reader=reader)


@strawberry.type(description="A worker's grievance about a placement, as she wrote it")
class Grievance:
    grievance_id: strawberry.ID
    member_id: strawberry.ID
    filed_at: dt.datetime
    text: str | None = strawberry.field(description="null once she is erased")


@strawberry.type(description="A cooperative's wage floor for an ISCO-08 group")
class WageFloor:
    occupation: str = strawberry.field(description="an ISCO-08 group, 1 to 4 digits")
    hourly: Money


@strawberry.type(description="A member whose verified records show what a job needs, ranked")
class JobCandidate:
    member_id: strawberry.ID
    score: int = strawberry.field(description=(
        "how far her certificates exceed the needs: each CEFR step above a needed level, and "
        "each certificate showing a needed skill"))
    available: bool = strawberry.field(description=(
        "none of the job's shifts overlaps a job she accepted here (she may still be offered "
        "it: she then cannot accept it)"))


@strawberry.type(description="A job she worked, as her record shows it (the work scope)")
class Placement:
    job_order_id: strawberry.ID
    cooperative_id: strawberry.ID
    occupation: str = strawberry.field(description="an ISCO-08 unit group")
    country: str
    status: str = strawberry.field(description="filled (working) or ended")
    started_on: dt.date | None = None
    ended_on: dt.date | None = None
    hours: str | None = strawberry.field(default=None, description="settled, as a decimal "
                                                                   "string")
