"""End to end over HTTP: a real broker, the three services and the gateway as separate
processes, and a stock GraphQL client (gql). Rosa's story at the host node through
mutations only, then one query returns her whole record."""

from __future__ import annotations

import asyncio
import json

import pytest
import websockets
from gql import Client, gql
from gql.transport.aiohttp import AIOHTTPTransport
from gql.transport.websockets import WebsocketsTransport

from gateway.auth import Role, issue_token
from services.runtime.ids import new_id
from tests.e2e.conftest import due_soon_paid_today

pytestmark = pytest.mark.kafka


def client_for(url: str, token: str) -> Client:
    return Client(transport=AIOHTTPTransport(url=url, headers={
        "Authorization": f"Bearer {token}"}), fetch_schema_from_transport=False)


def request(document: str, **variables):
    prepared = gql(document)
    prepared.variable_values = variables
    return prepared


def mutation(name: str) -> str:
    return (f"mutation($input: {name[0].upper()}{name[1:]}Input!) {{ {name}(input: $input) "
            "{ __typename ... on CommandAccepted { visible } ... on Problem { code message } } }")


async def test_rosas_story_through_mutations_then_one_query_returns_her_record(
        node_processes, monkeypatch):
    node, url, env = node_processes
    monkeypatch.setenv("COOPBRIDGE_HOME", env["COOPBRIDGE_HOME"])  # the node's signing key
    madrid, quito = new_id(), new_id()
    admin = issue_token(node, Role.NODE_ADMIN)
    staff = issue_token(node, Role.STAFF, madrid)
    boss = issue_token(node, Role.ADMIN, madrid)
    rosa, savings, mother, mothers, loan = new_id(), new_id(), new_id(), new_id(), new_id()
    first_due, paid_today = due_soon_paid_today()
    course, certificate = new_id(), new_id()

    def coop(cid, name, country, currency):
        return {"cooperativeId": cid, "name": name, "country": country,
                "kind": "SAVINGS_AND_CREDIT", "languages": ["es"], "node": node,
                "currency": currency, "sharePrice": {"amount": "25.00", "currency": currency}}

    person = {"givenNames": "Rosa", "familyNames": "Quispe", "dateOfBirth": "1988-04-17",
              "nationality": "EC", "preferredLanguages": ["es-EC"]}
    story = [
        (admin, "registerCooperative", coop(madrid, "Ahorro Solidario Madrid", "ES", "EUR")),
        (admin, "registerCooperative", coop(quito, "Cooperativa Andina", "EC", "USD")),
        (staff, "registerMember", {"memberId": rosa, "personal": person}),
        (staff, "startMembership", {"memberId": rosa, "cooperativeId": madrid,
                                    "startedOn": "2019-05-06", "shareCapitalRequired": {
                                        "amount": "50.00", "currency": "EUR"}}),
        (staff, "openAccount", {"accountId": savings, "memberId": rosa, "cooperativeId": madrid,
                                "product": "SAVINGS", "currency": "EUR"}),
        (staff, "depositFunds", {"accountId": savings,
                                 "amount": {"amount": "600.00", "currency": "EUR"}}),
        (admin, "registerMember", {"memberId": mother, "personal": {**person,
                                                                    "givenNames": "Elvira"}}),
        (admin, "startMembership", {"memberId": mother, "cooperativeId": quito,
                                    "startedOn": "2010-01-04", "shareCapitalRequired": {
                                        "amount": "20.00", "currency": "USD"}}),
        (admin, "openAccount", {"accountId": mothers, "memberId": mother, "cooperativeId": quito,
                                "product": "SAVINGS", "currency": "USD"}),
        (staff, "sendRemittance", {"accountId": savings, "remittanceId": new_id(),
                                   "amount": {"amount": "200.00", "currency": "EUR"},
                                   "to": {"account": {"accountId": mothers}}}),
        (staff, "openAccount", {"accountId": loan, "memberId": rosa, "cooperativeId": madrid,
                                "product": "LOAN", "currency": "EUR"}),
        (boss, "disburseLoan", {"accountId": loan, "principal": {"amount": "1200",
                                                                 "currency": "EUR"},
                                "annualRate": "0.12", "termMonths": 12,
                                "firstDueOn": first_due}),
        (staff, "recordRepayment", {"accountId": loan, "amount": {"amount": "106.62",
                                                                  "currency": "EUR"},
                                    "paidOn": paid_today}),
        (boss, "offerCourse", {"courseId": course, "cooperativeId": madrid, "kind": "LANGUAGE",
                               "titles": [{"language": "es", "title": "Español B1"}],
                               "languageTaught": "es-ES", "targetLevel": "B1", "hours": 80,
                               "startsOn": "2026-03-02", "endsOn": "2026-06-26",
                               "capacity": 20}),
        (staff, "enrolLearner", {"courseId": course, "memberId": rosa}),
        (staff, "completeCourse", {"courseId": course, "memberId": rosa, "result": "PASSED",
                                   "score": 84, "levelAttained": "B1",
                                   "completedOn": "2026-06-26"}),
        (staff, "issueCertificate", {"courseId": course, "memberId": rosa,
                                     "certificateId": certificate, "issuedOn": "2026-06-30"}),
    ]
    for token, name, input in story:
        async with client_for(url, token) as session:
            result = (await session.execute(request(mutation(name), input=input)))[name]
        assert result["__typename"] == "CommandAccepted" and result["visible"], (name, result)

    async with client_for(url, staff) as session:
        record = (await session.execute(request("""query($id: ID!) { member(id: $id) {
            identity { givenNames nationality }
            memberships { cooperativeId active }
            accounts { product balance { amount currency }
                       remittances { direction amount { amount } fee { amount } rate
                                     received { amount currency } corridor }
                       loan { outstanding { amount } repayments { instalment timing } } }
            certificates { title level } } }""", id=rosa)))["member"]
    assert record["identity"] == {"givenNames": "Rosa", "nationality": "EC"}
    assert record["memberships"] == [{"cooperativeId": madrid, "active": True}]
    by_product = {a["product"]: a for a in record["accounts"]}
    assert by_product["savings"]["balance"] == {"amount": "396.50", "currency": "EUR"}
    [sent] = by_product["savings"]["remittances"]
    assert sent == {"direction": "sent", "amount": {"amount": "200.00"},
                    "fee": {"amount": "3.50"}, "rate": "1.0842",
                    "received": {"amount": "216.84", "currency": "USD"}, "corridor": "ES-EC"}
    assert by_product["loan"]["loan"]["repayments"] == [{"instalment": 1, "timing": "on_time"}]
    assert record["certificates"] == [{"title": "Español B1", "level": "B1"}]

    # a subscription sees her events as they happen
    ws_url = url.replace("http://", "ws://")
    transport = WebsocketsTransport(url=ws_url, init_payload={"Authorization": f"Bearer {staff}"},
                                    subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL])
    async with Client(transport=transport) as live:
        events = live.subscribe(request("""subscription($id: ID!) { memberEvents(memberId: $id)
                                           { service type summary } }""", id=rosa))
        first = asyncio.ensure_future(events.__anext__())
        await asyncio.sleep(1)  # subscribed before she acts
        async with client_for(url, staff) as session:
            deposit = (await session.execute(request(mutation("depositFunds"), input={
                "accountId": savings, "amount": {"amount": "50.00", "currency": "EUR"}})))
        assert deposit["depositFunds"]["__typename"] == "CommandAccepted"
        seen = await asyncio.wait_for(first, 30)
    assert seen["memberEvents"]["type"] == "FundsDeposited"
    assert seen["memberEvents"]["summary"] == "deposited 50.00 EUR"


async def test_the_node_publishes_its_signing_key_as_a_jwks(node_processes, monkeypatch):
    node, url, env = node_processes
    monkeypatch.setenv("COOPBRIDGE_HOME", env["COOPBRIDGE_HOME"])
    import aiohttp
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from services.runtime.keys import public_jwk
    from services import config
    from services.runtime.keys import key_url

    async with aiohttp.ClientSession() as session:
        async with session.get(url.replace("/graphql", "/.well-known/jwks.json")) as response:
            assert response.status == 200
            published = await response.json()
    key = Ed25519PrivateKey.from_private_bytes(config.signing_key(node)).public_key()
    # each key under the kid its credentials carry (its URL at the port the gateway serves),
    # and under its thumbprint, which verifiers of the release before match exactly
    base = url.removesuffix("/graphql")
    assert published == {"keys": [public_jwk(key, kid=key_url(base, key)), public_jwk(key)]}
    assert "d" not in published["keys"][0]  # never the private part


async def test_a_subscription_without_a_valid_token_is_closed_with_4403(node_processes,
                                                                       monkeypatch):
    """graphql-transport-ws: a missing, unknown or forged token closes the connection at
    ``connection_init`` with 4403 Forbidden, instead of subscriptions that end silently."""
    node, url, env = node_processes
    monkeypatch.setenv("COOPBRIDGE_HOME", env["COOPBRIDGE_HOME"])  # the node's signing key
    forged = issue_token("zz", Role.NODE_ADMIN)  # another node's key
    for payload in ({}, {"Authorization": "Bearer not-a-token"},
                    {"Authorization": f"Bearer {forged}"}, {"authToken": forged}):
        async with websockets.connect(url.replace("http://", "ws://"),
                                      subprotocols=["graphql-transport-ws"]) as socket:
            await socket.send(json.dumps({"type": "connection_init", "payload": payload}))
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await asyncio.wait_for(socket.recv(), 10)
        assert closed.value.rcvd.code == 4403, payload
    # the same socket with a valid token in the payload (or in "headers") is acknowledged
    staff = issue_token(node, Role.NODE_ADMIN)
    for payload in ({"Authorization": f"Bearer {staff}"},
                    {"headers": {"authorization": f"Bearer {staff}"}}):
        async with websockets.connect(url.replace("http://", "ws://"),
                                      subprotocols=["graphql-transport-ws"]) as socket:
            await socket.send(json.dumps({"type": "connection_init", "payload": payload}))
            assert json.loads(await asyncio.wait_for(socket.recv(), 10)) == {
                "type": "connection_ack"}


async def test_a_socket_carries_subscriptions_only_and_closes_when_its_token_expires(
        node_processes, monkeypatch):
    """A socket's context is made once: a query or mutation over it would keep the caller and
    the clock of that moment, so it is refused (send it as HTTP POST); and the socket closes
    with 4403 when its token expires, even with no event to end its subscriptions."""
    import datetime as dt

    node, url, env = node_processes
    monkeypatch.setenv("COOPBRIDGE_HOME", env["COOPBRIDGE_HOME"])  # the node's signing key
    brief = issue_token(node, Role.NODE_ADMIN, ttl=dt.timedelta(seconds=3))
    async with websockets.connect(url.replace("http://", "ws://"),
                                  subprotocols=["graphql-transport-ws"]) as socket:
        await socket.send(json.dumps({"type": "connection_init",
                                      "payload": {"Authorization": f"Bearer {brief}"}}))
        assert json.loads(await asyncio.wait_for(socket.recv(), 10))["type"] == "connection_ack"
        for number, document in enumerate(("{ cooperatives { id } }",
                                            mutation("registerCooperative"))):
            await socket.send(json.dumps({"id": str(number), "type": "subscribe",
                                          "payload": {"query": document}}))
            answer = json.loads(await asyncio.wait_for(socket.recv(), 10))
            assert answer["type"] == "error" and answer["id"] == str(number)
            assert "subscriptions only" in answer["payload"][0]["message"]
        await socket.send(json.dumps({"id": "quiet", "type": "subscribe", "payload": {
            "query": 'subscription { federationActivity(country: "ZZ") { total } }'}}))
        with pytest.raises(websockets.ConnectionClosed) as closed:
            while True:  # nothing happens in ZZ (a window may end meanwhile, empty): only expiry
                window = json.loads(await asyncio.wait_for(socket.recv(), 15))
                assert window["payload"]["data"]["federationActivity"] == {"total": None}
    assert closed.value.rcvd.code == 4403 and "expired" in closed.value.rcvd.reason
    # the legacy graphql-ws protocol is not spoken: the only promises are transport-ws's
    async with websockets.connect(url.replace("http://", "ws://"),
                                  subprotocols=["graphql-ws"]) as legacy:
        with pytest.raises(websockets.ConnectionClosed) as refused:
            await asyncio.wait_for(legacy.recv(), 10)
    assert refused.value.rcvd.code == 4406  # Subprotocol not acceptable
