"""Rosa's savings move home to another node, and her imported credit history counts there:
the savings decider, given / when / then (pure)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from schemas import REGISTRY
from schemas import membership as ms
from schemas import savings as s
from schemas.envelope import source_for
from schemas.fields import Money
from services.runtime.aggregate import Context, fold
from schemas.money import to_major
from services.savings.domain import ACCOUNT, SAVINGS as SAVINGS_SERVICE
from services.savings.lookups import apply_to_credit_history
from services.savings.rates import load_rates
from tests.unit.test_savings_domain import (
    AHORRO,
    ANDINA,
    DISBURSE,
    LOAN,
    MOTHER,
    NOW,
    REMITTANCE,
    ROSA,
    SAVINGS,
    assert_arrives_whole,
    context,
    deposited,
    eur,
    opened,
    rejected,
    rosa_sends,
    when,
)

TRANSFER = "0192d3c4-0000-7000-8000-0000000f0e01"
HOME = "0192d3c4-0000-7000-8000-0000000acc21"  # Rosa's dollar account at the home node
SOMEONE_ELSE = "0192d3c4-0000-7000-8000-00000000b0b0"


def usd(amount: int) -> Money:
    return Money(amount, "USD")


def send_home(amount=100000, transfer_id=TRANSFER, to_currency="USD") -> s.TransferSavingsHome:
    return s.TransferSavingsHome(account_id=SAVINGS, transfer_id=transfer_id, amount=eur(amount),
                                 to_node="ec", to_account_id=HOME, to_currency=to_currency)


def sent_home(balance=150000) -> list:
    """Rosa saved EUR 1,500 and sent EUR 1,000 of it home."""
    history = [opened(), deposited(balance, balance)]
    [sent] = when(history, send_home())
    return [*history, sent]


def confirm(transfer_id=TRANSFER, by_node="ec") -> s.ConfirmSavingsTransfer:
    return s.ConfirmSavingsTransfer(account_id=SAVINGS, transfer_id=transfer_id,
                                    by_node=by_node)


def refund(transfer_id=TRANSFER, by_node="ec") -> s.RefundSavingsTransfer:
    return s.RefundSavingsTransfer(account_id=SAVINGS, transfer_id=transfer_id,
                                   by_node=by_node, reason="the home node refused it")


# -- at the host node: sending ----------------------------------------------------------------


def test_rosa_sends_her_savings_home_and_sees_the_rate_the_fee_and_what_arrives():
    history = [opened(), deposited(150000, 150000)]
    [sent] = when(history, send_home())
    assert sent.member_id == ROSA and sent.to_node == "ec" and sent.to_account_id == HOME
    assert sent.amount == eur(100000)  # the fee is inside the amount, not on top of it
    assert sent.fee == eur(2000)  # the rate table's fee for any corridor: 2 %
    assert sent.rate == "1.0842" and sent.rate_date == dt.date(2026, 11, 1)
    # (1000.00 - 20.00) x 1.0842 = 1062.516 exactly, rounded half-even to cents: 1062.52
    assert (to_major(sent.amount) - to_major(sent.fee)) * Decimal(sent.rate) == Decimal("1062.516")
    assert sent.received == usd(106252)
    assert to_major(sent.received) - Decimal("1062.516") == Decimal("0.004")
    assert_arrives_whole(sent)
    assert sent.balance == eur(50000)  # what left is exactly the amount
    state = fold(ACCOUNT, [*history, sent])
    assert state.balance == 50000 and state.transfers_home[TRANSFER].debit == 100000
    assert state.transfers_home[TRANSFER].received == usd(106252)
    assert not state.pending  # the courier, which carries this node's remittances, skips it


def test_a_member_who_is_leaving_may_still_send_her_savings_home():
    [sent] = when([opened(), deposited(150000, 150000)], send_home(), context(active=False))
    assert sent.balance == eur(50000)


def test_a_transfer_home_takes_the_whole_amount_or_nothing():
    history = [opened(), deposited(100000, 100000)]
    rejected(history, send_home(100001), "InsufficientFunds")  # no event: nothing was taken
    [everything] = when(history, send_home(100000))  # the fee comes out of the amount
    assert everything.balance == eur(0) and everything.amount == eur(100000)
    rejected([], send_home(), "UnknownAccount")
    rejected([*history, s.AccountClosed(account_id=SAVINGS)], send_home(), "AccountClosed")
    rejected([opened(LOAN, s.Product.LOAN)], s.TransferSavingsHome(
        account_id=LOAN, transfer_id=TRANSFER, amount=eur(100), to_node="ec",
        to_account_id=HOME, to_currency="USD"), "WrongProduct")
    rejected(history, s.TransferSavingsHome(
        account_id=SAVINGS, transfer_id=TRANSFER, amount=usd(100), to_node="ec",
        to_account_id=HOME, to_currency="USD"), "CurrencyMismatch")
    rejected(history, send_home(0), "ValidationError")
    rejected(history, send_home(to_currency="XAU"), "RateUnavailable")


def rates_file(tmp_path, rates, fee):
    path = tmp_path / "rates.json"
    path.write_text(json.dumps({"source": "test", "rates": rates, "fees": [fee]}))
    return load_rates(path)


def with_rates(table) -> Context:
    return Context(NOW, {**context().lookups, "rates": table})


def test_what_arrives_is_rounded_half_even_to_the_home_currencys_minor_unit(tmp_path):
    table = rates_file(
        tmp_path, [{"date": "2026-11-01", "base": "EUR", "quote": "JPY", "rate": "162.5"},
                   {"date": "2026-11-01", "base": "EUR", "quote": "USD", "rate": "0.5"}],
        {"corridor": "*", "fixed": {"amount": 0, "currency": "EUR"}, "percent": "0.01"})
    history = [opened(), deposited(50000, 50000)]
    # fee 1 % of 100.01 = 1.0001 -> 1.00; 99.01 x 162.5 = 16089.125 yen -> 16089 (no minor unit)
    [sent] = when(history, send_home(10001, to_currency="JPY"), with_rates(table))
    assert sent.fee == eur(100) and sent.received == Money(16089, "JPY")
    assert to_major(sent.received) - Decimal("16089.125") == Decimal("-0.125")
    assert_arrives_whole(sent)
    # 0.03 x 0.5 = 0.015 -> 0.02 (half to even); 0.01 x 0.5 = 0.005 -> 0.00: too small
    [three_cents] = when(history, send_home(3), with_rates(table))
    assert three_cents.fee == eur(0) and three_cents.received == usd(2)
    rejected(history, send_home(1), "ValidationError", with_rates(table))


def test_an_amount_the_fee_would_swallow_is_too_small_to_arrive(tmp_path):
    table = rates_file(
        tmp_path, [{"date": "2026-11-01", "base": "EUR", "quote": "USD", "rate": "1.0842"}],
        {"corridor": "*", "fixed": {"amount": 150, "currency": "EUR"}, "percent": "0"})
    history = [opened(), deposited(50000, 50000)]
    rejected(history, send_home(150), "ValidationError", with_rates(table))
    rejected(history, send_home(100), "ValidationError", with_rates(table))
    [sent] = when(history, send_home(151), with_rates(table))
    assert sent.received == usd(1) and sent.balance == eur(50000 - 151)


def test_a_transfer_id_leaves_an_account_once_and_never_as_a_remittance_too():
    history = sent_home()
    rejected(history, send_home(10), "DuplicateTransfer")
    [delivered] = when(history, confirm())
    rejected([*history, delivered], send_home(10), "DuplicateTransfer")
    # remittances and transfers share one namespace of ids on an account
    rejected(history, s.SendRemittance(account_id=SAVINGS, remittance_id=TRANSFER,
                                       amount=eur(100), to=s.Beneficiary(account_id=MOTHER)),
             "DuplicateRemittance")
    [remitted] = when([opened(), deposited(50000, 50000)], rosa_sends())
    rejected([opened(), deposited(50000, 50000), remitted], send_home(100, REMITTANCE),
             "DuplicateTransfer")


# -- at the host node: settling ---------------------------------------------------------------


def test_a_delivered_transfer_is_settled_once():
    history = sent_home()
    [delivered] = when(history, confirm())
    assert delivered == s.SavingsTransferDelivered(account_id=SAVINGS, transfer_id=TRANSFER)
    state = fold(ACCOUNT, [*history, delivered])
    assert state.balance == 50000 and not state.transfers_home
    for again in (confirm(), refund()):
        rejected([*history, delivered], again, "TransferSettled")


def test_a_refused_transfer_gives_back_the_whole_amount_fee_included_once():
    history = sent_home()
    [refunded] = when(history, refund())
    assert refunded.amount == eur(100000)  # amount, fee included: 980.00 + 20.00
    assert refunded.balance == eur(150000) and refunded.reason == "the home node refused it"
    state = fold(ACCOUNT, [*history, refunded])
    assert state.balance == 150000 and not state.transfers_home
    for again in (confirm(), refund()):
        rejected([*history, refunded], again, "TransferSettled")


def test_only_a_transfer_that_left_this_account_is_settled():
    history = sent_home()
    for settle in (confirm, refund):
        rejected(history, settle("0192d3c4-0000-7000-8000-00000000dead"), "UnknownTransfer")
        rejected([opened(), deposited(100, 100)], settle(), "UnknownTransfer")
        rejected([], settle(), "UnknownAccount")
    # a remittance's id is not a transfer's
    [remitted] = when([opened(), deposited(50000, 50000)], rosa_sends())
    rejected([opened(), deposited(50000, 50000), remitted], confirm(REMITTANCE),
             "UnknownTransfer")


def test_an_account_does_not_close_while_savings_are_on_their_way_home():
    close = s.CloseAccount(account_id=SAVINGS)
    everything = [opened(), deposited(100000, 100000)]
    [sent] = when(everything, send_home(100000))
    history = [*everything, sent]
    assert fold(ACCOUNT, history).balance == 0
    rejected(history, close, "TransfersPending")
    [delivered] = when(history, confirm())
    assert when([*history, delivered], close) == [s.AccountClosed(account_id=SAVINGS)]
    [refunded] = when(history, refund())
    rejected([*history, refunded], close, "AccountNotEmpty")


# -- at the home node: receiving --------------------------------------------------------------


def home_opened(member_id=ROSA) -> s.AccountOpened:
    return s.AccountOpened(account_id=HOME, member_id=member_id, cooperative_id=ANDINA,
                           product=s.Product.SAVINGS, currency="USD")


def receive(amount=usd(106252), member_id=ROSA, from_node="es") -> s.ReceiveSavingsTransfer:
    return s.ReceiveSavingsTransfer(account_id=HOME, transfer_id=TRANSFER, member_id=member_id,
                                    from_node=from_node, from_account_id=SAVINGS, amount=amount)


def test_the_home_account_credits_a_transfer_once():
    [received] = when([home_opened()], receive())
    assert received == s.SavingsTransferReceived(
        account_id=HOME, transfer_id=TRANSFER, member_id=ROSA, from_node="es",
        from_account_id=SAVINGS, amount=usd(106252), balance=usd(106252))
    history = [home_opened(), received]
    rejected(history, receive(), "TransferAlreadyReceived")
    rejected(history, receive(usd(1)), "TransferAlreadyReceived")
    # credited, then the account closed: a late retry is still the duplicate it is
    rejected([*history, s.AccountClosed(account_id=HOME)], receive(), "TransferAlreadyReceived")
    # the same id from another node is another transfer
    [other] = when(history, receive(usd(100), from_node="it"))
    assert fold(ACCOUNT, [*history, other]).balance == 106352
    # she need not be an active member yet to receive her own savings
    assert when([home_opened()], receive(), context(active=False)) == [received]


def test_the_home_account_takes_only_its_members_transfer_in_its_currency():
    rejected([home_opened()], receive(member_id=SOMEONE_ELSE), "WrongBeneficiary")
    rejected([home_opened(SOMEONE_ELSE)], receive(), "WrongBeneficiary")
    rejected([home_opened()], receive(eur(98000)), "CurrencyMismatch")
    rejected([home_opened()], receive(usd(0)), "ValidationError")
    rejected([], receive(), "UnknownAccount")
    rejected([home_opened(), s.AccountClosed(account_id=HOME)], receive(), "AccountClosed")
    loan_account = s.AccountOpened(account_id=HOME, member_id=ROSA, cooperative_id=ANDINA,
                                   product=s.Product.LOAN, currency="USD")
    rejected([loan_account], receive(), "WrongProduct")


# -- imported credit history ------------------------------------------------------------------


def imported(early=0, on_time=0, late=0, issuer="es", issued_at=NOW, loans=1,
             credential="0192d3c4-0000-7000-8000-0000000c4ed1") -> ms.RecordImported:
    loan = ms.ImportedLoan(principal=eur(120000), disbursed_on=dt.date(2024, 1, 5),
                           instalments=12, repaid_early=early, repaid_on_time=on_time,
                           repaid_late=late, closed=early + on_time + late == 12)
    return ms.RecordImported(member_id=ROSA, credential_id=credential, issuer_node=issuer,
                             issued_at=issued_at, digest="A" * 43,
                             history=ms.ImportedHistory(loans=[loan] * loans))


def credit_history(*events):
    lookup = next(lookup for lookup in SAVINGS_SERVICE.lookups
                  if lookup.name == "credit_history")
    view = lookup.initial()
    for event in events:
        lookup.apply(view, event)
    return view


def loan_for(*events):
    return when([opened(LOAN, s.Product.LOAN)], DISBURSE,
                context(credit_history=credit_history(*events)))


def test_a_loan_is_refused_when_the_imported_repayments_were_mostly_late():
    error = rejected([opened(LOAN, s.Product.LOAN)], DISBURSE, "PoorCreditHistory",
                     context(credit_history=credit_history(imported(on_time=5, late=7))))
    assert error.message == "the imported repayment history shows mostly late repayments"


def test_a_loan_is_disbursed_when_half_or_fewer_imported_repayments_were_late():
    assert loan_for(imported(on_time=6, late=6))  # exactly half is not mostly
    assert loan_for(imported(early=2, on_time=8, late=2))
    assert loan_for(imported())  # a loan with no repayments yet says nothing
    assert loan_for()  # no imported history at all


def test_the_credit_history_sums_the_loans_of_every_issuing_node():
    view = credit_history(imported(on_time=12, loans=2), imported(late=12, issuer="it"))
    history = view.get(ROSA)
    assert (history.loans, history.repaid_on_time, history.repaid_late, history.closed) == (
        3, 24, 12, 3)
    assert not history.mostly_late and view.get(SOMEONE_ELSE) is None
    assert loan_for(imported(on_time=4, late=6), imported(on_time=4, late=2, issuer="it"))
    rejected([opened(LOAN, s.Product.LOAN)], DISBURSE, "PoorCreditHistory", context(
        credit_history=credit_history(imported(on_time=4, late=6),
                                      imported(on_time=1, late=2, issuer="it"))))


def test_a_newer_record_of_the_same_node_replaces_the_older_but_one_without_loans_does_not():
    later = NOW + dt.timedelta(days=30)
    earlier = NOW - dt.timedelta(days=30)
    # the newer record holds the whole history again: counted once, not twice
    assert credit_history(imported(on_time=2, late=3),
                          imported(on_time=9, late=3, issued_at=later)).get(ROSA).loans == 1
    assert loan_for(imported(on_time=2, late=3), imported(on_time=9, late=3, issued_at=later))
    # an older record imported after a newer one does not bring the old picture back
    assert loan_for(imported(on_time=9, late=3), imported(on_time=2, late=3, issued_at=earlier))
    # a record exported without the savings scope lists no loans and erases nothing
    rejected([opened(LOAN, s.Product.LOAN)], DISBURSE, "PoorCreditHistory", context(
        credit_history=credit_history(imported(on_time=2, late=3),
                                      imported(loans=0, issued_at=later))))


def test_the_savings_service_folds_records_imported_on_the_membership_events_topic():
    [lookup] = [lookup for lookup in SAVINGS_SERVICE.lookups if lookup.name == "credit_history"]
    assert lookup.source == "membership" and lookup.apply is apply_to_credit_history
    # what the processor's lookup reader does with a record of {node}.membership.events
    raw = REGISTRY.encode(imported(on_time=5, late=7), id="0192d3c4-0000-7000-8000-0000000e0001",
                          source=source_for("ec", "membership"), subject=ROSA, time=NOW,
                          sequence=1)
    view = lookup.initial()
    lookup.apply(view, REGISTRY.decode(raw, kind="event").payload)
    assert view.get(ROSA).mostly_late
    # and the rest of the membership events leave it alone
    lookup.apply(view, ms.MembershipEnded(member_id=ROSA, cooperative_id=AHORRO,
                                          reason=ms.EndReason.RETURNED_HOME,
                                          ended_on=dt.date(2026, 11, 1)))
    assert view.get(ROSA).repaid_late == 7


@pytest.mark.parametrize("late, mostly", [(0, False), (5, False), (6, False), (7, True)])
def test_mostly_late_means_more_than_half(late, mostly):
    assert credit_history(imported(on_time=12 - late, late=late)).get(ROSA).mostly_late is mostly


def test_only_the_node_the_money_went_to_settles_the_transfer():
    history = sent_home()
    rejected(history, confirm(by_node="mx"), "WrongNode")
    rejected(history, refund(by_node="mx"), "WrongNode")
    assert when(history, confirm())  # the home node itself does


def test_the_same_transfer_id_from_two_sending_accounts_is_two_credits():
    [credited] = when([home_opened()], receive())
    history = [home_opened(), credited]
    other_account = s.ReceiveSavingsTransfer(
        account_id=HOME, transfer_id=TRANSFER, member_id=ROSA, from_node="es",
        from_account_id="0192d3c4-0000-7000-8000-0000000acc99", amount=usd(100))
    [second] = when(history, other_account)
    assert fold(ACCOUNT, [*history, second]).balance == 106252 + 100
    rejected([*history, second], other_account, "TransferAlreadyReceived")
