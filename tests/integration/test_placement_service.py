"""The placement service on the real broker (issue 26): two instances of it share the
partitions, fifty job orders of overlapping hours are offered to one worker, and she accepts
all fifty at once: exactly one is accepted and confirmed, the placer carries it to the job
order, and a settlement of it credits her savings account with the whole wage, once."""

from __future__ import annotations

import asyncio
import datetime as dt

import msgspec
import pytest

from schemas import REGISTRY
from schemas import membership as m
from schemas import placement as p
from schemas import savings as s
from schemas.fields import Money
from schemas.topics import events_topic
from services.placement.app import placement_processor
from services.placement.domain import margin_for, wage_for
from services.runtime import clock, kafka_clients
from services.runtime.ids import new_id
from services.savings.app import savings_processor
from tests.integration.membership_world import (
    register_cooperative,
    register_member,
    running,
    share_the_partitions,
)
from tests.integration.test_insurance_service import until

pytestmark = pytest.mark.kafka


def usd(amount: int) -> Money:
    return Money(amount, "USD")


async def events_of(bootstrap: str, node: str, service: str) -> list:
    records = await kafka_clients.read_topic(events_topic(node, service), bootstrap)
    return [message.payload for message in (REGISTRY.decode(r.value) for r in records)
            if message.envelope.sequence is not None]


async def test_fifty_overlapping_offers_across_two_instances_confirm_one(node, tmp_path,
                                                                         monkeypatch):
    node_id, bootstrap, client, keys = node
    moved = tmp_path / "clock"
    monkeypatch.setenv(clock.VARIABLE, str(moved))

    async def send(command):
        reply = await client.send(command, REGISTRY.key_of(command), timeout=60)
        assert reply.accepted, reply.payload
        return reply

    async with running(node_id, bootstrap, keys), \
            running(node_id, bootstrap, keys, savings_processor), \
            running(node_id, bootstrap, keys, placement_processor) as first, \
            running(node_id, bootstrap, keys, placement_processor) as second:
        await share_the_partitions(first, second)
        coop = await register_cooperative(client, currency="USD", country="US",
                                          kind=m.CooperativeKind.WORKER)
        rosa, account, employer = await register_member(client, keys), new_id(), new_id()
        await send(m.StartMembership(member_id=rosa, cooperative_id=coop,
                                     started_on=dt.date(2024, 1, 8),
                                     share_capital_required=usd(0)))
        await send(s.OpenAccount(account_id=account, member_id=rosa, cooperative_id=coop,
                                 product=s.Product.SAVINGS, currency="USD"))
        details = await keys.seal(p.employer_key_owner(employer), msgspec.json.encode(
            p.EmployerDetails(name="Familia Ortega", address="12 Elm St, Oakland")))
        await send(p.RegisterEmployer(employer_id=employer, cooperative_id=coop,
                                      details=details))
        await send(p.SetWageFloor(cooperative_id=coop, occupation="53", hourly=usd(2_000)))
        monday = (clock.now() + dt.timedelta(days=7)).replace(
            hour=8, minute=0, second=0, microsecond=0)
        jobs = [new_id() for _ in range(50)]
        for n, job in enumerate(jobs):  # all fifty overlap Monday 12:00-13:00
            start = monday + dt.timedelta(minutes=n)
            await send(p.PostJobOrder(
                job_order_id=job, cooperative_id=coop, employer_id=employer,
                occupation="5311", country="US", locality="Oakland, CA",
                shifts=[p.Shift(starts_at=start, ends_at=start + dt.timedelta(hours=5))],
                wage=usd(2_500), margin=usd(300), terms_sha256="ab" * 32))
            await send(p.OfferJob(job_order_id=job, member_id=rosa))

        # (each instance folds what was acknowledged before a command it decides: the
        # offers, whichever instance wrote them)
        replies = await asyncio.gather(*(client.send(
            p.AcceptOffer(member_id=rosa, job_order_id=job, account_id=account), rosa,
            timeout=60) for job in jobs))
        codes = sorted("accepted" if r.accepted else r.code for r in replies)
        assert codes == ["ShiftsOverlap"] * 49 + ["accepted"]
        [chosen] = [job for job, reply in zip(jobs, replies, strict=True) if reply.accepted]

        async def confirmed():
            found = [e for e in await events_of(bootstrap, node_id, "placement")
                     if isinstance(e, p.PlacementConfirmed | p.BookingConfirmed)]
            return found if len(found) == 2 else None
        placement, booking = sorted(await until(confirmed), key=lambda e: type(e).__name__,
                                    reverse=True)
        assert (placement.job_order_id, placement.member_id) == (chosen, rosa)
        assert booking.job_order_id == chosen

        # her wage, whole, once: the day worked comes, the employer pays wage and margin
        clock.moved_by(moved, (monday + dt.timedelta(days=1) - clock.now()).total_seconds())
        minutes, day = 5 * 60, monday.date()
        owed = wage_for(usd(2_500), minutes).amount + margin_for(usd(300), minutes).amount
        short = await client.send(p.SettleWages(
            job_order_id=chosen, settlement_id=new_id(), worked_from=day, worked_to=day,
            minutes=minutes, employer_paid=usd(owed - 1)), chosen)
        assert short.code == "RecruitmentFeeForbidden"
        settlement = new_id()
        await send(p.SettleWages(job_order_id=chosen, settlement_id=settlement,
                                 worked_from=day, worked_to=day, minutes=minutes,
                                 employer_paid=usd(owed)))

        async def paid():
            events = await events_of(bootstrap, node_id, "placement")
            return [e for e in events if isinstance(e, p.WagePaid)] or None
        [wage_paid] = await until(paid)
        assert wage_paid.amount == usd(12_500) and wage_paid.account_id == account
    received = [e for e in await events_of(bootstrap, node_id, "savings")
                if isinstance(e, s.WageReceived)]
    assert [(e.account_id, e.settlement_id, e.amount) for e in received] == [
        (account, settlement, usd(12_500))]
    assert received[0].balance == usd(12_500)
