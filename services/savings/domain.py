"""The savings rules, as pure functions: no I/O; the clock, rates and lookups come in
through ``Context``.

One aggregate, the **account** (key ``account_id``): ``decide`` here, its state and
``evolve`` in ``state``, the lookups a decision consults in ``lookups`` (memberships,
cooperatives, accounts, credit history), and the rate table (``rates``, a reference the app
passes in: a ``RateSource``). The service is wired at the bottom.

Membership rules: deposits, share purchases, loans and remittances (sent or received) need
an active membership in the account's cooperative; withdrawals, repayments, redemptions and
savings moving home (sent or received) do not (a member who left must still get their money
back and repay what they owe, and a returning member is often leaving as she sends).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from schemas import savings as s
from schemas.fields import Money, earliest_day
from schemas.money import add
from schemas.registry import Contract, fields_of
from services.runtime.aggregate import (
    Aggregate,
    Context,
    Lookup,
    Rejected,
    ServiceDefinition,
)
from services.runtime.ids import derived_id
from services.savings.arithmetic import annuity_schedule, convert
from services.savings.lookups import (
    CooperativeFacts,
    CreditHistories,
    apply_to_accounts,
    apply_to_cooperatives,
    apply_to_credit_history,
    apply_to_memberships,
)
from services.savings.state import (
    Account,
    Pending,
    PremiumOut,
    TransferHome,
    evolve,
)

#: A repayment more than this many days before its due date counts as early.
EARLY_WINDOW_DAYS = 10

#: How far back a deposit, withdrawal or remittance may be booked: a year of late entries
#: (a migration from paper books, a back office catching up) with some slack.
MAX_BOOKED_DAYS_BACK = 400


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
            # first: money received is received, whatever became of the account since (the
            # courier settles a duplicate as delivered, never refunds it)
            if (command.from_account_id, command.remittance_id) in state.received:
                raise Rejected("DuplicateRemittance", "this remittance was received already")
            _usable(state, s.Product.SAVINGS)
            _active_member(context, state.member_id, state.cooperative_id)
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
            if (command.from_node, command.from_account_id,  # first, as a remittance
                    command.transfer_id) in state.transfers_received:
                raise Rejected("TransferAlreadyReceived", "this transfer was credited already")
            _usable(state, s.Product.SAVINGS)
            if command.member_id != state.member_id:
                raise Rejected("WrongBeneficiary", "this account belongs to another member")
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
        case s.PayPremium():
            return [_pay_premium(state, command, context)]
        case s.ConfirmPremium():
            out = _premium_out(state, command.premium_id, command.by_node)
            return [s.PremiumDelivered(account_id=command.account_id,
                                       premium_id=command.premium_id, policy_id=out.policy_id,
                                       period=out.period)]
        case s.RefundPremium():
            out = _premium_out(state, command.premium_id, command.by_node)
            return [s.PremiumRefunded(
                account_id=command.account_id, premium_id=command.premium_id,
                policy_id=out.policy_id, period=out.period, amount=state.money(out.debit),
                reason=command.reason, balance=state.money(state.balance + out.debit))]
        case s.ReceiveBenefit():
            if (command.policy_id, command.number) in state.benefits_received:  # first
                raise Rejected("BenefitAlreadyReceived", "this payment was credited already")
            _usable(state, s.Product.SAVINGS)
            amount = _positive(state, command.amount)
            return [s.BenefitReceived(
                account_id=command.account_id, policy_id=command.policy_id,
                number=command.number, amount=amount,
                balance=state.money(state.balance + amount.amount))]
        case s.ReceiveWage():
            if (command.job_order_id, command.settlement_id) in state.wages_received:  # first
                raise Rejected("WageAlreadyReceived", "this settlement's wage was credited "
                               "already")
            _usable(state, s.Product.SAVINGS)
            if command.member_id != state.member_id:
                raise Rejected("WrongBeneficiary", "this account belongs to another member")
            amount = _positive(state, command.amount)
            return [s.WageReceived(
                account_id=command.account_id, job_order_id=command.job_order_id,
                settlement_id=command.settlement_id, amount=amount,
                balance=state.money(state.balance + amount.amount))]
    raise TypeError(f"not a savings command: {type(command).__name__}")


def _pay_premium(state: Account, command: s.PayPremium, context: Context) -> s.PremiumPaid:
    """The whole premium or nothing: its cost at the rate from the premium's currency to the
    account's, and the fee for any corridor (a node id names no country: ``_send_home``)."""
    _usable(state, s.Product.SAVINGS)
    if command.member_id != state.member_id:
        raise Rejected("WrongBeneficiary", "this account belongs to another member")
    if _sent_before(state, command.premium_id):
        raise Rejected("DuplicateTransfer", "money with this id left this account already")
    key = (command.policy_id, command.period)
    if key in state.premiums_paid or any((out.policy_id, out.period) == key
                                         for out in state.premiums_out.values()):
        raise Rejected("PremiumAlreadyPaid", f"period {command.period} of this policy is paid "
                       "or on its way already")
    if command.premium.amount <= 0:
        raise Rejected("ValidationError", "the premium must be more than zero")
    rates = context.lookups["rates"]
    quote = rates.quote(command.premium.currency, state.currency, context.now.date())
    if quote is None:
        raise Rejected("RateUnavailable", f"no rate from {command.premium.currency} to "
                       f"{state.currency}")
    cost = convert(command.premium, quote.rate, state.currency)
    fee = rates.fee("*", cost)
    _covered(state, cost.amount + fee.amount)
    return s.PremiumPaid(
        account_id=command.account_id, premium_id=command.premium_id,
        member_id=command.member_id,
        policy_id=command.policy_id, period=command.period, premium=command.premium,
        to_node=command.to_node, cost=cost, fee=fee, rate=quote.rate, rate_date=quote.date,
        balance=state.money(state.balance - cost.amount - fee.amount))


def _premium_out(state: Account, premium_id: str, by_node: str) -> PremiumOut:
    if not state.opened:
        raise Rejected("UnknownAccount", "no account has this id")
    if premium_id in state.premiums_settled:
        raise Rejected("TransferSettled", "this premium was delivered or refunded already")
    out = state.premiums_out.get(premium_id)
    if out is None:
        raise Rejected("UnknownTransfer", "no premium with this id left this account")
    if out.to_node != by_node:
        raise Rejected("WrongNode", "only the insurer's node settles this premium")
    return out


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
    if state.premiums_out:
        raise Rejected("PremiumsPending", "premiums paid from this account are not settled yet")
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
    """Whether a remittance, a transfer home or a premium left this account under this id: an
    id names one movement of money out of an account, whichever way it went, so the courier,
    the relay and anyone reading the log never take one for the other."""
    return any(money_id in ids for ids in (state.pending, state.settled, state.transfers_home,
                                           state.transfers_settled, state.premiums_out,
                                           state.premiums_settled))


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
              s.ConfirmSavingsTransfer, s.RefundSavingsTransfer, s.PayPremium, s.ConfirmPremium,
              s.RefundPremium, s.ReceiveBenefit, s.ReceiveWage),
    events=(s.AccountOpened, s.AccountClosed, s.FundsDeposited, s.FundsWithdrawn,
            s.SharesPurchased, s.SharesRedeemed, s.LoanDisbursed, s.LoanRepaymentRecorded,
            s.RemittanceSent, s.RemittanceReceived, s.RemittanceDelivered,
            s.RemittanceRefunded, s.SavingsSentHome, s.SavingsTransferReceived,
            s.SavingsTransferDelivered, s.SavingsTransferRefunded, s.PremiumPaid,
            s.PremiumDelivered, s.PremiumRefunded, s.BenefitReceived, s.WageReceived),
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
