"""A node's Ed25519 keys as JOSE sees them: the private signing key, JWKs and JWKS.

One node key pair signs everything the node vouches for: access tokens, portable records,
certificates, status lists and the messages it sends to other nodes. Peers and verifiers
only ever need its public JWKS (``/.well-known/jwks.json``, or the trust list).

A key is known by its RFC 7638 thumbprint. Credentials name it by a URL of the issuing
gateway that serves the key (``key_url``: ``<gateway>/keys/urn:ietf:params:oauth:
jwk-thumbprint:sha-256:<thumbprint>``, the form VC-JOSE-COSE recommends), messages between
nodes by the bare thumbprint; ``public_keys`` finds a key by either, whatever ``kid`` the JWKS
at hand gives it.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from services import config


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def signing_key(node: str) -> Ed25519PrivateKey:
    """The node's private signing key (``COOPBRIDGE_SIGNING_KEY`` or its development key)."""
    return Ed25519PrivateKey.from_private_bytes(config.signing_key(node))


#: RFC 9278: a JWK thumbprint (SHA-256) as a URI.
THUMBPRINT_URN = "urn:ietf:params:oauth:jwk-thumbprint:sha-256:"
KEYS_PATH = "/keys/"


def _x(public_key: Ed25519PublicKey) -> str:
    return b64url(public_key.public_bytes(Encoding.Raw, PublicFormat.Raw))


def thumbprint(public_key: Ed25519PublicKey) -> str:
    """The RFC 7638 thumbprint (SHA-256, base64url) of an Ed25519 public key."""
    members = json.dumps({"crv": "Ed25519", "kty": "OKP", "x": _x(public_key)},
                         separators=(",", ":"), sort_keys=True)
    return b64url(hashlib.sha256(members.encode()).digest())


def key_url(base_url: str, public_key: Ed25519PublicKey) -> str:
    """Where the gateway at ``base_url`` serves this key as a JWK (the ``kid`` of what it
    signs as credentials)."""
    return f"{base_url}{KEYS_PATH}{THUMBPRINT_URN}{thumbprint(public_key)}"


def public_jwk(public_key: Ed25519PublicKey, kid: str | None = None) -> dict[str, str]:
    """The JWK of an Ed25519 public key; its ``kid`` is its thumbprint unless one is given."""
    return {"kty": "OKP", "crv": "Ed25519", "x": _x(public_key),
            "kid": kid or thumbprint(public_key), "alg": "EdDSA", "use": "sig"}


def kid_of(key: Ed25519PrivateKey) -> str:
    return thumbprint(key.public_key())


def jwks(*public_keys: Ed25519PublicKey,
         base_url: str | None = None) -> dict[str, list[dict[str, str]]]:
    """A JWKS of these keys under their thumbprints; with the gateway's ``base_url``, each key
    also under its ``key_url``, the ``kid`` its credentials carry, so that a JOSE library
    that picks the key by ``kid`` finds it, and a verifier of an earlier release (which
    matches a ``kid`` exactly) finds either."""
    return {"keys": [jwk for key in public_keys for jwk in (
        *([public_jwk(key, key_url(base_url, key))] if base_url else []), public_jwk(key))]}


def named_thumbprint(kid: str) -> str:
    """The thumbprint a ``kid`` names: what follows the thumbprint URN (in a ``key_url``, or
    the URN alone), else the ``kid`` itself (a bare thumbprint)."""
    return kid.partition(THUMBPRINT_URN)[2] or kid


def public_keys(jwks_document: dict[str, Any], kid: str | None = None) -> list[Ed25519PublicKey]:
    """The Ed25519 keys of a JWKS; with ``kid``, only those it names: the JWK of that ``kid``,
    or the key whose thumbprint it names (so a bare thumbprint and a key URL find the same
    key), or one without a ``kid``; each key once, however many kids list it. Others are
    skipped."""
    found, seen = [], set()
    for jwk in jwks_document.get("keys", []) if isinstance(jwks_document, dict) else []:
        if not isinstance(jwk, dict) or jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
            continue
        try:
            key = Ed25519PublicKey.from_public_bytes(unb64url(str(jwk["x"])))
        except (KeyError, ValueError):
            continue
        if (kid is None or jwk.get("kid") in (None, kid)
                or thumbprint(key) == named_thumbprint(kid)) and jwk["x"] not in seen:
            seen.add(jwk["x"])  # a key listed under two kids is one key
            found.append(key)
    return found
