"""The insurer's payer's choices, without a broker (issue 25): which payments it sends, and
how it reads the payee's account's answer. A payment the account refuses for good (closed,
unknown, another product or currency) goes back to the insurer; any other refusal (a bug, a
clock out of step) is tried again, never returned; a credit the account already holds is
credited. Its command ids: the credit's and the settlement's fixed per payment, the
release's per day."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from schemas import savings as s
from services.insurance.domain import POLICY
from services.insurance.payer import Payer, next_day
from services.runtime.aggregate import fold
from tests.unit.test_insurance_domain import POLICY_ID, START, Book, approved_claim, at


@dataclass
class Answer:
    accepted: bool
    code: str | None = None


class Account:
    """The payee's account as the payer's client meets it: answers ``ReceiveBenefit`` with
    ``credit``; the policy accepts everything."""

    def __init__(self, credit: Answer):
        self.credit, self.sent = credit, []

    async def send(self, command, aggregate_id=None, *, command_id=None, **_):
        self.sent.append((type(command).__name__, command_id))
        return self.credit if isinstance(command, s.ReceiveBenefit) else Answer(True)


def approved_book() -> Book:
    return approved_claim()[0]


async def pay(credit: Answer, day: dt.date) -> list:
    book = approved_book()
    account = Account(credit)
    payer = Payer(account, clock=lambda: at(day))
    await payer._pay(POLICY_ID, book.state)  # noqa: SLF001
    return account.sent


DAY = START + dt.timedelta(days=40)


@pytest.mark.parametrize(("credit", "settled"), [
    (Answer(True), "ConfirmPayment"),
    (Answer(False, "BenefitAlreadyReceived"), "ConfirmPayment"),  # credited before
    (Answer(False, "AccountClosed"), "ReturnPayment"),
    (Answer(False, "UnknownAccount"), "ReturnPayment"),
    (Answer(False, "InternalError"), None),  # tried again later, never returned
    (Answer(False, "CommandOutOfTime"), None),
])
async def test_the_accounts_answer_decides_credited_returned_or_again(credit, settled):
    sent = await pay(credit, DAY)
    kinds = [kind for kind, _ in sent]
    assert kinds[:2] == ["ReleasePayment", "ReceiveBenefit"]  # the repatriation, due today
    if settled is None:
        assert kinds == ["ReleasePayment", "ReceiveBenefit"]  # stops; the sweep comes back
    else:
        assert kinds[2] == settled
        assert "ReturnPayment" not in kinds or "ConfirmPayment" not in kinds


async def test_ids_fixed_per_payment_but_the_releases_per_day():
    sent = dict((await pay(Answer(True), DAY))[:3])
    later = dict((await pay(Answer(True), DAY + dt.timedelta(days=1)))[:3])
    assert sent["ReceiveBenefit"] == later["ReceiveBenefit"] == f"{POLICY_ID}/payment/1/credit"
    assert sent["ConfirmPayment"] == later["ConfirmPayment"] == f"{POLICY_ID}/payment/1/settle"
    assert sent["ReleasePayment"] != later["ReleasePayment"]


async def test_only_what_is_due_is_released():
    kinds = [kind for kind, _ in await pay(Answer(True), DAY)]
    # the repatriation and the first month are due on the day of the approval; month 2 not
    assert kinds.count("ReleasePayment") == 2 and kinds.count("ConfirmPayment") == 2


def test_next_day_is_when_something_is_due_or_nothing_ever():
    book = approved_book()
    assert next_day(book.state) == DAY  # the schedule's first open payment
    fresh = Book()
    assert next_day(fresh.state) == fresh.state.lapses_on(1)  # a lapse, if unpaid
    assert next_day(fold(POLICY, [])) is None  # nothing issued: nothing ever
