"""The savings feature's documents (pure): each account of this node, its loan, its
remittances, its transfers between nodes and its flows per month.

* ``accounts``  account id -> ``AccountView`` (balance, shares, loan, remittances)
"""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from gateway.documents import Doc
from schemas import savings as s
from schemas.fields import Money


class RepaymentDoc(Doc, kw_only=True):
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
    repayments: list[RepaymentDoc] = []
    closed: bool = False
    disbursed_on: dt.date | None = None  # the day it was decided (None: folded before it was kept)


class RemittanceDoc(Doc, kw_only=True):
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


class TransferDoc(Doc, kw_only=True):
    """Savings moved between nodes: ``sent`` (here, to ``node``) or ``received`` (from it)."""

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
    remittances: list[RemittanceDoc] = []
    transfers: list[TransferDoc] = []
    months: dict[str, MonthDoc] = {}  # "YYYY-MM" -> flows
