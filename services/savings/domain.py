"""The savings rules, as pure functions: no I/O; the clock, rates and lookups come in
through ``Context``.

One aggregate, the **account** (key ``account_id``). Lookups, folded by the runtime:

* ``memberships`` (from membership events): active ``(member_id, cooperative_id)`` -> the
  share capital required of that member;
* ``cooperatives`` (from membership events): cooperative id -> ``CooperativeFacts``;
* ``accounts`` (from savings events): account id -> ``AccountFacts``, for beneficiaries;
* ``credit_history`` (from membership events): member id -> ``CreditHistory``, the loans of
  the records imported for her from other nodes;
* ``rates`` (a reference the app passes in): a ``RateSource``.

Membership rules: deposits, share purchases, loans and remittances (sent or received) need
an active membership in the account's cooperative; withdrawals, repayments, redemptions and
savings moving home (sent or received) do not (a member who left must still get their money
back and repay what they owe, and a returning member is often leaving as she sends).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from schemas import membership as ms
from schemas import savings as s
from schemas.fields import Money, earliest_day
from schemas.money import add
from schemas.registry import Contract, fields_of
from services.runtime.aggregate import Aggregate, Context, Lookup, Rejected, ServiceDefinition
from services.runtime.ids import derived_id
from services.savings.arithmetic import annuity_schedule, convert

#: A repayment more than this many days before its due date counts as early.
EARLY_WINDOW_DAYS = 10

#: How far back a deposit, withdrawal or remittance may be booked: a year of late entries
#: (a migration from paper books, a back office catching up) with some slack.
MAX_BOOKED_DAYS_BACK = 400


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

    def money(self, amount: int) -> Money:
        return Money(amount, self.currency)


# -- deciding -------------------------------------------------------------------------------


def decide(state: Account, command: Contract, context: Context) -> list[Contract]:
    match command:
        case s.OpenAccount():
            if state.opened:
                raise Rejected("AccountAlreadyOpen", "an account with this id exists")
            cooperative = _cooperative(context, command.cooperative_id)
            _active_member(context, command.member_id, command.cooperative_id)
            if command.currency != cooperative.currency:
                raise Rejected("CurrencyMismatch", "accounts are kept in the cooperative's "
                               f"currency, {cooperative.currency}")
            return [s.AccountOpened(**fields_of(command))]
        case s.DepositFunds():
            _usable(state, s.Product.SAVINGS)
            _active_member(context, state.member_id, state.cooperative_id)
            amount = _positive(state, command.amount)
            return [s.FundsDeposited(account_id=command.account_id, amount=amount,
                                     balance=state.money(state.balance + amount.amount),
                                     booked_on=_booked_on(command, context))]
        case s.WithdrawFunds():
            _usable(state, s.Product.SAVINGS)
            amount = _positive(state, command.amount)
            _covered(state, amount.amount)
            return [s.FundsWithdrawn(account_id=command.account_id, amount=amount,
                                     balance=state.money(state.balance - amount.amount),
                                     booked_on=_booked_on(command, context))]
        case s.CloseAccount():
            return [_close(state, command, context)]
        case s.PurchaseShares():
            _usable(state, s.Product.SHARE_CAPITAL)
            required = _active_member(context, state.member_id, state.cooperative_id)
            price = _cooperative(context, state.cooperative_id).share_price
            if price.currency != state.currency:
                raise Rejected("CurrencyMismatch", "the share price is in another currency")
            amount = Money(price.amount * command.shares, state.currency)
            return [s.SharesPurchased(
                account_id=command.account_id, shares=command.shares, share_price=price,
                amount=amount, total_shares=state.shares + command.shares,
                balance=state.money(state.balance + amount.amount), required=required)]
        case s.RedeemShares():
            _usable(state, s.Product.SHARE_CAPITAL)
            if state.shares == 0:
                raise Rejected("NothingToRedeem", "the account holds no shares")
            if (state.member_id, state.cooperative_id) in context.lookups["memberships"]:
                raise Rejected("MembershipActive", "shares are redeemed when the membership ends")
            return [s.SharesRedeemed(account_id=command.account_id, shares=state.shares,
                                     amount=state.money(state.balance))]
        case s.DisburseLoan():
            return [_disburse(state, command, context)]
        case s.RecordRepayment():
            return [_repayment(state, command)]
        case s.SendRemittance():
            return [_send(state, command, context)]
        case s.ReceiveRemittance():
            _usable(state, s.Product.SAVINGS)
            _active_member(context, state.member_id, state.cooperative_id)
            if (command.from_account_id, command.remittance_id) in state.received:
                raise Rejected("DuplicateRemittance", "this remittance was received already")
            amount = _positive(state, command.amount)
            return [s.RemittanceReceived(
                account_id=command.account_id, remittance_id=command.remittance_id,
                from_account_id=command.from_account_id, amount=amount,
                balance=state.money(state.balance + amount.amount))]
        case s.ConfirmRemittanceDelivered():
            _pending(state, command.remittance_id)
            return [s.RemittanceDelivered(account_id=command.account_id,
                                          remittance_id=command.remittance_id)]
        case s.RefundRemittance():
            pending = _pending(state, command.remittance_id)
            return [s.RemittanceRefunded(
                account_id=command.account_id, remittance_id=command.remittance_id,
                amount=state.money(pending.debit), reason=command.reason,
                balance=state.money(state.balance + pending.debit))]
        case s.TransferSavingsHome():
            return [_send_home(state, command, context)]
        case s.ReceiveSavingsTransfer():
            _usable(state, s.Product.SAVINGS)
            if command.member_id != state.member_id:
                raise Rejected("WrongBeneficiary", "this account belongs to another member")
            if (command.from_node, command.from_account_id,
                    command.transfer_id) in state.transfers_received:
                raise Rejected("TransferAlreadyReceived", "this transfer was credited already")
            amount = _positive(state, command.amount)
            return [s.SavingsTransferReceived(
                account_id=command.account_id, transfer_id=command.transfer_id,
                member_id=command.member_id, from_node=command.from_node,
                from_account_id=command.from_account_id, amount=amount,
                balance=state.money(state.balance + amount.amount))]
        case s.ConfirmSavingsTransfer():
            _transfer_home(state, command.transfer_id, command.by_node)
            return [s.SavingsTransferDelivered(account_id=command.account_id,
                                               transfer_id=command.transfer_id)]
        case s.RefundSavingsTransfer():
            transfer = _transfer_home(state, command.transfer_id, command.by_node)
            return [s.SavingsTransferRefunded(
                account_id=command.account_id, transfer_id=command.transfer_id,
                amount=state.money(transfer.debit), reason=command.reason,
                balance=state.money(state.balance + transfer.debit))]
    raise TypeError(f"not a savings command: {type(command).__name__}")


def _close(state: Account, command: s.CloseAccount, context: Context) -> s.AccountClosed:
    _usable(state, None)
    if state.loan is not None and not state.loan.closed:
        raise Rejected("LoanOutstanding", "the loan is not repaid")
    if state.shares:
        raise Rejected("SharesNotRedeemed", "redeem the shares before closing")
    if state.pending:
        raise Rejected("RemittancesPending", "money sent from this account is not settled yet")
    if state.transfers_home:
        raise Rejected("TransfersPending", "savings sent home from this account are not settled "
                       "yet")
    if state.balance == 0:
        return s.AccountClosed(account_id=command.account_id)
    if command.transfer_to is None:
        raise Rejected("AccountNotEmpty", "move the balance out, or name an account to take it")
    target = context.lookups["accounts"].get(command.transfer_to)
    if (target is None or target.closed or command.transfer_to == command.account_id
            or target.member_id != state.member_id or target.currency != state.currency):
        raise Rejected("InvalidTransferTarget",
                       "the balance goes to another open account of the same member and currency")
    return s.AccountClosed(
        account_id=command.account_id,
        transfer_id=derived_id(command.account_id, state.closures + 1, context.now),
        transferred=state.money(state.balance), transfer_to=command.transfer_to)


def _disburse(state: Account, command: s.DisburseLoan, context: Context) -> s.LoanDisbursed:
    _usable(state, s.Product.LOAN)
    _active_member(context, state.member_id, state.cooperative_id)
    if state.loan is not None:
        raise Rejected("LoanAlreadyDisbursed", "a loan account holds one loan; open another")
    imported = context.lookups["credit_history"].get(state.member_id)
    if imported is not None and imported.mostly_late:
        raise Rejected("PoorCreditHistory",
                       "the imported repayment history shows mostly late repayments")
    principal = _positive(state, command.principal)
    try:
        rate = Decimal(command.annual_rate)
    except InvalidOperation:
        raise Rejected("ValidationError", "the annual rate is not a decimal") from None
    if rate > 1:
        raise Rejected("ValidationError", "the annual rate is a fraction: 0.12 for 12 %")
    if command.first_due_on <= earliest_day(context.now):
        raise Rejected("ValidationError", "the first instalment falls due after today")
    schedule = annuity_schedule(principal, command.annual_rate, command.term_months,
                                command.first_due_on)
    total = add(*(i.total for i in schedule))
    return s.LoanDisbursed(account_id=command.account_id, principal=principal,
                           annual_rate=command.annual_rate, term_months=command.term_months,
                           schedule=schedule, total_due=total)


def _repayment(state: Account, command: s.RecordRepayment) -> s.LoanRepaymentRecorded:
    _usable(state, s.Product.LOAN)
    loan = state.loan
    if loan is None or loan.closed:
        raise Rejected("NoActiveLoan", "there is no loan to repay on this account")
    amount = _positive(state, command.amount)
    outstanding = loan.total_due - loan.paid
    if amount.amount > outstanding:
        raise Rejected("Overpayment", f"only {outstanding} minor units are owed")
    before, after = loan.paid, loan.paid + amount.amount
    cumulative, first, settled = 0, None, []
    for instalment in loan.schedule:
        cumulative += instalment.total.amount
        if first is None and cumulative > before:
            first = instalment  # the earliest instalment not yet fully paid
        if before < cumulative <= after:
            settled.append(instalment.number)
    days = (command.paid_on - first.due_on).days
    timing = (s.Timing.LATE if days > 0 else
              s.Timing.EARLY if days < -EARLY_WINDOW_DAYS else s.Timing.ON_TIME)
    return s.LoanRepaymentRecorded(
        account_id=command.account_id, amount=amount, paid_on=command.paid_on,
        instalment=first.number, due_on=first.due_on, timing=timing, days_late=max(days, 0),
        settled=settled, outstanding=state.money(outstanding - amount.amount),
        loan_closed=after == loan.total_due)


def _send(state: Account, command: s.SendRemittance, context: Context) -> s.RemittanceSent:
    _usable(state, s.Product.SAVINGS)
    _active_member(context, state.member_id, state.cooperative_id)
    if _sent_before(state, command.remittance_id):
        raise Rejected("DuplicateRemittance", "a remittance with this id was sent already")
    amount = _positive(state, command.amount)
    origin = _cooperative(context, state.cooperative_id).country
    match command.to:
        case s.Beneficiary(account_id=target_id):
            target = context.lookups["accounts"].get(target_id)
            if (target is None or target.closed or target_id == command.account_id
                    or target.product is not s.Product.SAVINGS):
                raise Rejected("UnknownBeneficiary", "no open savings account has this id")
            currency = target.currency
            destination = _cooperative(context, target.cooperative_id).country
        case s.Payout(country=destination, currency=currency):
            pass
    quote = context.lookups["rates"].quote(state.currency, currency, context.now.date())
    if quote is None:
        raise Rejected("RateUnavailable", f"no rate from {state.currency} to {currency}")
    corridor = s.corridor(origin, destination)
    fee = context.lookups["rates"].fee(corridor, amount)
    received = convert(amount, quote.rate, currency)
    if received.amount == 0:
        raise Rejected("ValidationError", "the amount is too small to arrive")
    debit = amount.amount + fee.amount
    _covered(state, debit)
    return s.RemittanceSent(
        account_id=command.account_id, remittance_id=command.remittance_id, to=command.to,
        amount=amount, fee=fee, rate=quote.rate, rate_date=quote.date, received=received,
        corridor=corridor, balance=state.money(state.balance - debit),
        booked_on=_booked_on(command, context))


def _send_home(state: Account, command: s.TransferSavingsHome,
               context: Context) -> s.SavingsSentHome:
    _usable(state, s.Product.SAVINGS)
    if _sent_before(state, command.transfer_id):
        raise Rejected("DuplicateTransfer", "money with this id left this account already")
    amount = _positive(state, command.amount)
    rates = context.lookups["rates"]
    quote = rates.quote(state.currency, command.to_currency, context.now.date())
    if quote is None:
        raise Rejected("RateUnavailable", f"no rate from {state.currency} to "
                       f"{command.to_currency}")
    # A fee is priced per corridor (origin-destination countries), but a node id names no
    # country and the trust list of peers carries none, so the destination is unknown here:
    # the fee is the one the rate source charges for any other corridor ("*").
    fee = rates.fee("*", amount)
    if fee.amount >= amount.amount:
        raise Rejected("ValidationError", "the amount is too small to arrive")
    received = convert(state.money(amount.amount - fee.amount), quote.rate, command.to_currency)
    if received.amount == 0:
        raise Rejected("ValidationError", "the amount is too small to arrive")
    _covered(state, amount.amount)
    return s.SavingsSentHome(
        account_id=command.account_id, transfer_id=command.transfer_id,
        member_id=state.member_id, to_node=command.to_node,
        to_account_id=command.to_account_id, amount=amount, fee=fee, rate=quote.rate,
        rate_date=quote.date, received=received,
        balance=state.money(state.balance - amount.amount))


def _sent_before(state: Account, money_id: str) -> bool:
    """Whether a remittance or a transfer home left this account under this id: an id names
    one movement of money out of an account, whichever way it went, so the courier, the relay
    and anyone reading the log never take one for the other."""
    return any(money_id in ids for ids in (state.pending, state.settled, state.transfers_home,
                                           state.transfers_settled))


def _usable(state: Account, product: s.Product | None) -> None:
    if not state.opened:
        raise Rejected("UnknownAccount", "no account has this id")
    if state.closed:
        raise Rejected("AccountClosed", "the account is closed")
    if product is not None and state.product is not product:
        raise Rejected("WrongProduct", f"this takes a {product.value} account")


def _positive(state: Account, amount: Money) -> Money:
    if amount.currency != state.currency:
        raise Rejected("CurrencyMismatch", f"the account is kept in {state.currency}")
    if amount.amount <= 0:
        raise Rejected("ValidationError", "the amount must be more than zero")
    return amount


def _booked_on(command: s.DepositFunds | s.WithdrawFunds | s.SendRemittance,
               context: Context) -> dt.date:
    """The day the money is booked: the command's, or today; never more than
    ``MAX_BOOKED_DAYS_BACK`` days back (the account's opening day is not part of its state:
    ``AccountOpened`` has no date), never ahead (a ``PastDay``, as the runtime checks)."""
    today = context.now.date()
    booked_on = command.booked_on or today
    if (today - booked_on).days > MAX_BOOKED_DAYS_BACK:
        raise Rejected("ValidationError", f"the booking date is more than "
                       f"{MAX_BOOKED_DAYS_BACK} days back")
    return booked_on


def _covered(state: Account, debit: int) -> None:
    if debit > state.balance:
        raise Rejected("InsufficientFunds", "the balance does not cover it; nothing was taken")


def _pending(state: Account, remittance_id: str) -> Pending:
    if not state.opened:
        raise Rejected("UnknownAccount", "no account has this id")
    if remittance_id in state.settled:
        raise Rejected("RemittanceSettled", "this remittance was settled already")
    pending = state.pending.get(remittance_id)
    if pending is None:
        raise Rejected("UnknownRemittance", "no remittance with this id left this account")
    return pending


def _transfer_home(state: Account, transfer_id: str, by_node: str) -> TransferHome:
    if not state.opened:
        raise Rejected("UnknownAccount", "no account has this id")
    if transfer_id in state.transfers_settled:
        raise Rejected("TransferSettled", "this transfer was settled already")
    transfer = state.transfers_home.get(transfer_id)
    if transfer is None:
        raise Rejected("UnknownTransfer", "no transfer home with this id left this account")
    if transfer.to_node != by_node:
        raise Rejected("WrongNode", "only the node the money went to settles this transfer")
    return transfer


def _active_member(context: Context, member_id: str, cooperative_id: str) -> Money:
    """The share capital required of an active member; ``NotAMember`` otherwise."""
    required = context.lookups["memberships"].get((member_id, cooperative_id))
    if required is None:
        raise Rejected("NotAMember", "the member has no active membership in this cooperative")
    return required


def _cooperative(context: Context, cooperative_id: str) -> CooperativeFacts:
    cooperative = context.lookups["cooperatives"].get(cooperative_id)
    if cooperative is None:
        raise Rejected("UnknownCooperative", "no cooperative is registered with this id")
    return cooperative



# -- evolving -------------------------------------------------------------------------------


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
    raise TypeError(f"not a savings event: {type(event).__name__}")


# -- lookups --------------------------------------------------------------------------------


@dataclass(frozen=True)
class CooperativeFacts:
    currency: str
    country: str
    share_price: Money


@dataclass(frozen=True)
class AccountFacts:
    member_id: str
    cooperative_id: str
    product: s.Product
    currency: str
    closed: bool = False


@dataclass(frozen=True)
class CreditHistory:
    """Loans a member had abroad and how they were repaid, as imported records tell it."""

    loans: int = 0
    repaid_early: int = 0
    repaid_on_time: int = 0
    repaid_late: int = 0
    closed: int = 0

    @classmethod
    def of(cls, loans: list[ms.ImportedLoan]) -> CreditHistory:
        return cls(loans=len(loans), repaid_early=sum(loan.repaid_early for loan in loans),
                   repaid_on_time=sum(loan.repaid_on_time for loan in loans),
                   repaid_late=sum(loan.repaid_late for loan in loans),
                   closed=sum(loan.closed for loan in loans))

    def __add__(self, other: CreditHistory) -> CreditHistory:
        return CreditHistory(*(a + b for a, b in zip(dataclasses.astuple(self),
                                                     dataclasses.astuple(other), strict=True)))

    @property
    def mostly_late(self) -> bool:
        """Late repayments are more than half of all repayments (none: not mostly late)."""
        repaid = self.repaid_early + self.repaid_on_time + self.repaid_late
        return 2 * self.repaid_late > repaid


class CreditHistories:
    """The ``credit_history`` view: member id -> ``CreditHistory``, summed over the nodes that
    issued her records. Per node only its newest record that lists loans counts: a node's
    record carries the whole repayment history, so a newer one contains an older one, and a
    record exported without the savings scope (no loans) must not erase what another said."""

    def __init__(self) -> None:
        self._records: dict[str, dict[str, tuple[dt.datetime, CreditHistory]]] = {}

    def get(self, member_id: str, default: CreditHistory | None = None) -> CreditHistory | None:
        records = self._records.get(member_id)
        if not records:
            return default
        return sum((history for _, history in records.values()), CreditHistory())

    def record(self, member_id: str, issuer_node: str, issued_at: dt.datetime,
               history: CreditHistory) -> None:
        records = self._records.setdefault(member_id, {})
        newest = records.get(issuer_node)
        if newest is None or issued_at >= newest[0]:
            records[issuer_node] = (issued_at, history)


def apply_to_memberships(view: dict, event: Contract) -> None:
    match event:
        case ms.MembershipStarted():
            view[(event.member_id, event.cooperative_id)] = event.share_capital_required
        case ms.MembershipEnded():
            view.pop((event.member_id, event.cooperative_id), None)


def apply_to_cooperatives(view: dict, event: Contract) -> None:
    match event:
        case ms.CooperativeRegistered():
            view[event.cooperative_id] = CooperativeFacts(event.currency, event.country,
                                                          event.share_price)
        case ms.CooperativeUpdated() if event.share_price and event.cooperative_id in view:
            view[event.cooperative_id] = dataclasses.replace(
                view[event.cooperative_id], share_price=event.share_price)


def apply_to_credit_history(view: CreditHistories, event: Contract) -> None:
    match event:
        case ms.RecordImported() if event.history.loans:
            view.record(event.member_id, event.issuer_node, event.issued_at,
                        CreditHistory.of(event.history.loans))


def apply_to_accounts(view: dict, event: Contract) -> None:
    match event:
        case s.AccountOpened():
            view[event.account_id] = AccountFacts(event.member_id, event.cooperative_id,
                                                  event.product, event.currency)
        case s.AccountClosed() if event.account_id in view:
            view[event.account_id] = dataclasses.replace(view[event.account_id], closed=True)
        case s.RemittanceRefunded() if event.account_id in view:
            view[event.account_id] = dataclasses.replace(view[event.account_id], closed=False)


# -- the service, wired at the bottom ------------------------------------------------------

ACCOUNT = Aggregate(
    name="account",
    initial=Account,
    decide=decide,
    evolve=evolve,
    commands=(s.OpenAccount, s.CloseAccount, s.DepositFunds, s.WithdrawFunds,
              s.PurchaseShares, s.RedeemShares, s.DisburseLoan, s.RecordRepayment,
              s.SendRemittance, s.ReceiveRemittance, s.ConfirmRemittanceDelivered,
              s.RefundRemittance, s.TransferSavingsHome, s.ReceiveSavingsTransfer,
              s.ConfirmSavingsTransfer, s.RefundSavingsTransfer),
    events=(s.AccountOpened, s.AccountClosed, s.FundsDeposited, s.FundsWithdrawn,
            s.SharesPurchased, s.SharesRedeemed, s.LoanDisbursed, s.LoanRepaymentRecorded,
            s.RemittanceSent, s.RemittanceReceived, s.RemittanceDelivered,
            s.RemittanceRefunded, s.SavingsSentHome, s.SavingsTransferReceived,
            s.SavingsTransferDelivered, s.SavingsTransferRefunded),
)

SAVINGS = ServiceDefinition(
    name=s.SERVICE,
    aggregates=(ACCOUNT,),
    lookups=(
        Lookup("memberships", dict, apply_to_memberships, source="membership"),
        Lookup("cooperatives", dict, apply_to_cooperatives, source="membership"),
        Lookup("credit_history", CreditHistories, apply_to_credit_history, source="membership"),
        Lookup("accounts", dict, apply_to_accounts),
    ),
)
