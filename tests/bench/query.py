"""Record query: ``member(id)`` latency at 10, 100 and 1,000 history items, against plain
graphql-core and a plain JSON endpoint, all three in the same run on the same server.

What is measured. One node of its own on the bench's broker; members whose timelines hold
exactly 10, 100 and 1,000 items (``tests.bench.query_data``: events decided by the real
deciders, produced to the events topics, folded by the gateway's own projections into its
RocksDB). One gateway process (``tests.bench.query_server``: ``gateway.app.create_app`` under
uvicorn) serves the three ways of asking for the same record:

* **strawberry**: ``POST /graphql``, the real gateway path: strawberry's ASGI view, its
  extensions (parser and validation caches, limits, error masking), the bearer token.
* **graphql-core**: ``POST /bench/graphql-core``: the same schema object's graphql-core schema
  (the same resolvers and field wrappers) run by ``graphql.execute``, the document parsed and
  validated once (as strawberry's caches do), the same context (``get_context``), the answer
  written by the view's own ``encode_json``: the baseline is never handicapped by a choice
  the gateway could make too, so the ratio is what strawberry itself adds.
* **JSON**: ``GET /bench/json/member/{id}``: the same access check, the same documents read
  from the same store, the same personal details opened with the same data keys, serialised
  with msgspec; no GraphQL.

Why over HTTP, all three in one server. The target ("record query ≤ 1.3× graphql-core at 100
items") is about what the GraphQL layer adds to a query a client makes. Serving the three from
one process, one app, one event loop, one store and one client, with requests interleaved
(each round asks all three, in a rotating order), gives them the same HTTP stack, the same
store reads, the same token check, the same machine noise; the ratios then hold only what
differs: strawberry's view and extensions over graphql-core, and GraphQL execution over
plain serialisation. Requests go one at a time (no load); latency is the client's wall time
from sending the request to holding the whole body.

``python -m tests.bench.query_profile`` runs the same three in one process, for cProfile.

The document is the whole portable record (every field of ``Member``, the accounts with their
remittances, loan and transfers, the certificates …) plus the first page (100) of her
timeline, the same text every time. The caller is staff of her cooperative (sees everything).
"""

from __future__ import annotations

import time

import httpx

from gateway.auth import Role
from services.runtime.datakeys import DataKeys
from tests.bench.harness import Bench, Row, percentile
from tests.bench.query_data import RecordMaker
from tests.bench.query_node import BenchNode, client, graphql

SECTION = "query"
SIZES = (10, 100, 1_000)
TARGET_SIZE, TARGET = 100, 1.3
HISTORY_PAGE = 100

RECORD = """
fragment money on Money { amount currency minorUnits }
query($id: ID!) {
  member(id: $id) {
    memberId erased
    identity { givenNames familyNames dateOfBirth nationality gender preferredLanguages contact }
    memberships { cooperativeId role startedOn endedOn endReason
                  shareCapitalRequired { ...money } active }
    groups { cooperativeId groupId }
    consents { consentId granteeKind grantee scopes expiresAt revoked active }
    accounts {
      accountId cooperativeId product currency balance { ...money } closed shares
      loan { principal { ...money } annualRate termMonths totalDue { ...money }
             outstanding { ...money } closed
             schedule { number dueOn principal { ...money } interest { ...money }
                        total { ...money } }
             repayments { amount { ...money } paidOn instalment dueOn timing daysLate } }
      remittances { remittanceId direction status counterpartAccountId amount { ...money }
                    fee { ...money } rate received { ...money } corridor feePercent at }
      transfers { transferId direction node counterpartAccountId amount { ...money }
                  fee { ...money } rate received { ...money } status at }
    }
    enrolments { courseId status hours result score levelAttained completedOn }
    certificates { certificateId courseId cooperativeId kind title skills language level
                   hours score completedOn issuedOn revoked revocationReason }
    importedRecords { credentialId issuerNode issuedAt importedAt
      memberships { cooperativeName country role startedOn endedOn shareCapital
                    { ...money } }
      balances { product balance { ...money } }
      loans { principal { ...money } disbursedOn instalments repaidEarly repaidOnTime
              repaidLate closed }
      remittances { corridor count sent { ...money } fees { ...money } }
      certificates { title kind issuedOn level skills revoked } }
    exportedRecords { credentialId granteeKind grantee scopes validFrom validUntil revoked }
  }
  memberHistory(memberId: $id, first: %d) {
    edges { cursor node { at service type summary } }
    pageInfo { hasNextPage endCursor }
  }
}""" % HISTORY_PAGE

WAYS = ("strawberry", "graphql-core", "JSON")


def _requests(http: httpx.AsyncClient, token: str, member_id: str):
    headers = {"authorization": f"Bearer {token}"}
    body = {"query": RECORD, "variables": {"id": member_id}}
    return {
        "strawberry": lambda: http.post("/graphql", json=body, headers=headers),
        "graphql-core": lambda: http.post("/bench/graphql-core", json=body, headers=headers),
        "JSON": lambda: http.get(f"/bench/json/member/{member_id}",
                                 params={"history": HISTORY_PAGE}, headers=headers),
    }


async def _check_same_answers(http: httpx.AsyncClient, token: str, member_id: str,
                              items: int) -> dict[str, int]:
    """The three answer the same record (else the comparison means nothing); their sizes."""
    real = await graphql(http, token, RECORD, id=member_id)
    core = await graphql(http, token, RECORD, path="/bench/graphql-core", id=member_id)
    if real != core:
        raise AssertionError("graphql-core and strawberry answered differently")
    plain = (await http.get(f"/bench/json/member/{member_id}",
                            params={"history": HISTORY_PAGE},
                            headers={"authorization": f"Bearer {token}"})).json()
    [account] = real["member"]["accounts"]
    [doc] = plain["accounts"]
    shown = min(items, HISTORY_PAGE)
    if not (len(account["remittances"]) == len(doc["remittances"])
            and len(real["memberHistory"]["edges"]) == len(plain["history"]) == shown
            and plain["identity"]["given_names"] == real["member"]["identity"]["givenNames"]):
        raise AssertionError("the JSON endpoint and the gateway answered different records")
    sizes = {}
    for way, send in _requests(http, token, member_id).items():
        sizes[way] = len((await send()).content)
    return sizes


async def _measure(http: httpx.AsyncClient, token: str, member_id: str, rounds: int,
                   warmup: int) -> dict[str, list[float]]:
    """Milliseconds per request of each way, interleaved (each round asks all three, the
    order rotating from round to round)."""
    sends = _requests(http, token, member_id)
    samples: dict[str, list[float]] = {way: [] for way in WAYS}
    for n in range(warmup + rounds):
        order = WAYS[n % 3:] + WAYS[:n % 3]
        for way in order:
            started = time.perf_counter()
            response = await sends[way]()
            elapsed = time.perf_counter() - started
            if response.status_code != 200:
                raise RuntimeError(f"{way} answered {response.status_code}")
            if n >= warmup:
                samples[way].append(elapsed * 1000)
    return samples


async def run(bench: Bench) -> None:
    rounds = {10: bench.size(1000, 30), 100: bench.size(1000, 30), 1_000: bench.size(300, 8)}
    warmup = bench.size(20, 3)
    with BenchNode(bench.bootstrap, bench.work) as node:
        async with DataKeys(node.node, bench.bootstrap, node_key=node.node_key) as keys:
            maker = RecordMaker(node.node, keys)
            await maker.federation()
            members = {items: await maker.member_with(items) for items in SIZES}
            events = await maker.publish(bench.bootstrap)
        node.start()  # its projections fold every event before it answers
        print(f"  {events} events folded; gateway ready in {node.startup_s:.1f} s")
        token = node.token(Role.STAFF, maker.madrid)
        async with client(node, connections=4) as http:
            for items in SIZES:
                sizes = await _check_same_answers(http, token, members[items], items)
                samples = await _measure(http, token, members[items], rounds[items], warmup)
                _rows(bench, items, samples, sizes)


def _rows(bench: Bench, items: int, samples: dict[str, list[float]],
          sizes: dict[str, int]) -> None:
    figures = {(way, p): percentile(samples[way], p) for way in WAYS for p in (50, 99)}
    n = len(samples["strawberry"])
    for p in (50, 99):
        straw, core, plain = (figures[(w, p)] for w in WAYS)
        target = TARGET if (p == 50 and items == TARGET_SIZE) else None
        note = (f"{n} requests each, interleaved, one at a time, over HTTP to one gateway "
                f"process; strawberry is {straw / plain:.2f}x the JSON endpoint; response "
                f"{sizes['strawberry']:,} B (JSON endpoint {sizes['JSON']:,} B)")
        if target is not None and straw / core > target:
            note += (f"; target missed by {straw / core / target - 1:.0%}: what strawberry "
                     f"adds is {straw - core:.2f} ms per request")
        bench.add(Row(SECTION, f"member(id) p{p}, {items:,} items, strawberry", straw, "ms",
                      baseline=core, baseline_name=f"graphql-core p{p}",
                      higher_is_better=False, target=target, note=note))
        bench.add(Row(SECTION, f"member(id) p{p}, {items:,} items, graphql-core", core, "ms",
                      baseline=plain, baseline_name=f"JSON endpoint p{p}",
                      higher_is_better=False, note=f"{n} requests, same run"))
        bench.add(Row(SECTION, f"member(id) p{p}, {items:,} items, JSON endpoint", plain, "ms",
                      higher_is_better=False, note=f"{n} requests, same run"))
