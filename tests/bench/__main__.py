"""``python -m tests.bench [--only pipeline,query] [--quick]``: see ``tests.bench``."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import sys
import time

from rich.console import Console

from tests.bench.harness import Bench, kafka, results_path

SECTIONS = ("pipeline", "roundtrip", "query", "replay", "memory", "figures", "takeover")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make bench", description=__doc__)
    parser.add_argument("--only", default=",".join(SECTIONS),
                        help=f"comma-separated sections of {', '.join(SECTIONS)}")
    parser.add_argument("--quick", action="store_true",
                        help="small sizes: the code runs, the figures mean little")
    args = parser.parse_args(argv)
    chosen = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = sorted(set(chosen) - set(SECTIONS))
    if unknown:
        parser.error(f"unknown section(s) {unknown}; sections are {', '.join(SECTIONS)}")
    console = Console(width=160)
    bench = Bench(bootstrap="", quick=args.quick)
    started = time.monotonic()
    with kafka(bench.work) as bootstrap:
        bench.bootstrap = bootstrap
        for name in chosen:
            console.rule(name)
            section = importlib.import_module(f"tests.bench.{name}")
            t0 = time.monotonic()
            asyncio.run(section.run(bench))
            console.print(f"  [dim]{name}: {time.monotonic() - t0:.0f} s[/]")
    console.print(bench.table())
    bench.write(results_path())
    console.print(f"{len(bench.rows)} figures in {time.monotonic() - started:.0f} s,"
                  f" written to {results_path()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
