"""A node's Ed25519 keys as JOSE sees them: the private signing key, JWKs and JWKS.

One node key pair signs everything the node vouches for: access tokens, portable records,
certificates, status lists and the messages it sends to other nodes. Peers and verifiers
only ever need its public JWKS (``/.well-known/jwks.json``, or the trust list).
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


def public_jwk(public_key: Ed25519PublicKey) -> dict[str, str]:
    """The JWK of an Ed25519 public key, with its RFC 7638 thumbprint as ``kid``."""
    x = b64url(public_key.public_bytes(Encoding.Raw, PublicFormat.Raw))
    members = json.dumps({"crv": "Ed25519", "kty": "OKP", "x": x}, separators=(",", ":"),
                         sort_keys=True)
    kid = b64url(hashlib.sha256(members.encode()).digest())
    return {"kty": "OKP", "crv": "Ed25519", "x": x, "kid": kid, "alg": "EdDSA", "use": "sig"}


def kid_of(key: Ed25519PrivateKey) -> str:
    return public_jwk(key.public_key())["kid"]


def jwks(*public_keys: Ed25519PublicKey) -> dict[str, list[dict[str, str]]]:
    return {"keys": [public_jwk(key) for key in public_keys]}


def public_keys(jwks_document: dict[str, Any], kid: str | None = None) -> list[Ed25519PublicKey]:
    """The Ed25519 keys of a JWKS (only the one named ``kid`` when given); others skipped."""
    found = []
    for jwk in jwks_document.get("keys", []) if isinstance(jwks_document, dict) else []:
        if not isinstance(jwk, dict) or jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
            continue
        if kid is not None and jwk.get("kid") not in (None, kid):
            continue
        try:
            found.append(Ed25519PublicKey.from_public_bytes(unb64url(str(jwk["x"]))))
        except (KeyError, ValueError):
            continue
    return found
