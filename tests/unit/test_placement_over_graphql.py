"""Fair work through the GraphQL schema on an in-memory node (the real deciders, folds,
resolvers and the placer's steps, no broker), issue 26: a domestic workers' cooperative sets
its floor, registers an employer (sealed), posts a child-care job needing Spanish B1 and a
child-care certificate; of three members only the one whose imported record shows both is a
candidate and can be offered it; she sees the offer first with her own token, and nobody is
named to the other side before she accepts; she accepts, works four weeks, is paid the whole
wage into her savings, rates the employer, files a grievance only its admins read; her record
shows the work under the work scope. The access matrix: who reads what of a job order, and
who may send each command."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import json

import pytest

from gateway.access import history_scope
from gateway.auth import Caller, Role, issue_token, verify_token
from gateway.fold import MemoryStore
from gateway.placement.documents import EmployerView
from gateway.placement.fold import fold_calendar, fold_job_order
from gateway.placement.types import rating_of
from schemas import membership as m
from schemas import placement as p
from services.placement.placer import Placer
from services.runtime.ids import new_id
from tests.unit.inmemory_node import NODE
from tests.unit.test_gateway_schema import (  # noqa: F401 (node: a fixture)
    ADMIN,
    ANALYST,
    MADRID_STAFF,
    node,
)
from tests.unit.test_member_access_mutations import issue, redeem

UNIDAS = new_id()
STAFF = Caller("carmen", Role.STAFF, UNIDAS)
ADMINS = Caller("dolores", Role.ADMIN, UNIDAS)
CHILD_CARE = "http://data.europa.eu/esco/skill/child-care"
MONDAY = dt.datetime(2026, 11, 23, 8, 0, tzinfo=dt.UTC)  # the node's clock: 2026-11-15

JOB = """query($id: ID!) { jobOrder(id: $id) { jobOrderId status occupation hours
  wage { amount } margin { amount } languages { language level } skills
  employer { name address erased rating { average ratings } }
  worker { memberId givenNames }
  offers { memberId outcome }
  settlements { minutes wage { amount } margin { amount } status }
  paidTotal { amount } ended { hours reason } myRating grievances { text } } }"""


def usd(amount: str) -> dict:
    return {"amount": amount, "currency": "USD"}


class Placing:
    """The placer's steps, carried at once, as the service's placer would (its logic, on
    the in-memory node's streams and commands)."""

    def __init__(self, node) -> None:
        self.node = node
        self.placer = Placer(node.commands)

    async def carry(self) -> None:
        for _ in range(5):
            log = self.node.commands.logs["placement"]
            self.placer.observe(list(log.streams.values()))
            running = list(self.placer._running.values())
            if not running:
                return
            await asyncio.gather(*running)


async def a_cooperative_with_three_members(node) -> dict:
    ok = "CommandAccepted"
    assert (await node.mutate("registerCooperative", {
        "cooperativeId": UNIDAS, "name": "Mujeres Unidas", "country": "US",
        "kind": "WORKER", "languages": ["es", "en"], "node": NODE, "currency": "USD",
        "sharePrice": usd("10.00")}))["__typename"] == ok
    people = {}
    for name in ("rosa", "luz", "ana"):
        member, account = new_id(), new_id()
        for command, input in (
                ("registerMember", {"memberId": member, "personal": {
                    "givenNames": name.title(), "familyNames": "Quispe",
                    "dateOfBirth": "1990-04-17", "nationality": "EC",
                    "preferredLanguages": ["es-EC"]}}),
                ("startMembership", {"memberId": member, "cooperativeId": UNIDAS,
                                     "startedOn": "2025-05-06",
                                     "shareCapitalRequired": usd("10.00")}),
                ("openAccount", {"accountId": account, "memberId": member,
                                 "cooperativeId": UNIDAS, "product": "SAVINGS",
                                 "currency": "USD"})):
            answer = await node.mutate(command, input, STAFF)
            assert answer["__typename"] == ok, (command, answer)
        people[name], people[f"{name}_account"] = member, account
    # their records from home, as verified and imported (the gateway's importRecord)
    for name, level in (("rosa", "B1"), ("luz", "A2")):
        reply = await node.commands.send(m.ImportRecord(
            member_id=people[name], credential_id=new_id(), issuer_node="ec",
            issued_at=dt.datetime(2026, 10, 1, tzinfo=dt.UTC), digest="A" * 43,
            history=m.ImportedHistory(certificates=[
                m.ImportedCertificate(title="Español", kind="language",
                                      issued_on=dt.date(2026, 6, 30), level=level,
                                      language="es-EC"),
                m.ImportedCertificate(title="Cuidado infantil", kind="vocational",
                                      issued_on=dt.date(2026, 7, 30),
                                      skills=[CHILD_CARE])])))
        assert reply.accepted, reply.payload
    return people


async def her_token(node, member: str) -> Caller:
    issued = await issue(node, member, STAFF)
    token = await redeem(node, issued["code"])
    assert token["__typename"] == "MemberToken", token
    return verify_token(NODE, token["token"])


def job_input(job: str, employer: str, **changes) -> dict:
    shifts = [{"startsAt": (MONDAY + dt.timedelta(days=d)).isoformat(),
               "endsAt": (MONDAY + dt.timedelta(days=d, hours=8)).isoformat()}
              for week in range(4) for d in range(7 * week, 7 * week + 5)]
    return {"jobOrderId": job, "cooperativeId": UNIDAS, "employerId": employer,
            "occupation": "5311", "country": "US", "locality": "Oakland, CA",
            "shifts": shifts, "wage": usd("25.00"), "margin": usd("3.00"),
            "languages": [{"language": "es", "level": "B1"}],
            "skills": [{"esco": {"uri": CHILD_CARE}}], "termsSha256": "ab" * 32, **changes}


async def test_a_child_care_job_from_posting_to_her_record(node):
    people = await a_cooperative_with_three_members(node)
    rosa, luz = people["rosa"], people["luz"]
    placing = Placing(node)
    floor = {"cooperativeId": UNIDAS, "occupation": "53", "hourly": usd("20.00")}
    assert (await node.mutate("setWageFloor", floor, STAFF))["__typename"] == "NotAuthorized"
    assert (await node.mutate("setWageFloor", floor, ADMINS))["__typename"] == \
        "CommandAccepted"
    employer, job = new_id(), new_id()
    registered = await node.mutate("registerEmployer", {
        "employerId": employer, "cooperativeId": UNIDAS, "details": {
            "name": "Familia Ortega", "address": "12 Elm St, Oakland", "phone": "+1 510 555 0101"}},
        STAFF)
    assert registered["__typename"] == "CommandAccepted", registered
    low = await node.mutate("postJobOrder", job_input(job, employer, wage=usd("19.99")), STAFF)
    assert low["__typename"] == "BelowWageFloor", low
    assert (await node.mutate("postJobOrder", job_input(job, employer), STAFF))[
        "__typename"] == "CommandAccepted"

    candidates = (await node.ok("""query($id: ID!) { jobCandidates(jobOrderId: $id) {
        memberId score available } }""", STAFF, id=job))["jobCandidates"]
    assert candidates == [{"memberId": rosa, "score": 1, "available": True}]
    assert (await node.mutate("offerJob", {"jobOrderId": job, "memberId": luz}, STAFF))[
        "__typename"] == "RequirementsNotMet"
    assert (await node.mutate("offerJob", {"jobOrderId": job, "memberId": rosa}, STAFF))[
        "__typename"] == "CommandAccepted"

    # she sees it first, her own token; no employer named; the employer sees no worker
    her = await her_token(node, rosa)
    boss = verify_token(NODE, issue_token(NODE, Role.EMPLOYER, None, employer))
    offers = (await node.ok("{ myJobOffers { jobOrderId status employer { name } "
                            "offers { memberId outcome } wage { amount } } }", her))
    assert offers["myJobOffers"] == [{"jobOrderId": job, "status": "offered", "employer": None,
                                      "offers": [{"memberId": rosa, "outcome": "open"}],
                                      "wage": {"amount": "25.00"}}]
    seen = (await node.ok(JOB, boss, id=job))["jobOrder"]
    assert (seen["worker"], seen["offers"], seen["employer"]["name"]) == (
        None, None, "Familia Ortega")
    # nobody but she answers for her
    for caller in (STAFF, ADMIN, await her_token(node, luz)):
        tried = await node.mutate("acceptOffer", {"memberId": rosa, "jobOrderId": job,
                                                  "accountId": people["rosa_account"]}, caller)
        assert tried["__typename"] == "NotAuthorized", (caller, tried)
    accepted = await node.mutate("acceptOffer", {"memberId": rosa, "jobOrderId": job,
                                                 "accountId": people["rosa_account"]}, her)
    assert accepted["__typename"] == "CommandAccepted", accepted
    await placing.carry()
    mine = (await node.ok(JOB, her, id=job))["jobOrder"]
    assert mine["status"] == "filled" and mine["employer"]["name"] == "Familia Ortega"
    assert (await node.ok(JOB, boss, id=job))["jobOrder"]["worker"] == {
        "memberId": rosa, "givenNames": "Rosa"}

    # four weeks worked, settled each week as the employer paid: the whole wage is hers
    for week in range(4):
        first = (MONDAY + dt.timedelta(days=7 * week)).date()
        with node.on((first + dt.timedelta(days=5)).isoformat()):
            short = await node.mutate("settleWages", {
                "jobOrderId": job, "settlementId": new_id(), "workedFrom": first.isoformat(),
                "workedTo": (first + dt.timedelta(days=4)).isoformat(), "minutes": 2400,
                "employerPaid": usd("1000.00")}, STAFF)
            assert short["__typename"] == "RecruitmentFeeForbidden", short
            settled = await node.mutate("settleWages", {
                "jobOrderId": job, "settlementId": new_id(), "workedFrom": first.isoformat(),
                "workedTo": (first + dt.timedelta(days=4)).isoformat(), "minutes": 2400,
                "employerPaid": usd("1120.00")}, STAFF)
            assert settled["__typename"] == "CommandAccepted", settled
            await placing.carry()
    with node.on("2026-12-21"):
        ended = await node.mutate("endPlacement", {"jobOrderId": job, "endedOn": "2026-12-19",
                                                   "reason": "COMPLETED"}, STAFF)
        assert ended["__typename"] == "CommandAccepted", ended
        rated = await node.mutate("rateEmployer", {"jobOrderId": job, "memberId": rosa,
                                                   "stars": 4}, her)
        assert rated["__typename"] == "CommandAccepted", rated
        filed = await node.mutate("fileGrievance", {
            "jobOrderId": job, "memberId": rosa, "grievanceId": new_id(),
            "grievance": {"text": "Me hicieron limpiar toda la casa, no solo cuidar al niño"}},
            her)
        assert filed["__typename"] == "CommandAccepted", filed

    mine = (await node.ok(JOB, her, id=job))["jobOrder"]
    assert mine["paidTotal"] == {"amount": "4000.00"}
    assert [s["status"] for s in mine["settlements"]] == ["credited"] * 4
    assert mine["ended"] == {"hours": "160", "reason": "completed"} and mine["myRating"] == 4
    assert mine["grievances"] is None  # hers, but for her cooperative's admins to read
    balance = (await node.ok("""query($id: ID!) { member(id: $id) { accounts {
        balance { amount } } placements { occupation status hours } } }""", her, id=rosa))
    assert balance["member"] == {"accounts": [{"balance": {"amount": "4000.00"}}],
                                 "placements": [{"occupation": "5311", "status": "ended",
                                                 "hours": "160"}]}
    assert (await node.ok(JOB, STAFF, id=job))["jobOrder"]["grievances"] is None
    assert (await node.ok(JOB, boss, id=job))["jobOrder"]["grievances"] is None
    assert (await node.ok(JOB, ADMIN, id=job))["jobOrder"]["grievances"] is None  # the node's
    assert (await node.ok(JOB, ADMINS, id=job))["jobOrder"]["grievances"] == [
        {"text": "Me hicieron limpiar toda la casa, no solo cuidar al niño"}]
    # one rating is not shown: five are
    assert (await node.ok(JOB, boss, id=job))["jobOrder"]["employer"]["rating"] is None

    # her work in her record: exported under her work consent (scopes named in any case)
    home = new_id()
    granted = await node.mutate("grantConsent", {
        "memberId": rosa, "consentId": new_id(), "granteeKind": "COOPERATIVE",
        "grantee": home, "scopes": ["WORK"], "expiresAt": "2027-11-15T00:00:00Z"}, her)
    assert granted["__typename"] == "CommandAccepted", granted
    export = """mutation($input: ExportRecordInput!) { exportRecord(input: $input) {
        __typename ... on ExportedRecord { credential } ... on Problem { message } } }"""
    wrong = (await node.ok(export, her, input={"memberId": rosa, "recipient": {
        "cooperative": home}, "scopes": ["jobs"]}))["exportRecord"]
    assert wrong["message"].endswith("governance, insurance, work"), wrong
    record = (await node.ok(export, her, input={"memberId": rosa, "recipient": {
        "cooperative": home}, "scopes": ["WORK"]}))["exportRecord"]
    payload = record["credential"].split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    [work] = claims["credentialSubject"]["work"]
    assert (work["occupation"]["isco08"], work["hours"], work["howEnded"]) == (
        "5311", "160", "completed")
    assert "Ortega" not in json.dumps(claims) and "25.00" not in json.dumps(claims)


async def test_who_reads_a_job_order_and_who_reads_nothing(node):
    people = await a_cooperative_with_three_members(node)
    rosa, ana = people["rosa"], people["ana"]
    await node.mutate("setWageFloor", {"cooperativeId": UNIDAS, "occupation": "5",
                                       "hourly": usd("20.00")}, ADMINS)
    employer, other_employer, job = new_id(), new_id(), new_id()
    for who in (employer, other_employer):
        await node.mutate("registerEmployer", {"employerId": who, "cooperativeId": UNIDAS,
                                               "details": {"name": "Familia", "address": "x"}},
                          STAFF)
    await node.mutate("postJobOrder", job_input(job, employer), STAFF)
    await node.mutate("offerJob", {"jobOrderId": job, "memberId": rosa}, STAFF)
    nobody = [MADRID_STAFF, ANALYST, await her_token(node, ana),
              verify_token(NODE, issue_token(NODE, Role.EMPLOYER, None, other_employer))]
    for caller in nobody:
        assert (await node.ok(JOB, caller, id=job))["jobOrder"] is None, caller
        assert (await node.ok("query($id: ID!) { jobCandidates(jobOrderId: $id) { memberId } }",
                              caller, id=job))["jobCandidates"] is None
    boss = verify_token(NODE, issue_token(NODE, Role.EMPLOYER, None, employer))
    # the employer reads no member, no figures, sends no command
    assert (await node.ok("query($id: ID!) { member(id: $id) { memberId } }", boss,
                          id=rosa))["member"] is None
    assert (await node.mutate("offerJob", {"jobOrderId": job, "memberId": ana}, boss))[
        "__typename"] == "NotAuthorized"
    assert (await node.ok("query($id: ID!) { employer(id: $id) { name } }", boss,
                          id=employer))["employer"] == {"name": "Familia"}
    assert (await node.ok("query($id: ID!) { employer(id: $id) { name } }", boss,
                          id=other_employer))["employer"] is None
    # erased at their request: their details are gone for everyone, the job stays
    assert (await node.mutate("eraseEmployer", {"employerId": employer}, STAFF))[
        "__typename"] == "NotAuthorized"  # an admin's
    assert (await node.mutate("eraseEmployer", {"employerId": employer}, ADMINS))[
        "__typename"] == "CommandAccepted"
    assert node.keys.gone(f"employer:{employer}")
    read = (await node.ok(JOB, STAFF, id=job))["jobOrder"]
    assert read["employer"] == {"name": None, "address": None, "erased": True, "rating": None}
    # an erased employer's token (it cannot be revoked) opens nothing from then on
    assert (await node.ok(JOB, boss, id=job))["jobOrder"] is None
    assert (await node.ok("query($id: ID!) { employer(id: $id) { name } }", boss,
                          id=employer))["employer"] is None


@pytest.mark.parametrize("token_for", ["cooperative", "subject"])
def test_an_employers_token_names_the_employer_and_no_cooperative(token_for):
    with pytest.raises(ValueError):
        if token_for == "cooperative":
            issue_token(NODE, Role.EMPLOYER, UNIDAS, new_id())
        else:
            issue_token(NODE, Role.EMPLOYER, None, "Familia Ortega")


async def a_plain_job(node) -> tuple[str, str]:
    """The cooperative's floor, an employer client, and a job needing nothing."""
    await node.mutate("setWageFloor", {"cooperativeId": UNIDAS, "occupation": "5",
                                       "hourly": usd("20.00")}, ADMINS)
    employer, job = new_id(), new_id()
    await node.mutate("registerEmployer", {"employerId": employer, "cooperativeId": UNIDAS,
                                           "details": {"name": "Familia", "address": "x"}},
                      STAFF)
    await node.mutate("postJobOrder", job_input(job, employer, languages=[], skills=[]),
                      STAFF)
    return employer, job


async def test_her_job_offers_arrive_as_they_are_made_and_only_hers(node):
    people = await a_cooperative_with_three_members(node)
    rosa, luz = people["rosa"], people["luz"]
    employer, job = await a_plain_job(node)
    her, other = await her_token(node, rosa), await her_token(node, luz)
    offers = "subscription { jobOffers { jobOrderId status employer { name } } }"

    async def offered():
        sent = await node.mutate("offerJob", {"jobOrderId": job, "memberId": rosa}, STAFF)
        assert sent["__typename"] == "CommandAccepted", sent

    async def declined():
        sent = await node.mutate("declineOffer", {"jobOrderId": job, "memberId": rosa}, her)
        assert sent["__typename"] == "CommandAccepted", sent

    async def offered_again():  # another job, to Luz
        another = new_id()
        await node.mutate("postJobOrder", job_input(another, employer, languages=[],
                                                    skills=[]), STAFF)
        sent = await node.mutate("offerJob", {"jobOrderId": another, "memberId": luz}, STAFF)
        assert sent["__typename"] == "CommandAccepted", sent

    assert await streamed(node, other, offers, offered) is None  # Rosa's, not Luz's
    await node.mutate("declineOffer", {"jobOrderId": job, "memberId": rosa}, her)
    context_item = await streamed(node, her, offers, offered)
    assert context_item == {"jobOrderId": job, "status": "offered", "employer": None}
    assert (await streamed(node, her, offers, declined))["status"] == "open"
    assert await streamed(node, her, offers, offered_again) is None  # Luz's, not hers
    for caller in (STAFF, verify_token(NODE, issue_token(NODE, Role.EMPLOYER, None, employer))):
        assert await streamed(node, caller, offers, offered_again) is None


async def streamed(node, caller, document: str, action, token: str | None = None
                   ) -> dict | None:
    """The first item a subscription of ``caller`` yields while ``action`` runs (None: it
    yielded nothing, ended, or was refused); with ``token``, as on a socket: no caller in
    the context, the token in the connection_init payload."""
    from gateway.context import GatewayContext
    from tests.unit.test_gateway_schema import SCHEMA

    context = GatewayContext(node=NODE, caller=caller, views=node.views, keys=node.keys,
                             commands=node.commands, now=node.now,
                             **({"connection_params": {"Authorization": f"Bearer {token}"}}
                                if token else {}))
    stream = await SCHEMA.subscribe(document, context_value=context)
    if not hasattr(stream, "__anext__"):
        return None
    first = asyncio.ensure_future(stream.__anext__())
    await asyncio.sleep(0)
    try:
        await action()
        result = await asyncio.wait_for(first, 1)
    except (StopAsyncIteration, TimeoutError):
        return None
    finally:
        first.cancel()
        await stream.aclose()
    return None if result.errors or not result.data else result.data["jobOffers"]


def test_an_employers_rating_shows_in_whole_batches_of_five():
    """From the change of a rating nobody learns one worker's stars: it moves only when five
    more rated."""
    doc = EmployerView(employer_id=new_id())
    shown = []
    for stars in (5, 4, 5, 3, 4, 1, 5, 5, 5, 5, 2):
        doc.stars.append(stars)
        shown.append(rating_of(doc) and (rating_of(doc).average, rating_of(doc).ratings))
    assert shown == [None] * 4 + [("4.2", 5)] * 5 + [("4.2", 10)] * 2


def test_her_calendar_folded_before_the_offer_it_answers_still_counts():
    """Her calendar and the job order are on different partitions: an acceptance folded
    before its offer waits for it; a release folded before either wins over both."""
    store = MemoryStore()
    job, rosa = new_id(), new_id()
    at = dt.datetime(2026, 11, 16, 9, tzinfo=dt.UTC)
    fold_calendar(store, p.OfferAccepted(member_id=rosa, job_order_id=job, account_id=new_id(),
                                         shifts=[], accepted_at=at + dt.timedelta(hours=1)),
                  None)
    fold_job_order(store, p.JobOffered(job_order_id=job, member_id=rosa, offered_at=at,
                                       expires_at=at + dt.timedelta(hours=72)), None)
    assert store.get("job_orders", job).offer_to(rosa).outcome == "accepted"
    fold_calendar(store, p.BookingReleased(member_id=rosa, job_order_id=job,
                                           accepted_at=at + dt.timedelta(hours=1),
                                           code="JobOrderClosed"), None)
    offer = store.get("job_orders", job).offer_to(rosa)
    assert (offer.outcome, offer.code) == ("released", "JobOrderClosed")
    assert store.get("job_orders", job).early == []


def test_her_wages_read_under_the_savings_scope_not_the_work_scope():
    assert history_scope("placement", "WagesSettled") == "savings"
    assert history_scope("placement", "WagePaid") == "savings"
    assert history_scope("placement", "PlacementEnded") == "work"


async def test_on_a_socket_she_reads_her_placement_as_over_http(node):
    """A subscription's context has no caller (the token came in connection_init): the job
    order she reads there shows her offer and, once placed, her employer."""
    people = await a_cooperative_with_three_members(node)
    rosa = people["rosa"]
    employer, job = await a_plain_job(node)
    issued = await issue(node, rosa, STAFF)
    token = (await redeem(node, issued["code"]))["token"]
    placing = Placing(node)
    document = ("subscription { jobOffers { status offers { memberId outcome } "
                "employer { name } } }")

    async def offered():
        await node.mutate("offerJob", {"jobOrderId": job, "memberId": rosa}, STAFF)

    async def accepted():
        her = verify_token(NODE, token)
        await node.mutate("acceptOffer", {"memberId": rosa, "jobOrderId": job,
                                          "accountId": people["rosa_account"]}, her)

    first = await streamed(node, None, document, offered, token=token)
    assert first == {"status": "offered", "offers": [{"memberId": rosa, "outcome": "open"}],
                     "employer": None}
    assert await streamed(node, None, document, accepted, token=token) == {
        "status": "offered", "offers": [{"memberId": rosa, "outcome": "accepted"}],
        "employer": None}  # not yet confirmed: nobody named
    assert await streamed(node, None, document, placing.carry, token=token) == {
        "status": "filled", "offers": [{"memberId": rosa, "outcome": "confirmed"}],
        "employer": {"name": "Familia"}}


async def test_a_candidate_is_free_by_the_rule_her_calendar_decides_by(node):
    """jobCandidates says she is free exactly when her calendar would take the job: a
    placement that ended frees her from the second day after its last day."""
    people = await a_cooperative_with_three_members(node)
    rosa = people["rosa"]
    employer, job = await a_plain_job(node)  # every weekday for four weeks from MONDAY
    her = await her_token(node, rosa)
    await node.mutate("offerJob", {"jobOrderId": job, "memberId": rosa}, STAFF)
    await node.mutate("acceptOffer", {"memberId": rosa, "jobOrderId": job,
                                      "accountId": people["rosa_account"]}, her)
    await Placing(node).carry()
    with node.on("2026-11-24"):  # her second day
        ended = await node.mutate("endPlacement", {"jobOrderId": job, "endedOn": "2026-11-24",
                                                   "reason": "WORKER_LEFT"}, STAFF)
        assert ended["__typename"] == "CommandAccepted", ended
        free = {}
        for day in (25, 26):  # the day after (still hers somewhere), and the one after
            other = new_id()
            start = dt.datetime(2026, 11, day, 9, tzinfo=dt.UTC)
            posted = await node.mutate("postJobOrder", job_input(other, employer, shifts=[
                {"startsAt": start.isoformat(),
                 "endsAt": (start + dt.timedelta(hours=4)).isoformat()}], languages=[],
                skills=[]), STAFF)
            assert posted["__typename"] == "CommandAccepted", posted
            [candidate] = [c for c in (await node.ok(
                "query($id: ID!) { jobCandidates(jobOrderId: $id) { memberId available } }",
                STAFF, id=other))["jobCandidates"] if c["memberId"] == rosa]
            free[day] = candidate["available"]
            await node.mutate("offerJob", {"jobOrderId": other, "memberId": rosa}, STAFF)
            took = await node.mutate("acceptOffer", {"memberId": rosa, "jobOrderId": other,
                                                     "accountId": people["rosa_account"]}, her)
            assert (took["__typename"] == "CommandAccepted") == free[day], (day, took)
    assert free == {25: False, 26: True}
