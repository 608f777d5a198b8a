"""A loan account's contracts (key ``account_id``): the loan disbursed with its schedule, and
its repayments."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import msgspec

from schemas.fields import Id, Money, PastDay
from schemas.registry import REGISTRY, Contract
from schemas.savings.service import SERVICE
from schemas.savings.terms import Count, Decimal, Instalment, Timing

command = REGISTRY.command
event = REGISTRY.event


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
