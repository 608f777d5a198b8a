"""Two nodes on the real broker, joined only by their federation relays: Rosa takes her
savings home from the host node to the home node, once, whatever crashes on the way; a
transfer the home node cannot take comes back whole; a forged transfer goes to dead-letter;
a relay finds a peer that comes up after it; the relay runs from the CLI and stops on SIGTERM.

Each node has its own signing key and trust list (``<COOPBRIDGE_HOME>/<node>.peers.json`` in
a temporary home); relays in this loop get their key passed in, relay processes get it in
``COOPBRIDGE_SIGNING_KEY``."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import secrets
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from deploy.topics import ensure_node_topics
from schemas import REGISTRY
from schemas import membership as m
from schemas import savings as s
from schemas.federation import SavingsTransferSent
from schemas.fields import Money
from schemas.topics import (
    commands_topic,
    deadletter_topic,
    federation_group,
    federation_topic,
)
from services import config
from services.relay.messages import open_message, sign_message
from services.relay.relay import Relay
from services.runtime import kafka_clients
from services.runtime.client import CommandClient
from services.runtime.datakeys import DataKeys
from services.runtime.deadletter import read_letter
from services.runtime.ids import new_id
from services.runtime.keys import b64url, jwks
from services.savings.app import savings_processor
from tests.integration.membership_world import (
    ServiceProcess,
    register_cooperative,
    register_member,
    running,
)
from tests.integration.test_savings_service import (
    account,
    member_of,
    savings_events,
    wait_for_event,
)

pytestmark = pytest.mark.kafka


@dataclass
class Node:
    """One node of the story: its id, client, data keys, signing key and trust list."""

    id: str
    client: CommandClient
    keys: DataKeys
    key: Ed25519PrivateKey
    peers_file: Path

    def relay(self, bootstrap: str) -> Relay:
        return Relay(self.id, bootstrap, peers=config.peers(self.id),
                               key=self.key, attempt_timeout=2)


@dataclass
class World:
    bootstrap: str
    host: Node  # Spain: where Rosa saved
    home: Node  # Ecuador: where she goes back
    rosa: str
    rosas_account: str  # EUR, at the host node
    her_account_at_home: str  # USD, at the home node


@contextlib.asynccontextmanager
async def serving(bootstrap: str, *nodes: Node, savings: bool = True):
    """The savings service (unless ``savings=False``) and the relay of each node, in this
    loop, ready (partitions assigned) when the block starts."""
    async with contextlib.AsyncExitStack() as stack:
        for node in nodes:
            if savings:
                await stack.enter_async_context(running(node.id, bootstrap, node.keys,
                                                        savings_processor))
            await stack.enter_async_context(running(
                node.id, bootstrap, node.keys, lambda *_, node=node: node.relay(bootstrap)))
        yield


@pytest.fixture
async def nodes(kafka_bootstrap, tmp_path, monkeypatch):
    """Two fresh nodes that trust each other, each with its membership service running."""
    async with contextlib.AsyncExitStack() as stack:
        ids = trusting_each_other(tmp_path, monkeypatch)
        yield kafka_bootstrap, *[await node_up(stack, kafka_bootstrap, tmp_path, node, key)
                                 for node, key in ids.items()]


def trusting_each_other(tmp_path, monkeypatch) -> dict[str, Ed25519PrivateKey]:
    """Two fresh node ids and their keys, each in the other's trust list in ``tmp_path``."""
    keys = {"t" + secrets.token_hex(4): Ed25519PrivateKey.generate() for _ in range(2)}
    for node, peer in (list(keys), list(keys)[::-1]):
        config.write_peers(tmp_path / f"{node}.peers.json", [
            config.Peer(peer, "http://127.0.0.1:8000", jwks(keys[peer].public_key()))])
    monkeypatch.setenv("COOPBRIDGE_HOME", str(tmp_path))  # where each node's trust list is
    return keys


async def node_up(stack: contextlib.AsyncExitStack, bootstrap: str, tmp_path, node: str,
                  key: Ed25519PrivateKey) -> Node:
    """A node's topics, data keys, client and membership service (until ``stack`` closes)."""
    ensure_node_topics(node, bootstrap)
    data_keys = await stack.enter_async_context(DataKeys(node, bootstrap))
    client = await stack.enter_async_context(CommandClient(node, bootstrap))
    await stack.enter_async_context(running(node, bootstrap, data_keys))
    return Node(node, client, data_keys, key, tmp_path / f"{node}.peers.json")


async def rosa_at_both(bootstrap: str, host: Node, home: Node) -> World:
    """Rosa with EUR 500 at the host node, and a dollar account at home (same member id).
    Both savings services must be running."""
    madrid = await register_cooperative(host.client)
    quito = await register_cooperative(home.client, currency="USD", country="EC")
    rosa = await member_of(host.client, host.keys, madrid)
    await register_member(home.client, home.keys, member_id=rosa)
    reply = await home.client.send(m.StartMembership(
        member_id=rosa, cooperative_id=quito, started_on=dt.date(2026, 5, 1),
        share_capital_required=Money(5000, "USD")), rosa)
    assert reply.accepted, reply.payload
    return World(bootstrap, host, home, rosa,
                 await account(host.client, rosa, madrid, deposit=50000),
                 await account(home.client, rosa, quito, "USD"))


async def send_home(world: World, amount: int = 20000, to_account: str | None = None) -> str:
    transfer = new_id()
    reply = await world.host.client.send(s.TransferSavingsHome(
        account_id=world.rosas_account, transfer_id=transfer, amount=Money(amount, "EUR"),
        to_node=world.home.id, to_account_id=to_account or world.her_account_at_home,
        to_currency="USD"), world.rosas_account)
    assert reply.accepted, reply.payload
    return transfer


async def of_transfer(world: World, node: Node, account_id: str, transfer: str,
                      kind: type) -> list:
    return [e for e in await savings_events(world.bootstrap, node.id, account_id)
            if isinstance(e, kind) and e.transfer_id == transfer]


async def test_rosa_takes_her_savings_home_and_they_arrive_once(nodes):
    bootstrap, host, home = nodes
    async with serving(bootstrap, host, home):
        world = await rosa_at_both(bootstrap, host, home)
        transfer = await send_home(world)
        delivered = await wait_for_event(bootstrap, host.id, world.rosas_account,
                                         s.SavingsTransferDelivered)
    assert delivered.transfer_id == transfer
    [sent] = await of_transfer(world, host, world.rosas_account, transfer, s.SavingsSentHome)
    assert sent.amount == Money(20000, "EUR") and sent.balance == Money(30000, "EUR")
    assert sent.to_node == home.id and sent.received.currency == "USD"
    [received] = await of_transfer(world, home, world.her_account_at_home, transfer,
                                   s.SavingsTransferReceived)
    assert received.amount == sent.received and received.balance == sent.received
    assert (received.from_node, received.from_account_id, received.member_id) == (
        host.id, world.rosas_account, world.rosa)


async def relayed_to_the_end(bootstrap: str, *nodes: Node, timeout: float = 60) -> None:
    """Until each node's relay has committed every record of its peers' federation topics
    (the other nodes') as read."""
    from kafka import KafkaAdminClient  # noqa: PLC0415

    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    probe = kafka_clients.offsets_probe(bootstrap)
    await probe.start()
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        for node in nodes:
            peers = [federation_topic(other.id) for other in nodes if other is not node]
            partitions = [tp for topic in peers
                          for tp in await kafka_clients.all_partitions(probe, topic)]
            ends = await probe.end_offsets(partitions)
            while True:
                group = federation_group(node.id)
                committed = admin.list_group_offsets({group: None}).get(group) or {}
                if all(committed.get(tp) and committed[tp].offset >= end
                       for tp, end in ends.items() if end):
                    break
                assert asyncio.get_running_loop().time() < deadline, \
                    f"the relay of {node.id} did not read its peers' topics to the end"
                await asyncio.sleep(0.3)
    finally:
        await probe.stop()
        admin.close()


async def copy_every_message(bootstrap: str, *nodes: Node) -> int:
    """Write every record of the nodes' federation topics again, byte for byte (as
    MirrorMaker 2 may copy them); how many."""
    producer = kafka_clients.producer(bootstrap)
    await producer.start()
    copied = 0
    try:
        for node in nodes:
            for record in await kafka_clients.read_topic(federation_topic(node.id), bootstrap):
                await kafka_clients.acknowledged(producer, record.topic, record.value,
                                                 key=record.key,
                                                 headers=list(record.headers or ()))
                copied += 1
    finally:
        await producer.stop()
    return copied


async def test_messages_copied_twice_as_mirror_maker_may_are_credited_and_settled_once(nodes):
    """MirrorMaker 2 copies at least once: a record of a node's federation topic can arrive
    in the peer's copy twice. Here every message of both federation topics (the transfer,
    its answer) is written again, byte for byte, after the transfer is delivered: the money
    is still credited once and settled once."""
    bootstrap, host, home = nodes
    async with serving(bootstrap, host, home):
        world = await rosa_at_both(bootstrap, host, home)
        transfer = await send_home(world)
        await wait_for_event(bootstrap, host.id, world.rosas_account,
                             s.SavingsTransferDelivered)
        assert await copy_every_message(bootstrap, host, home) >= 2  # transfer, answer
        await relayed_to_the_end(bootstrap, host, home)
    received = await of_transfer(world, home, world.her_account_at_home, transfer,
                                 s.SavingsTransferReceived)
    delivered = await of_transfer(world, host, world.rosas_account, transfer,
                                  s.SavingsTransferDelivered)
    assert len(received) == 1 and len(delivered) == 1
    [sent] = await of_transfer(world, host, world.rosas_account, transfer, s.SavingsSentHome)
    assert received[0].balance == sent.received  # credited once: her balance is one transfer


async def test_the_home_relay_finds_a_host_node_that_comes_up_after_it(
        kafka_bootstrap, tmp_path, monkeypatch):
    (host_id, host_key), (home_id, home_key) = trusting_each_other(tmp_path, monkeypatch).items()
    async with contextlib.AsyncExitStack() as stack:
        home = await node_up(stack, kafka_bootstrap, tmp_path, home_id, home_key)
        await stack.enter_async_context(serving(kafka_bootstrap, home))
        await asyncio.sleep(1)  # relaying, with no topic of the host node anywhere yet
        host = await node_up(stack, kafka_bootstrap, tmp_path, host_id, host_key)
        await stack.enter_async_context(serving(kafka_bootstrap, host))
        world = await rosa_at_both(kafka_bootstrap, host, home)
        transfer = await send_home(world)
        delivered = await wait_for_event(kafka_bootstrap, host.id, world.rosas_account,
                                         s.SavingsTransferDelivered)
    assert delivered.transfer_id == transfer


async def test_a_transfer_the_home_node_cannot_credit_comes_back_with_its_fee(nodes):
    bootstrap, host, home = nodes
    async with serving(bootstrap, host, home):
        world = await rosa_at_both(bootstrap, host, home)
        transfer = await send_home(world, to_account=new_id())  # no such account at home
        refunded = await wait_for_event(bootstrap, host.id, world.rosas_account,
                                        s.SavingsTransferRefunded)
    [sent] = await of_transfer(world, host, world.rosas_account, transfer, s.SavingsSentHome)
    assert sent.fee.amount > 0
    assert refunded.transfer_id == transfer and refunded.reason == "UnknownAccount"
    assert refunded.amount == Money(20000, "EUR")  # the fee was part of it: all comes back
    assert refunded.balance == Money(50000, "EUR")
    assert not await of_transfer(world, host, world.rosas_account, transfer,
                                 s.SavingsTransferDelivered)


async def test_a_forged_transfer_is_dead_lettered_and_the_next_one_goes_through(nodes):
    bootstrap, host, home = nodes
    async with serving(bootstrap, host, home):
        world = await rosa_at_both(bootstrap, host, home)
        forged_transfer = new_id()
        forged = sign_message(SavingsTransferSent(
            transfer_id=forged_transfer, member_id=world.rosa, from_node=host.id,
            from_account_id=world.rosas_account, to=home.id,
            to_account_id=world.her_account_at_home, amount=Money(1_000_000, "USD")),
            node=host.id, to=home.id, key=Ed25519PrivateKey.generate())
        await produce(bootstrap, federation_topic(host.id), forged_transfer, forged)
        letter = await wait_for_letter(bootstrap, home.id, forged)
        transfer = await send_home(world)
        await wait_for_event(bootstrap, host.id, world.rosas_account,
                             s.SavingsTransferDelivered)
    assert letter.reason == "bad_signature" and letter.source_topic == federation_topic(host.id)
    assert letter.key == forged_transfer.encode()
    credits = [e for e in await savings_events(bootstrap, home.id, world.her_account_at_home)
               if isinstance(e, s.SavingsTransferReceived)]
    assert [e.transfer_id for e in credits] == [transfer]


async def test_a_transfer_read_over_a_week_late_is_declined_never_credited(nodes):
    """The relay asks for a credit with the transfer's own time: a message read again more
    than a week after it was sent (a group whose offsets were lost), when the savings log no
    longer remembers what it decided, is refused (``CommandOutOfTime``) and answered
    declined, never credited; a decline left nothing in the account to refuse a second credit
    by (a reviewer found it credited once the outcomes were forgotten)."""
    bootstrap, host, home = nodes
    async with serving(bootstrap, host, home):
        world = await rosa_at_both(bootstrap, host, home)
        late = new_id()
        sent_at = dt.datetime.now(dt.UTC) - dt.timedelta(days=8)
        message = sign_message(SavingsTransferSent(
            transfer_id=late, member_id=world.rosa, from_node=host.id,
            from_account_id=world.rosas_account, to=home.id,
            to_account_id=world.her_account_at_home, amount=Money(1000, "USD")),
            node=host.id, to=home.id, key=host.key, time=sent_at)
        await produce(bootstrap, federation_topic(host.id), late, message)
        answer = await answered(bootstrap, home, host, late)
        transfer = await send_home(world)  # and the stream goes on
        await wait_for_event(bootstrap, host.id, world.rosas_account,
                             s.SavingsTransferDelivered)
    assert (answer.accepted, answer.code) == (False, "CommandOutOfTime")
    credits = [e for e in await savings_events(bootstrap, home.id, world.her_account_at_home)
               if isinstance(e, s.SavingsTransferReceived)]
    assert [e.transfer_id for e in credits] == [transfer]


async def produce(bootstrap: str, topic: str, key: str, value: bytes) -> None:
    """One message on ``topic``, as a peer's relay (or a forger) would write it."""
    producer = kafka_clients.producer(bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(topic, value=value, key=key.encode())
    finally:
        await producer.stop()


async def answered(bootstrap: str, node: Node, to: Node, transfer: str, timeout: float = 30):
    """The ``SavingsTransferAnswered`` ``node`` sent ``to`` for ``transfer``, as ``to``
    opens it."""
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        for record in await kafka_clients.read_topic(federation_topic(node.id), bootstrap):
            if record.key == transfer.encode():
                return open_message(record.value, node=to.id,
                                    peers=config.peers(to.id))[1].payload
        await asyncio.sleep(0.3)
    raise AssertionError(f"{node.id} answered nothing for the transfer in {timeout} s")


async def wait_for_letter(bootstrap: str, node: str, value: bytes, timeout: float = 30):
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        for record in await kafka_clients.read_topic(deadletter_topic(node), bootstrap):
            if record.value == value:
                return read_letter(record.topic, record.key, record.value, record.headers)
        await asyncio.sleep(0.3)
    raise AssertionError(f"nothing dead-lettered at {node} in {timeout} s")


async def test_a_transfer_is_credited_once_across_kill_9_of_the_home_services(
        nodes, tmp_path, monkeypatch):
    bootstrap, host, home = nodes

    def start(service: str) -> ServiceProcess:
        """The home node's savings or relay as a process of its own, to be killed."""
        with monkeypatch.context() as env:
            env.setenv("COOPBRIDGE_SIGNING_KEY", b64url(home.key.private_bytes_raw()))
            env.setenv("COOPBRIDGE_PEERS", str(home.peers_file))
            return ServiceProcess(home.id, bootstrap, tmp_path / f"{service}.log", service)

    home_savings, home_relay = start("savings"), start("federation")
    try:
        async with serving(bootstrap, host):
            world = await rosa_at_both(bootstrap, host, home)
            home_savings.kill()
            transfer = await send_home(world)
            await asyncio.sleep(4)
            assert await of_transfer(world, host, world.rosas_account, transfer,
                                     s.SavingsSentHome)
            assert not await of_transfer(world, home, world.her_account_at_home, transfer,
                                         s.SavingsTransferReceived)
            assert len(await credit_commands(bootstrap, home, transfer)) == 1
            home_relay.kill()  # the transfer read and asked for, not answered, not committed
            async with serving(bootstrap, home, savings=False):  # asks again every 2 s
                while len(await credit_commands(bootstrap, home, transfer)) < 3:
                    await asyncio.sleep(0.5)
                home_savings = start("savings")
                await wait_for_event(bootstrap, host.id, world.rosas_account,
                                     s.SavingsTransferDelivered, timeout=60)
                await asyncio.sleep(3)  # time for a second credit to show, were there one
    finally:
        for process in (home_relay, home_savings):
            assert process.terminate() in (0, -9)
    asked = await credit_commands(bootstrap, home, transfer)
    assert len(asked) >= 3 and len(set(asked)) == 1  # asked again and again, one command id
    received = await of_transfer(world, home, world.her_account_at_home, transfer,
                                 s.SavingsTransferReceived)
    delivered = await of_transfer(world, host, world.rosas_account, transfer,
                                  s.SavingsTransferDelivered)
    assert len(received) == 1 and len(delivered) == 1
    assert received[0].balance == received[0].amount


async def test_the_relay_runs_from_the_cli_and_stops_cleanly_on_sigterm(
        nodes, tmp_path, monkeypatch):
    bootstrap, _, home = nodes
    log_path = tmp_path / "relay.log"
    with monkeypatch.context() as env, open(log_path, "ab") as log:
        env.setenv("COOPBRIDGE_SIGNING_KEY", b64url(home.key.private_bytes_raw()))
        env.setenv("KAFKA_BOOTSTRAP_SERVERS", bootstrap)
        relay = subprocess.Popen(
            [sys.executable, "-m", "deploy.cli", "service", "federation", "--node", home.id],
            env=dict(os.environ), stdout=log, stderr=subprocess.STDOUT)
    try:
        for _ in range(120):
            if b"partition(s) assigned" in log_path.read_bytes() or relay.poll() is not None:
                break
            await asyncio.sleep(0.25)
        assert b"1 trusted peer(s)" in log_path.read_bytes()  # its trust list, from its home
        relay.terminate()
        assert relay.wait(30) == 0
    finally:
        if relay.poll() is None:
            relay.kill()
    assert b"partition(s) assigned" in log_path.read_bytes()
    assert b"relay of node " + home.id.encode() + b" stopped" in log_path.read_bytes()


async def credit_commands(bootstrap: str, node: Node, transfer: str) -> list[str]:
    """The command ids of every ``ReceiveSavingsTransfer`` of ``transfer`` sent to ``node``."""
    records = await kafka_clients.read_topic(commands_topic(node.id, "savings"), bootstrap)
    return [envelope.id for envelope, command in (REGISTRY.decode(r.value) for r in records)
            if isinstance(command, s.ReceiveSavingsTransfer) and command.transfer_id == transfer]
