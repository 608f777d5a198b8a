"""The two serious findings of the security review (issue 18), end to end with stock clients
(gql over HTTP and over graphql-transport-ws) against a node of processes:

* a consent to read her memberships no longer lets a cooperative start one and become "her
  own" for ever: joining is a separate, one-time consent; a cooperative admitted under it
  sees and does only what her consents allow, and nothing once they are revoked;
* a socket no longer freezes the caller and the clock: queries and mutations over it are
  refused, and it closes when its token expires.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt

import pytest
from gql import Client, gql
from gql.transport.exceptions import (
    TransportClosed,
    TransportConnectionFailed,
    TransportQueryError,
)
from gql.transport.aiohttp import AIOHTTPTransport
from gql.transport.websockets import WebsocketsTransport

from gateway.auth import Role, issue_token
from gateway.schema import build_schema
from services.runtime.ids import new_id
from tests.e2e.test_rosa_over_http import client_for, mutation, request

pytestmark = pytest.mark.kafka

RESULT = "{ __typename ... on CommandAccepted { visible } ... on Problem { code message } }"
MEMBER = """query($id: ID!) { member(id: $id) { id identity { familyNames }
    memberships { cooperativeId consentId } consents { id } accounts { id } } }"""


async def send(url: str, token: str, name: str, input: dict) -> dict:
    document = (f"mutation($input: {name[0].upper()}{name[1:]}Input!) "
                f"{{ {name}(input: $input) {RESULT} }}")
    async with client_for(url, token) as session:
        return (await session.execute(request(document, input=input)))[name]


async def read(url: str, token: str, member: str) -> dict | None:
    async with client_for(url, token) as session:
        return (await session.execute(request(MEMBER, id=member)))["member"]


def cooperative(cid: str, name: str, node: str) -> dict:
    return {"cooperativeId": cid, "name": name, "country": "ES", "kind": "SAVINGS_AND_CREDIT",
            "languages": ["es"], "node": node, "currency": "EUR",
            "sharePrice": {"amount": "25.00", "currency": "EUR"}}


async def test_a_consent_to_read_is_not_a_consent_to_join_and_joining_gives_no_control(
        node_processes, monkeypatch):
    node, url, env = node_processes
    monkeypatch.setenv("COOPBRIDGE_HOME", env["COOPBRIDGE_HOME"])  # the node's signing key
    madrid, other, rosa = new_id(), new_id(), new_id()
    admin = issue_token(node, Role.NODE_ADMIN)
    madrid_staff = issue_token(node, Role.STAFF, madrid)
    other_staff = issue_token(node, Role.STAFF, other)
    other_admin = issue_token(node, Role.ADMIN, other)
    for cid, name in ((madrid, "Ahorro Solidario Madrid"), (other, "Otra Cooperativa")):
        assert (await send(url, admin, "registerCooperative", cooperative(cid, name, node)))[
            "__typename"] == "CommandAccepted"
    today = dt.datetime.now(dt.UTC).date().isoformat()
    for name, input in (
            ("registerMember", {"memberId": rosa, "personal": {
                "givenNames": "Rosa", "familyNames": "Quispe", "dateOfBirth": "1988-04-17",
                "nationality": "EC", "preferredLanguages": ["es-EC"]}}),
            ("startMembership", {"memberId": rosa, "cooperativeId": madrid,
                                 "startedOn": "2019-05-06", "shareCapitalRequired": {
                                     "amount": "50.00", "currency": "EUR"}})):
        assert (await send(url, madrid_staff, name, input))["__typename"] == "CommandAccepted"
    expires = (dt.datetime.now(dt.UTC) + dt.timedelta(days=30)).isoformat()
    reading, joining = new_id(), new_id()
    granted = await send(url, madrid_staff, "grantConsent", {
        "memberId": rosa, "consentId": reading, "granteeKind": "COOPERATIVE", "grantee": other,
        "scopes": ["MEMBERSHIP"], "expiresAt": expires})
    assert granted["__typename"] == "CommandAccepted"
    join = {"memberId": rosa, "cooperativeId": other, "startedOn": today,
            "shareCapitalRequired": {"amount": "25.00", "currency": "EUR"}}
    # the review's attack: a membership started with only a consent to read it
    attack = await send(url, other_staff, "startMembership", {**join, "role": "BOARD_MEMBER"})
    assert attack["__typename"] == "NotAuthorized", attack

    # with her consent to join: admitted once, as a member, never onto the board
    granted = await send(url, madrid_staff, "grantConsent", {
        "memberId": rosa, "consentId": joining, "granteeKind": "COOPERATIVE", "grantee": other,
        "join": True, "expiresAt": expires})
    assert granted["__typename"] == "CommandAccepted"
    board = await send(url, other_staff, "startMembership", {**join, "role": "BOARD_MEMBER"})
    assert board["__typename"] == "ValidationError", board
    assert (await send(url, other_staff, "startMembership", join))["__typename"] == \
        "CommandAccepted"
    seen = await read(url, other_staff, rosa)
    assert seen["identity"] is None and seen["accounts"] is None  # no such scopes
    assert seen["consents"] is None  # her consents are her own cooperatives' business
    assert {(m["cooperativeId"], m["consentId"]) for m in seen["memberships"]} == {
        (madrid, None), (other, None)}  # which consent admitted her is her own's business
    own = await read(url, madrid_staff, rosa)
    assert {(m["cooperativeId"], m["consentId"]) for m in own["memberships"]} == {
        (madrid, None), (other, joining)}

    # it acts for her in nothing: no consent in her name, no new details, no erasure
    for token, name, input in (
            (other_staff, "grantConsent", {
                "memberId": rosa, "consentId": new_id(), "granteeKind": "COOPERATIVE",
                "grantee": other, "scopes": ["IDENTITY", "SAVINGS", "TRAINING"],
                "expiresAt": expires}),
            (other_staff, "correctMemberDetails", {"memberId": rosa, "personal": {
                "givenNames": "Rosa", "familyNames": "Otra", "dateOfBirth": "1988-04-17",
                "nationality": "EC", "preferredLanguages": ["es"]}}),
            (other_admin, "eraseMember", {"memberId": rosa}),
            (other_staff, "revokeConsent", {"memberId": rosa, "consentId": joining})):
        assert (await send(url, token, name, input))["__typename"] == "NotAuthorized", name

    # once she revokes her consents, it sees nothing of her any more
    for consent in (reading, joining):
        revoked = await send(url, madrid_staff, "revokeConsent",
                             {"memberId": rosa, "consentId": consent})
        assert revoked["__typename"] == "CommandAccepted"
    assert await read(url, other_staff, rosa) is None
    assert (await read(url, madrid_staff, rosa))["identity"] == {"familyNames": "Quispe"}


async def test_a_socket_refuses_queries_and_mutations_and_ends_with_its_token(
        node_processes, monkeypatch):
    """The review sent a withdrawal over graphql-transport-ws after the token expired, and it
    was accepted: the socket kept the caller and the clock of its connect."""
    node, url, env = node_processes
    monkeypatch.setenv("COOPBRIDGE_HOME", env["COOPBRIDGE_HOME"])
    brief = issue_token(node, Role.NODE_ADMIN, ttl=dt.timedelta(seconds=10))
    transport = WebsocketsTransport(
        url=url.replace("http://", "ws://"), init_payload={"Authorization": f"Bearer {brief}"},
        subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL])
    schema = build_schema()._schema
    everything = [f"{{ {name} }}" for name in schema.query_type.fields] + [
        f"mutation {{ {name} }}" for name in schema.mutation_type.fields]
    async with Client(transport=transport) as socket:
        for document in everything:  # every query and mutation, whatever its arguments
            with pytest.raises(TransportQueryError) as refused:
                await socket.execute(gql(document))
            assert "subscriptions only" in str(refused.value), document
        quiet = socket.subscribe(request(
            'subscription { federationActivity(country: "ZZ") { total } }'))
        with pytest.raises((TransportClosed, TransportConnectionFailed)) as ended:
            while True:  # nothing happens in ZZ (a window may end meanwhile, empty): only expiry
                window = await asyncio.wait_for(quiet.__anext__(), 30)
                assert window == {"federationActivity": {"total": None}}, window
    closed = ended.value.__cause__ or ended.value.__context__
    assert getattr(getattr(closed, "rcvd", None), "code", None) == 4403, repr(closed)


async def test_her_own_door_end_to_end_with_stock_clients(node_processes, monkeypatch):
    """Issue 23's story over HTTP with gql: her cooperative's staff issue an activation
    code; she redeems it without a token; she reads `me`, grants her home cooperative a
    consent, sees its read among her access entries, revokes the consent and its next read
    is denied; her cooperative revokes her access: her token opens nothing, her open socket
    closes."""
    node, url, env = node_processes
    monkeypatch.setenv("COOPBRIDGE_HOME", env["COOPBRIDGE_HOME"])
    madrid, home, rosa = new_id(), new_id(), new_id()
    admin = issue_token(node, Role.NODE_ADMIN)
    madrid_staff = issue_token(node, Role.STAFF, madrid)
    home_staff = issue_token(node, Role.STAFF, home)
    for cid, name in ((madrid, "Ahorro Solidario Madrid"), (home, "Cooperativa Andina")):
        assert (await send(url, admin, "registerCooperative", cooperative(cid, name, node)))[
            "__typename"] == "CommandAccepted"
    for name, input in (
            ("registerMember", {"memberId": rosa, "personal": {
                "givenNames": "Rosa", "familyNames": "Quispe", "dateOfBirth": "1988-04-17",
                "nationality": "EC", "preferredLanguages": ["es-EC"]}}),
            ("startMembership", {"memberId": rosa, "cooperativeId": madrid,
                                 "startedOn": "2019-05-06", "shareCapitalRequired": {
                                     "amount": "50.00", "currency": "EUR"}})):
        assert (await send(url, madrid_staff, name, input))["__typename"] == "CommandAccepted"

    async with client_for(url, madrid_staff) as session:
        issued = (await session.execute(request("""mutation($input: IssueMemberAccessInput!) {
            issueMemberAccess(input: $input) { __typename
              ... on MemberAccessCode { accessId code } } }""", input={"memberId": rosa})))[
            "issueMemberAccess"]
    assert issued["__typename"] == "MemberAccessCode", issued
    async with Client(transport=AIOHTTPTransport(url=url),  # no token: the code is hers
                      fetch_schema_from_transport=False) as session:
        redeemed = (await session.execute(request("""mutation($code: String!) {
            redeemMemberAccess(input: {code: $code}) { __typename
              ... on MemberToken { token memberId } } }""", code=issued["code"])))[
            "redeemMemberAccess"]
    assert redeemed["__typename"] == "MemberToken" and redeemed["memberId"] == rosa, redeemed
    her = redeemed["token"]
    me = """{ me { memberId record { identity { givenNames } consents { consentId active } }
      accessEntries { edges { node { reader readerName read } } } } }"""
    async with client_for(url, her) as session:
        mine = (await session.execute(request(me)))["me"]
    assert mine["memberId"] == rosa and mine["record"]["identity"] == {"givenNames": "Rosa"}

    consent = new_id()
    expires = (dt.datetime.now(dt.UTC) + dt.timedelta(days=30)).isoformat()
    granted = await send(url, her, "grantConsent", {
        "memberId": rosa, "consentId": consent, "granteeKind": "COOPERATIVE", "grantee": home,
        "scopes": ["IDENTITY", "MEMBERSHIP"], "expiresAt": expires})
    assert granted["__typename"] == "CommandAccepted", granted
    seen = await read(url, home_staff, rosa)
    assert seen["identity"] == {"familyNames": "Quispe"}
    async with client_for(url, her) as session:
        entries = (await session.execute(request(me)))["me"]["accessEntries"]["edges"]
    assert [e["node"] for e in entries] == [
        {"reader": home, "readerName": "Cooperativa Andina", "read": "record"}]
    revoked = await send(url, her, "revokeConsent", {"memberId": rosa, "consentId": consent})
    assert revoked["__typename"] == "CommandAccepted", revoked
    assert await read(url, home_staff, rosa) is None

    transport = WebsocketsTransport(
        url=url.replace("http://", "ws://"), init_payload={"Authorization": f"Bearer {her}"},
        subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL])
    async with Client(transport=transport) as socket:
        following = socket.subscribe(request(
            "subscription($id: ID!) { memberEvents(memberId: $id) { type } }", id=rosa))
        first = asyncio.ensure_future(following.__anext__())
        await asyncio.sleep(0.5)  # (the subscription is under way)
        ended = await send(url, madrid_staff, "revokeMemberAccess", {
            "memberId": rosa, "accessId": issued["accessId"]})
        assert ended["__typename"] == "CommandAccepted", ended
        with pytest.raises((TransportClosed, TransportConnectionFailed)) as closed:
            try:
                while True:  # (she may see the revocation's own entry before it ends)
                    await asyncio.wait_for(first, 10)
                    first = asyncio.ensure_future(following.__anext__())
            except StopAsyncIteration:  # her stream ended at once; her socket closes too
                for _ in range(50):
                    again = socket.subscribe(request(
                        "subscription($id: ID!) { memberEvents(memberId: $id) { type } }",
                        id=rosa))
                    with contextlib.suppress(StopAsyncIteration):
                        await asyncio.wait_for(again.__anext__(), 10)
                    await asyncio.sleep(0.2)
    cause = closed.value.__cause__ or closed.value.__context__
    assert getattr(getattr(cause, "rcvd", None), "code", None) == 4403, repr(cause)
    async with client_for(url, her) as session:
        with pytest.raises(TransportQueryError) as refused:
            await session.execute(request(me))
    assert refused.value.errors[0]["extensions"]["code"] == "UNAUTHENTICATED"
