"""The partner guide's examples run as a partner runs them, against a node of processes: the
curl script, the Python script (gql) and the JavaScript one (graphql-ws and fetch on
Node.js), each as its own process with only the variables the guide names."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from gateway.auth import Role, issue_token
from tests.partner_guide import DOCS
from services.runtime.ids import new_id
from tests.e2e.test_rosa_over_http import client_for, mutation, request

pytestmark = pytest.mark.kafka

EXAMPLES = DOCS / "examples"


def run(command: list[str], env: dict, cwd=EXAMPLES) -> str:
    done = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, (command, done.stdout[-2000:], done.stderr[-2000:])
    return done.stdout


@pytest.fixture(scope="module")
def javascript_packages() -> None:
    """The example's packages (``make test`` installs them; ``npm ci`` here otherwise)."""
    folder = EXAMPLES / "javascript"
    if not (folder / "node_modules" / "graphql-ws").exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=folder, check=True,
                       capture_output=True, timeout=300)


async def test_the_guides_examples_run_against_a_node(node_processes, monkeypatch,
                                                      javascript_packages):
    node, url, env = node_processes
    monkeypatch.setenv("COOPBRIDGE_HOME", env["COOPBRIDGE_HOME"])  # the node's signing key
    cooperative = new_id()
    async with client_for(url, issue_token(node, Role.NODE_ADMIN)) as session:
        done = await session.execute(request(mutation("registerCooperative"), input={
            "cooperativeId": cooperative, "name": "Kooperatiba ng mga Manggagawa",
            "country": "PH", "kind": "WORKER", "languages": ["tl", "en"], "node": node,
            "currency": "PHP", "sharePrice": {"amount": "500.00", "currency": "PHP"}}))
    assert done["registerCooperative"]["__typename"] == "CommandAccepted", done
    partner = {"PATH": os.environ["PATH"], "COOPBRIDGE_URL": url,
               "COOPBRIDGE_TOKEN": issue_token(node, Role.STAFF, cooperative),
               "COOPERATIVE_ID": cooperative, "CURRENCY": "PHP"}

    # Python with gql: a member joins and opens an account
    onboarded = json.loads(run([sys.executable, "onboard.py"], partner))
    member, account = onboarded["memberId"], onboarded["accountId"]
    assert onboarded["record"] == {
        "identity": {"givenNames": "Amihan"},
        "memberships": [{"cooperativeId": cooperative, "active": True}],
        "accounts": [{"id": account, "product": "savings",
                      "balance": {"amount": "0.00", "currency": "PHP"}}]}

    # curl: a deposit, then the same again with the same key: one deposit, the same answer
    with_ids = {**partner, "MEMBER_ID": member, "ACCOUNT_ID": account, "KEY": "till-3-0042"}
    first, again = (run([shutil.which("sh"), "deposit.sh"], with_ids).splitlines()
                    for _ in range(2))
    deposited = json.loads(first[0])["data"]["depositFunds"]
    assert deposited["__typename"] == "CommandAccepted" and deposited["visible"] is True
    assert json.loads(again[0]) == json.loads(first[0])
    [balance] = json.loads(again[1])["data"]["member"]["accounts"]
    assert balance["balance"] == {"amount": "125.50", "currency": "PHP"}

    # JavaScript: follow her events live, deposit, see the deposit's event
    followed = json.loads(run(["node", "follow.mjs"], with_ids, cwd=EXAMPLES / "javascript"))
    assert followed["deposit"] == {"__typename": "CommandAccepted", "visible": True}
    assert followed["event"]["type"] == "FundsDeposited"
    assert followed["event"]["summary"] == "deposited 20.00 PHP"
