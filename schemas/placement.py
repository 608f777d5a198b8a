"""Contracts of the placement service: fair work without recruitment fees (issue 26).

A cooperative (a domestic workers' cooperative, say) places its worker-members with its
employer clients. Four aggregates, all at the cooperative's node:

* the cooperative's **wage floors** (key ``cooperative_id``): the least hourly wage it
  places anyone at, by ISCO-08 occupation;
* an **employer** client (key ``employer_id``): who they are, sealed with their own data key
  (``employer_key_owner``), so erasing them when they ask destroys every copy;
* a **job order** (key ``job_order_id``): an employer's job (occupation, place, shifts,
  hourly wage at or above the floor, the cooperative's hourly margin, what languages and
  certificates it needs, the SHA-256 of the written terms), its offer to one worker at a
  time, the placement once she accepts, the wages settled, her rating and her grievances;
* a **worker's calendar** (key ``member_id``): the shifts she accepted. Her acceptance is
  decided here, by one writer for her whole calendar, so two accepted shifts of hers never
  overlap, whichever cooperative or job order offered them and however many at once.

Money: the employer pays the wage and the margin; the worker is credited the whole wage (to
the minor unit, rounded up in her favour) into her savings account. No contract has a field
in which a fee to the worker could be written, and a settlement whose payment does not cover
wage and margin (the shortfall would fall on her) is refused: ``RecruitmentFeeForbidden``.
The events hold ids, codes, times and amounts; the employer's details are sealed, her
grievance is sealed with her own data key.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated

import msgspec

from schemas.fields import (
    CountryCode,
    Id,
    Money,
    NodeId,
    PastDay,
    Sealed,
    Text,
    UtcDateTime,
)
from schemas.registry import REGISTRY, Contract
from schemas.rejections import declare_rejections
from schemas.training import Cefr, Skill

SERVICE = "placement"
command = REGISTRY.command
event = REGISTRY.event

#: Commands only the service's own placer sends: the gateway never offers them.
INTERNAL_COMMANDS = ("ConfirmPlacement", "ReleaseBooking", "ConfirmWagePaid",
                     "ReturnWagePayment", "RecordConfirmation")

REJECTIONS = declare_rejections(SERVICE, {
    "AlreadyAccepted": "she accepted this job already",
    "AlreadyConfirmed": "the placement is confirmed for her already",
    "AlreadyRated": "she rated the employer for this placement already",
    "BelowWageFloor": "the wage is below the cooperative's floor for this occupation",
    "CurrencyMismatch": "the amount is not in the job order's (or floor's) currency",
    "EmployerAlreadyRegistered": "an employer with this id is registered",
    "EmployerErased": "the employer's details were erased: the employer is no longer served",
    "GrievanceAlreadyFiled": "a grievance with this id was filed already",
    "InvalidSealedDetails": "the sealed details do not open with their owner's data key, or "
                            "do not hold what the field says",
    "JobOrderAlreadyPosted": "a job order with this id is posted",
    "JobOrderClosed": "the job order is withdrawn",
    "JobOrderFilled": "the job order's placement is confirmed: it takes no more offers",
    "NoOffer": "no offer of this job order to her is open",
    "NoWageFloor": "the cooperative has no wage floor for this occupation: set it first",
    "NotAMember": "she is not an active member of the job order's cooperative",
    "NotHerAccount": "the account is not hers, or not an open savings account",
    "NotPlaced": "no placement of this job order is confirmed",
    "NotHerPlacement": "the placement is another worker's",
    "NotYourClient": "the employer is another cooperative's client",
    "OfferExpired": "the offer's time to answer is over",
    "OfferOutstanding": "an offer of this job order awaits its worker's answer",
    "PaymentMismatch": "the employer's payment is more than the wage and the margin",
    "PeriodSettled": "a settlement of this placement covers some of these days already",
    "PlacementEnded": "the placement ended already",
    "PlacementNotEnded": "the placement has not ended yet",
    "RecruitmentFeeForbidden": "the worker pays no recruitment fee or related cost: "
                               "nothing may be deducted from her wage",
    "RequirementsNotMet": "her verified records do not show what the job order requires",
    "SettlementPending": "a settlement of this placement is not yet credited to her",
    "ShiftsOverlap": "she is booked already for some of these hours",
    "UnknownCooperative": "no cooperative is registered with this id",
    "UnknownEmployer": "no employer is registered with this id",
    "UnknownJobOrder": "no job order is posted with this id",
    "UnknownSettlement": "no settlement of this placement has this id",
}, release=8)

#: The most shifts one job order holds, and their longest.
MAX_SHIFTS = 400
MAX_SHIFT = dt.timedelta(hours=16)
#: The longest a job order runs, from its first shift's start to its last one's end.
MAX_SPAN = dt.timedelta(days=366)
#: How long an offer waits for her answer unless the job order says otherwise.
DEFAULT_ANSWER_HOURS = 72

#: An ISCO-08 occupation: the 4-digit unit group (``5311`` child care workers).
IscoUnit = Annotated[str, msgspec.Meta(pattern=r"^[0-9]{4}$",
                                       description="an ISCO-08 unit group: 4 digits")]
#: An ISCO-08 group at any level: 1 digit (major group) to 4 (unit group).
IscoGroup = Annotated[str, msgspec.Meta(pattern=r"^[0-9]{1,4}$",
                                        description="an ISCO-08 group: 1 to 4 digits")]
Sha256 = Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{64}$",
                                     description="a SHA-256 digest, lowercase hex")]
Minutes = Annotated[int, msgspec.Meta(ge=1, le=60 * 24 * 366)]
Stars = Annotated[int, msgspec.Meta(ge=1, le=5)]
Reason = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


def employer_key_owner(employer_id: str) -> str:
    """Whose data key seals an employer's details (``services.runtime.datakeys``): never a
    member's id, so erasing an employer erases no member and erasing a member no employer."""
    return f"employer:{employer_id}"


class EmployerDetails(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Who the employer is, as ``RegisterEmployer.details`` holds it sealed: shown to the
    worker only once she accepted the employer's job."""

    name: Text
    address: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
    phone: Annotated[str, msgspec.Meta(min_length=3, max_length=40)] | None = None
    email: Annotated[str, msgspec.Meta(min_length=3, max_length=200)] | None = None


class Grievance(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """What a worker complains of, as ``FileGrievance.grievance`` holds it sealed with her
    own data key: her cooperative's admins open it, nobody else."""

    text: Annotated[str, msgspec.Meta(min_length=1, max_length=5000)]


class Shift(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Hours of work: from ``starts_at`` to ``ends_at`` (UTC, at most 16 hours)."""

    starts_at: UtcDateTime
    ends_at: UtcDateTime


class LanguageNeed(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A language the job needs, at least at a CEFR level: ``es`` B1 (a tag without a
    region is met in any region's variety; ``es-MX`` only in that one)."""

    language: Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")]
    level: Cefr


class DeclineReason(StrEnum):
    """Why she declined an offer (she need not say)."""

    NOT_AVAILABLE = "not_available"
    WAGE = "wage"
    PLACE = "place"
    HOURS = "hours"
    TERMS = "terms"
    OTHER = "other"
    UNSAID = "unsaid"


class PlacementEndReason(StrEnum):
    """How a placement ended."""

    COMPLETED = "completed"  # its last shift was worked
    WORKER_LEFT = "worker_left"
    EMPLOYER_ENDED = "employer_ended"
    COOPERATIVE_ENDED = "cooperative_ended"  # e.g. after a grievance


# -- the cooperative's wage floors ------------------------------------------------------------


@command(SERVICE, "SetWageFloor", key="cooperative_id")
class SetWageFloor(Contract, frozen=True, kw_only=True):
    """Set the least hourly wage the cooperative places anyone at, for an ISCO-08 group (a
    job order's occupation takes the floor of its most specific group that has one: ``5311``,
    else ``531``, ``53``, ``5``). The cooperative is registered (else UnknownCooperative); the
    floor is above zero (else ValidationError). A floor set again replaces the last one for
    job orders posted from then on."""

    cooperative_id: Id
    occupation: IscoGroup
    hourly: Money


@event(SERVICE, "WageFloorSet")
class WageFloorSet(Contract, frozen=True, kw_only=True):
    cooperative_id: Id
    occupation: IscoGroup
    hourly: Money
    set_at: UtcDateTime


# -- employers --------------------------------------------------------------------------------


@command(SERVICE, "RegisterEmployer", key="employer_id")
class RegisterEmployer(Contract, frozen=True, kw_only=True):
    """Register an employer client of the cooperative: their details travel sealed with
    their own data key. The cooperative is registered (else UnknownCooperative); the id is
    new (else EmployerAlreadyRegistered)."""

    employer_id: Id
    cooperative_id: Id
    details: Sealed


@event(SERVICE, "EmployerRegistered")
class EmployerRegistered(Contract, frozen=True, kw_only=True):
    employer_id: Id
    cooperative_id: Id
    details: Sealed
    registered_at: UtcDateTime


@command(SERVICE, "EraseEmployer", key="employer_id")
class EraseEmployer(Contract, frozen=True, kw_only=True):
    """Erase an employer's details, when they ask: their data key is destroyed, so every
    copy is noise; their job orders, placements and ratings stay, without a name. The
    employer is registered (else UnknownEmployer) and not erased (else EmployerErased)."""

    employer_id: Id


@event(SERVICE, "EmployerErased")
class EmployerErased(Contract, frozen=True, kw_only=True):
    employer_id: Id
    erased_at: UtcDateTime


# -- the job order ----------------------------------------------------------------------------


class _Job(Contract, frozen=True, kw_only=True):
    job_order_id: Id
    cooperative_id: Id
    employer_id: Id
    occupation: IscoUnit
    country: CountryCode
    locality: Text
    shifts: Annotated[list[Shift], msgspec.Meta(min_length=1, max_length=MAX_SHIFTS)]
    wage: Money  # an hour's
    margin: Money  # an hour's, paid by the employer on top of the wage
    languages: Annotated[list[LanguageNeed], msgspec.Meta(max_length=10)] = []
    skills: Annotated[list[Skill], msgspec.Meta(max_length=20)] = []
    terms_sha256: Sha256
    answer_hours: Annotated[int, msgspec.Meta(ge=1, le=720)] = DEFAULT_ANSWER_HOURS
    for_node: NodeId | None = None
    for_cooperative_id: Id | None = None


@command(SERVICE, "PostJobOrder", key="job_order_id")
class PostJobOrder(_Job, frozen=True, kw_only=True):
    """Post a job for an employer client: an ISCO-08 occupation, where (country and
    locality: a town or district, never an address), its shifts, the hourly wage (at or
    above the cooperative's floor for the occupation: else NoWageFloor, BelowWageFloor) and
    the cooperative's hourly margin the employer pays on top (disclosed to both; in the
    wage's currency, else CurrencyMismatch), the languages at CEFR levels and the skills (ESCO
    skills or ISCO-08 groups, each shown by a certificate) it needs, and the SHA-256 of the
    written terms of employment (ILO C189, Art. 7). A home cooperative may post for an
    employer abroad, the client of a host cooperative (``for_node``, ``for_cooperative_id``),
    so that a migrant is recruited through cooperatives from the start. Shifts are all still
    to come, do not overlap, each ends after it starts and lasts at most 16 hours, all within
    a year (else ValidationError). The employer is the cooperative's (else UnknownEmployer,
    NotYourClient, EmployerErased); the id is new (else JobOrderAlreadyPosted)."""


@event(SERVICE, "JobOrderPosted")
class JobOrderPosted(_Job, frozen=True, kw_only=True):
    """The job as posted, its shifts in order, with what the service worked out."""

    minutes: int  # of all its shifts
    floor: Money  # the floor it was checked against
    posted_at: UtcDateTime


@command(SERVICE, "OfferJob", key="job_order_id")
class OfferJob(Contract, frozen=True, kw_only=True):
    """Offer the job to one worker: she is an active member of the job order's cooperative
    (else NotAMember) and her verified records (certificates issued here, records imported
    from other nodes) show every language level and skill it needs (else
    RequirementsNotMet). She sees it first, without the employer's name, and has the job
    order's ``answer_hours`` to accept or decline. One offer at a time (else
    OfferOutstanding); the job order is open (else UnknownJobOrder, JobOrderClosed,
    JobOrderFilled) and its employer not erased (else EmployerErased)."""

    job_order_id: Id
    member_id: Id


@event(SERVICE, "JobOffered")
class JobOffered(Contract, frozen=True, kw_only=True):
    job_order_id: Id
    member_id: Id
    offered_at: UtcDateTime
    expires_at: UtcDateTime


@command(SERVICE, "DeclineOffer", key="job_order_id")
class DeclineOffer(Contract, frozen=True, kw_only=True):
    """She declines the offer (the job order may then be offered to another). An offer to
    her is open (else NoOffer, OfferExpired)."""

    job_order_id: Id
    member_id: Id
    reason: DeclineReason = DeclineReason.UNSAID


@event(SERVICE, "OfferDeclined")
class OfferDeclined(Contract, frozen=True, kw_only=True):
    job_order_id: Id
    member_id: Id
    reason: DeclineReason
    declined_at: UtcDateTime


@command(SERVICE, "WithdrawJobOrder", key="job_order_id")
class WithdrawJobOrder(Contract, frozen=True, kw_only=True):
    """Withdraw a job order no placement was confirmed for (else JobOrderFilled: end the
    placement instead); an offer open to a worker lapses with it. It is posted (else
    UnknownJobOrder) and open (else JobOrderClosed)."""

    job_order_id: Id
    reason: Reason


@event(SERVICE, "JobOrderWithdrawn")
class JobOrderWithdrawn(Contract, frozen=True, kw_only=True):
    job_order_id: Id
    reason: Reason
    withdrawn_at: UtcDateTime


@command(SERVICE, "ConfirmPlacement", key="job_order_id")
class ConfirmPlacement(Contract, frozen=True, kw_only=True):
    """Her calendar booked the job's shifts: the placement is confirmed, and from now on the
    two sides see who the other is (sent by the placer). An offer to her was open when she
    accepted (``accepted_at``), whatever came after, but a decline (else NoOffer,
    OfferExpired; JobOrderClosed if the job order was withdrawn); one confirmed for her
    already is AlreadyConfirmed, for another JobOrderFilled."""

    job_order_id: Id
    member_id: Id
    account_id: Id
    accepted_at: UtcDateTime


@event(SERVICE, "PlacementConfirmed")
class PlacementConfirmed(Contract, frozen=True, kw_only=True):
    job_order_id: Id
    member_id: Id
    account_id: Id  # her savings account, which her wages are credited to
    accepted_at: UtcDateTime
    confirmed_at: UtcDateTime


@command(SERVICE, "SettleWages", key="job_order_id")
class SettleWages(Contract, frozen=True, kw_only=True):
    """Settle the wages of the days ``worked_from``-``worked_to``: the ``minutes`` she
    worked, and what the employer paid the cooperative for them, which is the wage and the
    margin for those minutes (less is RecruitmentFeeForbidden: the shortfall would fall on
    her; more is PaymentMismatch; another currency CurrencyMismatch). She is credited the
    whole wage into her account. The placement is confirmed (else NotPlaced); the days
    came (else ValidationError), lie within the placement (else PlacementEnded: after its
    last day) and no earlier settlement covers any of them (else PeriodSettled); the id is
    new (else PeriodSettled)."""

    job_order_id: Id
    settlement_id: Id
    worked_from: PastDay
    worked_to: PastDay
    minutes: Minutes
    employer_paid: Money


@event(SERVICE, "WagesSettled")
class WagesSettled(Contract, frozen=True, kw_only=True):
    """``wage`` is the whole wage for ``minutes`` (rounded up to the minor unit, in her
    favour), all of it credited to her account; ``margin`` the cooperative's (rounded down);
    the employer paid exactly both."""

    job_order_id: Id
    settlement_id: Id
    member_id: Id
    account_id: Id
    worked_from: dt.date
    worked_to: dt.date
    minutes: int
    hourly_wage: Money
    wage: Money
    margin: Money
    employer_paid: Money
    settled_at: UtcDateTime


@command(SERVICE, "ConfirmWagePaid", key="job_order_id")
class ConfirmWagePaid(Contract, frozen=True, kw_only=True):
    """Her savings account credited a settlement's wage (sent by the placer). It is settled
    (else UnknownSettlement) and not yet credited or returned (else PeriodSettled)."""

    job_order_id: Id
    settlement_id: Id
    account_id: Id  # the account that credited it


@event(SERVICE, "WagePaid")
class WagePaid(Contract, frozen=True, kw_only=True):
    job_order_id: Id
    settlement_id: Id
    account_id: Id
    amount: Money
    paid_total: Money  # all wages credited to her for this placement so far


@command(SERVICE, "ReturnWagePayment", key="job_order_id")
class ReturnWagePayment(Contract, frozen=True, kw_only=True):
    """Her account refused a settlement's wage for good (closed, another currency): the
    money is held for her by the cooperative until her cooperative names another account
    (``RedirectWages``). Same rules as ConfirmWagePaid."""

    job_order_id: Id
    settlement_id: Id
    account_id: Id  # the account that refused it
    reason: Reason


@event(SERVICE, "WagePaymentReturned")
class WagePaymentReturned(Contract, frozen=True, kw_only=True):
    job_order_id: Id
    settlement_id: Id
    account_id: Id
    amount: Money
    reason: Reason


@command(SERVICE, "RedirectWages", key="job_order_id")
class RedirectWages(Contract, frozen=True, kw_only=True):
    """Credit her wages settled from now on, and every one her account refused, to another
    open savings account of hers at this node (else NotHerAccount). A settlement on its way
    to an account stays on its way there. The placement is confirmed (else NotPlaced)."""

    job_order_id: Id
    account_id: Id


@event(SERVICE, "WagesRedirected")
class WagesRedirected(Contract, frozen=True, kw_only=True):
    job_order_id: Id
    account_id: Id
    redirected_at: UtcDateTime


@command(SERVICE, "EndPlacement", key="job_order_id")
class EndPlacement(Contract, frozen=True, kw_only=True):
    """End the placement: completed after its last shift, or early (she left, the employer
    or the cooperative ended it); her shifts after ``ended_on`` are free again. What she
    worked enters her portable record under her ``work`` consent. The placement is confirmed
    (else NotPlaced) and not ended (else PlacementEnded); ``ended_on`` is not before its
    first shift nor before the last day settled (else ValidationError); every settlement is
    credited (else SettlementPending: a record never shows work unpaid as paid). Days up to
    ``ended_on`` may still be settled after it."""

    job_order_id: Id
    ended_on: PastDay
    reason: PlacementEndReason


@event(SERVICE, "PlacementEnded")
class PlacementEnded(Contract, frozen=True, kw_only=True):
    """What her record shows of the work: the occupation, the cooperative, the period (from
    the UTC day of its first shift), the minutes settled by then and how it ended."""

    job_order_id: Id
    member_id: Id
    cooperative_id: Id
    occupation: IscoUnit
    country: CountryCode
    started_on: dt.date
    ended_on: dt.date
    minutes: int  # settled
    reason: PlacementEndReason
    ended_at: UtcDateTime


@command(SERVICE, "RateEmployer", key="job_order_id")
class RateEmployer(Contract, frozen=True, kw_only=True):
    """She rates the employer, 1 to 5 stars, once per placement (else AlreadyRated), after
    it ended (else PlacementNotEnded). An employer's rating is shown once it has 5 or more."""

    job_order_id: Id
    member_id: Id
    stars: Stars


@event(SERVICE, "EmployerRated")
class EmployerRated(Contract, frozen=True, kw_only=True):
    job_order_id: Id
    employer_id: Id
    stars: Stars
    rated_at: UtcDateTime


@command(SERVICE, "FileGrievance", key="job_order_id")
class FileGrievance(Contract, frozen=True, kw_only=True):
    """She files a grievance about the placement, sealed with her own data key: her
    cooperative's admins open it, nobody else (the employer never). The placement is hers
    (else NotPlaced, NotHerPlacement); the id is new (else GrievanceAlreadyFiled)."""

    job_order_id: Id
    member_id: Id
    grievance_id: Id
    grievance: Sealed


@event(SERVICE, "GrievanceFiled")
class GrievanceFiled(Contract, frozen=True, kw_only=True):
    job_order_id: Id
    member_id: Id
    grievance_id: Id
    grievance: Sealed
    filed_at: UtcDateTime


# -- her calendar -----------------------------------------------------------------------------


@command(SERVICE, "AcceptOffer", key="member_id")
class AcceptOffer(Contract, frozen=True, kw_only=True):
    """She accepts a job offered to her, naming her open savings account at this node, in
    the wage's currency, that her wages are credited to (else NotHerAccount,
    CurrencyMismatch); once (else AlreadyAccepted). The offer is open and the job's first
    shift still to come (else NoOffer, OfferExpired, JobOrderClosed) and none of its shifts overlaps a shift she accepted
    before (else ShiftsOverlap): her calendar has one writer, so of any offers of the same
    hours, however many at once, one is accepted."""

    member_id: Id
    job_order_id: Id
    account_id: Id


@event(SERVICE, "OfferAccepted")
class OfferAccepted(Contract, frozen=True, kw_only=True):
    member_id: Id
    job_order_id: Id
    account_id: Id
    shifts: list[Shift]
    accepted_at: UtcDateTime


@command(SERVICE, "RecordConfirmation", key="member_id")
class RecordConfirmation(Contract, frozen=True, kw_only=True):
    """The job order confirmed the placement she accepted at ``accepted_at`` (sent by the
    placer). That acceptance is on her calendar (else NoOffer), not confirmed yet (else
    AlreadyConfirmed)."""

    member_id: Id
    job_order_id: Id
    accepted_at: UtcDateTime


@event(SERVICE, "BookingConfirmed")
class BookingConfirmed(Contract, frozen=True, kw_only=True):
    member_id: Id
    job_order_id: Id


@command(SERVICE, "ReleaseBooking", key="member_id")
class ReleaseBooking(Contract, frozen=True, kw_only=True):
    """Free her shifts of a job the job order refused to confirm (withdrawn, her offer
    declined or lapsed before she accepted, another's placement: ``code``). Sent by the
    placer, for her acceptance at ``accepted_at``: it is on her calendar (else NoOffer) and
    not confirmed (else AlreadyConfirmed: a confirmed placement is ended, never released).
    (The shifts of a placement that ended are free from the second day after its last day
    without this: her calendar reads the end.)"""

    member_id: Id
    job_order_id: Id
    accepted_at: UtcDateTime
    code: Annotated[str, msgspec.Meta(pattern=r"^[A-Z][A-Za-z0-9]{1,63}$")]


@event(SERVICE, "BookingReleased")
class BookingReleased(Contract, frozen=True, kw_only=True):
    member_id: Id
    job_order_id: Id
    accepted_at: UtcDateTime
    code: str
