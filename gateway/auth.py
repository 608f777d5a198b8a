"""Who is calling: bearer tokens (JWT, EdDSA) signed with the node's signing key.

Claims: ``iss`` (the node), ``aud`` ("coopbridge"), ``sub`` (who: a person or a system, an
opaque id), ``role`` and, for cooperative roles, ``cooperative``. ``coopbridge token`` issues
them. A token from another node, expired, or badly signed is refused the same way.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass
from enum import StrEnum

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services import config

AUDIENCE = "coopbridge"


class Role(StrEnum):
    STAFF = "staff"  # a cooperative's staff: their members, their accounts and courses
    ADMIN = "admin"  # a cooperative's admin: staff, plus the cooperative's own settings
    ANALYST = "analyst"  # a federation analyst: aggregates only
    NODE_ADMIN = "node_admin"  # the node's operator: everything on this node
    MEMBER = "member"  # a member herself (issue 23): her own record only; only by redeeming
    #: an employer client of a cooperative (issue 26): their own job orders and employer
    #: record only, never a member's record; the subject is their employer id
    EMPLOYER = "employer"


#: Roles ``coopbridge token`` (and ``issue_token`` without an access) may sign: a member's
#: token comes only from redeeming her activation code.
SIGNED_BY_OPERATORS = (Role.STAFF, Role.ADMIN, Role.ANALYST, Role.NODE_ADMIN, Role.EMPLOYER)


class AuthError(Exception):
    """No valid token: the caller is anonymous."""


#: The longest a token may live, whatever it says.
MAX_TTL = dt.timedelta(days=31)
#: How many verified tokens are remembered (see ``_verified``).
VERIFIED_TOKENS = 4096
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@dataclass(frozen=True)
class Caller:
    subject: str
    role: Role
    cooperative_id: str | None = None
    expires_at: dt.datetime | None = None
    access_id: str | None = None  # a member's: the access her token was issued for

    @property
    def member_id(self) -> str | None:
        """Her global member id, for a member's token (None for every other role)."""
        return self.subject if self.role is Role.MEMBER else None

    def expired(self, now: dt.datetime | None = None) -> bool:
        return self.expires_at is not None and (now or dt.datetime.now(dt.UTC)) >= self.expires_at

    @property
    def employer_id(self) -> str | None:
        """The employer's id, for an employer's token (None for every other role)."""
        return self.subject if self.role is Role.EMPLOYER else None

    @property
    def is_node_admin(self) -> bool:
        return self.role is Role.NODE_ADMIN

    def of_cooperative(self, cooperative_id: str | None) -> bool:
        """Staff or admin of that cooperative (the node admin stands for every one)."""
        if self.is_node_admin:
            return True
        return (self.role in (Role.STAFF, Role.ADMIN) and cooperative_id is not None
                and self.cooperative_id == cooperative_id)


def _private_key(node: str) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(config.signing_key(node))


def issue_token(node: str, role: Role, cooperative_id: str | None = None,
                subject: str = "coopbridge-cli", ttl: dt.timedelta = dt.timedelta(hours=12),
                now: dt.datetime | None = None, access_id: str | None = None) -> str:
    if role in (Role.STAFF, Role.ADMIN) and not (cooperative_id and _UUID.match(cooperative_id)):
        raise ValueError("staff and admin tokens name their cooperative (its id)")
    if role is Role.MEMBER and not (access_id and _UUID.match(access_id)
                                    and _UUID.match(subject)):
        raise ValueError("a member's token names her member id and her access (ids)")
    if role is not Role.MEMBER and access_id is not None:
        raise ValueError("only a member's token names an access")
    if role is Role.EMPLOYER and (cooperative_id or not _UUID.match(subject)):
        raise ValueError("an employer's token names their employer id (the subject) and no "
                         "cooperative")
    if ttl > MAX_TTL:
        raise ValueError(f"a token lives at most {MAX_TTL.days} days")
    now = now or dt.datetime.now(dt.UTC)
    claims = {"iss": node, "aud": AUDIENCE, "sub": subject, "role": role.value,
              "iat": int(now.timestamp()), "exp": int((now + ttl).timestamp())}
    if cooperative_id:
        claims["cooperative"] = cooperative_id
    if access_id:
        claims["access"] = access_id
    return jwt.encode(claims, _private_key(node), algorithm="EdDSA")


def verify_token(node: str, token: str, now: dt.datetime | None = None) -> Caller:
    """The caller a token names (``AuthError`` if it is not valid ``now``)."""
    caller = _verified(node, config.signing_key(node), token)
    if caller.expired(now):  # checked on every use: a verification is cached, not its time
        raise AuthError("invalid token")
    return caller


@functools.lru_cache(maxsize=VERIFIED_TOKENS)
def _verified(node: str, seed: bytes, token: str) -> Caller:
    """The caller of a token whose signature, issuer, audience and claims hold. Cached by the
    exact token and the node's key (a new key verifies again), since checking costs as much
    as a small query (docs/gateway-notes.md); only successes are cached (``AuthError`` is
    raised anew), so the cache holds tokens this node signed and nothing a stranger sent."""
    try:
        claims = jwt.decode(token, Ed25519PrivateKey.from_private_bytes(seed).public_key(),
                            algorithms=["EdDSA"], audience=AUDIENCE, issuer=node,
                            options={"require": ["exp", "iat", "iss", "aud", "sub", "role"]})
        role = Role(claims["role"])
    except (jwt.InvalidTokenError, ValueError, KeyError):
        raise AuthError("invalid token") from None
    cooperative = claims.get("cooperative")
    if role in (Role.STAFF, Role.ADMIN) and not (
            isinstance(cooperative, str) and _UUID.match(cooperative)):
        raise AuthError("invalid token")
    access = claims.get("access")
    if role is Role.MEMBER and not (isinstance(access, str) and _UUID.match(access)
                                    and isinstance(claims["sub"], str)
                                    and _UUID.match(claims["sub"]) and cooperative is None):
        raise AuthError("invalid token")
    if role is not Role.MEMBER and access is not None:
        raise AuthError("invalid token")
    if role is Role.EMPLOYER and (cooperative is not None or not (
            isinstance(claims["sub"], str) and _UUID.match(claims["sub"]))):
        raise AuthError("invalid token")
    issued, expires = claims.get("iat"), claims["exp"]
    if not isinstance(issued, int) or expires - issued > MAX_TTL.total_seconds():
        raise AuthError("invalid token")
    return Caller(subject=str(claims["sub"]), role=role, cooperative_id=cooperative,
                  expires_at=dt.datetime.fromtimestamp(expires, dt.UTC), access_id=access)


def caller_from_header(node: str, authorization: str | None) -> Caller | None:
    """The caller named by an ``Authorization: Bearer …`` header; None if absent or invalid."""
    if not authorization or not authorization.lower().startswith("bearer "):
        return None
    try:
        return verify_token(node, authorization[7:].strip())
    except AuthError:
        return None


def bearer_of_connection(params: object) -> str | None:
    """The ``Authorization`` value a graphql-transport-ws ``connection_init`` payload carries:
    ``{"Authorization": "Bearer …"}`` (any case of the key), or the same inside ``"headers"``
    as some clients send it; None otherwise."""
    if not isinstance(params, dict):
        return None
    for source in (params, params.get("headers")):
        if isinstance(source, dict):
            for key, value in source.items():
                if isinstance(key, str) and key.lower() == "authorization" \
                        and isinstance(value, str):
                    return value
    return None
