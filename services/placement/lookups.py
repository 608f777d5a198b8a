"""What the placement rules may know besides an aggregate's own state, folded by the runtime
from this node's events topics (pure):

* ``cooperatives`` (membership): the cooperatives registered here;
* ``workers`` (membership): her active memberships, and the certificates of the records
  imported for her (``RecordImported``: verified against their issuer before they were
  recorded); an erased member is forgotten, memberships and all;
* ``certificates`` (training): the certificates courses here issued her, until revoked;
* ``accounts`` (savings): whose each account is, its product and whether it is open;
* ``book`` (this service's own events): the floors, the employers, and each job order's
  shifts and where its offer stands, which her calendar decides an acceptance by.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from schemas import membership as ms
from schemas import placement as p
from schemas import savings as s
from schemas import training as t
from schemas.fields import Money
from schemas.matching import Evidence, skill_key
from schemas.registry import Contract


def apply_to_cooperatives(view: set[str], event: Contract) -> None:
    if isinstance(event, ms.CooperativeRegistered):
        view.add(event.cooperative_id)


@dataclass
class Workers:
    active: set[tuple[str, str]] = field(default_factory=set)  # (member, cooperative)
    imported: dict[str, dict[str, tuple[Evidence, ...]]] = field(default_factory=dict)

    def evidence(self, member_id: str) -> list[Evidence]:
        return [e for found in self.imported.get(member_id, {}).values() for e in found]


def apply_to_workers(view: Workers, event: Contract) -> None:
    match event:
        case ms.MembershipStarted():
            view.active.add((event.member_id, event.cooperative_id))
        case ms.MembershipEnded():
            view.active.discard((event.member_id, event.cooperative_id))
        case ms.RecordImported():
            view.imported.setdefault(event.member_id, {})[event.credential_id] = tuple(
                Evidence(frozenset(c.skills), c.language, c.level)
                for c in event.history.certificates if not c.revoked)
        case ms.MemberErased():  # nobody offers her anything from now on
            view.imported.pop(event.member_id, None)
            view.active = {(m, c) for m, c in view.active if m != event.member_id}


@dataclass
class Certificates:
    held: dict[str, dict[str, Evidence]] = field(default_factory=dict)  # member -> cert id ->
    whose: dict[str, str] = field(default_factory=dict)  # certificate id -> member

    def evidence(self, member_id: str) -> list[Evidence]:
        return list(self.held.get(member_id, {}).values())


def apply_to_certificates(view: Certificates, event: Contract) -> None:
    match event:
        case t.CertificateIssued():
            view.held.setdefault(event.member_id, {})[event.certificate_id] = Evidence(
                frozenset(skill_key(x) for x in event.skills), event.language,
                str(event.level) if event.level else None)
            view.whose[event.certificate_id] = event.member_id
        case t.CertificateRevoked():
            view.held.get(event.member_id, {}).pop(event.certificate_id, None)


@dataclass(frozen=True)
class AccountFacts:
    member_id: str
    cooperative_id: str
    product: s.Product
    currency: str


@dataclass
class Accounts:
    opened: dict[str, AccountFacts] = field(default_factory=dict)
    closed: set[str] = field(default_factory=set)

    def hers(self, account_id: str, member_id: str) -> bool:
        """An open savings account of hers."""
        facts = self.opened.get(account_id)
        return (facts is not None and facts.member_id == member_id
                and facts.product is s.Product.SAVINGS and account_id not in self.closed)


def apply_to_accounts(view: Accounts, event: Contract) -> None:
    match event:
        case s.AccountOpened():
            view.opened[event.account_id] = AccountFacts(
                event.member_id, event.cooperative_id, event.product, event.currency)
        case s.AccountClosed():
            view.closed.add(event.account_id)


@dataclass
class Order:
    """What her calendar needs of a job order: its shifts and where its offer stands."""

    cooperative_id: str
    currency: str
    shifts: tuple[p.Shift, ...]
    offered_to: str | None = None
    expires_at: dt.datetime | None = None
    closed: bool = False  # withdrawn, or its placement confirmed or ended
    ended_on: dt.date | None = None  # its placement's last day


@dataclass
class Book:
    floors: dict[str, dict[str, Money]] = field(default_factory=dict)  # coop -> group ->
    employers: dict[str, str] = field(default_factory=dict)  # employer -> cooperative
    erased: set[str] = field(default_factory=set)
    orders: dict[str, Order] = field(default_factory=dict)

    def floor(self, cooperative_id: str, occupation: str) -> Money | None:
        """The floor of the most specific ISCO-08 group of ``occupation`` that has one."""
        floors = self.floors.get(cooperative_id, {})
        for digits in range(len(occupation), 0, -1):
            if occupation[:digits] in floors:
                return floors[occupation[:digits]]
        return None


def apply_to_book(view: Book, event: Contract) -> None:
    match event:
        case p.WageFloorSet():
            view.floors.setdefault(event.cooperative_id, {})[event.occupation] = event.hourly
        case p.EmployerRegistered():
            view.employers[event.employer_id] = event.cooperative_id
        case p.EmployerErased():
            view.erased.add(event.employer_id)
        case p.JobOrderPosted():
            view.orders[event.job_order_id] = Order(event.cooperative_id, event.wage.currency,
                                                     tuple(event.shifts))
        case p.JobOffered():
            order = view.orders.get(event.job_order_id)
            if order is not None:
                order.offered_to, order.expires_at = event.member_id, event.expires_at
        case p.OfferDeclined():
            order = view.orders.get(event.job_order_id)
            if order is not None:
                order.offered_to = order.expires_at = None
        case p.JobOrderWithdrawn() | p.PlacementConfirmed():
            order = view.orders.get(event.job_order_id)
            if order is not None:
                order.closed = True
        case p.PlacementEnded():
            order = view.orders.get(event.job_order_id)
            if order is not None:
                order.ended_on = event.ended_on
