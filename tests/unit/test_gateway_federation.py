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

from gateway import federation
from gateway.auth import Caller, Role
from services import config
from services.runtime.ids import new_id
from services.runtime.keys import jwks, signing_key
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
        assert url.startswith(HOST_URL + federation.STATUS_PATH)
        with monkeypatch.context() as inside:
            inside.setenv("COOPBRIDGE_PUBLIC_URL", HOST_URL)
            return federation.signed_status_list(
                "es", url.rsplit("/", 1)[-1], es.views, NOW)
    monkeypatch.setattr(federation, "fetch_status_list", fetch)

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
    ... on Problem { code message } } }"""


async def consent(es, rosa, scopes=("IDENTITY", "MEMBERSHIP", "SAVINGS", "TRAINING")):
    consent_id = new_id()
    result = await es.mutate("grantConsent", {
        "memberId": rosa, "consentId": consent_id, "granteeKind": "COOPERATIVE",
        "grantee": QUITO, "scopes": list(scopes),
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
            "startedOn": "2026-11-20",
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
            "startedOn": "2026-11-20",
            "shareCapitalRequired": {"amount": "10.00", "currency": "USD"}}))["importRecord"]
    assert refused["__typename"] == "NotAuthorized"
    assert ec.views.get("members", rosa) is None  # nothing was recorded
