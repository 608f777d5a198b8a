"""Contracts of the savings service: accounts, savings, share capital, loans, remittances.

One aggregate, the **account** (key ``account_id``), of one of three products: ``savings``
(deposits, withdrawals, remittances and transfers out), ``share_capital`` (the member's
shares in the cooperative) and ``loan`` (one loan: disbursement, schedule, repayments).

Money is ``fields.Money``: integer minor units and an ISO 4217 code. Rates are decimal
strings (``"1.0842"``: one unit of the sending currency buys this many of the receiving
one); the rate and fee used are written on the event, so history never changes with rates.

A remittance or transfer leaves the sender in one event (``RemittanceSent``), arrives in
another on the beneficiary's account (``RemittanceReceived``), and ends on the sender's as
``RemittanceDelivered`` or ``RemittanceRefunded``: what left equals what arrived plus the
fee, or is given back whole.

Deposits, withdrawals and remittances sent carry ``booked_on`` (since version 2): the day the
cooperative booked them, which may be earlier than the day they were decided (a back office
entering last month's till), and which places them in a month.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from enum import StrEnum
from typing import Annotated

import msgspec

from schemas.fields import CountryCode, CurrencyCode, Id, Money, NodeId, PastDay, Sealed
from schemas.registry import REGISTRY, Contract, fields_of
from schemas.rejections import declare_rejections

SERVICE = "savings"
command = REGISTRY.command
event = REGISTRY.event

#: The codes the savings service rejects a command with (besides the runtime's).
REJECTIONS = declare_rejections(SERVICE, {
    "AccountAlreadyOpen": "an account with this id is open",
    "AccountClosed": "the account is closed",
    "AccountNotEmpty": "the balance has nowhere to go: move it out, or name an account",
    "CurrencyMismatch": "an amount is not in the account's (or the cooperative's) currency",
    "DuplicateRemittance": "a remittance with this id was sent, or received, already",
    "InsufficientFunds": "the balance does not cover it; nothing was taken",
    "InvalidTransferTarget": "the balance goes only to another open account of the same member "
                             "and currency",
    "LoanAlreadyDisbursed": "the account holds a loan already",
    "LoanOutstanding": "the loan is not repaid",
    "MembershipActive": "shares are paid back once the membership has ended",
    "NoActiveLoan": "there is no loan to repay on this account",
    "NotAMember": "she has no active membership in the account's cooperative",
    "NothingToRedeem": "the account holds no shares",
    "Overpayment": "more than is owed",
    "RateUnavailable": "no exchange rate is known between the two currencies",
    "RemittanceSettled": "the remittance was delivered or refunded already",
    "RemittancesPending": "money sent from the account is not settled yet",
    "SharesNotRedeemed": "the account holds shares: redeem them first",
    "UnknownAccount": "no account has this id",
    "UnknownBeneficiary": "no open savings account of this node has this id",
    "UnknownCooperative": "no cooperative is registered with this id",
    "UnknownRemittance": "no remittance with this id left the account",
    "WrongProduct": "the account is of another product than the command takes",
})
#: ... about savings moving home between nodes, and credit history from other nodes.
TRANSFER_REJECTIONS = declare_rejections(SERVICE, {
    "DuplicateTransfer": "money with this id left the account already",
    "TransferAlreadyReceived": "the transfer was credited already",
    "TransferSettled": "the transfer was delivered or refunded already",
    "TransfersPending": "savings sent home from the account are not settled yet",
    "UnknownTransfer": "no transfer home with this id left the account",
    "WrongBeneficiary": "the account belongs to another member",
    "WrongNode": "only the node the money went to settles the transfer",
    "PoorCreditHistory": "her repayment history imported from other nodes is mostly late",
    "UnknownPeer": "the receiving node is not a trusted peer of this node (the gateway "
                   "answers it before anything is sent)",
}, release=2)

#: A decimal string, e.g. an exchange rate ``"1.0842"`` or an annual interest rate ``"0.12"``.
Decimal = Annotated[str, msgspec.Meta(pattern=r"^[0-9]{1,9}(\.[0-9]{1,12})?$",
                                      description="a non-negative decimal number as a string")]
Reason = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Count = Annotated[int, msgspec.Meta(ge=1, le=1_000_000)]
#: From-to countries of a remittance, ``"ES-EC"``.
Corridor = Annotated[str, msgspec.Meta(
    pattern=r"^[A-Z]{2}-[A-Z]{2}$",
    description="sending country - receiving country (ISO 3166-1 alpha-2): ES-EC")]


def corridor(sending: str, receiving: str) -> str:
    """A corridor as everything in coopbridge writes it, the way money goes: the country it
    is sent from, then the country it is sent to (``ES-EC``: from Spain to Ecuador). The
    figures group members the same way: host country, then home country."""
    return f"{sending}-{receiving}"
#: The day the cooperative booked a deposit, withdrawal or remittance (its value date, which
#: places it in a month); on a command, absent means the day it is decided, and an event
#: decided since version 2 always has it.
BookedOn = Annotated[PastDay | None, msgspec.Meta(
    description="the day the cooperative booked it; default: the day it is decided")]


class Product(StrEnum):
    """The three kinds of account."""

    SAVINGS = "savings"
    SHARE_CAPITAL = "share_capital"
    LOAN = "loan"


class Timing(StrEnum):
    """A repayment against its instalment's due date."""

    EARLY = "early"
    ON_TIME = "on_time"
    LATE = "late"


class Beneficiary(msgspec.Struct, frozen=True, forbid_unknown_fields=True, tag="account"):
    """Money for an account at a cooperative of this node: an open savings account, not the
    sender's own."""

    account_id: Id


class Payout(msgspec.Struct, frozen=True, forbid_unknown_fields=True, tag="payout"):
    """Money for a person who is not a member, paid out by a partner in the country named, in
    the currency named. Who they are is sealed with the *sender's* data key."""

    country: CountryCode
    currency: CurrencyCode
    recipient: Sealed


class PayoutRecipient(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Who collects a payout: the plaintext inside its seal, sealed with the sender's data key
    and never stored in the clear."""

    full_name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    phone: Annotated[str, msgspec.Meta(max_length=40)] | None = None


class Instalment(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One monthly instalment of a loan's schedule."""

    number: Count
    due_on: dt.date
    principal: Money
    interest: Money
    total: Money


#: Commands only the courier sends; the gateway never offers them to partners.
INTERNAL_COMMANDS = ("ReceiveRemittance", "ConfirmRemittanceDelivered", "RefundRemittance",
                     "ReceiveSavingsTransfer", "ConfirmSavingsTransfer", "RefundSavingsTransfer")


# -- accounts -------------------------------------------------------------------------------


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


# -- loans ----------------------------------------------------------------------------------


@command(SERVICE, "DisburseLoan", key="account_id")
class DisburseLoan(Contract, frozen=True, kw_only=True):
    """Disburse a loan on a loan account; its schedule of monthly instalments is computed.
    She is an active member (else NotAMember); an account holds one loan (else
    LoanAlreadyDisbursed); the annual rate is a fraction ("0.12" for 12 %) and the first
    instalment falls due after today (else ValidationError); a member whose repayment history
    imported from other nodes is mostly late is refused (PoorCreditHistory)."""

    account_id: Id
    principal: Money
    annual_rate: Decimal
    term_months: Annotated[int, msgspec.Meta(ge=1, le=360)]
    first_due_on: dt.date


@event(SERVICE, "LoanDisbursed")
class LoanDisbursed(Contract, frozen=True, kw_only=True):
    account_id: Id
    principal: Money
    annual_rate: Decimal
    term_months: Annotated[int, msgspec.Meta(ge=1, le=360)]
    schedule: list[Instalment]
    total_due: Money


@command(SERVICE, "RecordRepayment", key="account_id")
class RecordRepayment(Contract, frozen=True, kw_only=True):
    """Record a repayment of a loan, classed early, on time or late.
    It is set against the earliest instalment not yet paid in full; the last one closes the
    loan; more than is owed is Overpayment, no loan to repay NoActiveLoan. A member who left
    still repays."""

    account_id: Id
    amount: Money
    paid_on: PastDay


@event(SERVICE, "LoanRepaymentRecorded")
class LoanRepaymentRecorded(Contract, frozen=True, kw_only=True):
    """A repayment, classified against the earliest instalment it pays."""

    account_id: Id
    amount: Money
    paid_on: PastDay
    instalment: Count
    due_on: dt.date
    timing: Timing
    days_late: Annotated[int, msgspec.Meta(ge=0)]
    settled: list[Count]  # instalments fully paid by this repayment
    outstanding: Money
    loan_closed: bool


# -- remittances and transfers --------------------------------------------------------------


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


# -- savings moving home to another node ----------------------------------------------------


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


# -- earlier versions, read through upcasters -----------------------------------------------
# Version 1 of deposits, withdrawals and remittances had no booking date: such a message was
# booked the day it was decided (its envelope's time), so it reads as version 2 without one.


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
