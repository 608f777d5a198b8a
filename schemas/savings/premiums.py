"""Insurance money through a savings account (key ``account_id``, issue 25): a policy's
premium paid from the member's account at her host node to the insurer at another node
(carried by the relay like a transfer home, then delivered or refunded whole as the insurer
answered), and a benefit the insurer pays into an account of its own node."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import msgspec

from schemas.fields import Id, Money, NodeId
from schemas.insurance import Period
from schemas.registry import REGISTRY, Contract
from schemas.savings.service import SERVICE
from schemas.savings.terms import Decimal, Reason

command = REGISTRY.command
event = REGISTRY.event

@command(SERVICE, "PayPremium", key="account_id")
class PayPremium(Contract, frozen=True, kw_only=True):
    """Pay one period's premium of her policy from her savings account (her standing
    instruction, or she herself paying arrears): the insurer at ``to_node`` gets exactly
    ``premium``, in its currency; the account pays its cost at the disclosed rate, and the fee
    on top. Whole or nothing: the balance covers cost and fee (else InsufficientFunds, and
    nothing is taken); the account is hers (else WrongBeneficiary) and a savings account (else
    WrongProduct); the period is not paid or on its way already (else PremiumAlreadyPaid); the
    payment's id is new on this account (else DuplicateTransfer: a premium refunded is paid
    again under a new one); a rate is known (else RateUnavailable)."""

    account_id: Id
    premium_id: Id
    member_id: Id
    policy_id: Id
    period: Period
    premium: Money
    to_node: NodeId


@event(SERVICE, "PremiumPaid")
class PremiumPaid(Contract, frozen=True, kw_only=True):
    """``cost`` + ``fee`` left the account; the insurer is to get ``premium``:
    ``cost = premium x rate``, rounded half-even to the account's currency."""

    account_id: Id
    premium_id: Id
    member_id: Id
    policy_id: Id
    period: Period
    premium: Money
    to_node: NodeId
    cost: Money
    fee: Money
    rate: Decimal
    rate_date: dt.date
    balance: Money


@command(SERVICE, "ConfirmPremium", key="account_id")
class ConfirmPremium(Contract, frozen=True, kw_only=True):
    """The insurer's node collected the premium (sent by the relay); only the node it went
    to settles it (else WrongNode), once (else TransferSettled; UnknownTransfer for an id that
    never left the account)."""

    account_id: Id
    premium_id: Id
    by_node: NodeId


@event(SERVICE, "PremiumDelivered")
class PremiumDelivered(Contract, frozen=True, kw_only=True):
    account_id: Id
    premium_id: Id
    policy_id: Id
    period: Period


@command(SERVICE, "RefundPremium", key="account_id")
class RefundPremium(Contract, frozen=True, kw_only=True):
    """The insurer's node refused the premium (sent by the relay): cost and fee come back.
    Same rules as ConfirmPremium."""

    account_id: Id
    premium_id: Id
    by_node: NodeId
    reason: Reason


@event(SERVICE, "PremiumRefunded")
class PremiumRefunded(Contract, frozen=True, kw_only=True):
    account_id: Id
    premium_id: Id
    policy_id: Id
    period: Period
    amount: Money  # cost and fee, given back whole
    reason: Reason
    balance: Money


@command(SERVICE, "ReceiveBenefit", key="account_id")
class ReceiveBenefit(Contract, frozen=True, kw_only=True):
    """Credit one payment of an insurance benefit to a savings account of this node (sent by
    the insurer's payer, one command id per payment). The account is an open savings account
    (else UnknownAccount, AccountClosed, WrongProduct) in the payment's currency (else
    CurrencyMismatch); the payment was not credited already (else BenefitAlreadyReceived)."""

    account_id: Id
    policy_id: Id
    number: Annotated[int, msgspec.Meta(ge=1)]
    amount: Money


@event(SERVICE, "BenefitReceived")
class BenefitReceived(Contract, frozen=True, kw_only=True):
    account_id: Id
    policy_id: Id
    number: int
    amount: Money
    balance: Money


@command(SERVICE, "ReceiveWage", key="account_id")
class ReceiveWage(Contract, frozen=True, kw_only=True):
    """Credit the whole wage of a placement's settlement to her savings account (sent by the
    placement service's placer, issue 26). The account is an open savings account (else
    UnknownAccount, AccountClosed, WrongProduct) of the worker (else WrongBeneficiary) in the
    wage's currency (else CurrencyMismatch); the settlement was not credited already (else
    WageAlreadyReceived)."""

    account_id: Id
    member_id: Id
    job_order_id: Id
    settlement_id: Id
    amount: Money


@event(SERVICE, "WageReceived")
class WageReceived(Contract, frozen=True, kw_only=True):
    account_id: Id
    job_order_id: Id
    settlement_id: Id
    amount: Money
    balance: Money
