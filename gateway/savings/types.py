"""The savings feature's GraphQL types: an account, its loan, its remittances and its
transfers between nodes. Each maps a document with ``from_doc``; the rows of an account
(remittances, transfers, repayments) are read only when a query asks for them.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import strawberry
from strawberry.types import Info

from gateway.context import GatewayContext
from gateway.savings.documents import AccountView, LoanDoc, RemittanceDoc, TransferDoc
from gateway.types import Money, own_id, use_id


@strawberry.type(description="A loan repayment, set against the earliest instalment it pays")
class Repayment:
    amount: Money = strawberry.field(description="the amount repaid")
    paid_on: dt.date
    instalment: int
    due_on: dt.date = strawberry.field(description="that instalment's due date")
    timing: str = strawberry.field(
        description="early (more than 10 days before the due date), on_time or late (after it)")
    days_late: int


@strawberry.type(description="One monthly instalment of a loan's schedule")
class Instalment:
    number: int
    due_on: dt.date
    principal: Money
    interest: Money
    total: Money


@strawberry.type(description="The loan of a loan account: its terms, schedule and repayments")
class Loan:
    principal: Money
    annual_rate: str
    term_months: int
    total_due: Money
    outstanding: Money
    closed: bool = strawberry.field(description="repaid in full")
    schedule: list[Instalment]
    repayments_key: strawberry.Private[str]  # in the rows table "repayments"

    @strawberry.field(description="the repayments, oldest first")
    def repayments(self, info: Info[GatewayContext, None]) -> list[Repayment]:
        return [Repayment(amount=Money.from_value(r.amount), paid_on=r.paid_on,
                          instalment=r.instalment, due_on=r.due_on, timing=r.timing,
                          days_late=r.days_late)
                for r in info.context.views.rows("repayments", self.repayments_key)]

    @classmethod
    def from_doc(cls, doc: LoanDoc | None, account_id: str) -> Loan | None:
        if doc is None:
            return None
        return cls(
            principal=Money.from_value(doc.principal), annual_rate=doc.annual_rate,
            term_months=doc.term_months, total_due=Money.from_value(doc.total_due),
            outstanding=Money.from_value(doc.outstanding), closed=doc.closed,
            schedule=[Instalment(number=i.number, due_on=i.due_on,
                                 principal=Money.from_value(i.principal),
                                 interest=Money.from_value(i.interest),
                                 total=Money.from_value(i.total)) for i in doc.schedule],
            repayments_key=doc.repayments_key(account_id))


@strawberry.type(description="Money sent from or received into a savings account of this node "
                             "(a closing account's balance moved out shows here too)")
class Remittance:
    # no ``id``: one remittance between two accounts of a node is a value in each of them
    # (sent, received), and clients key their caches by type and id
    remittance_id: strawberry.ID = strawberry.field(
        description="the remittance's id, the same in the sending and the receiving account")
    direction: str = strawberry.field(description="sent (from this account) or received (into "
                                                  "it)")
    status: str = strawberry.field(
        description="sent (on its way), delivered, refunded (amount and fee came back), or "
                    "received")
    counterpart_account_id: strawberry.ID | None = strawberry.field(
        description="the other account of this node: the beneficiary's or the sender's; null "
                    "for a payout to a non-member")
    amount: Money = strawberry.field(
        description="sent: what was sent, the fee on top; received: what was credited")
    fee: Money | None = strawberry.field(
        description="the fee, charged on top of the amount; null on a remittance received")
    rate: str | None
    received: Money | None = strawberry.field(
        description="what the beneficiary is credited, in its currency; null on a remittance "
                    "received")
    corridor: str | None
    fee_percent: str | None = strawberry.field(
        description="the fee as a percentage of the amount sent (\"1.50\")")
    at: dt.datetime | None = strawberry.field(
        description="sent: the day it was booked (midnight UTC) or the moment it was decided; "
                    "received: when it was credited")


@strawberry.type(description="Savings moved between nodes")
class Transfer:
    transfer_id: strawberry.ID = use_id()
    id: strawberry.ID = own_id("transfer_id", "transfer")
    direction: str = strawberry.field(description="sent (from here) or received (here)")
    node: str = strawberry.field(description="the other node")
    counterpart_account_id: strawberry.ID = strawberry.field(
        description="the account at the other node (its id there)")
    amount: Money = strawberry.field(description="debited here, fee included (sent), or "
                                                 "credited here (received)")
    fee: Money | None = strawberry.field(
        description="the fee, taken out of the amount; null on a transfer received")
    rate: str | None = strawberry.field(
        description="the exchange rate used (\"1.0842\"); null on a transfer received")
    received: Money | None = strawberry.field(description="what the home account is credited")
    status: str = strawberry.field(description="sent, delivered, refunded or received")
    at: dt.datetime | None = strawberry.field(description="when it was sent or credited here")

    @classmethod
    def from_doc(cls, doc: TransferDoc) -> Transfer:
        return cls(transfer_id=doc.transfer_id, direction=doc.direction, node=doc.node,
                   counterpart_account_id=doc.counterpart, amount=Money.from_value(doc.amount),
                   fee=Money.from_value(doc.fee), rate=doc.rate,
                   received=Money.from_value(doc.received), status=doc.status, at=doc.at)


@strawberry.type(description="A member's account at a cooperative of this node")
class Account:
    account_id: strawberry.ID = use_id()
    id: strawberry.ID = own_id("account_id", "account")
    cooperative_id: strawberry.ID = strawberry.field(
        description="the cooperative that keeps the account")
    product: str = strawberry.field(description="savings, share_capital or loan")
    currency: str = strawberry.field(description="the account's currency: the cooperative's "
                                                 "(ISO 4217)")
    balance: Money | None = strawberry.field(
        description="savings: what it holds; share capital: what was paid in; loan: what is "
                    "still owed")
    closed: bool = strawberry.field(description="the account is closed")
    shares: int = strawberry.field(description="the shares it holds (share capital accounts; "
                                               "0 for the others)")
    loan: Loan | None = strawberry.field(description="its loan (loan accounts, once disbursed)")

    @strawberry.field(description="money sent from it and received into it, oldest first")
    def remittances(self, info: Info[GatewayContext, None]) -> list[Remittance]:
        return [_remittance(r) for r in info.context.views.rows("remittances", self.account_id)]

    @strawberry.field(
        description="savings moved between this account and another node's, oldest first")
    def transfers(self, info: Info[GatewayContext, None]) -> list[Transfer]:
        return [Transfer.from_doc(x) for x in info.context.views.rows("transfers", self.account_id)]

    @classmethod
    def from_doc(cls, doc: AccountView) -> Account:
        return cls(account_id=doc.account_id, cooperative_id=doc.cooperative_id,
                   product=doc.product, currency=doc.currency,
                   balance=Money.from_value(doc.balance), closed=doc.closed, shares=doc.shares,
                   loan=Loan.from_doc(doc.loan, doc.account_id))


def _remittance(r: RemittanceDoc) -> Remittance:
    percent = None
    if r.fee is not None and r.amount.amount:
        percent = str((Decimal(r.fee.amount * 100) / r.amount.amount).quantize(Decimal("0.01")))
    return Remittance(
        remittance_id=r.remittance_id, direction=r.direction, status=r.status,
        counterpart_account_id=r.counterpart, amount=Money.from_value(r.amount),
        fee=Money.from_value(r.fee), rate=r.rate, received=Money.from_value(r.received),
        corridor=r.corridor, fee_percent=percent, at=r.at)
