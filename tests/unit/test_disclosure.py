"""The groups' secondary suppression (``gateway.figures.disclosure._kept_groups``) against the rule
written the plain way: the same groups kept, whatever the groups."""

from __future__ import annotations

import random
from collections import Counter, defaultdict

import pytest

from gateway.figures.disclosure import MIN_CELL, _kept_groups


def plainly(people: set[str], groups: dict[str, set[str]]) -> set[str]:
    """The rule as docs/figures.md says it: drop the smallest published group (ties by key)
    until every region, those in no published group too, holds 0 or at least MIN_CELL."""
    kept = {group for group, members in groups.items() if len(members) >= MIN_CELL}
    while kept:
        theirs: dict[str, list[str]] = defaultdict(list)
        for group in sorted(kept):
            for member in groups[group]:
                theirs[member].append(group)
        sizes = [len(people) - len(theirs), *Counter(map(tuple, theirs.values())).values()]
        if all(size == 0 or size >= MIN_CELL for size in sizes):
            break
        kept.remove(min(kept, key=lambda group: (len(groups[group]), group)))
    return kept


@pytest.mark.parametrize("seed", range(200))
def test_the_groups_kept_are_those_the_rule_keeps(seed):
    rng = random.Random(seed)
    people = {f"m{n}" for n in range(rng.randint(0, 60))}
    everyone = sorted(people)
    groups = {}
    for number in range(rng.randint(0, 25)):
        size = rng.randint(0, min(len(everyone), rng.choice((6, 12, 40))))
        groups[f"g{number:02}"] = set(rng.sample(everyone, size))
    if groups and rng.random() < 0.3:  # nested and equal groups too
        some = rng.choice(sorted(groups))
        groups["nested"] = set(list(groups[some])[: max(0, len(groups[some]) - 1)])
        groups["same"] = set(groups[some])
    assert _kept_groups(people, groups) == plainly(people, groups)
