"""Checking a credential (a record, a certificate or a status list, each a ``vc+jwt``):
``verify_credential`` reports every check on its own (format, trusted issuer, signature,
validity dates, revocation), so a cooperative sees why a credential fails, not only that it
does. It accepts the JWS algorithm ``EdDSA`` and its fully-specified name ``Ed25519``
(RFC 9864). Pure functions: trust lists and the status lists are passed in (fetching a
status list is ``gateway.records.status_lists``').
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.exceptions import InvalidSignature

from gateway.records.credentials import (
    BASE64URL,
    CONTEXT,
    ED25519_ALGORITHMS,
    JWT_CLAIMS,
    RECORD_TYPE,
    STATUS_LIST_TYPE,
    date_of,
    decode_status_list,
    is_open_badge,
    is_set,
    issuer_of,
    jwt_claims,
    listed,
)
from services.runtime.keys import public_keys, unb64url

@dataclass
class Verification:
    """Each check's outcome (``None`` reason = passed) and the credential, if readable."""

    checks: dict[str, str | None] = field(default_factory=dict)
    credential: dict[str, Any] | None = None

    @property
    def valid(self) -> bool:
        return bool(self.checks) and all(reason is None for reason in self.checks.values())


StatusLookup = Callable[[str], dict[str, Any] | None]


def verify_credential(token: str, trusted: dict[str, dict], now: dt.datetime,
                      status: StatusLookup | None = None) -> Verification:
    """Check a ``vc+jwt``: its signature with the issuer's JWKS, the issuer against
    ``trusted`` (issuer id -> JWKS), its validity dates at ``now``, and its revocation.

    ``status(statusListCredential URL)`` returns that status list's claims, already fetched
    and already checked with ``verify_status_list`` (a cached copy is the caller's call), or
    None when it cannot be had; the list must be the credential issuer's own.

    Revocation: a credential without ``credentialStatus`` passes (it was issued unrevocable,
    so there is nothing to check). One with a status but no ``status`` function fails with
    "the revocation status was not checked": offline verifiers pass a function over the
    lists they hold. An unreadable or foreign list fails closed."""
    result = _verify(token, trusted, now)
    if result.credential is None:
        return result
    result.checks["revocation"] = _revocation(result.credential, status)
    return result


def verify_status_list(token: str, trusted: dict[str, dict],
                       now: dt.datetime) -> dict[str, Any] | None:
    """The claims of a ``BitstringStatusListCredential`` ``vc+jwt`` that passes the same
    format, trusted issuer, signature and validity checks as any credential; else None."""
    result = _verify(token, trusted, now)
    claims = result.credential
    if not result.valid or claims is None or STATUS_LIST_TYPE not in listed(claims.get("type")):
        return None
    subject = claims.get("credentialSubject")
    if not isinstance(subject, dict) or subject.get("type") != "BitstringStatusList":
        return None
    return claims


def _verify(token: str, trusted: dict[str, dict], now: dt.datetime) -> Verification:
    """Format, issuer, signature and validity: what every credential and status list needs."""
    result = Verification()
    try:
        header = jwt.get_unverified_header(token)
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        result.checks["format"] = "not a compact JWS with a JSON payload"
        for check in ("issuer", "signature", "validity", "revocation"):
            result.checks[check] = "not checked: the credential is unreadable"
        return result
    result.checks["format"] = _format(header, claims)
    issuer_id = issuer_of(claims)
    keys = trusted.get(issuer_id) if issuer_id is not None else None
    result.checks["issuer"] = None if keys is not None else "the issuer is not trusted"
    result.checks["signature"] = _signature(token, header, keys)
    result.checks["validity"] = _validity(claims, now)
    result.credential = claims
    return result


def _format(header: dict, claims: dict) -> str | None:
    """A VC 2.0 credential in a JWS of an Ed25519 algorithm, ``typ`` ``vc+jwt`` (or ``JWT``
    for an Open Badge, as Open Badges 3.0 says), with no JWT claim that contradicts it.
    Credentials signed before the claims were added have none, and pass."""
    if "VerifiableCredential" not in listed(claims.get("type")) \
            or CONTEXT not in listed(claims.get("@context")):
        return "not a Verifiable Credential 2.0"
    typs = ("vc+jwt", "JWT") if is_open_badge(claims) else ("vc+jwt",)
    if header.get("typ") not in typs or header.get("alg") not in ED25519_ALGORITHMS:
        return f"the header is not typ {' or '.join(typs)} with alg EdDSA or Ed25519"
    mirrored = jwt_claims(claims)
    if any(name in claims and claims[name] != mirrored.get(name) for name in JWT_CLAIMS):
        return "the JWT claims contradict the credential"
    return None


def _signature(token: str, header: dict, keys: dict | None) -> str | None:
    """The JWS signature (RFC 7515 §5.2) checked with the issuer's Ed25519 keys, the one its
    ``kid`` names: directly with ``cryptography``, since PyJWT knows ``EdDSA`` but not its
    fully-specified name ``Ed25519`` (RFC 9864), which peers may sign with."""
    if keys is None:
        return "no trusted key to check the signature with"
    if header.get("alg") not in ED25519_ALGORITHMS:
        return "the signature is not an Ed25519 signature"
    signing_input, _, encoded = token.rpartition(".")
    try:
        if not BASE64URL.match(encoded):
            raise ValueError("not base64url")
        signature, message = unb64url(encoded), signing_input.encode("ascii")
    except ValueError:  # binascii.Error and UnicodeEncodeError are ValueErrors
        return "the signature does not match the issuer's keys"
    kid = header.get("kid")
    for key in public_keys(keys, kid if isinstance(kid, str) else None):
        try:
            key.verify(signature, message)
            return None
        except InvalidSignature:
            continue
    return "the signature does not match the issuer's keys"


def _validity(claims: dict, now: dt.datetime) -> str | None:
    """``validFrom`` is required; ``validUntil`` too on member records, optional elsewhere
    (a certificate may not expire; a status list may rely on its cache rules)."""
    start = date_of(claims.get("validFrom"))
    if start is None:
        return "validFrom is a required date"
    end = None
    if "validUntil" in claims or RECORD_TYPE in listed(claims.get("type")):
        end = date_of(claims.get("validUntil"))
        if end is None:
            return ("validUntil is a required date on a member record"
                    if "validUntil" not in claims else "validUntil is not a date")
    if now < start:
        return "not valid yet"
    if end is not None and now >= end:
        return "expired"
    return None


_STATUS_PURPOSES = {"revocation": "the credential is revoked",
                    "suspension": "the credential is suspended"}


def _revocation(claims: dict, status: StatusLookup | None) -> str | None:
    entries = claims.get("credentialStatus")
    if entries is None:
        return None
    if status is None:
        return "the revocation status was not checked"
    entries = entries if isinstance(entries, list) else [entries]
    if not entries:
        return "the credential status is malformed"
    for entry in entries:
        reason = _entry_status(entry, issuer_of(claims), status)
        if reason is not None:
            return reason
    return None


def _entry_status(entry: Any, issuer_id: str | None, status: StatusLookup) -> str | None:
    if not isinstance(entry, dict) or entry.get("type") != "BitstringStatusListEntry":
        return "the credential status is not a Bitstring Status List entry"
    purpose, url, index = (entry.get("statusPurpose"), entry.get("statusListCredential"),
                           entry.get("statusListIndex"))
    if purpose not in _STATUS_PURPOSES or entry.get("statusSize", 1) != 1 \
            or not isinstance(url, str) or not isinstance(index, str) \
            or not index.isascii() or not index.isdigit():
        return "the credential status is malformed"
    try:
        listed = status(url)
    except Exception:  # a lookup that breaks is a list that could not be checked
        listed = None
    if not isinstance(listed, dict):
        return "the status list could not be checked"
    if issuer_id is None or issuer_of(listed) != issuer_id:
        return "the status list is not the issuer's"
    subject = listed.get("credentialSubject")
    purposes = subject.get("statusPurpose") if isinstance(subject, dict) else None
    purposes = purposes if isinstance(purposes, list) else [purposes]
    if STATUS_LIST_TYPE not in (listed.get("type") or []) \
            or listed.get("id", url) != url or purpose not in purposes \
            or subject.get("type") != "BitstringStatusList":
        return "the status list does not match the credential's status entry"
    try:
        revoked = is_set(decode_status_list(subject.get("encodedList")), int(index))
    except (ValueError, IndexError):
        return "the status list is malformed"
    return _STATUS_PURPOSES[purpose] if revoked else None
