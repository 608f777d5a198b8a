"""The savings service's lookups: what a decision may know of other aggregates, folded by the
runtime from the events topics of this node (pure).

* ``memberships`` (from membership events): active ``(member_id, cooperative_id)`` -> the
  share capital required of that member;
* ``cooperatives`` (from membership events): cooperative id -> ``CooperativeFacts``;
* ``accounts`` (from savings events): account id -> ``AccountFacts``, for beneficiaries;
* ``credit_history`` (from membership events): member id -> ``CreditHistory``, the loans of
  the records imported for her from other nodes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass

from schemas import membership as ms
from schemas import savings as s
from schemas.fields import Money
from schemas.registry import Contract


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
