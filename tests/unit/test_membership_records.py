"""Portable records on the member aggregate, given / when / then (pure, no broker): Rosa's
Spanish node exports her record to her home cooperative under her consent, may revoke it, and
the Ecuadorian node imports it, which is how she arrives there under the same member id."""

from __future__ import annotations

import datetime as dt

from schemas import membership as m
from schemas.fields import Money, Sealed, latest_day
from services.membership.domain import MEMBER
from services.runtime.aggregate import Context
from tests.unit.test_membership_domain import (
    AHORRO,
    ANDINA,
    CONSENT,
    ERASED,
    EUR_50,
    NOW,
    ROSA,
    ROSA_REGISTERED,
    SEAL,
    context,
    given,
    granted,
    rejected,
    when,
)

RECORD = "0192d3c4-0000-7000-8000-0000000ec0d1"
OTHER_CONSENT = "0192d3c4-0000-7000-8000-0000000c0a5f"
IN_A_YEAR = NOW + dt.timedelta(days=365)  # when grant() expires
NO_CONSENT = "the member has not consented to share this with this recipient"


def export(credential_id=RECORD, kind=m.GranteeKind.COOPERATIVE, grantee=ANDINA,
           scopes=(m.ConsentScope.MEMBERSHIP,), valid_until=NOW + dt.timedelta(days=30)):
    return m.ExportRecord(member_id=ROSA, credential_id=credential_id, grantee_kind=kind,
                          grantee=grantee, scopes=list(scopes), valid_until=valid_until)


def exported(credential_id=RECORD, consent_id=CONSENT, valid_until=NOW + dt.timedelta(days=30)):
    return m.RecordExported(member_id=ROSA, credential_id=credential_id, consent_id=consent_id,
                            grantee_kind=m.GranteeKind.COOPERATIVE, grantee=ANDINA,
                            scopes=[m.ConsentScope.MEMBERSHIP], valid_from=NOW,
                            valid_until=valid_until)


def consented(consent_id=CONSENT, expires_at=IN_A_YEAR, kind=m.GranteeKind.COOPERATIVE,
              grantee=ANDINA, scopes=(m.ConsentScope.MEMBERSHIP, m.ConsentScope.SAVINGS)):
    return m.ConsentGranted(member_id=ROSA, consent_id=consent_id, grantee_kind=kind,
                            grantee=grantee, scopes=list(scopes), expires_at=expires_at)


def at(moment: dt.datetime) -> Context:
    return Context(moment, context().lookups)


# -- export ---------------------------------------------------------------------------------


def test_rosa_exports_her_record_to_the_cooperative_she_consented_to():
    assert when(MEMBER, [ROSA_REGISTERED, granted()], export()) == [exported()]
    state = given(MEMBER, ROSA_REGISTERED, granted(), exported())
    assert state.exports == {RECORD: False}


def test_a_record_never_outlives_the_consent_it_was_exported_under():
    two_years = NOW + dt.timedelta(days=730)
    [event] = when(MEMBER, [ROSA_REGISTERED, granted()], export(valid_until=two_years))
    assert event.valid_from == NOW and event.valid_until == IN_A_YEAR


def test_a_record_goes_only_to_the_recipient_she_consented_to():
    history = [ROSA_REGISTERED, granted()]
    refused = rejected(MEMBER, history, export(grantee=AHORRO), "NoConsent")
    rejected(MEMBER, history, export(kind=m.GranteeKind.NODE, grantee="ec"), "NoConsent")
    to_the_node = [ROSA_REGISTERED, consented(kind=m.GranteeKind.NODE, grantee="ec")]
    [event] = when(MEMBER, to_the_node, export(kind=m.GranteeKind.NODE, grantee="ec"))
    assert event.grantee_kind is m.GranteeKind.NODE and event.grantee == "ec"
    rejected(MEMBER, to_the_node, export(kind=m.GranteeKind.COOPERATIVE, grantee="ec"),
             "NoConsent")
    # the refusal says why, but names no member, recipient or consent
    assert refused.message == NO_CONSENT
    assert not {ROSA, ANDINA, AHORRO, CONSENT} & set(refused.message.split())


def test_a_record_holds_only_what_the_consent_covers():
    history = [ROSA_REGISTERED, granted()]  # membership and savings
    rejected(MEMBER, history, export(scopes=[m.ConsentScope.TRAINING]), "NoConsent")
    rejected(MEMBER, history, export(scopes=[m.ConsentScope.MEMBERSHIP, m.ConsentScope.TRAINING]),
             "NoConsent")
    both = export(scopes=[m.ConsentScope.SAVINGS, m.ConsentScope.MEMBERSHIP])
    [event] = when(MEMBER, history, both)
    assert event.scopes == [m.ConsentScope.SAVINGS, m.ConsentScope.MEMBERSHIP]


def test_an_expired_or_revoked_consent_allows_no_export():
    rejected(MEMBER, [ROSA_REGISTERED], export(), "NoConsent")
    short = consented(expires_at=NOW + dt.timedelta(days=1))
    later = NOW + dt.timedelta(days=2)
    rejected(MEMBER, [ROSA_REGISTERED, short],
             export(valid_until=later + dt.timedelta(days=1)), "NoConsent", at(later))
    # expiring exactly now is expired
    rejected(MEMBER, [ROSA_REGISTERED, short], export(valid_until=later), "NoConsent",
             at(short.expires_at))
    revoked = m.ConsentRevoked(member_id=ROSA, consent_id=CONSENT)
    rejected(MEMBER, [ROSA_REGISTERED, granted(), revoked], export(), "NoConsent")


def test_of_several_consents_the_one_expiring_last_is_used():
    sooner = consented(consent_id=OTHER_CONSENT, expires_at=NOW + dt.timedelta(days=10))
    history = [ROSA_REGISTERED, granted(), sooner]
    [event] = when(MEMBER, history, export(valid_until=NOW + dt.timedelta(days=730)))
    assert event.consent_id == CONSENT and event.valid_until == IN_A_YEAR
    # ... unless it does not fit: revoked, or for other scopes
    revoked = m.ConsentRevoked(member_id=ROSA, consent_id=CONSENT)
    [event] = when(MEMBER, [*history, revoked], export(valid_until=NOW + dt.timedelta(days=730)))
    assert event.consent_id == OTHER_CONSENT and event.valid_until == sooner.expires_at
    training_only = consented(consent_id=OTHER_CONSENT, expires_at=IN_A_YEAR + dt.timedelta(days=1),
                              scopes=[m.ConsentScope.TRAINING])
    [event] = when(MEMBER, [ROSA_REGISTERED, granted(), training_only], export())
    assert event.consent_id == CONSENT


def test_a_record_id_is_exported_once_and_must_be_valid_in_the_future():
    history = [ROSA_REGISTERED, granted(), exported()]
    rejected(MEMBER, history, export(), "RecordAlreadyExported")
    revoked = m.RecordRevoked(member_id=ROSA, credential_id=RECORD)
    rejected(MEMBER, [*history, revoked], export(), "RecordAlreadyExported")
    rejected(MEMBER, [ROSA_REGISTERED, granted()], export(valid_until=NOW), "ValidationError")
    rejected(MEMBER, [ROSA_REGISTERED, granted()],
             export(valid_until=NOW - dt.timedelta(days=1)), "ValidationError")


def test_an_unknown_or_erased_member_exports_nothing():
    rejected(MEMBER, [], export(), "UnknownMember")
    rejected(MEMBER, [ROSA_REGISTERED, granted(), ERASED], export(), "MemberErased")


# -- revocation -----------------------------------------------------------------------------


def test_an_exported_record_is_revoked_once():
    revoke = m.RevokeRecord(member_id=ROSA, credential_id=RECORD)
    revoked = m.RecordRevoked(member_id=ROSA, credential_id=RECORD)
    history = [ROSA_REGISTERED, granted(), exported()]
    assert when(MEMBER, history, revoke) == [revoked]
    assert given(MEMBER, *history, revoked).exports == {RECORD: True}
    rejected(MEMBER, [*history, revoked], revoke, "RecordAlreadyRevoked")
    rejected(MEMBER, [ROSA_REGISTERED, granted()], revoke, "UnknownRecord")
    rejected(MEMBER, [], revoke, "UnknownMember")
    rejected(MEMBER, [*history, ERASED], revoke, "MemberErased")


def test_revoking_a_record_leaves_the_consent_and_other_records_alone():
    second = "0192d3c4-0000-7000-8000-0000000ec0d2"
    revoked = m.RecordRevoked(member_id=ROSA, credential_id=RECORD)
    history = [ROSA_REGISTERED, granted(), exported(), revoked]
    [event] = when(MEMBER, history, export(credential_id=second))
    assert event.consent_id == CONSENT
    state = given(MEMBER, *history, event)
    assert state.exports == {RECORD: True, second: False}
    assert not state.consents[CONSENT].revoked


# -- import at the home node ----------------------------------------------------------------

HOME_SEAL = Sealed(kid="0192d3c4-0000-7000-8000-00000000002d", iv=bytes(12), ct=bytes(32))
HISTORY = m.ImportedHistory(
    memberships=[m.ImportedMembership(
        cooperative_name="Ahorro Solidario", country="ES", role=m.MembershipRole.MEMBER,
        started_on=dt.date(2019, 5, 6), ended_on=dt.date(2025, 9, 30), share_capital=EUR_50)],
    loans=[m.ImportedLoan(principal=Money(300000, "EUR"), disbursed_on=dt.date(2021, 2, 1),
                          instalments=12, repaid_on_time=11, repaid_early=1, closed=True)],
)


def import_record(credential_id=RECORD, personal=HOME_SEAL):
    return m.ImportRecord(member_id=ROSA, credential_id=credential_id, issuer_node="es",
                          issued_at=NOW - dt.timedelta(days=1), digest="A" * 43,
                          history=HISTORY, personal=personal)


def imported(credential_id=RECORD, personal=HOME_SEAL):
    command = import_record(credential_id, personal)
    return m.RecordImported(**{f: getattr(command, f) for f in command.__struct_fields__})


def test_an_import_brings_a_returning_member_to_her_home_node():
    assert when(MEMBER, [], import_record()) == [imported()]
    state = given(MEMBER, imported())
    assert state.registered and not state.erased
    assert state.kid == HOME_SEAL.kid and state.imports == {RECORD}
    joins_andina = m.StartMembership(member_id=ROSA, cooperative_id=ANDINA,
                                     started_on=dt.date(2025, 10, 1),
                                     share_capital_required=Money(2000, "USD"))
    [started] = when(MEMBER, [imported()], joins_andina)
    assert started.cooperative_id == ANDINA
    rejected(MEMBER, [imported()], joins_andina, "UnknownCooperative", context(cooperatives={}))


def test_an_import_never_replaces_the_details_she_has_here():
    assert given(MEMBER, imported(personal=None)).kid is None
    assert given(MEMBER, imported(personal=None)).registered
    assert given(MEMBER, ROSA_REGISTERED, imported(personal=None)).kid == SEAL.kid
    # details registered here win over the slimmer identity a record carries
    assert given(MEMBER, ROSA_REGISTERED, imported()).kid == SEAL.kid
    assert given(MEMBER, imported(personal=None), imported(
        credential_id="0192d3c4-0000-7000-8000-0000000000f2")).kid == HOME_SEAL.kid


def test_a_record_is_imported_once_and_never_for_an_erased_member():
    rejected(MEMBER, [imported()], import_record(), "RecordAlreadyImported")
    rejected(MEMBER, [imported()], import_record(personal=None), "RecordAlreadyImported")
    second = "0192d3c4-0000-7000-8000-0000000ec0d2"
    assert when(MEMBER, [imported()], import_record(credential_id=second)) == [
        imported(credential_id=second)]
    assert when(MEMBER, [ROSA_REGISTERED], import_record()) == [imported()]
    rejected(MEMBER, [imported(), ERASED], import_record(credential_id=second), "MemberErased")
    rejected(MEMBER, [ROSA_REGISTERED, ERASED], import_record(), "MemberErased")
    assert given(MEMBER, imported(), ERASED).kid is None



def test_a_record_whose_history_lies_in_the_future_is_not_imported():
    """A day on which something happened, wherever it sits in a command (here deep in the
    imported history), may not lie ahead of today in the earliest time zone."""
    ahead = latest_day(NOW) + dt.timedelta(days=1)
    history = m.ImportedHistory(memberships=[*HISTORY.memberships, m.ImportedMembership(
        cooperative_name="Otra", country="ES", role=m.MembershipRole.MEMBER,
        started_on=dt.date(2025, 1, 1), ended_on=ahead)], loans=HISTORY.loans)
    command = m.ImportRecord(member_id=ROSA, credential_id=RECORD, issuer_node="es",
                             issued_at=NOW, digest="A" * 43, history=history,
                             personal=HOME_SEAL)
    error = rejected(MEMBER, [], command, "ValidationError")
    assert error.message.startswith("history.memberships[1].ended_on:")
