"""Hostile GraphQL at length, against a running node (its three services and its gateway as
processes, production mode): schemathesis-generated operations sent with a valid token, with
none, and with every kind of bad token (forged, expired, not yet valid, another node's, an
unknown role, unsigned, a tampered payload), and the abuse corpus of the everyday e2e test,
again and again. No 5xx ever, no internals in any answer, and a bad token is anonymous: it gets
exactly what no token gets, so no member, no cooperative, no accepted mutation.

``runs()`` batches of 200 generated operations (5,000 in ``make chaos``), every other one
aimed at a real member and her cooperative; each goes out with no token (the yardstick), a
valid one, and three of the ten bad ones in turn. Before each batch a few fixed probes (her
record, her cooperative's members, her timeline, two mutations) go out with every bad token,
and after it the abuse corpus with every token.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import json
import os
import warnings

import aiohttp
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings

from gateway.auth import AUDIENCE, Role, issue_token
from services import config
from services.runtime.ids import new_id
from tests.chaos.figures import record, runs
from tests.e2e import conftest as e2e
from tests.e2e.test_hostile_graphql import LEAKS, SDL
from tests.e2e.test_hostile_graphql import \
    test_the_abuse_corpus_is_refused as abuse_corpus
from tests.e2e.test_rosa_over_http import mutation

pytestmark = pytest.mark.kafka

node_processes = e2e.node_processes  # the fixture: a node's processes, module-scoped

PER_RUN = 200
CONCURRENCY = 8
BAD_PER_OPERATION = 3


def _claims(node: str, role: str = "node_admin", **extra) -> dict:
    now = int(dt.datetime.now(dt.UTC).timestamp())
    return {"iss": node, "aud": AUDIENCE, "sub": "chaos", "role": role, "iat": now,
            "exp": now + 3600, **extra}


def _tampered(token: str, **changes) -> str:
    """The token's payload rewritten (a node admin, another cooperative…), its signature kept."""
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims.update(changes)
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{body}.{signature}"


def bad_tokens(node: str, own: str, other: str) -> dict[str, str]:
    """Tokens the gateway must treat as no token at all; the node's key (and another node's)
    come from ``COOPBRIDGE_HOME``, as ``coopbridge token`` finds them."""
    key = Ed25519PrivateKey.from_private_bytes(config.signing_key(node))
    stranger = Ed25519PrivateKey.generate()
    now = dt.datetime.now(dt.UTC)
    other_node = "t" + os.urandom(4).hex()
    return {
        "forged": jwt.encode(_claims(node), stranger, algorithm="EdDSA"),
        "forged staff": jwt.encode(_claims(node, "staff", cooperative=own), stranger,
                                   algorithm="EdDSA"),
        "expired": issue_token(node, Role.NODE_ADMIN, ttl=dt.timedelta(hours=1),
                               now=now - dt.timedelta(days=2)),
        "not yet valid": issue_token(node, Role.NODE_ADMIN, now=now + dt.timedelta(days=1)),
        "not before": jwt.encode(_claims(node, nbf=int(now.timestamp()) + 86400), key,
                                 algorithm="EdDSA"),
        "another node": issue_token(other_node, Role.NODE_ADMIN),
        "unknown role": jwt.encode(_claims(node, "superuser"), key, algorithm="EdDSA"),
        "unsigned": jwt.encode(_claims(node), None, algorithm="none"),
        "tampered": _tampered(issue_token(node, Role.STAFF, other), role="node_admin"),
        "tampered cooperative": _tampered(issue_token(node, Role.STAFF, other), cooperative=own),
    }


class Gateway:
    """One HTTP session to the gateway; every answer is counted and checked for internals."""

    def __init__(self, url: str, session: aiohttp.ClientSession):
        self.url, self.session = url, session
        self.sent = self.server_errors = 0
        self.leaks: list[str] = []
        self.limit = asyncio.Semaphore(CONCURRENCY)

    async def post(self, document: str, token: str | None, **variables) -> tuple[int, dict | None]:
        headers = {"content-type": "application/json"}
        if token:
            headers["authorization"] = f"Bearer {token}"
        body = json.dumps({"query": document, **({"variables": variables} if variables else {})})
        async with self.limit:
            async with self.session.post(self.url, data=body, headers=headers) as response:
                text = await response.text()
                status = response.status
        self.sent += 1
        if status >= 500:
            self.server_errors += 1
        try:
            answer = json.loads(text)
        except ValueError:
            answer = None
        # the everyday test's checks on every error and every answer that is not JSON (an
        # authorised answer may carry the node's public URL, which is no internal detail)
        errors = answer.get("errors") if isinstance(answer, dict) else None
        if LEAKS.search(json.dumps(errors) if answer is not None else text):
            self.leaks.append(f"{status} {document[:200]!r} -> {text[:300]}")
        return status, answer


def generated(count: int) -> list[str]:
    import schemathesis.graphql

    warnings.filterwarnings("ignore", module="schemathesis")
    strategy = schemathesis.graphql.from_file(SDL).as_strategy()
    documents: list[str] = []

    @settings(max_examples=count, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(strategy)
    def collect(case):
        documents.append(case.body)

    collect()
    return documents


def aimed(document: str, member: str, cooperative: str) -> str:
    """The same operation pointed at real data: every ``id``/``…Id`` string argument names
    the member or her cooperative, and every mutation says which result type it got
    (a generated selection often asks only for types the answer is not)."""
    from graphql import (FieldNode, NameNode, OperationType, StringValueNode, Visitor,
                         parse, print_ast, visit)

    class Aim(Visitor):
        def enter_argument(self, node, *_):
            return self._aim(node)

        def enter_object_field(self, node, *_):
            return self._aim(node)

        @staticmethod
        def _aim(node):
            name = node.name.value
            if isinstance(node.value, StringValueNode) and (name == "id" or name.endswith("Id")):
                target = cooperative if name == "cooperativeId" else member
                return node.__class__(name=node.name, value=StringValueNode(value=target))
            return None

    def changed(node, **changes):
        return node.__class__(**{**{k: getattr(node, k) for k in node.keys}, **changes})

    tree = visit(parse(document), Aim())
    typename = FieldNode(name=NameNode(value="__typename"))
    tree = changed(tree, definitions=tuple(
        changed(operation, selection_set=changed(operation.selection_set, selections=tuple(
            changed(field, selection_set=changed(field.selection_set, selections=(
                typename, *field.selection_set.selections)))
            if isinstance(field, FieldNode) and field.selection_set is not None else field
            for field in operation.selection_set.selections)))
        if getattr(operation, "operation", None) is OperationType.MUTATION else operation
        for operation in tree.definitions))
    return print_ast(tree)


def accepted(answer: dict | None) -> bool:
    return "CommandAccepted" in json.dumps(answer)


#: A code that cannot be redeemed, and a code tried too often from one address: the second
#: depends on how many tries came before (this test sends thousands), not on any token.
CODE_REFUSALS = {"ActivationInvalid", "TooManyAttempts"}


def alike(answer):
    """``answer`` with every refused activation code the same refusal."""
    if isinstance(answer, list):
        return [alike(x) for x in answer]
    if isinstance(answer, dict):
        if answer.get("__typename") in CODE_REFUSALS or answer.get("code") in CODE_REFUSALS:
            return {"refused": "activation code"}
        return {k: alike(v) for k, v in answer.items()}
    return answer


async def test_bad_tokens_are_anonymous_through_thousands_of_hostile_operations(
        node_processes, monkeypatch):
    node, url, env = node_processes
    own, other, rosa = new_id(), new_id(), new_id()
    with monkeypatch.context() as patch:  # the node's signing key (the figures stay ours)
        patch.setenv("COOPBRIDGE_HOME", env["COOPBRIDGE_HOME"])
        admin = issue_token(node, Role.NODE_ADMIN)
        staff = issue_token(node, Role.STAFF, own)
        outsider = issue_token(node, Role.STAFF, other)
        bad = bad_tokens(node, own, other)
    allowed: list[str] = []
    corpus_failures: list[str] = []
    # idle connections are let go before uvicorn's 5 s keep-alive closes them under us
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(
            keepalive_timeout=2)) as session:
        gateway = Gateway(url, session)

        # Rosa, a member of one cooperative on this node, and a second cooperative
        def coop(cid: str, name: str) -> dict:
            return {"cooperativeId": cid, "name": name, "country": "ES",
                    "kind": "SAVINGS_AND_CREDIT", "languages": ["es"], "node": node,
                    "currency": "EUR", "sharePrice": {"amount": "25.00", "currency": "EUR"}}

        person = {"givenNames": "Rosa", "familyNames": "Quispe", "dateOfBirth": "1988-04-17",
                  "nationality": "EC", "preferredLanguages": ["es-EC"]}
        for token, name, input in [
                (admin, "registerCooperative", coop(own, "Ahorro Solidario")),
                (admin, "registerCooperative", coop(other, "Otra Cooperativa")),
                (staff, "registerMember", {"memberId": rosa, "personal": person}),
                (staff, "startMembership", {"memberId": rosa, "cooperativeId": own,
                                            "startedOn": "2019-05-06", "shareCapitalRequired": {
                                                "amount": "50.00", "currency": "EUR"}})]:
            _, answer = await gateway.post(mutation(name), token, input=input)
            result = answer["data"][name]
            assert result["__typename"] == "CommandAccepted" and result["visible"], result

        probes = {
            "member": ("query($id: ID!) { member(id: $id) { memberId identity { givenNames } "
                       "memberships { cooperativeId } } }", {"id": rosa}),
            "members": ("query($c: ID!) { members(cooperativeId: $c) { totalCount "
                        "edges { node { memberId } } } }", {"c": own}),
            "history": ("query($id: ID!) { memberHistory(memberId: $id) { edges { node "
                        "{ type } } } }", {"id": rosa}),
            "cooperative": ("query($c: ID!) { cooperative(id: $c) { name } }", {"c": own}),
            "register": (mutation("registerMember"), {"input": {"memberId": new_id(),
                                                                "personal": person}}),
            "open account": (mutation("openAccount"), {"input": {
                "accountId": new_id(), "memberId": rosa, "cooperativeId": own,
                "product": "SAVINGS", "currency": "EUR"}}),
        }
        # the yardsticks: her own cooperative sees her, the other one does not
        _, seen = await gateway.post(probes["member"][0], staff, **probes["member"][1])
        assert seen["data"]["member"]["identity"] == {"givenNames": "Rosa"}, seen
        _, unseen = await gateway.post(probes["member"][0], outsider, **probes["member"][1])
        assert unseen["data"] == {"member": None}, unseen

        async def probe(kind: str, token: str) -> None:
            for name, (document, variables) in probes.items():
                status, answer = await gateway.post(document, token, **variables)
                data = (answer or {}).get("data") or {}
                if name in ("register", "open account"):  # refused before anything else
                    wrong = [v for v in data.values()
                             if (v or {}).get("__typename") != "NotAuthorized"]
                else:  # a denied read looks like a missing one
                    wrong = [v for v in data.values() if v is not None]
                if status != 200 or accepted(answer) or wrong or not data:
                    allowed.append(f"{kind}: {name} -> {status} {answer}")

        kinds = list(bad)

        async def attack(number: int, document: str) -> None:
            if number % 2:  # every other one at Rosa and her cooperative
                document = aimed(document, rosa, own)
            _, anonymous = await gateway.post(document, None)
            await gateway.post(document, admin)  # a valid token: anything but a 5xx or a leak

            async def one(kind: str) -> None:
                _, answer = await gateway.post(document, bad[kind])
                if accepted(answer) or alike(answer) != alike(anonymous):
                    allowed.append(f"{kind}: {document[:200]!r} -> {json.dumps(answer)[:300]}"
                                   f" (anonymous: {json.dumps(anonymous)[:200]})")

            # BAD_PER_OPERATION of the bad tokens, in turn, so each meets every kind of operation
            await asyncio.gather(*(one(kinds[(number * BAD_PER_OPERATION + i) % len(kinds)])
                                   for i in range(BAD_PER_OPERATION)))

        operations = 0
        for _ in range(runs()):
            await asyncio.gather(*(probe(kind, token) for kind, token in bad.items()))
            documents: list[str] = []
            while len(documents) < PER_RUN:  # hypothesis may stop short of max_examples
                documents += await asyncio.to_thread(generated, PER_RUN - len(documents))
            await asyncio.gather(*(attack(operations + i, document)
                                   for i, document in enumerate(documents)))
            operations += len(documents)
            for kind, token in [("valid", admin), ("none", None), *bad.items()]:
                try:
                    await abuse_corpus(node_processes, token)
                except AssertionError as failure:  # a 5xx, a leak or not refused: a violation
                    corpus_failures.append(f"{kind}: {str(failure)[:300]}")
                gateway.sent += 9  # the corpus: six documents, bad JSON, a GET, a forged token

    record("hostile graphql", runs=runs(), malformed=gateway.sent, **{"5xx": gateway.server_errors},
           allowed=len(allowed), violations=len(gateway.leaks) + len(corpus_failures))
    print(f"{operations} generated operations, {gateway.sent} requests")
    assert operations >= PER_RUN * runs(), operations
    assert gateway.server_errors == 0
    assert not gateway.leaks, gateway.leaks[:5]
    assert not corpus_failures, corpus_failures[:5]
    assert not allowed, allowed[:5]
