"""The savings account's state and what each event does to it (``evolve``, pure): the balance
of its product, its loan, and the money that left it and is not settled yet (remittances,
which the courier carries; transfers home, which the relay carries), so nothing is forgotten
across crashes."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field

from schemas import savings as s
from schemas.fields import Money
from schemas.registry import Contract


@dataclass(frozen=True)
class Loan:
    principal: Money
    annual_rate: str
    schedule: tuple[s.Instalment, ...]
    total_due: int
    paid: int = 0

    @property
    def closed(self) -> bool:
        return self.paid >= self.total_due


@dataclass(frozen=True)
class Pending:
    """Money that left in a remittance or transfer and is not settled yet: the courier's
    to-do list lives in the state, so nothing is forgotten across crashes."""

    debit: int  # amount + fee, what a refund gives back
    to: s.Beneficiary | s.Payout
    received: Money  # what the beneficiary is to get
    closing: bool = False  # the balance left as the account closed


@dataclass(frozen=True)
class TransferHome:
    """Savings sent to the member's account at another node and not settled yet. Kept apart
    from ``pending``: the courier carries only what stays on this node, the relay this."""

    debit: int  # the whole amount, fee included: what a refund gives back
    to_node: str
    to_account_id: str
    received: Money  # what the home account is to be credited


@dataclass(frozen=True)
class PremiumOut:
    """A premium paid to an insurer at another node and not settled yet (the relay carries
    it), under its premium id."""

    policy_id: str
    period: int
    debit: int  # cost and fee: what a refund gives back
    to_node: str
    premium: Money  # what the insurer is to collect


@dataclass(frozen=True)
class Account:
    opened: bool = False
    member_id: str = ""
    cooperative_id: str = ""
    product: s.Product | None = None
    currency: str = ""
    balance: int = 0  # savings: held; share capital: paid in; loan: still owed
    closed: bool = False
    closures: int = 0
    shares: int = 0
    loan: Loan | None = None
    pending: Mapping[str, Pending] = field(default_factory=dict)
    settled: frozenset[str] = frozenset()  # remittances sent and delivered or refunded
    received: frozenset[tuple[str, str]] = frozenset()  # (sender account, remittance) credited
    transfers_home: Mapping[str, TransferHome] = field(default_factory=dict)
    transfers_settled: frozenset[str] = frozenset()  # sent home and delivered or refunded
    #: credited transfers: (from node, from account, transfer id)
    transfers_received: frozenset[tuple[str, str, str]] = frozenset()
    premiums_out: Mapping[str, PremiumOut] = field(default_factory=dict)  # by premium id
    premiums_paid: frozenset[tuple[str, int]] = frozenset()  # (policy, period) delivered
    premiums_settled: frozenset[str] = frozenset()  # premium ids delivered or refunded
    benefits_received: frozenset[tuple[str, int]] = frozenset()  # (policy, payment number)
    wages_received: frozenset[tuple[str, str]] = frozenset()  # (job order, settlement)

    def money(self, amount: int) -> Money:
        return Money(amount, self.currency)


def evolve(state: Account, event: Contract) -> Account:
    replace = dataclasses.replace
    match event:
        case s.AccountOpened():
            return Account(opened=True, member_id=event.member_id,
                           cooperative_id=event.cooperative_id, product=event.product,
                           currency=event.currency)
        case s.AccountClosed():
            pending = dict(state.pending)
            if event.transfer_id is not None:
                pending[event.transfer_id] = Pending(
                    event.transferred.amount, s.Beneficiary(account_id=event.transfer_to),
                    event.transferred, closing=True)
            return replace(state, closed=True, closures=state.closures + 1, pending=pending,
                           balance=0 if event.transfer_id else state.balance)
        case (s.FundsDeposited() | s.FundsWithdrawn() | s.SharesRedeemed()
              | s.RemittanceReceived()):
            balance = 0 if isinstance(event, s.SharesRedeemed) else event.balance.amount
            shares = 0 if isinstance(event, s.SharesRedeemed) else state.shares
            received = (state.received | {(event.from_account_id, event.remittance_id)}
                        if isinstance(event, s.RemittanceReceived) else state.received)
            return replace(state, balance=balance, shares=shares, received=received)
        case s.SharesPurchased():
            return replace(state, balance=event.balance.amount, shares=event.total_shares)
        case s.LoanDisbursed():
            loan = Loan(event.principal, event.annual_rate, tuple(event.schedule),
                        event.total_due.amount)
            return replace(state, loan=loan, balance=loan.total_due)
        case s.LoanRepaymentRecorded():
            loan = replace(state.loan, paid=state.loan.paid + event.amount.amount)
            return replace(state, loan=loan, balance=event.outstanding.amount)
        case s.RemittanceSent():
            pending = {**state.pending, event.remittance_id: Pending(
                event.amount.amount + event.fee.amount, event.to, event.received)}
            return replace(state, balance=event.balance.amount, pending=pending)
        case s.RemittanceDelivered() | s.RemittanceRefunded():
            pending = dict(state.pending)
            settled = pending.pop(event.remittance_id)
            refunded = isinstance(event, s.RemittanceRefunded)
            return replace(
                state, pending=pending, settled=state.settled | {event.remittance_id},
                balance=event.balance.amount if refunded else state.balance,
                closed=state.closed and not (refunded and settled.closing))
        case s.SavingsSentHome():
            transfers = {**state.transfers_home, event.transfer_id: TransferHome(
                event.amount.amount, event.to_node, event.to_account_id, event.received)}
            return replace(state, balance=event.balance.amount, transfers_home=transfers)
        case s.SavingsTransferReceived():
            return replace(state, balance=event.balance.amount, transfers_received=(
                state.transfers_received | {(event.from_node, event.from_account_id,
                                             event.transfer_id)}))
        case s.SavingsTransferDelivered() | s.SavingsTransferRefunded():
            transfers = dict(state.transfers_home)
            del transfers[event.transfer_id]
            refunded = isinstance(event, s.SavingsTransferRefunded)
            return replace(state, transfers_home=transfers,
                           transfers_settled=state.transfers_settled | {event.transfer_id},
                           balance=event.balance.amount if refunded else state.balance)
        case s.PremiumPaid():
            out = {**state.premiums_out, event.premium_id: PremiumOut(
                event.policy_id, event.period, event.cost.amount + event.fee.amount,
                event.to_node, event.premium)}
            return replace(state, balance=event.balance.amount, premiums_out=out)
        case s.PremiumDelivered() | s.PremiumRefunded():
            out = {k: v for k, v in state.premiums_out.items() if k != event.premium_id}
            settled = state.premiums_settled | {event.premium_id}
            if isinstance(event, s.PremiumRefunded):
                return replace(state, premiums_out=out, premiums_settled=settled,
                               balance=event.balance.amount)
            return replace(state, premiums_out=out, premiums_settled=settled,
                           premiums_paid=state.premiums_paid | {(event.policy_id,
                                                                 event.period)})
        case s.BenefitReceived():
            return replace(state, balance=event.balance.amount, benefits_received=(
                state.benefits_received | {(event.policy_id, event.number)}))
        case s.WageReceived():
            return replace(state, balance=event.balance.amount, wages_received=(
                state.wages_received | {(event.job_order_id, event.settlement_id)}))
    raise TypeError(f"not a savings event: {type(event).__name__}")
