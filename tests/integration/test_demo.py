"""``coopbridge demo`` against two running nodes: every mutation accepted, a federation the
analysts' aggregates can show (cooperatives, countries, a year of months), and a second run
of the same seed that changes nothing.

The nodes are the federation end-to-end test's: every process of both, each node with its
own signing key. The CLI signs tokens with the keys in ``$COOPBRIDGE_HOME``, so it runs with
a home that holds both nodes' key files."""

from __future__ import annotations

import shutil
import time

import httpx
import pytest
from click.testing import CliRunner

from deploy import demo
from deploy.cli import main
from gateway.auth import Role, issue_token
from gateway.figures.cache import FRESH_SECONDS
from tests.e2e import test_federation_over_http as over_http

pytestmark = pytest.mark.kafka

federation = over_http.federation  # both nodes' processes, as the federation e2e test runs them

STATS = """query($by: StatsDimension!) { federationStats(filter: {groupBy: $by}) { cells {
    key suppressed members joined left returnedHome arrivedHome
    deposits { amount currency }
    savingsBalance { amount currency } remittancesSent remittanceVolume { amount currency }
    averageFeePercent coursesCompleted { key count } cefrLevels { key count } certificates } } }"""
DIMENSIONS = ("COOPERATIVE", "COUNTRY", "MONTH")


def stats(fed) -> dict:
    """Every node's aggregates by every dimension the test looks at (node admin's view)."""
    found = {}
    for role, node in fed.nodes.items():
        with over_http._home(fed.env[role]):
            token = issue_token(node, Role.NODE_ADMIN)
        for by in DIMENSIONS:
            body = httpx.post(fed.url(role), json={"query": STATS, "variables": {"by": by}},
                              headers={"Authorization": f"Bearer {token}"}, timeout=60).json()
            found[(role, by)] = body["data"]["federationStats"]["cells"]
    return found


def settled_stats(fed, timeout: float = 45.0) -> dict:
    """The aggregates once two readings agree (couriers and relays done), taken further apart
    than the figures may be old (``FRESH_SECONDS``), so the second is not the first kept."""
    deadline, last = time.monotonic() + timeout, stats(fed)
    while True:
        time.sleep(FRESH_SECONDS + 1)
        now = stats(fed)
        if now == last or time.monotonic() > deadline:
            return now
        last = now


def shown(cells: list[dict]) -> set[str]:
    return {c["key"] for c in cells if not c["suppressed"]}


def test_the_demo_seeds_a_federation_and_the_same_seed_again_changes_nothing(
        federation, tmp_path):
    fed = federation
    keys = tmp_path / "keys"
    keys.mkdir()
    for role, node in fed.nodes.items():  # the CLI signs tokens for both nodes
        shutil.copy(fed.root / role / f"{node}.signing-key", keys)
    command = ["demo", "--seed", "7", "--members", "120",
               "--url", fed.url("host", ""), "--url", fed.url("home", "")]

    first = CliRunner().invoke(main, command, env={"COOPBRIDGE_HOME": str(keys)})
    print(first.output[-1500:])  # the summary: counts and speed, no personal data
    assert first.exit_code == 0, first.output[-3000:]
    assert "Rosa's savings arrived home" in first.output
    seeded = settled_stats(fed)

    cooperatives = sum(len(shown(seeded[(role, "COOPERATIVE")])) for role in fed.nodes)
    countries = shown(seeded[("host", "COUNTRY")]) | shown(seeded[("home", "COUNTRY")])
    months = shown(seeded[("host", "MONTH")])
    assert cooperatives >= 12, seeded
    assert len(countries) >= 6 and {"ES", "IT", "US", "EC", "PH", "MA"} <= countries, countries
    assert len(months) >= 10, months
    if demo.BOOKED_ON:  # the money is booked in its month, not all today
        saved_in = {c["key"] for c in seeded[("host", "MONTH")] if c["deposits"]}
        assert len(saved_in) >= 10, saved_in
    # Rosa and a few others went home, records and all
    assert sum(c["returnedHome"] or 0 for c in seeded[("host", "COUNTRY")]) >= 2
    assert sum(c["arrivedHome"] or 0 for c in seeded[("home", "COUNTRY")]) >= 2

    again = CliRunner().invoke(main, command, env={"COOPBRIDGE_HOME": str(keys)})
    print(again.output[-600:])
    assert again.exit_code == 0, again.output[-3000:]
    assert stats(fed) == seeded
