"""What every benchmark section shares: the broker, the results table, percentiles.

A section calls ``bench.add(Row(...))`` for each figure. A row with a ``baseline`` carries the
ratio ``value / baseline`` (or its inverse for latencies, where lower is better: see
``higher_is_better``) and, when the issue sets one, a ``target`` that the ratio is checked
against; ``met`` is None for rows without a target.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import resource
import statistics
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from rich.console import Console
from rich.table import Table

from deploy import broker
from services import config


@dataclass
class Row:
    section: str
    measure: str  # what was measured, e.g. "commands/s accepted and visible"
    value: float
    unit: str
    baseline: float | None = None
    baseline_name: str = ""  # e.g. "raw aiokafka produce+consume"
    higher_is_better: bool = True
    target: float | None = None  # on the ratio: >= target if higher is better, else <=
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.baseline in (None, 0):
            return None
        return self.value / self.baseline

    @property
    def met(self) -> bool | None:
        if self.target is None or self.ratio is None:
            return None
        return self.ratio >= self.target if self.higher_is_better else self.ratio <= self.target


@dataclass
class Bench:
    bootstrap: str
    quick: bool = False  # small sizes: checks that the code runs, its figures mean little
    rows: list[Row] = field(default_factory=list)
    work: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="coopbridge-bench-")))

    def add(self, row: Row) -> Row:
        self.rows.append(row)
        Console(width=160).print(f"  [dim]{row.section}[/] {row.measure}: {_fmt(row.value)} {row.unit}"
                                 + (f" vs {_fmt(row.baseline)} ({row.baseline_name}):"
                                    f" {row.ratio:.2f}x" if row.ratio is not None else ""))
        return row

    def size(self, full: int, quick: int) -> int:
        return quick if self.quick else full

    def table(self) -> Table:
        table = Table("section", "measure", "value", "baseline", "ratio", "target", "met",
                      title="make bench")
        for r in self.rows:
            target = "" if r.target is None else f"{'≥' if r.higher_is_better else '≤'} {r.target}"
            met = {None: "", True: "yes", False: "[bold red]no[/]"}[r.met]
            table.add_row(r.section, r.measure, f"{_fmt(r.value)} {r.unit}",
                          "" if r.baseline is None else f"{_fmt(r.baseline)} ({r.baseline_name})",
                          "" if r.ratio is None else f"{r.ratio:.2f}x", target, met)
        return table

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        rows = [{**asdict(r), "ratio": r.ratio, "met": r.met} for r in self.rows]
        path.write_text(json.dumps({
            "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                        "system": platform.platform()},
            "quick": self.quick, "rows": rows}, indent=2) + "\n")


def results_path() -> Path:
    return config.home() / "bench" / "results.json"


def _fmt(value: float | None) -> str:
    if value is None:
        return ""
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def percentile(samples: list[float], p: float) -> float:
    """The p-th percentile (0-100) of ``samples``, interpolated (``statistics.quantiles``)."""
    if len(samples) == 1:
        return samples[0]
    return statistics.quantiles(samples, n=1000, method="inclusive")[round(p * 10) - 1]


def rss_bytes(pid: int | None = None) -> int:
    """Resident memory of a process (this one by default) now, from /proc."""
    with open(f"/proc/{pid or 'self'}/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize()


@contextlib.contextmanager
def kafka(work: Path) -> Iterator[str]:
    """The bootstrap of ``KAFKA_BOOTSTRAP_SERVERS``, else of an embedded broker started here
    (on free ports, data under ``work``) and stopped at the end."""
    external = broker.external_bootstrap()
    if external:
        yield external
        return
    embedded = broker.on_free_ports(work / "kafka", broker.home())
    embedded.start()
    try:
        yield embedded.config.bootstrap
    finally:
        embedded.stop()
