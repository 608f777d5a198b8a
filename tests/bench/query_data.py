"""Members with a record of exactly N history items, written straight to a node's events topics.

The events are decided by the real deciders (``tests.unit.inmemory_node.LocalCommands``: the
services' own ``decide``/``evolve`` and lookups, one partition, no broker), so every one is a
valid event that continues its aggregate's chain; they are then produced, in decision order,
to ``{node}.{service}.events`` keyed by their aggregate, as the command processors would have
written them. Personal details are sealed with the node's real data keys (``DataKeys``: the
key goes to ``{node}.datakeys``), so the gateway opens them as it would any member's.

Each member's timeline: registered, became a member, opened a savings account, deposited,
enrolled in a course, completed it, was awarded a certificate (7 items), then a repeating
month: sent a remittance to her mother's account at home, the remittance was delivered,
deposited again, until the timeline has exactly N items. Her record therefore grows with N:
about a third of the items are remittances listed on her account.
"""

from __future__ import annotations

import datetime as dt
import itertools
import sys

import msgspec

from gateway.auth import Caller, Role
from gateway.listeners import Listeners
from schemas import REGISTRY
from schemas import membership as m
from schemas import savings as s
from schemas import training as t
from schemas.envelope import source_for
from schemas.fields import Money
from schemas.topics import events_topic
from services.runtime import kafka_clients
from services.runtime.datakeys import DataKeys
from services.runtime.ids import new_id
from tests.unit.inmemory_node import LocalCommands, LocalViews

BASE_ITEMS = 7  # registered … certificate, before the first remittance
PERSON = m.PersonalDetails(given_names="Rosa Elvira", family_names="Quispe Yupanqui",
                           date_of_birth=dt.date(1988, 4, 17), nationality="EC",
                           preferred_languages=["es-EC"], contact="rosa@example.org")


class RecordMaker:
    """Decide a small federation's events in memory; ``publish`` writes them to Kafka."""

    def __init__(self, node: str, keys: DataKeys):
        self.node, self.keys = node, keys
        ticks = itertools.count()
        start = dt.datetime(2026, 7, 1, 9, 0, tzinfo=dt.UTC)  # after the course it completes
        # every event decided, kept until ``publish``: a listener never too far behind
        self.views = LocalViews(Listeners(behind=sys.maxsize))
        self.commands = LocalCommands(
            self.views, keys, clock=lambda: start + dt.timedelta(minutes=next(ticks)))
        self._queue = self.views.listen(Caller("bench", Role.NODE_ADMIN))
        self.madrid = self.quito = self.course = self.mothers = ""

    async def _send(self, command, aggregate_id: str) -> None:
        reply = await self.commands.send(command, aggregate_id)
        if not reply.accepted:
            raise RuntimeError(f"{type(command).__name__} rejected: {reply.code}")

    async def _member(self, cooperative: str, currency: str) -> tuple[str, str]:
        member, account = new_id(), new_id()
        sealed = await self.keys.seal(member, msgspec.json.encode(PERSON))
        await self._send(m.RegisterMember(member_id=member, personal=sealed), member)
        await self._send(m.StartMembership(
            member_id=member, cooperative_id=cooperative, started_on=dt.date(2019, 5, 6),
            share_capital_required=Money(5000, currency)), member)
        await self._send(s.OpenAccount(account_id=account, member_id=member,
                                       cooperative_id=cooperative, product=s.Product.SAVINGS,
                                       currency=currency), account)
        return member, account

    async def federation(self) -> None:
        """Two cooperatives (Madrid, EUR; Quito, USD), a course, and the mother at home."""
        self.madrid, self.quito, self.course = new_id(), new_id(), new_id()
        for cid, name, country, currency in ((self.madrid, "Ahorro Solidario Madrid", "ES",
                                              "EUR"),
                                             (self.quito, "Cooperativa Andina", "EC", "USD")):
            await self._send(m.RegisterCooperative(
                cooperative_id=cid, name=name, country=country,
                kind=m.CooperativeKind.SAVINGS_AND_CREDIT, languages=["es"], node=self.node,
                currency=currency, share_price=Money(2500, currency)), cid)
        await self._send(t.OfferCourse(
            course_id=self.course, cooperative_id=self.madrid, kind=t.CourseKind.LANGUAGE,
            titles=[t.Title(language="es-ES", title="Español para el trabajo B1")],
            language_taught="es-ES", target_level=t.Cefr.B1, hours=80,
            starts_on=dt.date(2026, 1, 5), ends_on=dt.date(2026, 6, 26), capacity=10_000),
            self.course)
        _, self.mothers = await self._member(self.quito, "USD")

    async def member_with(self, items: int) -> str:
        """A member of Madrid whose timeline has exactly ``items`` entries (at least 7)."""
        if items < BASE_ITEMS:
            raise ValueError(f"a record here has at least {BASE_ITEMS} items")
        member, account = await self._member(self.madrid, "EUR")
        steps = [
            (s.DepositFunds(account_id=account, amount=Money(500_000, "EUR")), account),
            (t.EnrolLearner(course_id=self.course, member_id=member), self.course),
            (t.CompleteCourse(course_id=self.course, member_id=member, result=t.Result.PASSED,
                              score=84, level_attained=t.Cefr.B1,
                              completed_on=dt.date(2026, 6, 26)), self.course),
            (t.IssueCertificate(course_id=self.course, member_id=member,
                                certificate_id=new_id(), issued_on=dt.date(2026, 6, 30)),
             self.course),
        ]
        for command, aggregate in steps:
            await self._send(command, aggregate)
        for n in range(items - BASE_ITEMS):
            match n % 3:
                case 0:
                    remittance = new_id()
                    await self._send(s.SendRemittance(
                        account_id=account, remittance_id=remittance,
                        amount=Money(20_000, "EUR"), to=s.Beneficiary(account_id=self.mothers)),
                        account)
                case 1:  # the courier's two commands
                    sent = list(self.views.rows("remittances", account))[-1]
                    await self._send(s.ReceiveRemittance(
                        account_id=self.mothers, remittance_id=remittance,
                        from_account_id=account, amount=sent.received), self.mothers)
                    await self._send(s.ConfirmRemittanceDelivered(
                        account_id=account, remittance_id=remittance), account)
                case 2:
                    await self._send(s.DepositFunds(account_id=account,
                                                    amount=Money(25_000, "EUR")), account)
        history = sum(1 for _ in self.views.rows("timeline", member))
        if history != items:
            raise AssertionError(f"{history} history items, not {items}")
        return member

    async def publish(self, bootstrap: str) -> int:
        """Produce every event decided so far to the node's events topics; returns how many."""
        producer = kafka_clients.producer(bootstrap)
        await producer.start()
        count = 0
        try:
            while not self._queue.empty():
                _, (envelope, event) = self._queue.get_nowait()
                service = event.contract_service
                raw = REGISTRY.encode(
                    event, id=envelope.id, source=source_for(self.node, service),
                    subject=envelope.subject, time=envelope.time, sequence=envelope.sequence,
                    previousid=envelope.previousid, causationid=envelope.causationid,
                    correlationid=envelope.correlationid)
                await producer.send(events_topic(self.node, service), value=raw,
                                    key=envelope.subject.encode())
                count += 1
            await producer.flush()
        finally:
            await producer.stop()
        return count
