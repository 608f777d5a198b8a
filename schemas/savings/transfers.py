"""Savings moving home to the member's account at another node (key ``account_id``): sent
from the host, credited at home, then delivered or refunded at the host as home answered."""

from __future__ import annotations

import datetime as dt

from schemas.fields import CurrencyCode, Id, Money, NodeId
from schemas.registry import REGISTRY, Contract
from schemas.savings.service import SERVICE
from schemas.savings.terms import Decimal, Reason

command = REGISTRY.command
event = REGISTRY.event


@command(SERVICE, "TransferSavingsHome", key="account_id")
class TransferSavingsHome(Contract, frozen=True, kw_only=True):
    """Move savings to the member's account at her home node, credited in that account's currency.
    The whole amount leaves this account, fee included; the event discloses the fee, the rate
    and what the home account gets. The node is a trusted peer (else UnknownPeer), the balance
    covers the amount (else InsufficientFunds), a rate is known (else RateUnavailable) and what
    is left after the fee is enough to arrive (else ValidationError)."""

    account_id: Id
    transfer_id: Id
    amount: Money
    to_node: NodeId
    to_account_id: Id
    to_currency: CurrencyCode


@event(SERVICE, "SavingsSentHome")
class SavingsSentHome(Contract, frozen=True, kw_only=True):
    """``amount`` left the account (``fee`` included); ``received`` is what the home account
    is credited, ``(amount - fee) x rate`` in the home currency, rounded half-even."""

    account_id: Id
    transfer_id: Id
    member_id: Id
    to_node: NodeId
    to_account_id: Id
    amount: Money
    fee: Money
    rate: Decimal
    rate_date: dt.date
    received: Money
    balance: Money


@command(SERVICE, "ReceiveSavingsTransfer", key="account_id")
class ReceiveSavingsTransfer(Contract, frozen=True, kw_only=True):
    """At the home node: credit a transfer the sending node signed (sent by the relay)."""

    account_id: Id
    transfer_id: Id
    member_id: Id
    from_node: NodeId
    from_account_id: Id
    amount: Money


@event(SERVICE, "SavingsTransferReceived")
class SavingsTransferReceived(Contract, frozen=True, kw_only=True):
    account_id: Id
    transfer_id: Id
    member_id: Id
    from_node: NodeId
    from_account_id: Id
    amount: Money
    balance: Money


@command(SERVICE, "ConfirmSavingsTransfer", key="account_id")
class ConfirmSavingsTransfer(Contract, frozen=True, kw_only=True):
    """At the sending node: the home node acknowledged the credit (sent by the relay).
    ``by_node`` is the node whose signed answer this is: only the node the money went to
    settles a transfer."""

    account_id: Id
    transfer_id: Id
    by_node: NodeId


@event(SERVICE, "SavingsTransferDelivered")
class SavingsTransferDelivered(Contract, frozen=True, kw_only=True):
    account_id: Id
    transfer_id: Id


@command(SERVICE, "RefundSavingsTransfer", key="account_id")
class RefundSavingsTransfer(Contract, frozen=True, kw_only=True):
    """At the sending node: the home node refused the credit (sent by the relay)."""

    account_id: Id
    transfer_id: Id
    by_node: NodeId
    reason: Reason


@event(SERVICE, "SavingsTransferRefunded")
class SavingsTransferRefunded(Contract, frozen=True, kw_only=True):
    """The whole debit (amount and fee) comes back."""

    account_id: Id
    transfer_id: Id
    amount: Money
    reason: Reason
    balance: Money
