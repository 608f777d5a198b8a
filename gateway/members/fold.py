"""What the membership service's events about cooperatives, members, memberships, groups and
consent do to the documents (pure: no I/O), and how each reads in her timeline.

Reads (through ``gateway.fold``) ``{node}.membership.events``; writes the ``cooperatives``
and ``countries`` documents and her record's details, memberships, groups and consents.
What her records' revocation does on a revoked consent or an erasure is the records
feature's (``gateway.records.fold``).
"""

from __future__ import annotations

from gateway.documents import (
    ConsentDoc,
    DocumentStore,
    GroupRef,
    MemberRecord,
    MembershipDoc,
    document,
)
from gateway.members.documents import (
    ALL_COUNTRIES,
    CooperativeView,
    CoopMember,
    CountryIndex,
    GroupDoc,
    member_sort,
)
from schemas import membership as m
from schemas.envelope import Envelope
from schemas.registry import Contract


def fold(store: DocumentStore, event: Contract, envelope: Envelope) -> list[str]:  # noqa: C901
    """Apply one event; returns the member ids whose record changed."""
    match event:
        # -- cooperatives
        case m.CooperativeRegistered():
            coop = document(store, CooperativeView, event.cooperative_id)
            coop.registered, coop.name, coop.country = True, event.name, event.country
            coop.kind, coop.languages, coop.node = event.kind.value, list(event.languages), event.node
            coop.currency, coop.share_price = event.currency, event.share_price
            coop.names = dict(event.names)
            store.put("cooperatives", event.cooperative_id, coop)
            index = document(store, CountryIndex, event.country)
            if event.cooperative_id not in index.cooperatives:
                index.cooperatives.append(event.cooperative_id)
            store.put("countries", event.country, index)
            everywhere = document(store, CountryIndex, ALL_COUNTRIES)
            if event.country not in everywhere.cooperatives:  # here: the country codes
                everywhere.cooperatives.append(event.country)
            store.put("countries", ALL_COUNTRIES, everywhere)
            return []
        case m.CooperativeUpdated():
            coop = document(store, CooperativeView, event.cooperative_id)
            coop.name = event.name or coop.name
            coop.languages = list(event.languages) if event.languages else coop.languages
            coop.share_price = event.share_price or coop.share_price
            coop.names = dict(event.names) if event.names is not None else coop.names
            store.put("cooperatives", event.cooperative_id, coop)
            return []
        case m.MemberGroupCreated():
            coop = document(store, CooperativeView, event.cooperative_id)
            coop.groups.append(GroupDoc(group_id=event.group_id, name=event.name,
                                        kind=event.kind.value))
            store.put("cooperatives", event.cooperative_id, coop)
            return []
        case m.MemberAssignedToGroup() | m.MemberRemovedFromGroup():
            coop = document(store, CooperativeView, event.cooperative_id)
            member = document(store, MemberRecord, event.member_id)
            ref = GroupRef(cooperative_id=event.cooperative_id, group_id=event.group_id)
            assigned = isinstance(event, m.MemberAssignedToGroup)
            for group in coop.groups:
                if group.group_id == event.group_id:
                    group.members = ([*group.members, event.member_id] if assigned else
                                     [x for x in group.members if x != event.member_id])
            member.groups = ([*member.groups, ref] if assigned else
                             [g for g in member.groups if g != ref])
            store.put("cooperatives", event.cooperative_id, coop)
            store.put("members", event.member_id, member)
            return [event.member_id]
        # -- members
        case m.MemberRegistered() | m.MemberDetailsCorrected():
            member = document(store, MemberRecord, event.member_id)
            member.personal = event.personal
            if isinstance(event, m.MemberRegistered):
                member.registered, member.registered_at = True, envelope.time
                member.registered_by = event.cooperative_id
            store.put("members", event.member_id, member)
            return [event.member_id]
        case m.MembershipStarted():
            member = document(store, MemberRecord, event.member_id)
            coop = document(store, CooperativeView, event.cooperative_id)
            if all(x.cooperative_id != event.cooperative_id for x in member.memberships):
                store.put_row("coop_members", event.cooperative_id, member_sort(coop.joined),
                              CoopMember(member_id=event.member_id))
                coop.joined += 1
            member.memberships.append(MembershipDoc(
                cooperative_id=event.cooperative_id, role=event.role.value,
                started_on=event.started_on, share_capital_required=event.share_capital_required,
                consent_id=event.consent_id))
            for consent in member.consents:  # a consent to join is used once
                if consent.consent_id == event.consent_id:
                    consent.used = True
            coop.active_members += 1
            store.put("members", event.member_id, member)
            store.put("cooperatives", event.cooperative_id, coop)
            return [event.member_id]
        case m.MembershipEnded():
            member = document(store, MemberRecord, event.member_id)
            for membership in member.memberships:
                if membership.cooperative_id == event.cooperative_id and not membership.ended_on:
                    membership.ended_on, membership.end_reason = event.ended_on, event.reason.value
            coop = document(store, CooperativeView, event.cooperative_id)
            coop.active_members = max(0, coop.active_members - 1)
            store.put("members", event.member_id, member)
            store.put("cooperatives", event.cooperative_id, coop)
            return [event.member_id]
        # -- consent
        case m.ConsentGranted():
            member = document(store, MemberRecord, event.member_id)
            member.consents.append(ConsentDoc(
                consent_id=event.consent_id, grantee_kind=event.grantee_kind.value,
                grantee=event.grantee, scopes=[x.value for x in event.scopes],
                expires_at=event.expires_at, join=event.join, granted_at=event.granted_at))
            store.put("members", event.member_id, member)
            return [event.member_id]
        case m.ConsentRevoked():
            member = document(store, MemberRecord, event.member_id)
            for consent in member.consents:
                if consent.consent_id == event.consent_id:
                    consent.revoked = True
            store.put("members", event.member_id, member)
            return [event.member_id]
        case m.MemberErased():
            member = document(store, MemberRecord, event.member_id)
            member.erased, member.personal = True, None
            store.put("members", event.member_id, member)
            return [event.member_id]
    return []


#: The events this feature folds.
FOLDS = dict.fromkeys((
    m.CooperativeRegistered, m.CooperativeUpdated, m.MemberGroupCreated,
    m.MemberAssignedToGroup, m.MemberRemovedFromGroup, m.MemberRegistered,
    m.MemberDetailsCorrected, m.MembershipStarted, m.MembershipEnded, m.ConsentGranted,
    m.ConsentRevoked, m.MemberErased), fold)


def summary(event: Contract) -> str | None:
    """Her timeline's line for one of this feature's events (no personal data)."""
    match event:
        case m.MemberRegistered():
            return "registered as a member of the federation"
        case m.MemberDetailsCorrected():
            return "corrected their personal details"
        case m.MembershipStarted():
            return f"became a {event.role.value.replace('_', ' ')} of cooperative {event.cooperative_id}"
        case m.MembershipEnded():
            return f"left cooperative {event.cooperative_id} ({event.reason.value.replace('_', ' ')})"
        case m.ConsentGranted():
            granted = [f"see {', '.join(x.value for x in event.scopes)}"] if event.scopes else []
            granted += ["admit her as a member, once"] if event.join else []
            return (f"let {event.grantee_kind.value} {event.grantee} "
                    f"{' and '.join(granted)} until {event.expires_at:%Y-%m-%d}")
        case m.ConsentRevoked():
            return f"revoked consent {event.consent_id}"
        case m.MemberErased():
            return "was erased at their request"
        case m.MemberAssignedToGroup():
            return f"joined group {event.group_id}"
        case m.MemberRemovedFromGroup():
            return f"left group {event.group_id}"
    return None
