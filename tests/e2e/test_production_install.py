"""The project installed as production installs it: the Dockerfile's ``pip install .`` into a
fresh virtualenv, without the test extra, from the same files the Dockerfile copies. What
only the test extra brought (a WebSocket library: subscriptions answered HTTP 400 and the
gateway logged "No supported WebSocket library detected") is found here, not in production.

The node's services and gateway run from that environment's ``coopbridge`` command, outside
the repository; the test drives them with a stock client (gql) from the test environment.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from gql import Client
from gql.transport.websockets import WebsocketsTransport

from gateway.auth import Role, issue_token
from services import config
from services.runtime.ids import new_id
from tests.e2e.conftest import REPO, running_node
from tests.e2e.test_rosa_over_http import client_for, mutation, request

pytestmark = pytest.mark.kafka

#: What the Dockerfile copies before ``pip install .``.
SHIPPED = ("pyproject.toml", "README.md", "schemas", "services", "gateway", "deploy")
PACKAGES = ("schemas", "services", "gateway", "deploy")


@pytest.fixture(scope="module")
def production_env(tmp_path_factory) -> Path:
    """A virtualenv with ``pip install .`` of the shipped files, and nothing else."""
    folder = tmp_path_factory.mktemp("production")
    source = folder / "source"
    source.mkdir()
    for name in SHIPPED:
        copy = shutil.copytree if (REPO / name).is_dir() else shutil.copy2
        copy(REPO / name, source / name,
             **({"ignore": shutil.ignore_patterns("__pycache__")} if copy is shutil.copytree
                else {}))
    venv = folder / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    installed = subprocess.run(
        [str(venv / "bin" / "pip"), "install", "--quiet", "--disable-pip-version-check",
         str(source)], capture_output=True, text=True, timeout=900)
    assert installed.returncode == 0, installed.stderr[-3000:]
    return venv


def test_every_module_imports_without_the_test_extra(production_env, tmp_path):
    probe = ("import importlib, pkgutil\n"
             f"for name in {PACKAGES!r}:\n"
             "    package = importlib.import_module(name)\n"
             "    for module in pkgutil.walk_packages(package.__path__, name + '.'):\n"
             "        importlib.import_module(module.name)\n"
             "import websockets\n")
    done = subprocess.run([str(production_env / "bin" / "python"), "-c", probe], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    listed = subprocess.run([str(production_env / "bin" / "pip"), "list", "--format=freeze"],
                            capture_output=True, text=True).stdout.lower()
    assert "pytest" not in listed and "gql" not in listed  # truly without the test extra


async def test_an_installed_node_serves_subscriptions_over_graphql_transport_ws(
        production_env, kafka_bootstrap, tmp_path, monkeypatch):
    coopbridge = str(production_env / "bin" / "coopbridge")
    with running_node(kafka_bootstrap, tmp_path, "production",
                      coopbridge=coopbridge) as (node, url, env):
        monkeypatch.setenv(config.SIGNING_KEY, env[config.SIGNING_KEY])  # it signs our tokens
        coop, rosa, savings = new_id(), new_id(), new_id()
        operator = issue_token(node, Role.NODE_ADMIN)
        staff = issue_token(node, Role.STAFF, coop)
        async with client_for(url, operator) as session:
            registered = await session.execute(request(mutation("registerCooperative"), input={
                "cooperativeId": coop, "name": "Cooperativa de Ahorro Kallpa", "country": "PE",
                "kind": "SAVINGS_AND_CREDIT", "languages": ["es-PE", "qu"], "node": node,
                "currency": "PEN", "sharePrice": {"amount": "20.00", "currency": "PEN"}}))
        assert registered["registerCooperative"]["__typename"] == "CommandAccepted", registered
        async with client_for(url, staff) as session:
            for name, input in (
                    ("registerMember", {"memberId": rosa, "personal": {
                        "givenNames": "Rosa", "familyNames": "Quispe",
                        "dateOfBirth": "1988-04-17", "nationality": "PE",
                        "preferredLanguages": ["es-PE", "qu"]}}),
                    ("startMembership", {"memberId": rosa, "cooperativeId": coop,
                                         "startedOn": "2024-02-01", "shareCapitalRequired": {
                                             "amount": "100.00", "currency": "PEN"}}),
                    ("openAccount", {"accountId": savings, "memberId": rosa,
                                     "cooperativeId": coop, "product": "SAVINGS",
                                     "currency": "PEN"})):
                done = await session.execute(request(mutation(name), input=input))
                assert done[name]["__typename"] == "CommandAccepted", (name, done)
        transport = WebsocketsTransport(
            url=url.replace("http://", "ws://"), init_payload={"Authorization": f"Bearer {staff}"},
            subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL])
        async with Client(transport=transport) as live:
            events = live.subscribe(request("""subscription($id: ID!) {
                memberEvents(memberId: $id) { type summary } }""", id=rosa))
            first = asyncio.ensure_future(events.__anext__())
            await asyncio.sleep(1)  # subscribed before the deposit
            async with client_for(url, staff) as session:
                deposit = await session.execute(request(mutation("depositFunds"), input={
                    "accountId": savings, "amount": {"amount": "35.50", "currency": "PEN"}}))
            assert deposit["depositFunds"]["__typename"] == "CommandAccepted", deposit
            seen = await asyncio.wait_for(first, 30)
        gateway_log = (tmp_path / "process-3.log").read_text()  # the gateway's, after 3 services
    assert seen["memberEvents"] == {"type": "FundsDeposited", "summary": "deposited 35.50 PEN"}
    assert "No supported WebSocket library" not in gateway_log
