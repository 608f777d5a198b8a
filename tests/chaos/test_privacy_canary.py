"""Privacy canary: a member with unique personal strings lives, travels and is erased on two
nodes, and afterwards not one of her strings is found anywhere the system keeps data.

Per run a fresh canary (given names, family names, contact, the payout recipient's name and
phone: random tokens nobody else uses) is registered at the host through GraphQL, joins,
saves, sends a remittance, passes a course, consents to her home cooperative, has her record
exported (``exportRecord`` and ``coopbridge export`` to a file in the test's tmp dir), verified
and imported at home; meanwhile another cooperative's staff reads her and others without
consent during a burst of 200 deposits (always null), and a consent revoked under the same
load stops the next read. She votes in an assembly of her cooperative with her own token (her one choice a canary),
and once it is certified its ballot key is destroyed. Her cooperative places her with an
employer client whose name, address and email are canaries too (issue 26); she accepts with
her own token and files a grievance, a canary, that only her cooperative's admins read. Then
the employer is erased at their request (their details read as erased from then on), and she
is erased at the host and at home (her grievance no longer opens).

Searched afterwards, for each canary string plain, lower-cased (case-insensitive), hex, and
base64 / base64url at each of the three byte alignments:

* every record (key, value, header keys and values) of every topic of both nodes, from the
  earliest offset;
* every file under both nodes' ``COOPBRIDGE_HOME`` (RocksDB stores and their write-ahead logs,
  faust folders, key files, trust lists);
* every log file of every process.

Checkpoints of the gateways' stores are files under ``COOPBRIDGE_HOME`` too, so both searches
cover them: each run has each gateway take one before her erasure (``POST /admin/checkpoint``),
when the store holds her details. The store only ever holds them sealed under her data key,
so the search finds nothing there even before erasure; what erasure must achieve for a
checkpoint is that the seal no longer opens. Her sealed details read from each checkpoint
taken before open with her node's keys (``DataKeys.open``) until she is erased, and with no
key of her node after; and the control string must be found in a checkpoint's store (the
checkpoints were searched).

Expected: zero. The file ``coopbridge export`` wrote is the recipient's copy, outside the
system: it holds her identity by design (the positive control of the scanner). After erasure
a new export is refused with ``MemberErased`` and the earlier credential no longer verifies
(revoked: ``verifyRecord`` at home and offline against the issuer's current status list).
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import secrets
import string
import time
from pathlib import Path

import httpx
from gql import Client, gql
from gql.transport.aiohttp import AIOHTTPTransport
import msgspec
import pytest
from rocksdict import AccessType, Options, Rdict

from deploy.operate import ExportRefused, export_record, verify_file
from gateway.auth import Role
from gateway.documents import MemberRecord
from schemas import REGISTRY
from schemas import governance as g
from schemas.topics import events_topic, node_topics
from services import config
from services.runtime.datakeys import DataKeys, SealBroken
from services.runtime.ids import new_id
from services.runtime.kafka_clients import read_topic
from tests.chaos.figures import record, runs
from tests.e2e.test_federation_over_http import (PROCESSES, Federation, _home, call, mutate,
                                                  running_federation, until)

pytestmark = pytest.mark.kafka

# every run adds two canaries (one per node) that the final search must not find; ten runs
# keep make chaos under its 45 minutes
RUNS_AT_MOST = 10

BURST = 200


@pytest.fixture(scope="module")
def fed(kafka_bootstrap, tmp_path_factory):
    with running_federation(kafka_bootstrap, tmp_path_factory.mktemp("privacy"),
                            (*PROCESSES, "placement")) as federation:
        yield federation


# -- the canary and how to find it ------------------------------------------------------------

def canary_token(label: str) -> str:
    """``Canary`` + a label + 10 random letters and digits: found nowhere by chance."""
    alphabet = string.ascii_letters + string.digits
    return "Canary" + label + "".join(secrets.choice(alphabet) for _ in range(10))


def needles(canary: str) -> list[tuple[bytes, bool]]:
    """(bytes to find, case-insensitive?) for every encoding searched."""
    raw = canary.encode()
    found: list[tuple[bytes, bool]] = [(raw.lower(), True), (raw.hex().encode(), True)]
    for pad in range(3):  # the canary may start at any byte of a 3-byte base64 group
        encoded = base64.b64encode(b"\0" * pad + raw).rstrip(b"=")
        start = (pad * 8 + 5) // 6
        end = (pad + len(raw)) * 8 // 6
        chunk = encoded[start:end]
        found.append((chunk, False))
        found.append((chunk.replace(b"+", b"-").replace(b"/", b"_"), False))
    return found


class Scanner:
    def __init__(self, canaries: list[str]):
        self.needles = {c: needles(c) for c in canaries}
        self.hits: list[tuple[str, str]] = []  # (where, canary)
        self.bytes = 0

    def scan(self, where: str, data: bytes | None) -> None:
        if not data:
            return
        self.bytes += len(data)
        lower = data.lower()
        for canary, encodings in self.needles.items():
            if any(n in (lower if folded else data) for n, folded in encodings):
                self.hits.append((where, canary))


# -- a canary's life --------------------------------------------------------------------------

def coop(cid, name, country, currency, node):
    return {"cooperativeId": cid, "name": name, "country": country,
            "kind": "SAVINGS_AND_CREDIT", "languages": ["es"], "node": node,
            "currency": currency, "sharePrice": {"amount": "25.00", "currency": currency}}


EXPORT = """mutation($input: ExportRecordInput!) { exportRecord(input: $input) {
    __typename ... on ExportedRecord { credentialId credential certificates }
    ... on Problem { code } } }"""
VERIFY = """query($c: String!) { verifyRecord(credential: $c) {
    valid checks { name passed reason } } }"""
IMPORT = """mutation($input: ImportRecordInput!) { importRecord(input: $input) { __typename
    ... on RecordImportedHere { memberId } ... on Problem { code message } } }"""
MEMBER = """query($id: ID!) { member(id: $id) { erased identity { givenNames familyNames contact }
    memberships { cooperativeId } accounts { accountId balance { amount } } } }"""
OUTSIDER_READ = """query($id: ID!) { member(id: $id) { identity { givenNames }
    memberships { cooperativeId } accounts { accountId } certificates { title } } }"""


async def one_run(fed: Federation, tmp: Path, marker: str) -> dict:
    host, home = fed.nodes["host"], fed.nodes["home"]
    madrid, quito, outsider = new_id(), new_id(), new_id()
    host_admin, home_admin = fed.token("host", Role.NODE_ADMIN), fed.token("home", Role.NODE_ADMIN)
    staff, boss = fed.token("host", Role.STAFF, madrid), fed.token("host", Role.ADMIN, madrid)
    quito_staff, quito_boss = fed.token("home", Role.STAFF, quito), fed.token("home", Role.ADMIN,
                                                                                quito)
    stranger = fed.token("host", Role.STAFF, outsider)
    await mutate(fed, "host", host_admin, "registerCooperative",
                 coop(madrid, marker, "ES", "EUR", host))
    await mutate(fed, "host", host_admin, "registerCooperative",
                 coop(outsider, "Another coop", "ES", "EUR", host))
    await mutate(fed, "home", home_admin, "registerCooperative",
                 coop(quito, "Quito canary coop", "EC", "USD", home))

    names = {label: canary_token(label) for label in ("Given", "Family", "Mail", "Payee")}
    phone = "+593" + "".join(secrets.choice(string.digits) for _ in range(9))
    canaries = [*names.values(), phone]
    member, savings, course = new_id(), new_id(), new_id()
    for token, name, input in [
        (staff, "registerMember", {"memberId": member, "personal": {
            "givenNames": names["Given"], "familyNames": names["Family"],
            "dateOfBirth": "1990-02-03", "nationality": "EC", "preferredLanguages": ["es-EC"],
            "contact": names["Mail"] + "@example.org"}}),
        (staff, "startMembership", {"memberId": member, "cooperativeId": madrid,
                                    "startedOn": "2024-01-08", "shareCapitalRequired": {
                                        "amount": "25.00", "currency": "EUR"}}),
        (staff, "openAccount", {"accountId": savings, "memberId": member,
                                "cooperativeId": madrid, "product": "SAVINGS",
                                "currency": "EUR"}),
        (staff, "depositFunds", {"accountId": savings, "amount": {"amount": "400.00",
                                                                  "currency": "EUR"}}),
        (staff, "sendRemittance", {"accountId": savings, "remittanceId": new_id(),
                                   "amount": {"amount": "100.00", "currency": "EUR"},
                                   "to": {"payout": {"country": "EC", "currency": "USD",
                                                     "recipient": {"fullName": names["Payee"],
                                                                   "phone": phone}}}}),
        (boss, "offerCourse", {"courseId": course, "cooperativeId": madrid, "kind": "LANGUAGE",
                               "titles": [{"language": "es", "title": "Español A2"}],
                               "languageTaught": "es-ES", "targetLevel": "A2", "hours": 40,
                               "startsOn": "2026-01-12", "endsOn": "2026-03-27",
                               "capacity": 20}),
        (staff, "enrolLearner", {"courseId": course, "memberId": member}),
        (staff, "completeCourse", {"courseId": course, "memberId": member, "result": "PASSED",
                                   "score": 77, "levelAttained": "A2",
                                   "completedOn": "2026-03-27"}),
        (staff, "issueCertificate", {"courseId": course, "memberId": member,
                                     "certificateId": new_id(), "issuedOn": "2026-03-30"}),
        (staff, "grantConsent", {"memberId": member, "consentId": new_id(),
                                 "granteeKind": "COOPERATIVE", "grantee": quito,
                                 "scopes": ["IDENTITY", "MEMBERSHIP", "SAVINGS", "TRAINING"],
                                 "join": True, "expiresAt": "2030-01-01T00:00:00Z"}),
    ]:
        await mutate(fed, "host", token, name, input)

    violations: list[str] = []
    asked = {"memberId": member, "recipient": {"cooperative": quito}}
    exported = (await call(fed, "host", staff, EXPORT, input=asked))["exportRecord"]
    assert exported["__typename"] == "ExportedRecord", exported
    # the recipient's copy, written by the operator's command into the test's folder
    copy = tmp / f"canary-{member}.jwt"
    with _home(fed.env["host"]):
        copies = await asyncio.to_thread(export_record, host, fed.url("host", ""), member,
                                         {"cooperative": quito}, copy)
    verified = (await call(fed, "home", quito_staff, VERIFY,
                           c=exported["credential"]))["verifyRecord"]
    assert verified["valid"], verified["checks"]
    imported = (await call(fed, "home", quito_staff, IMPORT, input={
        "credential": exported["credential"], "cooperativeId": quito, "startedOn": dt.datetime.now(dt.UTC).date().isoformat(),
        "shareCapitalRequired": {"amount": "10.00", "currency": "USD"}}))["importRecord"]
    assert imported == {"__typename": "RecordImportedHere", "memberId": member}, imported

    async def identity(role, token):
        return ((await call(fed, role, token, MEMBER, id=member))["member"] or {}).get(
            "identity")
    # she is really there, in the clear, for those allowed (the scan below is not vacuous)
    assert (await identity("host", staff))["familyNames"] == names["Family"]
    assert (await until(lambda: identity("home", quito_staff), timeout=60))[
        "familyNames"] == names["Family"]
    control = Scanner(canaries)
    for path in copies:
        control.scan(path.name, path.read_bytes())
    # the record carries names, not the contact nor her remittances' payees
    assert {c for _, c in control.hits} == {names["Given"], names["Family"]}, control.hits

    # her secret ballot (closed, certified and its key destroyed below, before her erasure):
    # after the key is destroyed, nothing links her to her choice
    ballot = await a_secret_ballot(fed, madrid, staff, member)
    canaries.append(ballot.needle)

    # an employer client of hers (issue 26): their details are personal data too; her
    # grievance about the placement is hers
    placed = await a_placement(fed, madrid, staff, boss, member, savings)
    canaries += placed["canaries"]

    fivexx = await wrong_inputs(fed, staff, member, savings, names)
    allowed, reads, burst_5xx = await isolation_under_load(fed, madrid, staff, stranger, outsider, member,
                                                violations)

    # checkpoints of both gateways' stores while they hold her (sealed) details
    taken = {role: await take_checkpoint(fed, role, admin)
             for role, admin in (("host", host_admin), ("home", home_admin))}
    violations += await seals_in_checkpoints(fed, member, taken, erased=False)

    violations += await ballot.sealed_for_good(fed, staff, boss)

    # -- erasure: the employer at their request, then her, at the host and at home
    await mutate(fed, "host", boss, "eraseEmployer", {"employerId": placed["employer"]})
    employer = (await call(fed, "host", staff, PLACED, id=placed["job"]))["jobOrder"]
    if employer["employer"] != {"name": None, "erased": True}:
        violations.append(f"after the employer's erasure the job order reads {employer}")
    await mutate(fed, "host", boss, "eraseMember", {"memberId": member})
    await mutate(fed, "home", quito_boss, "eraseMember", {"memberId": member})
    violations += await seals_in_checkpoints(fed, member, taken, erased=True)
    for role, token in (("host", staff), ("home", quito_staff)):
        after = (await call(fed, role, token, MEMBER, id=member))["member"]
        if not after or not after["erased"] or after["identity"] is not None:
            violations.append(f"{role}: after erasure member reads {after}")
    again = (await call(fed, "host", staff, EXPORT, input=asked))["exportRecord"]
    if again.get("code") != "MemberErased":
        violations.append(f"a new export after erasure: {again.get('__typename')}")
    try:
        with _home(fed.env["host"]):
            await asyncio.to_thread(export_record, host, fed.url("host", ""), member,
                                    {"cooperative": quito}, tmp / f"again-{member}.jwt")
        violations.append("coopbridge export after erasure wrote a file")
    except ExportRefused as refused:
        if refused.code != "MemberErased":
            violations.append(f"coopbridge export after erasure refused with {refused.args}")

    grievances = (await call(fed, "host", boss, PLACED, id=placed["job"]))["jobOrder"][
        "grievances"]
    if grievances != [{"text": None}]:
        violations.append(f"after her erasure her grievance reads {grievances}")
    async with httpx.AsyncClient(timeout=30) as client:
        jwks = (await client.get(fed.url("host", "/.well-known/jwks.json"))).json()
    status = (copy.parent / (copy.name + ".status.jwt"))
    fresh = _fresh_status_list(copy, status)
    offline = verify_file(copy, jwks, [fresh] if fresh else [])
    if offline.valid:
        violations.append("the recipient's file still verifies offline after erasure")
    return {"canaries": canaries, "copies": copies, "violations": violations,
            "allowed": allowed, "reads": reads, "credential": exported["credential"],
            "verifier": quito_staff, "5xx": fivexx + burst_5xx}


PLACED = """query($id: ID!) { jobOrder(id: $id) { status employer { name erased }
    grievances { text } } }"""


async def a_placement(fed: Federation, madrid: str, staff: str, boss: str, member: str,
                      savings: str) -> dict:
    """An employer client of her cooperative with canary details, a job offered to her that
    she accepts with her own token, and her grievance about it, a canary too; read back in
    the clear by those allowed before anything is erased (so the scan is not vacuous)."""
    details = {label: canary_token(label) for label in ("Employer", "Street", "Mailbox")}
    grievance = canary_token("Grievance")
    employer, job = new_id(), new_id()
    start = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(days=3)
    for token, name, input in [
        (boss, "setWageFloor", {"cooperativeId": madrid, "occupation": "9",
                                "hourly": {"amount": "9.00", "currency": "EUR"}}),
        (staff, "registerEmployer", {"employerId": employer, "cooperativeId": madrid,
                                     "details": {"name": details["Employer"],
                                                 "address": details["Street"] + " 12, Madrid",
                                                 "email": details["Mailbox"] + "@example.org"}}),
        (staff, "postJobOrder", {"jobOrderId": job, "cooperativeId": madrid,
                                 "employerId": employer, "occupation": "9111", "country": "ES",
                                 "locality": "Madrid", "shifts": [{
                                     "startsAt": start.isoformat(),
                                     "endsAt": (start + dt.timedelta(hours=4)).isoformat()}],
                                 "wage": {"amount": "10.00", "currency": "EUR"},
                                 "margin": {"amount": "1.00", "currency": "EUR"},
                                 "termsSha256": "ab" * 32}),
        (staff, "offerJob", {"jobOrderId": job, "memberId": member})]:
        await mutate(fed, "host", token, name, input)
    issued = (await call(fed, "host", staff, """mutation($input: IssueMemberAccessInput!) {
        issueMemberAccess(input: $input) { ... on MemberAccessCode { code } } }""",
                         input={"memberId": member}))["issueMemberAccess"]
    async with Client(transport=AIOHTTPTransport(url=fed.url("host")),
                      fetch_schema_from_transport=False) as session:
        prepared = gql("""mutation($code: String!) { redeemMemberAccess(input: {code: $code})
            { ... on MemberToken { token } } }""")
        prepared.variable_values = {"code": issued["code"]}
        her = (await session.execute(prepared))["redeemMemberAccess"]["token"]
    await mutate(fed, "host", her, "acceptOffer", {"memberId": member, "jobOrderId": job,
                                                   "accountId": savings})

    async def filled():
        found = (await call(fed, "host", her, PLACED, id=job))["jobOrder"]
        return found if found["status"] == "filled" else None
    assert (await until(filled, timeout=60))["employer"]["name"] == details["Employer"]
    await mutate(fed, "host", her, "fileGrievance", {"jobOrderId": job, "memberId": member,
                                                     "grievanceId": new_id(),
                                                     "grievance": {"text": grievance}})
    read = (await call(fed, "host", boss, PLACED, id=job))["jobOrder"]
    assert read["grievances"] == [{"text": grievance}], read
    return {"canaries": [*details.values(), grievance], "employer": employer, "job": job}


BALLOT = """mutation($input: BallotInput!) { castBallot(input: $input) {
    __typename ... on BallotAccepted { receipt } ... on Problem { code message } } }"""
BY_REF = """mutation($input: AssemblyRefInput!) { %s(input: $input) {
    __typename ... on Problem { code message } } }"""
CLOSES_IN = 12  # seconds the canary's assembly stays open


class SecretBallot:
    """Her ballot in an assembly whose voting is open ``CLOSES_IN`` seconds: the ``needle``
    (her ballot's plaintext from its motion on, as the gateway seals it: found anywhere, it
    links her to her choice) and what ``sealed_for_good`` checks once the voting closed."""

    def __init__(self, assembly: str, closes: dt.datetime, needle: str, sealed, problems):
        self.assembly, self.closes, self.needle = assembly, closes, needle
        self.sealed, self.problems = sealed, problems

    async def sealed_for_good(self, fed: Federation, staff: str, boss: str) -> list[str]:
        """Close the voting (once its window has passed), certify the result, destroy the
        ballot key (the bylaws allow no challenge period): her ballot opens with no key of
        her node any more. Returns what went wrong."""
        problems = list(self.problems)
        await asyncio.sleep(max(0.0, (self.closes - dt.datetime.now(dt.UTC)).total_seconds()))
        await mutate(fed, "host", staff, "closeVoting", {"assemblyId": self.assembly})
        for name in ("certifyAssembly", "destroyBallotKey"):
            done = (await call(fed, "host", boss, BY_REF % name,
                               input={"assemblyId": self.assembly}))[name]
            if done["__typename"] != "CommandAccepted":
                problems.append(f"{name}: {done}")
        async with DataKeys(fed.nodes["host"], fed.env["host"]["KAFKA_BOOTSTRAP_SERVERS"]) as keys:
            await keys.catch_up()
            if await keys.open(f"ballots:{self.assembly}", self.sealed) is not None:
                problems.append("her ballot still opens after the ballot key was destroyed")
        return problems


async def a_secret_ballot(fed: Federation, madrid: str, staff: str,
                          member: str) -> SecretBallot:
    """She votes with her own token in an assembly of her cooperative (the bylaws allow no
    challenge period); her sealed ballot opens with the node's keys (the needle is right)."""
    boss = fed.token("host", Role.ADMIN, madrid)
    host = fed.nodes["host"]
    option = canary_token("Choice").lower()
    assembly, motion = new_id(), new_id()
    now = dt.datetime.now(dt.UTC)
    await mutate(fed, "host", boss, "setBylaws", {
        "cooperativeId": madrid, "generalNoticeDays": 0, "extraordinaryNoticeDays": 0,
        "maxProxiesPerHolder": 0, "challengeDays": 0})
    await mutate(fed, "host", boss, "conveneAssembly", {
        "assemblyId": assembly, "cooperativeId": madrid, "kind": "EXTRAORDINARY",
        "titles": [{"language": "es", "text": "Asamblea canaria"}],
        "meetingOn": (now + dt.timedelta(seconds=CLOSES_IN)).date().isoformat(),
        "recordDate": (now.date() - dt.timedelta(days=1)).isoformat(),
        "votingOpensAt": now.isoformat(),
        "votingClosesAt": (now + dt.timedelta(seconds=CLOSES_IN)).isoformat(),
        "quorumPercent": 0})
    await mutate(fed, "host", boss, "addMotion", {
        "assemblyId": assembly, "motionId": motion, "kind": "CHOICE",
        "titles": [{"language": "es", "text": "Lugar"}],
        "options": [{"optionId": option, "labels": [{"language": "es", "text": "Aquí"}]},
                    {"optionId": "elsewhere", "labels": [{"language": "es", "text": "Allí"}]}]})
    await mutate(fed, "host", staff, "freezeRoll", {"assemblyId": assembly})
    issued = (await call(fed, "host", staff, """mutation($input: IssueMemberAccessInput!) {
        issueMemberAccess(input: $input) { ... on MemberAccessCode { code } } }""",
                         input={"memberId": member}))["issueMemberAccess"]
    async with Client(transport=AIOHTTPTransport(url=fed.url("host")),  # the code is hers
                      fetch_schema_from_transport=False) as session:
        redeem = gql("""mutation($code: String!) {
            redeemMemberAccess(input: {code: $code}) { ... on MemberToken { token } } }""")
        redeem.variable_values = {"code": issued["code"]}
        redeemed = (await session.execute(redeem))["redeemMemberAccess"]
    cast = (await call(fed, "host", redeemed["token"], BALLOT, input={
        "assemblyId": assembly, "motionId": motion, "choices": [option]}))["castBallot"]
    assert cast["__typename"] == "BallotAccepted", cast
    # her ballot's plaintext from its motion on (the motion's id is unique to this run; its
    # options are public, her choice, the first, is not)
    needle = g.ballot_plaintext(g.BallotContent(assembly_id=assembly, motion_id=motion,
                                                choices=[0])).decode().rstrip()
    needle = needle[needle.index('"motion_id"'):]
    problems = []
    sealed = await _her_sealed_ballot(fed, cast["receipt"])
    async with DataKeys(host, fed.env["host"]["KAFKA_BOOTSTRAP_SERVERS"]) as keys:
        opened = await keys.open(f"ballots:{assembly}", sealed)
        if opened is None or needle.encode() not in opened:  # the needle is the right one
            problems.append(f"her sealed ballot did not open to {needle} before: {opened}")
    return SecretBallot(assembly, now + dt.timedelta(seconds=CLOSES_IN + 1), needle, sealed,
                        problems)


async def _her_sealed_ballot(fed: Federation, receipt: str):
    for _ in range(50):
        for record_ in await read_topic(events_topic(fed.nodes["host"], "governance"),
                                        fed.env["host"]["KAFKA_BOOTSTRAP_SERVERS"]):
            event = REGISTRY.decode(record_.value).payload
            if isinstance(event, g.BallotCast) and event.receipt == receipt:
                return event.ballot
        await asyncio.sleep(0.2)
    raise AssertionError("her ballot is not in the log")


async def take_checkpoint(fed: Federation, role: str, token: str) -> Path:
    """A checkpoint of the gateway's store, taken by the running gateway; its folder."""
    async with httpx.AsyncClient(timeout=120) as client:
        answer = await client.post(fed.url(role, "/admin/checkpoint"),
                                   headers={"Authorization": f"Bearer {token}"})
    answer.raise_for_status()
    return Path(answer.json()["path"])


async def seals_in_checkpoints(fed: Federation, member: str, taken: dict[str, Path],
                               erased: bool) -> list[str]:
    """What is wrong with her details in the checkpoints taken before her erasure: they must
    be there, sealed, and open with her node's keys until she is erased (or this check proves
    nothing), with none of them once she is."""
    wrong = []
    for role, path in taken.items():
        db = Rdict(str(path / "store"), Options(raw_mode=True),
                   access_type=AccessType.read_only())
        try:
            raw = db.get(f"members/{member}".encode())
        finally:
            db.close()
        sealed = raw and msgspec.msgpack.decode(raw, type=MemberRecord).personal
        if not sealed:
            wrong.append(f"{role}: no sealed details of hers in the checkpoint before erasure")
            continue
        with _home(fed.env[role]):
            node_key = config.node_key(fed.nodes[role])
        async with DataKeys(fed.nodes[role], fed.bootstraps[role], node_key=node_key) as keys:
            try:
                opened = await keys.open(member, sealed)
            except SealBroken:
                opened = None
        if erased and opened is not None:
            wrong.append(f"{role}: her details in a checkpoint still open after erasure")
        elif not erased and opened is None:
            wrong.append(f"{role}: her details in a checkpoint do not open before erasure")
    return wrong


async def wrong_inputs(fed, staff, member, savings, names) -> int:
    """Her strings in requests that fail (too long, wrong type, not an id, a rejected
    command): the refusals go back to the caller, and no log or topic may keep them.
    Returns how many answers were 5xx."""
    personal = {"givenNames": names["Given"], "familyNames": names["Family"],
                "dateOfBirth": "1990-02-03", "nationality": "EC", "preferredLanguages": ["es"]}
    attempts = [
        ("registerMember", {"memberId": new_id(), "personal": {
            **personal, "givenNames": names["Given"] * 20}}),
        ("registerMember", {"memberId": new_id(), "personal": {
            **personal, "dateOfBirth": names["Given"]}}),
        ("registerMember", {"memberId": names["Family"], "personal": personal}),
        ("registerMember", {"memberId": member, "personal": personal}),  # already registered
        ("correctMemberDetails", {"memberId": member, "personal": {
            **personal, "nationality": names["Family"]}}),
        ("depositFunds", {"accountId": savings, "amount": {"amount": names["Given"],
                                                           "currency": "EUR"}}),
        ("sendRemittance", {"accountId": names["Payee"], "remittanceId": new_id(),
                            "amount": {"amount": "1.00", "currency": "EUR"},
                            "to": {"payout": {"country": "EC", "currency": "USD",
                                              "recipient": {"fullName": names["Payee"] * 20}}}}),
    ]
    fivexx = 0
    async with httpx.AsyncClient(timeout=30, headers={"Authorization": f"Bearer {staff}"}) as c:
        for name, input in attempts:
            kind = name[0].upper() + name[1:] + "Input"
            document = (f"mutation($input: {kind}!) {{ {name}(input: $input) {{ __typename "
                        "... on Problem { code message } } }")
            answer = await c.post(fed.url("host"), json={"query": document,
                                                         "variables": {"input": input}})
            fivexx += answer.status_code >= 500
        for query in (f'{{ member(id: "{names["Given"]}") {{ erased }} }}',
                      f'{{ member(id: "{member}") {{ {names["Family"]} }} }}',
                      f'{{ {names["Mail"]} }}'):
            answer = await c.post(fed.url("host"), json={"query": query})
            fivexx += answer.status_code >= 500
    return fivexx


def _fresh_status_list(copy: Path, old: Path) -> str | None:
    """The issuer's status list as it is now (the one beside the file is from before)."""
    import jwt  # noqa: PLC0415

    claims = jwt.decode(copy.read_text().strip(), options={"verify_signature": False})
    entry = claims.get("credentialStatus") or {}
    if isinstance(entry, list):
        entry = entry[0]
    url = entry.get("statusListCredential")
    return httpx.get(url, timeout=30).text.strip() if url else None


async def still_verifies(fed: Federation, quito_staff: str, credential: str) -> str | None:
    """What is wrong if ``verifyRecord`` at home does not report the credential revoked
    (polled: a verifier keeps a peer's status list up to a minute)."""

    async def revoked():
        checks = (await call(fed, "home", quito_staff, VERIFY, c=credential))["verifyRecord"]
        return None if checks["valid"] else checks
    stale = await until(revoked, timeout=90, every=2)
    if stale is None or not any(c["name"] == "revocation" and not c["passed"]
                                for c in stale["checks"]):
        return f"the exported record still verifies at home after erasure: {stale}"
    return None


async def isolation_under_load(fed, madrid, staff, stranger, outsider, canary, violations):
    """While 200 deposits run for other members, another cooperative's staff reads the canary
    and those members: null every time; a consent to it shows one, its revocation hides her
    again on the next request. Returns (reads that returned data without consent, reads)."""
    others = []
    for i in range(8):
        member, account = new_id(), new_id()
        await mutate(fed, "host", staff, "registerMember", {"memberId": member, "personal": {
            "givenNames": f"Other{i}", "familyNames": "Load", "dateOfBirth": "1985-05-05",
            "nationality": "PE", "preferredLanguages": ["es"]}})
        await mutate(fed, "host", staff, "startMembership", {
            "memberId": member, "cooperativeId": madrid, "startedOn": "2024-02-01",
            "shareCapitalRequired": {"amount": "25.00", "currency": "EUR"}})
        await mutate(fed, "host", staff, "openAccount", {
            "accountId": account, "memberId": member, "cooperativeId": madrid,
            "product": "SAVINGS", "currency": "EUR"})
        others.append((member, account))
    consented, consent = others[0][0], new_id()
    allowed = reads = 0
    burst = {"5xx": 0, "accepted": 0, "resets": 0}

    async def deposits():
        """The burst: plain HTTP with a long timeout (a slow reply is load, not a finding)."""
        document = ("mutation($input: DepositFundsInput!, $key: String) { depositFunds("
                    "input: $input, idempotencyKey: $key) { __typename ... on Problem { code } } }")
        limits = httpx.Limits(max_connections=50)
        async with httpx.AsyncClient(timeout=120, limits=limits, headers={
                "Authorization": f"Bearer {staff}"}) as client:
            async def one(i):
                key = f"burst-{madrid}-{i}"
                input = {"accountId": others[i % len(others)][1],
                         "amount": {"amount": "1.00", "currency": "EUR"}}
                for attempt in range(3):  # a connection reset under load: the same key again
                    try:
                        answer = await client.post(fed.url("host"), json={
                            "query": document, "variables": {"input": input, "key": key}})
                        break
                    except httpx.TransportError:
                        burst["resets"] += 1
                        if attempt == 2:
                            raise
                if answer.status_code >= 500:
                    burst["5xx"] += 1
                elif answer.json()["data"]["depositFunds"]["__typename"] == "CommandAccepted":
                    burst["accepted"] += 1
            await asyncio.gather(*(one(i) for i in range(BURST)))

    async def stranger_reads(stop: asyncio.Event):
        nonlocal allowed, reads
        while not stop.is_set():
            for member in [canary] + [m for m, _ in others[1:]]:
                seen = (await call(fed, "host", stranger, OUTSIDER_READ, id=member))["member"]
                reads += 1
                if seen is not None:
                    allowed += 1
                    violations.append(f"cross-tenant read without consent: {seen}")

    async def consent_cycle():
        nonlocal allowed, reads
        await mutate(fed, "host", staff, "grantConsent", {
            "memberId": consented, "consentId": consent, "granteeKind": "COOPERATIVE",
            "grantee": outsider, "scopes": ["IDENTITY"], "expiresAt": "2030-01-01T00:00:00Z"})
        seen = (await call(fed, "host", stranger, OUTSIDER_READ, id=consented))["member"]
        reads += 1
        if not seen or seen["identity"] != {"givenNames": "Other0"} or seen["accounts"]:
            violations.append(f"the granted scope alone should show: {seen}")
        result = await mutate(fed, "host", staff, "revokeConsent", {"memberId": consented,
                                                                    "consentId": consent})
        if not result["visible"]:
            violations.append("revokeConsent accepted but not visible")
        for _ in range(5):
            seen = (await call(fed, "host", stranger, OUTSIDER_READ, id=consented))["member"]
            reads += 1
            if seen is not None:
                allowed += 1
                violations.append(f"a read after the consent was revoked: {seen}")

    stop = asyncio.Event()
    readers = [asyncio.create_task(stranger_reads(stop)) for _ in range(3)]
    try:
        await asyncio.gather(deposits(), consent_cycle())
    finally:
        stop.set()
        await asyncio.gather(*readers)
    if burst["accepted"] < BURST // 2:
        violations.append(f"the burst hardly happened: {burst}")
    print(f"\nburst: {burst}")
    return allowed, reads, burst["5xx"]


# -- the search -------------------------------------------------------------------------------

async def scan_topics(fed: Federation, scanner: Scanner) -> tuple[int, int]:
    topics = records = 0
    for role, node in fed.nodes.items():
        for spec in node_topics(node):
            topics += 1
            for r in await read_topic(spec.name, fed.bootstraps[role]):
                records += 1
                where = f"{spec.name}@{r.partition}:{r.offset}"
                scanner.scan(where + " key", r.key)
                scanner.scan(where + " value", r.value)
                for name, value in r.headers or ():
                    scanner.scan(where + " header", name.encode() + b"=" + (value or b""))
    return topics, records


def scan_files(folder: Path, scanner: Scanner) -> tuple[int, int]:
    """Every file's bytes, and every key and value of every RocksDB store under ``folder``
    opened read-only (its table files are Snappy-compressed: their raw bytes alone could
    hide a string). Returns (files, store entries)."""
    files = entries = 0
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            try:
                data = path.read_bytes()
            except FileNotFoundError:  # a RocksDB file compacted away meanwhile
                continue
            files += 1
            scanner.scan(str(path.relative_to(folder)), data)
    for current in sorted(folder.rglob("CURRENT")):
        db = Rdict(str(current.parent), Options(raw_mode=True),
                   access_type=AccessType.read_only())
        try:
            for key, value in db.items():
                entries += 1
                where = f"{current.parent.relative_to(folder)} store"
                scanner.scan(where + " key", key)
                scanner.scan(where + " value", value)
        finally:
            db.close()
    return files, entries


def search_disk(fed: Federation, scanner: Scanner) -> dict:
    files = entries = 0
    for role in fed.nodes:
        more, rows = scan_files(fed.root / role, scanner)
        files, entries = files + more, entries + rows
    logs = sorted(fed.root.glob("*.log"))
    for log in logs:
        scanner.scan(log.name, log.read_bytes())
    return {"files": files, "store entries": entries, "logs": len(logs)}


async def test_an_erased_canary_leaves_no_trace(fed, tmp_path):
    started = time.monotonic()
    canaries, copies, violations, credentials = [], [], [], []
    allowed = reads = server_errors = 0
    marker = canary_token("Coop")  # not personal: the store scan must find it
    n = runs(at_most=RUNS_AT_MOST)
    for _ in range(n):
        outcome = await one_run(fed, tmp_path, marker)
        canaries += outcome["canaries"]
        copies += outcome["copies"]
        violations += outcome["violations"]
        allowed += outcome["allowed"]
        reads += outcome["reads"]
        credentials.append((outcome["verifier"], outcome["credential"]))
        server_errors += outcome["5xx"]
    await asyncio.sleep(2)  # let the gateways' stores write what they hold

    scanner = Scanner(canaries + [marker])
    topics, records = await scan_topics(fed, scanner)
    kafka_bytes = scanner.bytes
    live = search_disk(fed, scanner)  # the write-ahead logs hold every write since opening
    for verifier, credential in credentials:  # after the search: the lists cached expired
        wrong = await still_verifies(fed, verifier, credential)
        if wrong:
            violations.append(wrong)
    fed.stop(grace=30)  # the stores flush and close, the processes log their last lines
    stopped = search_disk(fed, scanner)
    hits = [(where, c) for where, c in scanner.hits if c != marker]
    stored = {where for where, c in scanner.hits if c == marker}
    if not any(where.endswith("store value") for where in stored):
        violations.append(f"the control string was not found in a gateway store: {stored}")
    if not any("checkpoints" in where and where.endswith("store value") for where in stored):
        violations.append(f"the control string was not found in a checkpoint: {stored}")
    recipient = Scanner(canaries)
    for path in copies:
        recipient.scan(path.name, path.read_bytes())
    found = len({c for _, c in hits})
    record("privacy", runs=n, found=found, allowed=allowed, violations=len(violations),
           **{"5xx": server_errors})
    print(f"\nprivacy canary: {n} run(s), {len(canaries)} canary strings, {reads} stranger "
          f"reads; searched {records} records of {topics} topics ({kafka_bytes} bytes), "
          f"disk while running {live} and stopped {stopped} ({scanner.bytes} bytes in all); "
          f"found {found}, allowed {allowed}, violations {len(violations)}; the recipient's "
          f"copies ({len(copies)} files) hold {len({c for _, c in recipient.hits})} canary "
          f"strings by design; {time.monotonic() - started:.0f} s")
    assert not hits, hits[:20]
    assert allowed == 0 and not violations, violations[:20]
    assert server_errors == 0
