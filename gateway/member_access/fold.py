"""What the member access events do to the documents (pure: no I/O): her accesses in her
record, and the codes waiting to be redeemed, by digest.

Reads (through ``gateway.fold``) ``{node}.membership.events``; writes her record's
``accesses`` and ``activation_codes``.
"""

from __future__ import annotations

from gateway.documents import AccessDoc, DocumentStore, MemberRecord, document
from gateway.member_access.documents import ActivationCode
from schemas import membership as m
from schemas.envelope import Envelope
from schemas.registry import Contract


def fold(store: DocumentStore, event: Contract, envelope: Envelope) -> list[str]:
    """Apply one event; returns the member ids whose record changed."""
    member = document(store, MemberRecord, event.member_id)
    match event:
        case m.MemberAccessIssued():
            member.accesses.append(AccessDoc(access_id=event.access_id,
                                             cooperative_id=event.cooperative_id,
                                             issued_at=envelope.time))
            store.put("activation_codes", event.code_digest, ActivationCode(
                code_digest=event.code_digest, member_id=event.member_id,
                access_id=event.access_id, expires_at=event.expires_at))
        case m.MemberAccessGranted():
            for access in member.accesses:
                if access.access_id == event.access_id:
                    access.granted_at = event.granted_at
        case m.MemberAccessRevoked():
            for access in member.accesses:
                if event.access_id in (None, access.access_id):
                    access.revoked = True
        case m.MemberErased():
            for access in member.accesses:
                access.revoked = True
    store.put("members", event.member_id, member)
    return [event.member_id]


def summary(event: Contract) -> str | None:
    """Her timeline's line for one of this feature's own events."""
    match event:
        case m.MemberAccessIssued():
            return f"was given an activation code by cooperative {event.cooperative_id}"
        case m.MemberAccessGranted():
            return "opened her own access to her record"
        case m.MemberAccessRevoked():
            return ("her access was revoked" if event.access_id is not None
                    else "all her accesses were revoked")
    return None


#: The events this feature folds (an erasure is folded by other features too).
FOLDS = dict.fromkeys((m.MemberAccessIssued, m.MemberAccessGranted, m.MemberAccessRevoked,
                       m.MemberErased), fold)
