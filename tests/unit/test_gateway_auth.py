"""Bearer tokens: what is accepted and what is refused (no broker)."""

from __future__ import annotations

import datetime as dt

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gateway.auth import MAX_TTL, AuthError, Role, issue_token, verify_token
from services import config

AHORRO = "0192d3c4-0000-7000-8000-0000000c0e5b"


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("COOPBRIDGE_HOME", str(tmp_path))
    monkeypatch.delenv("COOPBRIDGE_SIGNING_KEY", raising=False)


def forged(claims: dict, node: str = "es", algorithm: str = "EdDSA") -> str:
    key = Ed25519PrivateKey.from_private_bytes(config.signing_key(node))
    return jwt.encode(claims, key, algorithm=algorithm)


def claims(**changes) -> dict:
    now = int(dt.datetime.now(dt.UTC).timestamp())
    base = {"iss": "es", "aud": "coopbridge", "sub": "ana", "role": "staff",
            "cooperative": AHORRO, "iat": now, "exp": now + 3600}
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def test_a_staff_token_names_her_cooperative():
    caller = verify_token("es", issue_token("es", Role.STAFF, AHORRO, subject="ana"))
    assert (caller.role, caller.cooperative_id, caller.subject) == (Role.STAFF, AHORRO, "ana")
    assert not caller.expired()
    with pytest.raises(ValueError):
        issue_token("es", Role.STAFF, "")
    with pytest.raises(AuthError):
        verify_token("es", forged(claims(cooperative="")))


def test_a_token_lives_at_most_thirty_one_days():
    with pytest.raises(ValueError):
        issue_token("es", Role.ANALYST, ttl=MAX_TTL + dt.timedelta(seconds=1))
    now = int(dt.datetime.now(dt.UTC).timestamp())
    with pytest.raises(AuthError):
        verify_token("es", forged(claims(exp=now + 100 * 365 * 86400)))
    assert verify_token("es", forged(claims(exp=now + 30 * 86400))).role is Role.STAFF


def test_expired_foreign_unsigned_or_incomplete_tokens_are_refused():
    now = int(dt.datetime.now(dt.UTC).timestamp())
    refused = [
        forged(claims(iat=now - 7200, exp=now - 3600)),  # expired
        forged(claims(iss="ec"), node="ec"),  # another node's
        forged(claims(iat=None)),  # no issued-at
        jwt.encode(claims(), key=None, algorithm="none"),  # unsigned
        forged(claims(role="superuser")),
    ]
    for token in refused:
        with pytest.raises(AuthError):
            verify_token("es", token)
