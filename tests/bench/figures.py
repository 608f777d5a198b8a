"""Figures: how long one cooperative's atoms take to compute from its members' contributions,
with many groups, against the same members in no group.

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

import random
import time

from gateway.figures.disclosure import NO_GROUP, Contribution, cooperative_atoms
from tests.bench.harness import Bench, Row

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


async def run(bench: Bench) -> None:
    for row in measure(bench.quick):
        bench.add(row)


if __name__ == "__main__":
    for row in measure():
        print(f"{row.measure}: {row.value:.3f} s (in no group: {row.baseline:.3f} s)")
