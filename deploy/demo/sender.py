"""Sending a demo plan to the nodes' gateways: GraphQL over HTTP only, with tokens signed for
each call's role, at most ``concurrency`` requests in flight per gateway, each chain's steps in
order, retried on a dropped connection, a server error, or an answer that the gateway's views
have not caught up yet; counted in an ``Outcome``, never printed with its input. A progress
bar on a terminal (a line every ``PROGRESS_EVERY_S`` in a log); a set ``stop`` (Ctrl-C) drops
the requests in flight at once. Also: which node a gateway serves. It reads and writes no
topic: the gateways and the services behind them do."""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from deploy.demo.calls import Call, Chain, Plan
from gateway.auth import Role


class DemoError(Exception):
    """The demo cannot run as asked (a gateway down, tokens refused)."""


#: What a success looks like, per mutation's result union.
SUCCESS = {"CommandAccepted", "ExportedRecord", "RecordImportedHere"}
#: Rejections that mean "this was done already" (a run without the idempotency keys; and
#: ``IdempotencyKeyExpired``: a key first used more than a week ago, whose outcome is
#: no longer kept).
EXPIRED = "IdempotencyKeyExpired"
ALREADY = {EXPIRED, "AccountAlreadyOpen", "AlreadyAMember", "AlreadyEnrolled", "AlreadyInGroup",
           "AlreadyCompleted", "CertificateAlreadyIssued", "ConsentAlreadyExists",
           "CooperativeAlreadyRegistered", "CourseAlreadyOffered", "DuplicateRemittance",
           "DuplicateTransfer", "GroupAlreadyExists", "LoanAlreadyDisbursed",
           "MemberAlreadyRegistered", "RecordAlreadyImported"}
RETRIES = 6


def document(mutation: str) -> str:
    kept = {"exportRecord": "... on ExportedRecord { credentialId credential }",
            "importRecord": "... on RecordImportedHere { memberId membershipStarted } "
                            "... on RecordNotVerified { code message }"}
    return (f"mutation($input: {mutation[0].upper()}{mutation[1:]}Input!, $key: String) "
            f"{{ {mutation}(input: $input, idempotencyKey: $key) {{ __typename "
            f"{kept.get(mutation, '... on CommandAccepted { visible }')} "
            "... on Problem { code message } ... on ValidationError { field } } }")


@dataclass
class Rejection:
    mutation: str
    code: str
    message: str  # the service's sentence or a redacted GraphQL error: never a value sent


@dataclass
class Outcome:
    sent: Counter = field(default_factory=Counter)  # node -> mutations
    accepted: Counter = field(default_factory=Counter)
    already: Counter = field(default_factory=Counter)
    rejected: list[Rejection] = field(default_factory=list)
    rejected_by_node: Counter = field(default_factory=Counter)
    skipped: int = 0  # steps left out because an earlier one failed
    #: steps left out because the earlier one whose answer they need was made more than a
    #: week ago (its answer, a record to take home, is no longer kept)
    stale: int = 0
    retries: int = 0
    seconds: float = 0.0
    settled: bool | None = None  # Rosa's savings arrived home (None: not part of this run)
    doing: str = "checking the gateways' tokens"  # the round under way
    done: int = 0  # mutations answered (or skipped)
    cut_short: bool = False  # stopped before the end (Ctrl-C of ``up --demo``)

    @property
    def ok(self) -> bool:
        return not self.rejected and not self.skipped and not self.cut_short


TokenFor = Callable[[str, Role, str | None], str]


class _Sender:
    def __init__(self, gateways: dict[str, str], token_for: TokenFor, concurrency: int,
                 outcome: Outcome, advance: Callable[[], None]):
        self.gateways, self.outcome, self.advance = gateways, outcome, advance
        self.tokens: dict[tuple, str] = {}
        self.token_for = token_for
        self.limits = {node: asyncio.Semaphore(concurrency) for node in gateways}
        self.clients = {node: httpx.AsyncClient(
            base_url=url, timeout=httpx.Timeout(60.0),
            limits=httpx.Limits(max_connections=concurrency,
                                max_keepalive_connections=concurrency))
            for node, url in gateways.items()}

    async def close(self) -> None:
        for client in self.clients.values():
            await client.aclose()

    def token(self, node: str, role: Role, cooperative: str | None) -> str:
        key = (node, role, cooperative)
        if key not in self.tokens:
            self.tokens[key] = self.token_for(node, role, cooperative)
        return self.tokens[key]

    async def post(self, node: str, token: str, query: str, variables: dict) -> dict:
        """One GraphQL request, retried on a dropped connection or a server error."""
        for attempt in range(RETRIES):
            try:
                async with self.limits[node]:
                    response = await self.clients[node].post(
                        "/graphql", json={"query": query, "variables": variables},
                        headers={"Authorization": f"Bearer {token}"})
                if response.status_code < 500:
                    if response.headers.get("content-type", "").startswith("application/json"):
                        return response.json()  # GraphQL errors may come with a 4xx
                    response.raise_for_status()
            except httpx.TransportError:
                if attempt == RETRIES - 1:
                    raise
            self.outcome.retries += 1
            await asyncio.sleep(min(0.5 * 2 ** attempt, 8))
        response.raise_for_status()
        return response.json()

    async def chain(self, chain: Chain) -> None:
        kept: dict[str, str] = {}
        expired = False
        for n, call in enumerate(chain):
            if call.needs and call.needs not in kept:
                if expired:
                    self.outcome.stale += len(chain) - n
                else:
                    self.outcome.skipped += len(chain) - n
                for _ in chain[n:]:
                    self.advance()
                return
            result = await self.send(call, kept.get(call.needs) if call.needs else None)
            if call.keep and result and call.keep in result:
                kept[call.keep] = result[call.keep]
            expired = expired or bool(result and result.get("code") == EXPIRED)
            self.advance()

    async def send(self, call: Call, needed: str | None) -> dict | None:
        """Send one mutation until it has a final answer; counted, never printed with its
        input. ``NotAuthorized`` and ``Unavailable`` are tried again: the gateway's views
        may lag behind the step before (its read-your-writes wait is bounded)."""
        outcome = self.outcome
        outcome.sent[call.node] += 1
        token = self.token(call.node, call.role, call.cooperative)
        input = {**call.input, call.needs: needed} if call.needs else call.input
        variables = {"input": input, "key": call.key}
        for attempt in range(RETRIES):
            body = await self.post(call.node, token, document(call.mutation), variables)
            if body.get("errors"):
                message = "; ".join(_redacted(e.get("message", "")) for e in body["errors"])
                return self.reject(call, "GraphQLError", message)
            result = (body.get("data") or {}).get(call.mutation) or {}
            kind = result.get("__typename", "")
            if kind in SUCCESS:
                outcome.accepted[call.node] += 1
                return result
            if result.get("code") in ALREADY:
                outcome.already[call.node] += 1
                return result
            if kind in ("NotAuthorized", "Unavailable") and attempt < RETRIES - 1:
                outcome.retries += 1
                await asyncio.sleep(min(0.5 * 2 ** attempt, 8))
                continue
            detail = result.get("message", "")
            if result.get("field"):
                detail += f" ({result['field']})"
            return self.reject(call, result.get("code") or kind or "NoAnswer", detail)
        return None

    def reject(self, call: Call, code: str, message: str) -> None:
        self.outcome.rejected.append(Rejection(call.mutation, code, message))
        self.outcome.rejected_by_node[call.node] += 1
        return None

    async def query(self, node: str, token: str, query: str, **variables) -> dict:
        body = await self.post(node, token, query, variables)
        return body.get("data") or {}


def _redacted(message: str) -> str:
    """A GraphQL error without the values it may quote (a name sent in an input)."""
    return re.sub(r"'[^']*'|\"[^\"]*\"", "…", message)[:300]


#: Without a terminal (a log file, a pipe), a progress line this often (seconds).
PROGRESS_EVERY_S = 10.0


async def seed_federation(plan: Plan, gateways: dict[str, str], token_for: TokenFor,
                          concurrency: int = 16, console: Console | None = None,
                          settle_timeout: float = 90.0,
                          stop: threading.Event | None = None) -> Outcome:
    """Send the plan: round after round, the chains of a round side by side (at most
    ``concurrency`` requests at a time per gateway), each chain's steps in order. A bar on a
    terminal, else a line every ``PROGRESS_EVERY_S``. When ``stop`` is set, the requests in
    flight are dropped at once and the outcome says it was cut short."""
    console = console or Console(stderr=True)
    missing = [node for node in plan.nodes if node not in gateways]
    if missing:
        raise ValueError(f"no gateway for node(s) {', '.join(missing)}")
    outcome = Outcome()
    started = time.monotonic()
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("mutations"), TimeElapsedColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=False,
                  disable=not console.is_terminal) as progress:
        task = progress.add_task("seeding", total=plan.calls)

        def advance() -> None:
            outcome.done += 1
            progress.advance(task)

        def doing(what: str) -> None:
            outcome.doing = what
            progress.update(task, description=what)

        sender = _Sender(gateways, token_for, concurrency, outcome, advance)

        async def send_plan() -> None:
            await _check_tokens(sender, plan.nodes)
            for round_ in plan.rounds:
                doing(f"seeding · {round_.name}")
                await asyncio.gather(*(sender.chain(chain) for chain in round_.chains))
            if plan.rosa:
                doing("waiting for Rosa's savings to arrive home")
                outcome.settled = await _settled(sender, plan.rosa, settle_timeout)

        work = asyncio.ensure_future(send_plan())
        helpers = [] if console.is_terminal else [
            asyncio.ensure_future(_progress_lines(console, outcome, plan.calls, started))]
        if stop is not None:
            helpers.append(asyncio.ensure_future(_cancel_when_set(stop, work)))
        try:
            await work
        except asyncio.CancelledError:
            if stop is None or not stop.is_set():
                raise
            outcome.cut_short = True
        finally:
            for helper in helpers:
                helper.cancel()
            await sender.close()
    outcome.seconds = time.monotonic() - started
    return outcome


async def _progress_lines(console: Console, outcome: Outcome, total: int,
                          started: float) -> None:
    while True:
        await asyncio.sleep(PROGRESS_EVERY_S)
        console.print(f"{outcome.doing} · {outcome.done:,} of {total:,} mutations · "
                      f"{time.monotonic() - started:.0f} s")


async def _cancel_when_set(stop: threading.Event, work: asyncio.Future) -> None:
    while not stop.is_set():
        await asyncio.sleep(0.1)
    work.cancel()


async def _check_tokens(sender: _Sender, nodes: list[str]) -> None:
    """Fail early, and once, when a gateway does not take the tokens signed here."""
    for node in nodes:
        token = sender.token(node, Role.NODE_ADMIN, None)
        data = await sender.query(node, token, "{ federationStats { minCell } }")
        if data.get("federationStats") is None:
            raise DemoError(f"the gateway of node {node} ({sender.gateways[node]}) refuses the "
                            "tokens signed here: run the demo where the node's keys are "
                            "(the same COOPBRIDGE_HOME)")


async def _settled(sender: _Sender, rosa: dict[str, str], timeout: float) -> bool:
    """Rosa's transfer home is carried by the relays: wait until the host shows it delivered."""
    token = sender.token(rosa["node"], Role.STAFF, rosa["cooperative"])
    deadline = time.monotonic() + timeout
    query = ("query($id: ID!) { member(id: $id) { accounts { accountId "
             "transfers { transferId status } } } }")
    while True:
        data = await sender.query(rosa["node"], token, query, id=rosa["member"])
        accounts = ((data.get("member") or {}).get("accounts")) or []
        status = next((t["status"] for a in accounts if a["accountId"] == rosa["savings"]
                       for t in a["transfers"] if t["transferId"] == rosa["transfer"]), None)
        if status in ("delivered", "refunded"):
            return status == "delivered"
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(1.0)


async def node_of(url: str) -> str:
    """The node a gateway serves, from its ``/health``."""
    async with httpx.AsyncClient(timeout=10.0) as client:
        try:
            response = await client.get(f"{url}/health")
        except httpx.TransportError as exc:
            raise DemoError(f"no gateway answers at {url}: {exc}") from None
    node = response.json().get("node") if response.status_code in (200, 503) else None
    if response.status_code != 200 or not node:
        raise DemoError(f"the gateway at {url} is not ready (HTTP {response.status_code})")
    return node


def base_url(url: str) -> str:
    return url.rstrip("/").removesuffix("/graphql")


async def find_gateways(nodes: list[str], urls: tuple[str, ...],
                        first_port: int) -> dict[str, str]:
    """node -> gateway base URL: the URLs given (their nodes asked from ``/health``), else
    the nodes' local gateways on consecutive ports, as ``coopbridge up`` starts them."""
    if urls:
        bases = [base_url(url) for url in urls]
        served = [await node_of(url) for url in bases]
        if nodes and nodes != served:
            raise DemoError(f"the gateways serve nodes {', '.join(served)}, not "
                            f"{', '.join(nodes)}")
        return dict(zip(served, bases))
    bases = [f"http://127.0.0.1:{first_port + i}" for i in range(len(nodes))]
    for node, url in zip(nodes, bases):
        if await node_of(url) != node:
            raise DemoError(f"the gateway at {url} serves another node than {node}")
    return dict(zip(nodes, bases))
