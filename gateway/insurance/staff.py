"""Who on a cooperative's staff did something to a claim (issue 25), as the events say it:
a keyed digest of their token's cooperative and subject (HMAC-SHA256 under a key derived from
the node's key), enough for the insurance service to tell the assessor from the approver,
never enough to name anyone, and not the same digest at another node."""

from __future__ import annotations

import hashlib
import hmac

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from gateway.auth import Caller
from services import config


def staff_ref(node: str, caller: Caller) -> str:
    """The caller as a ``schemas.insurance.StaffRef`` (64 hex characters): one person, the same
    with a staff or an admin token of the same cooperative."""
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
               info=b"coopbridge/staff-ref").derive(config.node_key(node))
    person = f"{caller.cooperative_id or ''}/{caller.subject}"
    return hmac.new(key, person.encode(), hashlib.sha256).hexdigest()
