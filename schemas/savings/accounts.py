"""The account's own contracts (key ``account_id``): opening and closing it, savings deposited
and withdrawn, shares bought and paid back."""

from __future__ import annotations

from schemas.fields import CurrencyCode, Id, Money
from schemas.registry import REGISTRY, Contract
from schemas.savings.service import SERVICE
from schemas.savings.terms import BookedOn, Count, Product

command = REGISTRY.command
event = REGISTRY.event


@command(SERVICE, "OpenAccount", key="account_id")
class OpenAccount(Contract, frozen=True, kw_only=True):
    """Open a savings, share capital or loan account for a member of a cooperative.
    She is an active member of it (else NotAMember), the cooperative is registered (else
    UnknownCooperative), the currency is the cooperative's (else CurrencyMismatch) and the
    account's id is new (else AccountAlreadyOpen)."""

    account_id: Id
    member_id: Id
    cooperative_id: Id
    product: Product
    currency: CurrencyCode


@event(SERVICE, "AccountOpened")
class AccountOpened(Contract, frozen=True, kw_only=True):
    account_id: Id
    member_id: Id
    cooperative_id: Id
    product: Product
    currency: CurrencyCode


@command(SERVICE, "CloseAccount", key="account_id")
class CloseAccount(Contract, frozen=True, kw_only=True):
    """Close an account: at zero balance, or moving its whole balance to another account.
    That account is another open account of the same member and currency (else
    InvalidTransferTarget). A loan not repaid (LoanOutstanding), shares not redeemed
    (SharesNotRedeemed), money sent and not settled (RemittancesPending, TransfersPending) or a
    balance with nowhere to go (AccountNotEmpty) keep it open."""

    account_id: Id
    transfer_to: Id | None = None


@event(SERVICE, "AccountClosed")
class AccountClosed(Contract, frozen=True, kw_only=True):
    account_id: Id
    transfer_id: Id | None = None  # set when the balance left as a transfer
    transferred: Money | None = None
    transfer_to: Id | None = None


# -- savings --------------------------------------------------------------------------------


@command(SERVICE, "DepositFunds", version=2, key="account_id")
class DepositFunds(Contract, frozen=True, kw_only=True):
    """Deposit money into a member's savings account.
    She is an active member of the account's cooperative (else NotAMember); the amount is more
    than zero, in the account's currency; a back office entering an older deposit gives the day
    it was booked."""

    account_id: Id
    amount: Money
    booked_on: BookedOn = None


@event(SERVICE, "FundsDeposited", version=2)
class FundsDeposited(Contract, frozen=True, kw_only=True):
    account_id: Id
    amount: Money
    balance: Money
    booked_on: BookedOn = None


@command(SERVICE, "WithdrawFunds", version=2, key="account_id")
class WithdrawFunds(Contract, frozen=True, kw_only=True):
    """Withdraw money from a savings account: the whole amount, or nothing.
    A balance that does not cover it is InsufficientFunds; a member who left still gets her
    money."""

    account_id: Id
    amount: Money
    booked_on: BookedOn = None


@event(SERVICE, "FundsWithdrawn", version=2)
class FundsWithdrawn(Contract, frozen=True, kw_only=True):
    account_id: Id
    amount: Money
    balance: Money
    booked_on: BookedOn = None


# -- share capital --------------------------------------------------------------------------


@command(SERVICE, "PurchaseShares", key="account_id")
class PurchaseShares(Contract, frozen=True, kw_only=True):
    """Buy shares in the cooperative for a member, at its share price, into her share capital.
    She is an active member of the account's cooperative (else NotAMember); the account is a
    share capital account (else WrongProduct)."""

    account_id: Id
    shares: Count


@event(SERVICE, "SharesPurchased")
class SharesPurchased(Contract, frozen=True, kw_only=True):
    account_id: Id
    shares: Count
    share_price: Money
    amount: Money
    total_shares: Count
    balance: Money
    required: Money  # the member's required share capital in this cooperative


@command(SERVICE, "RedeemShares", key="account_id")
class RedeemShares(Contract, frozen=True, kw_only=True):
    """Pay a member's shares back once her membership has ended.
    All the shares the account holds are paid back, at what was paid in for them; while she is
    a member it is MembershipActive, with no shares NothingToRedeem."""

    account_id: Id


@event(SERVICE, "SharesRedeemed")
class SharesRedeemed(Contract, frozen=True, kw_only=True):
    account_id: Id
    shares: Count
    amount: Money
