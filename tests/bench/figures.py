"""Figures: ``federationStats`` from kept figures at 1,000 and at 100,000 members, and against
the scan it replaced; then how long one cooperative's atoms take to compute from its members'
contributions, with many groups, against the same members in no group.

**federationStats at 1,000 and 100,000 members** (issue 20, step 6). A node's log made by
``tests.bench.synth_events`` (sealed details, data keys, memberships, accounts, deposits,
withdrawals, remittances, training), with the same 10 cooperatives at every size, is folded
by the real fold (``gateway.fold.project``) into a real store (``gateway.store.RocksStore``,
a batch committed every 4,000 events, as the catch-up does), and the figures kept in it are
settled as the gateway's follower settles them (each member's seal opened once). Then the
schema answers ``federationStats`` in-process (``schema.execute``, as an analyst), five
questions in turn (by country, corridor, month, cooperative, group), with the figures' cache
told to keep nothing (``FRESH_SECONDS`` and ``KEEP_SECONDS`` 0): every answer reads every
cooperative's rows and runs the disclosure rule again, as an answer does after any event
once its atoms are older than 5 s. The sizes are asked in alternating rounds. The target:
p50 at 100,000 members ≤ 2x p50 at 1,000; 10,000 members are asked too, to tell the growth
of the members from that of the data (with 1,000 members a row's month holds few kinds of
figures, with more members more kinds). The before/after row times the same questions at
100,000 members through the scan (every member's seal opened, every answer), a few times.

What is measured. ``gateway.figures.disclosure.cooperative_atoms`` (the corridor atoms, the group atoms
and their secondary suppression) on contributions made here, in memory, no broker, no seals:
what the figures' scan hands over once it has read every member. The cases are the review's
(issue 18, H2): a large cooperative with solidarity groups of five and a few societies over two
years, and a small one whose admin created thousands of groups (``CreateMemberGroup`` has no
limit). Each member has a flow in about seven months of ten, so many of a month's group atoms
are under 5 people and many regions need suppressing.

The baseline is the same members with no groups at all (each in the group ``none``), so the
ratio is what the groups add. Lower is better; there is no target: the point is that the groups
add a small multiple, not a power of their number.

``python -m tests.bench.figures`` prints the same figures without the bench's table.
"""

from __future__ import annotations

import datetime as dt
import random
import statistics
import time
from pathlib import Path

from gateway.auth import Caller, Role
from gateway.context import GatewayContext
from gateway.figures import cache as figures_cache
from gateway.figures.disclosure import NO_GROUP, Contribution, cooperative_atoms
from gateway.figures.kept import KeptFigures
from gateway.fold import project
from gateway.listeners import Listeners
from gateway.schema import build_schema
from gateway.store import RocksStore
from schemas import REGISTRY
from services.runtime.datakeys import unseal
from tests.bench.harness import Bench, Row
from tests.bench.synth_events import Synth

SECTION = "figures"
NEEDS_BROKER = False
AHORRO = "0192d3c4-0000-7000-8000-000000000001"
CORRIDORS = ("ES-EC", "ES-PE", "ES-CO", "ES-BO", "ES-MA")
GENDERS = ("female", "male")
#: the share of months in which a member has a flow
ACTIVE = 1.0


def contributions(members: int, months: int, groups: list[list[int]],
                  seed: int = 18) -> list[Contribution]:
    """``members`` members with flows in about 70% of ``months`` months each, in ``groups``
    (each a list of member numbers)."""
    rng = random.Random(seed)
    theirs: dict[int, list[str]] = {n: [] for n in range(members)}
    for number, people in enumerate(groups):
        for n in people:
            theirs[n].append(f"g{number:05}")
    calendar = [f"{2024 + m // 12}-{m % 12 + 1:02}" for m in range(months)]
    made = []
    for n in range(members):
        me = Contribution(f"m{n:05}", rng.choice(CORRIDORS), rng.choice(GENDERS),
                          tuple(theirs[n]) or (NO_GROUP,))
        me.add(calendar[rng.randrange(months)], "joined")
        me.add(None, "active")
        me.add(None, "balances", "EUR", rng.randrange(100, 500_000))
        for month in calendar:
            if rng.random() < ACTIVE:
                me.add(month, "deposits", "EUR", rng.randrange(100, 50_000))
                if rng.random() < 0.3:
                    me.add(month, "sent", amount=1)
                    me.add(month, "volume", "EUR", rng.randrange(100, 20_000))
        made.append(me)
    return made


def cases(quick: bool) -> list[tuple[str, int, int, list[list[int]]]]:
    """(name, members, months, groups) of each case."""
    rng = random.Random(20)
    scale = 10 if quick else 1

    def partition(members: int, size: int) -> list[list[int]]:
        people = list(range(members))
        rng.shuffle(people)
        return [people[i:i + size] for i in range(0, members, size)]

    big = 1_500 // scale
    found = [(f"{big:,} members, {big // 5:,} groups of 5 and 10 societies, 24 months", big,
              24, partition(big, 5) + partition(big, big // 10))]
    for many in (2_000 // scale, 4_000 // scale):
        found.append((f"200 members, {many:,} groups of 5, 24 months", 200, 24,
                      [rng.sample(range(200), 5) for _ in range(many)]))
    return found


def timed(contributed: list[Contribution]) -> float:
    began = time.perf_counter()
    cooperative_atoms(AHORRO, "ES", contributed)
    return time.perf_counter() - began


def measure(quick: bool = False) -> list[Row]:
    rows = []
    for name, members, months, groups in cases(quick):
        grouped = contributions(members, months, groups)
        plain = contributions(members, months, [])
        seconds, baseline = timed(grouped), timed(plain)
        rows.append(Row(SECTION, f"atoms of one cooperative: {name}", seconds, "s", baseline,
                        "the same members in no group", higher_is_better=False))
    return rows


# -- federationStats at three sizes -----------------------------------------------------------

#: The cooperatives of both nodes: the members grow, the cooperatives asked do not.
SERVED_COOPERATIVES = 10
#: Both logs span the months that this many members' events span at one a minute at most
#: (about seven).
SPAN_MEMBERS = 100_000
STATS = """query($f: StatsFilter) { federationStats(filter: $f) { cells { key members joined
  activeMembers deposits { amount currency } savingsBalance { amount currency }
  remittancesSent averageFeePercent certificates } } }"""
ASKED = [{"groupBy": "COUNTRY"}, {"groupBy": "CORRIDOR"}, {"groupBy": "MONTH"},
         {"groupBy": "COOPERATIVE"}, {"groupBy": "GROUP"}]
ANALYST = Caller("coopbridge-bench", Role.ANALYST)


class _Keys:
    """The synthetic members' data keys, opened as the gateway's ``DataKeys`` open them."""

    def __init__(self, synth: Synth):
        self.keys = {account.member_id: account.key for account in synth.accounts}

    async def open(self, member_id, sealed):
        key = self.keys.get(member_id)
        return None if key is None else unseal(key, sealed)


class _Views:
    """A store read as the gateway's views (committed documents), keeping its figures."""

    def __init__(self, store: RocksStore, keep: bool = True):
        self.store, self.stats, self.listeners = store, {"applied": 0}, Listeners()
        self.figures = KeptFigures(store, self) if keep else None

    def get(self, table, key):
        return self.store.read(table, key)

    def rows(self, table, key, after=None):
        return self.store.rows(table, key, after)


def _node(work: Path, members: int) -> tuple[RocksStore, _Keys, int, float]:
    """A store with ``members`` members folded in: (store, keys, events, seconds to fold)."""
    # the same months at every size: the fewer the members, the further apart their events
    synth = Synth(f"fs{members}", seed=members, pace=max(1, 60 * SPAN_MEMBERS // members),
                  mixed=True)
    store = RocksStore(work / f"figures-{members}")
    began, events = time.perf_counter(), 0
    for topic, _, value in synth.log(members, 2 * members, cooperatives=SERVED_COOPERATIVES):
        if topic == synth.datakeys:
            continue
        project(store, REGISTRY.decode(value))
        events += 1
        if events % 4000 == 0:
            store.commit()
    store.commit()
    return store, _Keys(synth), events, time.perf_counter() - began


async def _ask(schema, views, keys, asked: dict) -> float:
    context = GatewayContext(node="bench", caller=ANALYST, views=views, keys=keys,
                             commands=None, now=dt.datetime.now(dt.UTC))
    began = time.perf_counter()
    result = await schema.execute(STATS, variable_values={"f": asked}, context_value=context)
    took = time.perf_counter() - began
    if result.errors:
        raise RuntimeError(f"federationStats answered errors: {result.errors[:1]}")
    return took


async def served(bench: Bench) -> list[Row]:
    # the target's two sizes, and one between them: how much of the growth is the members'
    sizes = (bench.size(1_000, 200), bench.size(10_000, 1_000), bench.size(100_000, 2_000))
    rounds, per_round = bench.size(5, 2), bench.size(10, 10)
    schema = build_schema(development=False)
    nodes, notes = {}, []
    for members in sizes:
        store, keys, events, folded = _node(bench.work, members)
        views = _Views(store)
        began = time.perf_counter()
        await views.figures.settle(keys)
        settled = time.perf_counter() - began
        rows = sum(1 for _ in store.raw_items(b"figures/class/"))
        nodes[members] = (views, keys)
        notes.append(f"{members:,} members: {events:,} events folded in {folded:.0f} s, their"
                     f" figures settled in {settled:.1f} s ({settled / members * 1e6:.0f}"
                     f" µs a member), {rows:,} rows in {SERVED_COOPERATIVES} cooperatives")
    fresh, keep = figures_cache.FRESH_SECONDS, figures_cache.KEEP_SECONDS
    figures_cache.FRESH_SECONDS = figures_cache.KEEP_SECONDS = 0.0
    samples: dict[int, list[float]] = {members: [] for members in sizes}
    try:
        for _ in range(rounds):
            for members in sizes:
                views, keys = nodes[members]
                for i in range(per_round):
                    samples[members].append(await _ask(schema, views, keys,
                                                       ASKED[i % len(ASKED)]))
        big = sizes[-1]
        store = nodes[big][0].store
        scanned = [await _ask(schema, _Views(store, keep=False), nodes[big][1], asked)
                   for asked in ASKED[:bench.size(3, 2)]]
    finally:
        figures_cache.FRESH_SECONDS, figures_cache.KEEP_SECONDS = fresh, keep
        for views, _ in nodes.values():
            views.store.close()
    small, middle, large = (statistics.median(samples[members]) * 1000 for members in sizes)
    note = "; ".join(notes) + f"; {rounds * per_round} answers at each size, in rounds"
    return [
        Row(SECTION, f"federationStats p50 with {big:,} members (kept figures)", large,
            "ms", small, f"with {sizes[0]:,} members", higher_is_better=False, target=2.0,
            note=note),
        Row(SECTION, f"federationStats p50 with {big:,} members against {sizes[1]:,}", large,
            "ms", middle, f"with {sizes[1]:,} members", higher_is_better=False,
            note="the same run's answers: how much of the growth is the members' once a "
                 "row's months hold every kind of figure"),
        Row(SECTION, f"federationStats with {big:,} members: the scan it replaced",
            statistics.median(scanned) * 1000, "ms", large, "kept figures, p50",
            higher_is_better=False,
            note=f"{len(scanned)} answers through the scan (every member's seal opened each"
                 " time), before issue 20's step 6"),
    ]


async def run(bench: Bench) -> None:
    for row in await served(bench):
        bench.add(row)
    for row in measure(bench.quick):
        bench.add(row)


if __name__ == "__main__":
    for row in measure():
        print(f"{row.measure}: {row.value:.3f} s (in no group: {row.baseline:.3f} s)")
