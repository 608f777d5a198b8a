"""What the member access events do to the documents (pure: no I/O): her accesses in her
record, and the codes waiting to be redeemed, by digest.

Reads (through ``gateway.fold``) ``{node}.membership.events``; writes her record's
``accesses`` and ``activation_codes``.
"""

from __future__ import annotations

from gateway.documents import (
    AccessDoc,
    DocumentStore,
    MemberRecord,
    document,
    history_sort,
)
from gateway.member_access.documents import AccessEntry, ActivationCode
from schemas import membership as m
from schemas.envelope import Envelope
from schemas.registry import Contract


def fold(store: DocumentStore, event: Contract, envelope: Envelope) -> list[str]:
    """Apply one event; returns the member ids whose record changed."""
    if isinstance(event, m.ConsentUsed):  # her record is as it was: an entry in her log
        store.put_row("access_entries", event.member_id, history_sort(
            envelope.time, envelope.subject, envelope.sequence or 0), AccessEntry(
            at=event.used_at, reader=event.reader, scopes=[x.value for x in event.scopes],
            consent_ids=list(event.consent_ids), read=event.read.value))
        return [event.member_id]
    member = document(store, MemberRecord, event.member_id)
    match event:
        case m.MemberAccessIssued():
            member.accesses.append(AccessDoc(access_id=event.access_id,
                                             cooperative_id=event.cooperative_id,
                                             issued_at=envelope.time))
            held = store.get("activation_codes", event.code_digest)
            if held is None or held.member_id == event.member_id:  # a digest is one
                # member's: never handed to another who was issued the same by mistake
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
        case m.ConsentUsed():
            return (f"cooperative {event.reader} read her {event.read.value} under her consent "
                    f"({', '.join(x.value for x in event.scopes)})")
    return None


#: The events this feature folds (an erasure is folded by other features too).
FOLDS = dict.fromkeys((m.MemberAccessIssued, m.MemberAccessGranted, m.MemberAccessRevoked,
                       m.MemberErased, m.ConsentUsed), fold)
