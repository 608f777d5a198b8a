"""The placement rules (issue 26), pure: wage floors, employers, job orders offered one
worker at a time on the strength of her verified certificates (imported records included),
her calendar that never books two overlapping shifts, fee-free settlement, the end of a
placement, her rating and her grievance.

The invariants are checked by hypothesis: whatever settlements are tried (any minutes, any
payment, any rate), she is credited at least the wage of every minute settled and the
employer pays exactly wage and margin; whatever offers she accepts, in whatever order, the
shifts she holds never overlap, and every acceptance refused overlaps one she holds."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from schemas import REGISTRY
from schemas import membership as ms
from schemas import placement as p
from schemas import savings as s
from schemas import training as t
from schemas.fields import Money, Sealed
from schemas.matching import overlaps
from services.placement.domain import (
    PLACEMENT,
    Calendar,
    margin_for,
    wage_for,
)
from services.placement.placer import wages_todo
from services.runtime.aggregate import Context, Rejected

COOP = "00000000-0000-7000-8000-00000000c001"
OTHER_COOP = "00000000-0000-7000-8000-00000000c002"
EMPLOYER = "00000000-0000-7000-8000-00000000e001"
JOB = "00000000-0000-7000-8000-00000000a001"
ROSA, LUZ, ANA = (f"00000000-0000-7000-8000-00000000b00{n}" for n in (1, 2, 3))
ROSA_ACCOUNT = "00000000-0000-7000-8000-00000000d001"
NOW = dt.datetime(2027, 3, 1, 9, 0, tzinfo=dt.UTC)
CHILD_CARE = "http://data.europa.eu/esco/skill/child-care"
SEALED = Sealed(kid="k", iv=bytes(12), ct=bytes(16))
TERMS = "ab" * 32


def usd(amount: int) -> Money:
    return Money(amount, "USD")


def shifts(first: dt.datetime, days: int, hours: int = 8) -> list[p.Shift]:
    return [p.Shift(starts_at=first + dt.timedelta(days=d),
                    ends_at=first + dt.timedelta(days=d, hours=hours)) for d in range(days)]


MONDAY = dt.datetime(2027, 3, 8, 8, 0, tzinfo=dt.UTC)


class Node:
    """The placement service's aggregates and lookups, as the runtime keeps them; other
    services' facts are fed in as their events."""

    def __init__(self) -> None:
        self.now = NOW
        self.lookups = {lookup.name: lookup.initial() for lookup in PLACEMENT.lookups}
        self.states: dict[tuple[str, str], object] = {}
        self.events: list = []

    def fact(self, event) -> None:
        for lookup in PLACEMENT.lookups:
            if lookup.source == event.contract_service:
                lookup.apply(self.lookups[lookup.name], event)

    def send(self, command) -> object:
        aggregate = PLACEMENT.for_command(type(command))
        key = (aggregate.name, REGISTRY.key_of(command))
        state = self.states.get(key) or aggregate.initial()
        [event] = aggregate.decision(state, command, Context(self.now, self.lookups))
        self.states[key] = aggregate.evolve(state, event)
        self.events.append(event)
        for lookup in PLACEMENT.lookups:
            if lookup.source is None:
                lookup.apply(self.lookups[lookup.name], event)
        return event

    def refused(self, command) -> str:
        with pytest.raises(Rejected) as refusal:
            self.send(command)
        return refusal.value.code

    def member(self, member_id: str, cooperative_id: str = COOP) -> None:
        self.fact(ms.MembershipStarted(member_id=member_id, cooperative_id=cooperative_id,
                                       role=ms.MembershipRole.WORKER_MEMBER,
                                       started_on=dt.date(2026, 1, 5),
                                       share_capital_required=usd(0)))

    def account(self, member_id: str, account_id: str, currency: str = "USD") -> None:
        self.fact(s.AccountOpened(account_id=account_id, member_id=member_id,
                                  cooperative_id=COOP, product=s.Product.SAVINGS,
                                  currency=currency))


def certificate(member_id: str, certificate_id: str, *, skills=(), language=None,
                level=None) -> t.CertificateIssued:
    return t.CertificateIssued(
        certificate_id=certificate_id, course_id=certificate_id, member_id=member_id,
        cooperative_id=COOP, kind=t.CourseKind.LANGUAGE if language else
        t.CourseKind.VOCATIONAL, titles=[t.Title(language="es", title="Curso")],
        skills=list(skills), language=language, level=level, hours=40, score=90,
        course_started_on=dt.date(2026, 1, 1), completed_on=dt.date(2026, 2, 1),
        issued_on=dt.date(2026, 2, 1))


def imported(member_id: str, *certificates: ms.ImportedCertificate) -> ms.RecordImported:
    return ms.RecordImported(
        member_id=member_id, credential_id=f"00000000-0000-7000-8000-{member_id[-12:]}",
        issuer_node="es", issued_at=NOW - dt.timedelta(days=30), digest="A" * 43,
        history=ms.ImportedHistory(certificates=list(certificates)))


def post(**changes) -> p.PostJobOrder:
    fields = dict(job_order_id=JOB, cooperative_id=COOP, employer_id=EMPLOYER,
                  occupation="5311", country="US", locality="Oakland, CA",
                  shifts=shifts(MONDAY, 20), wage=usd(2_500), margin=usd(300),
                  languages=[p.LanguageNeed(language="es", level=t.Cefr.B1)],
                  skills=[t.EscoSkill(uri=CHILD_CARE)], terms_sha256=TERMS)
    return p.PostJobOrder(**{**fields, **changes})


@pytest.fixture
def node() -> Node:
    node = Node()
    node.fact(ms.CooperativeRegistered(
        cooperative_id=COOP, name="Mujeres Unidas", country="US",
        kind=ms.CooperativeKind.WORKER, languages=["es", "en"], node="es", currency="USD",
        share_price=usd(1000)))
    node.send(p.RegisterEmployer(employer_id=EMPLOYER, cooperative_id=COOP, details=SEALED))
    node.send(p.SetWageFloor(cooperative_id=COOP, occupation="53", hourly=usd(2_000)))
    for member in (ROSA, LUZ, ANA):
        node.member(member)
    node.account(ROSA, ROSA_ACCOUNT)
    return node


def qualify(node: Node, member_id: str = ROSA) -> None:
    """Her imported record carries Spanish B1 and a child-care certificate."""
    node.fact(imported(member_id, ms.ImportedCertificate(
        title="Español B1", kind="language", issued_on=dt.date(2025, 6, 1), level="B1",
        language="es-EC"), ms.ImportedCertificate(
        title="Cuidado infantil", kind="vocational", issued_on=dt.date(2025, 9, 1),
        skills=[CHILD_CARE])))


def placed(node: Node) -> None:
    qualify(node)
    node.send(post())
    node.send(p.OfferJob(job_order_id=JOB, member_id=ROSA))
    accepted = node.send(p.AcceptOffer(member_id=ROSA, job_order_id=JOB,
                                       account_id=ROSA_ACCOUNT))
    node.send(p.ConfirmPlacement(job_order_id=JOB, member_id=ROSA, account_id=ROSA_ACCOUNT,
                                 accepted_at=accepted.accepted_at))


# -- posting ----------------------------------------------------------------------------------


def test_a_job_order_pays_at_least_the_floor_of_its_most_specific_group(node):
    node.send(p.SetWageFloor(cooperative_id=COOP, occupation="5311", hourly=usd(2_600)))
    assert node.refused(post()) == "BelowWageFloor"  # 5311's floor, not 53's
    posted = node.send(post(wage=usd(2_600)))
    assert posted.floor == usd(2_600) and posted.minutes == 20 * 8 * 60
    assert node.refused(post(job_order_id=ANA, occupation="9111")) == "NoWageFloor"


def test_a_job_order_is_for_the_cooperatives_own_living_client_in_one_currency(node):
    stranger = "00000000-0000-7000-8000-00000000e009"
    assert node.refused(post(employer_id=stranger)) == "UnknownEmployer"
    node.fact(ms.CooperativeRegistered(
        cooperative_id=OTHER_COOP, name="Amigos", country="US",
        kind=ms.CooperativeKind.WORKER, languages=["es"], node="es", currency="USD",
        share_price=usd(1000)))
    node.send(p.RegisterEmployer(employer_id=stranger, cooperative_id=OTHER_COOP,
                                 details=SEALED))
    assert node.refused(post(employer_id=stranger)) == "NotYourClient"
    assert node.refused(post(margin=Money(300, "EUR"))) == "CurrencyMismatch"
    assert node.refused(post(wage=Money(2_500, "EUR"), margin=Money(300, "EUR"))) \
        == "CurrencyMismatch"  # the floor is in dollars
    node.send(p.EraseEmployer(employer_id=EMPLOYER))
    assert node.refused(post()) == "EmployerErased"


@pytest.mark.parametrize("bad", [
    shifts(MONDAY, 1, hours=17),  # too long
    [p.Shift(starts_at=MONDAY, ends_at=MONDAY)],  # empty
    [*shifts(MONDAY, 1), *shifts(MONDAY + dt.timedelta(hours=4), 1)],  # overlapping
    [*shifts(MONDAY, 1), *shifts(MONDAY + dt.timedelta(days=367), 1)],  # over a year
    shifts(NOW - dt.timedelta(days=3), 2),  # all past
])
def test_shifts_are_real_hours_of_work(node, bad):
    assert node.refused(post(shifts=bad)) == "ValidationError"


def test_a_home_cooperative_posts_for_a_host_cooperatives_client(node):
    posted = node.send(post(for_node="us", for_cooperative_id=OTHER_COOP))
    assert (posted.for_node, posted.for_cooperative_id) == ("us", OTHER_COOP)
    assert node.refused(post(job_order_id=ANA, for_node="us")) == "ValidationError"


# -- matching from verified facts -------------------------------------------------------------


def test_of_three_members_only_the_one_whose_records_show_both_is_offered(node):
    qualify(node, ROSA)
    node.fact(imported(LUZ, ms.ImportedCertificate(  # Spanish, but A2
        title="Español A2", kind="language", issued_on=dt.date(2025, 6, 1), level="A2",
        language="es"), ms.ImportedCertificate(title="Cuidado infantil", kind="vocational",
                                               issued_on=dt.date(2025, 9, 1),
                                               skills=[CHILD_CARE])))
    node.fact(certificate(ANA, "00000000-0000-7000-8000-0000000000f3", language="es",
                          level=t.Cefr.C1))  # no child care
    node.send(post())
    assert node.refused(p.OfferJob(job_order_id=JOB, member_id=LUZ)) == "RequirementsNotMet"
    assert node.refused(p.OfferJob(job_order_id=JOB, member_id=ANA)) == "RequirementsNotMet"
    offered = node.send(p.OfferJob(job_order_id=JOB, member_id=ROSA))
    assert offered.expires_at == NOW + dt.timedelta(hours=p.DEFAULT_ANSWER_HOURS)


def test_a_certificate_issued_here_counts_until_it_is_revoked(node):
    cert = "00000000-0000-7000-8000-0000000000f1"
    node.fact(certificate(ANA, cert, skills=[t.IscoOccupation(code="5311")]))
    node.fact(certificate(ANA, "00000000-0000-7000-8000-0000000000f2", language="es-MX",
                          level=t.Cefr.B2))
    node.send(post(skills=[t.IscoOccupation(code="531")]))  # the group: 5311 is in it
    node.fact(t.CertificateRevoked(course_id=cert, certificate_id=cert, member_id=ANA,
                                   reason="issued in error"))
    assert node.refused(p.OfferJob(job_order_id=JOB, member_id=ANA)) == "RequirementsNotMet"
    node.fact(certificate(ANA, "00000000-0000-7000-8000-0000000000f4",
                          skills=[t.IscoOccupation(code="5311")]))
    node.send(p.OfferJob(job_order_id=JOB, member_id=ANA))


def test_a_language_need_with_a_region_is_met_in_that_region_only(node):
    node.fact(certificate(ANA, "00000000-0000-7000-8000-0000000000f2", language="es-MX",
                          level=t.Cefr.B2))
    node.send(post(languages=[p.LanguageNeed(language="es-ES", level=t.Cefr.B1)], skills=[]))
    assert node.refused(p.OfferJob(job_order_id=JOB, member_id=ANA)) == "RequirementsNotMet"


def test_only_a_member_of_the_job_orders_cooperative_is_offered_it(node):
    stranger = "00000000-0000-7000-8000-00000000b009"
    qualify(node, stranger)
    node.send(post())
    assert node.refused(p.OfferJob(job_order_id=JOB, member_id=stranger)) == "NotAMember"


# -- one offer at a time, her answer ----------------------------------------------------------


def test_one_offer_at_a_time_until_she_answers_or_it_lapses(node):
    qualify(node, ROSA)
    qualify(node, LUZ)
    node.send(post(answer_hours=24))
    node.send(p.OfferJob(job_order_id=JOB, member_id=ROSA))
    assert node.refused(p.OfferJob(job_order_id=JOB, member_id=LUZ)) == "OfferOutstanding"
    assert node.refused(p.DeclineOffer(job_order_id=JOB, member_id=LUZ)) == "NoOffer"
    node.send(p.DeclineOffer(job_order_id=JOB, member_id=ROSA,
                             reason=p.DeclineReason.HOURS))
    node.send(p.OfferJob(job_order_id=JOB, member_id=LUZ))
    node.now += dt.timedelta(hours=24)
    assert node.refused(p.DeclineOffer(job_order_id=JOB, member_id=LUZ)) == "OfferExpired"
    node.send(p.OfferJob(job_order_id=JOB, member_id=ROSA))  # the lapsed one is replaced


def test_she_accepts_on_her_calendar_and_the_job_order_confirms(node):
    qualify(node)
    node.send(post())
    assert node.refused(p.AcceptOffer(member_id=ROSA, job_order_id=JOB,
                                      account_id=ROSA_ACCOUNT)) == "NoOffer"
    node.send(p.OfferJob(job_order_id=JOB, member_id=ROSA))
    assert node.refused(p.AcceptOffer(member_id=ROSA, job_order_id=JOB,
                                      account_id=LUZ)) == "NotHerAccount"
    accepted = node.send(p.AcceptOffer(member_id=ROSA, job_order_id=JOB,
                                       account_id=ROSA_ACCOUNT))
    assert len(accepted.shifts) == 20
    assert node.refused(p.AcceptOffer(member_id=ROSA, job_order_id=JOB,
                                      account_id=ROSA_ACCOUNT)) == "AlreadyAccepted"
    confirm = p.ConfirmPlacement(job_order_id=JOB, member_id=ROSA, account_id=ROSA_ACCOUNT,
                                 accepted_at=accepted.accepted_at)
    node.send(confirm)
    assert node.refused(confirm) == "AlreadyConfirmed"
    assert node.refused(p.ConfirmPlacement(job_order_id=JOB, member_id=LUZ,
                                           account_id=ROSA_ACCOUNT,
                                           accepted_at=NOW)) == "JobOrderFilled"
    assert node.refused(p.WithdrawJobOrder(job_order_id=JOB, reason="x")) == "JobOrderFilled"
    stale = p.RecordConfirmation(member_id=ROSA, job_order_id=JOB, accepted_at=NOW
                                 - dt.timedelta(days=1))
    assert node.refused(stale) == "NoOffer"  # another acceptance's
    node.send(p.RecordConfirmation(member_id=ROSA, job_order_id=JOB,
                                   accepted_at=accepted.accepted_at))
    assert node.refused(p.ReleaseBooking(member_id=ROSA, job_order_id=JOB,
                                         accepted_at=accepted.accepted_at,
                                         code="JobOrderClosed")) == "AlreadyConfirmed"


def test_an_acceptance_after_the_offer_lapsed_or_was_withdrawn_is_not_confirmed(node):
    qualify(node)
    node.send(post(answer_hours=1))
    node.send(p.OfferJob(job_order_id=JOB, member_id=ROSA))
    late = p.ConfirmPlacement(job_order_id=JOB, member_id=ROSA, account_id=ROSA_ACCOUNT,
                              accepted_at=NOW + dt.timedelta(hours=1))
    assert node.refused(late) == "OfferExpired"
    node.now += dt.timedelta(hours=1)
    assert node.refused(p.AcceptOffer(member_id=ROSA, job_order_id=JOB,
                                      account_id=ROSA_ACCOUNT)) == "OfferExpired"
    node.send(p.WithdrawJobOrder(job_order_id=JOB, reason="the family moved"))
    assert node.refused(p.ConfirmPlacement(job_order_id=JOB, member_id=ROSA,
                                           account_id=ROSA_ACCOUNT,
                                           accepted_at=NOW)) == "JobOrderClosed"


# -- no double booking ------------------------------------------------------------------------


def test_of_fifty_offers_of_the_same_hours_she_holds_one(node):
    qualify(node)
    jobs = [f"00000000-0000-7000-8000-0000000a{n:04d}" for n in range(50)]
    for n, job in enumerate(jobs):  # each a day's shift; all overlap Monday 12:00-13:00
        start = MONDAY + dt.timedelta(minutes=n)
        node.send(post(job_order_id=job, shifts=[p.Shift(starts_at=start,
                                                         ends_at=start + dt.timedelta(
                                                             hours=5))]))
        node.send(p.OfferJob(job_order_id=job, member_id=ROSA))
    answers = []
    for job in reversed(jobs):
        try:
            node.send(p.AcceptOffer(member_id=ROSA, job_order_id=job, account_id=ROSA_ACCOUNT))
            answers.append("accepted")
        except Rejected as refusal:
            answers.append(refusal.code)
    assert answers.count("accepted") == 1 and answers.count("ShiftsOverlap") == 49
    # the next day is free
    node.send(post(job_order_id=ANA, shifts=shifts(MONDAY + dt.timedelta(days=1), 1)))
    node.send(p.OfferJob(job_order_id=ANA, member_id=ROSA))
    node.send(p.AcceptOffer(member_id=ROSA, job_order_id=ANA, account_id=ROSA_ACCOUNT))


def test_released_shifts_are_free_again_and_an_ended_placement_frees_the_days_after(node):
    placed(node)  # shifts every day from MONDAY, 20 days
    node.now = MONDAY + dt.timedelta(days=3, hours=10)
    node.send(p.EndPlacement(job_order_id=JOB, ended_on=(MONDAY + dt.timedelta(days=3)).date(),
                             reason=p.PlacementEndReason.WORKER_LEFT))
    # the day after its last day may be that day somewhere west of UTC: still hers
    day_after, later = "00000000-0000-7000-8000-0000000a9998", "00000000-0000-7000-8000-0000000a9999"
    node.send(post(job_order_id=day_after, shifts=shifts(MONDAY + dt.timedelta(days=4), 2)))
    node.send(p.OfferJob(job_order_id=day_after, member_id=ROSA))
    assert node.refused(p.AcceptOffer(member_id=ROSA, job_order_id=day_after,
                                      account_id=ROSA_ACCOUNT)) == "ShiftsOverlap"
    node.send(post(job_order_id=later, shifts=shifts(MONDAY + dt.timedelta(days=5), 3)))
    node.send(p.OfferJob(job_order_id=later, member_id=ROSA))
    accepted = node.send(p.AcceptOffer(member_id=ROSA, job_order_id=later,
                                       account_id=ROSA_ACCOUNT))
    node.send(p.ReleaseBooking(member_id=ROSA, job_order_id=later,
                               accepted_at=accepted.accepted_at, code="JobOrderClosed"))
    calendar: Calendar = node.states[("calendar", ROSA)]
    assert set(calendar.bookings) == {JOB}
    assert len(calendar.busy) == 17  # the three days that ended before she accepted: let go


def test_an_acceptance_in_time_is_confirmed_though_the_offer_lapsed_and_went_to_another(node):
    qualify(node, ROSA)
    qualify(node, LUZ)
    node.send(post(answer_hours=1))
    node.send(p.OfferJob(job_order_id=JOB, member_id=ROSA))
    accepted = node.send(p.AcceptOffer(member_id=ROSA, job_order_id=JOB,
                                       account_id=ROSA_ACCOUNT))
    node.now += dt.timedelta(hours=2)  # the placer was slow; the job went to Luz meanwhile
    node.send(p.OfferJob(job_order_id=JOB, member_id=LUZ))
    node.send(p.ConfirmPlacement(job_order_id=JOB, member_id=ROSA, account_id=ROSA_ACCOUNT,
                                 accepted_at=accepted.accepted_at))
    assert node.refused(p.ConfirmPlacement(job_order_id=JOB, member_id=LUZ,
                                           account_id=ROSA_ACCOUNT,
                                           accepted_at=node.now)) == "JobOrderFilled"


def test_a_job_is_posted_before_its_first_shift_and_accepted_before_it_starts(node):
    qualify(node)
    assert node.refused(post(shifts=shifts(NOW - dt.timedelta(hours=1), 3))) == \
        "ValidationError"
    node.send(post(answer_hours=720))
    node.send(p.OfferJob(job_order_id=JOB, member_id=ROSA))
    node.now = MONDAY
    assert node.refused(p.AcceptOffer(member_id=ROSA, job_order_id=JOB,
                                      account_id=ROSA_ACCOUNT)) == "OfferExpired"


def test_an_erased_employer_or_member_is_offered_nothing(node):
    qualify(node)
    node.send(post())
    node.send(p.EraseEmployer(employer_id=EMPLOYER))
    assert node.refused(p.OfferJob(job_order_id=JOB, member_id=ROSA)) == "EmployerErased"
    other = "00000000-0000-7000-8000-00000000e002"
    node.send(p.RegisterEmployer(employer_id=other, cooperative_id=COOP, details=SEALED))
    node.send(post(job_order_id=LUZ, employer_id=other))
    node.fact(ms.MemberErased(member_id=ROSA))
    assert node.refused(p.OfferJob(job_order_id=LUZ, member_id=ROSA)) == "NotAMember"


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 200), st.integers(1, 40)), min_size=1, max_size=25))
def test_her_accepted_shifts_never_overlap(offers):
    """Each offer a shift (start hour, length in quarter hours), accepted in that order:
    what she holds never overlaps, and every refusal overlaps something she holds."""
    node = Node()
    node.fact(ms.CooperativeRegistered(
        cooperative_id=COOP, name="Mujeres Unidas", country="US",
        kind=ms.CooperativeKind.WORKER, languages=["es"], node="es", currency="USD",
        share_price=usd(1000)))
    node.send(p.RegisterEmployer(employer_id=EMPLOYER, cooperative_id=COOP, details=SEALED))
    node.send(p.SetWageFloor(cooperative_id=COOP, occupation="5", hourly=usd(2_000)))
    node.member(ROSA)
    node.account(ROSA, ROSA_ACCOUNT)
    held: list[p.Shift] = []
    for n, (hour, quarters) in enumerate(offers):
        job = f"00000000-0000-7000-8000-0000000b{n:04d}"
        start = MONDAY + dt.timedelta(hours=hour)
        shift = p.Shift(starts_at=start, ends_at=start + dt.timedelta(minutes=15 * quarters))
        node.send(post(job_order_id=job, shifts=[shift], languages=[], skills=[]))
        node.send(p.OfferJob(job_order_id=job, member_id=ROSA))
        try:
            node.send(p.AcceptOffer(member_id=ROSA, job_order_id=job, account_id=ROSA_ACCOUNT))
            assert not any(overlaps(shift.starts_at, shift.ends_at, x.starts_at, x.ends_at)
                           for x in held)
            held.append(shift)
        except Rejected as refusal:
            assert refusal.code == "ShiftsOverlap"
            assert any(overlaps(shift.starts_at, shift.ends_at, x.starts_at, x.ends_at)
                       for x in held)


# -- fee-free settlement ----------------------------------------------------------------------


def settle(settlement_id: str, first: int, last: int, minutes: int, paid: int,
           currency: str = "USD") -> p.SettleWages:
    day = MONDAY.date()
    return p.SettleWages(job_order_id=JOB, settlement_id=settlement_id,
                         worked_from=day + dt.timedelta(days=first),
                         worked_to=day + dt.timedelta(days=last), minutes=minutes,
                         employer_paid=Money(paid, currency))


def test_she_is_credited_the_whole_wage_and_nothing_is_taken_from_it(node):
    placed(node)
    node.now = MONDAY + dt.timedelta(days=7)
    week = 5 * 8 * 60
    wage, margin = wage_for(usd(2_500), week), margin_for(usd(300), week)
    assert (wage, margin) == (usd(100_000), usd(12_000))
    assert node.refused(settle(ANA, 0, 6, week, 111_999)) == "RecruitmentFeeForbidden"
    assert node.refused(settle(ANA, 0, 6, week, 100_000)) == "RecruitmentFeeForbidden"
    assert node.refused(settle(ANA, 0, 6, week, 112_001)) == "PaymentMismatch"
    assert node.refused(settle(ANA, 0, 6, week, 112_000, "EUR")) == "CurrencyMismatch"
    settled = node.send(settle(ANA, 0, 6, week, 112_000))
    assert (settled.wage, settled.margin, settled.account_id) == (wage, margin, ROSA_ACCOUNT)
    assert node.refused(settle(LUZ, 6, 7, 60, 2_800)) == "PeriodSettled"
    assert node.refused(p.EndPlacement(job_order_id=JOB, ended_on=node.now.date(),
                                       reason=p.PlacementEndReason.COMPLETED)) == "SettlementPending"
    paid = node.send(p.ConfirmWagePaid(job_order_id=JOB, settlement_id=ANA,
                                       account_id=ROSA_ACCOUNT))
    assert paid.amount == wage and paid.paid_total == wage


def test_a_minute_is_paid_rounded_up_in_her_favour(node):
    placed(node)
    node.now = MONDAY + dt.timedelta(days=1)
    settled = node.send(settle(ANA, 0, 0, 7, wage_for(usd(2_500), 7).amount
                               + margin_for(usd(300), 7).amount))
    assert settled.wage == usd(292) and settled.margin == usd(35)  # 291.67 and 35.0


def test_a_returned_wage_is_paid_again_to_the_account_she_names(node):
    placed(node)
    node.now = MONDAY + dt.timedelta(days=7)
    node.send(settle(ANA, 0, 6, 60, 2_800))
    node.send(p.ReturnWagePayment(job_order_id=JOB, settlement_id=ANA,
                                  account_id=ROSA_ACCOUNT, reason="AccountClosed"))
    assert node.refused(p.ReturnWagePayment(job_order_id=JOB, settlement_id=ANA,
                                            account_id=ROSA_ACCOUNT,
                                            reason="AccountClosed")) == "PeriodSettled"
    second = "00000000-0000-7000-8000-00000000d002"
    assert node.refused(p.RedirectWages(job_order_id=JOB, account_id=second)) \
        == "NotHerAccount"
    node.account(ROSA, second)
    node.send(p.RedirectWages(job_order_id=JOB, account_id=second))
    paid = node.send(p.ConfirmWagePaid(job_order_id=JOB, settlement_id=ANA, account_id=second))
    assert paid.account_id == second and paid.amount == usd(2_500)


def test_a_redirection_never_sends_a_wage_on_its_way_to_a_second_account(node):
    """The placer credited the settlement to her first account and died before recording
    it; her cooperative then redirects her wages: the settlement still goes to the first
    account (which answers that it has it), never to the second as well."""
    placed(node)
    node.now = MONDAY + dt.timedelta(days=7)
    node.send(settle(ANA, 0, 6, 60, 2_800))
    second = "00000000-0000-7000-8000-00000000d002"
    node.account(ROSA, second)
    node.send(p.RedirectWages(job_order_id=JOB, account_id=second))
    state = node.states[("job_order", JOB)]
    assert [(x.settlement_id, account) for x, account in wages_todo(state)] == [
        (ANA, ROSA_ACCOUNT)]
    assert node.refused(p.ConfirmWagePaid(job_order_id=JOB, settlement_id=ANA,
                                          account_id=second)) == "PeriodSettled"
    node.send(settle(LUZ, 7, 7, 60, 2_800))  # settled after: to the second account
    assert [account for _, account in wages_todo(node.states[("job_order", JOB)])] == [
        ROSA_ACCOUNT, second]


def test_the_end_of_a_placement_says_what_she_worked_and_then_she_rates(node):
    placed(node)
    assert node.refused(p.RateEmployer(job_order_id=JOB, member_id=ROSA, stars=5)) \
        == "PlacementNotEnded"
    node.now = MONDAY + dt.timedelta(days=28)
    for week in range(4):
        sid = f"00000000-0000-7000-8000-0000000c000{week}"
        node.send(settle(sid, 7 * week, 7 * week + 6, 2_400, 112_000))
        node.send(p.ConfirmWagePaid(job_order_id=JOB, settlement_id=sid,
                                    account_id=ROSA_ACCOUNT))
    ended = node.send(p.EndPlacement(job_order_id=JOB, ended_on=node.now.date(),
                                     reason=p.PlacementEndReason.COMPLETED))
    assert (ended.member_id, ended.occupation, ended.minutes) == (ROSA, "5311", 4 * 2_400)
    assert ended.started_on == MONDAY.date() and ended.ended_on == node.now.date()
    node.now += dt.timedelta(days=2)
    assert node.refused(settle(LUZ, 29, 29, 60, 2_800)) == "PlacementEnded"
    assert node.refused(p.RateEmployer(job_order_id=JOB, member_id=LUZ, stars=5)) \
        == "NotHerPlacement"
    rated = node.send(p.RateEmployer(job_order_id=JOB, member_id=ROSA, stars=4))
    assert rated.employer_id == EMPLOYER
    assert node.refused(p.RateEmployer(job_order_id=JOB, member_id=ROSA, stars=1)) \
        == "AlreadyRated"
    filed = node.send(p.FileGrievance(job_order_id=JOB, member_id=ROSA, grievance_id=LUZ,
                                      grievance=SEALED))
    assert filed.grievance == SEALED
    assert node.refused(p.FileGrievance(job_order_id=JOB, member_id=LUZ, grievance_id=ANA,
                                        grievance=SEALED)) == "NotHerPlacement"


def test_no_contract_has_a_field_for_a_fee_to_the_worker():
    for wire_type, cls in REGISTRY.types().items():
        if wire_type.startswith("coop.placement."):
            assert not [f for f in cls.__struct_fields__ if "fee" in f or "deduct" in f], \
                wire_type


class Settling(RuleBasedStateMachine):
    """Any settlements, payments, refusals, lost replies and redirections of one placement,
    at any rates, with the placer's steps as it takes them (``wages_todo``) and the savings
    accounts as they answer (a settlement an account credited is never credited there
    again): she is never credited less than the wage of the minutes settled, and no
    settlement is ever credited to two accounts."""

    ACCOUNTS = (ROSA_ACCOUNT, "00000000-0000-7000-8000-00000000d002",
                "00000000-0000-7000-8000-00000000d003")

    def __init__(self) -> None:
        super().__init__()
        self.node = Node()
        self.node.fact(ms.CooperativeRegistered(
            cooperative_id=COOP, name="Mujeres Unidas", country="US",
            kind=ms.CooperativeKind.WORKER, languages=["es"], node="es", currency="USD",
            share_price=usd(1000)))
        self.node.send(p.RegisterEmployer(employer_id=EMPLOYER, cooperative_id=COOP,
                                          details=SEALED))
        self.node.send(p.SetWageFloor(cooperative_id=COOP, occupation="5", hourly=usd(1)))
        self.node.member(ROSA)
        for account in self.ACCOUNTS:
            self.node.account(ROSA, account)
        self.started = False
        self.n = 0
        self.credited: dict[str, set[str]] = {}  # settlement -> accounts that credited it

    def _try(self, command) -> None:
        try:
            self.node.send(command)
        except Rejected:
            pass

    @rule(wage=st.integers(1, 10**7), margin=st.integers(0, 10**6))
    def place(self, wage, margin):
        if self.started:
            return
        self.started = True
        self.node.send(post(wage=usd(wage), margin=usd(margin), languages=[], skills=[]))
        self.node.send(p.OfferJob(job_order_id=JOB, member_id=ROSA))
        accepted = self.node.send(p.AcceptOffer(member_id=ROSA, job_order_id=JOB,
                                                account_id=ROSA_ACCOUNT))
        self.node.send(p.ConfirmPlacement(job_order_id=JOB, member_id=ROSA,
                                          account_id=ROSA_ACCOUNT,
                                          accepted_at=accepted.accepted_at))
        self.node.now = MONDAY + dt.timedelta(days=60)

    @rule(first=st.integers(0, 40), days=st.integers(0, 6), minutes=st.integers(1, 5000),
          paid=st.integers(0, 10**11), exact=st.booleans())
    def settle(self, first, days, minutes, paid, exact):
        self.n += 1
        sid = f"00000000-0000-7000-8000-0000000e{self.n:04d}"
        state = self.node.states.get(("job_order", JOB))
        if exact and state is not None and state.posted is not None:
            paid = (wage_for(state.posted.wage, minutes).amount
                    + margin_for(state.posted.margin, minutes).amount)
        self._try(settle(sid, first, first + days, minutes, paid))

    @rule(data=st.data(), outcome=st.sampled_from(["credited", "reply lost", "refused"]))
    def placer(self, data, outcome):
        """One credit the placer makes, and what it records after: credited, nothing (it
        died, or the reply was lost), or returned (the account refused it for good)."""
        state = self.node.states.get(("job_order", JOB))
        todo = wages_todo(state) if state is not None and state.placement else []
        if not todo:
            return
        settled, account = data.draw(st.sampled_from(todo))
        sid = settled.settlement_id
        took = account in self.credited.get(sid, set())  # WageAlreadyReceived: credited
        if outcome == "refused" and not took:
            self._try(p.ReturnWagePayment(job_order_id=JOB, settlement_id=sid,
                                          account_id=account, reason="AccountClosed"))
            return
        self.credited.setdefault(sid, set()).add(account)
        if outcome != "reply lost":
            self._try(p.ConfirmWagePaid(job_order_id=JOB, settlement_id=sid,
                                        account_id=account))

    @rule(n=st.integers(0, 2))
    def redirect(self, n):
        self._try(p.RedirectWages(job_order_id=JOB, account_id=self.ACCOUNTS[n]))

    @rule()
    def end(self):
        self._try(p.EndPlacement(job_order_id=JOB, ended_on=MONDAY.date() + dt.timedelta(
            days=50), reason=p.PlacementEndReason.WORKER_LEFT))

    @invariant()
    def never_less_than_the_wage_and_never_twice(self):
        settled = {e.settlement_id: e for e in self.node.events
                   if isinstance(e, p.WagesSettled)}
        for e in settled.values():
            assert e.wage.amount * 60 >= e.hourly_wage.amount * e.minutes
            assert e.employer_paid.amount == e.wage.amount + e.margin.amount
        assert all(len(accounts) <= 1 for accounts in self.credited.values()), self.credited
        paid = [e for e in self.node.events if isinstance(e, p.WagePaid)]
        assert len({e.settlement_id for e in paid}) == len(paid)  # each once
        assert all(e.amount == settled[e.settlement_id].wage for e in paid)
        assert all(e.account_id in self.credited[e.settlement_id] for e in paid)
        events = self.node.events
        ended = next((n for n, e in enumerate(events) if isinstance(e, p.PlacementEnded)), None)
        if ended is not None:  # everything settled before it was credited, whole
            assert {e.settlement_id for e in paid} >= {
                e.settlement_id for e in events[:ended] if isinstance(e, p.WagesSettled)}


TestSettling = Settling.TestCase
TestSettling.settings = settings(max_examples=250, stateful_step_count=20, deadline=None)
