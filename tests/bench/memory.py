"""Memory: the gateway's resident memory per member, 100,000 members against an empty node.

Two fresh nodes on the bench's broker: one with its topics only, one with ``members`` members
(``tests.bench.synth_events``: each registered with sealed details and a data key, a
membership, a savings account, a third a share capital account, and about two deposits each).
For each, the gateway runs as its own process, as ``coopbridge gateway`` starts it
(``python -m deploy.cli gateway``, ``COOPBRIDGE_HOME`` under the bench's work folder, the
node's key and signing key in the environment), waits until ``/health`` says its projections
have caught up, answers a few hundred ``member(id)`` queries as each member's cooperative's
staff (identity opened with the member's data key, memberships, accounts) and a members page;
then its resident set size is read from ``/proc``. Per member = (RSS with members - RSS empty)
/ members.

The row's value is bytes per member and its baseline the 2 KiB target, so the ratio is the
share of the budget used (target ≤ 1.0, lower is better).
"""

from __future__ import annotations

import asyncio
import base64
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path
from unittest import mock

import httpx

from deploy.broker import free_port
from deploy.topics import ensure_node_topics
from gateway.auth import Role, issue_token
from services.runtime.ids import new_id
from tests.bench.harness import Bench, Row, rss_bytes
from tests.bench.synth_events import Synth, produce

BUDGET = 2048  # bytes per member (issue 10)
MEMBER = """query($id: ID!) { member(id: $id) { memberId identity { givenNames familyNames }
  memberships { cooperativeId } accounts { accountId balance { amount currency } } } }"""
MEMBERS = """query($coop: ID!) { members(cooperativeId: $coop, first: 50) { totalCount
  edges { node { memberId } } } }"""
ROOT = Path(__file__).resolve().parents[2]


def _b64(key: bytes) -> str:
    return base64.urlsafe_b64encode(key).decode()


class Gateway:
    """``coopbridge gateway`` of one node as a child process, stopped on exit."""

    def __init__(self, bench: Bench, node: str, node_key: bytes):
        self.node, self.port = node, free_port()
        self.signing = _b64(secrets.token_bytes(32))
        self.env = {**os.environ, "COOPBRIDGE_HOME": str(bench.work / "memory-home"),
                    "KAFKA_BOOTSTRAP_SERVERS": bench.bootstrap,
                    "COOPBRIDGE_NODE_KEY": _b64(node_key), "COOPBRIDGE_SIGNING_KEY": self.signing}
        self.log = bench.work / f"gateway-{node}.log"
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    async def __aenter__(self) -> Gateway:
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "deploy.cli", "gateway", "--node", self.node,
                 "--port", str(self.port)], cwd=ROOT, env=self.env, stdout=out,
                stderr=subprocess.STDOUT)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                await asyncio.to_thread(self.process.wait, 30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                await asyncio.to_thread(self.process.wait)

    async def ready(self, client: httpx.AsyncClient, timeout: float) -> float:
        """Seconds until ``/health`` answers 200 (the projections caught up)."""
        began = time.monotonic()
        while time.monotonic() - began < timeout:
            if self.process.poll() is not None:
                raise RuntimeError(f"the gateway exited with {self.process.returncode}; "
                                   f"see {self.log.name} in the bench folder")
            try:
                if (await client.get(f"{self.url}/health")).status_code == 200:
                    return time.monotonic() - began
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.25)
        raise TimeoutError(f"the gateway of {self.node} was not ready in {timeout:.0f} s")

    def token(self, cooperative_id: str) -> str:
        with mock.patch.dict(os.environ, {"COOPBRIDGE_SIGNING_KEY": self.signing}):
            return issue_token(self.node, Role.STAFF, cooperative_id=cooperative_id,
                               subject="coopbridge-bench")

    async def query(self, client: httpx.AsyncClient, token: str, query: str,
                    variables: dict) -> dict:
        response = await client.post(f"{self.url}/graphql",
                                     json={"query": query, "variables": variables},
                                     headers={"Authorization": f"Bearer {token}"})
        response.raise_for_status()
        body = response.json()
        if body.get("errors"):
            raise RuntimeError(f"the gateway answered errors: {body['errors'][:1]}")
        return body["data"]


async def measure(bench: Bench, synth: Synth, queries: int, timeout: float) -> tuple[int, float]:
    """(RSS bytes, seconds to ready) of a gateway of ``synth``'s node after ``queries``
    member queries (of unknown ids on an empty node, so the same code has run in both)."""
    async with Gateway(bench, synth.node, synth.node_key) as gateway, \
            httpx.AsyncClient(timeout=60) as client:
        took = await gateway.ready(client, timeout)
        cooperatives = synth.cooperatives or [new_id()]
        tokens = {c: gateway.token(c) for c in cooperatives}
        if synth.member_ids:
            step = max(1, len(synth.member_ids) // queries)
            asked = [(synth.member_ids[i], cooperatives[synth.joined[i]])
                     for i in range(0, len(synth.member_ids), step)]
        else:
            asked = [(new_id(), cooperatives[0]) for _ in range(queries)]
        found = 0
        for member_id, cooperative in asked:
            data = await gateway.query(client, tokens[cooperative], MEMBER, {"id": member_id})
            found += data["member"] is not None and data["member"]["identity"] is not None
        for cooperative, token in tokens.items():
            await gateway.query(client, token, MEMBERS, {"coop": cooperative})
        if synth.member_ids and found < len(asked):
            raise AssertionError(f"{len(asked) - found} members answered without identity")
        await asyncio.sleep(1)  # let the allocator settle after the queries
        return rss_bytes(gateway.process.pid), took


async def run(bench: Bench) -> None:
    members = bench.size(100_000, 2_000)
    empty = Synth("me" + secrets.token_hex(3))
    full = Synth("mf" + secrets.token_hex(3), seed=11)
    for synth in (empty, full):
        await asyncio.to_thread(ensure_node_topics, synth.node, bench.bootstrap)
    began = time.perf_counter()
    await produce(bench.bootstrap, full.log(members, members * 2))
    made = time.perf_counter() - began
    queries = bench.size(300, 20)
    baseline, _ = await measure(bench, empty, queries, timeout=120)
    loaded, took = await measure(bench, full, queries, timeout=bench.size(900, 120))
    per_member = (loaded - baseline) / members
    events = sum(full.counts.values())
    bench.add(Row(
        "memory", f"gateway RSS per member ({members:,} members vs an empty node)",
        per_member, "bytes/member", BUDGET, "the 2 KiB budget", higher_is_better=False,
        target=1.0,
        note=(f"RSS {loaded / 2**20:.0f} MiB with {members:,} members ({events:,} events,"
              f" {len(full.accounts):,} savings accounts), {baseline / 2**20:.0f} MiB empty,"
              f" both after {queries} member queries and a members page per cooperative;"
              f" caught up in {took:.0f} s; log made in {made:.0f} s. {COMPONENTS}")))


#: What the per-member figure is made of (measured in-process while profiling, issue 10).
COMPONENTS = ("About 500 B/member of it are the data keys the gateway keeps in memory to open"
              " sealed details (services.runtime.datakeys.DataKeys, a dict per member); RocksDB's"
              " memtables and block cache are bounded (8 MiB each) and the fold's cache holds"
              " 4,096 documents, so the rest is the allocator's high-water mark from catching up"
              " in batches, and RocksDB's index and filter blocks.")
