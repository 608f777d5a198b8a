"""Subscriptions are capped and never hold the fold back: per socket, per token across its
sockets and per gateway, a subscription over a cap gets an error saying so; a subscriber that
takes its events too slowly is ended with an error (it missed events), while the others go on.

On the in-memory node (``LocalViews`` hands its events to the gateway's own ``Listeners``,
here with small caps), through ``schema.subscribe``; the caps of a socket over a real
graphql-transport-ws socket of the gateway's ASGI app under uvicorn, with a stock client."""

from __future__ import annotations

import asyncio
import contextlib
import json
import types
from pathlib import Path

import pytest
import uvicorn
import websockets
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute

from gateway.figures import activity, subscriptions
from gateway.app import MAX_SUBSCRIPTIONS_PER_SOCKET, GatewayGraphQL
from gateway.auth import Caller, Role, issue_token
from gateway.context import GatewayContext
from gateway.listeners import (
    MAX_BEHIND,
    MAX_LISTENERS,
    MAX_LISTENERS_PER_CALLER,
    Listeners,
)
from gateway.projections import MAX_BATCH
from schemas import savings as s
from schemas.fields import Money as MoneyValue
from services.runtime.ids import new_id
from tests.unit.test_gateway_schema import (
    ADMIN,
    AHORRO,
    ANALYST,
    MADRID_STAFF,
    NOW,
    SCHEMA,
    Node,
    cooperative,
    rosa_joins,
)

MEMBER_EVENTS = "subscription($id: ID!) { memberEvents(memberId: $id) { type } }"
ACTIVITY = 'subscription { federationActivity(country: "ES") { total } }'
ACTIVITY_EC = 'subscription { federationActivity(country: "EC") { total } }'
ANDINA = new_id()


@pytest.fixture(autouse=True)
def no_window_ends(monkeypatch):
    """federationActivity answers once a window: none ends while these tests run."""
    monkeypatch.setattr(subscriptions, "ACTIVITY_WINDOW", 10**9)


@pytest.fixture
async def node() -> Node:
    node = Node()
    result = await node.mutate("registerCooperative", cooperative(
        AHORRO, "Ahorro Solidario Madrid", "ES", "EUR", "25.00"))
    assert result["__typename"] == "CommandAccepted"
    return node


class Follower:
    """One subscription, as a socket's operation runs it: started (up to its first wait for
    an event), then read only on demand, as a slow client would."""

    def __init__(self, stream):
        self.stream = stream
        self.next: asyncio.Future | None = asyncio.ensure_future(stream.__anext__())

    @classmethod
    async def start(cls, node: Node, caller: Caller, document: str = MEMBER_EVENTS,
                    **variables) -> Follower:
        context = GatewayContext(node="es", caller=caller, views=node.views, keys=node.keys,
                                 commands=node.commands, now=NOW)
        follower = cls(await SCHEMA.subscribe(document, variable_values=variables,
                                              context_value=context))
        for _ in range(3):
            await asyncio.sleep(0)  # it runs up to its first wait
        return follower

    async def take(self):
        """The next result (its data, or its errors): never waits more than 2 s."""
        pending, self.next = self.next, None
        return await asyncio.wait_for(pending or self.stream.__anext__(), 2)

    def waiting(self) -> bool:
        """Subscribed, and waiting for an event (not refused, not ended)."""
        return self.next is not None and not self.next.done()

    async def close(self) -> None:
        if self.next is not None:
            self.next.cancel()
            with contextlib.suppress(BaseException):
                await self.next
        await self.stream.aclose()


def refused(result, code: str) -> str:
    assert result.data is None and result.errors, result
    [error] = result.errors
    assert error.extensions == {"code": code}, error
    return error.message


async def deposit(node: Node, account: str) -> None:
    result = await node.mutate("depositFunds", {
        "accountId": account, "amount": {"amount": "5", "currency": "EUR"}}, MADRID_STAFF)
    assert result["__typename"] == "CommandAccepted"


async def test_a_token_holds_at_most_its_share_of_subscriptions_across_its_sockets(node):
    node.views.listeners = Listeners(per_caller=3, total=100)
    ids = await rosa_joins(node)
    held = [await Follower.start(node, MADRID_STAFF, id=ids["rosa"]) for _ in range(3)]
    assert all(f.waiting() for f in held)
    # the same person with a token issued later is the same caller: a fourth is refused
    renewed = Caller(MADRID_STAFF.subject, Role.STAFF, AHORRO,
                     expires_at=NOW.replace(year=NOW.year + 1))
    fourth = await Follower.start(node, renewed, id=ids["rosa"])
    message = refused(await fourth.take(), "TOO_MANY_SUBSCRIPTIONS")
    assert "at most 3 subscriptions at a time per token" in message
    # nobody else is held back by it
    other = await Follower.start(node, Caller("marta", Role.STAFF, AHORRO), id=ids["rosa"])
    assert other.waiting()
    # every kind of subscription counts
    admin = [await Follower.start(node, ADMIN, id=ids["rosa"]) for _ in range(2)]
    admin.append(await Follower.start(node, ADMIN, ACTIVITY))
    assert all(f.waiting() for f in admin)
    refused(await (await Follower.start(node, ADMIN, ACTIVITY)).take(),
            "TOO_MANY_SUBSCRIPTIONS")
    # one ended, one more may start; every one still hears her deposits
    await held.pop().close()
    held.append(await Follower.start(node, MADRID_STAFF, id=ids["rosa"]))
    await deposit(node, ids["account"])
    for follower in (*held, other, *admin[:2]):
        assert (await follower.take()).data == {"memberEvents": {"type": "FundsDeposited"}}
    assert admin[2].waiting()  # the feed answers once a window: still subscribed
    for follower in (*held, other, *admin):
        await follower.close()
    assert node.views.listeners.count == 0


async def test_a_gateway_holds_at_most_its_share_of_subscriptions_whoever_asks(node):
    node.views.listeners = Listeners(per_caller=100, total=4)
    rosa = (await rosa_joins(node))["rosa"]
    held = [await Follower.start(node, Caller(f"staff-{n}", Role.STAFF, AHORRO), id=rosa)
            for n in range(3)]
    held.append(await Follower.start(node, ANALYST, ACTIVITY))
    assert all(f.waiting() for f in held)
    for caller, document in ((ADMIN, MEMBER_EVENTS), (Caller("ilo-2", Role.ANALYST),
                                                      ACTIVITY)):
        late = await Follower.start(node, caller, document, id=rosa)
        message = refused(await late.take(), "TOO_MANY_SUBSCRIPTIONS")
        assert "this gateway serves 4 subscriptions, its most" in message
    await held.pop(0).close()
    again = await Follower.start(node, ADMIN, id=rosa)
    assert again.waiting()
    for follower in (*held, again):
        await follower.close()


async def test_a_slow_subscriber_is_ended_with_an_error_and_a_fast_one_keeps_receiving(node):
    node.views.listeners = Listeners(behind=4)
    ids = await rosa_joins(node)
    slow = await Follower.start(node, MADRID_STAFF, id=ids["rosa"])
    fast = await Follower.start(node, Caller("marta", Role.STAFF, AHORRO), id=ids["rosa"])
    watching = await Follower.start(node, ANALYST, ACTIVITY)
    await deposit(node, ids["account"])
    assert (await slow.take()).data == {"memberEvents": {"type": "FundsDeposited"}}
    for _ in range(6):  # the slow one takes nothing more; the fold never waits for it
        await deposit(node, ids["account"])
        assert (await fast.take()).data == {"memberEvents": {"type": "FundsDeposited"}}
    assert watching.waiting()  # the feed counts as events come, whoever reads it when
    assert node.views.listeners.count == 2  # the slow one is no longer fed
    message = refused(await slow.take(), "FELL_BEHIND")
    assert "fell behind" in message and "missed events: subscribe again" in message
    with pytest.raises(StopAsyncIteration):
        await slow.take()  # and then it ends
    await deposit(node, ids["account"])
    assert (await fast.take()).data == {"memberEvents": {"type": "FundsDeposited"}}
    for follower in (fast, watching):
        await follower.close()


async def test_a_listener_of_everything_falls_behind_only_by_what_it_leaves_untaken(node):
    """The one subscription of everything is measured in events, not in batches: a listener
    that keeps up with a stream of events is never ended, however long it runs (the feed
    takes each event as it comes, to count it in its window)."""
    node.views.listeners = Listeners(behind=4)
    ids = await rosa_joins(node)
    watching = await Follower.start(node, ANALYST, ACTIVITY)
    for _ in range(12):
        await deposit(node, ids["account"])
        await asyncio.sleep(0)  # the feed's turn to take it
    assert watching.waiting() and node.views.listeners.count == 1
    assert activity.hub_of(node.views, node.keys, subscriptions.ACTIVITY_WINDOW).missed == 0
    await watching.close()


async def test_a_feed_hub_that_falls_behind_shows_its_window_as_null_and_goes_on(
        node, monkeypatch):
    """The hub's listener is ended like any other if it leaves too many events untaken: the
    window it missed events of is shown with null counts, and the next one is counted."""
    monkeypatch.setattr(subscriptions, "ACTIVITY_WINDOW", 0.5)
    node.views.listeners = Listeners(behind=4)
    accounts = [(await rosa_joins(node))["account"] for _ in range(5)]
    watching = await Follower.start(node, ANALYST, ACTIVITY)
    assert (await watching.take()).data == {"federationActivity": {"total": None}}  # 1st
    hub = activity.hub_of(node.views, node.keys, subscriptions.ACTIVITY_WINDOW)
    for account in (*accounts, *accounts):  # ten at once, the hub's turn never comes
        await node.commands.send(s.DepositFunds(account_id=account,
                                                amount=MoneyValue(500, "EUR")), account)
    assert (await watching.take()).data == {"federationActivity": {"total": None}}
    assert hub.missed == 1
    for account in accounts:
        await deposit(node, account)
        await asyncio.sleep(0)
    assert (await watching.take()).data == {"federationActivity": {"total": 5}}
    assert hub.missed == 1
    await watching.close()


async def test_the_feed_looks_each_event_up_once_however_many_follow_it(node, monkeypatch):
    """Finding 10's load, moved: every federationActivity subscriber looked up the country
    of every event (store reads per event per subscriber). One hub per gateway counts every
    country's windows; each subscriber still counts under the caps."""
    registered = await node.mutate("registerCooperative", cooperative(
        ANDINA, "Cooperativa Andina", "EC", "USD", "10.00"))
    assert registered["__typename"] == "CommandAccepted"
    accounts = [(await rosa_joins(node))["account"] for _ in range(5)]
    reads: list[str] = []
    real = node.views.get

    def counted(table, key):
        reads.append(table)
        return real(table, key)

    monkeypatch.setattr(node.views, "get", counted)

    async def reads_per_deposit(followers: int) -> float:
        feeds = [await Follower.start(node, Caller(f"ilo-{n}", Role.ANALYST),
                                      ACTIVITY if n % 2 else ACTIVITY_EC)
                 for n in range(followers)]
        assert all(f.waiting() for f in feeds)
        assert node.views.listeners.count == followers  # each one a subscription
        await asyncio.sleep(0.05)
        before = len(reads)
        for account in accounts:
            await node.commands.send(s.DepositFunds(account_id=account,
                                                    amount=MoneyValue(500, "EUR")), account)
        await asyncio.sleep(0.05)  # everyone has taken them
        assert all(f.waiting() for f in feeds)
        for feed in feeds:
            await feed.close()
        return (len(reads) - before) / len(accounts)

    one, twenty = await reads_per_deposit(1), await reads_per_deposit(20)
    assert one <= 2  # its account (and once, its cooperative's country)
    assert twenty <= one  # not once per subscriber
    assert node.views.listeners.count == 0


def test_a_listener_has_room_for_more_than_one_batch_of_the_fold():
    """The fold hands a batch over whole: a listener with less room than two batches would be
    ended by a replay's batches however fast it took them."""
    assert MAX_BEHIND >= 2 * MAX_BATCH


def test_the_partner_guide_states_the_caps_the_gateway_enforces():
    guide = (Path(__file__).resolve().parents[2] / "docs" / "partner-guide.md").read_text()
    guide = " ".join(guide.split())
    for said in (f"A socket carries at most {MAX_SUBSCRIPTIONS_PER_SOCKET} subscriptions",
                 f"a token at most {MAX_LISTENERS_PER_CALLER} across all its sockets",
                 f"and a gateway {MAX_LISTENERS:,}",
                 f"leaves more than {MAX_BEHIND:,} events untaken"):
        assert said in guide, said


# -- over a real socket ----------------------------------------------------------------------


@contextlib.asynccontextmanager
async def serving(node: Node):
    """The gateway's GraphQL ASGI app (``GatewayGraphQL``, its socket handler) on the
    in-memory node's views, keys and commands, under uvicorn on a free port: its ws URL."""
    state = types.SimpleNamespace(node="es", projections=node.views, keys=node.keys,
                                  client=node.commands)
    graphql = GatewayGraphQL(state, schema=SCHEMA)
    server = uvicorn.Server(uvicorn.Config(
        Starlette(routes=[WebSocketRoute("/graphql", graphql)]), host="127.0.0.1", port=0,
        lifespan="off", log_level="warning"))
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            assert not task.done(), task
            await asyncio.sleep(0.05)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"ws://127.0.0.1:{port}/graphql"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)


@contextlib.asynccontextmanager
async def socket(url: str, token: str):
    async with websockets.connect(url, subprotocols=["graphql-transport-ws"]) as ws:
        await ws.send(json.dumps({"type": "connection_init",
                                  "payload": {"Authorization": f"Bearer {token}"}}))
        assert json.loads(await asyncio.wait_for(ws.recv(), 5)) == {"type": "connection_ack"}
        yield ws


async def subscribe(ws, number: int, rosa: str) -> None:
    await ws.send(json.dumps({"id": str(number), "type": "subscribe", "payload": {
        "query": MEMBER_EVENTS, "variables": {"id": rosa}}}))


async def test_over_a_socket_each_cap_is_an_error_the_client_reads(node, tmp_path,
                                                                   monkeypatch):
    monkeypatch.setenv("COOPBRIDGE_HOME", str(tmp_path))  # the node's own signing key
    monkeypatch.delenv("COOPBRIDGE_SIGNING_KEY", raising=False)
    per_token = MAX_SUBSCRIPTIONS_PER_SOCKET + 5
    node.views.listeners = Listeners(per_caller=per_token, total=1_000)
    rosa = (await rosa_joins(node))["rosa"]
    token = issue_token("es", Role.STAFF, AHORRO, subject=MADRID_STAFF.subject)
    async with serving(node) as url, socket(url, token) as first, socket(url, token) as second:
        for number in range(MAX_SUBSCRIPTIONS_PER_SOCKET):
            await subscribe(first, number, rosa)
        await subscribe(first, 99, rosa)  # one more than a socket carries
        answer = json.loads(await asyncio.wait_for(first.recv(), 5))
        assert answer["id"] == "99" and answer["type"] == "error", answer
        [error] = answer["payload"]
        assert error["extensions"] == {"code": "TOO_MANY_SUBSCRIPTIONS"}
        assert (f"at most {MAX_SUBSCRIPTIONS_PER_SOCKET} subscriptions at a time per socket"
                in error["message"])
        # the same token on another socket: up to its own cap, across both sockets
        for number in range(per_token - MAX_SUBSCRIPTIONS_PER_SOCKET):
            await subscribe(second, number, rosa)
        await subscribe(second, 99, rosa)
        answer = json.loads(await asyncio.wait_for(second.recv(), 5))
        assert answer["id"] == "99" and answer["type"] == "next", answer
        [error] = answer["payload"]["errors"]
        assert error["extensions"] == {"code": "TOO_MANY_SUBSCRIPTIONS"}
        assert f"at most {per_token} subscriptions at a time per token" in error["message"]
        assert json.loads(await asyncio.wait_for(second.recv(), 5)) == {
            "id": "99", "type": "complete"}
        assert node.views.listeners.count == per_token
    for _ in range(100):  # the sockets closed: their subscriptions let go of their listeners
        if not node.views.listeners.count:
            break
        await asyncio.sleep(0.05)
    assert node.views.listeners.count == 0
