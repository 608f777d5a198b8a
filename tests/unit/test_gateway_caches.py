"""What the gateway remembers between requests, and what it must not: a document's
validation (by its text), a verified token (never past its expiry, never across keys)."""

from __future__ import annotations

import base64
import datetime as dt
import os

import pytest

from gateway import schema as gateway_schema
from gateway.auth import AuthError, Caller, Role, issue_token, verify_token
from gateway.context import GatewayContext
from tests.unit.inmemory_node import NODE, LocalCommands, LocalKeys, LocalViews

AHORRO = "0192d3c4-0000-7000-8000-0000000c0e5b"


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("COOPBRIDGE_HOME", str(tmp_path))
    monkeypatch.delenv("COOPBRIDGE_SIGNING_KEY", raising=False)


@pytest.fixture
def validations(monkeypatch) -> list:
    seen = []
    real = gateway_schema.validate_document

    def counted(schema, document, rules):
        seen.append(document)
        return real(schema, document, rules)

    monkeypatch.setattr(gateway_schema, "validate_document", counted)
    monkeypatch.setattr(gateway_schema.TextValidationCache, "_errors", type(
        gateway_schema.TextValidationCache._errors)())
    return seen


async def run(schema, query: str):
    views, keys = LocalViews(), LocalKeys()
    context = GatewayContext(node=NODE, caller=Caller("op", Role.NODE_ADMIN), views=views, keys=keys,
                             commands=LocalCommands(views, keys))
    return await schema.execute(query, context_value=context)


async def test_a_document_is_validated_once_per_text_and_its_errors_every_time(validations):
    schema = gateway_schema.build_schema(development=False)
    for _ in range(3):
        assert (await run(schema, '{ cooperative(id: "x") { name } }')).errors is None
    assert len(validations) == 1  # the limits' rules are the same classes on every request
    aliases = '{ member(id: "x") { ' + " ".join(f"a{i}: memberId" for i in range(40)) + " } }"
    for _ in range(2):
        result = await run(schema, aliases)
        assert result.errors and "aliases" in result.errors[0].message
    assert len(validations) == 2


async def test_introspection_is_refused_from_the_cache_too(validations):
    production = gateway_schema.build_schema(development=False)
    development = gateway_schema.build_schema(development=True)
    query = "{ __schema { queryType { name } } }"
    for _ in range(2):
        assert (await run(production, query)).errors
        assert (await run(development, query)).errors is None


def test_a_verified_token_is_refused_once_it_expires():
    token = issue_token("es", Role.STAFF, AHORRO, ttl=dt.timedelta(hours=1))
    assert verify_token("es", token).cooperative_id == AHORRO
    assert verify_token("es", token).cooperative_id == AHORRO  # remembered
    with pytest.raises(AuthError):
        verify_token("es", token, now=dt.datetime.now(dt.UTC) + dt.timedelta(hours=2))


def test_a_verified_token_is_checked_again_under_a_new_key(monkeypatch):
    token = issue_token("es", Role.STAFF, AHORRO)
    assert verify_token("es", token).role is Role.STAFF
    monkeypatch.setenv("COOPBRIDGE_SIGNING_KEY", base64.urlsafe_b64encode(os.urandom(32)).decode())
    with pytest.raises(AuthError):
        verify_token("es", token)



def test_a_refused_token_is_refused_every_time():
    token = issue_token("es", Role.STAFF, AHORRO)
    tampered = token[:-6] + ("AAAAAA" if not token.endswith("AAAAAA") else "BBBBBB")
    for _ in range(2):
        with pytest.raises(AuthError):
            verify_token("es", tampered)


async def test_a_timeline_read_page_by_page_is_the_whole_timeline():
    from tests.unit.test_gateway_schema import (ADMIN, AHORRO as COOP, MADRID_STAFF, Node,
                                                cooperative, rosa_joins)
    node = Node()
    await node.mutate("registerCooperative",
                      cooperative(COOP, "Ahorro Solidario Madrid", "ES", "EUR", "25.00"), ADMIN)
    rosa = (await rosa_joins(node))["rosa"]
    query = """query($id: ID!, $first: Int!, $after: String) {
        memberHistory(memberId: $id, first: $first, after: $after) {
          edges { cursor node { type } } pageInfo { hasNextPage endCursor } } }"""
    whole = (await node.ok(query, MADRID_STAFF, id=rosa, first=100))["memberHistory"]
    assert not whole["pageInfo"]["hasNextPage"] and len(whole["edges"]) == 4
    paged, after = [], None
    while True:
        page = (await node.ok(query, MADRID_STAFF, id=rosa, first=1,
                              after=after))["memberHistory"]
        paged += page["edges"]
        after = page["pageInfo"]["endCursor"]
        if not page["pageInfo"]["hasNextPage"]:
            break
    assert paged == whole["edges"]
    assert after == whole["pageInfo"]["endCursor"]
