"""Rosa's insurance premiums leave her host savings account for the insurer at home, and a
benefit arrives in her mother's account (issue 25): the savings decider, pure.

Never a partial premium, never an overdraft, each period paid at most once however often
the relay or the standing instruction repeats itself, and every cent accounted for: what
left is the premiums' cost and fees, less what came back whole."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from schemas import savings as s
from schemas.fields import Money
from schemas.money import to_major
from services.runtime.aggregate import Rejected
from services.savings.lookups import AccountFacts
from tests.unit.test_savings_domain import (
    ANDINA,
    MOTHER,
    ROSA,
    SAVINGS,
    context,
    deposited,
    eur,
    opened,
    rejected,
    when,
)

POLICY = "0192d3c4-0000-7000-8000-00000000b011"
SOMEONE_ELSE = "0192d3c4-0000-7000-8000-00000000b0b0"


def usd(amount: int) -> Money:
    return Money(amount, "USD")


def premium_id(period: int, attempt: int = 0) -> str:
    return f"0192d3c4-0000-7000-8000-{period:06d}{attempt:06d}"


def pay(period=1, premium=1_500, member=ROSA, account=SAVINGS, attempt=0) -> s.PayPremium:
    return s.PayPremium(account_id=account, premium_id=premium_id(period, attempt),
                        member_id=member, policy_id=POLICY, period=period,
                        premium=usd(premium), to_node="sv")


def confirm(period=1, by_node="sv", attempt=0) -> s.ConfirmPremium:
    return s.ConfirmPremium(account_id=SAVINGS, premium_id=premium_id(period, attempt),
                            by_node=by_node)


def refund(period=1, by_node="sv", attempt=0) -> s.RefundPremium:
    return s.RefundPremium(account_id=SAVINGS, premium_id=premium_id(period, attempt),
                           by_node=by_node, reason="PolicyLapsed")


def saved(balance=10_000) -> list:
    return [opened(), deposited(balance, balance)]


def test_the_premium_arrives_whole_and_she_sees_its_cost_the_rate_and_the_fee():
    [paid] = when(saved(), pay())
    assert paid.premium == usd(1_500) and paid.to_node == "sv" and paid.member_id == ROSA
    rate = Decimal(paid.rate)
    assert rate > 0 and paid.cost.currency == "EUR"
    # the cost is the premium at the disclosed rate, to the cent
    assert abs(to_major(paid.cost) - to_major(paid.premium) * rate) <= Decimal("0.005")
    assert paid.balance == eur(10_000 - paid.cost.amount - paid.fee.amount)


def test_never_a_partial_premium_and_never_an_overdraft():
    [paid] = when(saved(), pay())
    needed = paid.cost.amount + paid.fee.amount
    rejected(saved(needed - 1), pay(), "InsufficientFunds")
    [exact] = when(saved(needed), pay())
    assert exact.balance == eur(0)


def test_each_period_once_while_on_its_way_and_once_collected():
    history = saved()
    history += when(history, pay())
    rejected(history, pay(), "DuplicateTransfer")  # the same payment, again
    rejected(history, pay(attempt=1), "PremiumAlreadyPaid")  # another, while it travels
    history += when(history, confirm())
    rejected(history, pay(attempt=1), "PremiumAlreadyPaid")  # the period, by another payment
    rejected(history, pay(), "DuplicateTransfer")  # this payment's id left already
    rejected(history, confirm(), "TransferSettled")  # the relay, again
    history += when(history, pay(period=2))
    assert [e for e in history if isinstance(e, s.PremiumPaid)][-1].period == 2


def test_a_refused_premium_comes_back_whole_and_may_be_paid_again():
    history = saved()
    [paid] = when(history, pay())
    history.append(paid)
    rejected(history, refund(by_node="us"), "WrongNode")  # only the insurer's node answers
    [back] = when(history, refund())
    assert back.amount == eur(paid.cost.amount + paid.fee.amount)
    assert back.balance == eur(10_000)
    history.append(back)
    rejected(history, confirm(), "TransferSettled")
    rejected(history, confirm(attempt=1), "UnknownTransfer")
    rejected(history, pay(), "DuplicateTransfer")  # a new payment has a new id
    again = when(history, pay(attempt=1))[0]
    assert again.period == 1 and again.premium_id == premium_id(1, 1)


def test_only_her_own_savings_account_pays_and_it_does_not_close_with_a_premium_out():
    rejected(saved(), pay(member=SOMEONE_ELSE), "WrongBeneficiary")
    history = saved()
    history += when(history, pay())
    rejected(history, s.CloseAccount(account_id=SAVINGS, transfer_to=None), "PremiumsPending")


def test_a_benefit_payment_is_credited_once():
    mother = [s.AccountOpened(account_id=MOTHER, member_id=SOMEONE_ELSE, cooperative_id=ANDINA,
                              product=s.Product.SAVINGS, currency="USD")]
    receive = s.ReceiveBenefit(account_id=MOTHER, policy_id=POLICY, number=2,
                               amount=usd(25_000))
    ctx = context(accounts={MOTHER: AccountFacts(SOMEONE_ELSE, ANDINA, s.Product.SAVINGS,
                                                 "USD")})
    [credited] = when(mother, receive, ctx)
    assert credited.balance == usd(25_000)
    rejected([*mother, credited], receive, "BenefitAlreadyReceived", ctx)
    rejected(mother, s.ReceiveBenefit(account_id=MOTHER, policy_id=POLICY, number=3,
                                      amount=eur(100)), "CurrencyMismatch", ctx)
    closed = [*mother, s.AccountClosed(account_id=MOTHER)]
    rejected(closed, s.ReceiveBenefit(account_id=MOTHER, policy_id=POLICY, number=3,
                                      amount=usd(100)), "AccountClosed", ctx)


STEPS = st.lists(st.tuples(st.sampled_from(["pay", "confirm", "refund", "deposit"]),
                           st.integers(1, 4), st.integers(0, 2)), max_size=30)


@settings(max_examples=200, deadline=None)
@given(STEPS)
def test_money_is_conserved_and_each_period_collected_at_most_once(steps):
    history = saved(3_000)  # two premiums and their fees, not three
    deposits = 3_000
    for step, period, attempt in steps:
        command = {"pay": pay(period, attempt=attempt),
                   "confirm": confirm(period, attempt=attempt),
                   "refund": refund(period, attempt=attempt),
                   "deposit": s.DepositFunds(account_id=SAVINGS, amount=eur(2_000))}[step]
        try:
            events = when(history, command)
        except Rejected:
            continue
        history += events
        deposits += 2_000 if step == "deposit" else 0
    paid = [e for e in history if isinstance(e, s.PremiumPaid)]
    back = [e for e in history if isinstance(e, s.PremiumRefunded)]
    delivered = [e for e in history if isinstance(e, s.PremiumDelivered)]
    balances = [e.balance.amount for e in history if hasattr(e, "balance")]
    assert all(b >= 0 for b in balances)  # never an overdraft
    out = sum(e.cost.amount + e.fee.amount for e in paid) - sum(e.amount.amount for e in back)
    assert balances[-1] == deposits - out
    assert len({e.period for e in delivered}) == len(delivered)  # each period collected once
    for e in paid:
        assert e.premium == usd(1_500)  # whole
    for period in {e.period for e in paid}:  # never two of one period out or collected
        once = [e for e in history if getattr(e, "period", None) == period]
        standing = 0
        for e in once:
            standing += {s.PremiumPaid: 1, s.PremiumRefunded: -1}.get(type(e), 0)
            assert standing in (0, 1)
    ids = [e.premium_id for e in paid]
    assert len(ids) == len(set(ids))  # one id, one payment
