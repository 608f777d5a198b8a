"""What a member does with her own token (issue 23), on the in-memory node: she reads `me`,
grants and revokes her consents, sees every read under them as an access entry, renews her
token and corrects her contact; a read under her consent that cannot be recorded is not
answered. And the access matrix of a member token: every query, mutation and subscription of
the schema, aimed at her own things and at everyone else's."""

from __future__ import annotations

import asyncio

import pytest
import websockets

from gateway.auth import Caller, Role, verify_token
from gateway.member_access.liveness import live
from gateway.member_access.sockets import sockets_of
from schemas import insurance as i
from schemas.fields import Money
from tests.unit.inmemory_node import NODE
from tests.unit.test_gateway_schema import (  # noqa: F401 (node: a fixture)
    AHORRO,
    ANDINA,
    MADRID_ADMIN,
    MADRID_STAFF,
    QUITO_STAFF,
    ROSA_DETAILS,
    SCHEMA,
    SPANISH_COURSE,
    a_job_offered_to,
    mutation_call,
    new_id,
    node,
    rosa_joins,
    subscribed,
)
from tests.unit.test_member_access_mutations import issue, redeem
from tests.unit.test_subscription_limits import serving, socket, subscribe

ME = """{ me { memberId record { memberId identity { givenNames contact preferredLanguages }
  consents { consentId active } accounts { accountId } exportedRecords { credentialId } }
  accesses { accessId current revoked }
  accessEntries { edges { node { reader readerName read scopes consentIds } } } } }"""
QUITO_READS = """query($id: ID!) { member(id: $id) { memberId accounts { accountId } } }"""


async def her_token(node, rosa: str) -> Caller:  # noqa: F811
    """Rosa's own caller: a code issued by her cooperative, redeemed by her."""
    issued = await issue(node, rosa)
    token = await redeem(node, issued["code"])
    assert token["__typename"] == "MemberToken", token
    return verify_token(NODE, token["token"])


def consent(rosa: str, consent_id: str, scopes=("SAVINGS",), grantee=ANDINA) -> dict:
    return {"memberId": rosa, "consentId": consent_id, "granteeKind": "COOPERATIVE",
            "grantee": grantee, "scopes": list(scopes), "expiresAt": "2027-11-15T00:00:00Z"}


async def test_she_reads_her_record_grants_a_consent_sees_its_reads_and_revokes_it(
        node):  # noqa: F811
    rosa = (await rosa_joins(node))["rosa"]
    her = await her_token(node, rosa)
    me = (await node.ok(ME, her))["me"]
    assert me["memberId"] == rosa and me["record"]["identity"]["givenNames"] == "Rosa Elvira"
    assert len(me["record"]["accounts"]) == 1 and me["record"]["consents"] == []
    assert [(a["accessId"], a["current"]) for a in me["accesses"]] == [(her.access_id, True)]
    assert me["accessEntries"]["edges"] == []
    assert (await node.ok(QUITO_READS, QUITO_STAFF, id=rosa))["member"] is None

    granted = await node.mutate("grantConsent", consent(rosa, consent_id := new_id()), her)
    assert granted["__typename"] == "CommandAccepted", granted
    seen = (await node.ok(QUITO_READS, QUITO_STAFF, id=rosa))["member"]
    assert seen["memberId"] == rosa and len(seen["accounts"]) == 1
    twice = await node.ok("""query($id: ID!) { a: member(id: $id) { memberId }
        b: member(id: $id) { accounts { accountId } } }""", QUITO_STAFF, id=rosa)
    assert twice["a"] and twice["b"]  # one request: one entry, however many fields ask
    await node.ok(QUITO_READS, MADRID_STAFF, id=rosa)  # her own cooperative: no entry
    entries = [e["node"] for e in (await node.ok(ME, her))["me"]["accessEntries"]["edges"]]
    assert entries == [{"reader": ANDINA, "readerName": "Cooperativa Andina", "read": "record",
                        "scopes": ["savings"], "consentIds": [consent_id]}] * 2

    revoked = await node.mutate("revokeConsent", {"memberId": rosa, "consentId": consent_id},
                                her)
    assert revoked["__typename"] == "CommandAccepted", revoked
    assert (await node.ok(QUITO_READS, QUITO_STAFF, id=rosa))["member"] is None
    assert len((await node.ok(ME, her))["me"]["accessEntries"]["edges"]) == 2


async def test_a_read_under_her_consent_that_cannot_be_recorded_is_not_answered(
        node, monkeypatch):  # noqa: F811
    rosa = (await rosa_joins(node))["rosa"]
    await node.mutate("grantConsent", consent(rosa, new_id()), MADRID_STAFF)
    sent = node.commands.send

    async def refused(command, *args, **kwargs):
        if type(command).__name__ == "RecordConsentUse":
            raise TimeoutError
        return await sent(command, *args, **kwargs)

    monkeypatch.setattr(node.commands, "send", refused)
    result = await node.run(QUITO_READS, QUITO_STAFF, id=rosa)
    assert result.data == {"member": None}
    assert [e.extensions["code"] for e in result.errors] == ["UNAVAILABLE"]
    # her own cooperative's reads need no entry, and go on
    assert (await node.ok(QUITO_READS, MADRID_STAFF, id=rosa))["member"]["memberId"] == rosa


async def test_she_renews_her_token_and_corrects_her_contact_but_not_her_name(
        node):  # noqa: F811
    rosa = (await rosa_joins(node))["rosa"]
    her = await her_token(node, rosa)
    renewed = (await node.ok("""mutation { renewMemberToken { __typename
        ... on MemberToken { token memberId } } }""", her))["renewMemberToken"]
    again = verify_token(NODE, renewed["token"])
    assert (again.member_id, again.access_id, again.role) == (rosa, her.access_id, Role.MEMBER)
    corrected = (await node.ok("""mutation($input: CorrectMyContactInput!) {
        correctMyContact(input: $input) { __typename ... on Problem { code } } }""", her,
        input={"contact": "+34 600 000 111", "preferredLanguages": ["es-EC", "qu"]}))
    assert corrected["correctMyContact"]["__typename"] == "CommandAccepted", corrected
    identity = (await node.ok(ME, her))["me"]["record"]["identity"]
    assert identity == {"givenNames": ROSA_DETAILS["givenNames"],
                        "contact": "+34 600 000 111", "preferredLanguages": ["es-EC", "qu"]}
    # her page speaks her first language there are words in (Quechua has none yet: Spanish)
    assert (await node.ok("{ me { page { language } } }", her))["me"]["page"] == {
        "language": "es"}
    bad = (await node.ok("""mutation($input: CorrectMyContactInput!) {
        correctMyContact(input: $input) { __typename ... on ValidationError { field } } }""",
        her, input={"preferredLanguages": ["not a language!"]}))["correctMyContact"]
    assert bad == {"__typename": "ValidationError", "field": "input.preferredLanguages"}
    # her names stay with her cooperative's staff; staff cannot use her own mutations
    whole = await node.mutate("correctMemberDetails", {"memberId": rosa,
                                                       "personal": ROSA_DETAILS}, her)
    assert whole["__typename"] == "NotAuthorized"
    for caller in (MADRID_STAFF, MADRID_ADMIN):
        assert (await node.ok("mutation { renewMemberToken { __typename } }", caller)) == {
            "renewMemberToken": {"__typename": "NotAuthorized"}}


# -- the access matrix of a member token -----------------------------------------------------

#: Every query, and what Rosa's own token reads with it: "hers" (her own record, given her
#: id; the same query aimed at another member is null), "public" (facts of the node that any
#: signed-in caller reads), "denied" (null whatever it is aimed at). A new query fails the
#: classification test until it is listed here.
QUERY_MATRIX = {
    "me": ("hers", "me {{ memberId }}"),
    "member": ("hers", 'member(id: "{member}") {{ memberId }}'),
    "memberHistory": ("hers", 'memberHistory(memberId: "{member}") {{ edges {{ cursor }} }}'),
    "printableRecord": ("hers", 'printableRecord(memberId: "{member}") {{ credential }}'),
    "members": ("denied", 'members(cooperativeId: "{coop}") {{ totalCount }}'),
    "federationStats": ("denied", "federationStats {{ minCell }}"),
    "assemblyTurnout": ("denied", "assemblyTurnout {{ assemblies }}"),
    "cooperative": ("public", 'cooperative(id: "{coop}") {{ name }}'),
    "cooperatives": ("public", "cooperatives {{ name }}"),
    "course": ("public", 'course(id: "{course}") {{ courseId }}'),
    "verifyRecord": ("public", 'verifyRecord(credential: "x.y.z") {{ valid }}'),
    # an assembly whose roll she is on ("roll": hers to read, as it is every member's of its
    # roll; a member not on it reads null, below), her place on it, a receipt nobody holds
    "assembly": ("roll", 'assembly(id: "{assembly}") {{ id }}'),
    "rollProof": ("hers", 'rollProof(assemblyId: "{assembly}", memberId: "{member}") '
                          '{{ index }}'),
    "ballotReceipt": ("denied", 'ballotReceipt(assemblyId: "{assembly}", receipt: "ab") '
                                '{{ counted }}'),
    # an insurer's catalogue is public; a policy is the insurer's document (issue 25)
    "insuranceProduct": ("public", 'insuranceProduct(id: "{product}") {{ productId }}'),
    "insuranceProducts": ("public", "insuranceProducts {{ productId }}"),
    "insurancePolicy": ("denied", 'insurancePolicy(id: "{policy}") {{ policyId }}'),
    "insuranceFigures": ("denied", 'insuranceFigures(productId: "{product}") {{ inForce }}'),
    # the jobs offered to her are hers; a job order, a cooperative's list and its candidates,
    # an employer are not (she reads a job order once it is offered to her: issue 26)
    "myJobOffers": ("hers", "myJobOffers {{ jobOrderId }}"),
    "jobOrder": ("denied", 'jobOrder(id: "{job}") {{ jobOrderId }}'),  # offered to another
    "jobOrders": ("denied", 'jobOrders(cooperativeId: "{coop}") {{ jobOrderId }}'),
    "jobCandidates": ("denied", 'jobCandidates(jobOrderId: "{job}") {{ memberId }}'),
    "employer": ("denied", 'employer(id: "{employer}") {{ name }}'),
    "wageFloors": ("public", 'wageFloors(cooperativeId: "{coop}") {{ occupation }}'),
}
#: The mutations she may send for herself (``access.SELF_SERVICE``, and her own): each gets
#: past the door aimed at her own id, never at another member's.
HER_MUTATIONS = {"grantConsent", "revokeConsent", "exportRecord", "revokeRecord",
                 "revokeMemberAccess", "renewMemberToken", "correctMyContact",
                 "castBallot", "grantProxy", "revokeProxy",
                 "applyForPolicy",  # her own insurance, from her own account (issue 25)
                 # her answer to a job offer, her rating, her grievance (issue 26)
                 "acceptOffer", "declineOffer", "rateEmployer", "fileGrievance"}
#: Mutations whose answer to anyone is not NotAuthorized (a code is the credential).
OPEN_MUTATIONS = {"redeemMemberAccess": "ActivationInvalid"}


async def a_policy_of(node, member: str) -> tuple[str, str]:
    """An insurer of the node, its product, and a policy of ``member`` (issued as the relay
    issues one: ``IssuePolicy`` is no partner's mutation)."""
    insurer, product, policy = new_id(), new_id(), new_id()
    assert (await node.mutate("registerCooperative", {
        "cooperativeId": insurer, "name": "Seguros Futuro", "country": "SV",
        "kind": "INSURANCE", "languages": ["es"], "node": NODE, "currency": "USD",
        "sharePrice": {"amount": "10.00", "currency": "USD"}}))["__typename"] == \
        "CommandAccepted"
    assert (await node.mutate("offerProduct", {
        "productId": product, "cooperativeId": insurer,
        "names": [{"language": "es", "text": "Repatriación"}], "currency": "USD",
        "repatriationLimit": {"amount": "4000.00", "currency": "USD"},
        "monthlyBenefitCap": {"amount": "300.00", "currency": "USD"},
        "premium": {"amount": "15.00", "currency": "USD"}}))["__typename"] == \
        "CommandAccepted"
    issued = await node.commands.send(i.IssuePolicy(
        policy_id=policy, product_id=product, member_id=member, from_node="us",
        starts_on=node.now.date(), age=34, average_remittance=Money(25_000, "USD"),
        payees=[i.Payee(account_id=new_id(), share_percent=100)]))
    assert issued.payload.accepted, issued.payload
    return product, policy


def test_every_query_of_the_schema_is_in_the_member_matrix():
    assert set(SCHEMA._schema.query_type.fields) == set(QUERY_MATRIX)
    assert HER_MUTATIONS | set(OPEN_MUTATIONS) <= set(SCHEMA._schema.mutation_type.fields)
    # (assemblyResults: a result public to any signed-in caller, once certified:
    # tests/unit/test_governance_over_graphql.py)
    assert set(SCHEMA._schema.subscription_type.fields) == {"memberEvents",
                                                            "federationActivity",
                                                            "assemblyResults",
                                                            "jobOffers"}


async def test_a_member_token_reads_and_acts_for_her_alone(node):  # noqa: F811
    # Rosa and Pedro (here Luis: both on the roll of Ahorro's assembly), and one who joined
    # after its record date (that module takes her_token from this one)
    from tests.unit.test_governance_over_graphql import an_assembly  # noqa: PLC0415
    assembly, _, members = await an_assembly(node)
    rosa, pedro = members["rosa"], members["luis"]
    course = new_id()
    assert (await node.mutate("offerCourse", {**SPANISH_COURSE, "courseId": course},
                              MADRID_ADMIN))["__typename"] == "CommandAccepted"
    her = await her_token(node, rosa)
    product, policy = await a_policy_of(node, rosa)
    others = {"member": pedro, "coop": AHORRO, "course": course, "assembly": assembly,
              "product": product, "policy": policy, **await a_job_offered_to(node, pedro)}
    late = await her_token(node, members["pedro"])  # not on the roll: no assembly for him
    assert (await node.ok('{ assembly(id: "%s") { id } }' % assembly, late))["assembly"] is None

    for name, (kind, template) in QUERY_MATRIX.items():
        query = "{ " + template.format(**{**others, "member": rosa}) + " }"
        own = (await node.ok(query, her))[name]
        aimed_at_pedro = (await node.ok("{ " + template.format(**others) + " }", her))[name]
        if kind == "hers":
            assert own is not None, name
            assert aimed_at_pedro is None or name in ("me", "myJobOffers"), (  # no argument
                name, aimed_at_pedro)
        elif kind == "denied":
            assert own is None and aimed_at_pedro is None, name
        else:
            assert own is not None, name
    assert (await node.ok("{ me { memberId } }", her))["me"]["memberId"] == rosa

    mutations = SCHEMA._schema.mutation_type.fields
    mine = {"memberId": rosa, "cooperativeId": AHORRO, "courseId": course, "node": NODE,
            "consentId": new_id(), "accessId": her.access_id}

    async def tried(aimed: dict) -> dict:
        answers = {}
        for name, field in mutations.items():
            text, variables = mutation_call(name, field, aimed, key=None)
            result = await node.run(text, her, **variables)
            assert result.errors is None, (name, result.errors)
            answers[name] = result.data[name]["__typename"]
        return answers

    at_pedro = await tried({**mine, "memberId": pedro})
    assert {name for name, answer in at_pedro.items()
            if answer != OPEN_MUTATIONS.get(name, "NotAuthorized")} \
        <= {"renewMemberToken", "correctMyContact"}, at_pedro  # hers whatever the input says
    at_her = await tried(mine)
    passed = {name for name, answer in at_her.items() if answer != "NotAuthorized"}
    assert passed - set(OPEN_MUTATIONS) == HER_MUTATIONS, at_her

    assert live(her, node.views) is None  # revokeMemberAccess was aimed at her own access
    her = await her_token(node, rosa)
    # subscriptions: her own events, never another member's, never the figures
    assert await follow_as(node, her, "memberEvents", {"memberId": rosa},
                           deposit_to(node, rosa)) == ["FundsDeposited"]
    assert await follow_as(node, her, "memberEvents", {"memberId": pedro},
                           deposit_to(node, pedro)) == []
    assert await follow_as(node, her, "federationActivity", {},
                           deposit_to(node, rosa)) == []


def deposit_to(node, member_id: str):  # noqa: F811
    async def deposit():
        account = next(iter(node.views.rows("member_accounts", member_id))).account_id
        await node.mutate("depositFunds", {"accountId": account,
                                           "amount": {"amount": "5", "currency": "EUR"}},
                          MADRID_STAFF)
    return deposit


SUBSCRIPTIONS = {
    "memberEvents": "subscription($memberId: ID!) { memberEvents(memberId: $memberId) { type } }",
    "federationActivity": "subscription { federationActivity { __typename } }",
}


async def follow_as(node, caller, name: str, variables: dict, action) -> list:  # noqa: F811
    return await subscribed(node, caller, SUBSCRIPTIONS[name], variables, action)


@pytest.mark.parametrize("ends", ["revoked", "erased"])
async def test_a_revoked_or_erased_members_token_opens_nothing_at_once(node, ends):  # noqa: F811
    rosa = (await rosa_joins(node))["rosa"]
    her = await her_token(node, rosa)
    if ends == "revoked":
        done = await node.mutate("revokeMemberAccess", {"memberId": rosa}, MADRID_STAFF)
    else:
        done = await node.mutate("eraseMember", {"memberId": rosa}, MADRID_ADMIN)
    assert done["__typename"] == "CommandAccepted", done
    assert live(her, node.views) is None  # every request: anonymous from now on
    # an open stream of hers sees nothing more (its caller is checked again at each event)
    assert await follow_as(node, her, "memberEvents", {"memberId": rosa},
                           deposit_to(node, rosa)) == []


@pytest.mark.parametrize("ends", ["revoked", "erased"])
async def test_her_open_socket_is_closed_when_her_access_ends(
        node, ends, tmp_path, monkeypatch):  # noqa: F811
    monkeypatch.setenv("COOPBRIDGE_HOME", str(tmp_path))  # the node's own signing key
    monkeypatch.delenv("COOPBRIDGE_SIGNING_KEY", raising=False)
    rosa = (await rosa_joins(node))["rosa"]
    issued = await issue(node, rosa)
    token = (await redeem(node, issued["code"]))["token"]
    async with serving(node) as url, socket(url, token) as ws:
        await subscribe(ws, 1, rosa)
        await asyncio.sleep(0.1)  # (the subscription is under way)
        if ends == "revoked":
            done = await node.mutate("revokeMemberAccess", {
                "memberId": rosa, "accessId": issued["accessId"]}, MADRID_STAFF)
        else:
            done = await node.mutate("eraseMember", {"memberId": rosa}, MADRID_ADMIN)
        assert done["__typename"] == "CommandAccepted", done
        with pytest.raises(websockets.ConnectionClosed) as closed:
            while True:  # (an entry of the event may come first: she may see her own)
                await asyncio.wait_for(ws.recv(), 5)
        assert closed.value.rcvd.code == 4403, closed.value
    assert not sockets_of(node.views)._open  # the registry let go of it


async def test_her_timeline_shows_who_did_what_never_who_by_name(node):  # noqa: F811
    rosa = (await rosa_joins(node))["rosa"]
    her = await her_token(node, rosa)
    assert (await node.mutate("grantConsent", consent(rosa, new_id()), her))[
        "__typename"] == "CommandAccepted"
    history = (await node.ok("""query($id: ID!) { memberHistory(memberId: $id) { edges {
        node { type by { kind cooperativeId role } } } } }""", her, id=rosa))["memberHistory"]
    by = {edge["node"]["type"]: edge["node"]["by"] for edge in history["edges"]}
    staff = {"kind": "COOPERATIVE", "cooperativeId": AHORRO, "role": "staff"}
    herself = {"kind": "MEMBER", "cooperativeId": None, "role": None}
    assert by["MemberRegistered"] == by["FundsDeposited"] == by["MemberAccessIssued"] == staff
    assert by["MemberAccessGranted"] == by["ConsentGranted"] == herself
    # what the envelope says travels with the event: the command's actor, copied
    written = [item for item in node.views.rows("timeline", rosa)]
    assert {item.actor for item in written} == {f"cooperative:{AHORRO}:staff", "member"}
    assert all(MADRID_STAFF.subject not in (item.actor or "") for item in written)


async def test_a_stream_she_opened_before_her_access_was_revoked_stops_at_once(
        node):  # noqa: F811
    rosa = (await rosa_joins(node))["rosa"]
    her = await her_token(node, rosa)
    deposit = deposit_to(node, rosa)

    async def revoke_then_deposit():
        assert (await node.mutate("revokeMemberAccess", {"memberId": rosa}, MADRID_STAFF))[
            "__typename"] == "CommandAccepted"
        await deposit()

    assert await follow_as(node, her, "memberEvents", {"memberId": rosa},
                           revoke_then_deposit) == []


async def test_one_idempotency_key_for_two_members_issues_each_her_own_code(
        node):  # noqa: F811
    rosa = (await rosa_joins(node))["rosa"]
    pedro = (await rosa_joins(node, {**ROSA_DETAILS, "givenNames": "Pedro"}))["rosa"]
    first, second = (await issue(node, rosa, key="counter-1"),
                     await issue(node, pedro, key="counter-1"))
    assert first["__typename"] == second["__typename"] == "MemberAccessCode"
    assert first["code"] != second["code"] and first["accessId"] != second["accessId"]
    pedros = verify_token(NODE, (await redeem(node, second["code"]))["token"])
    assert pedros.member_id == pedro


async def test_a_stream_under_consent_records_again_when_a_new_consent_comes_in(
        node):  # noqa: F811
    rosa = (await rosa_joins(node))["rosa"]
    her = await her_token(node, rosa)
    await node.mutate("grantConsent", consent(rosa, new_id(), ("MEMBERSHIP",)), her)
    deposit = deposit_to(node, rosa)

    async def more_then_deposit():
        await node.mutate("grantConsent", consent(rosa, new_id(), ("SAVINGS",)), her)
        await deposit()

    seen = await follow_as(node, QUITO_STAFF, "memberEvents", {"memberId": rosa},
                           more_then_deposit)
    assert seen == ["FundsDeposited"]  # (the grant is hers to see, not Quito's)
    entries = [e["node"] for e in (await node.ok(ME, her))["me"]["accessEntries"]["edges"]]
    assert [(e["read"], e["scopes"]) for e in entries] == [
        ("events", ["membership"]), ("events", ["membership", "savings"])]


async def test_many_consents_to_one_cooperative_still_leave_one_entry(node):  # noqa: F811
    rosa = (await rosa_joins(node))["rosa"]
    for _ in range(22):
        assert (await node.mutate("grantConsent", consent(rosa, new_id()), MADRID_STAFF))[
            "__typename"] == "CommandAccepted"
    assert (await node.ok(QUITO_READS, QUITO_STAFF, id=rosa))["member"]["memberId"] == rosa
