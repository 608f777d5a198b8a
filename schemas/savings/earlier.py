"""Earlier versions of the savings contracts, read through upcasters as the newest.

Version 1 of deposits, withdrawals and remittances had no booking date: such a message was
booked the day it was decided (its envelope's time), so it reads as version 2 without one."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from schemas.fields import Id, Money
from schemas.registry import REGISTRY, Contract, fields_of
from schemas.savings.accounts import DepositFunds, FundsDeposited, FundsWithdrawn, WithdrawFunds
from schemas.savings.remittances import RemittanceSent, SendRemittance
from schemas.savings.service import SERVICE
from schemas.savings.terms import Beneficiary, Corridor, Decimal, Payout

command = REGISTRY.command
event = REGISTRY.event


@command(SERVICE, "DepositFunds", key="account_id")
class DepositFundsV1(Contract, frozen=True, kw_only=True):
    account_id: Id
    amount: Money


@event(SERVICE, "FundsDeposited")
class FundsDepositedV1(Contract, frozen=True, kw_only=True):
    account_id: Id
    amount: Money
    balance: Money


@command(SERVICE, "WithdrawFunds", key="account_id")
class WithdrawFundsV1(Contract, frozen=True, kw_only=True):
    account_id: Id
    amount: Money


@event(SERVICE, "FundsWithdrawn")
class FundsWithdrawnV1(Contract, frozen=True, kw_only=True):
    account_id: Id
    amount: Money
    balance: Money


@command(SERVICE, "SendRemittance", key="account_id")
class SendRemittanceV1(Contract, frozen=True, kw_only=True):
    """Send ``amount`` (in the account's currency) to an account or a payout."""

    account_id: Id
    remittance_id: Id
    amount: Money
    to: Beneficiary | Payout


@event(SERVICE, "RemittanceSent")
class RemittanceSentV1(Contract, frozen=True, kw_only=True):
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


def _without_booking_date(new: type[Contract]) -> Callable[[Contract], Contract]:
    def upcast(old: Contract) -> Contract:
        return new(**fields_of(old))  # booked_on: None

    return upcast


for _old, _new in ((DepositFundsV1, DepositFunds), (FundsDepositedV1, FundsDeposited),
                   (WithdrawFundsV1, WithdrawFunds), (FundsWithdrawnV1, FundsWithdrawn),
                   (SendRemittanceV1, SendRemittance), (RemittanceSentV1, RemittanceSent)):
    REGISTRY.upcaster(_old, _new)(_without_booking_date(_new))
del _old, _new
