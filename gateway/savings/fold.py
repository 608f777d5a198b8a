"""What the savings service's events do to the documents (pure: no I/O), and how each reads
in her timeline.

Reads (through ``gateway.fold``) ``{node}.savings.events``; writes the ``accounts``
documents, their rows (remittances, transfers, repayments: ``gateway.savings.documents``)
and her accounts' rows (``member_accounts``). Every write is to the account the event is of,
or a row no other event writes: the savings topic's partitions can be folded apart
(``gateway.fold.LOCAL_SERVICES``).
"""

from __future__ import annotations

import datetime as dt

from gateway.documents import AccountRef, DocumentStore, document, history_sort
from gateway.savings.documents import (
    AccountView,
    LoanDoc,
    MonthDoc,
    Pointer,
    RemittanceDoc,
    RepaymentDoc,
    TransferDoc,
    row_sort,
)
from schemas import savings as s
from schemas.envelope import Envelope
from schemas.fields import Money
from schemas.money import major_text
from schemas.registry import Contract


def _add(total: Money | None, amount: Money) -> Money:
    return Money((total.amount if total else 0) + amount.amount, amount.currency)


def _month(account: AccountView, at: dt.datetime) -> MonthDoc:
    key = f"{at.year:04d}-{at.month:02d}"  # what strftime("%Y-%m") says, faster
    month = account.months.get(key)
    if month is None:
        month = account.months[key] = MonthDoc()
    return month


def _booked(event: s.FundsDeposited | s.RemittanceSent, at: dt.datetime) -> dt.datetime:
    """When a flow happened for the monthly series: the day it was booked (midnight UTC),
    or when it was decided if that was the same day or the event has no booking date."""
    if event.booked_on is None or event.booked_on == at.date():
        return at
    return dt.datetime.combine(event.booked_on, dt.time(), dt.UTC)


def _sent(store: DocumentStore, account_id: str, kind: str, row_id: str
          ) -> tuple[str, RemittanceDoc | TransferDoc] | None:
    """The row (and its sort key) of a remittance (``kind`` "r") or transfer ("t") this
    account sent, if any."""
    pointer = store.row("pointers", account_id, f"{kind}/{row_id}")
    if pointer is None:
        return None
    row = store.row("remittances" if kind == "r" else "transfers", account_id, pointer.sort)
    if row is None or row.direction != "sent":
        return None
    return pointer.sort, row


def _add_row(store: DocumentStore, account_id: str, sort: str, row: RemittanceDoc | TransferDoc,
             pointer: str) -> None:
    store.put_row(row.TABLE, account_id, sort, row)
    store.put_row("pointers", account_id, pointer, Pointer(sort=sort))


def fold(store: DocumentStore, event: Contract, envelope: Envelope) -> list[str]:  # noqa: C901
    """Apply one event; returns the member ids whose record changed (the account's owner)."""
    at = envelope.time
    sort = row_sort(envelope.sequence or 0)
    if isinstance(event, s.AccountOpened):
        account = document(store, AccountView, event.account_id)
        account.member_id, account.cooperative_id = event.member_id, event.cooperative_id
        account.product, account.currency = event.product.value, event.currency
        account.balance, account.opened_at = Money(0, event.currency), at
        store.put("accounts", event.account_id, account)
        store.put_row("member_accounts", event.member_id,
                      history_sort(at, event.account_id, envelope.sequence or 0),
                      AccountRef(account_id=event.account_id))
        return [event.member_id]
    account = document(store, AccountView, event.account_id)
    match event:
        case s.FundsDeposited():
            account.balance, account.deposits = event.balance, _add(account.deposits, event.amount)
            _month(account, _booked(event, at)).deposits += event.amount.amount
        case s.FundsWithdrawn():
            account.balance = event.balance
            account.withdrawals = _add(account.withdrawals, event.amount)
        case s.AccountClosed():
            account.closed = True
            if event.transferred is not None:
                account.balance = Money(0, account.currency)
                _add_row(store, event.account_id, sort, RemittanceDoc(
                    remittance_id=event.transfer_id, direction="sent", at=at,
                    counterpart=event.transfer_to, amount=event.transferred,
                    fee=Money(0, account.currency), rate="1", received=event.transferred),
                    f"r/{event.transfer_id}")
        case s.SharesPurchased():
            account.balance, account.shares = event.balance, event.total_shares
        case s.SharesRedeemed():
            account.balance, account.shares = Money(0, account.currency), 0
        case s.LoanDisbursed():
            account.loan = LoanDoc(
                principal=event.principal, annual_rate=event.annual_rate,
                term_months=event.term_months, total_due=event.total_due,
                outstanding=event.total_due, schedule=list(event.schedule),
                disbursed_on=at.date(), disbursement=sort)
            account.balance = event.total_due
        case s.LoanRepaymentRecorded() if account.loan is not None:
            store.put_row("repayments", account.loan.repayments_key(event.account_id), sort,
                          RepaymentDoc(amount=event.amount, paid_on=event.paid_on,
                                       instalment=event.instalment, due_on=event.due_on,
                                       timing=event.timing.value, days_late=event.days_late))
            account.loan.outstanding, account.loan.closed = event.outstanding, event.loan_closed
            account.balance = event.outstanding
        case s.RemittanceSent():
            account.balance = event.balance
            booked = _booked(event, at)
            month = _month(account, booked)
            month.remitted += event.amount.amount
            month.fees += event.fee.amount
            month.remittances += 1
            _add_row(store, event.account_id, sort, RemittanceDoc(
                remittance_id=event.remittance_id, direction="sent", at=booked,
                counterpart=getattr(event.to, "account_id", None), amount=event.amount,
                fee=event.fee, rate=event.rate, received=event.received,
                corridor=event.corridor, recipient=getattr(event.to, "recipient", None),
                country=getattr(event.to, "country", None)), f"r/{event.remittance_id}")
        case s.RemittanceReceived():
            account.balance = event.balance
            store.put_row("remittances", event.account_id, sort, RemittanceDoc(
                remittance_id=event.remittance_id, direction="received", at=at,
                counterpart=event.from_account_id, amount=event.amount, status="received"))
        case s.RemittanceDelivered() | s.RemittanceRefunded():
            refunded = isinstance(event, s.RemittanceRefunded)
            found = _sent(store, event.account_id, "r", event.remittance_id)
            if found is not None:
                row_at, remittance = found
                remittance.status = "refunded" if refunded else "delivered"
                store.put_row("remittances", event.account_id, row_at, remittance)
                if refunded and remittance.at is not None and remittance.fee is not None:
                    month = _month(account, remittance.at)  # it never went
                    month.remitted -= remittance.amount.amount
                    month.fees -= remittance.fee.amount
                    month.remittances -= 1
            if refunded:
                account.balance, account.closed = event.balance, False
        case s.SavingsSentHome():
            account.balance = event.balance
            _add_row(store, event.account_id, sort, TransferDoc(
                transfer_id=event.transfer_id, direction="sent", node=event.to_node,
                counterpart=event.to_account_id, amount=event.amount, fee=event.fee,
                rate=event.rate, received=event.received, at=at), f"t/{event.transfer_id}")
        case s.SavingsTransferReceived():
            account.balance = event.balance
            store.put_row("transfers", event.account_id, sort, TransferDoc(
                transfer_id=event.transfer_id, direction="received", node=event.from_node,
                counterpart=event.from_account_id, amount=event.amount, received=event.amount,
                status="received", at=at))
        case s.SavingsTransferDelivered() | s.SavingsTransferRefunded():
            refunded = isinstance(event, s.SavingsTransferRefunded)
            found = _sent(store, event.account_id, "t", event.transfer_id)
            if found is not None:
                row_at, transfer = found
                transfer.status = "refunded" if refunded else "delivered"
                store.put_row("transfers", event.account_id, row_at, transfer)
            if refunded:
                account.balance = event.balance
        case s.PremiumPaid() | s.PremiumRefunded() | s.BenefitReceived() | s.WageReceived():
            account.balance = event.balance  # the policy (the job order) is its own document
    store.put("accounts", event.account_id, account)
    return [account.member_id] if account.member_id else []


#: The events this feature folds.
FOLDS = dict.fromkeys((
    s.AccountOpened, s.FundsDeposited, s.FundsWithdrawn, s.AccountClosed, s.SharesPurchased,
    s.SharesRedeemed, s.LoanDisbursed, s.LoanRepaymentRecorded, s.RemittanceSent,
    s.RemittanceReceived, s.RemittanceDelivered, s.RemittanceRefunded, s.SavingsSentHome,
    s.SavingsTransferReceived, s.SavingsTransferDelivered, s.SavingsTransferRefunded,
    s.PremiumPaid, s.PremiumDelivered, s.PremiumRefunded, s.BenefitReceived,
    s.WageReceived), fold)


def summary(event: Contract) -> str | None:  # noqa: C901
    """Her timeline's line for one of this feature's events (no personal data)."""
    def money(x: Money) -> str:
        return f"{major_text(x.amount, x.currency)} {x.currency}"

    match event:
        case s.AccountOpened():
            return f"opened a {event.product.value.replace('_', ' ')} account in {event.currency}"
        case s.FundsDeposited():
            return f"deposited {money(event.amount)}"
        case s.FundsWithdrawn():
            return f"withdrew {money(event.amount)}"
        case s.SharesPurchased():
            return f"bought {event.shares} share(s) for {money(event.amount)}"
        case s.SharesRedeemed():
            return f"redeemed {event.shares} share(s) for {money(event.amount)}"
        case s.LoanDisbursed():
            return f"received a loan of {money(event.principal)} over {event.term_months} months"
        case s.LoanRepaymentRecorded():
            return (f"repaid {money(event.amount)} for instalment {event.instalment} "
                    f"({event.timing.value.replace('_', ' ')})")
        case s.RemittanceSent():
            return (f"sent {money(event.amount)} home, fee {money(event.fee)}, "
                    f"rate {event.rate}, {money(event.received)} to arrive")
        case s.RemittanceReceived():
            return f"received a remittance of {money(event.amount)}"
        case s.RemittanceDelivered():
            return f"remittance {event.remittance_id} delivered"
        case s.RemittanceRefunded():
            return f"remittance {event.remittance_id} refunded: {money(event.amount)}"
        case s.AccountClosed():
            return "closed an account"
        case s.SavingsSentHome():
            return (f"sent {money(event.amount)} of savings to node {event.to_node}, fee "
                    f"{money(event.fee)}, rate {event.rate}, {money(event.received)} to arrive")
        case s.SavingsTransferReceived():
            return f"received {money(event.amount)} of savings from node {event.from_node}"
        case s.SavingsTransferDelivered():
            return f"savings transfer {event.transfer_id} delivered"
        case s.SavingsTransferRefunded():
            return f"savings transfer {event.transfer_id} refunded: {money(event.amount)}"
        case s.PremiumPaid():
            return (f"paid premium {event.period} of policy {event.policy_id}: "
                    f"{money(event.cost)}, fee {money(event.fee)}, rate {event.rate}, "
                    f"{money(event.premium)} to the insurer at node {event.to_node}")
        case s.PremiumDelivered():
            return f"premium {event.period} of policy {event.policy_id} collected"
        case s.PremiumRefunded():
            return (f"premium {event.period} of policy {event.policy_id} refunded: "
                    f"{money(event.amount)}")
        case s.BenefitReceived():
            return (f"received payment {event.number} of policy {event.policy_id}'s benefit: "
                    f"{money(event.amount)}")
        case s.WageReceived():
            return f"received her whole wage for job {event.job_order_id}: {money(event.amount)}"
    return None
