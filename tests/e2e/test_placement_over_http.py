"""Issue 26, end to end over GraphQL with a stock client (gql over HTTP), on two nodes of
processes (membership, savings, training, placement, the relay, the gateway), the clock
moved week by week for every process (``services.runtime.clock``).

At home in Ecuador Rosa passes Spanish B1 and a child-care course, Luz only Spanish (A2);
each takes her record to the United States, where Mujeres Unidas, a domestic workers'
cooperative, imports it and admits her; Ana joins there without one. The cooperative posts a
child-care job needing Spanish B1 and a child-care certificate for an employer client. Of the
three, only Rosa is a candidate and can be offered it; she sees the offer first with her own
member token (no employer named; the employer's own token sees no worker), accepts, works
four weeks, is paid the whole wage into her savings week by week (a payment short of wage and
margin refused), rates the employer; her record, exported to her home cooperative under her
work consent, shows the placement and verifies with joserfc, a JOSE library that is not ours,
and at home. About 25 s: every day."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import httpx
import pytest
from gql import Client, gql
from gql.transport.aiohttp import AIOHTTPTransport
from joserfc import jws
from joserfc.jwk import KeySet

from gateway.auth import Role
from services.runtime import clock
from services.runtime.ids import new_id
from tests.e2e.test_federation_over_http import call, mutate, running_federation, until

pytestmark = pytest.mark.kafka

PROCESSES = ("membership", "savings", "training", "placement", "federation", "gateway")
CHILD_CARE = "http://data.europa.eu/esco/skill/5d1c3f1c-7e5a-4e2b-9d8e-0f6b1e4a7c21"
JOB = """query($id: ID!) { jobOrder(id: $id) { status employer { name }
  worker { memberId givenNames } offers { memberId outcome }
  settlements { status wage { amount } } paidTotal { amount } ended { hours } } }"""


def usd(amount: str) -> dict:
    return {"amount": amount, "currency": "USD"}


def coop(cid: str, name: str, country: str, node: str, kind: str = "SAVINGS_AND_CREDIT"):
    return {"cooperativeId": cid, "name": name, "country": country, "kind": kind,
            "languages": ["es", "en"], "node": node, "currency": "USD",
            "sharePrice": usd("10.00")}


async def anonymous(fed, role: str, document: str, **variables) -> dict:
    async with Client(transport=AIOHTTPTransport(url=fed.url(role)),
                      fetch_schema_from_transport=False) as session:
        prepared = gql(document)
        prepared.variable_values = variables
        return await session.execute(prepared)


async def test_a_child_care_job_from_a_record_imported_to_the_work_it_takes_home(
        kafka_bootstrap, tmp_path, monkeypatch):
    moved = tmp_path / "clock"
    monkeypatch.setenv(clock.VARIABLE, str(moved))  # this process and every node's

    def to(moment: dt.datetime) -> None:
        clock.moved_by(moved, max(0.0, (moment - clock.now()).total_seconds()))

    (tmp_path / "nodes").mkdir()
    with running_federation(kafka_bootstrap, tmp_path / "nodes", PROCESSES,
                            {clock.VARIABLE: str(moved)}) as fed:
        host, home = fed.nodes["host"], fed.nodes["home"]
        unidas, andina = new_id(), new_id()
        await mutate(fed, "host", fed.token("host", Role.NODE_ADMIN), "registerCooperative",
                     coop(unidas, "Mujeres Unidas", "US", host, "WORKER"))
        await mutate(fed, "home", fed.token("home", Role.NODE_ADMIN), "registerCooperative",
                     coop(andina, "Cooperativa Andina", "EC", home))
        staff, admin = (fed.token("host", Role.STAFF, unidas, "carmen"),
                        fed.token("host", Role.ADMIN, unidas, "dolores"))
        andina_staff = fed.token("home", Role.STAFF, andina, "luis")
        andina_admin = fed.token("home", Role.ADMIN, andina, "ines")

        # -- at home: courses, and Rosa's and Luz's certificates
        today = clock.now().date()
        spanish, child_care = new_id(), new_id()
        await mutate(fed, "home", andina_admin, "offerCourse", {
            "courseId": spanish, "cooperativeId": andina, "kind": "LANGUAGE",
            "titles": [{"language": "es", "title": "Español para el trabajo"}],
            "languageTaught": "es-EC", "targetLevel": "B1", "hours": 80,
            "startsOn": (today - dt.timedelta(days=120)).isoformat(),
            "endsOn": (today - dt.timedelta(days=30)).isoformat(), "capacity": 20})
        await mutate(fed, "home", andina_admin, "offerCourse", {
            "courseId": child_care, "cooperativeId": andina, "kind": "VOCATIONAL",
            "titles": [{"language": "es", "title": "Cuidado infantil"}],
            "skills": [{"esco": {"uri": CHILD_CARE}}, {"isco08": {"code": "5311"}}],
            "hours": 60, "startsOn": (today - dt.timedelta(days=120)).isoformat(),
            "endsOn": (today - dt.timedelta(days=30)).isoformat(), "capacity": 20})
        people = {name: new_id() for name in ("rosa", "luz", "ana")}
        done_on = (today - dt.timedelta(days=20)).isoformat()
        for name, courses in (("rosa", [(spanish, "B1"), (child_care, None)]),
                              ("luz", [(spanish, "A2")])):
            member = people[name]
            await mutate(fed, "home", andina_staff, "registerMember", {
                "memberId": member, "personal": {
                    "givenNames": name.title(), "familyNames": "Quispe",
                    "dateOfBirth": "1992-04-17", "nationality": "EC",
                    "preferredLanguages": ["es-EC"]}})
            await mutate(fed, "home", andina_staff, "startMembership", {
                "memberId": member, "cooperativeId": andina, "startedOn": "2020-01-06",
                "shareCapitalRequired": usd("10.00")})
            for course, level in courses:
                await mutate(fed, "home", andina_staff, "enrolLearner",
                             {"courseId": course, "memberId": member})
                await mutate(fed, "home", andina_staff, "completeCourse", {
                    "courseId": course, "memberId": member, "result": "PASSED", "score": 88,
                    "completedOn": done_on, **({"levelAttained": level} if level else {})})
                await mutate(fed, "home", andina_staff, "issueCertificate", {
                    "courseId": course, "memberId": member, "certificateId": new_id(),
                    "issuedOn": done_on})
            # her record goes with her, and Mujeres Unidas admits her on it
            await mutate(fed, "home", andina_staff, "grantConsent", {
                "memberId": member, "consentId": new_id(), "granteeKind": "COOPERATIVE",
                "grantee": unidas, "scopes": ["IDENTITY", "MEMBERSHIP", "TRAINING"],
                "join": True, "expiresAt": "2031-01-01T00:00:00Z"})
            exported = (await call(fed, "home", andina_staff, """mutation($input:
                ExportRecordInput!) { exportRecord(input: $input) { __typename
                ... on ExportedRecord { credential } ... on Problem { code } } }""",
                                   input={"memberId": member,
                                          "recipient": {"cooperative": unidas}}))[
                "exportRecord"]
            assert exported["__typename"] == "ExportedRecord", exported
            imported = (await call(fed, "host", staff, """mutation($input: ImportRecordInput!)
                { importRecord(input: $input) { __typename
                  ... on RecordImportedHere { memberId } ... on Problem { code message }
                  ... on RecordNotVerified { message } } }""", input={
                "credential": exported["credential"], "cooperativeId": unidas,
                "startedOn": today.isoformat(),
                "shareCapitalRequired": usd("10.00")}))["importRecord"]
            assert imported == {"__typename": "RecordImportedHere", "memberId": member}, \
                imported
        await mutate(fed, "host", staff, "registerMember", {
            "memberId": people["ana"], "personal": {
                "givenNames": "Ana", "familyNames": "Quispe", "dateOfBirth": "1990-02-03",
                "nationality": "EC", "preferredLanguages": ["es-EC"]}})
        await mutate(fed, "host", staff, "startMembership", {
            "memberId": people["ana"], "cooperativeId": unidas,
            "startedOn": today.isoformat(), "shareCapitalRequired": usd("10.00")})
        account = new_id()
        await mutate(fed, "host", staff, "openAccount", {
            "accountId": account, "memberId": people["rosa"], "cooperativeId": unidas,
            "product": "SAVINGS", "currency": "USD"})

        # -- the job: child care, Spanish B1 and a child-care certificate, four weeks
        await mutate(fed, "host", admin, "setWageFloor", {
            "cooperativeId": unidas, "occupation": "53", "hourly": usd("20.00")})
        employer, job = new_id(), new_id()
        await mutate(fed, "host", staff, "registerEmployer", {
            "employerId": employer, "cooperativeId": unidas,
            "details": {"name": "Familia Ortega", "address": "12 Elm St, Oakland, CA"}})
        monday = dt.datetime.combine(today + dt.timedelta(days=7 - today.weekday()),
                                     dt.time(15), tzinfo=dt.UTC)  # 8 a.m. in Oakland
        shifts = [{"startsAt": (monday + dt.timedelta(days=d)).isoformat(),
                   "endsAt": (monday + dt.timedelta(days=d, hours=8)).isoformat()}
                  for week in range(4) for d in range(7 * week, 7 * week + 5)]
        await mutate(fed, "host", staff, "postJobOrder", {
            "jobOrderId": job, "cooperativeId": unidas, "employerId": employer,
            "occupation": "5311", "country": "US", "locality": "Oakland, CA",
            "shifts": shifts, "wage": usd("25.00"), "margin": usd("3.00"),
            "languages": [{"language": "es", "level": "B1"}],
            "skills": [{"esco": {"uri": CHILD_CARE}}],
            "termsSha256": "e3" * 32})

        async def candidates():
            return (await call(fed, "host", staff, """query($id: ID!) {
                jobCandidates(jobOrderId: $id) { memberId available } }""", id=job))[
                "jobCandidates"]
        assert await until(candidates) == [{"memberId": people["rosa"], "available": True}]
        offer = """mutation($input: OfferJobInput!) { offerJob(input: $input) { __typename
            ... on Problem { code } } }"""
        for name, answer in (("luz", "RequirementsNotMet"), ("ana", "RequirementsNotMet"),
                             ("rosa", "CommandAccepted")):
            sent = (await call(fed, "host", staff, offer, input={
                "jobOrderId": job, "memberId": people[name]}))["offerJob"]
            assert sent["__typename"] == answer, (name, sent)

        # -- she sees it first, with her own token; the employer sees nobody yet
        issued = (await call(fed, "host", staff, """mutation($input: IssueMemberAccessInput!)
            { issueMemberAccess(input: $input) { __typename ... on MemberAccessCode { code } } }
            """, input={"memberId": people["rosa"]}))["issueMemberAccess"]
        her = (await anonymous(fed, "host", """mutation($code: String!) {
            redeemMemberAccess(input: {code: $code}) { __typename ... on MemberToken { token }
            } }""", code=issued["code"]))["redeemMemberAccess"]["token"]
        boss = fed.token("host", Role.EMPLOYER, None, employer)
        mine = (await call(fed, "host", her, "{ myJobOffers { jobOrderId employer { name } "
                                             "wage { amount } margin { amount } } }"))
        assert mine["myJobOffers"] == [{"jobOrderId": job, "employer": None,
                                        "wage": {"amount": "25.00"},
                                        "margin": {"amount": "3.00"}}]
        theirs = (await call(fed, "host", boss, JOB, id=job))["jobOrder"]
        assert (theirs["worker"], theirs["offers"]) == (None, None)
        await mutate(fed, "host", her, "acceptOffer", {
            "memberId": people["rosa"], "jobOrderId": job, "accountId": account})

        async def filled():
            found = (await call(fed, "host", her, JOB, id=job))["jobOrder"]
            return found if found["status"] == "filled" else None
        placed = await until(filled)
        assert placed["employer"] == {"name": "Familia Ortega"}, placed
        assert (await call(fed, "host", boss, JOB, id=job))["jobOrder"]["worker"] == {
            "memberId": people["rosa"], "givenNames": "Rosa"}

        # -- four weeks, each settled as the employer paid it; the whole wage is hers
        for week in range(4):
            first = (monday + dt.timedelta(days=7 * week)).date()
            to(dt.datetime.combine(first + dt.timedelta(days=5), dt.time(12), tzinfo=dt.UTC))
            settle = {"jobOrderId": job, "workedFrom": first.isoformat(),
                      "workedTo": (first + dt.timedelta(days=4)).isoformat(),
                      "minutes": 5 * 8 * 60}
            short = (await call(fed, "host", staff, """mutation($input: SettleWagesInput!) {
                settleWages(input: $input) { __typename } }""", input={
                **settle, "settlementId": new_id(), "employerPaid": usd("1000.00")}))
            assert short["settleWages"]["__typename"] == "RecruitmentFeeForbidden", short
            await mutate(fed, "host", staff, "settleWages", {
                **settle, "settlementId": new_id(), "employerPaid": usd("1120.00")})

            async def credited(weeks=week + 1):
                found = (await call(fed, "host", her, JOB, id=job))["jobOrder"]
                return [s["status"] for s in found["settlements"]] == ["credited"] * weeks
            assert await until(credited), (await call(fed, "host", her, JOB, id=job))
        to(monday + dt.timedelta(days=26))
        last = (monday + dt.timedelta(days=25)).date().isoformat()
        await mutate(fed, "host", staff, "endPlacement", {"jobOrderId": job, "endedOn": last,
                                                          "reason": "COMPLETED"})
        await mutate(fed, "host", her, "rateEmployer", {"jobOrderId": job,
                                                        "memberId": people["rosa"],
                                                        "stars": 5})
        done = (await call(fed, "host", her, JOB, id=job))["jobOrder"]
        assert done["paidTotal"] == {"amount": "4000.00"} and done["ended"] == {"hours": "160"}
        balance = (await call(fed, "host", her, """query($id: ID!) { member(id: $id) {
            accounts { accountId balance { amount } } } }""", id=people["rosa"]))["member"]
        assert balance["accounts"] == [{"accountId": account,
                                        "balance": {"amount": "4000.00"}}]

        # -- her work goes home in her record, signed, and verifies with joserfc
        await mutate(fed, "host", her, "grantConsent", {
            "memberId": people["rosa"], "consentId": new_id(), "granteeKind": "COOPERATIVE",
            "grantee": andina, "scopes": ["MEMBERSHIP", "WORK"],
            "expiresAt": "2031-01-01T00:00:00Z"})
        record = (await call(fed, "host", her, """mutation($input: ExportRecordInput!) {
            exportRecord(input: $input) { __typename ... on ExportedRecord { credential }
            ... on Problem { code message } } }""", input={
            "memberId": people["rosa"], "recipient": {"cooperative": andina},
            "scopes": ["work"]}))["exportRecord"]
        assert record["__typename"] == "ExportedRecord", record
        async with httpx.AsyncClient() as http:
            published = (await http.get(fed.url("host", "/.well-known/jwks.json"))).json()
        claims = json.loads(jws.deserialize_compact(
            record["credential"], KeySet.import_key_set(published),
            algorithms=["EdDSA"]).payload)
        [work] = claims["credentialSubject"]["work"]
        assert (work["occupation"]["isco08"], work["country"], work["hours"],
                work["howEnded"]) == ("5311", "US", "160", "completed")
        assert work["cooperative"]["name"] == "Mujeres Unidas"
        assert Decimal(work["hours"]) * 60 == work["minutes"]
        assert "Ortega" not in json.dumps(claims)  # never the employer
        verified = (await call(fed, "home", andina_staff, """query($c: String!) {
            verifyRecord(credential: $c) { valid checks { name passed reason } } }""",
                               c=record["credential"]))["verifyRecord"]
        assert verified["valid"], verified["checks"]
