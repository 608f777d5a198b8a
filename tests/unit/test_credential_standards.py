"""What the gateway signs, against the standards' own checks, offline: every portable record
(each combination of scopes), every certificate, the status lists and the printable summary
pass the W3C VC 2.0 JSON Schema (certificates the 1EdTech Open Badges 3.0 one too) and expand
as JSON-LD with only the contexts vendored in ``tests/standards``, with nothing dropped and no
relative IRI left. Also what Open Badges 3.0 asks of the JWT around a certificate (``iss``,
``jti``, ``nbf``, ``sub``, ``exp`` beside the credential, a ``kid`` that resolves to the key)
and an ESCO alignment named for what it is.

PyLD has no JSON-LD 1.1 "safe mode" of its own (jsonld.js has). ``expand_safely`` does what
safe mode does for the documents here: it fails on every property expansion drops (PyLD
reports each one to ``on_property_dropped``) and on every ``@id`` or ``@type`` that is still a
relative IRI after expansion. ``test_the_checks_themselves_catch_what_they_look_for`` shows
each check failing where it must."""

from __future__ import annotations

import base64
import datetime as dt
import functools
import itertools
import json
import re
from pathlib import Path

import httpx
import jsonschema
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from joserfc import jws
from joserfc.jwk import KeySet, OKPKey
from pyld import jsonld

from gateway.documents import accounts_of
from gateway.records import credentials as vc
from gateway.records import status_lists
from gateway.app import create_app
from services.runtime.ids import new_id
from tests.unit.test_gateway_federation import (  # noqa: F401 (federation_pair: a fixture)
    EXPORT,
    HOST_URL,
    QUITO,
    as_node,
    consent,
    federation_pair,
)
from tests.unit.test_gateway_schema import ADMIN, AHORRO, MADRID_STAFF, NOW, cooperative
from tests.unit.test_printable_record import (
    PRINTABLE,
    certified,
    payload,
    rosas_history,
    take_steps,
)

STANDARDS = Path(__file__).parents[1] / "standards"
CONTEXTS = {
    "https://www.w3.org/ns/credentials/v2": "w3c/credentials-v2.jsonld",
    "https://www.w3.org/ns/credentials/undefined-terms/v2":
        "w3c/credentials-undefined-terms-v2.jsonld",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json":
        "1edtech/ob-context-3.0.3.json",
}
VC_SCHEMA = "w3c/verifiable-credential-schema.json"
OB_SCHEMA = "1edtech/ob_v3p0_achievementcredential_schema.json"
SCOPES = ("identity", "membership", "savings", "training")
COMBINATIONS = [c for n in range(1, 5) for c in itertools.combinations(SCOPES, n)]
JWT_CLAIMS = ("iss", "jti", "nbf", "sub", "exp")
TOUR_SKILL = "http://data.europa.eu/esco/skill/7c1b6a2e-4b3e-4a47-9a3e-0a5b1f7c2d11"
GUIDES_GROUP = "http://data.europa.eu/esco/isco/C5113"


# -- the checks ------------------------------------------------------------------------------


def vendored_context(url: str, options=None) -> dict:
    """A document loader that serves the vendored contexts and nothing else (no network)."""
    if url not in CONTEXTS:
        raise ValueError(f"no vendored context for {url}")
    return {"contextUrl": None, "documentUrl": url,
            "document": json.loads((STANDARDS / CONTEXTS[url]).read_text())}


_ABSOLUTE_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")
#: The base IRI expansion resolves relative IRIs against (PyLD would use one of its own): a
#: name that cannot exist (RFC 2606), so that whatever was relative is seen afterwards.
RELATIVE = "https://relative-iri.invalid/"


def _relative_iris(node) -> list[str]:
    """Every ``@id`` and ``@type`` of expanded JSON-LD that was a relative IRI (a blank node
    ``_:`` and a keyword such as ``@json`` are fine)."""
    if isinstance(node, list):
        return [iri for item in node for iri in _relative_iris(item)]
    if not isinstance(node, dict):
        return []
    found = []
    for key, value in node.items():
        if key in ("@id", "@type"):
            for iri in value if isinstance(value, list) else [value]:
                if iri.startswith(RELATIVE) or not (_ABSOLUTE_IRI.match(iri)
                                                    or iri.startswith("@")):
                    found.append(f"{key} {iri!r}")
        elif key != "@value":
            found += _relative_iris(value)
    return found


def expand_safely(document: dict) -> list:
    """The expanded document; AssertionError when expansion dropped a property (a term no
    context defines) or left a relative IRI, as JSON-LD 1.1 safe mode would."""
    dropped: list = []
    expanded = jsonld.expand(document, {"documentLoader": vendored_context, "base": RELATIVE},
                             on_property_dropped=dropped.append)
    assert dropped == [], f"terms no context defines: {dropped}"
    relative = _relative_iris(expanded)
    assert relative == [], f"relative IRIs: {relative}"
    assert len(expanded) == 1 and "https://www.w3.org/2018/credentials#VerifiableCredential" \
        in expanded[0]["@type"], expanded
    return expanded


@functools.cache
def _validator(schema_file: str):
    schema = json.loads((STANDARDS / schema_file).read_text())
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    # the standards' validators check formats; so does this one (rfc3339-validator: date-time)
    assert {"date", "date-time"} <= set(cls.FORMAT_CHECKER.checkers)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def schema_errors(schema_file: str, document: dict) -> list[str]:
    return [f"{error.json_path}: {error.message}"
            for error in _validator(schema_file).iter_errors(document)]


def header(token: str) -> dict:
    head = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))


# -- what the gateway signs ------------------------------------------------------------------


async def rosas_whole_history(es) -> str:
    """Rosa with every part a record can hold: her shares, a board seat, savings, a loan,
    remittances, a language certificate and a vocational one aligned to ESCO and ISCO-08."""
    rosa = await rosas_history(es)
    shares, worker_coop = new_id(), new_id()
    data = cooperative(worker_coop, "Guías de Lavapiés", "ES", "EUR", "10.00")
    data["node"] = "es"
    assert (await es.mutate("registerCooperative", data))["__typename"] == "CommandAccepted"
    account = accounts_of(es.views, rosa)[0]
    await take_steps(es, [
        ("openAccount", {"accountId": shares, "memberId": rosa, "cooperativeId": AHORRO,
                         "product": "SHARE_CAPITAL", "currency": "EUR"}, MADRID_STAFF),
        ("purchaseShares", {"accountId": shares, "shares": 2}, MADRID_STAFF),
        ("startMembership", {"memberId": rosa, "cooperativeId": worker_coop,
                             "startedOn": "2024-03-01", "role": "BOARD_MEMBER",
                             "shareCapitalRequired": {"amount": "10.00", "currency": "EUR"}},
         ADMIN),
        ("sendRemittance", {"accountId": account, "remittanceId": new_id(),
                            "amount": {"amount": "150.00", "currency": "EUR"},
                            "to": {"payout": {"country": "EC", "currency": "USD",
                                              "recipient": {"fullName": "Elvira"}}}},
         MADRID_STAFF),
        *certified(rosa, {
            "kind": "VOCATIONAL", "titles": [{"language": "es",
                                              "title": "Guía turística de Madrid"}],
            "skills": [{"esco": {"uri": TOUR_SKILL}}, {"esco": {"uri": GUIDES_GROUP}},
                       {"isco08": {"code": "5113"}}],
            "hours": 60, "startsOn": "2026-03-02", "endsOn": "2026-06-26", "capacity": 20},
            {"score": 91}),
    ])
    return rosa


async def exported(monkeypatch, es, rosa, scopes, recipient=None) -> dict:
    with as_node(monkeypatch, es):
        record = (await es.ok(EXPORT, MADRID_STAFF, input={
            "memberId": rosa, "recipient": recipient or {"cooperative": QUITO},
            "scopes": list(scopes)}))["exportRecord"]
    assert record["__typename"] == "ExportedRecord", record
    return record


@pytest.fixture
async def rosa(federation_pair, monkeypatch):  # noqa: F811 (the fixture imported above)
    es, _ = federation_pair
    rosa = await rosas_whole_history(es)
    await consent(es, rosa)
    return es, rosa


# -- records ---------------------------------------------------------------------------------


@pytest.mark.parametrize("scopes", COMBINATIONS, ids="+".join)
async def test_every_record_passes_the_vc_schema_and_expands_with_every_term_defined(
        rosa, monkeypatch, scopes):
    es, member = rosa
    record = payload((await exported(monkeypatch, es, member, scopes))["credential"])
    assert set(record["credentialSubject"]["scopes"]) == set(scopes)
    assert schema_errors(VC_SCHEMA, record) == []
    expand_safely(record)


async def test_a_record_shared_with_a_node_names_it_by_an_absolute_iri(
        rosa, monkeypatch):
    es, member = rosa
    await es.mutate("grantConsent", {
        "memberId": member, "consentId": new_id(), "granteeKind": "NODE", "grantee": "ec",
        "scopes": ["MEMBERSHIP"], "expiresAt": (NOW + dt.timedelta(days=30)).isoformat()},
        MADRID_STAFF)
    record = payload((await exported(monkeypatch, es, member, ["membership"],
                                     {"node": "ec"}))["credential"])
    assert record["credentialSubject"]["sharedWith"] == {"type": "node",
                                                         "id": "urn:coopbridge:node:ec"}
    assert schema_errors(VC_SCHEMA, record) == []
    expand_safely(record)


async def test_cooperatives_in_a_record_are_named_by_urn_uuid(rosa, monkeypatch):
    es, member = rosa
    subject = payload((await exported(monkeypatch, es, member, ["membership"]))[
        "credential"])["credentialSubject"]
    assert subject["sharedWith"] == {"type": "cooperative", "id": f"urn:uuid:{QUITO}",
                                     "join": True}  # her consent lets Quito admit her
    assert subject["memberships"][0]["cooperative"]["id"] == f"urn:uuid:{AHORRO}"
    assert [m["cooperative"]["id"].startswith("urn:uuid:") for m in subject["memberships"]] \
        == [True, True]


# -- certificates ----------------------------------------------------------------------------


async def certificates_of(monkeypatch, es, member) -> list[str]:
    certificates = (await exported(monkeypatch, es, member, ["training"]))["certificates"]
    assert len(certificates) == 2
    return certificates


async def test_every_certificate_passes_the_open_badges_and_vc_schemas_and_expands(
        rosa, monkeypatch):
    es, member = rosa
    for token in await certificates_of(monkeypatch, es, member):
        certificate = payload(token)
        assert schema_errors(OB_SCHEMA, certificate) == []
        assert schema_errors(VC_SCHEMA, certificate) == []
        expand_safely(certificate)


async def test_an_esco_alignment_is_named_for_what_it_is_not_by_its_uris_last_segment(
        rosa, monkeypatch):
    es, member = rosa
    vocational = [payload(t) for t in await certificates_of(monkeypatch, es, member)
                  if payload(t)["name"] == "Guía turística de Madrid"]
    [certificate] = vocational
    alignments = {(a["targetFramework"], a["targetUrl"]): a for a in
                  certificate["credentialSubject"]["achievement"]["alignment"]}
    skill, group = alignments["ESCO", TOUR_SKILL], alignments["ESCO", GUIDES_GROUP]
    isco = alignments["ISCO-08", GUIDES_GROUP]  # ESCO's concept of the ISCO-08 group
    # no label travels with a skill (the course offer names it by its URI): the name says
    # what the alignment is, the code and URL say which, ESCO's label is one request away
    assert skill["targetName"] == "Guía turística de Madrid: ESCO skill"
    assert group["targetName"] == "Guía turística de Madrid: ESCO occupation group"
    assert isco["targetName"] == "Guía turística de Madrid: ISCO-08 occupation group"
    assert (skill["targetCode"], group["targetCode"], isco["targetCode"]) == (
        TOUR_SKILL.rsplit("/", 1)[1], "C5113", "5113")
    for alignment in (skill, group, isco):
        assert alignment["targetCode"] not in alignment["targetName"]
        assert "label" in alignment["targetDescription"]


# -- status lists and the printable summary --------------------------------------------------


async def test_the_status_lists_and_the_printable_summary_pass_too(rosa, monkeypatch):
    es, member = rosa
    record = await exported(monkeypatch, es, member, SCOPES)
    with as_node(monkeypatch, es):
        status = status_lists.signed_status_list(
            "es", record["statusList"].rsplit("/", 1)[1], es.views, NOW)
        summary = (await es.ok(PRINTABLE, MADRID_STAFF, id=member))["printableRecord"]
    for token in (status, summary["credential"]):
        claims = payload(token)
        assert schema_errors(VC_SCHEMA, claims) == []
        expand_safely(claims)


# -- the JWT around a credential -------------------------------------------------------------


def numeric_date(stamp: str) -> int:
    return int(vc.date_of(stamp).timestamp())


async def test_the_jwt_claims_open_badges_asks_for_stand_beside_the_credential(
        rosa, monkeypatch):
    es, member = rosa
    record = await exported(monkeypatch, es, member, SCOPES)
    for token in (record["credential"], *record["certificates"]):
        claims = payload(token)
        credential = {k: v for k, v in claims.items() if k not in JWT_CLAIMS}
        expected = {"iss": credential["issuer"]["id"] if isinstance(credential["issuer"], dict)
                    else credential["issuer"], "jti": credential["id"],
                    "sub": credential["credentialSubject"]["id"],
                    "nbf": numeric_date(credential["validFrom"])}
        if "validUntil" in credential:
            expected["exp"] = numeric_date(credential["validUntil"])
        assert {k: claims[k] for k in JWT_CLAIMS if k in claims} == expected
        assert header(token)["alg"] == "EdDSA"
    assert header(record["credential"])["typ"] == "vc+jwt"  # VC-JOSE-COSE
    assert {header(t)["typ"] for t in record["certificates"]} == {"JWT"}  # Open Badges 3.0
    assert "exp" in payload(record["credential"])
    assert all("exp" not in payload(t) for t in record["certificates"])  # they do not expire


async def test_the_kid_is_a_url_of_the_gateway_that_serves_the_key_and_the_jwks_verifies(
        rosa, monkeypatch):
    es, member = rosa
    record = await exported(monkeypatch, es, member, SCOPES)
    monkeypatch.setenv("COOPBRIDGE_PUBLIC_URL", HOST_URL)
    app = create_app(node="es", bootstrap="127.0.0.1:9", development=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url=HOST_URL) as gateway:
        published = (await gateway.get("/.well-known/jwks.json")).json()
        for token in (record["credential"], *record["certificates"]):
            kid = header(token)["kid"]
            assert kid.startswith(f"{HOST_URL}/keys/urn:ietf:params:oauth:jwk-thumbprint:"
                                  "sha-256:")
            response = await gateway.get(kid.removeprefix(HOST_URL))
            assert response.status_code == 200
            assert response.headers["content-type"] == "application/jwk+json"
            jwk = response.json()
            assert jwk["kid"] == kid and "d" not in jwk
            # the key the kid names verifies it, and so does the JWKS alone (found by kid)
            jws.deserialize_compact(token, OKPKey.import_key(jwk), algorithms=["EdDSA"])
            verified = jws.deserialize_compact(token, KeySet.import_key_set(published),
                                               algorithms=["EdDSA"])
            assert json.loads(verified.payload) == payload(token)
        elsewhere = await gateway.get(kid.removeprefix(HOST_URL)[:-4] + "AAAA")
        assert elsewhere.status_code == 404


# -- the checks catch what they look for -----------------------------------------------------


def test_the_checks_themselves_catch_what_they_look_for():
    key = Ed25519PrivateKey.generate()
    certificate = vc.certificate_credential(
        node="es", issuer_name="Ahorro Solidario Madrid", credential_id=new_id(),
        subject_id=f"urn:coopbridge:member:{new_id()}",
        achievement={"id": f"urn:uuid:{new_id()}", "name": "Español B1",
                     "description": "Spanish, intermediate", "criteria": "Passed B1",
                     "achievementType": "Course"},
        valid_from=NOW, valid_until=None, status_list=f"{HOST_URL}/credentials/status/1",
        status_index=3)
    claims = payload(vc.sign_credential(certificate, key))
    assert schema_errors(OB_SCHEMA, claims) == [] and expand_safely(claims)
    undefined = {**claims, "memberId": "0192d3c4"}  # no context defines it, no @vocab here
    with pytest.raises(AssertionError, match="terms no context defines"):
        expand_safely(undefined)
    relative = {**claims, "credentialSubject": {**claims["credentialSubject"], "id": "ec"}}
    with pytest.raises(AssertionError, match="relative IRIs"):
        expand_safely(relative)
    elsewhere = {**claims, "@context": [*claims["@context"], "https://example.org/ctx"]}
    with pytest.raises(jsonld.JsonLdError):
        expand_safely(elsewhere)
    assert schema_errors(OB_SCHEMA, {**claims, "validFrom": "15/11/2026"})
    assert schema_errors(OB_SCHEMA, {**claims, "type": ["VerifiableCredential"]})
    assert schema_errors(VC_SCHEMA, {**claims, "@context": [vc.OB3_CONTEXT, vc.CONTEXT]})


# -- a record in two languages (issue 23) ----------------------------------------------------

COOKING = {"kind": "VOCATIONAL", "titles": [
    {"language": "es", "title": "Cocina comunitaria",
     "criteria": "Cocinó para 50 personas con productos de temporada"},
    {"language": "ar", "title": "الطبخ المجتمعي", "criteria": "طبخت لخمسين شخصًا"}],
           "skills": [{"isco08": {"code": "5120"}}], "hours": 40, "startsOn": "2026-03-02",
           "endsOn": "2026-06-26", "capacity": 20}


async def test_a_record_in_two_languages_carries_them_signed_and_passes_the_standards(
        rosa, monkeypatch):
    es, member = rosa
    await take_steps(es, certified(member, COOKING, {"score": 80}))
    with as_node(monkeypatch, es):
        record = (await es.ok(EXPORT, MADRID_STAFF, input={
            "memberId": member, "recipient": {"cooperative": QUITO},
            "scopes": list(SCOPES), "languages": ["ar", "es-EC"]}))["exportRecord"]
    assert record["__typename"] == "ExportedRecord", record
    # verified by a JOSE library that is not the gateway's, with the node's published keys
    monkeypatch.setenv("COOPBRIDGE_PUBLIC_URL", HOST_URL)
    app = create_app(node="es", bootstrap="127.0.0.1:9", development=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url=HOST_URL) as gateway:
        keys = KeySet.import_key_set((await gateway.get("/.well-known/jwks.json")).json())
    signed = [json.loads(jws.deserialize_compact(token, keys, algorithms=["EdDSA"]).payload)
              for token in (record["credential"], *record["certificates"])]
    credential, *certificates = signed
    assert [n["@language"] for n in credential["name"]] == ["ar", "es"]
    assert credential["name"][0]["@direction"] == "rtl"
    assert credential["name"][1]["@value"] == "Historial de membresía cooperativa"
    [cooking] = [c for c in credential["credentialSubject"]["training"]["certificates"]
                 if c["title"] == "Cocina comunitaria"]
    assert cooking["titles"] == [
        {"@value": "الطبخ المجتمعي", "@language": "ar", "@direction": "rtl"},
        {"@value": "Cocina comunitaria", "@language": "es"}]
    assert schema_errors(VC_SCHEMA, credential) == []
    expand_safely(credential)
    [badge] = [c for c in certificates if c["credentialSubject"]["achievement"][
        "nameInLanguages"][0]["@value"] == "الطبخ المجتمعي"]
    achievement = badge["credentialSubject"]["achievement"]
    assert (achievement["inLanguage"], achievement["name"]) == ("ar", "الطبخ المجتمعي")
    assert [d["@language"] for d in achievement["descriptionInLanguages"]] == ["ar", "es"]
    # the criteria as the course wrote them, in each language, inside the signed payload
    assert achievement["criteria"]["narrative"] == "طبخت لخمسين شخصًا"
    assert achievement["criteria"]["narrativeInLanguages"] == [
        {"@value": "طبخت لخمسين شخصًا", "@language": "ar", "@direction": "rtl"},
        {"@value": "Cocinó para 50 personas con productos de temporada", "@language": "es"}]
    # a course that wrote none: the catalogue's sentence, in each language
    [other] = [c for c in certificates if c["credentialSubject"]["achievement"]["name"]
               == "Español B1"]
    narrative = other["credentialSubject"]["achievement"]["criteria"]["narrativeInLanguages"]
    assert [n["@language"] for n in narrative] == ["es"] and re.fullmatch(
        r"Completó \d+ horas de Español B1 y aprobó su evaluación", narrative[0]["@value"])
    for certificate in certificates:
        assert schema_errors(OB_SCHEMA, certificate) == []
        assert schema_errors(VC_SCHEMA, certificate) == []
        expanded = expand_safely(certificate)
        assert "@language" in json.dumps(expanded)  # the maps survive expansion


async def test_a_course_titled_only_in_spanish_asked_in_quechua_keeps_its_spanish_title(
        rosa, monkeypatch):
    es, member = rosa
    with as_node(monkeypatch, es):
        record = (await es.ok(EXPORT, MADRID_STAFF, input={
            "memberId": member, "recipient": {"cooperative": QUITO},
            "scopes": ["training"], "languages": ["qu"]}))["exportRecord"]
        wrong = (await es.ok(EXPORT, MADRID_STAFF, input={
            "memberId": member, "recipient": {"cooperative": QUITO},
            "scopes": ["training"], "languages": ["not a tag!"]}))["exportRecord"]
    assert wrong["code"] == "ValidationError"
    subject = payload(record["credential"])["credentialSubject"]
    assert {c["titles"][0]["@language"] for c in subject["training"]["certificates"]} == {"es"}
    badge = payload(record["certificates"][0])["credentialSubject"]["achievement"]
    assert badge["inLanguage"] == "es"  # the language it is written in, not the one asked
