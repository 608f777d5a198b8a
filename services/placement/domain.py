"""The placement rules, as pure functions: no I/O; the clock and lookups come in through
``Context``.

Four aggregates at the cooperative's node: its **wage floors** (key ``cooperative_id``), an
**employer** (key ``employer_id``), a **job order** (key ``job_order_id``: its one offer at a
time, its placement, wages, rating and grievances) and a worker's **calendar** (key
``member_id``: the shifts she accepted).

No double booking: she accepts on her calendar, which has one writer, so her accepted shifts
never overlap whatever offers them at once. The job order then confirms the placement (the
placer carries it: ``placer``); if it cannot (withdrawn meanwhile, her offer declined or
lapsed before she accepted), her shifts are released again.

No fee: the worker is credited the whole wage of the minutes she worked, rounded up to the
minor unit; the employer pays exactly the wage and the cooperative's disclosed margin, and a
payment short of that is refused (``RecruitmentFeeForbidden``) rather than taken from her.
"""

from __future__ import annotations

import bisect
import dataclasses
import datetime as dt
import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field

from schemas import placement as p
from schemas.fields import Money
from schemas.matching import freed, overlaps, skill_key, unmet
from schemas.registry import Contract, fields_of
from services.placement.lookups import (
    Accounts,
    Book,
    Certificates,
    Workers,
    apply_to_accounts,
    apply_to_book,
    apply_to_certificates,
    apply_to_cooperatives,
    apply_to_workers,
)
from services.runtime.aggregate import (
    Aggregate,
    Context,
    Lookup,
    Rejected,
    ServiceDefinition,
)

replace = dataclasses.replace

#: The most grievances one placement keeps.
MAX_GRIEVANCES = 50


def wage_for(hourly: Money, minutes: int) -> Money:
    """The whole wage of ``minutes`` at ``hourly``: rounded up to the minor unit, in her
    favour, so she never gets less than the wage."""
    return Money(-(-hourly.amount * minutes // 60), hourly.currency)


def margin_for(hourly: Money, minutes: int) -> Money:
    """The cooperative's margin for ``minutes``: rounded down, in the employer's favour."""
    return Money(hourly.amount * minutes // 60, hourly.currency)


# -- the cooperative's wage floors ------------------------------------------------------------


@dataclass(frozen=True)
class Floors:
    floors: Mapping[str, Money] = field(default_factory=dict)


def decide_floors(state: Floors, command: Contract, context: Context) -> list[Contract]:
    match command:
        case p.SetWageFloor():
            if command.cooperative_id not in context.lookups["cooperatives"]:
                raise Rejected("UnknownCooperative", "no cooperative is registered with this id")
            if command.hourly.amount == 0:
                raise Rejected("ValidationError", "a wage floor is above zero")
            return [p.WageFloorSet(**fields_of(command), set_at=context.now)]
    raise TypeError(f"not a wage floor command: {type(command).__name__}")


def evolve_floors(state: Floors, event: Contract) -> Floors:
    match event:
        case p.WageFloorSet():
            return Floors({**state.floors, event.occupation: event.hourly})
    raise TypeError(f"not a wage floor event: {type(event).__name__}")


# -- employers --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Employer:
    registered: p.EmployerRegistered | None = None
    erased: bool = False


def decide_employer(state: Employer, command: Contract, context: Context) -> list[Contract]:
    match command:
        case p.RegisterEmployer():
            if state.registered is not None:
                raise Rejected("EmployerAlreadyRegistered", "an employer with this id is "
                               "registered")
            if command.cooperative_id not in context.lookups["cooperatives"]:
                raise Rejected("UnknownCooperative", "no cooperative is registered with this id")
            return [p.EmployerRegistered(**fields_of(command), registered_at=context.now)]
        case p.EraseEmployer():
            if state.registered is None:
                raise Rejected("UnknownEmployer", "no employer is registered with this id")
            if state.erased:
                raise Rejected("EmployerErased", "the employer's details were erased already")
            return [p.EmployerErased(employer_id=command.employer_id, erased_at=context.now)]
    raise TypeError(f"not an employer command: {type(command).__name__}")


def evolve_employer(state: Employer, event: Contract) -> Employer:
    match event:
        case p.EmployerRegistered():
            return Employer(registered=event)
        case p.EmployerErased():
            return replace(state, erased=True)
    raise TypeError(f"not an employer event: {type(event).__name__}")


# -- the job order ----------------------------------------------------------------------------


@dataclass(frozen=True)
class JobOrder:
    posted: p.JobOrderPosted | None = None
    offer: p.JobOffered | None = None  # the one awaiting her answer (or lapsed unanswered)
    #: every offer made and not declined: an acceptance in time of one of them is confirmed,
    #: even if the placer brings it after that offer lapsed and the job was offered again
    offers: tuple[p.JobOffered, ...] = ()
    withdrawn: bool = False
    placement: p.PlacementConfirmed | None = None
    account_id: str | None = None  # where her wages go (redirected: another of hers)
    settlements: Mapping[str, p.WagesSettled] = field(default_factory=dict)
    paid: frozenset[str] = frozenset()
    returned: Mapping[str, str] = field(default_factory=dict)  # settlement -> from account
    #: the account each settlement is credited to: the one she had when it was settled; only
    #: one that account refused for good goes to the account of a later redirection, so no
    #: settlement is ever on its way to two accounts
    targets: Mapping[str, str] = field(default_factory=dict)
    paid_total: int = 0
    ended: p.PlacementEnded | None = None
    rated: bool = False
    grievances: frozenset[str] = frozenset()

    @property
    def settled_minutes(self) -> int:
        return sum(x.minutes for x in self.settlements.values())

    @property
    def last_settled(self) -> dt.date | None:
        return max((x.worked_to for x in self.settlements.values()), default=None)

    def unpaid(self) -> list[p.WagesSettled]:
        """Settlements not yet credited to her, in the order settled."""
        return [x for x in self.settlements.values() if x.settlement_id not in self.paid]


def decide(state: JobOrder, command: Contract, context: Context) -> list[Contract]:
    if isinstance(command, p.PostJobOrder):
        return [_post(state, command, context)]
    posted = state.posted
    if posted is None:
        raise Rejected("UnknownJobOrder", "no job order is posted with this id")
    now = context.now
    match command:
        case p.OfferJob():
            _open(state)
            if state.offer is not None and now < state.offer.expires_at:
                raise Rejected("OfferOutstanding", "an offer of this job order awaits its "
                               "worker's answer")
            if posted.employer_id in context.lookups["book"].erased:
                raise Rejected("EmployerErased", "the employer's details were erased: the "
                               "employer is no longer served")
            workers: Workers = context.lookups["workers"]
            if (command.member_id, posted.cooperative_id) not in workers.active:
                raise Rejected("NotAMember", "she is not an active member of the job order's "
                               "cooperative")
            certificates: Certificates = context.lookups["certificates"]
            missing = unmet(posted.languages, [skill_key(x) for x in posted.skills],
                            certificates.evidence(command.member_id)
                            + workers.evidence(command.member_id))
            if missing:
                raise Rejected("RequirementsNotMet", "her verified records do not show: "
                               + ", ".join(missing))
            return [p.JobOffered(job_order_id=posted.job_order_id, member_id=command.member_id,
                                 offered_at=now,
                                 expires_at=now + dt.timedelta(hours=posted.answer_hours))]
        case p.DeclineOffer():
            offer = _offer_to(state, command.member_id)
            if now >= offer.expires_at:
                raise Rejected("OfferExpired", "the offer's time to answer is over")
            return [p.OfferDeclined(job_order_id=posted.job_order_id,
                                    member_id=command.member_id, reason=command.reason,
                                    declined_at=now)]
        case p.WithdrawJobOrder():
            _open(state)
            return [p.JobOrderWithdrawn(job_order_id=posted.job_order_id,
                                        reason=command.reason, withdrawn_at=now)]
        case p.ConfirmPlacement():
            if state.placement is not None:
                if state.placement.member_id == command.member_id:
                    raise Rejected("AlreadyConfirmed", "the placement is confirmed for her")
                raise Rejected("JobOrderFilled", "the placement is another worker's")
            if state.withdrawn:
                raise Rejected("JobOrderClosed", "the job order was withdrawn")
            hers = [o for o in state.offers if o.member_id == command.member_id
                    and o.offered_at <= command.accepted_at]
            if not hers:
                raise Rejected("NoOffer", "no offer of this job order to her was open then")
            if not any(command.accepted_at < o.expires_at for o in hers):
                raise Rejected("OfferExpired", "she accepted after the offer's time was over")
            return [p.PlacementConfirmed(
                job_order_id=posted.job_order_id, member_id=command.member_id,
                account_id=command.account_id, accepted_at=command.accepted_at,
                confirmed_at=now)]
        case p.SettleWages():
            return [_settle(state, command, context)]
        case p.ConfirmWagePaid() | p.ReturnWagePayment():
            settled = state.settlements.get(command.settlement_id)
            if settled is None:
                raise Rejected("UnknownSettlement", "no settlement of this placement has "
                               "this id")
            if command.settlement_id in state.paid or (
                    state.returned.get(command.settlement_id) == command.account_id):
                raise Rejected("PeriodSettled", "this settlement was credited or returned "
                               "already")
            if state.targets.get(command.settlement_id) != command.account_id:
                raise Rejected("PeriodSettled", "this settlement is credited to another "
                               "account")
            if isinstance(command, p.ConfirmWagePaid):
                return [p.WagePaid(job_order_id=posted.job_order_id,
                                   settlement_id=command.settlement_id,
                                   account_id=command.account_id, amount=settled.wage,
                                   paid_total=Money(state.paid_total + settled.wage.amount,
                                                    settled.wage.currency))]
            return [p.WagePaymentReturned(job_order_id=posted.job_order_id,
                                          settlement_id=command.settlement_id,
                                          account_id=command.account_id, amount=settled.wage,
                                          reason=command.reason)]
        case p.RedirectWages():
            placement = _placed(state)
            accounts: Accounts = context.lookups["accounts"]
            if not accounts.hers(command.account_id, placement.member_id):
                raise Rejected("NotHerAccount", "the account is not her open savings account")
            if accounts.opened[command.account_id].currency != posted.wage.currency:
                raise Rejected("CurrencyMismatch", "the account is not in the wage's currency")
            return [p.WagesRedirected(job_order_id=posted.job_order_id,
                                      account_id=command.account_id, redirected_at=now)]
        case p.EndPlacement():
            placement = _placed(state)
            if state.ended is not None:
                raise Rejected("PlacementEnded", "the placement ended already")
            started_on = posted.shifts[0].starts_at.date()
            if command.ended_on < _first_day(posted):
                raise Rejected("ValidationError", "a placement ends no earlier than its first "
                               "shift")
            if state.last_settled is not None and command.ended_on < state.last_settled:
                raise Rejected("ValidationError", "a placement ends no earlier than the last "
                               "day settled")
            if state.unpaid():
                raise Rejected("SettlementPending", "a settlement is not yet credited to her")
            return [p.PlacementEnded(
                job_order_id=posted.job_order_id, member_id=placement.member_id,
                cooperative_id=posted.cooperative_id, occupation=posted.occupation,
                country=posted.country, started_on=started_on, ended_on=command.ended_on,
                minutes=state.settled_minutes, reason=command.reason, ended_at=now)]
        case p.RateEmployer():
            _hers(state, command.member_id)
            if state.ended is None:
                raise Rejected("PlacementNotEnded", "she rates the employer once the placement "
                               "ended")
            if state.rated:
                raise Rejected("AlreadyRated", "she rated the employer for this placement")
            return [p.EmployerRated(job_order_id=posted.job_order_id,
                                    employer_id=posted.employer_id, stars=command.stars,
                                    rated_at=now)]
        case p.FileGrievance():
            _hers(state, command.member_id)
            if command.grievance_id in state.grievances:
                raise Rejected("GrievanceAlreadyFiled", "a grievance with this id was filed")
            if len(state.grievances) >= MAX_GRIEVANCES:
                raise Rejected("ValidationError", f"a placement keeps at most {MAX_GRIEVANCES} "
                               "grievances: her cooperative has them all")
            return [p.GrievanceFiled(**fields_of(command), filed_at=now)]
    raise TypeError(f"not a job order command: {type(command).__name__}")


def evolve(state: JobOrder, event: Contract) -> JobOrder:
    match event:
        case p.JobOrderPosted():
            return JobOrder(posted=event)
        case p.JobOffered():
            return replace(state, offer=event, offers=(*state.offers, event))
        case p.OfferDeclined():
            return replace(state, offer=None, offers=tuple(
                o for o in state.offers if o.member_id != event.member_id))
        case p.JobOrderWithdrawn():
            return replace(state, withdrawn=True, offer=None)
        case p.PlacementConfirmed():
            return replace(state, placement=event, account_id=event.account_id, offer=None)
        case p.WagesSettled():
            return replace(state, settlements={**state.settlements, event.settlement_id: event},
                           targets={**state.targets, event.settlement_id: event.account_id})
        case p.WagePaid():
            returned = {k: v for k, v in state.returned.items() if k != event.settlement_id}
            return replace(state, paid=state.paid | {event.settlement_id}, returned=returned,
                           paid_total=event.paid_total.amount)
        case p.WagePaymentReturned():
            return replace(state, returned={**state.returned,
                                            event.settlement_id: event.account_id})
        case p.WagesRedirected():  # and what her account refused, to the new one
            targets = {sid: (event.account_id if state.returned.get(sid) == account
                             else account) for sid, account in state.targets.items()}
            return replace(state, account_id=event.account_id, targets=targets)
        case p.PlacementEnded():
            return replace(state, ended=event)
        case p.EmployerRated():
            return replace(state, rated=True)
        case p.GrievanceFiled():
            return replace(state, grievances=state.grievances | {event.grievance_id})
    raise TypeError(f"not a job order event: {type(event).__name__}")


def _post(state: JobOrder, command: p.PostJobOrder, context: Context) -> p.JobOrderPosted:
    if state.posted is not None:
        raise Rejected("JobOrderAlreadyPosted", "a job order with this id is posted")
    if command.cooperative_id not in context.lookups["cooperatives"]:
        raise Rejected("UnknownCooperative", "no cooperative is registered with this id")
    book: Book = context.lookups["book"]
    owner = book.employers.get(command.employer_id)
    if owner is None:
        raise Rejected("UnknownEmployer", "no employer is registered with this id")
    if owner != command.cooperative_id:
        raise Rejected("NotYourClient", "the employer is another cooperative's client")
    if command.employer_id in book.erased:
        raise Rejected("EmployerErased", "the employer's details were erased")
    if (command.for_node is None) != (command.for_cooperative_id is None):
        raise Rejected("ValidationError", "for_node and for_cooperative_id go together")
    wage = command.wage
    if command.margin.currency != wage.currency:
        raise Rejected("CurrencyMismatch", "the margin is not in the wage's currency")
    floor = book.floor(command.cooperative_id, command.occupation)
    if floor is None:
        raise Rejected("NoWageFloor", "the cooperative has no wage floor for this occupation")
    if floor.currency != wage.currency:
        raise Rejected("CurrencyMismatch", "the wage is not in the floor's currency")
    if wage.amount < floor.amount:
        raise Rejected("BelowWageFloor", "the wage is below the cooperative's floor for this "
                       "occupation")
    shifts = sorted(command.shifts, key=lambda x: x.starts_at)
    for shift in shifts:
        if not dt.timedelta(0) < shift.ends_at - shift.starts_at <= p.MAX_SHIFT:
            raise Rejected("ValidationError", "a shift ends after it starts, within 16 hours")
    if any(a.ends_at > b.starts_at for a, b in itertools.pairwise(shifts)):
        raise Rejected("ValidationError", "a job order's shifts do not overlap")
    if shifts[-1].ends_at - shifts[0].starts_at > p.MAX_SPAN:
        raise Rejected("ValidationError", "a job order's shifts lie within a year")
    if shifts[0].starts_at <= context.now:
        raise Rejected("ValidationError", "a job order's shifts are all still to come")
    minutes = sum((x.ends_at - x.starts_at) // dt.timedelta(minutes=1) for x in shifts)
    return p.JobOrderPosted(**{**fields_of(command), "shifts": shifts}, minutes=minutes,
                            floor=floor, posted_at=context.now)


def _settle(state: JobOrder, command: p.SettleWages, context: Context) -> p.WagesSettled:
    posted = state.posted
    placement = _placed(state)
    if state.ended is not None and command.worked_to > state.ended.ended_on:
        raise Rejected("PlacementEnded", "the placement ended before these days")
    if command.settlement_id in state.settlements:
        raise Rejected("PeriodSettled", "a settlement with this id was made")
    if command.worked_to < command.worked_from:
        raise Rejected("ValidationError", "worked_to is not before worked_from")
    if command.worked_from < _first_day(posted):
        raise Rejected("ValidationError", "the days settled begin no earlier than the first "
                       "shift")
    days = (command.worked_to - command.worked_from).days + 1
    if command.minutes > days * 24 * 60:
        raise Rejected("ValidationError", "more minutes than the days have")
    if any(x.worked_from <= command.worked_to and command.worked_from <= x.worked_to
           for x in state.settlements.values()):
        raise Rejected("PeriodSettled", "an earlier settlement covers some of these days")
    wage = wage_for(posted.wage, command.minutes)
    margin = margin_for(posted.margin, command.minutes)
    if command.employer_paid.currency != wage.currency:
        raise Rejected("CurrencyMismatch", "the payment is not in the wage's currency")
    owed = wage.amount + margin.amount
    if command.employer_paid.amount < owed:
        raise Rejected("RecruitmentFeeForbidden", "the payment does not cover the wage and the "
                       "margin: the shortfall would fall on the worker, who pays no fee")
    if command.employer_paid.amount > owed:
        raise Rejected("PaymentMismatch", "the payment is more than the wage and the margin")
    return p.WagesSettled(
        job_order_id=posted.job_order_id, settlement_id=command.settlement_id,
        member_id=placement.member_id, account_id=state.account_id or placement.account_id,
        worked_from=command.worked_from, worked_to=command.worked_to, minutes=command.minutes,
        hourly_wage=posted.wage, wage=wage, margin=margin,
        employer_paid=command.employer_paid, settled_at=context.now)


def _first_day(posted: p.JobOrderPosted) -> dt.date:
    """The first day of the job, anywhere: the UTC day its first shift starts, less one
    (a shift in a time zone west of UTC may start the day before)."""
    return posted.shifts[0].starts_at.date() - dt.timedelta(days=1)


def _open(state: JobOrder) -> None:
    if state.placement is not None:
        raise Rejected("JobOrderFilled", "the job order's placement is confirmed")
    if state.withdrawn:
        raise Rejected("JobOrderClosed", "the job order was withdrawn")


def _offer_to(state: JobOrder, member_id: str) -> p.JobOffered:
    if state.offer is None or state.offer.member_id != member_id:
        raise Rejected("NoOffer", "no offer of this job order to her is open")
    return state.offer


def _placed(state: JobOrder) -> p.PlacementConfirmed:
    if state.placement is None:
        raise Rejected("NotPlaced", "no placement of this job order is confirmed")
    return state.placement


def _hers(state: JobOrder, member_id: str) -> p.PlacementConfirmed:
    placement = _placed(state)
    if placement.member_id != member_id:
        raise Rejected("NotHerPlacement", "the placement is another worker's")
    return placement


# -- her calendar -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Booking:
    account_id: str
    accepted_at: dt.datetime
    confirmed: bool = False


@dataclass(frozen=True)
class Calendar:
    bookings: Mapping[str, Booking] = field(default_factory=dict)  # job order -> booking
    #: every shift booked that has not long ended, by start, with its job order
    busy: tuple[tuple[dt.datetime, dt.datetime, str], ...] = ()

    def clash(self, shift: p.Shift, book: Book) -> str | None:
        """The job order whose booked shift overlaps ``shift``, if any. Shifts last at most
        ``MAX_SHIFT``, so only those starting since ``shift`` began less that can. A shift
        of a placement that ended is free again from the second day after its last day
        (``freed``), whatever time zone the days were said in."""
        low = bisect.bisect_left(self.busy, (shift.starts_at - p.MAX_SHIFT,))
        high = bisect.bisect_left(self.busy, (shift.ends_at,))
        for start, end, job in self.busy[low:high]:
            if overlaps(start, end, shift.starts_at, shift.ends_at):
                order = book.orders.get(job)
                if not freed(start, order.ended_on if order is not None else None):
                    return job
        return None


#: How long her calendar keeps a shift after it ended: she accepts only jobs whose shifts
#: are all still to come, so a shift that ended before can overlap none of them (a day's
#: margin for clocks).
KEPT = dt.timedelta(days=1)


def decide_calendar(state: Calendar, command: Contract, context: Context) -> list[Contract]:
    match command:
        case p.AcceptOffer():
            if command.job_order_id in state.bookings:
                raise Rejected("AlreadyAccepted", "she accepted this job already")
            book: Book = context.lookups["book"]
            order = book.orders.get(command.job_order_id)
            if order is None or order.offered_to != command.member_id:
                raise Rejected("NoOffer", "no offer of this job order to her is open")
            if order.closed:
                raise Rejected("JobOrderClosed", "the job order is withdrawn or filled")
            if order.expires_at is not None and context.now >= order.expires_at:
                raise Rejected("OfferExpired", "the offer's time to answer is over")
            if order.shifts[0].starts_at <= context.now:
                raise Rejected("OfferExpired", "the job's first shift has started")
            accounts: Accounts = context.lookups["accounts"]
            if not accounts.hers(command.account_id, command.member_id):
                raise Rejected("NotHerAccount", "the account is not her open savings account")
            if accounts.opened[command.account_id].currency != order.currency:
                raise Rejected("CurrencyMismatch", "the account is not in the wage's currency")
            if any(state.clash(shift, book) for shift in order.shifts):
                raise Rejected("ShiftsOverlap", "she is booked already for some of these hours")
            return [p.OfferAccepted(member_id=command.member_id,
                                    job_order_id=command.job_order_id,
                                    account_id=command.account_id, shifts=list(order.shifts),
                                    accepted_at=context.now)]
        case p.RecordConfirmation() | p.ReleaseBooking():
            booking = state.bookings.get(command.job_order_id)
            if booking is None or booking.accepted_at != command.accepted_at:
                raise Rejected("NoOffer", "she did not accept this job then, or it was "
                               "released")
            if booking.confirmed:
                raise Rejected("AlreadyConfirmed", "the placement is confirmed for her")
            if isinstance(command, p.ReleaseBooking):
                return [p.BookingReleased(**fields_of(command))]
            return [p.BookingConfirmed(member_id=command.member_id,
                                       job_order_id=command.job_order_id)]
    raise TypeError(f"not a calendar command: {type(command).__name__}")


def evolve_calendar(state: Calendar, event: Contract) -> Calendar:
    match event:
        case p.OfferAccepted():
            since = event.accepted_at - KEPT
            busy = sorted([*(b for b in state.busy if b[1] >= since),
                           *((x.starts_at, x.ends_at, event.job_order_id)
                             for x in event.shifts)])
            return Calendar({**state.bookings, event.job_order_id: Booking(
                event.account_id, event.accepted_at)}, tuple(busy))
        case p.BookingConfirmed():
            booking = state.bookings[event.job_order_id]
            return replace(state, bookings={**state.bookings,
                                            event.job_order_id: replace(booking,
                                                                        confirmed=True)})
        case p.BookingReleased():
            return Calendar({k: v for k, v in state.bookings.items()
                             if k != event.job_order_id},
                            tuple(b for b in state.busy if b[2] != event.job_order_id))
    raise TypeError(f"not a calendar event: {type(event).__name__}")


FLOORS = Aggregate(
    name="wage_floors", initial=Floors, decide=decide_floors, evolve=evolve_floors,
    commands=(p.SetWageFloor,), events=(p.WageFloorSet,))
EMPLOYER = Aggregate(
    name="employer", initial=Employer, decide=decide_employer, evolve=evolve_employer,
    commands=(p.RegisterEmployer, p.EraseEmployer),
    events=(p.EmployerRegistered, p.EmployerErased))
JOB_ORDER = Aggregate(
    name="job_order", initial=JobOrder, decide=decide, evolve=evolve,
    commands=(p.PostJobOrder, p.OfferJob, p.DeclineOffer, p.WithdrawJobOrder,
              p.ConfirmPlacement, p.SettleWages, p.ConfirmWagePaid, p.ReturnWagePayment,
              p.RedirectWages, p.EndPlacement, p.RateEmployer, p.FileGrievance),
    events=(p.JobOrderPosted, p.JobOffered, p.OfferDeclined, p.JobOrderWithdrawn,
            p.PlacementConfirmed, p.WagesSettled, p.WagePaid, p.WagePaymentReturned,
            p.WagesRedirected, p.PlacementEnded, p.EmployerRated, p.GrievanceFiled))
CALENDAR = Aggregate(
    name="calendar", initial=Calendar, decide=decide_calendar, evolve=evolve_calendar,
    fold_version=2,  # 2: a booking no longer keeps its shifts (its busy entries do)
    commands=(p.AcceptOffer, p.RecordConfirmation, p.ReleaseBooking),
    events=(p.OfferAccepted, p.BookingConfirmed, p.BookingReleased))

PLACEMENT = ServiceDefinition(
    name=p.SERVICE,
    aggregates=(FLOORS, EMPLOYER, JOB_ORDER, CALENDAR),
    lookups=(
        Lookup("cooperatives", set, apply_to_cooperatives, source="membership"),
        Lookup("workers", Workers, apply_to_workers, source="membership"),
        Lookup("certificates", Certificates, apply_to_certificates, source="training"),
        Lookup("accounts", Accounts, apply_to_accounts, source="savings"),
        Lookup("book", Book, apply_to_book),
    ),
)
