"""``python -m tests.chaos.report``: the table of a chaos run (exit 1 if a column that must be
zero is not, or nothing was recorded)."""

from __future__ import annotations

import sys

from rich.console import Console
from rich.table import Table

from tests.chaos.figures import COLUMNS, MUST_BE_ZERO, kills, repeats, totals


def main() -> int:
    sums = totals()
    table = Table("section", *COLUMNS, title="make chaos")
    bad = not sums
    for section, row in sorted(sums.items()):
        cells = []
        for column in COLUMNS:
            value = row[column]
            wrong = column in MUST_BE_ZERO and value != 0
            bad = bad or wrong
            cells.append(f"[bold red]{value}[/]" if wrong else str(value))
        table.add_row(section, *cells)
    console = Console(width=160)
    console.print(table)
    landed = kills()
    if landed:
        console.print("kills that landed where they aim: " + ", ".join(
            f"{count} {where.replace('_', ' ')}" for where, count in sorted(landed.items())))
    copied_again = repeats()
    if copied_again is not None:
        console.print(f"records MirrorMaker 2 copied more than once (each absorbed): "
                      f"{copied_again}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
