"""Activation codes (pure): made by the gateway, shown once to the staff who hand it to her,
never stored or logged; only a keyed digest travels (``IssueMemberAccess.code_digest``).

A code is 12 characters of Crockford's base32 (60 bits from ``secrets``), written in three
groups (``7KQ2-M9XD-4HTB``) and read back forgivingly: any case, with or without dashes or
spaces, O for 0 and I or L for 1, as people copy codes from paper. The digest is HMAC-SHA256
under a key derived (HKDF) from the node key: the log holds digests, and a 60-bit code
cannot be found from one without that key, however many guesses are made offline."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base32: no I, L, O, U
LENGTH = 12
_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})


def new_code() -> str:
    """A fresh code, as shown: three groups of four."""
    raw = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    return "-".join(raw[i:i + 4] for i in range(0, LENGTH, 4))


def normalized(code: str) -> str | None:
    """The code's 12 characters as issued, from what she typed; None if it cannot be one."""
    if not isinstance(code, str) or len(code) > 40:
        return None
    plain = "".join(code.split()).replace("-", "").upper().translate(_READ_AS)
    if len(plain) != LENGTH or any(c not in ALPHABET for c in plain):
        return None
    return plain


def _key(node_key: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=b"coopbridge/activation-code").derive(node_key)


def digest(code: str, node_key: bytes) -> str | None:
    """The keyed digest of a code (base64url, no padding: 43 characters); None if ``code``
    cannot be one."""
    plain = normalized(code)
    if plain is None:
        return None
    mac = hmac.new(_key(node_key), plain.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def code_for(node_key: bytes, command_id: str) -> str:
    """The code of the command that issues it: drawn from the node's key and the command's
    id (as random as ``new_code`` to whoever lacks the key), so a retry under the same
    idempotency key shows the same code, the one whose digest the log holds."""
    mac = hmac.new(_key(node_key), f"code/{command_id}".encode(), hashlib.sha256).digest()
    number = int.from_bytes(mac[:8], "big") >> (64 - 5 * LENGTH)
    raw = "".join(ALPHABET[(number >> (5 * i)) & 31] for i in reversed(range(LENGTH)))
    return "-".join(raw[i:i + 4] for i in range(0, LENGTH, 4))
