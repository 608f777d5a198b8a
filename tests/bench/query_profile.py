"""Profile the record query in one process: ``python -m tests.bench.query_profile [items]
[--way strawberry|graphql-core|JSON] [--rounds N] [--sort tottime|cumulative]``.

No broker and no server: the gateway's real ASGI app (``create_app`` with the baselines of
``tests.bench.query_server``) is called through ``httpx.ASGITransport``, its views a
``MemoryStore`` filled by the real deciders (``tests.bench.query_data``) that hands out a
fresh decoded copy on every read, as the RocksDB store does. It prints the median CPU time of
this process per request for the three ways (robust to other processes' load, unlike wall
time), then, with ``--way``, a cProfile of that way. What it leaves out (the store's disk,
uvicorn, the socket) is the same for the three ways; ``python -m tests.bench --only query``
measures the whole path.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import cProfile
import pstats
import secrets
import statistics
import time

import httpx
import msgspec

from gateway.app import create_app
from gateway.auth import Role, issue_token
from gateway.fold import ROWS, TABLES
from tests.bench.query import HISTORY_PAGE, RECORD, WAYS
from tests.bench.query_data import RecordMaker
from tests.bench.query_node import environment
from tests.bench.query_server import gateway_view, with_baselines
from tests.unit.inmemory_node import LocalKeys

NODE = "bprofile"


class CopyingViews:
    """Documents from memory, each read a fresh decoded copy (what ``RocksStore.read`` does)."""

    def __init__(self, views):
        self.views = views

    def get(self, table: str, key: str):
        doc = self.views.get(table, key)
        if doc is None:
            return None
        return msgspec.msgpack.decode(msgspec.msgpack.encode(doc), type=TABLES[table])

    def rows(self, table: str, key: str, after: str | None = None):
        for row in self.views.rows(table, key, after):
            yield msgspec.msgpack.decode(msgspec.msgpack.encode(row), type=ROWS[table])

    async def wait_for(self, refs, timeout: float = 10.0) -> bool:
        return True

    def decided_at(self, topic: str, aggregate_id: str, command_id: str):
        return self.views.decided_at(topic, aggregate_id, command_id)


async def profile(items: int, way: str | None, rounds: int, sort: str) -> dict[str, float]:
    keys = LocalKeys()
    maker = RecordMaker(NODE, keys)
    await maker.federation()
    member = await maker.member_with(items)
    app = with_baselines(create_app(NODE, "127.0.0.1:1", development=False))
    view = gateway_view(app)  # the lifespan (Kafka) never runs: its state is set here
    view.state.projections, view.state.keys, view.state.ready = (
        CopyingViews(maker.views), keys, True)
    headers = {"authorization": f"Bearer {issue_token(NODE, Role.STAFF, maker.madrid)}"}
    body = {"query": RECORD, "variables": {"id": member}}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://gateway") as http:
        sends = {
            "strawberry": lambda: http.post("/graphql", json=body, headers=headers),
            "graphql-core": lambda: http.post("/bench/graphql-core", json=body,
                                              headers=headers),
            "JSON": lambda: http.get(f"/bench/json/member/{member}",
                                     params={"history": HISTORY_PAGE}, headers=headers),
        }

        async def one(name: str) -> None:
            response = await sends[name]()
            if response.status_code != 200:
                raise RuntimeError(f"{name} answered {response.status_code}")

        samples: dict[str, list[float]] = {name: [] for name in WAYS}
        for n in range(rounds + 5):
            for name in WAYS:
                started = time.process_time()
                await one(name)
                if n >= 5:
                    samples[name].append((time.process_time() - started) * 1000)
        medians = {name: statistics.median(values) for name, values in samples.items()}
        if way is not None:
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(rounds):
                await one(way)
            profiler.disable()
            pstats.Stats(profiler).sort_stats(sort).print_stats(40)
    return medians


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.query_profile")
    parser.add_argument("items", nargs="*", type=int, default=[10, 100, 1000])
    parser.add_argument("--way", choices=WAYS, default=None)
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--sort", default="tottime")
    args = parser.parse_args(argv)
    key = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    with environment(COOPBRIDGE_SIGNING_KEY=key):
        for items in args.items:
            medians = asyncio.run(profile(items, args.way, args.rounds, args.sort))
            print(f"{items:>5} items, CPU ms per request (median of {args.rounds}): "
                  + ", ".join(f"{w} {medians[w]:.2f}" for w in WAYS)
                  + f"; strawberry / graphql-core {medians['strawberry'] / medians['graphql-core']:.2f}")


if __name__ == "__main__":
    main()
