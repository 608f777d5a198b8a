"""What the events about her portable record do to the documents (pure: no I/O), and how
each reads in her timeline.

Reads (through ``gateway.fold``) ``{node}.membership.events`` (records exported, revoked and
imported; and a revoked consent or an erasure, which revoke what she shared) and
``{node}.training.events`` (a revoked certificate). Writes her record's exports and imports
and the ``statuslists`` documents: what a verifier sees at the next fetch of her lists.
"""

from __future__ import annotations

from collections.abc import Callable

from gateway.documents import DocumentStore, ExportDoc, ImportDoc, MemberRecord, document
from gateway.records.documents import StatusListView, status_list_id
from schemas import membership as m
from schemas import training as t
from schemas.envelope import Envelope
from schemas.registry import Contract


def _revoke(store: DocumentStore, member: MemberRecord, which: Callable[[ExportDoc], bool],
            certificates: bool = False) -> None:
    """Set the status bits of her exported records that ``which`` picks (and, on erasure,
    of every certificate): what a verifier sees at the next fetch of her lists."""
    revoked = [e.status_index for e in member.exports if which(e) and not e.revoked]
    for export in member.exports:
        if which(export):
            export.revoked = True
    lists = [("records", revoked)]
    if certificates:
        lists.append(("certificates", list(range(len(member.certificates)))))
    for of, indices in lists:
        if indices:
            _set_bits(store, status_list_id(member.member_id, of), indices)


def _set_bits(store: DocumentStore, list_id: str, indices: list[int]) -> None:
    listed = document(store, StatusListView, list_id)
    listed.revoked = sorted({*listed.revoked, *indices})
    store.put("statuslists", list_id, listed)


def fold(store: DocumentStore, event: Contract, envelope: Envelope) -> list[str]:
    """Apply one event; returns the member ids whose record changed."""
    member = document(store, MemberRecord, event.member_id)
    match event:
        case m.RecordExported():  # its status index: the event's sequence in her stream
            member.exports.append(ExportDoc(
                credential_id=event.credential_id, consent_id=event.consent_id,
                grantee_kind=event.grantee_kind.value,
                grantee=event.grantee, scopes=[x.value for x in event.scopes],
                valid_from=event.valid_from, valid_until=event.valid_until,
                status_index=envelope.sequence or 0))
        case m.RecordRevoked():
            _revoke(store, member, lambda export: export.credential_id == event.credential_id)
        case m.RecordImported():
            if not member.registered:
                member.registered, member.registered_at = True, envelope.time
            if event.personal is not None and member.personal is None:
                member.personal = event.personal  # her details here win over a record's
            member.imports.append(ImportDoc(
                credential_id=event.credential_id, issuer_node=event.issuer_node,
                issued_at=event.issued_at, imported_at=envelope.time, history=event.history))
        case m.ConsentRevoked():
            # what she shared under it stops verifying (it cannot be unseen, but no longer
            # serves as her record)
            _revoke(store, member, lambda export: export.consent_id == event.consent_id)
        case m.MemberErased():
            _revoke(store, member, lambda export: True, certificates=True)
        case t.CertificateRevoked():
            for index, certificate in enumerate(member.certificates):
                if certificate.certificate_id == event.certificate_id:
                    _set_bits(store, status_list_id(event.member_id, "certificates"), [index])
    store.put("members", event.member_id, member)
    return [event.member_id]


#: The events this feature folds (a revoked consent, an erasure and a revoked certificate
#: are folded by their own feature too).
FOLDS = dict.fromkeys((
    m.RecordExported, m.RecordRevoked, m.RecordImported, m.ConsentRevoked, m.MemberErased,
    t.CertificateRevoked), fold)


def summary(event: Contract) -> str | None:
    """Her timeline's line for one of this feature's own events."""
    match event:
        case m.RecordExported():
            return (f"shared their record ({', '.join(x.value for x in event.scopes)}) with "
                    f"{event.grantee_kind.value} {event.grantee}")
        case m.RecordRevoked():
            return f"record {event.credential_id} was revoked by its issuer"
        case m.RecordImported():
            return f"brought their record home from node {event.issuer_node}"
    return None

