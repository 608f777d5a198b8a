"""An assembly through the GraphQL schema on an in-memory node (the real deciders, folds and
resolvers, no broker): bylaws, convening, a motion, the roll from the membership events,
ballots with member tokens (herself, by proxy, on paper), nothing about the ballots readable
before the close (the node admin included), the tally opened only after it, the certified
result verified by a JOSE library that is not ours, and the key destroyed after the
challenge period."""

from __future__ import annotations

import asyncio
import datetime as dt
import json

import pytest
from joserfc import jws
from joserfc.jwk import KeySet

from gateway.governance.documents import AssemblyView
from schemas import governance as g
from schemas import merkle
from services import config
from services.runtime.datakeys import SealBroken
from services.runtime.ids import new_id
from services.runtime.keys import jwks, signing_key
from tests.unit.inmemory_node import NODE
from tests.unit.test_gateway_schema import (  # noqa: F401 (node: a fixture)
    ADMIN,
    AHORRO,
    MADRID_ADMIN,
    MADRID_STAFF,
    QUITO_STAFF,
    ROSA_DETAILS,
    node,
    rosa_joins,
)
from tests.unit.test_member_self_service import her_token

ASSEMBLY = """query($id: ID!) { assembly(id: $id) {
  status voters receipts roll { count root }
  motions { id options { id } }
  result { voters quorumMet turnoutPercent credential
           motions { counts outcome ballots spoiled } } } }"""


async def ballot(node, name: str, caller, input: dict, key: str | None = None) -> dict:
    text = (f"mutation($input: BallotInput!, $key: String) {{ {name}(input: $input, "
            f"idempotencyKey: $key) {{ __typename ... on BallotAccepted {{ receipt }} "
            f"... on Problem {{ code message }} }} }}")
    return (await node.ok(text, caller, input=input, key=key))[name]


async def by_ref(node, name: str, caller, assembly: str) -> dict:
    text = (f"mutation($input: AssemblyRefInput!) {{ {name}(input: $input) {{ __typename "
            f"... on Problem {{ code message }} }} }}")
    return (await node.ok(text, caller, input={"assemblyId": assembly}))[name]


def accepted(answer: dict) -> dict:
    assert answer["__typename"] in ("CommandAccepted", "BallotAccepted"), answer
    return answer


async def an_assembly(node) -> tuple[str, str, dict]:
    """Ahorro's members Rosa, Luis, Ana and Pedro (who joins after the record date); the
    bylaws; an assembly on the year's surplus, its roll frozen; each on the roll a token."""
    members = {}
    for name in ("rosa", "luis", "ana"):
        members[name] = (await rosa_joins(node, {**ROSA_DETAILS, "givenNames": name}))["rosa"]
    accepted(await node.mutate("setBylaws", {
        "cooperativeId": AHORRO, "generalNoticeDays": 14, "extraordinaryNoticeDays": 7,
        "maxProxiesPerHolder": 1, "challengeDays": 30}, MADRID_ADMIN))
    assembly, surplus = new_id(), new_id()
    too_soon = await node.mutate("conveneAssembly", {
        "assemblyId": assembly, "cooperativeId": AHORRO, "kind": "GENERAL",
        "titles": [{"language": "es", "text": "Asamblea general"}],
        "meetingOn": "2026-11-20", "recordDate": "2026-11-15",
        "votingOpensAt": "2026-11-16T00:00:00Z", "votingClosesAt": "2026-11-20T20:00:00Z",
        "quorumPercent": 50}, MADRID_ADMIN)
    assert too_soon["code"] == "NoticeTooShort"
    accepted(await node.mutate("conveneAssembly", {
        "assemblyId": assembly, "cooperativeId": AHORRO, "kind": "GENERAL",
        "titles": [{"language": "es", "text": "Asamblea general"},
                   {"language": "en", "text": "General assembly"}],
        "meetingOn": "2026-11-30", "recordDate": "2026-11-20",
        "votingOpensAt": "2026-11-22T00:00:00Z", "votingClosesAt": "2026-11-30T20:00:00Z",
        "quorumPercent": 50}, MADRID_ADMIN))
    accepted(await node.mutate("addMotion", {
        "assemblyId": assembly, "motionId": surplus, "kind": "RESOLUTION",
        "titles": [{"language": "es", "text": "Destino del excedente"}]}, MADRID_ADMIN))
    with node.on("2026-11-25"):
        members["pedro"] = pedro = new_id()
        accepted(await node.mutate("registerMember", {
            "memberId": pedro, "personal": {**ROSA_DETAILS, "givenNames": "Pedro"}},
            MADRID_STAFF))
        accepted(await node.mutate("startMembership", {
            "memberId": pedro, "cooperativeId": AHORRO, "startedOn": "2026-11-25",
            "shareCapitalRequired": {"amount": "50.00", "currency": "EUR"}}, MADRID_STAFF))
        accepted(await node.mutate("freezeRoll", {"assemblyId": assembly}, MADRID_STAFF))
    return assembly, surplus, members


async def test_one_member_one_vote_from_anywhere_secret_until_the_close(node, monkeypatch):
    assembly, surplus, members = await an_assembly(node)
    tokens = {name: await her_token(node, member) for name, member in members.items()}
    view = node.views.get(AssemblyView.TABLE, assembly)
    assert view.roll == sorted([members["rosa"], members["luis"], members["ana"]])
    assert view.roll_root == merkle.root(view.roll)
    proof = (await node.ok("""query($a: ID!, $m: ID!) { rollProof(assemblyId: $a, memberId: $m)
        { index size root path } }""", tokens["rosa"], a=assembly, m=members["rosa"]))
    proof = proof["rollProof"]
    assert merkle.verify_inclusion(members["rosa"], proof["index"], proof["size"],
                                   proof["path"], proof["root"])
    assert (await node.ok("""query($a: ID!, $m: ID!) { rollProof(assemblyId: $a, memberId: $m)
        { index } }""", tokens["rosa"], a=assembly, m=members["luis"]))["rollProof"] is None

    vote = {"assemblyId": assembly, "motionId": surplus}
    with node.on("2026-11-26"):
        assert (await ballot(node, "castBallot", tokens["pedro"], {
            **vote, "choices": ["for"]}))["code"] == "NotOnRoll"  # joined after the date
        assert (await ballot(node, "castBallot", MADRID_ADMIN, {
            **vote, "choices": ["for"]}))["__typename"] == "NotAuthorized"  # hers alone
        assert (await ballot(node, "castBallot", tokens["rosa"], {
            **vote, "choices": ["maybe"]}))["__typename"] == "ValidationError"
        first = accepted(await ballot(node, "castBallot", tokens["rosa"],
                                      {**vote, "choices": ["against"]}, key="r1"))
        again = accepted(await ballot(node, "castBallot", tokens["rosa"],
                                      {**vote, "choices": ["against"]}, key="r1"))
        assert again["receipt"] == first["receipt"]  # a retry is the first ballot
        rosa = accepted(await ballot(node, "castBallot", tokens["rosa"],
                                     {**vote, "choices": ["for"]}))  # she changes her mind
        # Ana gives Luis her proxy; he votes for her; a second proxy is one too many
        accepted(await node.mutate("grantProxy", {"assemblyId": assembly,
                                                  "memberId": members["ana"],
                                                  "holderId": members["luis"]}, tokens["ana"]))
        assert (await node.mutate("grantProxy", {
            "assemblyId": assembly, "memberId": members["rosa"],
            "holderId": members["luis"]}, tokens["rosa"]))["code"] == "ProxyLimitReached"
        assert (await node.mutate("grantProxy", {
            "assemblyId": assembly, "memberId": members["rosa"],
            "holderId": members["ana"]}, ADMIN))["__typename"] == "NotAuthorized"
        ana = accepted(await ballot(node, "castProxyBallot", tokens["luis"], {
            **vote, "memberId": members["ana"], "choices": ["for"]}))
        assert (await ballot(node, "castProxyBallot", tokens["rosa"], {
            **vote, "memberId": members["ana"], "choices": ["for"]}))["__typename"] \
            == "NotAuthorized"  # she holds no proxy of Ana's
        luis_remote = accepted(await ballot(node, "castBallot", tokens["luis"],
                                            {**vote, "choices": ["for"]}))
    with node.on("2026-11-30"):  # Luis comes to the meeting: on paper, his remote one aside
        accepted(await node.mutate("checkInMember", {"assemblyId": assembly,
                                                     "memberId": members["luis"]},
                                   MADRID_STAFF))
        luis = accepted(await ballot(node, "recordPaperBallot", MADRID_STAFF, {
            **vote, "memberId": members["luis"], "choices": ["against"]}))
        # before the close: nothing about the ballots, for anyone, the node admin included
        for caller in (ADMIN, MADRID_ADMIN, tokens["rosa"]):
            seen = (await node.ok(ASSEMBLY, caller, id=assembly))["assembly"]
            assert (seen["voters"], seen["receipts"], seen["result"]) == (None, None, None)
            assert seen["status"] == "roll_frozen"
        for outsider in (QUITO_STAFF, tokens["pedro"]):  # not its cooperative's, not on its roll
            assert (await node.ok(ASSEMBLY, outsider, id=assembly))["assembly"] is None
        assert (await node.mutate("checkInMember", {"assemblyId": assembly,
                                                    "memberId": members["rosa"]},
                                  ADMIN))["__typename"] == "NotAuthorized"  # not the node's
        assert (await by_ref(node, "certifyAssembly", ADMIN, assembly))["code"] == "NotClosed"
        assert (await node.mutate("closeVoting", {"assemblyId": assembly},
                                  MADRID_STAFF))["code"] == "VotingStillOpen"
        receipt = await node.ok("""query($a: ID!, $r: String!) { ballotReceipt(assemblyId: $a,
            receipt: $r) { counted } }""", tokens["luis"], a=assembly, r=luis_remote["receipt"])
        assert receipt["ballotReceipt"] == {"counted": False}
    with node.on("2026-12-01"):
        assert (await ballot(node, "castBallot", tokens["rosa"], {
            **vote, "choices": ["against"]}))["code"] == "VotingClosed"
        accepted(await node.mutate("closeVoting", {"assemblyId": assembly}, MADRID_STAFF))
        closed = (await node.ok(ASSEMBLY, MADRID_STAFF, id=assembly))["assembly"]
        assert closed["voters"] == 3 and closed["result"] is None
        assert sorted(closed["receipts"]) == sorted(
            [rosa["receipt"], ana["receipt"], luis["receipt"]])
        assert first["receipt"] not in closed["receipts"]
        # her record: the assembly, and how each voted (never the choice)
        for name, how in (("rosa", "remote"), ("ana", "proxy"), ("luis", "in_person")):
            record = (await node.ok("""query($id: ID!) { member(id: $id) { assemblies {
                assemblyId voted title { text } } } }""", tokens[name], id=members[name]))
            assert record["member"]["assemblies"] == [{
                "assemblyId": assembly, "voted": how,
                "title": {"text": "Asamblea general"}}], (name, record)
        pedro = (await node.ok("""query($id: ID!) { member(id: $id) { assemblies {
            assemblyId } } }""", MADRID_STAFF, id=members["pedro"]))
        assert pedro["member"]["assemblies"] == []  # not on the roll
        assert (await node.ok("""query($id: ID!) { member(id: $id) { assemblies {
            assemblyId } } }""", QUITO_STAFF, id=members["rosa"]))["member"] is None
        assert (await by_ref(node, "certifyAssembly", MADRID_STAFF,
                             assembly))["__typename"] == "NotAuthorized"
        accepted(await by_ref(node, "certifyAssembly", MADRID_ADMIN, assembly))
        result = (await node.ok(ASSEMBLY, tokens["rosa"], id=assembly))["assembly"]["result"]
    # every seal is as long as every other: its length says nothing of the choice
    lengths = {len(b.ballot.ct) for b in node.views.get(AssemblyView.TABLE, assembly)
               .ballots.values()}
    assert lengths == {g.SEALED_BALLOT_BYTES}
    [motion] = result["motions"]
    assert motion["counts"] == {"for": 2, "against": 1, "abstain": 0}
    assert (motion["outcome"], motion["ballots"], motion["spoiled"]) == ("carried", 3, 0)
    assert (result["voters"], result["quorumMet"], result["turnoutPercent"]) == (3, True, 100.0)
    # the certified result verifies with the node's published key and another JOSE library
    keys = KeySet.import_key_set(jwks(signing_key(NODE).public_key(),
                                      base_url=config.public_url()))
    claims = json.loads(jws.deserialize_compact(result["credential"], keys,
                                                algorithms=["EdDSA"]).payload)
    subject = claims["credentialSubject"]
    assert "AssemblyResultCredential" in claims["type"]
    assert subject["rollRoot"] == view.roll_root and subject["rollCount"] == 3
    assert subject["receiptsDigest"] == g.receipts_digest(closed["receipts"])
    assert subject["motions"][0]["counts"] == {"for": 2, "against": 1, "abstain": 0}
    assert not set(members.values()) & set(json.dumps(claims).split('"'))  # nobody named

    # the key: kept through the challenge period, then destroyed, and no ballot opens again
    with node.on("2026-12-20"):
        assert (await by_ref(node, "destroyBallotKey", MADRID_ADMIN,
                             assembly))["code"] == "ChallengePeriodOpen"
    owner = g.ballot_key_owner(assembly)
    sealed = next(iter(node.views.get(AssemblyView.TABLE, assembly).counted().values())).ballot
    assert await node.keys.open(owner, sealed) is not None
    with node.on("2027-01-02"):
        accepted(await by_ref(node, "destroyBallotKey", MADRID_ADMIN, assembly))
        seen = (await node.ok(ASSEMBLY, MADRID_ADMIN, id=assembly))["assembly"]
    assert seen["status"] == "sealed" and seen["result"]["motions"][0]["counts"]["for"] == 2
    assert await node.keys.open(owner, sealed) is None
    assert all(b.ballot is None for b in node.views.get(AssemblyView.TABLE, assembly)
               .ballots.values())


async def test_a_ballot_is_sealed_before_it_is_sent_and_its_receipt_is_the_seals(node):
    assembly, surplus, members = await an_assembly(node)
    rosa = await her_token(node, members["rosa"])
    with node.on("2026-11-26"):
        answer = accepted(await ballot(node, "castBallot", rosa, {
            "assemblyId": assembly, "motionId": surplus, "choices": ["abstain"]}))
    [(receipt, cast)] = node.views.get(AssemblyView.TABLE, assembly).ballots.items()
    assert receipt == answer["receipt"] == g.receipt_of(cast.ballot)
    assert b"abstain" not in cast.ballot.ct and cast.member_id == members["rosa"]
    assert cast.channel == "remote" and cast.ballot.kid != "unsealed"
    opened = await node.keys.open(g.ballot_key_owner(assembly), cast.ballot)
    assert g.ballot_content(opened).choices == [2]  # abstain; the assembly's key, not hers
    assert len(opened) == g.BALLOT_PLAINTEXT_BYTES
    with pytest.raises(SealBroken):  # her own data key does not open it
        await node.keys.open(members["rosa"], cast.ballot)


@pytest.fixture(autouse=True)
def _quiet_signing(monkeypatch):
    """The node signs with its development key here (no key files in a unit test)."""
    monkeypatch.delenv("COOPBRIDGE_ENV", raising=False)


def test_her_record_holds_the_offices_she_was_elected_to_and_nobodys_choice():
    """The gateway's fold of an election: each candidate elected gets the office in her
    record; the roll's members their part; a timeline row never copies the roll."""
    from gateway.fold import MemoryStore, project
    from tests.unit.test_governance_domain import (
        AFTER, ASSEMBLY_ID, BOARD, VOTING, Play, cast, convene, member, motion)

    ana, bea, cris = member(1), member(2), member(3)
    play = Play()
    play(convene())
    play(motion(BOARD, kind=g.MotionKind.ELECTION, seats=1,
                titles={"es": "Consejo rector", "en": "Board"}, options=[
                    g.Option(option_id="ana", labels={"es": "Ana"}, member_id=ana),
                    g.Option(option_id="bea", labels={"es": "Bea"}, member_id=bea)]))
    play(g.FreezeRoll(assembly_id=ASSEMBLY_ID))
    for who in (ana, bea, cris):
        play(cast(who, BOARD), at=VOTING)
    play(g.CloseVoting(assembly_id=ASSEMBLY_ID), at=AFTER)
    play(g.CertifyResult(assembly_id=ASSEMBLY_ID, tallies=[g.MotionTally(
        motion_id=BOARD, counts={"ana": 2, "bea": 1}, ballots=3)],
        receipts_digest=g.receipts_digest(play.state.counted_receipts())), at=AFTER)
    store = MemoryStore()
    for sequence, event in enumerate(play.events, 1):
        envelope = _envelope(event, sequence)
        project(store, (envelope, event))
    parts = {who: store.get("members", who).assemblies for who in (ana, bea, cris)}
    assert [p.offices for p in parts[ana]] == [["Consejo rector"]]
    assert [p.offices for p in parts[bea]] == [[]] and [p.voted for p in parts[cris]] == ["remote"]
    timeline = [row.wire for row in store.rows("timeline", cris)]
    assert timeline and not any("RollFrozen" in wire for wire in timeline)


def _envelope(event, sequence):
    from schemas import REGISTRY
    return REGISTRY.envelope(event, id=new_id(), source="test", subject=event.assembly_id,
                             time=dt.datetime(2027, 3, 25, tzinfo=dt.UTC), sequence=sequence)


RESULTS = """subscription($id: ID!) { assemblyResults(assemblyId: $id) {
  __typename voters motions { counts } } }"""


async def test_the_results_subscription_says_nothing_before_the_certification(node):
    from gateway.context import GatewayContext
    from tests.unit.test_gateway_schema import SCHEMA

    assembly, surplus, members = await an_assembly(node)
    rosa = await her_token(node, members["rosa"])

    async def heard(caller, action) -> list:
        context = GatewayContext(node=NODE, caller=caller, views=node.views, keys=node.keys,
                                 commands=node.commands, now=node.now)
        stream = await SCHEMA.subscribe(RESULTS, variable_values={"id": assembly},
                                        context_value=context)
        first = asyncio.ensure_future(stream.__anext__())
        await asyncio.sleep(0)
        await action()
        try:
            result = await asyncio.wait_for(first, 1)
        except (StopAsyncIteration, TimeoutError):
            return []
        finally:
            await stream.aclose()
        assert result.errors is None, result.errors
        return [result.data["assemblyResults"]]

    async def vote_and_close():
        with node.on("2026-11-26"):
            accepted(await ballot(node, "castBallot", rosa, {
                "assemblyId": assembly, "motionId": surplus, "choices": ["for"]}))
        with node.on("2026-12-01"):
            accepted(await node.mutate("closeVoting", {"assemblyId": assembly},
                                       MADRID_STAFF))

    async def certify():
        with node.on("2026-12-01"):
            accepted(await by_ref(node, "certifyAssembly", MADRID_ADMIN, assembly))

    # ballots and the close: not a word, to the node admin either
    assert await heard(ADMIN, vote_and_close) == []
    [result] = await heard(rosa, certify)
    assert result["voters"] == 1 and result["motions"] == [{"counts": {
        "for": 1, "against": 0, "abstain": 0}}]

    async def nothing():
        pass

    assert len(await heard(MADRID_STAFF, nothing)) == 1  # once certified: at once
    assert await heard(QUITO_STAFF, nothing) == []  # not its cooperative's


async def test_keys_are_destroyed_once_the_challenge_period_is_over_without_a_request(node):
    from gateway.governance.sealing import MARGIN, sweep

    assembly, surplus, members = await an_assembly(node)
    rosa = await her_token(node, members["rosa"])
    with node.on("2026-11-26"):
        accepted(await ballot(node, "castBallot", rosa, {
            "assemblyId": assembly, "motionId": surplus, "choices": ["for"]}))
    with node.on("2026-12-01"):
        accepted(await node.mutate("closeVoting", {"assemblyId": assembly}, MADRID_STAFF))
        accepted(await by_ref(node, "certifyAssembly", MADRID_ADMIN, assembly))
    owner = g.ballot_key_owner(assembly)
    ends = node.views.get(AssemblyView.TABLE, assembly).result.challenge_ends_at
    assert await sweep(node.views, node.keys, node.commands, ends) == []  # not yet
    assert not node.keys.gone(owner)
    node.now = ends + MARGIN + dt.timedelta(minutes=1)
    assert await sweep(node.views, node.keys, node.commands, node.now) == [assembly]
    assert node.keys.gone(owner)
    assert node.views.get(AssemblyView.TABLE, assembly).key_destroyed_at is not None
    assert await sweep(node.views, node.keys, node.commands, node.now) == []  # once
