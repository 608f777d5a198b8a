"""The savings feature's documents (pure): each account of this node, its loan and its flows
per month; and its rows (``gateway.documents.Row``): its remittances, its transfers between
nodes and its loans' repayments, one row each, in the order the account's events decided
them (``row_sort``).

* ``accounts``  account id -> ``AccountView`` (balance, shares, loan, flows per month)
* rows ``remittances``, ``transfers``  account id -> ``RemittanceDoc``, ``TransferDoc``
* rows ``repayments``  account id and loan (``LoanDoc.repayments_key``) -> ``RepaymentDoc``
* rows ``pointers``  account id -> ``Pointer``: where the row of a remittance or a transfer
  is (``r/{id}``, ``t/{id}``), for the events that change its status
"""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from gateway.documents import Doc, Row
from schemas import savings as s
from schemas.fields import Money, Sealed


def row_sort(sequence: int) -> str:
    """A row's place among its account's: the sequence of the event that wrote it."""
    return f"{sequence:010d}"


class Pointer(Row, kw_only=True):
    TABLE: ClassVar[str] = "pointers"

    sort: str  # the row's sort key in its own table


class RepaymentDoc(Row, kw_only=True):
    TABLE: ClassVar[str] = "repayments"

    amount: Money
    paid_on: dt.date
    instalment: int
    due_on: dt.date
    timing: str
    days_late: int


class LoanDoc(Doc, kw_only=True):
    principal: Money
    annual_rate: str
    term_months: int
    total_due: Money
    outstanding: Money
    schedule: list[s.Instalment]
    #: the ``row_sort`` of its disbursement, which tells its repayments' rows apart from an
    #: earlier loan's of the same account (``repayments_key``)
    disbursement: str = ""
    closed: bool = False
    disbursed_on: dt.date | None = None  # the day it was decided (None: folded before it was kept)


    def repayments_key(self, account_id: str) -> str:
        """The key of its repayments in the rows table ``repayments``."""
        return f"{account_id}/{self.disbursement}"


class RemittanceDoc(Row, kw_only=True):
    TABLE: ClassVar[str] = "remittances"

    remittance_id: str
    direction: str  # sent, received
    counterpart: str | None = None  # the other account, if any
    amount: Money
    fee: Money | None = None
    rate: str | None = None
    received: Money | None = None
    corridor: str | None = None
    status: str = "sent"  # sent, delivered, refunded, received
    at: dt.datetime | None = None  # sent: when booked (its month in ``MonthDoc``)
    #: a payout's: to whom (sealed with her data key, as it travelled) and where (issue 25:
    #: the beneficiaries she is suggested when she applies for insurance)
    recipient: Sealed | None = None
    country: str | None = None


class TransferDoc(Row, kw_only=True):
    """Savings moved between nodes: ``sent`` (here, to ``node``) or ``received`` (from it)."""

    TABLE: ClassVar[str] = "transfers"

    transfer_id: str
    direction: str  # sent, received
    node: str
    counterpart: str  # the account at the other node
    amount: Money  # debited here (sent) or credited here (received)
    fee: Money | None = None
    rate: str | None = None
    received: Money | None = None
    status: str = "sent"  # sent, delivered, refunded, received
    at: dt.datetime | None = None


class MonthDoc(Doc, kw_only=True):
    """An account's flows in one calendar month (UTC), for the federation's time series: a
    deposit or remittance counts in the month it was booked (``booked_on``), else in the month
    it was decided."""

    deposits: int = 0
    remitted: int = 0
    fees: int = 0
    remittances: int = 0


class AccountView(Doc, kw_only=True):
    TABLE: ClassVar[str] = "accounts"
    KEY: ClassVar[str] = "account_id"

    account_id: str
    member_id: str = ""
    cooperative_id: str = ""
    product: str = ""
    currency: str = ""
    balance: Money | None = None
    opened_at: dt.datetime | None = None
    closed: bool = False
    shares: int = 0
    deposits: Money | None = None
    withdrawals: Money | None = None
    loan: LoanDoc | None = None
    months: dict[str, MonthDoc] = {}  # "YYYY-MM" -> flows
