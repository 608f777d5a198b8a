"""Hostile messages: every commands and events topic of a fresh node gets garbage while good
traffic flows, and nothing good is lost, doubled or blocked.

Into each of the twelve topics
(``{node}.{membership,savings,training,governance,insurance,placement}.
{commands,events}``) go bytes that are not JSON, JSON that is not an envelope, an unknown wire type, a future version
of a known type, a ``data`` with its required fields missing, a ``data`` with a float where
the contract wants an integer (money where the service has money), and a message bigger than
the registry's limit (gzip-compressed, so the broker takes it); then exact copies of good
commands and good events. Meanwhile the six services take real commands and the gateway's
projections fold the events.

Then: every bad record is in ``{node}.deadletter`` with the right reason and its source
topic, partition and offset, every letter of it naming the same reason (letters are at least
once: a batch decided again after a rebuild letters its bad commands again); a bad
command whose envelope is readable was also answered (``UnsupportedCommand`` /
``ValidationError``); a repeated command gets the same reply bytes and no second event; a
repeated event changes no view (views equal those of a replica folded afresh at the end);
every good command was answered once and the balances are what the deposits add up to; no
processor and no projection stopped.

A future version in an *events* topic is different by design (docs/runtime.md: "a rebuild
... stops at an event of a newer version than the service reads"): every processor reads the
membership events for its lookups, so it is injected once, after the runs, where the
gateway must dead-letter it and a processor must refuse to start on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import os
import time
from collections import Counter, defaultdict
from dataclasses import dataclass

import pytest

from deploy.topics import ensure_node_topics
from gateway.projections import Projections
from schemas import REGISTRY
from schemas import governance as g
from schemas import insurance as i
from schemas import membership as m
from schemas import placement as p
from schemas import savings as s
from schemas import training as t
from schemas.fields import Money
from schemas.registry import MAX_MESSAGE_BYTES
from schemas.runtime import CommandRejected
from schemas.topics import SERVICES, commands_topic, deadletter_topic, events_topic, replies_topic
from services.governance.app import governance_processor
from services.insurance.app import insurance_processor
from services.membership.app import membership_processor
from services.placement.app import placement_processor
from services.runtime import kafka_clients
from services.runtime.client import CommandClient
from services.runtime.datakeys import DataKeys
from services.runtime.deadletter import read_letter
from services.runtime.ids import new_id
from services.runtime.reading import UnreadableLog
from services.savings.app import savings_processor
from services.training.app import training_processor
from tests.chaos.figures import record, runs
from tests.integration.membership_world import (
    joins,
    register_cooperative,
    register_member,
    running,
)

pytestmark = pytest.mark.kafka

# each run injects every kind of bad record into every topic again (about 40 a run); ten runs
# keep make chaos under its 45 minutes
RUNS_AT_MOST = 10

FACTORIES = {"membership": membership_processor, "savings": savings_processor,
             "training": training_processor, "governance": governance_processor,
             "insurance": insurance_processor, "placement": placement_processor}
#: The reply code a readable but refused command gets, by dead-letter reason.
REPLY_CODES = {"unknown_type": "UnsupportedCommand", "future_version": "UnsupportedCommand",
               "invalid_data": "ValidationError"}


@dataclass
class Injected:
    """One hostile record as the broker placed it, and what a reader must call it."""

    topic: str
    partition: int
    offset: int
    reason: str
    command_id: str | None = None  # a command with a readable envelope: it must be answered
    field: str | None = None  # the field the dead letter's detail must name


@contextlib.asynccontextmanager
async def services(node: str, bootstrap: str, keys: DataKeys):
    """The three processors in this loop, ready; yields their tasks (to see they still run)
    and, under ``"stop"``, a coroutine function that stops them."""
    processors = {name: factory(node, bootstrap, keys) for name, factory in FACTORIES.items()}
    tasks = {name: asyncio.create_task(p.run()) for name, p in processors.items()}
    runs_ = list(tasks.values())

    async def stop() -> None:
        for processor in processors.values():
            processor.stop()
        await asyncio.wait_for(asyncio.gather(*runs_, return_exceptions=True), 60)

    tasks["stop"] = stop
    try:
        for name, processor in processors.items():
            ready = asyncio.create_task(processor.ready.wait())
            done, _ = await asyncio.wait({tasks[name], ready}, timeout=60,
                                         return_when=asyncio.FIRST_COMPLETED)
            if tasks[name] in done:
                tasks[name].result()
            assert ready in done, f"the {name} processor did not become ready in 60 s"
        yield tasks
    finally:
        await stop()


def envelope_of(raw: bytes) -> dict:
    return json.loads(raw)


def variant(template: bytes, **changes) -> tuple[bytes, str, str]:
    """A copy of a good message with a fresh id and subject and ``changes`` applied to the
    envelope; returns (bytes, id, subject)."""
    doc = envelope_of(template)
    doc.update(id=new_id(), subject=new_id(), causationid=None, correlationid=None)
    doc["partitionkey"] = doc["subject"]
    doc = {k: v for k, v in doc.items() if v is not None}
    doc.update(changes)
    return json.dumps(doc).encode(), doc["id"], doc["subject"]


def with_float(data: dict) -> tuple[dict, str]:
    """``data`` with its first money amount (else its first integer) made a float."""
    for name, value in data.items():
        if isinstance(value, dict) and isinstance(value.get("amount"), int):
            return {**data, name: {**value, "amount": value["amount"] + 0.5}}, name
    for name, value in data.items():
        if isinstance(value, int) and not isinstance(value, bool):
            return {**data, name: value + 0.5}, name
    raise AssertionError("no integer to spoil")


def hostile(template: bytes, future: bool = True) -> list[tuple[bytes, str, str | None, str | None]]:
    """(bytes, reason, id if the envelope is readable, field named) of every kind of hostile
    message derived from one good message of a service."""
    doc = envelope_of(template)
    service, name = doc["type"].split(".")[1:3]
    floated, field = with_float(doc["data"])
    kinds = [
        (b"\xff\xfe garbage " + os.urandom(48), "invalid_json", False, None),
        (json.dumps({"hello": "world", "amount": 1}).encode(), "invalid_envelope", False, None),
        (variant(template, type=f"coop.{service}.Hostile.v1"), "unknown_type", True, None),
        (variant(template, data={}), "invalid_data", True, None),
        (variant(template, data=floated), "invalid_data", True, field),
        (b'{"specversion": "1.0", "pad": "' + b"x" * (MAX_MESSAGE_BYTES + 1000) + b'"}',
         "too_large", False, None),
    ]
    if future:
        kinds.append((variant(template, type=f"coop.{service}.{name}.v9"), "future_version",
                      True, None))
    out = []
    for value, reason, readable, named in kinds:
        if isinstance(value, tuple):
            value, message_id, _ = value
        else:
            message_id = None
        out.append((value, reason, message_id if readable else None, named))
    return out


class Injector:
    """Writes hostile records like any producer could (gzip, so that the oversized one fits
    under the broker's ``max.message.bytes`` while being over the registry's limit)."""

    def __init__(self, bootstrap: str):
        self.producer = kafka_clients.producer(bootstrap, compression_type="gzip",
                                               max_request_size=4 * MAX_MESSAGE_BYTES)
        self.injected: list[Injected] = []

    async def inject(self, topic: str, template: bytes, *, commands: bool,
                     future: bool = True) -> None:
        for value, reason, message_id, field in hostile(template, future):
            key = envelope_of(value)["subject"].encode() if message_id else new_id().encode()
            meta = await self.producer.send_and_wait(topic, value=value, key=key)
            self.injected.append(Injected(topic, meta.partition, meta.offset, reason,
                                          message_id if commands else None, field))
            await asyncio.sleep(0.01)  # interleaved with the good traffic

    async def inject_future(self, topic: str, template: bytes) -> None:
        """A newer version of a good message's type (for an events topic, after the runs)."""
        doc = envelope_of(template)
        service, name = doc["type"].split(".")[1:3]
        value, _, subject = variant(template, type=f"coop.{service}.{name}.v9")
        meta = await self.producer.send_and_wait(topic, value=value, key=subject.encode())
        self.injected.append(Injected(topic, meta.partition, meta.offset, "future_version"))

    async def copy(self, record) -> None:
        """The exact bytes of a record, again, to its partition."""
        await self.producer.send_and_wait(record.topic, value=record.value, key=record.key,
                                          partition=record.partition)


def last_event(records: list, subject: str, name: str):
    found = [r for r in records if r.key == subject.encode()
             and envelope_of(r.value)["type"].split(".")[2] == name]
    return found[-1]


async def caught_up(views: Projections, node: str, reply) -> None:
    service = reply.payload.command_type.split(".")[1]
    refs = [(events_topic(node, service), reply.payload.aggregate_id, e.sequence)
            for e in reply.payload.events]
    assert await views.wait_for(refs, timeout=30), "the views did not catch up"


async def test_hostile_records_are_dead_lettered_and_good_traffic_is_untouched(
        kafka_bootstrap, node_id, tmp_path):
    node, bootstrap = node_id, kafka_bootstrap
    ensure_node_topics(node, bootstrap)
    injector = Injector(bootstrap)
    await injector.producer.start()
    figures = Counter()
    good: dict[str, str] = {}  # command id -> "accepted" expected
    accounts: dict[str, int] = {}  # account id -> the balance the good deposits imply
    courses: dict[str, int] = {}  # course id -> learners enrolled
    started = time.monotonic()
    try:
        async with DataKeys(node, bootstrap) as keys, \
                CommandClient(node, bootstrap) as client, \
                services(node, bootstrap, keys) as tasks, \
                Projections(node, bootstrap, data_dir=tmp_path / "views",
                            replica="1") as views:
            await views.ready(timeout=30)

            async def send(command, aggregate_id: str):
                reply = await client.send(command, aggregate_id, timeout=60)
                good[reply.payload.command_id] = "accepted"
                assert reply.accepted, reply.payload
                figures["acknowledged"] += 1
                return reply

            for _ in range(runs(at_most=RUNS_AT_MOST)):
                # -- before the garbage: an aggregate of every service
                cooperative = await register_cooperative(client)
                rosa = await register_member(client, keys)
                joined = client.encode(joins(rosa, cooperative), rosa, new_id())
                first = await client.send_raw("membership", rosa, envelope_of(joined)["id"],
                                              joined)
                assert first.accepted
                good[first.payload.command_id] = "accepted"
                figures["acknowledged"] += 1
                account, course = new_id(), new_id()
                await send(s.OpenAccount(account_id=account, member_id=rosa,
                                         cooperative_id=cooperative, product=s.Product.SAVINGS,
                                         currency="EUR"), account)
                offer = t.OfferCourse(
                    course_id=course, cooperative_id=cooperative,
                    titles=[t.Title(language="es-ES", title="Guía turística")],
                    kind=t.CourseKind.LANGUAGE, language_taught="es-ES",
                    target_level=t.Cefr.B1, hours=80, starts_on=dt.date(2026, 3, 2),
                    ends_on=dt.date(2026, 6, 26), capacity=20)
                offered = await send(offer, course)
                bylaws = g.SetBylaws(cooperative_id=cooperative, general_notice_days=14,
                                     extraordinary_notice_days=7, max_proxies_per_holder=1,
                                     challenge_days=30)
                await send(bylaws, cooperative)
                insurer, product = await register_cooperative(
                    client, kind=m.CooperativeKind.INSURANCE), new_id()
                cover = i.OfferProduct(
                    product_id=product, cooperative_id=insurer, names={"es": "Repatriación"},
                    currency="EUR", repatriation_limit=Money(400_000, "EUR"),
                    monthly_benefit_cap=Money(30_000, "EUR"), premium=Money(1_500, "EUR"))
                await send(cover, product)
                floor = p.SetWageFloor(cooperative_id=cooperative, occupation="5",
                                       hourly=Money(900, "EUR"))
                await send(floor, cooperative)
                deposit = s.DepositFunds(account_id=account, amount=Money(1000, "EUR"))
                deposited = await send(deposit, account)
                await caught_up(views, node, deposited)
                await caught_up(views, node, offered)
                accounts[account] = 1000
                templates = {
                    "membership": joined,
                    "savings": client.encode(deposit, account, new_id()),
                    "training": client.encode(offer, course, new_id()),
                    "governance": client.encode(bylaws, cooperative, new_id()),
                    "insurance": client.encode(cover, product, new_id()),
                    "placement": client.encode(floor, cooperative, new_id()),
                }
                logs = {svc: await kafka_clients.read_topic(events_topic(node, svc), bootstrap)
                        for svc in SERVICES}
                event_templates = {
                    "membership": last_event(logs["membership"], rosa, "MembershipStarted").value,
                    "savings": last_event(logs["savings"], account, "FundsDeposited").value,
                    "training": last_event(logs["training"], course, "CourseOffered").value,
                    "governance": last_event(logs["governance"], cooperative,
                                             "BylawsSet").value,
                    "insurance": last_event(logs["insurance"], product,
                                            "ProductOffered").value,
                    "placement": last_event(logs["placement"], cooperative,
                                            "WageFloorSet").value,
                }

                # -- garbage into every topic while good commands flow
                async def garbage():
                    for svc in SERVICES:
                        await injector.inject(commands_topic(node, svc), templates[svc],
                                              commands=True)
                        await injector.inject(events_topic(node, svc), event_templates[svc],
                                              commands=False, future=False)

                async def traffic():
                    replies = []
                    for amount in (250, 40, 7, 1203, 500):
                        replies.append(await send(
                            s.DepositFunds(account_id=account, amount=Money(amount, "EUR")),
                            account))
                        accounts[account] += amount
                    lucia = await register_member(client, keys)
                    replies.append(await send(joins(lucia, cooperative), lucia))
                    replies.append(await send(t.EnrolLearner(course_id=course, member_id=rosa),
                                              course))
                    courses[course] = 1
                    return replies

                _, replies = await asyncio.gather(garbage(), traffic())

                # -- exact copies: a command again (same reply bytes, no second event) ...
                again = await client.send_raw("membership", rosa, envelope_of(joined)["id"],
                                              joined)
                assert again.raw == first.raw
                dep_raw = client.encode(s.DepositFunds(account_id=account,
                                                       amount=Money(99, "EUR")),
                                        account, new_id())
                dep_id = envelope_of(dep_raw)["id"]
                once = await client.send_raw("savings", account, dep_id, dep_raw)
                twice = await client.send_raw("savings", account, dep_id, dep_raw)
                assert once.accepted and twice.raw == once.raw
                good[dep_id] = "accepted"
                figures["acknowledged"] += 1
                accounts[account] += 99
                # ... and events again (the views must not count them twice)
                logs = {svc: await kafka_clients.read_topic(events_topic(node, svc), bootstrap)
                        for svc in SERVICES}
                duplicates_before = views.stats["duplicates"]
                for svc, subject, name in (("membership", rosa, "MembershipStarted"),
                                           ("savings", account, "FundsDeposited"),
                                           ("training", course, "LearnerEnrolled")):
                    await injector.copy(last_event(logs[svc], subject, name))

                # -- good traffic after it all: decided on the right state
                last = await send(s.DepositFunds(account_id=account, amount=Money(1, "EUR")),
                                  account)
                accounts[account] += 1
                await caught_up(views, node, last)
                for reply in replies:
                    await caught_up(views, node, reply)
                for _ in range(100):  # the copies sit before ``last`` only on its partition
                    if views.stats["duplicates"] - duplicates_before >= 3:
                        break
                    await asyncio.sleep(0.1)
                assert views.stats["duplicates"] - duplicates_before == 3
                balance = views.get("accounts", account).balance
                if balance != Money(accounts[account], "EUR"):
                    figures["violations"] += 1
                if views.get("courses", course).enrolled != courses[course]:
                    figures["violations"] += 1

            # -- nobody stopped
            assert not [name for name, task in tasks.items()
                        if name != "stop" and task.done()], "a processor stopped"
            assert views.failure is None
            elapsed = time.monotonic() - started

            # -- a future version in the events topics: the gateway sets it aside; the
            # processors (stopped first: their lookups read it too) refuse to start on it
            await tasks["stop"]()
            letters_before = views.stats["dead_lettered"]
            for svc in SERVICES:
                await injector.inject_future(events_topic(node, svc), event_templates[svc])
            for _ in range(150):
                if views.stats["dead_lettered"] - letters_before >= len(SERVICES):
                    break
                await asyncio.sleep(0.1)
            assert views.failure is None
            with pytest.raises(UnreadableLog):
                async with running(node, bootstrap, keys, training_processor):
                    pass
            gateway_views = {a: views.get("accounts", a).balance for a in accounts}
            gateway_courses = {c: views.get("courses", c).enrolled for c in courses}

        # -- the log: one event per good command, none for a repeat
        events_by_command: dict[str, set[str]] = defaultdict(set)  # exact copies count once
        for svc in SERVICES:
            for r in await kafka_clients.read_topic(events_topic(node, svc), bootstrap):
                try:
                    envelope, payload = REGISTRY.decode(r.value, kind="event")
                except Exception:  # noqa: BLE001 - the hostile records
                    continue
                if not isinstance(payload, CommandRejected):
                    events_by_command[envelope.causationid].add(envelope.id)
        for command_id in good:
            count = len(events_by_command.get(command_id, ()))
            if count == 0:
                figures["lost"] += 1
            figures["duplicated"] += max(0, count - 1)

        # -- a replica folded afresh sees what the running one saw
        async with Projections(node, bootstrap, data_dir=tmp_path / "fresh",
                               replica="fresh") as fresh:
            await fresh.ready(timeout=60)
            for a, balance in gateway_views.items():
                want = Money(accounts[a], "EUR")
                if not (balance == fresh.get("accounts", a).balance == want):
                    figures["violations"] += 1
            for c, enrolled in gateway_courses.items():
                if fresh.get("courses", c).enrolled != enrolled:
                    figures["violations"] += 1

        # -- every hostile record is in dead-letter, rightly named, where it came from
        letters = defaultdict(list)
        for r in await kafka_clients.read_topic(deadletter_topic(node), bootstrap):
            letter = read_letter(r.topic, r.key, r.value, r.headers)
            letters[(letter.source_topic, letter.partition, letter.offset)].append(letter)
        replies = {}
        for r in await kafka_clients.read_topic(replies_topic(node), bootstrap):
            payload = REGISTRY.decode(r.value, kind="reply").payload
            replies.setdefault(payload.command_id, []).append(payload)
        missing = []
        repeated_letters = 0
        for bad in injector.injected:
            found = letters.get((bad.topic, bad.partition, bad.offset), [])
            # at least once: a batch decided again after a rebuild (the foreign records in
            # the events partition moved the offsets its writes landed at) dead-letters its
            # bad commands again, and every gateway replica letters what it cannot read
            right = (found and all(x.reason == bad.reason for x in found)
                     and (bad.field is None or bad.field in found[0].detail))
            if bad.topic.endswith(".commands"):
                repeated_letters += max(0, len(found) - 1)
            if bad.command_id is not None:
                answered = replies.get(bad.command_id, [])
                right = right and answered and all(
                    p.error is not None and p.error.code == REPLY_CODES[bad.reason]
                    for p in answered)
            if not right:
                missing.append((bad, [(x.reason, x.detail) for x in found]))
        figures["violations"] += len(missing)
    finally:
        await injector.producer.stop()

    record("hostile messages", runs=runs(at_most=RUNS_AT_MOST), malformed=len(injector.injected),
           acknowledged=figures["acknowledged"], lost=figures["lost"],
           duplicated=figures["duplicated"], violations=figures["violations"])
    print(f"hostile messages: {len(injector.injected)} injected, {dict(figures)}, "
          f"{repeated_letters} command letters repeated, {elapsed:.1f} s")
    assert not missing, missing
    assert figures["lost"] == figures["duplicated"] == figures["violations"] == 0, figures
