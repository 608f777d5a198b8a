"""The demo's plan (no Kafka): what every day's ``coopbridge demo`` must show.

Found on 2026-12-04: the plan draws its random numbers in an order that depends on the calendar
(month lengths, today's month), so the same seed planned only Rosa going home on some days, and
the dashboard's "arrived home" showed one person. Now the first ``MIN_RETURNEES`` host members
who can take a record home do, whichever day it is.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest

from deploy import demo


def planned(seed: int, members: int, nodes: list[str], today: dt.date) -> Counter:
    plan = demo.plan(seed, members, nodes, today)
    return Counter(call.mutation for r in plan.rounds for chain in r.chains for call in chain)


@pytest.mark.parametrize("today", [dt.date(2026, 12, 3) + dt.timedelta(days=d)
                                   for d in range(0, 400, 9)])
def test_a_small_two_node_demo_brings_several_records_home_on_any_day(today):
    calls = planned(7, 120, ["host", "home"], today)
    # Rosa, and at least MIN_RETURNEES of the crowd: each exports once and is imported once
    assert calls["importRecord"] >= 1 + demo.MIN_RETURNEES, (today, calls)
    assert calls["exportRecord"] == calls["importRecord"]


def test_one_node_has_nowhere_else_to_go_home_to():
    calls = planned(7, 120, ["solo"], dt.date(2026, 12, 4))
    assert calls["importRecord"] <= 1, calls  # Rosa's story only, if anything


def test_the_same_seed_and_day_plan_the_same_calls():
    day = dt.date(2026, 12, 4)
    first, second = demo.plan(7, 120, ["a", "b"], day), demo.plan(7, 120, ["a", "b"], day)
    keys = [[call.key for chain in r.chains for call in chain] for r in first.rounds]
    assert keys == [[call.key for chain in r.chains for call in chain] for r in second.rounds]


def test_a_small_demo_puts_no_one_alone_in_an_atom_of_the_figures():
    """The figures count no atom of fewer than 5 people (a cooperative's members of one
    nationality and gender): even with 120 people, every cooperative's members come in kinds
    of ``MIN_MEMBERS`` or more, so every cooperative shows."""
    plan = demo.plan(7, 120, ["host", "home"], dt.date(2026, 12, 4))
    kinds, joined = {}, []
    for chain in (chain for r in plan.rounds for chain in r.chains):
        for call in chain:
            if call.mutation == "registerMember":
                personal = call.input["personal"]
                kinds[call.input["memberId"]] = (personal["nationality"], personal.get("gender"))
            elif call.mutation == "startMembership":
                joined.append((call.input["cooperativeId"], call.input["memberId"]))
    atoms = Counter((cooperative, *kinds[member]) for cooperative, member in joined)
    assert len({cooperative for cooperative, *_ in atoms}) == len(demo.COOPERATIVES)
    assert min(atoms.values()) >= demo.MIN_MEMBERS, atoms
