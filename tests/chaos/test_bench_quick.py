"""``make bench`` must keep working: every section at its ``--quick`` size, on the tests' broker.
In ``make chaos`` (the long runs), not in every ``make test``: it starts many processes and,
beside the production shape's six brokers, took 4 to 6 minutes of the two cores.

Its figures mean little at these sizes and on a shared machine, so nothing here judges speed;
what is checked is that each section measures something real (a positive, finite figure, with
the ratio to its baseline where it has one) and that the table lands in the JSON file.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import pytest

from tests.bench.__main__ import SECTIONS

pytestmark = [pytest.mark.kafka, pytest.mark.chaos]


@pytest.mark.timeout(600)  # (its subprocess's own limit: it shares the 2 cores with the other
# long runs, and ran past the default 300 s once so, at 95 s alone)
def test_every_section_measures_something_at_quick_size(kafka_bootstrap, tmp_path):
    env = dict(os.environ, KAFKA_BOOTSTRAP_SERVERS=kafka_bootstrap,
               COOPBRIDGE_HOME=str(tmp_path / "home"))
    done = subprocess.run([sys.executable, "-m", "tests.bench", "--quick"], env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    results = json.loads((tmp_path / "home" / "bench" / "results.json").read_text())
    assert results["quick"] is True
    rows = results["rows"]
    assert {row["section"] for row in rows} == set(SECTIONS)
    for row in rows:
        assert math.isfinite(row["value"]) and row["value"] > 0, row
        if row["baseline"] is not None:
            assert row["baseline"] > 0 and row["ratio"] == pytest.approx(
                row["value"] / row["baseline"]), row
        if row["target"] is not None:
            assert row["met"] in (True, False), row
    targets = {row["measure"] for row in rows if row["target"] is not None}
    assert len(targets) >= 4, targets  # pipeline, record query, replay, memory
