"""Portable records as W3C Verifiable Credentials 2.0, secured with JOSE (VC-JOSE).

A credential is a compact JWS: header ``{"alg": "EdDSA", "typ": "vc+jwt", "kid": …}``, payload
the credential itself (``@context``, ``type``, ``issuer``, ``validFrom``, ``validUntil``,
``credentialSubject``, ``credentialStatus``), signed with the node's Ed25519 key. Anyone
verifies it offline with the issuing node's JWKS (``/.well-known/jwks.json``) and any
standard JOSE library: nothing here is coopbridge-specific on the wire.

``verify_record`` reports every check on its own (signature, trusted issuer, validity
dates, revocation), so a cooperative sees why a record fails, not only that it does.
Pure functions: keys, trust lists and revocations are passed in.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.runtime.keys import jwks, public_jwk, public_keys  # noqa: F401 (re-exported)

CONTEXT = "https://www.w3.org/ns/credentials/v2"
RECORD_TYPE = "CoopbridgeMemberRecord"


def node_issuer(node: str) -> str:
    """A node's issuer id in credentials."""
    return f"urn:coopbridge:node:{node}"


def sign_credential(credential: dict[str, Any], key: Ed25519PrivateKey) -> str:
    """The compact JWS of a credential (``typ: vc+jwt``)."""
    kid = public_jwk(key.public_key())["kid"]
    return jwt.encode(credential, key, algorithm="EdDSA",
                      headers={"typ": "vc+jwt", "kid": kid})


def member_record_credential(*, node: str, credential_id: str, subject: dict[str, Any],
                             valid_from: dt.datetime, valid_until: dt.datetime,
                             status_list: str, status_index: int) -> dict[str, Any]:
    """A member record as a Verifiable Credential 2.0 (unsigned)."""
    return {
        "@context": [CONTEXT],
        "id": f"urn:uuid:{credential_id}",
        "type": ["VerifiableCredential", RECORD_TYPE],
        "issuer": node_issuer(node),
        "validFrom": valid_from.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
        "validUntil": valid_until.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
        "credentialSubject": subject,
        "credentialStatus": {"id": f"{status_list}#{status_index}",
                             "type": "BitstringStatusListEntry",
                             "statusPurpose": "revocation", "statusListIndex": str(status_index),
                             "statusListCredential": status_list},
    }


@dataclass
class Verification:
    """Each check's outcome (``None`` reason = passed) and the credential, if readable."""

    checks: dict[str, str | None] = field(default_factory=dict)
    credential: dict[str, Any] | None = None

    @property
    def valid(self) -> bool:
        return bool(self.checks) and all(reason is None for reason in self.checks.values())


def verify_credential(token: str, trusted: dict[str, dict], now: dt.datetime,
                      revoked: set[str] = frozenset()) -> Verification:
    """Check a ``vc+jwt``: its signature with the issuer's JWKS, the issuer against
    ``trusted`` (issuer id -> JWKS), its validity dates at ``now``, its revocation."""
    result = Verification()
    try:
        header = jwt.get_unverified_header(token)
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        result.checks["format"] = "not a compact JWS with a JSON payload"
        return result
    result.checks["format"] = (None if header.get("typ") == "vc+jwt"
                               and header.get("alg") == "EdDSA"
                               else "the header is not typ vc+jwt with alg EdDSA")
    issuer = claims.get("issuer")
    issuer_id = issuer.get("id") if isinstance(issuer, dict) else issuer
    keys = trusted.get(issuer_id) if isinstance(issuer_id, str) else None
    result.checks["issuer"] = None if keys is not None else "the issuer is not trusted"
    result.checks["signature"] = _signature(token, header, keys)
    result.checks["validity"] = _validity(claims, now)
    result.checks["revocation"] = ("the credential is revoked"
                                   if claims.get("id") in revoked else None)
    types = claims.get("type") or []
    if "VerifiableCredential" not in types or CONTEXT not in (claims.get("@context") or []):
        result.checks["format"] = "not a Verifiable Credential 2.0"
    result.credential = claims
    return result


def _signature(token: str, header: dict, keys: dict | None) -> str | None:
    if keys is None:
        return "no trusted key to check the signature with"
    for key in public_keys(keys, header.get("kid")):
        try:
            jwt.decode(token, key, algorithms=["EdDSA"],
                       options={"verify_exp": False, "verify_aud": False})
            return None
        except jwt.PyJWTError:
            continue
    return "the signature does not match the issuer's keys"


def _validity(claims: dict, now: dt.datetime) -> str | None:
    try:
        start = dt.datetime.fromisoformat(claims["validFrom"].replace("Z", "+00:00"))
        end = dt.datetime.fromisoformat(claims["validUntil"].replace("Z", "+00:00"))
    except (KeyError, AttributeError, ValueError):
        return "validFrom and validUntil are required dates"
    if now < start:
        return "not valid yet"
    if now >= end:
        return "expired"
    return None
