"""What her cover at her host node may know of other services, folded by the runtime from
this node's events topics (pure).

* ``members`` (from membership events): her active memberships, her death as a
  cooperative of this node she chose herself recorded it (a membership ended as
  ``deceased``; not one that admitted her under her consent to join), and her consents (to
  whom, which scopes, until when, revoked);
* ``savers`` (from savings events, timed): whose each account is and whether it is open, and
  what each member's remittances delivered over the last 12 months (``RemittanceSent``'s
  ``received``, in the currency the family received, by when it was recorded; a refunded
  one never reached the family and is taken out).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from schemas import membership as ms
from schemas import savings as s
from schemas.fields import Money, add_months
from schemas.registry import Contract

#: The months of remittance history her average is taken over, at most.
AVERAGE_MONTHS = 12


@dataclass
class Consent:
    grantee_kind: str
    grantee: str
    scopes: frozenset[str]
    expires_at: dt.datetime
    revoked: bool = False

    def grants(self, node: str, scope: str, now: dt.datetime) -> bool:
        return (not self.revoked and self.grantee_kind == ms.GranteeKind.NODE
                and self.grantee == node and scope in self.scopes and now < self.expires_at)


@dataclass
class Members:
    """The ``members`` view."""

    active: set[tuple[str, str]] = field(default_factory=set)  # (member, cooperative)
    #: ... the memberships she chose herself (not one a cooperative started under her
    #: consent to join: it acts for her in nothing, and does not record her death)
    chosen: set[tuple[str, str]] = field(default_factory=set)
    died_on: dict[str, dt.date] = field(default_factory=dict)
    consents: dict[str, dict[str, Consent]] = field(default_factory=dict)

    def consented(self, member_id: str, node: str, scope: str, now: dt.datetime) -> bool:
        """She has a live consent granting ``scope`` to ``node`` now."""
        return any(c.grants(node, scope, now)
                   for c in self.consents.get(member_id, {}).values())


def apply_to_members(view: Members, event: Contract) -> None:
    match event:
        case ms.MembershipStarted():
            view.active.add((event.member_id, event.cooperative_id))
            if event.consent_id is None:
                view.chosen.add((event.member_id, event.cooperative_id))
        case ms.MembershipEnded():
            key = (event.member_id, event.cooperative_id)
            view.active.discard(key)
            if event.reason is ms.EndReason.DECEASED and key in view.chosen:
                view.died_on.setdefault(event.member_id, event.ended_on)
        case ms.ConsentGranted():
            view.consents.setdefault(event.member_id, {})[event.consent_id] = Consent(
                event.grantee_kind, event.grantee, frozenset(event.scopes), event.expires_at)
        case ms.ConsentRevoked():
            consent = view.consents.get(event.member_id, {}).get(event.consent_id)
            if consent is not None:
                consent.revoked = True
        case ms.MemberErased():  # her consents go with her
            view.consents.pop(event.member_id, None)


@dataclass(frozen=True)
class Sent:
    remittance_id: str
    at: dt.datetime
    received: Money


@dataclass
class Savers:
    """The ``savers`` view."""

    owner: dict[str, tuple[str, str]] = field(default_factory=dict)  # account -> member, coop
    closed: set[str] = field(default_factory=set)
    sent: dict[str, list[Sent]] = field(default_factory=dict)  # member -> her remittances

    def average_remittance(self, member_id: str, now: dt.datetime,
                           currency: str) -> Money | None:
        """What her remittances delivered a month in ``currency``, on average, over the last
        12 calendar months, this one included (or since the month of her first one, if
        later), rounded down to the minor unit; ``None`` without any in that time. A migrant
        who sends once a month averages one remittance."""
        since = add_months(now.date().replace(day=1), 1 - AVERAGE_MONTHS)
        recent = [r for r in self.sent.get(member_id, []) if since <= r.at.date()
                  and r.at <= now and r.received.currency == currency]
        if not recent:
            return None
        total = sum(r.received.amount for r in recent)
        first = min(r.at for r in recent).date()
        months = (now.year - first.year) * 12 + now.month - first.month + 1
        return Money(total // months, currency)


def apply_to_savers(view: Savers, event: Contract, recorded: dt.datetime) -> None:
    match event:
        case s.AccountOpened():
            view.owner[event.account_id] = (event.member_id, event.cooperative_id)
        case s.AccountClosed():
            view.closed.add(event.account_id)
        case s.RemittanceSent():
            owner = view.owner.get(event.account_id)
            if owner is None:
                return
            history = view.sent.setdefault(owner[0], [])
            horizon = recorded - dt.timedelta(days=31 * (AVERAGE_MONTHS + 1))
            history[:] = [r for r in history if r.at > horizon]  # no longer needed
            history.append(Sent(event.remittance_id, recorded, event.received))
        case s.RemittanceRefunded():
            owner = view.owner.get(event.account_id)
            if owner is not None and owner[0] in view.sent:
                view.sent[owner[0]] = [r for r in view.sent[owner[0]]
                                       if r.remittance_id != event.remittance_id]
