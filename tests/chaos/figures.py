"""The figures a chaos run reports: each test adds its counts, ``report`` prints the table.

``record("durability", runs=1, faults=7, acknowledged=512, lost=0, ...)`` appends one JSON
line to ``$COOPBRIDGE_HOME/chaos/figures.jsonl`` (default ``.coopbridge``); the everyday
versions of the same tests record too, so a plain ``pytest tests/chaos`` also leaves figures.
Columns that must be zero for a run to pass are ``MUST_BE_ZERO``. ``runs()`` is how many
times a test repeats its scenario: 1 every day, ``COOPBRIDGE_CHAOS_RUNS`` (25) in ``make chaos``
(the hostile-message and privacy scenarios at most 10: see their modules).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from services import config

COLUMNS = ("runs", "faults", "acknowledged", "lost", "duplicated", "violations",
           "malformed", "5xx", "allowed", "found")
MUST_BE_ZERO = ("lost", "duplicated", "violations", "5xx", "allowed", "found")


def path() -> Path:
    return config.home() / "chaos" / "figures.jsonl"


def record(section: str, **figures: int) -> None:
    unknown = set(figures) - set(COLUMNS)
    if unknown:
        raise ValueError(f"unknown figure(s) {sorted(unknown)}; columns are {COLUMNS}")
    _append({"section": section, **figures})


#: Where the kills of a run landed (``record_kills``): not a section of the table, a line
#: under it, so a run shows that its kills hit the moments they aim at.
KILLS = "kills"


def record_kills(**landed: int) -> None:
    """How many kills landed where (``mid_snapshot=2, ...``), for the line under the table."""
    _append({"section": KILLS, **landed})


#: Records MirrorMaker 2 copied more than once (``record_repeats``): the at-least-once the
#: relays must absorb, shown under the table so a run shows that it happened.
REPEATS = "repeats"


def record_repeats(copied_again: int) -> None:
    _append({"section": REPEATS, "copied_again": copied_again})


def repeats() -> int | None:
    """Records copied again, summed over every line recorded (None: none recorded)."""
    found = [int(e["copied_again"]) for e in _entries() if e["section"] == REPEATS]
    return sum(found) if found else None


def _append(entry: dict) -> None:
    target = path()
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("a") as out:
        out.write(json.dumps(entry) + "\n")


def kills() -> dict[str, int]:
    """Where the kills landed, summed over every line recorded."""
    sums: dict[str, int] = {}
    for entry in _entries():
        if entry.pop("section") == KILLS:
            for where, count in entry.items():
                sums[where] = sums.get(where, 0) + int(count)
    return sums


def _entries() -> list[dict]:
    if not path().exists():
        return []
    return [json.loads(line) for line in path().read_text().splitlines()]


def totals() -> dict[str, dict[str, int]]:
    """Section -> column -> sum over every line recorded."""
    sums: dict[str, dict[str, int]] = {}
    for entry in _entries():
        if entry["section"] in (KILLS, REPEATS):
            continue
        row = sums.setdefault(entry.pop("section"), dict.fromkeys(COLUMNS, 0))
        for column, value in entry.items():
            row[column] += int(value)
    return sums


def runs(default: int = 1, at_most: int | None = None) -> int:
    """How many times to repeat a scenario; ``at_most`` caps it for scenarios whose runs add
    little after the first few (each still runs at least once)."""
    n = max(1, int(os.environ.get("COOPBRIDGE_CHAOS_RUNS", default)))
    return n if at_most is None else min(n, at_most)
