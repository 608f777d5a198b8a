"""Issue 24, end to end with a stock client (gql over HTTP) against a node of processes (the
membership and governance services, the gateway): a savings cooperative in Spain holds its
general assembly on the year's surplus. Rosa, back home in Ecuador, votes with her own member
token; Marta gives Luis her proxy and he votes for her and for himself; Ana comes to the
meeting and votes on paper; Jorge does not vote. The motion carries with the right counts,
the certified result verifies with the node's published keys and a JOSE library that is not
ours, and the records of the members show their part (never their choice)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json

import httpx
import pytest
from gql import Client
from gql.transport.aiohttp import AIOHTTPTransport
from joserfc import jws
from joserfc.jwk import KeySet

from gateway.auth import Role, issue_token
from services.runtime.ids import new_id
from tests.e2e.conftest import running_node
from tests.e2e.test_rosa_over_http import client_for, request

pytestmark = pytest.mark.kafka

RESULT = "{ __typename ... on CommandAccepted { visible } ... on Problem { code message } }"
BALLOT = "{ __typename ... on BallotAccepted { receipt } ... on Problem { code message } }"
WINDOW = 12  # seconds the voting stays open (the tokens are redeemed before it opens)


async def send(url: str, token: str, name: str, input: dict, kind: str | None = None) -> dict:
    kind = kind or f"{name[0].upper()}{name[1:]}Input"
    async with client_for(url, token) as session:
        return (await session.execute(request(
            f"mutation($input: {kind}!) {{ {name}(input: $input) "
            f"{BALLOT if kind == 'BallotInput' else RESULT} }}",
            input=input)))[name]


async def ok(url: str, token: str, name: str, input: dict, kind: str | None = None) -> dict:
    answer = await send(url, token, name, input, kind)
    assert answer["__typename"] in ("CommandAccepted", "BallotAccepted"), (name, answer)
    return answer


async def query(url: str, token: str, document: str, **variables) -> dict:
    async with client_for(url, token) as session:
        return await session.execute(request(document, **variables))


async def member_token(url: str, staff: str, member: str) -> str:
    async with client_for(url, staff) as session:
        issued = (await session.execute(request("""mutation($input: IssueMemberAccessInput!) {
            issueMemberAccess(input: $input) { __typename
              ... on MemberAccessCode { code } } }""", input={"memberId": member})))[
            "issueMemberAccess"]
    async with Client(transport=AIOHTTPTransport(url=url),
                      fetch_schema_from_transport=False) as session:
        redeemed = (await session.execute(request("""mutation($code: String!) {
            redeemMemberAccess(input: {code: $code}) { __typename
              ... on MemberToken { token } } }""", code=issued["code"])))["redeemMemberAccess"]
    assert redeemed["__typename"] == "MemberToken", redeemed
    return redeemed["token"]


ASSEMBLY = """query($id: ID!) { assembly(id: $id) { status voters receipts
  result { voters quorumMet credential motions { counts outcome ballots } } } }"""
RECORD = """query($id: ID!) { member(id: $id) { assemblies { assemblyId voted } } }"""


async def test_a_general_assembly_in_spain_with_a_member_voting_from_ecuador(
        kafka_bootstrap, tmp_path, monkeypatch):
    with running_node(kafka_bootstrap, tmp_path, services=("membership", "governance")) \
            as (node, url, env):
        monkeypatch.setenv("COOPBRIDGE_HOME", env["COOPBRIDGE_HOME"])  # the node's key
        madrid = new_id()
        admin = issue_token(node, Role.NODE_ADMIN)
        staff = issue_token(node, Role.STAFF, madrid)
        board = issue_token(node, Role.ADMIN, madrid)
        await ok(url, admin, "registerCooperative", {
            "cooperativeId": madrid, "name": "Ahorro Solidario Madrid", "country": "ES",
            "kind": "SAVINGS_AND_CREDIT", "languages": ["es"], "node": node,
            "currency": "EUR", "sharePrice": {"amount": "25.00", "currency": "EUR"}})
        people = {name: new_id() for name in ("rosa", "luis", "marta", "ana", "jorge")}
        shares = {"rosa": "50.00", "luis": "5000.00", "marta": "25.00", "ana": "75.00",
                  "jorge": "900.00"}  # never weigh a vote
        for name, member in people.items():
            await ok(url, staff, "registerMember", {"memberId": member, "personal": {
                "givenNames": name.title(), "familyNames": "Socia", "dateOfBirth": "1985-01-01",
                "nationality": "EC" if name == "rosa" else "ES",
                "preferredLanguages": ["es"]}})
            await ok(url, staff, "startMembership", {
                "memberId": member, "cooperativeId": madrid, "startedOn": "2019-05-06",
                "shareCapitalRequired": {"amount": shares[name], "currency": "EUR"}})
        tokens = {name: await member_token(url, staff, people[name])
                  for name in ("rosa", "luis", "marta")}
        await ok(url, board, "setBylaws", {
            "cooperativeId": madrid, "generalNoticeDays": 0, "extraordinaryNoticeDays": 0,
            "maxProxiesPerHolder": 1, "challengeDays": 30})
        now = dt.datetime.now(dt.UTC)
        closes = now + dt.timedelta(seconds=WINDOW)
        assembly, surplus = new_id(), new_id()
        await ok(url, board, "conveneAssembly", {
            "assemblyId": assembly, "cooperativeId": madrid, "kind": "GENERAL",
            "titles": [{"language": "es", "text": "Asamblea general ordinaria"}],
            "meetingOn": now.date().isoformat(),
            "recordDate": (now.date() - dt.timedelta(days=1)).isoformat(),
            "votingOpensAt": now.isoformat(), "votingClosesAt": closes.isoformat(),
            "quorumPercent": 50})
        await ok(url, board, "addMotion", {
            "assemblyId": assembly, "motionId": surplus, "kind": "RESOLUTION",
            "titles": [{"language": "es", "text": "Destino del excedente del ejercicio"}],
            "texts": [{"language": "es", "text": "El 20 % al fondo de educación, el resto "
                                                  "a retorno cooperativo."}]})
        await ok(url, staff, "freezeRoll", {"assemblyId": assembly})

        vote = {"assemblyId": assembly, "motionId": surplus}
        receipts = {"rosa": (await ok(url, tokens["rosa"], "castBallot",
                                      {**vote, "choices": ["for"]}, "BallotInput"))["receipt"]}
        await ok(url, tokens["marta"], "grantProxy", {
            "assemblyId": assembly, "memberId": people["marta"], "holderId": people["luis"]})
        receipts["marta"] = (await ok(url, tokens["luis"], "castProxyBallot", {
            **vote, "memberId": people["marta"], "choices": ["for"]}, "BallotInput"))["receipt"]
        receipts["luis"] = (await ok(url, tokens["luis"], "castBallot",
                                     {**vote, "choices": ["for"]}, "BallotInput"))["receipt"]
        await ok(url, staff, "checkInMember", {"assemblyId": assembly,
                                               "memberId": people["ana"]})
        receipts["ana"] = (await ok(url, staff, "recordPaperBallot", {
            **vote, "memberId": people["ana"], "choices": ["against"]}, "BallotInput"))[
            "receipt"]
        # nothing about the ballots before the close, the node admin included
        for token in (admin, board, tokens["rosa"]):
            seen = (await query(url, token, ASSEMBLY, id=assembly))["assembly"]
            assert (seen["voters"], seen["receipts"], seen["result"]) == (None, None, None)
        certify = {"assemblyId": assembly}
        early = await send(url, admin, "certifyAssembly", certify, "AssemblyRefInput")
        assert early["code"] == "NotClosed", early

        await asyncio.sleep(max(0.0, (closes - dt.datetime.now(dt.UTC)).total_seconds()) + 1)
        late = await send(url, tokens["rosa"], "castBallot", {**vote, "choices": ["against"]},
                          "BallotInput")
        assert late["code"] == "VotingClosed", late
        await ok(url, staff, "closeVoting", {"assemblyId": assembly})
        await ok(url, board, "certifyAssembly", certify, "AssemblyRefInput")
        seen = (await query(url, tokens["rosa"], ASSEMBLY, id=assembly))["assembly"]
        assert sorted(seen["receipts"]) == sorted(receipts.values())
        result = seen["result"]
        assert result["motions"] == [{"counts": {"for": 3, "against": 1, "abstain": 0},
                                      "outcome": "carried", "ballots": 4}]
        assert (result["voters"], result["quorumMet"]) == (4, True)
        async with httpx.AsyncClient() as http:  # the node's published keys
            published = (await http.get(url.replace("/graphql", "/.well-known/jwks.json"))).json()
        claims = json.loads(jws.deserialize_compact(
            result["credential"], KeySet.import_key_set(published),
            algorithms=["EdDSA"]).payload)
        assert claims["credentialSubject"]["motions"][0]["counts"] == {
            "for": 3, "against": 1, "abstain": 0}
        assert claims["credentialSubject"]["rollCount"] == 5

        # their records: Rosa voted from Ecuador, Marta by proxy, Ana in person, Jorge not
        for name, how in (("rosa", "remote"), ("marta", "proxy"), ("ana", "in_person"),
                          ("jorge", "no")):
            record = (await query(url, staff, RECORD, id=people[name]))["member"]
            assert record["assemblies"] == [{"assemblyId": assembly, "voted": how}], name
