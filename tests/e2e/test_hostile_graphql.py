"""Hostile GraphQL against the running gateway (production mode): the abuse corpus, and
schemathesis-generated operations with a valid token and with none. No 5xx, no internals."""

from __future__ import annotations

import json
import os
import re
import warnings

import aiohttp
import pytest
from hypothesis import HealthCheck, given, settings

from gateway.auth import Role, issue_token
from gateway.schema import build_schema

pytestmark = pytest.mark.kafka

#: What must never reach a caller: stack traces, exception names, paths, broker details.
LEAKS = re.compile(r"Traceback|File \"|\.py\b|Exception|KeyError|TypeError|AttributeError|"
                   r"aiokafka|rocksdict|/work/|/tmp/|127\.0\.0\.1", re.I)


async def post(url: str, document: str | bytes, token: str | None) -> tuple[int, dict | None]:
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    body = document if isinstance(document, bytes) else json.dumps({"query": document})
    async with aiohttp.ClientSession() as session:
        async with session.post(url, data=body, headers=headers) as response:
            text = await response.text()
            assert not LEAKS.search(text), text[:500]
            try:
                return response.status, json.loads(text)
            except ValueError:
                return response.status, None


@pytest.fixture(scope="module")
def admin_token(node_processes):
    node, _, env = node_processes
    previous = os.environ.get("COOPBRIDGE_HOME")
    os.environ["COOPBRIDGE_HOME"] = env["COOPBRIDGE_HOME"]
    try:
        yield issue_token(node, Role.NODE_ADMIN)
    finally:
        if previous is None:
            os.environ.pop("COOPBRIDGE_HOME", None)
        else:
            os.environ["COOPBRIDGE_HOME"] = previous


def refused(status: int, body: dict | None) -> bool:
    """Turned away: a 4xx, or a GraphQL error with no data."""
    return 400 <= status < 500 or (status == 200 and body and body.get("errors")
                                   and not body.get("data"))


async def test_the_abuse_corpus_is_refused(node_processes, admin_token):
    _, url, _ = node_processes
    deep = "{ member(id: \"x\") { " + "memberships { " * 49 + "role" + " }" * 50 + " }"
    aliases = "{ member(id: \"x\") { " + " ".join(f"a{i}: memberId" for i in range(1000)) + " } }"
    hidden = ("query { member(id: \"x\") { ...F } } fragment F on Member { "
              + " ".join(f"b{i}: memberId" for i in range(1000)) + " }")
    megabyte = "{ member(id: \"" + "x" * 1_048_576 + "\") { memberId } }"
    huge_page = "{ members(cooperativeId: \"x\", first: 100000000) { totalCount } }"
    introspection = "{ __schema { types { name } } }"
    for document in (deep, aliases, hidden, megabyte, huge_page, introspection):
        status, body = await post(url, document, admin_token)
        assert status < 500 and refused(status, body), (document[:60], status, body)
    status, _ = await post(url, b"{not json", admin_token)
    assert 400 <= status < 500
    async with aiohttp.ClientSession() as session:  # queries by GET are off
        async with session.get(url, params={"query": "{ __typename }"},
                               headers={"authorization": f"Bearer {admin_token}"}) as response:
            assert 400 <= response.status < 500, response.status
    status, body = await post(url, "{ member(id: \"x\") { memberId } }", "forged.token.here")
    assert status == 200 and body["data"] == {"member": None}


SDL = str(build_schema(development=True))


async def test_generated_operations_never_break_the_gateway(node_processes, admin_token):
    import schemathesis.graphql

    _, url, _ = node_processes
    warnings.filterwarnings("ignore", module="schemathesis")
    strategy = schemathesis.graphql.from_file(SDL).as_strategy()
    documents: list[str] = []

    @settings(max_examples=300, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(strategy)
    def collect(case):
        documents.append(case.body)

    collect()
    assert len(documents) >= 250
    statuses = []
    for document in documents:
        for token in (admin_token, None):
            status, body = await post(url, document, token)
            statuses.append(status)
            assert status < 500, (status, document[:300], body)
            for error in (body or {}).get("errors", []):
                assert "Unexpected error." == error["message"] or not LEAKS.search(
                    error["message"]), error
    assert len(statuses) >= 500
