"""Messages between nodes: the only thing that travels from one node to another.

Each message is a CloudEvent (``coop.federation.<Name>.v<N>``) carried as the payload of a
compact JWS signed with the sending node's Ed25519 key (header ``typ: coop-message+jwt``),
written to the sender's ``{node}.federation`` topic, keyed by the transfer id. The receiving
node reads its trusted peers' federation topics, keeps what is addressed to it (``to``),
verifies the signature against the peer's published keys, and only then acts. A node never
reads another node's events.

* ``SavingsTransferSent``: the sending node debited ``from_account_id``; credit ``amount`` (the
  home currency, rate and fee already applied) to ``to_account_id``.
* ``SavingsTransferAnswered``: the home node credited it (``accepted``) or refused it (the
  ``reason``), so the sender marks the transfer delivered or refunds it.
* ``PremiumSent`` / ``PremiumAnswered`` (issue 25): the same for an insurance premium her
  host account paid to the insurer's node, collected on her policy or refused (refunded
  whole at the host). Its ``transfer_id`` is the payment's premium id: one per payment, so a
  premium refunded and paid again travels as a new one.
* ``PolicyApplication`` / ``PolicyApplicationAnswered`` (issue 25): her application at her
  host node, carried to the insurer's node (which issues the policy or refuses it), and the
  answer back, with the policy's terms when issued. About one cover (``cover_id``).
* ``ClaimNotice`` / ``ClaimNoticeAnswered``: her death, recorded at her host node, carried
  under her insurance consent to the insurer's node (which opens the claim), and whether it
  did. About one cover.

Each message is about one thing (``subject_of``): a transfer, a premium, or a cover; its
envelope's subject and its key on the topic are that id.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import msgspec

from schemas.fields import CurrencyCode, Id, Money, NodeId, UtcDateTime
from schemas.insurance import MAX_PAYEES, Age, Payee, Period, PolicyTerms
from schemas.registry import REGISTRY, Contract

SERVICE = "federation"
message = REGISTRY.event


@message(SERVICE, "SavingsTransferSent")
class SavingsTransferSent(Contract, frozen=True, kw_only=True):
    transfer_id: Id
    member_id: Id
    from_node: NodeId
    from_account_id: Id
    to: NodeId
    to_account_id: Id
    amount: Money


@message(SERVICE, "SavingsTransferAnswered")
class SavingsTransferAnswered(Contract, frozen=True, kw_only=True):
    transfer_id: Id
    from_node: NodeId
    from_account_id: Id
    to: NodeId
    accepted: bool
    code: Annotated[str, msgspec.Meta(pattern=r"^[A-Z][A-Za-z0-9]{1,63}$")] | None = None


@message(SERVICE, "PremiumSent")
class PremiumSent(Contract, frozen=True, kw_only=True):
    """Her host account paid one period's premium of her policy at ``to``, at ``paid_at``."""

    transfer_id: Id
    member_id: Id
    policy_id: Id
    period: Period
    from_node: NodeId
    from_account_id: Id
    to: NodeId
    premium: Money
    paid_at: UtcDateTime


@message(SERVICE, "PremiumAnswered")
class PremiumAnswered(Contract, frozen=True, kw_only=True):
    transfer_id: Id
    policy_id: Id
    period: Period
    from_node: NodeId
    from_account_id: Id
    to: NodeId
    accepted: bool
    code: Annotated[str, msgspec.Meta(pattern=r"^[A-Z][A-Za-z0-9]{1,63}$")] | None = None


Code = Annotated[str, msgspec.Meta(pattern=r"^[A-Z][A-Za-z0-9]{1,63}$")]


@message(SERVICE, "PolicyApplication")
class PolicyApplication(Contract, frozen=True, kw_only=True):
    """Her application for a policy of ``product_id`` at ``to``, with her age and her
    average remittance (None: no remittance history) as her host node knows them."""

    cover_id: Id
    policy_id: Id
    product_id: Id
    currency: CurrencyCode
    member_id: Id
    from_node: NodeId
    to: NodeId
    starts_on: dt.date
    age: Age
    average_remittance: Money | None = None
    requested_benefit: Money | None = None
    payees: Annotated[list[Payee], msgspec.Meta(min_length=1, max_length=MAX_PAYEES)]


@message(SERVICE, "PolicyApplicationAnswered")
class PolicyApplicationAnswered(Contract, frozen=True, kw_only=True):
    cover_id: Id
    policy_id: Id
    from_node: NodeId
    to: NodeId
    accepted: bool
    code: Code | None = None
    terms: PolicyTerms | None = None


@message(SERVICE, "ClaimNotice")
class ClaimNotice(Contract, frozen=True, kw_only=True):
    """Her death, as a cooperative of her host node recorded it: open the claim."""

    cover_id: Id
    policy_id: Id
    claim_id: Id
    member_id: Id
    died_on: dt.date
    from_node: NodeId
    to: NodeId


@message(SERVICE, "ClaimNoticeAnswered")
class ClaimNoticeAnswered(Contract, frozen=True, kw_only=True):
    cover_id: Id
    policy_id: Id
    from_node: NodeId
    to: NodeId
    accepted: bool
    code: Code | None = None


def subject_of(payload: Contract) -> str:
    """What a federation message is about: its transfer's (or premium's) id, or its cover's."""
    return getattr(payload, "transfer_id", None) or payload.cover_id
