"""Portable records as VC 2.0 JWS: sign, verify each check, tamper, and verify with a JOSE
library that is not ours (joserfc) using only the JWKS."""

from __future__ import annotations

import base64
import datetime as dt

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from joserfc import jws
from joserfc.jwk import OKPKey

from gateway.credentials import (
    jwks,
    member_record_credential,
    node_issuer,
    sign_credential,
    verify_credential,
)

HOST = Ed25519PrivateKey.generate()
STRANGER = Ed25519PrivateKey.generate()
NOW = dt.datetime(2026, 11, 15, 10, 0, tzinfo=dt.UTC)
TRUSTED = {node_issuer("es"): jwks(HOST.public_key())}


def rosas_record(valid_until=NOW + dt.timedelta(days=90)) -> dict:
    return member_record_credential(
        node="es", credential_id="0192d3c4-0000-7000-8000-00000000ec01",
        subject={"id": "urn:coopbridge:member:0192d3c4-0000-7000-8000-00000000a05a",
                 "memberships": [{"cooperative": "Ahorro Solidario Madrid",
                                  "startedOn": "2019-05-06"}],
                 "loans": [{"principal": {"amount": "1200.00", "currency": "EUR"},
                            "repayments": [{"instalment": 1, "timing": "on_time"}]}]},
        valid_from=NOW - dt.timedelta(minutes=1), valid_until=valid_until,
        status_list="urn:coopbridge:node:es:status:1", status_index=7)


def test_a_signed_record_verifies_on_every_check():
    token = sign_credential(rosas_record(), HOST)
    result = verify_credential(token, TRUSTED, NOW)
    assert result.valid, result.checks
    assert result.checks == {"format": None, "issuer": None, "signature": None,
                             "validity": None, "revocation": None}
    assert result.credential["type"] == ["VerifiableCredential", "CoopbridgeMemberRecord"]


def _segments(token: str) -> list[bytearray]:
    return [bytearray(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
            for part in token.split(".")]


def _token(segments: list[bytearray]) -> str:
    return ".".join(base64.urlsafe_b64encode(bytes(s)).rstrip(b"=").decode() for s in segments)


def test_flipping_any_byte_of_header_payload_or_signature_fails_verification():
    token = sign_credential(rosas_record(), HOST)
    segments = _segments(token)
    assert _token(segments) == token
    flipped_total = 0
    for which, segment in enumerate(segments):
        for position in range(len(segment)):
            tampered = [bytearray(s) for s in segments]
            tampered[which][position] ^= 0x01
            result = verify_credential(_token(tampered), TRUSTED, NOW)
            assert not result.valid, (which, position)
            flipped_total += 1
    assert flipped_total == sum(len(s) for s in segments) > 500


def test_a_record_signed_by_an_untrusted_key_fails_with_that_reason():
    forged = sign_credential(rosas_record(), STRANGER)
    result = verify_credential(forged, TRUSTED, NOW)
    assert result.checks["signature"] == "the signature does not match the issuer's keys"
    foreign = {**rosas_record(), "issuer": node_issuer("xx")}
    result = verify_credential(sign_credential(foreign, STRANGER), TRUSTED, NOW)
    assert result.checks["issuer"] == "the issuer is not trusted"


def test_an_expired_or_revoked_record_fails_with_that_reason():
    old = sign_credential(rosas_record(valid_until=NOW - dt.timedelta(seconds=1)), HOST)
    assert verify_credential(old, TRUSTED, NOW).checks["validity"] == "expired"
    token = sign_credential(rosas_record(), HOST)
    revoked = verify_credential(token, TRUSTED, NOW,
                                revoked={"urn:uuid:0192d3c4-0000-7000-8000-00000000ec01"})
    assert revoked.checks["revocation"] == "the credential is revoked" and not revoked.valid


def test_garbage_is_reported_not_raised():
    result = verify_credential("not.a.jws", TRUSTED, NOW)
    assert not result.valid and result.checks["format"]


@pytest.mark.filterwarnings("ignore:EdDSA is deprecated")  # RFC 9864; VC-JOSE says EdDSA
@pytest.mark.parametrize("jwk_index", [0])
def test_anyone_verifies_it_with_a_standard_jose_library_and_only_the_jwks(jwk_index):
    token = sign_credential(rosas_record(), HOST)
    published = jwks(HOST.public_key())["keys"][jwk_index]
    key = OKPKey.import_key(published)
    verified = jws.deserialize_compact(token, key, algorithms=["EdDSA"])
    assert verified.headers()["typ"] == "vc+jwt"
    assert b"CoopbridgeMemberRecord" in verified.payload
