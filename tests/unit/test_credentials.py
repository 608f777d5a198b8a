"""Portable records and certificates as VC 2.0 JWS: sign, verify each check, tamper, revoke
through a Bitstring Status List, and verify with a JOSE library that is not ours (joserfc)
using only the JWKS."""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import json

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)
from joserfc import jws
from joserfc.jwk import KeySet, OKPKey

from gateway.records.credentials import (
    JWT_ID_CONTEXT,
    STATUS_LIST_SIZE,
    alignment,
    certificate_credential,
    decode_status_list,
    encode_status_list,
    is_set,
    jwt_claims,
    member_record_credential,
    node_issuer,
    sign_credential,
    status_list_credential,
)
from gateway.records.verification import verify_credential, verify_status_list
from services.runtime.keys import jwks, key_url, kid_of, public_keys

HOST = Ed25519PrivateKey.generate()
HOME = Ed25519PrivateKey.generate()
STRANGER = Ed25519PrivateKey.generate()
NOW = dt.datetime(2026, 11, 15, 10, 0, tzinfo=dt.UTC)
TRUSTED = {node_issuer("es"): jwks(HOST.public_key()),
           node_issuer("ec"): jwks(HOME.public_key())}
LIST = "https://es.coopbridge.example/status/1"
RECORD_ID = "0192d3c4-0000-7000-8000-00000000ec01"
RECORD_INDEX = 7


def rosas_record(valid_until=NOW + dt.timedelta(days=90), status_list=LIST) -> dict:
    return member_record_credential(
        node="es", credential_id=RECORD_ID,
        subject={"id": "urn:coopbridge:member:0192d3c4-0000-7000-8000-00000000a05a",
                 "memberships": [{"cooperative": "Ahorro Solidario Madrid",
                                  "startedOn": "2019-05-06"}],
                 "loans": [{"principal": {"amount": "1200.00", "currency": "EUR"},
                            "repayments": [{"instalment": 1, "timing": "on_time"}]}]},
        valid_from=NOW - dt.timedelta(minutes=1), valid_until=valid_until,
        status_list=status_list, status_index=RECORD_INDEX)


def signed_list(revoked=(), *, node="es", key=HOST, url=LIST, **dates) -> str:
    return sign_credential(status_list_credential(
        node=node, list_url=url, revoked_indices=revoked,
        valid_from=dates.get("valid_from", NOW - dt.timedelta(hours=1)),
        valid_until=dates.get("valid_until", NOW + dt.timedelta(hours=1))), key)


def lookup(*tokens: str, url: str = LIST):
    """A status function over lists already in hand: verified here, as a caller would."""
    published = dict(zip([url] * len(tokens), tokens))
    return lambda wanted: (verify_status_list(published[wanted], TRUSTED, NOW)
                           if wanted in published else None)


NOTHING_REVOKED = lookup(signed_list())


def test_a_signed_record_verifies_on_every_check():
    token = sign_credential(rosas_record(), HOST)
    result = verify_credential(token, TRUSTED, NOW, status=NOTHING_REVOKED)
    assert result.valid, result.checks
    assert result.checks == {"format": None, "issuer": None, "signature": None,
                             "validity": None, "revocation": None}
    assert result.credential["type"] == ["VerifiableCredential", "CoopbridgeMemberRecord"]
    assert result.credential["credentialStatus"] == {
        "id": f"{LIST}#7", "type": "BitstringStatusListEntry", "statusPurpose": "revocation",
        "statusListIndex": "7", "statusListCredential": LIST}


def jws_header(token: str) -> dict:
    return jwt.get_unverified_header(token)


def _segments(token: str) -> list[bytearray]:
    return [bytearray(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
            for part in token.split(".")]


def _token(segments: list[bytearray]) -> str:
    return ".".join(base64.urlsafe_b64encode(bytes(s)).rstrip(b"=").decode() for s in segments)


def test_flipping_any_byte_of_header_payload_or_signature_fails_verification():
    token = sign_credential(rosas_record(), HOST)
    segments = _segments(token)
    assert _token(segments) == token
    assert verify_credential(token, TRUSTED, NOW, status=NOTHING_REVOKED).valid
    flipped_total = 0
    for which, segment in enumerate(segments):
        for position in range(len(segment)):
            tampered = [bytearray(s) for s in segments]
            tampered[which][position] ^= 0x01
            result = verify_credential(_token(tampered), TRUSTED, NOW, status=NOTHING_REVOKED)
            assert not result.valid, (which, position)
            assert result.checks.get("signature") or result.checks["format"], (which, position)
            flipped_total += 1
    assert flipped_total == sum(len(s) for s in segments) > 500


def test_a_record_signed_by_an_untrusted_key_fails_with_that_reason():
    forged = sign_credential(rosas_record(), STRANGER)
    result = verify_credential(forged, TRUSTED, NOW, status=NOTHING_REVOKED)
    assert result.checks["signature"] == "the signature does not match the issuer's keys"
    foreign = {**rosas_record(), "issuer": node_issuer("xx")}
    result = verify_credential(sign_credential(foreign, STRANGER), TRUSTED, NOW,
                               status=NOTHING_REVOKED)
    assert result.checks["issuer"] == "the issuer is not trusted"


def test_an_expired_or_revoked_record_fails_with_that_reason():
    old = sign_credential(rosas_record(valid_until=NOW - dt.timedelta(seconds=1)), HOST)
    expired = verify_credential(old, TRUSTED, NOW, status=NOTHING_REVOKED)
    assert expired.checks["validity"] == "expired" and not expired.valid
    token = sign_credential(rosas_record(), HOST)
    revoked = verify_credential(token, TRUSTED, NOW,
                                status=lookup(signed_list(revoked={RECORD_INDEX})))
    assert revoked.checks["revocation"] == "the credential is revoked" and not revoked.valid
    assert {k: v for k, v in revoked.checks.items() if k != "revocation"} == {
        "format": None, "issuer": None, "signature": None, "validity": None}


def test_only_the_credentials_own_bit_revokes_it():
    token = sign_credential(rosas_record(), HOST)
    neighbours = lookup(signed_list(revoked={0, RECORD_INDEX - 1, RECORD_INDEX + 1,
                                             STATUS_LIST_SIZE - 1}))
    assert verify_credential(token, TRUSTED, NOW, status=neighbours).valid
    assert not verify_credential(token, TRUSTED, NOW, status=lookup(signed_list(
        revoked={RECORD_INDEX - 1, RECORD_INDEX, RECORD_INDEX + 1}))).valid


def test_without_a_status_function_the_revocation_is_reported_unchecked():
    token = sign_credential(rosas_record(), HOST)
    result = verify_credential(token, TRUSTED, NOW)
    assert result.checks["revocation"] == "the revocation status was not checked"
    assert not result.valid


def test_a_credential_issued_without_a_status_has_nothing_to_revoke():
    record = rosas_record()
    del record["credentialStatus"]
    result = verify_credential(sign_credential(record, HOST), TRUSTED, NOW)
    assert result.valid and result.checks["revocation"] is None


def test_a_status_list_signed_by_another_trusted_node_is_refused():
    token = sign_credential(rosas_record(), HOST)
    homes_list = signed_list(revoked=(), node="ec", key=HOME)
    assert verify_status_list(homes_list, TRUSTED, NOW) is not None  # trusted, but not es's
    result = verify_credential(token, TRUSTED, NOW, status=lookup(homes_list))
    assert result.checks["revocation"] == "the status list is not the issuer's"
    assert not result.valid
    impostor = signed_list(revoked=(), node="es", key=HOME)  # says es, signed by ec's key
    assert verify_status_list(impostor, TRUSTED, NOW) is None
    result = verify_credential(token, TRUSTED, NOW, status=lookup(impostor))
    assert result.checks["revocation"] == "the status list could not be checked"


@pytest.mark.parametrize("status", [
    pytest.param(lambda url: None, id="unreachable"),
    pytest.param(lookup(signed_list(valid_until=NOW - dt.timedelta(seconds=1))), id="stale"),
    pytest.param(lookup(signed_list(), url=LIST + "-other"), id="another list"),
    pytest.param(lookup(signed_list()[:-4] + "AAAA"), id="bad signature"),
    pytest.param(lookup(sign_credential(rosas_record(), HOST)), id="not a status list"),
    pytest.param(lambda url: 1 / 0, id="lookup raises"),
])
def test_an_unverifiable_status_list_fails_closed(status):
    token = sign_credential(rosas_record(), HOST)
    result = verify_credential(token, TRUSTED, NOW, status=status)
    assert result.checks["revocation"] == "the status list could not be checked"
    assert not result.valid


def test_a_status_list_for_another_url_or_purpose_or_too_short_is_refused():
    token = sign_credential(rosas_record(), HOST)
    listed = verify_status_list(signed_list(), TRUSTED, NOW)
    elsewhere = {**listed, "id": LIST + "-other"}
    suspension = {**listed, "credentialSubject": {**listed["credentialSubject"],
                                                  "statusPurpose": "suspension"}}
    short = gzip.compress(bytes(1024), mtime=0)
    too_short = {**listed, "credentialSubject": {
        **listed["credentialSubject"],
        "encodedList": "u" + base64.urlsafe_b64encode(short).rstrip(b"=").decode()}}
    for claims, reason in [
            (elsewhere, "the status list does not match the credential's status entry"),
            (suspension, "the status list does not match the credential's status entry"),
            (too_short, "the status list is malformed")]:
        result = verify_credential(token, TRUSTED, NOW, status=lambda url, c=claims: c)
        assert result.checks["revocation"] == reason and not result.valid


def test_the_status_list_round_trips_including_the_first_and_last_index():
    last = STATUS_LIST_SIZE - 1
    encoded = encode_status_list({0, 4242, last})
    assert encoded.startswith("u") and "=" not in encoded
    compressed = base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4))
    assert compressed[:2] == b"\x1f\x8b"  # GZIP (RFC 1952), not bare zlib
    bits = decode_status_list(encoded)
    assert len(bits) * 8 == STATUS_LIST_SIZE
    assert [i for i in range(STATUS_LIST_SIZE) if is_set(bits, i)] == [0, 4242, last]
    with pytest.raises(IndexError):
        is_set(bits, STATUS_LIST_SIZE)
    assert len(encoded) < 300  # a few revocations compress to a few hundred bytes


def test_index_zero_is_the_most_significant_bit_of_the_first_byte():
    bits = decode_status_list(encode_status_list({0, 9, 15, STATUS_LIST_SIZE - 1}))
    assert bits[0] == 0b1000_0000  # index 0: the left-most bit
    assert bits[1] == 0b0100_0001  # indices 9 and 15
    assert bits[-1] == 0b0000_0001  # the last index: the right-most bit
    assert not any(bits[2:-1])


def test_the_spec_example_list_decodes_to_16kb_of_zeros():
    # the encodedList of the example BitstringStatusListCredential in the W3C specification
    bits = decode_status_list("uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA")
    assert bits == bytes(16 * 1024)


@pytest.mark.parametrize("encoded", [
    encode_status_list(())[1:],  # no multibase prefix
    "z" + encode_status_list(())[1:],  # another multibase base
    "u" + base64.urlsafe_b64encode(bytes(16 * 1024)).rstrip(b"=").decode(),  # not GZIP
    "u" + base64.urlsafe_b64encode(gzip.compress(bytes(100), mtime=0)).rstrip(b"=").decode(),
    "u!!!!",
], ids=["no prefix", "another base", "not gzip", "short", "not base64"])  # (ids the same in
# every xdist worker: a value's own id could hold the second it was made)
def test_a_non_conforming_encoded_list_is_an_error(encoded):
    with pytest.raises(ValueError):
        decode_status_list(encoded)


def test_a_status_list_smaller_than_16kb_or_an_index_outside_it_is_refused():
    with pytest.raises(ValueError):
        encode_status_list((), size=STATUS_LIST_SIZE - 8)
    with pytest.raises(ValueError):
        encode_status_list({STATUS_LIST_SIZE})
    with pytest.raises(ValueError):
        encode_status_list({-1})


def test_the_status_list_credential_has_the_specs_shape():
    credential = status_list_credential(node="es", list_url=LIST, revoked_indices={3},
                                        valid_from=NOW)
    assert credential["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert credential["id"] == LIST and credential["issuer"] == node_issuer("es")
    subject = credential["credentialSubject"]
    assert {k: subject[k] for k in ("id", "type", "statusPurpose")} == {
        "id": LIST + "#list", "type": "BitstringStatusList", "statusPurpose": "revocation"}
    assert is_set(decode_status_list(subject["encodedList"]), 3)
    assert "validUntil" not in credential


TOUR_GUIDE = {
    "id": "urn:coopbridge:node:es:course:0192d3c4-0000-7000-8000-0000000c0c02",
    "name": "Guía turística de Madrid",
    "description": "Guiding groups through the city: history, routes, safety.",
    "criteria": "Attended at least 80% of 60 hours and passed the final assessment.",
    "achievementType": "Certificate",
    "alignment": [
        alignment("ESCO", "http://data.europa.eu/esco/skill/7c1b6a2e-4b3e-4a47-9a3e-0a5b1f7c2d11",
                  "guide groups of tourists"),
        alignment("ISCO-08", "5113", "Travel guides"),
    ],
}
SPANISH = {
    "id": "urn:coopbridge:node:es:course:0192d3c4-0000-7000-8000-0000000c0c01",
    "name": "Español B1",
    "description": "Spanish as a foreign language, intermediate.",
    "criteria": "Passed the course's B1 examination.",
    "achievementType": "Course",
}


def rosas_certificate(achievement=TOUR_GUIDE, **extra) -> dict:
    return certificate_credential(
        node="es", issuer_name="Ahorro Solidario Madrid",
        credential_id="0192d3c4-0000-7000-8000-00000000ce01",
        subject_id="urn:coopbridge:member:0192d3c4-0000-7000-8000-00000000a05a",
        achievement=achievement, valid_from=NOW - dt.timedelta(days=1), valid_until=None,
        status_list=LIST, status_index=11, **extra)


def test_a_certificate_is_an_open_badge_that_verifies_and_can_be_revoked():
    certificate = rosas_certificate()
    assert certificate["@context"] == [
        "https://www.w3.org/ns/credentials/v2",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json", JWT_ID_CONTEXT]
    assert certificate["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert certificate["issuer"] == {"id": node_issuer("es"), "type": ["Profile"],
                                     "name": "Ahorro Solidario Madrid"}
    assert "validUntil" not in certificate and certificate["name"] == TOUR_GUIDE["name"]
    subject = certificate["credentialSubject"]
    assert subject["type"] == ["AchievementSubject"] and "result" not in subject
    achievement = subject["achievement"]
    assert achievement["type"] == ["Achievement"]
    assert achievement["achievementType"] == "Certificate"
    assert achievement["criteria"] == {"narrative": TOUR_GUIDE["criteria"]}
    assert achievement["alignment"] == [
        {"type": ["Alignment"], "targetName": "guide groups of tourists",
         "targetUrl": "http://data.europa.eu/esco/skill/7c1b6a2e-4b3e-4a47-9a3e-0a5b1f7c2d11",
         "targetFramework": "ESCO", "targetCode": "7c1b6a2e-4b3e-4a47-9a3e-0a5b1f7c2d11"},
        {"type": ["Alignment"], "targetName": "Travel guides",
         "targetUrl": "http://data.europa.eu/esco/isco/C5113",
         "targetFramework": "ISCO-08", "targetCode": "5113"}]
    token = sign_credential(certificate, HOST)
    result = verify_credential(token, TRUSTED, NOW, status=NOTHING_REVOKED)
    assert result.valid, result.checks
    revoked = verify_credential(token, TRUSTED, NOW, status=lookup(signed_list(revoked={11})))
    assert revoked.checks["revocation"] == "the credential is revoked"


def test_a_language_certificate_carries_the_cefr_level_attained_as_its_result():
    subject = rosas_certificate(SPANISH, level="B1")["credentialSubject"]
    scale = subject["achievement"]["resultDescription"]
    assert [d["resultType"] for d in scale] == ["RubricCriterionLevel"]
    levels = {level["id"]: level for level in scale[0]["rubricCriterionLevel"]}
    [result] = subject["result"]
    assert result["type"] == ["Result"] and result["value"] == "B1"
    assert result["resultDescription"] == scale[0]["id"]
    attained = levels[result["achievedLevel"]]
    assert attained["name"] == "B1"
    assert [(a["targetFramework"], a["targetCode"]) for a in attained["alignment"]] == [
        ("CEFR", "B1")]
    assert len(levels) == 6


@pytest.mark.parametrize("bad", [
    {"achievement": {**SPANISH, "achievementType": "Diplomita"}},
    {"achievement": {k: v for k, v in SPANISH.items() if k != "criteria"}},
    {"achievement": {**SPANISH, "narrative": "typo"}},
    {"achievement": SPANISH, "level": "B3"},
])
def test_a_certificate_refuses_fields_open_badges_does_not_know(bad):
    with pytest.raises(ValueError):
        rosas_certificate(**bad)


def test_an_alignment_is_esco_isco_or_cefr():
    assert alignment("CEFR", "C2", "CEFR C2")["targetCode"] == "C2"
    for framework, code in [("ESCO", "https://example.org/skill/1"), ("ISCO-08", "51130"),
                            ("CEFR", "D1"), ("O*NET", "39-7011.00")]:
        with pytest.raises(ValueError):
            alignment(framework, code, "x")


def test_garbage_is_reported_not_raised():
    result = verify_credential("not.a.jws", TRUSTED, NOW, status=NOTHING_REVOKED)
    assert not result.valid and result.checks["format"]
    assert verify_status_list("not.a.jws", TRUSTED, NOW) is None


@pytest.mark.parametrize("entry", [
    "urn:nope",
    {"type": "StatusList2021Entry", "statusPurpose": "revocation",
     "statusListIndex": "7", "statusListCredential": LIST},
    {"type": "BitstringStatusListEntry", "statusPurpose": "revocation",
     "statusListIndex": 7, "statusListCredential": LIST},
    {"type": "BitstringStatusListEntry", "statusPurpose": "message", "statusSize": 2,
     "statusListIndex": "7", "statusListCredential": LIST},
])
def test_a_status_entry_this_verifier_cannot_read_fails_closed(entry):
    record = {**rosas_record(), "credentialStatus": entry}
    result = verify_credential(sign_credential(record, HOST), TRUSTED, NOW,
                               status=NOTHING_REVOKED)
    assert result.checks["revocation"] and not result.valid


def test_the_reasons_are_sentences_without_personal_data():
    token = sign_credential(rosas_record(), HOST)
    result = verify_credential(token, TRUSTED, NOW, status=lookup(signed_list({RECORD_INDEX})))
    reasons = " ".join(r for r in result.checks.values() if r)
    assert reasons and "Ahorro" not in reasons and RECORD_ID not in reasons


ROSA = "urn:coopbridge:member:0192d3c4-0000-7000-8000-00000000a05a"
HOST_URL = "https://es.coopbridge.example"


def numeric(moment: dt.datetime) -> int:
    return int(moment.timestamp())


@pytest.mark.parametrize("credential, typ, claims", [
    pytest.param(rosas_record, "vc+jwt", {
        "iss": node_issuer("es"), "jti": f"urn:uuid:{RECORD_ID}", "sub": ROSA,
        "nbf": numeric(NOW - dt.timedelta(minutes=1)),
        "exp": numeric(NOW + dt.timedelta(days=90))}, id="record"),
    pytest.param(rosas_certificate, "JWT", {  # Open Badges 3.0: typ JWT; it does not expire
        "iss": node_issuer("es"), "jti": "urn:uuid:0192d3c4-0000-7000-8000-00000000ce01",
        "sub": ROSA, "nbf": numeric(NOW - dt.timedelta(days=1))}, id="certificate"),
])
@pytest.mark.parametrize("gateway", [HOST_URL, None], ids=["kid the key's URL", "kid bare"])
def test_anyone_verifies_it_with_a_standard_jose_library_and_only_the_jwks(
        credential, typ, claims, gateway):
    kid = key_url(gateway, HOST.public_key()) if gateway else kid_of(HOST)
    token = sign_credential(credential(), HOST, kid=kid if gateway else None)
    published = json.loads(json.dumps(jwks(HOST.public_key(), base_url=gateway)))
    # the JWKS as published, the key picked by kid, as a JOSE library does
    verified = jws.deserialize_compact(token, KeySet.import_key_set(published),
                                       algorithms=["EdDSA"])
    assert verified.headers() == {"alg": "EdDSA", "typ": typ, "kid": kid}
    assert json.loads(verified.payload) == {**credential(), **claims}
    assert verify_credential(token, TRUSTED, NOW, status=NOTHING_REVOKED).valid


def test_a_credential_signed_before_the_jwt_claims_and_key_urls_still_verifies():
    """Before: no JWT claims beside the credential, kid the bare thumbprint, a certificate
    typ vc+jwt, and @contexts without the undefined-terms one."""
    trusted = {node_issuer("es"): jwks(HOST.public_key(), base_url=HOST_URL)}
    for credential in (rosas_record(), rosas_certificate()):
        before = {**credential, "@context": [c for c in credential["@context"]
                                             if isinstance(c, str) and "undefined" not in c]}
        token = jwt.encode(before, HOST, algorithm="EdDSA",
                           headers={"typ": "vc+jwt", "kid": kid_of(HOST)})
        result = verify_credential(token, trusted, NOW, status=NOTHING_REVOKED)
        assert result.valid, result.checks


@pytest.mark.parametrize("claim, value", [
    ("iss", node_issuer("ec")), ("jti", "urn:uuid:0192d3c4-0000-7000-8000-0000000000ff"),
    ("sub", "urn:coopbridge:member:someone-else"), ("nbf", 0),
    ("exp", numeric(NOW + dt.timedelta(days=3650))),
])
def test_a_jwt_claim_that_contradicts_the_credential_fails_the_format(claim, value):
    payload = {**rosas_record(), **jwt_claims(rosas_record()), claim: value}
    token = jwt.encode(payload, HOST, algorithm="EdDSA",
                       headers={"typ": "vc+jwt", "kid": kid_of(HOST)})
    result = verify_credential(token, TRUSTED, NOW, status=NOTHING_REVOKED)
    assert result.checks["format"] == "the JWT claims contradict the credential"
    assert not result.valid


def test_a_record_with_the_open_badges_typ_or_another_algorithm_fails_the_format():
    assert jws_header(sign_credential(rosas_record(), HOST))["typ"] == "vc+jwt"
    for headers, algorithm in (({"typ": "JWT"}, "EdDSA"), ({"typ": "vc+jwt"}, "ES256")):
        key = HOST if algorithm == "EdDSA" else ec.generate_private_key(ec.SECP256R1())
        token = jwt.encode({**rosas_record(), **jwt_claims(rosas_record())}, key,
                           algorithm=algorithm, headers=headers)
        result = verify_credential(token, TRUSTED, NOW, status=NOTHING_REVOKED)
        assert result.checks["format"].startswith("the header is not typ vc+jwt")
        assert not result.valid


def test_a_peer_signing_with_the_fully_specified_ed25519_algorithm_verifies():
    """RFC 9864 renames EdDSA-with-Ed25519 ``Ed25519``: a node that signs so is accepted."""
    claims = {**rosas_record(), **jwt_claims(rosas_record())}
    token = jws.serialize_compact({"alg": "Ed25519", "typ": "vc+jwt", "kid": kid_of(HOST)},
                                  json.dumps(claims).encode(), OKPKey.import_key(
                                      HOST.private_bytes(Encoding.PEM, PrivateFormat.PKCS8,
                                                         NoEncryption())),
                                  algorithms=["Ed25519"])
    result = verify_credential(token, TRUSTED, NOW, status=NOTHING_REVOKED)
    assert result.valid, result.checks
    forged = jws.serialize_compact({"alg": "Ed25519", "typ": "vc+jwt"},
                                   json.dumps(claims).encode(),
                                   OKPKey.generate_key("Ed25519"), algorithms=["Ed25519"])
    assert verify_credential(forged, TRUSTED, NOW, status=NOTHING_REVOKED).checks[
        "signature"] == "the signature does not match the issuer's keys"


def test_a_key_is_found_by_its_thumbprint_its_thumbprint_uri_or_its_url():
    published = jwks(HOST.public_key(), HOME.public_key(), base_url=HOST_URL)
    host_key = HOST.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    for kid in (kid_of(HOST), f"urn:ietf:params:oauth:jwk-thumbprint:sha-256:{kid_of(HOST)}",
                key_url(HOST_URL, HOST.public_key()),
                key_url("http://elsewhere.example", HOST.public_key())):
        [found] = public_keys(published, kid)
        assert found.public_bytes(Encoding.Raw, PublicFormat.Raw) == host_key
    assert public_keys(jwks(HOME.public_key()), kid_of(HOST)) == []
    assert len(public_keys(published)) == 2
