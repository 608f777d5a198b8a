"""A membership world for integration tests: a node's topics, its service, a client, keys.

``running(...)`` runs a membership processor in this event loop until the block ends;
``ServiceProcess`` runs one as a real process (for kill -9); the story helpers register
Rosa's cooperative and Rosa herself through the commands topic, as any sender would.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import signal
import subprocess
import sys
from collections import Counter, defaultdict
from collections.abc import AsyncIterator

import msgspec

from deploy.node import SERVICES as NODE_SERVICES
from schemas import REGISTRY
from schemas import membership as m
from schemas.fields import Money
from schemas.runtime import CommandRejected
from schemas.topics import events_topic
from services.membership.app import membership_processor
from services.runtime import kafka_clients
from services.runtime.client import CommandClient, Reply
from services.runtime.datakeys import DataKeys
from services.runtime.ids import new_id
from services.runtime.processor import CommandProcessor

ROSA_DETAILS = m.PersonalDetails(
    given_names="Rosa Elvira", family_names="Quispe Yupanqui", date_of_birth=dt.date(1988, 4, 17),
    nationality="EC", gender=m.Gender.FEMALE, preferred_languages=["es-EC"],
    contact="rosa.quispe@example.org")


@contextlib.asynccontextmanager
async def running(node: str, bootstrap: str, keys: DataKeys,
                  factory=membership_processor) -> AsyncIterator[CommandProcessor]:
    """A service's processor in this loop (membership unless ``factory`` says otherwise),
    ready (partitions rebuilt) when the block starts."""
    processor = factory(node, bootstrap, keys)
    task = asyncio.create_task(processor.run())
    ready = asyncio.create_task(processor.ready.wait())
    done, _ = await asyncio.wait({task, ready}, timeout=60, return_when=asyncio.FIRST_COMPLETED)
    if task in done:
        task.result()  # raises why it stopped
    assert ready in done, "the processor did not become ready in 60 s"
    try:
        yield processor
    finally:
        processor.stop()
        await asyncio.wait_for(task, 60)


async def share_the_partitions(first: CommandProcessor, second: CommandProcessor,
                               partitions: int = 4) -> None:
    """Wait until two instances of a service have split the partitions between them."""
    for _ in range(100):
        if first.logs and second.logs and len(first.logs) + len(second.logs) == partitions:
            return
        await asyncio.sleep(0.1)
    raise AssertionError("both instances must own partitions")


class ServiceProcess:
    """``python -m services.<service>`` as a real process of its own."""

    def __init__(self, node: str, bootstrap: str, log_path, service: str = "membership"):
        env = dict(os.environ, COOPBRIDGE_NODE=node, KAFKA_BOOTSTRAP_SERVERS=bootstrap)
        self.log = open(log_path, "ab")
        self.proc = subprocess.Popen([sys.executable, "-m", NODE_SERVICES[service][1]], env=env,
                                     stdout=self.log, stderr=subprocess.STDOUT)

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def terminate(self) -> int:
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            return self.proc.wait(60)
        finally:
            self.log.close()


async def register_cooperative(client: CommandClient, cooperative_id: str | None = None,
                               currency: str = "EUR", timeout: float = 30,
                               country: str = "ES",
                               kind: m.CooperativeKind = m.CooperativeKind.SAVINGS_AND_CREDIT
                               ) -> str:
    cooperative_id = cooperative_id or new_id()
    reply = await client.send(m.RegisterCooperative(
        cooperative_id=cooperative_id, name="Ahorro Solidario", country=country,
        kind=kind, languages=["es-ES"], node=client.node,
        currency=currency, share_price=Money(5000, currency)), cooperative_id, timeout=timeout)
    assert reply.accepted, reply.payload
    return cooperative_id


async def register_member(client: CommandClient, keys: DataKeys, member_id: str | None = None,
                          details: m.PersonalDetails = ROSA_DETAILS) -> str:
    member_id = member_id or new_id()
    sealed = await keys.seal(member_id, msgspec.json.encode(details))
    reply = await client.send(m.RegisterMember(member_id=member_id, personal=sealed), member_id)
    assert reply.accepted, reply.payload
    return member_id


def joins(member_id: str, cooperative_id: str, on=dt.date(2019, 5, 6)) -> m.StartMembership:
    return m.StartMembership(member_id=member_id, cooperative_id=cooperative_id, started_on=on,
                             share_capital_required=Money(5000, "EUR"))


async def read_events(bootstrap: str, node: str) -> list:
    """Every record of the node's membership events topic, from the earliest offset."""
    return await kafka_clients.read_topic(events_topic(node, "membership"), bootstrap)


def audit(records: list) -> dict:
    """What the log says: events per command, rejections per command, sequences per aggregate."""
    events_by_command: dict[str, list] = defaultdict(list)
    rejections: Counter = Counter()
    sequences: dict[str, list[int]] = defaultdict(list)
    for record in records:
        envelope, payload = REGISTRY.decode(record.value)
        if isinstance(payload, CommandRejected):
            rejections[payload.command_id] += 1
            continue
        events_by_command[envelope.causationid].append(payload)
        sequences[envelope.subject].append(envelope.sequence)
    return {"events": events_by_command, "rejections": rejections, "sequences": sequences}


def outcome(reply: Reply) -> str:
    return "accepted" if reply.accepted else reply.code

