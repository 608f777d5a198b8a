"""Money sent from a savings account (key ``account_id``): to an account of this node or paid
out to a non-member, received by the beneficiary's account, and settled on the sender's
(delivered, or refunded whole)."""

from __future__ import annotations

import datetime as dt

from schemas.fields import Id, Money
from schemas.registry import REGISTRY, Contract
from schemas.savings.service import SERVICE
from schemas.savings.terms import BookedOn, Beneficiary, Corridor, Decimal, Payout, Reason

command = REGISTRY.command
event = REGISTRY.event


@command(SERVICE, "SendRemittance", version=2, key="account_id")
class SendRemittance(Contract, frozen=True, kw_only=True):
    """Send money from a savings account: to an account of this node, or paid out to a non-member.
    The amount is in the account's currency and the fee comes on top; the event discloses the
    fee, the rate and what arrives. She is an active member (else NotAMember), the balance
    covers amount and fee (else InsufficientFunds), a rate is known for the two currencies
    (else RateUnavailable) and the remittance id is new (else DuplicateRemittance)."""

    account_id: Id
    remittance_id: Id
    amount: Money
    to: Beneficiary | Payout
    booked_on: BookedOn = None


@event(SERVICE, "RemittanceSent", version=2)
class RemittanceSent(Contract, frozen=True, kw_only=True):
    """Money left the sender: ``amount`` + ``fee``, at ``rate``, for ``received``."""

    account_id: Id
    remittance_id: Id
    to: Beneficiary | Payout
    amount: Money
    fee: Money
    rate: Decimal
    rate_date: dt.date
    received: Money
    corridor: Corridor
    balance: Money
    booked_on: BookedOn = None


@command(SERVICE, "ReceiveRemittance", key="account_id")
class ReceiveRemittance(Contract, frozen=True, kw_only=True):
    """Credit a remittance to the beneficiary's account (sent by the courier)."""

    account_id: Id
    remittance_id: Id
    from_account_id: Id
    amount: Money


@event(SERVICE, "RemittanceReceived")
class RemittanceReceived(Contract, frozen=True, kw_only=True):
    account_id: Id
    remittance_id: Id
    from_account_id: Id
    amount: Money
    balance: Money


@command(SERVICE, "ConfirmRemittanceDelivered", key="account_id")
class ConfirmRemittanceDelivered(Contract, frozen=True, kw_only=True):
    account_id: Id
    remittance_id: Id


@event(SERVICE, "RemittanceDelivered")
class RemittanceDelivered(Contract, frozen=True, kw_only=True):
    account_id: Id
    remittance_id: Id


@command(SERVICE, "RefundRemittance", key="account_id")
class RefundRemittance(Contract, frozen=True, kw_only=True):
    account_id: Id
    remittance_id: Id
    reason: Reason


@event(SERVICE, "RemittanceRefunded")
class RemittanceRefunded(Contract, frozen=True, kw_only=True):
    """The whole debit (amount and fee) comes back; a closure that moved it is undone."""

    account_id: Id
    remittance_id: Id
    amount: Money
    reason: Reason
    balance: Money
