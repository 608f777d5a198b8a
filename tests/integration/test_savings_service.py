"""The savings service on the real broker, next to the membership service it listens to:
overdrafts under concurrency, a remittance home, a refund that survives kill -9, a loan."""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import random

import pytest

from schemas import REGISTRY
from schemas import membership as m
from schemas import savings as s
from schemas.fields import Money
from schemas.topics import events_topic
from services.runtime import kafka_clients
from services.runtime.ids import new_id
from services.savings.app import savings_processor
from tests.integration.membership_world import (
    share_the_partitions,
    ServiceProcess,
    outcome,
    register_cooperative,
    register_member,
    running,
)

pytestmark = pytest.mark.kafka


@pytest.fixture
async def world(node):
    """A fresh node, with its membership service running (savings listens to it)."""
    node_id, bootstrap, _, keys = node
    async with running(node_id, bootstrap, keys):
        yield node


def savings(courier: bool = True):
    return functools.partial(savings_processor, courier=courier)


async def member_of(client, keys, cooperative: str, currency: str = "EUR") -> str:
    member = await register_member(client, keys)
    reply = await client.send(m.StartMembership(
        member_id=member, cooperative_id=cooperative, started_on=dt.date(2019, 5, 6),
        share_capital_required=Money(5000, currency)), member)
    assert reply.accepted, reply.payload
    return member


async def account(client, member: str, cooperative: str, currency: str = "EUR",
                  product=s.Product.SAVINGS, deposit: int = 0) -> str:
    account_id = new_id()
    reply = await client.send(s.OpenAccount(
        account_id=account_id, member_id=member, cooperative_id=cooperative, product=product,
        currency=currency), account_id)
    assert reply.accepted, reply.payload
    if deposit:
        reply = await client.send(s.DepositFunds(account_id=account_id,
                                                 amount=Money(deposit, currency)), account_id)
        assert reply.accepted, reply.payload
    return account_id


async def savings_events(bootstrap: str, node: str, account_id: str) -> list:
    records = await kafka_clients.read_topic(events_topic(node, "savings"), bootstrap)
    messages = [REGISTRY.decode(r.value) for r in records if r.key == account_id.encode()]
    return [msg.payload for msg in messages if msg.envelope.sequence is not None]


async def test_two_hundred_concurrent_withdrawals_never_overdraw(world, monkeypatch):
    node, bootstrap, client, keys = world
    monkeypatch.setenv("COOPBRIDGE_SNAPSHOT_EVERY", "50")  # snapshots while they decide
    async with running(node, bootstrap, keys, savings()) as first, \
            running(node, bootstrap, keys, savings()) as second:
        await share_the_partitions(first, second)
        cooperative = await register_cooperative(client)
        member = await member_of(client, keys, cooperative)
        rng = random.Random(2026)
        for round_ in range(20):
            account_id = await account(client, member, cooperative, deposit=1000)
            amounts = [rng.randint(1, 60) for _ in range(200)]  # ~6,000 asked of 1,000
            ids = [new_id() for _ in amounts]
            replies = await asyncio.gather(*(
                client.send(s.WithdrawFunds(account_id=account_id, amount=Money(a, "EUR")),
                            account_id, command_id=i) for a, i in zip(amounts, ids)))
            accepted = sum(a for a, r in zip(amounts, replies) if r.accepted)
            assert {outcome(r) for r in replies} <= {"accepted", "InsufficientFunds"}
            events = await savings_events(bootstrap, node, account_id)
            withdrawn = [e for e in events if isinstance(e, s.FundsWithdrawn)]
            assert sum(e.amount.amount for e in withdrawn) == accepted, round_
            assert min(e.balance.amount for e in withdrawn) >= 0
            assert withdrawn[-1].balance.amount == 1000 - accepted
            assert len(withdrawn) == sum(r.accepted for r in replies)  # one outcome each
            retried = await client.send(s.WithdrawFunds(account_id=account_id,
                                                        amount=Money(amounts[7], "EUR")),
                                        account_id, command_id=ids[7])
            assert retried.raw == replies[7].raw  # a retry returns the same outcome
        assert first.snapshots.written + second.snapshots.written > 0


async def test_rosa_sends_200_euros_to_her_mothers_dollar_account_at_home(world):
    node, bootstrap, client, keys = world
    async with running(node, bootstrap, keys, savings()):
        madrid = await register_cooperative(client)
        quito = await register_cooperative(client, currency="USD", country="EC")
        rosa = await member_of(client, keys, madrid)
        mother = await member_of(client, keys, quito, "USD")
        rosas = await account(client, rosa, madrid, deposit=50000)
        mothers = await account(client, mother, quito, "USD")
        remittance = new_id()
        sent = await client.send(s.SendRemittance(
            account_id=rosas, remittance_id=remittance, amount=Money(20000, "EUR"),
            to=s.Beneficiary(account_id=mothers)), rosas)
        assert sent.accepted, sent.payload
        delivered = await wait_for_event(bootstrap, node, rosas, s.RemittanceDelivered)
    [sent_event] = [e for e in await savings_events(bootstrap, node, rosas)
                    if isinstance(e, s.RemittanceSent)]
    assert (sent_event.amount, sent_event.fee, sent_event.rate) == (
        Money(20000, "EUR"), Money(350, "EUR"), "1.0842")
    assert sent_event.received == Money(21684, "USD") and sent_event.corridor == "ES-EC"
    assert sent_event.balance == Money(50000 - 20350, "EUR")
    assert delivered.remittance_id == remittance
    [received] = [e for e in await savings_events(bootstrap, node, mothers)
                  if isinstance(e, s.RemittanceReceived)]
    assert received.amount == Money(21684, "USD") and received.balance == Money(21684, "USD")


async def wait_for_event(bootstrap, node, account_id, kind, timeout: float = 30):
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        found = [e for e in await savings_events(bootstrap, node, account_id)
                 if isinstance(e, kind)]
        if found:
            return found[-1]
        await asyncio.sleep(0.3)
    raise AssertionError(f"no {kind.__name__} on {account_id} in {timeout} s")


async def test_a_failed_delivery_is_refunded_exactly_once_across_kill_9(world, tmp_path):
    """The service that saw the delivery fail dies before refunding; the next one refunds;
    killing that one too (kill -9) and starting again refunds nothing twice."""
    node, bootstrap, client, keys = world
    madrid = await register_cooperative(client)
    rosa = await member_of(client, keys, madrid)
    async with running(node, bootstrap, keys, savings(courier=False)):
        rosas = await account(client, rosa, madrid, deposit=50000)
        target = await account(client, rosa, madrid)
        remittance = new_id()
        sent = await client.send(s.SendRemittance(
            account_id=rosas, remittance_id=remittance, amount=Money(20000, "EUR"),
            to=s.Beneficiary(account_id=target)), rosas)
        assert sent.accepted, sent.payload
        assert (await client.send(s.CloseAccount(account_id=target), target)).accepted
        # the courier's first step, exactly as it sends it: refused, the account is closed
        failed = await client.send(s.ReceiveRemittance(
            account_id=target, remittance_id=remittance, from_account_id=rosas,
            amount=Money(20000, "EUR")), target, command_id=f"{rosas}/{remittance}/deliver")
        assert outcome(failed) == "AccountClosed"
        # ... and this service is gone before it refunds anything
    first = ServiceProcess(node, bootstrap, tmp_path / "savings-1.log", service="savings")
    try:
        refunded = await wait_for_event(bootstrap, node, rosas, s.RemittanceRefunded, 60)
    finally:
        first.kill()
    second = ServiceProcess(node, bootstrap, tmp_path / "savings-2.log", service="savings")
    try:
        probe = await client.send(s.DepositFunds(account_id=rosas, amount=Money(1, "EUR")),
                                  rosas, timeout=60)  # it rebuilt and serves
        assert probe.accepted
        await asyncio.sleep(6)  # longer than a courier sweep
    finally:
        second.terminate()
    events = await savings_events(bootstrap, node, rosas)
    [sent_event] = [e for e in events if isinstance(e, s.RemittanceSent)]
    refunds = [e for e in events if isinstance(e, s.RemittanceRefunded)]
    assert refunds == [refunded]
    assert refunded.amount.amount == sent_event.amount.amount + sent_event.fee.amount
    assert "AccountClosed" in refunded.reason
    assert not [e for e in events if isinstance(e, s.RemittanceDelivered)]
    assert events[-1].balance == Money(50000 + 1, "EUR")  # whole again, plus the probe
    assert not [e for e in await savings_events(bootstrap, node, target)
                if isinstance(e, s.RemittanceReceived)]


async def test_a_loan_of_twelve_instalments_ten_on_time_two_late_closes_at_the_last(world):
    node, bootstrap, client, keys = world
    async with running(node, bootstrap, keys, savings()) as processor:
        madrid = await register_cooperative(client)
        rosa = await member_of(client, keys, madrid)
        loan = await account(client, rosa, madrid, product=s.Product.LOAN)
        first_due = dt.date.today() + dt.timedelta(days=40)
        disbursed = await client.send(s.DisburseLoan(
            account_id=loan, principal=Money(120000, "EUR"), annual_rate="0.12",
            term_months=12, first_due_on=first_due), loan)
        assert disbursed.accepted, disbursed.payload
        [loan_event] = [e for e in await savings_events(bootstrap, node, loan)
                        if isinstance(e, s.LoanDisbursed)]
        late = {3: 12, 11: 30}

        async def sent_at(time: dt.datetime, command):
            command_id = new_id()
            raw = client.encode(command, loan, command_id, time=time)
            return await client.send_raw("savings", loan, command_id, raw)

        for instalment in loan_event.schedule:
            paid_on = instalment.due_on + dt.timedelta(days=late.get(instalment.number, 0))
            # a repayment is recorded once paid: the service's clock moves to that day, and
            # so does the sender's (a command more than a week older than the service's
            # clock would be refused: CommandOutOfTime)
            processor.clock = functools.partial(dt.datetime.combine, paid_on, dt.time(12),
                                                dt.UTC)
            reply = await sent_at(processor.clock(), s.RecordRepayment(
                account_id=loan, amount=instalment.total, paid_on=paid_on))
            assert reply.accepted, reply.payload
        closing = await sent_at(processor.clock(), s.CloseAccount(account_id=loan))
    repayments = [e for e in await savings_events(bootstrap, node, loan)
                  if isinstance(e, s.LoanRepaymentRecorded)]
    assert [(e.instalment, e.timing) for e in repayments] == [
        (n, s.Timing.LATE if n in late else s.Timing.ON_TIME) for n in range(1, 13)]
    assert [e.loan_closed for e in repayments] == [False] * 11 + [True]
    assert closing.accepted


async def test_money_for_someone_who_is_no_longer_a_member_is_refused(world):
    node, bootstrap, client, keys = world
    async with running(node, bootstrap, keys, savings()):
        madrid = await register_cooperative(client)
        rosa = await member_of(client, keys, madrid)
        rosas = await account(client, rosa, madrid, deposit=1000)
        left = await client.send(m.EndMembership(
            member_id=rosa, cooperative_id=madrid, reason=m.EndReason.RETURNED_HOME,
            ended_on=dt.date(2026, 9, 30)), rosa)
        assert left.accepted
        deposit = await client.send(s.DepositFunds(account_id=rosas,
                                                   amount=Money(500, "EUR")), rosas)
        withdrawal = await client.send(s.WithdrawFunds(account_id=rosas,
                                                       amount=Money(1000, "EUR")), rosas)
    assert outcome(deposit) == "NotAMember"
    assert "no active membership" in deposit.payload.error.message
    assert withdrawal.accepted  # her savings are still hers
