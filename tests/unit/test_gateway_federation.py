"""Records between two in-memory nodes through GraphQL: export with consent (host ``es``),
verification and import (home ``ec``), revocation through the issuer's status list.

The nodes share nothing but what travels: the signed record, the trust lists (each node's
JWKS) and the status list the home node fetches from the host's gateway (here a function
standing for the HTTP GET)."""

from __future__ import annotations

import base64
import datetime as dt
import json

import pytest

from gateway.records import status_lists
from gateway.records.subject import imported_history
from gateway.auth import Caller, Role
from schemas import membership as m
from services import config
from services.runtime.ids import new_id
from services.runtime.keys import jwks, signing_key
from tests.unit.test_governance_over_graphql import accepted, an_assembly, ballot
from tests.unit.test_gateway_schema import (
    AHORRO,
    MADRID_STAFF,
    NOW,
    ROSA_DETAILS,
    Node,
    cooperative,
    rosa_joins,
)

QUITO = new_id()  # the home cooperative, at node ec
QUITO_STAFF = Caller("luis", Role.STAFF, QUITO)
HOST_URL, HOME_URL = "http://es.example:8000", "http://ec.example:8001"


@pytest.fixture
async def federation_pair(tmp_path, monkeypatch):
    monkeypatch.setenv("COOPBRIDGE_HOME", str(tmp_path))
    monkeypatch.delenv("COOPBRIDGE_SIGNING_KEY", raising=False)
    monkeypatch.delenv("COOPBRIDGE_PEERS", raising=False)
    es, ec = Node(), Node()
    es.node_id, ec.node_id = "es", "ec"
    config.write_peers(tmp_path / "es.peers.json", [config.Peer(
        "ec", HOME_URL, jwks(signing_key("ec").public_key()))])
    config.write_peers(tmp_path / "ec.peers.json", [config.Peer(
        "es", HOST_URL, jwks(signing_key("es").public_key()))])
    for node, url in ((es, HOST_URL), (ec, HOME_URL)):
        node.url = url

    async def fetch(url: str) -> str | None:  # the host gateway's /credentials/status/{id}
        assert url.startswith(HOST_URL + status_lists.STATUS_PATH)
        with monkeypatch.context() as inside:
            inside.setenv("COOPBRIDGE_PUBLIC_URL", HOST_URL)
            return status_lists.signed_status_list(
                "es", url.rsplit("/", 1)[-1], es.views, es.now)  # signed on its day
    monkeypatch.setattr(status_lists, "fetch_status_list", fetch)
    monkeypatch.setattr(status_lists, "_LISTS", {})  # no status list cached across tests

    async def register(node, args):
        data = cooperative(*args)
        data["node"] = node.node_id
        with as_node(monkeypatch, node):
            result = await node.mutate("registerCooperative", data)
        assert result["__typename"] == "CommandAccepted"
    await register(es, (AHORRO, "Ahorro Solidario Madrid", "ES", "EUR", "25.00"))
    await register(ec, (QUITO, "Cooperativa Andina", "EC", "USD", "10.00"))
    return es, ec


class as_node:
    """Run a node's request with its node id and public URL (the gateway's settings)."""

    def __init__(self, monkeypatch, node):
        self.context = monkeypatch.context()
        self.node = node

    def __enter__(self):
        inside = self.context.__enter__()
        inside.setenv("COOPBRIDGE_PUBLIC_URL", self.node.url)
        inside.setattr("tests.unit.test_gateway_schema.NODE", self.node.node_id)
        return self

    def __exit__(self, *exc):
        return self.context.__exit__(*exc)


EXPORT = """mutation($input: ExportRecordInput!) { exportRecord(input: $input) {
    __typename
    ... on ExportedRecord { credentialId credential certificates statusList validUntil }
    ... on Problem { code message } } }"""
VERIFY = """query($c: String!) { verifyRecord(credential: $c) {
    valid issuer credentialId checks { name passed reason } record } }"""
IMPORT = """mutation($input: ImportRecordInput!) { importRecord(input: $input) {
    __typename
    ... on RecordImportedHere { memberId credentialId membershipStarted }
    ... on RecordNotVerified { code message checks { name passed reason } }
    ... on Problem { code message } ... on ValidationError { field } } }"""


async def consent(es, rosa, scopes=("IDENTITY", "MEMBERSHIP", "SAVINGS", "TRAINING"),
                  join=True):
    """Her consent to her home cooperative: to read her record, and (``join``) to admit her."""
    consent_id = new_id()
    result = await es.mutate("grantConsent", {
        "memberId": rosa, "consentId": consent_id, "granteeKind": "COOPERATIVE",
        "grantee": QUITO, "scopes": list(scopes), "join": join,
        "expiresAt": (NOW + dt.timedelta(days=30)).isoformat()}, MADRID_STAFF)
    assert result["__typename"] == "CommandAccepted", result
    return consent_id


async def export(monkeypatch, es, rosa, **extra):
    with as_node(monkeypatch, es):
        return (await es.ok(EXPORT, MADRID_STAFF, input={
            "memberId": rosa, "recipient": {"cooperative": QUITO}, **extra}))["exportRecord"]


async def verify(monkeypatch, ec, credential):
    with as_node(monkeypatch, ec):
        return (await ec.ok(VERIFY, QUITO_STAFF, c=credential))["verifyRecord"]


async def test_without_consent_the_export_is_refused_and_with_it_the_record_verifies_at_home(
        federation_pair, monkeypatch):
    es, ec = federation_pair
    rosa = (await rosa_joins(es))["rosa"]
    refused = await export(monkeypatch, es, rosa)
    assert refused["__typename"] == "NoConsent"

    await consent(es, rosa)
    record = await export(monkeypatch, es, rosa)
    assert record["__typename"] == "ExportedRecord", record
    header = json.loads(base64.urlsafe_b64decode(record["credential"].split(".")[0] + "=="))
    assert header["typ"] == "vc+jwt" and header["alg"] == "EdDSA"

    checked = await verify(monkeypatch, ec, record["credential"])
    assert checked["valid"] is True, checked["checks"]
    assert {c["name"] for c in checked["checks"]} >= {"format", "issuer", "signature",
                                                      "validity", "revocation"}
    assert checked["issuer"] == "urn:coopbridge:node:es"
    subject = checked["record"]
    assert subject["memberId"] == rosa
    assert subject["identity"]["familyNames"] == ROSA_DETAILS["familyNames"]
    assert subject["memberships"][0]["cooperative"]["country"] == "ES"
    assert subject["savings"]["balances"][0]["balance"] == {"amount": "1250.50",
                                                           "currency": "EUR"}
    # the export is an event on her record at the host
    data = await es.ok('query($id: ID!) { member(id: $id) { exportedRecords { credentialId '
                       'grantee scopes revoked } } }', MADRID_STAFF, id=rosa)
    assert data["member"]["exportedRecords"] == [{
        "credentialId": record["credentialId"], "grantee": QUITO,
        "scopes": ["identity", "membership", "savings", "training"], "revoked": False}]


async def test_only_the_consented_scopes_travel_and_revoked_consent_stops_new_exports(
        federation_pair, monkeypatch):
    es, ec = federation_pair
    rosa = (await rosa_joins(es))["rosa"]
    consent_id = await consent(es, rosa, scopes=("MEMBERSHIP",))
    record = await export(monkeypatch, es, rosa)
    subject = (await verify(monkeypatch, ec, record["credential"]))["record"]
    assert "identity" not in subject and "savings" not in subject and subject["memberships"]
    asked_more = await export(monkeypatch, es, rosa, scopes=["membership", "savings"])
    assert asked_more["__typename"] == "NoConsent"

    revoked = await es.mutate("revokeConsent", {"memberId": rosa, "consentId": consent_id},
                              MADRID_STAFF)
    assert revoked["__typename"] == "CommandAccepted"
    again = await export(monkeypatch, es, rosa)
    assert again["__typename"] == "NoConsent"


async def test_a_revoked_tampered_or_foreign_record_fails_with_its_reason(
        federation_pair, monkeypatch):
    es, ec = federation_pair
    rosa = (await rosa_joins(es))["rosa"]
    await consent(es, rosa)
    record = await export(monkeypatch, es, rosa)
    token = record["credential"]

    header, payload, signature = token.split(".")
    flipped = payload[:10] + ("A" if payload[10] != "A" else "B") + payload[11:]
    tampered = await verify(monkeypatch, ec, f"{header}.{flipped}.{signature}")
    reasons = {c["name"]: c["reason"] for c in tampered["checks"]}
    assert not tampered["valid"] and reasons["signature"]

    with as_node(monkeypatch, es):  # signed by a node ec does not trust
        monkeypatch.setenv("COOPBRIDGE_SIGNING_KEY", base64.urlsafe_b64encode(
            bytes(range(32))).decode())
        forged = await export(monkeypatch, es, rosa)
        monkeypatch.delenv("COOPBRIDGE_SIGNING_KEY")
    foreign = await verify(monkeypatch, ec, forged["credential"])
    assert {c["name"]: c["reason"] for c in foreign["checks"]}["signature"] == \
        "the signature does not match the issuer's keys"

    with as_node(monkeypatch, es):
        result = await es.mutate("revokeRecord", {"memberId": rosa,
                                                  "credentialId": record["credentialId"]},
                                 MADRID_STAFF)
    assert result["__typename"] == "CommandAccepted", result
    after = await verify(monkeypatch, ec, token)
    assert not after["valid"]
    assert {c["name"]: c["reason"] for c in after["checks"]}["revocation"] == \
        "the credential is revoked"


async def test_the_home_cooperative_imports_her_record_and_she_is_a_member_there(
        federation_pair, monkeypatch):
    es, ec = federation_pair
    rosa = (await rosa_joins(es))["rosa"]
    await consent(es, rosa)
    record = await export(monkeypatch, es, rosa)
    with as_node(monkeypatch, ec):
        imported = (await ec.ok(IMPORT, QUITO_STAFF, input={
            "credential": record["credential"], "cooperativeId": QUITO,
            "startedOn": "2026-11-15",
            "shareCapitalRequired": {"amount": "10.00", "currency": "USD"}}))["importRecord"]
        assert imported == {"__typename": "RecordImportedHere", "memberId": rosa,
                            "credentialId": record["credentialId"], "membershipStarted": True}
        data = await ec.ok("""query($id: ID!) { member(id: $id) {
            identity { familyNames } memberships { cooperativeId active }
            importedRecords { issuerNode memberships { cooperativeName country }
                              balances { balance { amount currency } } } } }""",
                           QUITO_STAFF, id=rosa)
    member = data["member"]
    assert member["identity"]["familyNames"] == ROSA_DETAILS["familyNames"]
    assert member["memberships"] == [{"cooperativeId": QUITO, "active": True}]
    assert member["importedRecords"] == [{
        "issuerNode": "es",
        "memberships": [{"cooperativeName": "Ahorro Solidario Madrid", "country": "ES"}],
        "balances": [{"balance": {"amount": "1250.50", "currency": "EUR"}}]}]


async def test_a_returnee_imported_at_home_is_a_member_to_every_home_service(
        federation_pair, monkeypatch):
    """Regression: after importRecord answered ``membershipStarted: true``, the home training
    service still answered ``UnknownMember`` to ``enrolLearner`` (its view of who is present
    knew only ``MemberRegistered``), while savings took her."""
    es, ec = federation_pair
    rosa = (await rosa_joins(es))["rosa"]
    await consent(es, rosa)
    record = await export(monkeypatch, es, rosa)
    course, account = new_id(), new_id()
    with as_node(monkeypatch, ec):
        imported = (await ec.ok(IMPORT, QUITO_STAFF, input=import_input(
            record["credential"])))["importRecord"]
        assert imported["membershipStarted"] is True, imported
        offered = await ec.mutate("offerCourse", {
            "courseId": course, "cooperativeId": QUITO, "kind": "BUSINESS_START_UP",
            "titles": [{"language": "es-EC", "title": "Emprender al volver"}],
            "skills": [{"isco08": {"code": "1420"}}], "hours": 20,
            "startsOn": "2026-12-01", "endsOn": "2026-12-19", "capacity": 12},
            Caller("ines", Role.ADMIN, QUITO))
        assert offered["__typename"] == "CommandAccepted", offered
        for name, input in (
                ("enrolLearner", {"courseId": course, "memberId": rosa}),
                ("openAccount", {"accountId": account, "memberId": rosa,
                                 "cooperativeId": QUITO, "product": "SAVINGS",
                                 "currency": "USD"}),
                ("depositFunds", {"accountId": account,
                                  "amount": {"amount": "40.00", "currency": "USD"}})):
            result = await ec.mutate(name, input, QUITO_STAFF)
            assert result["__typename"] == "CommandAccepted", (name, result)


async def test_a_loan_in_her_record_is_dated_the_day_it_was_disbursed(federation_pair, monkeypatch):
    """Her credit history abroad said a loan was disbursed on the day its account opened."""
    es, _ = federation_pair
    rosa, loan = (await rosa_joins(es))["rosa"], new_id()
    opened = await es.mutate("openAccount", {"accountId": loan, "memberId": rosa,
                                             "cooperativeId": AHORRO, "product": "LOAN",
                                             "currency": "EUR"}, MADRID_STAFF)
    assert opened["__typename"] == "CommandAccepted"
    with es.on("2026-11-16"):  # the day after the account was opened
        disbursed = await es.mutate("disburseLoan", {
            "accountId": loan, "principal": {"amount": "600", "currency": "EUR"},
            "annualRate": "0.10", "termMonths": 6, "firstDueOn": "2026-12-16"},
            Caller("jefa", Role.ADMIN, AHORRO))
    assert disbursed["__typename"] == "CommandAccepted", disbursed
    await consent(es, rosa)
    record = await export(monkeypatch, es, rosa)
    claims = json.loads(base64.urlsafe_b64decode(record["credential"].split(".")[1] + "=="))
    [loan_abroad] = claims["credentialSubject"]["savings"]["loans"]
    assert loan_abroad["disbursedOn"] == "2026-11-16"


async def test_an_import_dated_to_start_in_the_future_is_refused_before_anything_is_recorded(
        federation_pair, monkeypatch):
    es, ec = federation_pair
    rosa = (await rosa_joins(es))["rosa"]
    await consent(es, rosa)
    record = await export(monkeypatch, es, rosa)
    with as_node(monkeypatch, ec):
        refused = (await ec.ok(IMPORT, QUITO_STAFF, input={
            **import_input(record["credential"]), "startedOn": "2027-11-15"}))["importRecord"]
    assert refused["__typename"] == "ValidationError" and "not come yet" in refused["message"]
    assert ec.views.get("members", rosa) is None


async def test_a_record_shared_with_another_cooperative_is_not_imported(
        federation_pair, monkeypatch):
    es, ec = federation_pair
    rosa = (await rosa_joins(es))["rosa"]
    await consent(es, rosa)
    record = await export(monkeypatch, es, rosa)
    other = new_id()
    with as_node(monkeypatch, ec):
        data = cooperative(other, "Otra", "EC", "USD", "10.00")
        data["node"] = "ec"
        assert (await ec.mutate("registerCooperative", data))["__typename"] == "CommandAccepted"
        refused = (await ec.ok(IMPORT, Caller("x", Role.STAFF, other), input={
            "credential": record["credential"], "cooperativeId": other,
            "startedOn": "2026-11-15",
            "shareCapitalRequired": {"amount": "10.00", "currency": "USD"}}))["importRecord"]
    assert refused["__typename"] == "NotAuthorized"
    assert ec.views.get("members", rosa) is None  # nothing was recorded


# -- regressions from the review of the federation ---------------------------------------------

def import_input(credential, cooperative=QUITO, currency="USD"):
    return {"credential": credential, "cooperativeId": cooperative, "startedOn": "2026-11-15",
            "shareCapitalRequired": {"amount": "10.00", "currency": currency}}


async def test_a_record_cannot_make_her_a_member_of_a_cooperative_she_did_not_consent_to_join(
        federation_pair, monkeypatch):
    es, ec = federation_pair
    rosa = (await rosa_joins(es))["rosa"]
    # at the issuing node itself: a record is not a way around startMembership's rule
    nosy = new_id()
    with as_node(monkeypatch, es):
        data = cooperative(nosy, "Curiosa", "ES", "EUR", "25.00")
        data["node"] = "es"
        assert (await es.mutate("registerCooperative", data))["__typename"] == "CommandAccepted"
    await es.mutate("grantConsent", {
        "memberId": rosa, "consentId": new_id(), "granteeKind": "COOPERATIVE", "grantee": nosy,
        "scopes": ["TRAINING"], "expiresAt": (NOW + dt.timedelta(days=30)).isoformat()},
        MADRID_STAFF)
    with as_node(monkeypatch, es):
        record = (await es.ok(EXPORT, MADRID_STAFF, input={
            "memberId": rosa, "recipient": {"cooperative": nosy}}))["exportRecord"]
        assert record["__typename"] == "ExportedRecord"
        refused = (await es.ok(IMPORT, Caller("n", Role.STAFF, nosy), input=import_input(
            record["credential"], nosy, "EUR")))["importRecord"]
    assert refused["__typename"] == "NotAuthorized"
    assert [ms.cooperative_id for ms in es.views.get("members", rosa).memberships] == [AHORRO]

    # at home: a record without the membership scope does not open a membership
    await consent(es, rosa, scopes=("TRAINING",))
    training_only = await export(monkeypatch, es, rosa)
    with as_node(monkeypatch, ec):
        refused = (await ec.ok(IMPORT, QUITO_STAFF, input=import_input(
            training_only["credential"])))["importRecord"]
    assert refused["__typename"] == "NotAuthorized"
    assert ec.views.get("members", rosa) is None


async def test_a_record_admits_her_only_to_the_cooperative_she_consented_to_join(
        federation_pair, monkeypatch):
    """Issue 18 (review): a record shared with a whole node let any cooperative of that node
    import it and become one she chose, with a board seat from any date. A record admits her
    only where her consent named that cooperative with join, as a member, from the day of
    the record on; a record shared with a node, or without join, is verified but not imported."""
    es, ec = federation_pair
    rosa = (await rosa_joins(es))["rosa"]
    await es.mutate("grantConsent", {
        "memberId": rosa, "consentId": new_id(), "granteeKind": "NODE", "grantee": "ec",
        "scopes": ["MEMBERSHIP"], "expiresAt": (NOW + dt.timedelta(days=30)).isoformat()},
        MADRID_STAFF)
    with as_node(monkeypatch, es):
        to_the_node = (await es.ok(EXPORT, MADRID_STAFF, input={
            "memberId": rosa, "recipient": {"node": "ec"}}))["exportRecord"]
    await consent(es, rosa, join=False)
    reading_only = await export(monkeypatch, es, rosa)
    await consent(es, rosa)
    joining = await export(monkeypatch, es, rosa)
    other = new_id()
    with as_node(monkeypatch, ec):
        data = cooperative(other, "Otra", "EC", "USD", "10.00")
        data["node"] = "ec"
        assert (await ec.mutate("registerCooperative", data))["__typename"] == "CommandAccepted"
        for record, caller, where in ((to_the_node, Caller("o", Role.STAFF, other), other),
                                      (to_the_node, QUITO_STAFF, QUITO),
                                      (reading_only, QUITO_STAFF, QUITO),
                                      (joining, Caller("o", Role.STAFF, other), other)):
            refused = (await ec.ok(IMPORT, caller, input=import_input(
                record["credential"], where)))["importRecord"]
            assert refused["__typename"] == "NotAuthorized", refused
        assert ec.views.get("members", rosa) is None
        for wrong, field in (({"role": "BOARD_MEMBER"}, "input.role"),
                             ({"startedOn": "2026-11-14"}, "input.startedOn")):  # before it
            refused = (await ec.ok(IMPORT, QUITO_STAFF, input={
                **import_input(joining["credential"]), **wrong}))["importRecord"]
            assert refused["__typename"] == "ValidationError" and refused["field"] == field
        admitted = (await ec.ok(IMPORT, QUITO_STAFF, input=import_input(
            joining["credential"])))["importRecord"]
    assert admitted["__typename"] == "RecordImportedHere" and admitted["membershipStarted"]
    [membership] = ec.views.get("members", rosa).memberships
    assert (membership.cooperative_id, membership.role) == (QUITO, "member")


async def test_an_import_cut_short_before_her_membership_is_finished_by_its_retry(
        federation_pair, monkeypatch):
    """Review of issue 18: when the membership step got no answer in time, the retry met a
    member known here (by the import) without a membership and was refused for good."""
    es, ec = federation_pair
    rosa = (await rosa_joins(es))["rosa"]
    await consent(es, rosa)
    record = await export(monkeypatch, es, rosa)
    real = ec.commands.send
    lost = []

    async def membership_lost_once(command, aggregate_id, **kwargs):
        if type(command).__name__ == "StartMembership" and not lost:
            lost.append(command)
            raise TimeoutError  # no reply in time
        return await real(command, aggregate_id, **kwargs)

    monkeypatch.setattr(ec.commands, "send", membership_lost_once)
    with as_node(monkeypatch, ec):
        document = IMPORT.replace("($input: ImportRecordInput!)",
                                  "($input: ImportRecordInput!, $key: String)").replace(
            "importRecord(input: $input)", "importRecord(input: $input, idempotencyKey: $key)")
        first = (await ec.ok(document, QUITO_STAFF, input=import_input(record["credential"]),
                             key="arrival-1"))["importRecord"]
        assert first["__typename"] == "Unavailable", first
        assert ec.views.get("members", rosa).memberships == []  # imported, not yet joined
        again = (await ec.ok(document, QUITO_STAFF, input=import_input(record["credential"]),
                             key="arrival-1"))["importRecord"]
    assert again["__typename"] == "RecordImportedHere" and again["membershipStarted"], again
    assert [ms.cooperative_id for ms in ec.views.get("members", rosa).memberships] == [QUITO]


async def test_an_import_sent_again_over_a_week_later_is_answered_as_done(
        federation_pair, monkeypatch):
    """A review of issue 21: once the services forget outcomes after the week, the same
    import sent again (its ids derived from the credential, with no key) was answered
    ``IdempotencyKeyExpired`` for good; her record shows both steps done, so it is
    ``RecordImportedHere``, and nothing is decided again."""
    es, ec = federation_pair
    ec.commands.logs["membership"].forget = True  # as every processor, by default
    rosa = (await rosa_joins(es))["rosa"]
    await consent(es, rosa)
    record = await export(monkeypatch, es, rosa)
    with as_node(monkeypatch, ec):
        first = (await ec.ok(IMPORT, QUITO_STAFF, input=import_input(record["credential"])))
        assert first["importRecord"]["membershipStarted"], first
        with ec.on("2026-11-25"), es.on("2026-11-25"):  # ten days on: another command
            # moves the log's clock (and the host's status list is a fresh one)
            other = cooperative(new_id(), "Otra", "EC", "USD", "10.00")
            other["node"] = "ec"
            assert (await ec.mutate("registerCooperative", other))["__typename"] == \
                "CommandAccepted"
            again = (await ec.ok(IMPORT, QUITO_STAFF,
                                 input=import_input(record["credential"])))["importRecord"]
    assert again == {"__typename": "RecordImportedHere", "memberId": rosa,
                     "credentialId": record["credentialId"], "membershipStarted": False}
    assert [ms.cooperative_id for ms in ec.views.get("members", rosa).memberships] == [QUITO]
    assert len(ec.views.get("members", rosa).imports) == 1


async def test_her_global_id_taken_at_home_before_she_returns_stops_the_import(
        federation_pair, monkeypatch):
    """Issue 18: her global id is printed on her record; a cooperative at home registers it
    before she comes back. Her import then neither keeps the squatter's details nor joins
    her: it is refused, nothing is recorded, and the squatter cannot start her membership
    either (a first membership is the registering cooperative's to start)."""
    es, ec = federation_pair
    rosa = (await rosa_joins(es))["rosa"]
    await consent(es, rosa)
    record = await export(monkeypatch, es, rosa)
    squatter = new_id()
    with as_node(monkeypatch, ec):
        data = cooperative(squatter, "Aprovechada", "EC", "USD", "10.00")
        data["node"] = "ec"
        assert (await ec.mutate("registerCooperative", data))["__typename"] == "CommandAccepted"
        taken = await ec.mutate("registerMember", {"memberId": rosa,  # her very details
                                                   "personal": ROSA_DETAILS},
                                Caller("s", Role.STAFF, squatter))
        assert taken["__typename"] == "CommandAccepted"
        assert ec.views.get("members", rosa).registered_by == squatter
        claimed = await ec.mutate("startMembership", {
            "memberId": rosa, "cooperativeId": QUITO, "startedOn": "2026-11-15",
            "shareCapitalRequired": {"amount": "10.00", "currency": "USD"}}, QUITO_STAFF)
        assert claimed["__typename"] == "NotAuthorized"  # Quito did not register her
        refused = (await ec.ok(IMPORT, QUITO_STAFF, input=import_input(
            record["credential"])))["importRecord"]
    assert refused["__typename"] == "MemberIdInUse", refused
    known = ec.views.get("members", rosa)
    assert known.memberships == [] and known.imports == []


async def test_a_record_naming_someone_else_than_the_member_known_here_is_refused(
        federation_pair, monkeypatch):
    es, ec = federation_pair
    rosa = (await rosa_joins(es))["rosa"]
    await consent(es, rosa)
    record = await export(monkeypatch, es, rosa)
    with as_node(monkeypatch, ec):
        for name, input in (
                ("registerMember", {"memberId": rosa, "personal": {
                    **ROSA_DETAILS, "dateOfBirth": "1990-01-01"}}),
                ("startMembership", {"memberId": rosa, "cooperativeId": QUITO,
                                     "startedOn": "2026-11-15", "shareCapitalRequired": {
                                         "amount": "10.00", "currency": "USD"}})):
            assert (await ec.mutate(name, input, QUITO_STAFF))["__typename"] == \
                "CommandAccepted"
        refused = (await ec.ok(IMPORT, QUITO_STAFF, input=import_input(
            record["credential"])))["importRecord"]
    assert refused["__typename"] == "IdentityMismatch", refused
    assert ec.views.get("members", rosa).imports == []


async def test_revoking_her_consent_or_erasing_her_revokes_what_was_shared(
        federation_pair, monkeypatch):
    es, ec = federation_pair
    rosa = (await rosa_joins(es))["rosa"]
    consent_id = await consent(es, rosa)
    record = await export(monkeypatch, es, rosa)
    assert (await verify(monkeypatch, ec, record["credential"]))["valid"]
    await es.mutate("revokeConsent", {"memberId": rosa, "consentId": consent_id}, MADRID_STAFF)
    status_lists._LISTS.clear()  # the verifier's copy of the list expires (here: at once)
    after = await verify(monkeypatch, ec, record["credential"])
    assert {c["name"]: c["reason"] for c in after["checks"]}["revocation"] == \
        "the credential is revoked"

    # erasure: a record shared under another consent, and her certificates, stop verifying
    await consent(es, rosa)
    kept = await export(monkeypatch, es, rosa)
    assert (await verify(monkeypatch, ec, kept["credential"]))["valid"]
    erased = await es.mutate("eraseMember", {"memberId": rosa}, Caller("jefa", Role.ADMIN,
                                                                       AHORRO))
    assert erased["__typename"] == "CommandAccepted", erased
    status_lists._LISTS.clear()
    gone = await verify(monkeypatch, ec, kept["credential"])
    assert not gone["valid"]
    with as_node(monkeypatch, ec):
        refused = (await ec.ok(IMPORT, QUITO_STAFF, input=import_input(
            kept["credential"])))["importRecord"]
    assert refused["__typename"] == "RecordNotVerified"


def record_fetches(monkeypatch) -> list[str]:
    """Every status list URL the gateway asks its peer for (none is answered)."""
    fetched: list[str] = []

    async def fetch(url):
        fetched.append(url)
        return None
    monkeypatch.setattr(status_lists, "fetch_status_list", fetch)
    return fetched


async def test_an_unsigned_or_odd_credential_gets_every_check_and_fetches_nothing(
        federation_pair, monkeypatch):
    es, ec = federation_pair
    fetched = record_fetches(monkeypatch)

    def unsigned(claims):
        def part(data):
            return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
        return f"{part({'alg': 'EdDSA', 'typ': 'vc+jwt'})}.{part(claims)}.{part({'x': 1})}"

    status = {"type": "BitstringStatusListEntry", "statusPurpose": "revocation",
              "statusListIndex": "1",
              "statusListCredential": HOST_URL + "/credentials/status/../../metrics"}
    for claims in ({"type": 5, "@context": 7, "issuer": {"id": [1, 2]}},
                   {"issuer": "urn:coopbridge:node:es", "credentialStatus": status,
                    "type": ["VerifiableCredential"], "validFrom": 3},
                   "not even an object"):
        token = unsigned(claims) if isinstance(claims, dict) else claims
        result = await verify(monkeypatch, ec, token)
        assert result["valid"] is False
        assert {c["name"] for c in result["checks"]} >= {"format", "issuer", "signature",
                                                          "validity", "revocation"}
    assert fetched == []


async def test_a_signed_record_naming_a_crooked_status_url_fails_closed_without_a_fetch(
        federation_pair, monkeypatch):
    es, ec = federation_pair
    from gateway.records import credentials as vc
    fetched = record_fetches(monkeypatch)
    claims = vc.member_record_credential(
        node="es", credential_id=new_id(), subject={"id": "urn:x"}, valid_from=NOW,
        valid_until=NOW + dt.timedelta(days=1),
        status_list=HOST_URL + "/credentials/status/../../admin", status_index=1)
    with monkeypatch.context() as inside:
        inside.setenv("COOPBRIDGE_PUBLIC_URL", HOST_URL)
        token = vc.sign_credential(claims, signing_key("es"))
    result = await verify(monkeypatch, ec, token)
    assert {c["name"]: c["reason"] for c in result["checks"]}["revocation"] == \
        "the status list could not be checked"
    assert fetched == []


async def test_an_import_that_cannot_start_her_membership_records_nothing(
        federation_pair, monkeypatch):
    es, ec = federation_pair
    rosa = (await rosa_joins(es))["rosa"]
    await consent(es, rosa)
    record = await export(monkeypatch, es, rosa)
    with as_node(monkeypatch, ec):
        refused = (await ec.ok(IMPORT, QUITO_STAFF, input=import_input(
            record["credential"], currency="EUR")))["importRecord"]
    assert refused["__typename"] == "CurrencyMismatch"
    assert ec.views.get("members", rosa) is None


async def test_an_erased_member_is_not_brought_back_by_an_import(federation_pair, monkeypatch):
    es, ec = federation_pair
    rosa = (await rosa_joins(es))["rosa"]
    await consent(es, rosa)
    record = await export(monkeypatch, es, rosa)
    with as_node(monkeypatch, ec):
        assert (await ec.ok(IMPORT, QUITO_STAFF, input=import_input(
            record["credential"])))["importRecord"]["__typename"] == "RecordImportedHere"
        erased = await ec.mutate("eraseMember", {"memberId": rosa},
                                 Caller("j", Role.ADMIN, QUITO))
        assert erased["__typename"] == "CommandAccepted", erased
        again = (await ec.ok(IMPORT, QUITO_STAFF, input={
            **import_input(record["credential"]), "startedOn": "2026-11-15"}))["importRecord"]
    assert again["__typename"] == "MemberErased"


async def test_by_default_an_export_carries_what_the_chosen_consent_grants(
        federation_pair, monkeypatch):
    es, ec = federation_pair
    rosa = (await rosa_joins(es))["rosa"]
    await consent(es, rosa, scopes=("MEMBERSHIP",))
    await es.mutate("grantConsent", {
        "memberId": rosa, "consentId": new_id(), "granteeKind": "COOPERATIVE", "grantee": QUITO,
        "scopes": ["SAVINGS"], "expiresAt": (NOW + dt.timedelta(days=60)).isoformat()},
        MADRID_STAFF)
    record = await export(monkeypatch, es, rosa)
    assert record["__typename"] == "ExportedRecord", record
    subject = (await verify(monkeypatch, ec, record["credential"]))["record"]
    assert subject["scopes"] == ["savings"]


def test_an_amount_in_a_record_is_read_exactly_as_records_write_it():
    """A signed record carries amounts as plain decimal strings with an ISO 4217 code (as
    this node writes them); a JSON number or a lowercase code is refused, not coerced."""
    def subject(amount) -> dict:
        return {"memberships": [{"cooperative": {"name": "Ahorro", "country": "ES"},
                                 "role": "member", "startedOn": "2019-05-06",
                                 "shareCapital": amount}]}
    kept = imported_history(subject({"amount": "50.00", "currency": "EUR"}))
    assert kept.memberships[0].share_capital == m.Money(5000, "EUR")
    for wrong in ({"amount": 1e3, "currency": "EUR"}, {"amount": 50, "currency": "EUR"},
                  {"amount": "1e3", "currency": "EUR"}, {"amount": "50.00", "currency": "eur"}):
        with pytest.raises(ValueError):
            imported_history(subject(wrong))


SHEET = """query($id: ID!, $languages: [String!]) { printableRecord(memberId: $id) {
  sheet(languages: $languages) { tables { key rows { cells { text } } } } } }"""


async def test_her_part_in_assemblies_abroad_comes_home_with_her_record(
        federation_pair, monkeypatch):
    """Issue 24: she was on the roll of her Madrid cooperative's assembly and voted at the
    meeting; under her governance consent her record says so, and at home her imported record
    shows the assembly, how she voted and its title in the reader's language (never her
    choice)."""
    es, ec = federation_pair
    assembly, surplus, members = await an_assembly(es)
    rosa = members["rosa"]
    with es.on("2026-11-30"):
        accepted(await es.mutate("checkInMember", {"assemblyId": assembly, "memberId": rosa},
                                 MADRID_STAFF))
        accepted(await ballot(es, "recordPaperBallot", MADRID_STAFF, {
            "assemblyId": assembly, "motionId": surplus, "memberId": rosa,
            "choices": ["against"]}))
    with es.on("2026-12-01"):
        accepted(await es.mutate("closeVoting", {"assemblyId": assembly}, MADRID_STAFF))
    with es.on("2026-12-02"):
        await consent(es, rosa, ("IDENTITY", "MEMBERSHIP", "GOVERNANCE"))
        record = await export(monkeypatch, es, rosa)
    assert record["__typename"] == "ExportedRecord", record
    with as_node(monkeypatch, ec), ec.on("2026-12-03"), es.on("2026-12-03"):
        imported = (await ec.ok(IMPORT, QUITO_STAFF, input={
            "credential": record["credential"], "cooperativeId": QUITO,
            "startedOn": "2026-12-03",
            "shareCapitalRequired": {"amount": "10.00", "currency": "USD"}}))["importRecord"]
        assert imported["__typename"] == "RecordImportedHere", imported
        data = await ec.ok("""query($id: ID!) { member(id: $id) { importedRecords {
            assemblies { cooperativeName country meetingOn voted offices
                         title(lang: ["en"]) { text language fallback } } } } }""",
                           QUITO_STAFF, id=rosa)
        [column] = (await ec.ok(SHEET, QUITO_STAFF, id=rosa, languages=["es"]))[
            "printableRecord"]["sheet"]
    [row] = next(t for t in column["tables"] if t["key"] == "assemblies")["rows"]
    assert [cell["text"] for cell in row["cells"]][::3] == ["Asamblea general", "sí, en persona"]
    assert "Ahorro Solidario Madrid" in row["cells"][1]["text"]
    assert data["member"]["importedRecords"] == [{"assemblies": [{
        "cooperativeName": "Ahorro Solidario Madrid", "country": "ES",
        "meetingOn": "2026-11-30", "voted": "in_person", "offices": [],
        # (the record is written in her cooperative's and her languages: Spanish, so a reader
        # of English gets the Spanish title, marked)
        "title": {"text": "Asamblea general", "language": "es", "fallback": True}}]}]
    assert "against" not in record["credential"]  # (a JWS: its payload is base64url)
    payload = json.loads(base64.urlsafe_b64decode(record["credential"].split(".")[1] + "=="))
    assert "against" not in json.dumps(payload)


def test_an_odd_assembly_in_a_record_is_left_out_never_the_whole_record():
    good = {"meetingOn": "2030-01-15", "voted": None, "offices": ["Presidenta"],
            "cooperative": {"name": "Ahorro", "country": "ES"}}  # a meeting still to come
    subject = {"assemblies": ["not an assembly", {"meetingOn": "yesterday"}, good,
                              {**good, "voted": "by_carrier_pigeon", "offices": "Presidenta"},
                              {**good, "cooperative": "Ahorro"}] + [good] * 300}
    assemblies = imported_history(subject).assemblies
    assert len(assemblies) == 200  # the contract's bound
    first, odd = assemblies[:2]
    assert (first.meeting_on.isoformat(), first.offices, first.voted) == (
        "2030-01-15", ["Presidenta"], None)
    assert (odd.voted, odd.offices) == (None, [])  # a newer way of voting, no list of offices


def test_a_record_exported_before_assemblies_named_their_cooperative_still_imports():
    subject = {"assemblies": [{"assemblyId": new_id(), "cooperativeId": new_id(),
                               "meetingOn": "2026-11-30", "voted": "remote", "offices": []}]}
    [assembly] = imported_history(subject).assemblies
    assert (assembly.cooperative_name, assembly.country, assembly.voted, assembly.titles) == (
        "unnamed", None, "remote", {})
