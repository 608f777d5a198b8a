"""Who may see what (pure). Checked on every read, so a revoked consent bites at once.

* the node admin sees every member; a federation analyst sees no member, only aggregates;
* a cooperative's staff and admins see, in full, every member who ever belonged to it;
* another cooperative sees a member only through an active consent naming it, and only the
  scopes that consent grants (identity, membership, savings, training);
* a member's consents themselves are shown to their own cooperatives only.

A denied read and a missing record look the same to the caller: ``None``.
"""

from __future__ import annotations

import datetime as dt

from gateway.auth import Caller, Role
from gateway.readmodel import MemberRecord

SCOPES = frozenset({"identity", "membership", "savings", "training"})


def active_member_of(caller: Caller | None, record: MemberRecord) -> bool:
    """The member is now a member of the caller's cooperative (or the caller is node admin):
    what acting on her behalf (correcting details, consents, erasure) requires."""
    if caller is None:
        return False
    if caller.is_node_admin:
        return True
    return caller.role in (Role.STAFF, Role.ADMIN) and any(
        m.cooperative_id == caller.cooperative_id and m.ended_on is None
        for m in record.memberships)


def own_member(caller: Caller | None, record: MemberRecord) -> bool:
    if caller is None:
        return False
    if caller.is_node_admin:
        return True
    return caller.role in (Role.STAFF, Role.ADMIN) and any(
        m.cooperative_id == caller.cooperative_id for m in record.memberships)


def history_scope(service: str, event_type: str) -> str | None:
    """The scope a timeline entry belongs to; ``None``: her own cooperatives only."""
    if event_type in ("ConsentGranted", "ConsentRevoked"):
        return None
    return {"savings": "savings", "training": "training"}.get(service, "membership")


def visible_scopes(caller: Caller | None, record: MemberRecord,
                   now: dt.datetime) -> frozenset[str]:
    """The scopes of ``record`` that ``caller`` may read right now."""
    if caller is None or caller.role is Role.ANALYST:
        return frozenset()
    if own_member(caller, record):
        return SCOPES
    if caller.role not in (Role.STAFF, Role.ADMIN):
        return frozenset()
    granted: set[str] = set()
    for consent in record.consents:
        if (not consent.revoked and consent.expires_at > now
                and consent.grantee_kind == "cooperative"
                and consent.grantee == caller.cooperative_id):
            granted.update(consent.scopes)
    return frozenset(granted)
