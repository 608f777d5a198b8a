"""Round trip: mutation latency p50/p99 at a fixed arrival rate below saturation.

A node of its own (``tests.bench.query_node``): the membership and savings services and the
real gateway (``gateway.app.create_app`` under uvicorn), each a process, on the bench's broker.
Members with savings accounts are set up through the gateway's mutations, then:

1. **Saturation**, closed loop: N clients each send ``depositFunds`` after ``depositFunds``
   for a while, N = 8, 16, 32, 64 until twice the clients bring less than 10 % more;
   the most accepted-and-visible mutations per second seen is the saturation rate.
2. **Baseline**, open loop at the chosen rate: a trivial query (``cooperative(id) { name }``)
   on the same gateway, same client, same schedule: what HTTP, the token check and GraphQL
   cost without Kafka.
3. **Mutations**, open loop at ``LOAD`` × the saturation rate: ``depositFunds`` on the
   members' accounts (in turn), each answered ``CommandAccepted`` with ``visible: true``, i.e.
   decided by the savings service, its event written, its reply read, and the gateway's own
   projection showing it (what a client waits for before the next screen).
4. **Where the time goes**, open loop at the same rate: the same ``DepositFunds`` commands
   sent straight to the commands topic with a ``CommandClient`` (no HTTP, no gateway, no
   wait for the projection): command to reply, the services' share of a mutation.

Open loop: request *i* is launched at ``start + i / rate`` whatever happened to the others,
and its latency runs from that scheduled moment (so a stall shows in the latencies instead of
silently lowering the rate: no coordinated omission).
"""

from __future__ import annotations

import asyncio
import time

import httpx

from gateway.auth import Role
from schemas import savings as s
from schemas.fields import Money
from services.runtime.client import CommandClient
from services.runtime.ids import new_id
from tests.bench.harness import Bench, Row, percentile
from tests.bench.query_node import BenchNode, client, graphql, mutate, mutation

SECTION = "roundtrip"
CLIENTS = (8, 16, 32, 64)  # closed-loop clients tried for the saturation rate, in turn
LOAD = 0.5  # the fixed arrival rate, as a fraction of the saturation rate
DEPOSIT = mutation("depositFunds")
TRIVIAL = "query($id: ID!) { cooperative(id: $id) { name } }"


async def _setup(http: httpx.AsyncClient, node: BenchNode, members: int) -> tuple[str, list[str]]:
    """A cooperative and ``members`` members with a savings account each, via mutations."""
    coop = new_id()
    await mutate(http, node.token(Role.NODE_ADMIN), "registerCooperative", {
        "cooperativeId": coop, "name": "Ahorro Solidario Madrid", "country": "ES",
        "kind": "SAVINGS_AND_CREDIT", "languages": ["es"], "node": node.node,
        "currency": "EUR", "sharePrice": {"amount": "25.00", "currency": "EUR"}})
    staff = node.token(Role.STAFF, coop)
    accounts = []
    for _ in range(members):
        member, account = new_id(), new_id()
        await mutate(http, staff, "registerMember", {"memberId": member, "personal": {
            "givenNames": "Rosa", "familyNames": "Quispe", "dateOfBirth": "1988-04-17",
            "nationality": "EC", "preferredLanguages": ["es-EC"]}})
        await mutate(http, staff, "startMembership", {
            "memberId": member, "cooperativeId": coop, "startedOn": "2019-05-06",
            "shareCapitalRequired": {"amount": "50.00", "currency": "EUR"}})
        await mutate(http, staff, "openAccount", {
            "accountId": account, "memberId": member, "cooperativeId": coop,
            "product": "SAVINGS", "currency": "EUR"})
        accounts.append(account)
    return coop, accounts


class Deposits:
    """``depositFunds`` of 1.00 EUR on the accounts in turn; counts what was not accepted."""

    def __init__(self, http: httpx.AsyncClient, token: str, accounts: list[str]):
        self.http, self.token, self.accounts = http, token, accounts
        self.sent = self.failed = 0

    async def __call__(self) -> None:
        account = self.accounts[self.sent % len(self.accounts)]
        self.sent += 1
        try:
            result = (await graphql(self.http, self.token, DEPOSIT, input={
                "accountId": account, "amount": {"amount": "1.00", "currency": "EUR"}}))
            ok = (result["depositFunds"]["__typename"] == "CommandAccepted"
                  and result["depositFunds"]["visible"])
        except (RuntimeError, httpx.HTTPError):
            ok = False
        if not ok:
            self.failed += 1


async def _closed_loop(send: Deposits, clients: int, seconds: float) -> float:
    """Completed mutations per second with ``clients`` clients sending back to back."""
    done = 0
    deadline = time.monotonic() + seconds

    async def one_client() -> None:
        nonlocal done
        while time.monotonic() < deadline:
            await send()
            done += 1

    started = time.monotonic()
    await asyncio.gather(*(one_client() for _ in range(clients)))
    return done / (time.monotonic() - started)


async def _saturation(send: Deposits, seconds: float) -> tuple[float, int]:
    """The most mutations per second seen, and with how many clients."""
    best, best_clients = 0.0, 0
    for clients in CLIENTS:
        rate = await _closed_loop(send, clients, seconds)
        if rate > best:
            best, best_clients, previous = rate, clients, best
            if previous and rate < 1.1 * previous:
                break
        else:
            break
    return best, best_clients


async def _open_loop(send, rate: float, count: int) -> list[float]:
    """Launch ``send()`` ``count`` times at ``rate`` per second; milliseconds from each
    scheduled launch to its completion."""
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.05

    async def timed(due: float) -> float:
        await send()
        return (loop.time() - due) * 1000

    tasks = []
    for i in range(count):
        due = start + i / rate
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(timed(due)))
    return list(await asyncio.gather(*tasks))


async def run(bench: Bench) -> None:
    members = bench.size(20, 4)
    with BenchNode(bench.bootstrap, bench.work, services=("membership", "savings")) as node:
        node.start()
        async with client(node, connections=2 * max(CLIENTS)) as http:
            coop, accounts = await _setup(http, node, members)
            staff = node.token(Role.STAFF, coop)
            deposits = Deposits(http, staff, accounts)
            for _ in range(bench.size(50, 10)):  # warm up: connections, first calls
                await deposits()
            saturated, clients = await _saturation(deposits, bench.size(10, 1))
            rate = max(1.0, LOAD * saturated)
            count = max(20, round(rate * bench.size(45, 2)))

            async def trivial() -> None:
                await graphql(http, staff, TRIVIAL, id=coop)

            baseline = await _open_loop(trivial, rate, count)
            deposits.sent = deposits.failed = 0
            latencies = await _open_loop(deposits, rate, count)
        async with CommandClient(node.node, bench.bootstrap, source="bench") as commands:
            sent = 0

            async def command() -> None:
                nonlocal sent
                account = accounts[sent % len(accounts)]
                sent += 1
                await commands.send(s.DepositFunds(account_id=account,
                                                   amount=Money(100, "EUR")), account)

            replies = await _open_loop(command, rate, count)
    note = (f"open loop at {rate:.0f}/s = {LOAD:.0%} of the saturation rate "
            f"({saturated:.0f}/s accepted and visible, {clients} closed-loop clients); "
            f"{count} depositFunds over HTTP, each waited for until visible; "
            f"{deposits.failed} not accepted; baseline: a trivial query, same rate, same gateway")
    if deposits.failed:
        note += " (failed ones counted with their latency)"
    for p in (50, 99):
        bench.add(Row(SECTION, f"depositFunds p{p} at {rate:.0f}/s", percentile(latencies, p),
                      "ms", baseline=percentile(baseline, p),
                      baseline_name=f"trivial query p{p}", higher_is_better=False, note=note))
    bench.add(Row(SECTION, f"depositFunds p50 at {rate:.0f}/s against its command alone",
                  percentile(latencies, 50), "ms", baseline=percentile(replies, 50),
                  baseline_name="DepositFunds command to reply p50, on Kafka alone",
                  higher_is_better=False, target=1.3,
                  note="the baseline: a CommandClient straight to the commands topic, open "
                       "loop, same rate, the services' share of a mutation (no HTTP, no "
                       "projection wait); the ratio is what HTTP, GraphQL and waiting until "
                       "visible add (issue 21: <= 1.3x)"))
    bench.add(Row(SECTION, "depositFunds saturation (closed loop)", saturated, "mutations/s",
                  note=f"the most of {', '.join(map(str, CLIENTS))} clients back to back "
                       f"over HTTP (best: {clients}), {members} accounts, accepted and visible"))
