"""The members feature's GraphQL types: who she is, her memberships, groups and consents,
the cooperatives and their groups, and the entries of her timeline. Each maps a document
with ``from_doc``.
"""

from __future__ import annotations

import datetime as dt
import enum
import typing

import strawberry
from strawberry.types import Info

from gateway.documents import MembershipDoc
from gateway.i18n.types import LANG, LocalizedText, localized
from gateway.members.documents import CooperativeView
from gateway.types import Money, own_id, shown_count, use_id


@strawberry.type(description="Who she is: her personal details, opened from their seal for "
                             "this request only")
class Identity:
    given_names: str
    family_names: str
    date_of_birth: dt.date
    nationality: str
    gender: str | None
    preferred_languages: list[str]
    contact: str | None
    residence: str | None = strawberry.field(
        default=None, description="the country she lives in now, if she said (ISO 3166-1 "
                                  "alpha-2); null: not said")


@strawberry.type(description="A membership of a cooperative of this node")
class Membership:
    cooperative_id: strawberry.ID
    role: str = strawberry.field(description="her role: member, worker_member or board_member")
    started_on: dt.date
    ended_on: dt.date | None = strawberry.field(
        description="the day the membership ended; null while it lasts")
    end_reason: str | None = strawberry.field(
        description="why it ended: returned_home, moved, resigned, deceased or expelled; null "
                    "while it lasts")
    share_capital_required: Money
    active: bool = strawberry.field(description="it has not ended")
    consent_id: strawberry.ID | None = strawberry.field(
        description="the consent to join that admitted her (the cooperative sees and does "
                    "only what her consents allow); null: a cooperative she chose herself, or "
                    "a caller her consents are not the business of")

    @classmethod
    def from_doc(cls, doc: MembershipDoc, own: bool = False) -> Membership:
        """``own``: the caller is a cooperative she chose (her consents are its business)."""
        return cls(cooperative_id=doc.cooperative_id, role=doc.role, started_on=doc.started_on,
                   ended_on=doc.ended_on, end_reason=doc.end_reason,
                   share_capital_required=Money.from_value(doc.share_capital_required),
                   active=doc.ended_on is None, consent_id=doc.consent_id if own else None)


@strawberry.type(description="A member group she belongs to")
class GroupMembership:
    cooperative_id: strawberry.ID
    group_id: strawberry.ID


@strawberry.type(description="A consent she gave: who may see which parts of her record, "
                             "until when")
class Consent:
    consent_id: strawberry.ID = use_id()
    id: strawberry.ID = own_id("consent_id", "consent")
    grantee_kind: str = strawberry.field(description="cooperative or node")
    grantee: str
    scopes: list[str]
    expires_at: dt.datetime
    revoked: bool = strawberry.field(description="she revoked it")
    active: bool = strawberry.field(description="neither revoked nor expired: it lets the "
                                                "grantee see the scopes now")
    join: bool
    used: bool
    granted_at: dt.datetime | None


@strawberry.type(description="One event of her timeline, in words (no personal data)")
class HistoryEntry:
    at: dt.datetime = strawberry.field(description="when the event was decided")
    service: str = strawberry.field(description="membership, savings or training")
    type: str = strawberry.field(description="the event's name (FundsDeposited)")
    summary: str = strawberry.field(description="what happened, in one English line")
    actor: strawberry.Private[str | None] = None

    @strawberry.field(description="who did it: the member herself, a cooperative's staff or "
                                  "admins (acting for her, or in their own business), or the "
                                  "node's operator; null when not recorded (events from before "
                                  "it was, and what the services do themselves)")
    def by(self) -> Actor | None:
        return Actor.of(self.actor)


@strawberry.enum(description="Who sent the command an event came from")
class ActorKind(enum.Enum):
    MEMBER = strawberry.enum_value("member", description="the member herself, with her own "
                                   "member token")
    COOPERATIVE = strawberry.enum_value("cooperative", description="a cooperative's staff or "
                                        "admins")
    NODE = strawberry.enum_value("node", description="the node's operator")


@strawberry.type(description="Who sent the command an event came from: never a person's "
                             "name or id, only the member herself, a cooperative and a role, "
                             "or the node")
class Actor:
    kind: ActorKind = strawberry.field(description="the member, a cooperative or the node")
    cooperative_id: strawberry.ID | None = strawberry.field(
        default=None, description="the cooperative whose staff or admins sent it")
    role: str | None = strawberry.field(default=None, description="staff or admin")

    @staticmethod
    def of(actor: str | None) -> Actor | None:
        """The envelope's ``actor`` (``schemas.envelope``) as GraphQL shows it."""
        if actor in ("member", "node"):
            return Actor(kind=ActorKind(actor))
        parts = (actor or "").split(":")
        if len(parts) == 3 and parts[0] == "cooperative":
            return Actor(kind=ActorKind.COOPERATIVE, cooperative_id=parts[1], role=parts[2])
        return None


@strawberry.type(description="A member group of a cooperative")
class Group:
    group_id: strawberry.ID = use_id()
    id: strawberry.ID = own_id("group_id", "group")
    name: str
    kind: str = strawberry.field(description="solidarity_group, society or work_team")
    member_count: int = strawberry.field(description="how many members it has now")


@strawberry.type(description="A cooperative of this node: its public facts")
class Cooperative:
    cooperative_id: strawberry.ID = use_id()
    id: strawberry.ID = own_id("cooperative_id", "cooperative")
    name: str
    country: str
    kind: str = strawberry.field(
        description="savings_and_credit, worker, multi_purpose, insurance, services, consumer, "
                    "producer or training")
    languages: list[str]
    node: str
    currency: str = strawberry.field(
        description="the currency it keeps its accounts and prices its shares in (ISO 4217)")
    share_price: Money | None
    active_members: int | None = strawberry.field(
        description="its members now; null for outsiders when under 5")
    groups: list[Group] | None = strawberry.field(
        description="its member groups: for the cooperative's own people only (null for "
                    "others)")
    names: strawberry.Private[dict[str, str]] = None

    @strawberry.field(description="its name in the reader's language where it has one in "
                                  "several, else its name (in its first language, marked as a "
                                  "fallback when that is not the reader's)")
    def display_name(self, info: Info, lang: typing.Annotated[
            typing.Optional[list[str]], strawberry.argument(description=LANG)] = None
                     ) -> LocalizedText:
        texts = self.names or {(self.languages[0] if self.languages else "und"): self.name}
        return localized(texts, info, lang)

    @classmethod
    def from_doc(cls, doc: CooperativeView, insider: bool = False) -> Cooperative:
        return cls(cooperative_id=doc.cooperative_id, name=doc.name, country=doc.country,
                   kind=doc.kind, languages=doc.languages, node=doc.node, currency=doc.currency,
                   share_price=Money.from_value(doc.share_price),
                   active_members=shown_count(doc.active_members, insider),
                   groups=[Group(group_id=g.group_id, name=g.name, kind=g.kind,
                                 member_count=len(g.members)) for g in doc.groups]
                   if insider else None, names=dict(doc.names))
