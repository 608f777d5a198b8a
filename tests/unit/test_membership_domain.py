"""Every decision of the membership deciders, given / when / then (pure, no broker)."""

from __future__ import annotations

import datetime as dt

import pytest

from schemas import membership as m
from schemas.fields import Money, Sealed, latest_day
from services.membership.domain import (
    COOPERATIVE,
    MEMBER,
    CooperativeFacts,
    apply_to_cooperatives,
    apply_to_memberships,
    new_cooperatives,
    new_memberships,
)
from services.runtime.aggregate import Context, Rejected, fold

NOW = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)
ROSA = "0192d3c4-0000-7000-8000-00000000a05a"
AHORRO = "0192d3c4-0000-7000-8000-0000000c0e5b"  # a Spanish savings and credit cooperative
ANDINA = "0192d3c4-0000-7000-8000-0000000c0e5c"  # her home cooperative in Ecuador
GROUP = "0192d3c4-0000-7000-8000-00000000960a"
CONSENT = "0192d3c4-0000-7000-8000-0000000c0a5e"
SEAL = Sealed(kid="0192d3c4-0000-7000-8000-00000000001d", iv=bytes(12), ct=bytes(32))
EUR_50 = Money(5000, "EUR")


def context(memberships=(), cooperatives=None) -> Context:
    directory = {AHORRO: CooperativeFacts("EUR", "ES", "es"),
                 ANDINA: CooperativeFacts("USD", "EC", "ec")}
    return Context(NOW, {"memberships": set(memberships),
                         "cooperatives": directory if cooperatives is None else cooperatives})


def given(aggregate, *events):
    return fold(aggregate, list(events))


def when(aggregate, history, command, ctx=None):
    return aggregate.decision(given(aggregate, *history), command, ctx or context())


def rejected(aggregate, history, command, code, ctx=None):
    with pytest.raises(Rejected) as caught:
        when(aggregate, history, command, ctx)
    assert caught.value.code == code
    return caught.value


# -- cooperatives ---------------------------------------------------------------------------

REGISTER_AHORRO = m.RegisterCooperative(
    cooperative_id=AHORRO, name="Ahorro Solidario", country="ES",
    kind=m.CooperativeKind.SAVINGS_AND_CREDIT, languages=["es-ES", "es-EC"], node="es",
    currency="EUR", share_price=EUR_50)
AHORRO_REGISTERED = m.CooperativeRegistered(**{f: getattr(REGISTER_AHORRO, f)
                                               for f in REGISTER_AHORRO.__struct_fields__})
GROUP_CREATED = m.MemberGroupCreated(cooperative_id=AHORRO, group_id=GROUP,
                                     name="Grupo Solidario Quito", kind=m.GroupKind.SOLIDARITY_GROUP)


def test_a_cooperative_is_registered_once():
    assert when(COOPERATIVE, [], REGISTER_AHORRO) == [AHORRO_REGISTERED]
    rejected(COOPERATIVE, [AHORRO_REGISTERED], REGISTER_AHORRO, "CooperativeAlreadyRegistered")


def test_the_share_price_is_in_the_cooperatives_currency():
    usd = m.RegisterCooperative(**{**{f: getattr(REGISTER_AHORRO, f)
                                      for f in REGISTER_AHORRO.__struct_fields__},
                                   "share_price": Money(5000, "USD")})
    rejected(COOPERATIVE, [], usd, "CurrencyMismatch")


def test_an_update_records_only_what_changes():
    update = m.UpdateCooperative(cooperative_id=AHORRO, name="Ahorro Solidario Madrid",
                                 languages=["es-ES", "es-EC"], share_price=Money(6000, "EUR"))
    assert when(COOPERATIVE, [AHORRO_REGISTERED], update) == [m.CooperativeUpdated(
        cooperative_id=AHORRO, name="Ahorro Solidario Madrid", share_price=Money(6000, "EUR"))]


def test_an_update_that_changes_nothing_is_refused():
    same = m.UpdateCooperative(cooperative_id=AHORRO, name="Ahorro Solidario")
    rejected(COOPERATIVE, [AHORRO_REGISTERED], same, "NothingToChange")


def test_an_update_after_an_update_sees_the_new_values():
    renamed = m.CooperativeUpdated(cooperative_id=AHORRO, name="Ahorro Madrid",
                                   languages=["es-ES"])
    state = given(COOPERATIVE, AHORRO_REGISTERED, renamed)
    assert state.name == "Ahorro Madrid" and state.languages == ("es-ES",)
    assert state.share_price == EUR_50
    rejected(COOPERATIVE, [AHORRO_REGISTERED, renamed],
             m.UpdateCooperative(cooperative_id=AHORRO, languages=["es-ES"]), "NothingToChange")


def test_updating_an_unknown_cooperative_or_in_another_currency_is_refused():
    rejected(COOPERATIVE, [], m.UpdateCooperative(cooperative_id=AHORRO, name="x"),
             "UnknownCooperative")
    rejected(COOPERATIVE, [AHORRO_REGISTERED],
             m.UpdateCooperative(cooperative_id=AHORRO, share_price=Money(1, "USD")),
             "CurrencyMismatch")


def test_a_group_is_created_once_in_a_registered_cooperative():
    create = m.CreateMemberGroup(cooperative_id=AHORRO, group_id=GROUP,
                                 name="Grupo Solidario Quito", kind=m.GroupKind.SOLIDARITY_GROUP)
    assert when(COOPERATIVE, [AHORRO_REGISTERED], create) == [GROUP_CREATED]
    rejected(COOPERATIVE, [], create, "UnknownCooperative")
    rejected(COOPERATIVE, [AHORRO_REGISTERED, GROUP_CREATED], create, "GroupAlreadyExists")


def test_only_an_active_member_joins_a_group_and_only_once():
    assign = m.AssignMemberToGroup(cooperative_id=AHORRO, group_id=GROUP, member_id=ROSA)
    assigned = m.MemberAssignedToGroup(cooperative_id=AHORRO, group_id=GROUP, member_id=ROSA)
    history = [AHORRO_REGISTERED, GROUP_CREATED]
    active = context(memberships={(ROSA, AHORRO)})
    assert when(COOPERATIVE, history, assign, active) == [assigned]
    rejected(COOPERATIVE, history, assign, "NotAMember")
    rejected(COOPERATIVE, [*history, assigned], assign, "AlreadyInGroup", active)
    rejected(COOPERATIVE, [AHORRO_REGISTERED], assign, "UnknownGroup", active)


def test_a_member_leaves_a_group_they_are_in():
    remove = m.RemoveMemberFromGroup(cooperative_id=AHORRO, group_id=GROUP, member_id=ROSA)
    assigned = m.MemberAssignedToGroup(cooperative_id=AHORRO, group_id=GROUP, member_id=ROSA)
    removed = m.MemberRemovedFromGroup(cooperative_id=AHORRO, group_id=GROUP, member_id=ROSA)
    assert when(COOPERATIVE, [AHORRO_REGISTERED, GROUP_CREATED, assigned], remove) == [removed]
    rejected(COOPERATIVE, [AHORRO_REGISTERED, GROUP_CREATED], remove, "NotInGroup")
    state = given(COOPERATIVE, AHORRO_REGISTERED, GROUP_CREATED, assigned, removed)
    assert state.groups[GROUP].members == frozenset()


# -- members --------------------------------------------------------------------------------

ROSA_REGISTERED = m.MemberRegistered(member_id=ROSA, personal=SEAL)
JOINS_AHORRO = m.StartMembership(member_id=ROSA, cooperative_id=AHORRO,
                                 started_on=dt.date(2019, 5, 6), share_capital_required=EUR_50)
JOINED_AHORRO = m.MembershipStarted(member_id=ROSA, cooperative_id=AHORRO,
                                    role=m.MembershipRole.MEMBER, started_on=dt.date(2019, 5, 6),
                                    share_capital_required=EUR_50)
LEAVES_AHORRO = m.EndMembership(member_id=ROSA, cooperative_id=AHORRO,
                                reason=m.EndReason.RETURNED_HOME, ended_on=dt.date(2025, 9, 30))
LEFT_AHORRO = m.MembershipEnded(member_id=ROSA, cooperative_id=AHORRO,
                                reason=m.EndReason.RETURNED_HOME, ended_on=dt.date(2025, 9, 30))
ERASED = m.MemberErased(member_id=ROSA)


def test_a_member_registers_once_with_sealed_details():
    register = m.RegisterMember(member_id=ROSA, personal=SEAL)
    assert when(MEMBER, [], register) == [ROSA_REGISTERED]
    assert given(MEMBER, ROSA_REGISTERED).kid == SEAL.kid
    rejected(MEMBER, [ROSA_REGISTERED], register, "MemberAlreadyRegistered")
    rejected(MEMBER, [ROSA_REGISTERED, ERASED], register, "MemberErased")


def test_details_are_corrected_for_a_registered_member_only():
    correct = m.CorrectMemberDetails(member_id=ROSA, personal=SEAL)
    assert when(MEMBER, [ROSA_REGISTERED], correct) == [
        m.MemberDetailsCorrected(member_id=ROSA, personal=SEAL)]
    rejected(MEMBER, [], correct, "UnknownMember")
    rejected(MEMBER, [ROSA_REGISTERED, ERASED], correct, "MemberErased")


def test_a_membership_starts_in_a_known_cooperative_in_its_currency():
    assert when(MEMBER, [ROSA_REGISTERED], JOINS_AHORRO) == [JOINED_AHORRO]
    rejected(MEMBER, [], JOINS_AHORRO, "UnknownMember")
    rejected(MEMBER, [ROSA_REGISTERED], JOINS_AHORRO, "UnknownCooperative",
             context(cooperatives={}))
    in_dollars = m.StartMembership(member_id=ROSA, cooperative_id=AHORRO,
                                   started_on=dt.date(2019, 5, 6),
                                   share_capital_required=Money(5000, "USD"))
    rejected(MEMBER, [ROSA_REGISTERED], in_dollars, "CurrencyMismatch")


def test_nobody_is_a_member_twice_at_once_of_the_same_cooperative():
    rejected(MEMBER, [ROSA_REGISTERED, JOINED_AHORRO], JOINS_AHORRO, "AlreadyAMember")


def test_a_person_may_belong_to_several_cooperatives():
    joins_andina = m.StartMembership(member_id=ROSA, cooperative_id=ANDINA,
                                     role=m.MembershipRole.WORKER_MEMBER,
                                     started_on=dt.date(2025, 10, 1),
                                     share_capital_required=Money(2000, "USD"))
    [started] = when(MEMBER, [ROSA_REGISTERED, JOINED_AHORRO], joins_andina)
    assert started.cooperative_id == ANDINA and started.role is m.MembershipRole.WORKER_MEMBER


def test_a_membership_ends_once_and_not_before_it_started():
    history = [ROSA_REGISTERED, JOINED_AHORRO]
    assert when(MEMBER, history, LEAVES_AHORRO) == [LEFT_AHORRO]
    rejected(MEMBER, [*history, LEFT_AHORRO], LEAVES_AHORRO, "NotAMember")
    rejected(MEMBER, [ROSA_REGISTERED], LEAVES_AHORRO, "NotAMember")
    too_early = m.EndMembership(member_id=ROSA, cooperative_id=AHORRO,
                                reason=m.EndReason.RESIGNED, ended_on=dt.date(2018, 1, 1))
    rejected(MEMBER, history, too_early, "ValidationError")


def test_rejoining_after_leaving_starts_no_earlier_than_the_end():
    history = [ROSA_REGISTERED, JOINED_AHORRO, LEFT_AHORRO]
    rejoin = m.StartMembership(member_id=ROSA, cooperative_id=AHORRO,
                               started_on=dt.date(2026, 1, 1), share_capital_required=EUR_50)
    assert len(when(MEMBER, history, rejoin)) == 1
    backdated = m.StartMembership(member_id=ROSA, cooperative_id=AHORRO,
                                  started_on=dt.date(2025, 1, 1), share_capital_required=EUR_50)
    rejected(MEMBER, history, backdated, "ValidationError")
    state = given(MEMBER, *history)
    assert state.memberships[0].end_reason is m.EndReason.RETURNED_HOME
    assert state.active_in(AHORRO) is None


def grant(expires_at=NOW + dt.timedelta(days=365), kind=m.GranteeKind.COOPERATIVE,
          grantee=ANDINA, scopes=(m.ConsentScope.MEMBERSHIP, m.ConsentScope.SAVINGS),
          join=False, consent_id=CONSENT):
    return m.GrantConsent(member_id=ROSA, consent_id=consent_id, grantee_kind=kind,
                          grantee=grantee, scopes=list(scopes), join=join,
                          expires_at=expires_at)


def granted(**changes):
    """The consent as decided at ``NOW`` (the event records when it was given)."""
    command = grant(**changes)
    return m.ConsentGranted(**{f: getattr(command, f) for f in command.__struct_fields__},
                            granted_at=NOW)


def test_rosa_grants_her_home_cooperative_consent_until_a_date():
    assert when(MEMBER, [ROSA_REGISTERED], grant()) == [granted()]
    node = grant(kind=m.GranteeKind.NODE, grantee="ec")
    assert when(MEMBER, [ROSA_REGISTERED], node)[0].grantee == "ec"


def test_consent_must_expire_in_the_future_and_name_a_real_grantee():
    rejected(MEMBER, [ROSA_REGISTERED], grant(expires_at=NOW), "ValidationError")
    rejected(MEMBER, [ROSA_REGISTERED], grant(grantee="Cooperativa Andina"), "ValidationError")
    rejected(MEMBER, [ROSA_REGISTERED], grant(kind=m.GranteeKind.NODE, grantee=ANDINA),
             "ValidationError")
    rejected(MEMBER, [ROSA_REGISTERED, granted()], grant(), "ConsentAlreadyExists")
    rejected(MEMBER, [], grant(), "UnknownMember")


def test_consent_is_revoked_once():
    revoke = m.RevokeConsent(member_id=ROSA, consent_id=CONSENT)
    revoked = m.ConsentRevoked(member_id=ROSA, consent_id=CONSENT)
    assert when(MEMBER, [ROSA_REGISTERED, granted()], revoke) == [revoked]
    rejected(MEMBER, [ROSA_REGISTERED, granted(), revoked], revoke, "ConsentAlreadyRevoked")
    rejected(MEMBER, [ROSA_REGISTERED], revoke, "UnknownConsent")
    assert given(MEMBER, ROSA_REGISTERED, granted(), revoked).consents[CONSENT].revoked


def test_erasure_happens_once_and_then_nothing_else_does():
    erase = m.EraseMember(member_id=ROSA)
    assert when(MEMBER, [ROSA_REGISTERED, JOINED_AHORRO], erase) == [ERASED]
    rejected(MEMBER, [], erase, "UnknownMember")
    rejected(MEMBER, [ROSA_REGISTERED, ERASED], erase, "MemberAlreadyErased")
    after = [ROSA_REGISTERED, ERASED]
    for command in (JOINS_AHORRO, LEAVES_AHORRO, grant(),
                    m.RevokeConsent(member_id=ROSA, consent_id=CONSENT)):
        rejected(MEMBER, after, command, "MemberErased")
    assert given(MEMBER, *after).kid is None


# -- lookups --------------------------------------------------------------------------------


def test_the_lookups_follow_registrations_and_memberships():
    cooperatives, memberships = new_cooperatives(), new_memberships()
    for event in (AHORRO_REGISTERED, ROSA_REGISTERED, JOINED_AHORRO):
        apply_to_cooperatives(cooperatives, event)
        apply_to_memberships(memberships, event)
    assert cooperatives == {AHORRO: CooperativeFacts("EUR", "ES", "es")}
    assert memberships == {(ROSA, AHORRO)}
    apply_to_memberships(memberships, LEFT_AHORRO)
    assert memberships == set()


def test_a_membership_neither_starts_nor_ends_on_a_day_that_has_not_come():
    ahead = latest_day(NOW) + dt.timedelta(days=1)
    rejected(MEMBER, [ROSA_REGISTERED], m.StartMembership(
        member_id=ROSA, cooperative_id=AHORRO, started_on=ahead,
        share_capital_required=EUR_50), "ValidationError")
    rejected(MEMBER, [ROSA_REGISTERED, JOINED_AHORRO], m.EndMembership(
        member_id=ROSA, cooperative_id=AHORRO, reason=m.EndReason.RETURNED_HOME,
        ended_on=ahead), "ValidationError")
    [started] = when(MEMBER, [ROSA_REGISTERED], m.StartMembership(
        member_id=ROSA, cooperative_id=AHORRO, started_on=latest_day(NOW),
        share_capital_required=EUR_50))
    assert started.started_on == latest_day(NOW)



# -- joining under her consent ---------------------------------------------------------------

JOIN_CONSENT = "0192d3c4-0000-7000-8000-0000000c0a5f"
USD_20 = Money(2000, "USD")


def joins_andina(**changes) -> m.StartMembership:
    fields = dict(member_id=ROSA, cooperative_id=ANDINA, started_on=NOW.date(),
                  share_capital_required=USD_20, consent_id=JOIN_CONSENT)
    fields.update(changes)
    return m.StartMembership(**fields)


def test_a_consent_grants_a_scope_or_joining_and_only_a_cooperative_is_joined():
    rejected(MEMBER, [ROSA_REGISTERED], grant(scopes=()), "ValidationError")
    [join_only] = when(MEMBER, [ROSA_REGISTERED], grant(scopes=(), join=True))
    assert join_only.join and join_only.scopes == [] and join_only.granted_at == NOW
    rejected(MEMBER, [ROSA_REGISTERED], grant(kind=m.GranteeKind.NODE, grantee="ec",
                                              join=True), "ValidationError")


def test_a_cooperative_she_did_not_choose_admits_her_once_under_her_consent_to_join_it():
    """Issue 18: a consent to read her memberships is not a consent to join; a consent to
    join is used once, names the cooperative, and dates the membership no earlier than it."""
    consented = granted(scopes=(), join=True, consent_id=JOIN_CONSENT)
    history = [ROSA_REGISTERED, JOINED_AHORRO, consented]
    [started] = when(MEMBER, history, joins_andina())
    assert started.consent_id == JOIN_CONSENT
    state = given(MEMBER, *history, started)
    assert state.consents[JOIN_CONSENT].used and state.active_in(ANDINA).consent_id == JOIN_CONSENT
    left = m.MembershipEnded(member_id=ROSA, cooperative_id=ANDINA,
                             reason=m.EndReason.MOVED, ended_on=NOW.date())
    rejected(MEMBER, [*history, started, left], joins_andina(), "NoConsent")  # used once
    reading_only = granted(consent_id=JOIN_CONSENT)  # membership and savings, no joining
    rejected(MEMBER, [ROSA_REGISTERED, reading_only], joins_andina(), "NoConsent")
    rejected(MEMBER, [ROSA_REGISTERED, granted(scopes=(), join=True, consent_id=JOIN_CONSENT,
                                               grantee=AHORRO)], joins_andina(), "NoConsent")
    revoked = m.ConsentRevoked(member_id=ROSA, consent_id=JOIN_CONSENT)
    rejected(MEMBER, [*history, revoked], joins_andina(), "NoConsent")
    expiring = granted(scopes=(), join=True, consent_id=JOIN_CONSENT,
                       expires_at=NOW + dt.timedelta(hours=1))
    rejected(MEMBER, [ROSA_REGISTERED, expiring], joins_andina(),
             "NoConsent", context_at(NOW + dt.timedelta(hours=2)))
    backdated = joins_andina(started_on=NOW.date() - dt.timedelta(days=1))
    rejected(MEMBER, history, backdated, "ValidationError")
    rejected(MEMBER, history, joins_andina(role=m.MembershipRole.BOARD_MEMBER),
             "ValidationError")


def context_at(now: dt.datetime) -> Context:
    return Context(now, context().lookups)
