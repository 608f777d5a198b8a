"""Two nodes end to end, through GraphQL only: Rosa's record and savings go home.

A host node and a home node on one broker, each with its own signing key (its own
``COOPBRIDGE_HOME``), its trust list naming the other, and every process of its own: the
membership, savings, training and federation services and the gateway. The host exports her
record with her consent, the home node verifies and imports it and opens her membership and
account, the host sends her savings home; the home savings service is killed (``kill -9``)
while a second transfer is on its way, and every transfer is still credited exactly once."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import signal
import subprocess
import sys
import time
from decimal import ROUND_HALF_EVEN, Decimal

import pytest
from gql import Client, gql
from gql.transport.aiohttp import AIOHTTPTransport

from deploy.mirror import MirrorMaker
from deploy.node import SERVICES as NODE_SERVICES
from deploy.supervisor import wait_until_healthy
from deploy.topics import ensure_node_topics
from gateway.auth import Role, issue_token
from schemas import REGISTRY
from schemas.topics import events_topic
from services import config
from services.runtime.ids import new_id
from tests.e2e.conftest import due_soon_paid_today
from services.runtime.kafka_clients import read_topic
from services.runtime.keys import jwks, signing_key
from tests.conftest import jar_home
from tests.e2e.conftest import free_port

pytestmark = pytest.mark.kafka

PROCESSES = ("membership", "savings", "training", "governance", "federation", "gateway")
#: A node's MirrorMaker 2, when the nodes run on clusters of their own.
MIRROR_MAKER = "mirrormaker"


class Federation:
    """Two nodes' processes; any one can be killed and started again. On one cluster both
    share (``bootstrap`` a string), or each on its own (``bootstrap`` by role: host, home),
    and then each node has a MirrorMaker 2 too (``MIRROR_MAKER``, among ``processes``) that
    copies the other's federation topic into its cluster, as ``coopbridge up --clusters``
    runs it."""

    def __init__(self, bootstrap: str | dict[str, str], root,
                 processes: tuple[str, ...] = PROCESSES, env: dict[str, str] | None = None):
        self.root = root
        self.chosen = processes
        self.nodes = {role: "t" + os.urandom(4).hex() for role in ("host", "home")}
        self.bootstraps = (dict(bootstrap) if isinstance(bootstrap, dict)
                           else dict.fromkeys(self.nodes, bootstrap))
        self.apart = len(set(self.bootstraps.values())) > 1
        self.ports = {role: free_port() for role in self.nodes}
        self.env: dict[str, dict] = {}
        self.procs: dict[tuple[str, str], subprocess.Popen] = {}
        for role, node in self.nodes.items():
            bootstrap = self.bootstraps[role]
            ensure_node_topics(node, bootstrap)
            home = root / role
            home.mkdir()
            self.env[role] = dict(
                os.environ, COOPBRIDGE_NODE=node, KAFKA_BOOTSTRAP_SERVERS=bootstrap,
                COOPBRIDGE_HOME=str(home),
                COOPBRIDGE_PUBLIC_URL=self.url(role, ""),
                COOPBRIDGE_PEERS=str(home / "peers.json"), **(env or {}))
            for variable in ("COOPBRIDGE_SIGNING_KEY", "COOPBRIDGE_ENV"):  # keys in its home
                self.env[role].pop(variable, None)
        for role in self.nodes:  # each trusts the other: its gateway and its public keys
            other = "home" if role == "host" else "host"
            with _home(self.env[other]):
                keys = jwks(signing_key(self.nodes[other]).public_key())
            config.write_peers(root / role / "peers.json", [
                config.Peer(self.nodes[other], self.url(other, ""), keys)])

    def url(self, role: str, path: str = "/graphql") -> str:
        return f"http://127.0.0.1:{self.ports[role]}{path}"

    @property
    def processes(self) -> tuple[str, ...]:
        return (*self.chosen, MIRROR_MAKER) if self.apart else self.chosen

    def start(self, role: str, name: str) -> None:
        if name == MIRROR_MAKER:
            clusters = {self.nodes[r]: self.bootstraps[r] for r in self.nodes}
            command = MirrorMaker(self.nodes[role], clusters, self.root / f"{role}-mirror"
                                  ).command(jar_home())
        elif name == "gateway":
            command = [sys.executable, "-m", "deploy.cli", "gateway", "--port",
                       str(self.ports[role])]
        else:
            command = [sys.executable, "-m", NODE_SERVICES[name][1]]
        log = open(self.root / f"{role}-{name}.log", "ab")
        self.procs[(role, name)] = subprocess.Popen(command, env=self.env[role], stdout=log,
                                                    stderr=subprocess.STDOUT)
        log.close()

    def kill(self, role: str, name: str) -> None:
        proc = self.procs[(role, name)]
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)

    def wait_until_ready(self, timeout: float = 120) -> None:
        for role in self.nodes:
            if not wait_until_healthy(self.ports[role], timeout=timeout):
                raise AssertionError(f"the {role} gateway did not become ready: " + (
                    self.root / f"{role}-gateway.log").read_text()[-3000:])

    def token(self, role: str, kind: Role, cooperative: str | None = None,
              subject: str = "coopbridge-cli") -> str:
        with _home(self.env[role]):
            return issue_token(self.nodes[role], kind, cooperative, subject=subject)

    def stop(self, grace: float = 10) -> None:
        """SIGTERM to all, then SIGKILL to any still running ``grace`` seconds later (one
        deadline for all: a process waiting for a broker already gone costs the tests no
        more than that; nothing after the tests reads what they leave)."""
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        deadline = time.monotonic() + grace
        for proc in self.procs.values():
            try:
                proc.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(10)


class _home:
    """Read a node's signing key from its own home (the dev key file there)."""

    def __init__(self, env: dict):
        self.env, self.saved = env, None

    def __enter__(self):
        self.saved = os.environ.get("COOPBRIDGE_HOME")
        os.environ["COOPBRIDGE_HOME"] = self.env["COOPBRIDGE_HOME"]

    def __exit__(self, *exc):
        if self.saved is None:
            os.environ.pop("COOPBRIDGE_HOME", None)
        else:
            os.environ["COOPBRIDGE_HOME"] = self.saved


@contextlib.contextmanager
def running_federation(bootstrap: str, root, processes: tuple[str, ...] = PROCESSES,
                       env: dict[str, str] | None = None):
    """Both nodes' processes started and both gateways ready; everything stopped after."""
    fed = Federation(bootstrap, root, processes, env)
    try:
        for role in fed.nodes:
            for name in fed.processes:
                fed.start(role, name)
        fed.wait_until_ready()
        yield fed
    finally:
        fed.stop()


@pytest.fixture(scope="module")
def federation(kafka_bootstrap, tmp_path_factory):
    with running_federation(kafka_bootstrap, tmp_path_factory.mktemp("federation")) as fed:
        yield fed


async def call(fed: Federation, role: str, token: str, document: str, **variables) -> dict:
    transport = AIOHTTPTransport(url=fed.url(role), headers={"Authorization": f"Bearer {token}"})
    async with Client(transport=transport, fetch_schema_from_transport=False) as session:
        prepared = gql(document)
        prepared.variable_values = variables
        return await session.execute(prepared)


async def mutate(fed, role, token, name, input) -> dict:
    document = (f"mutation($input: {name[0].upper()}{name[1:]}Input!) {{ {name}(input: $input)"
                " { __typename ... on CommandAccepted { visible } "
                "... on Problem { code message } } }")
    result = (await call(fed, role, token, document, input=input))[name]
    assert result["__typename"] == "CommandAccepted", (role, name, result)
    return result


TRANSFERS = """query($id: ID!) { member(id: $id) {
    memberships { cooperativeId active endReason }
    accounts { accountId currency balance { amount currency minorUnits }
               transfers { transferId direction status node amount { amount currency }
                           fee { amount } rate received { amount currency minorUnits } } } } }"""


async def until(check, timeout: float = 60.0, every: float = 0.5):
    deadline = time.monotonic() + timeout
    while True:
        value = await check()
        if value or time.monotonic() > deadline:
            return value
        await asyncio.sleep(every)


async def transfers_of(fed, role, token, member, account) -> list[dict]:
    data = (await call(fed, role, token, TRANSFERS, id=member))["member"]
    return next(a for a in data["accounts"] if a["accountId"] == account)["transfers"]


async def test_rosa_goes_home_with_her_record_and_her_savings(federation):
    fed = federation
    host, home = fed.nodes["host"], fed.nodes["home"]
    madrid, quito = new_id(), new_id()
    host_admin = fed.token("host", Role.NODE_ADMIN)
    home_admin = fed.token("home", Role.NODE_ADMIN)
    madrid_staff = fed.token("host", Role.STAFF, madrid)
    madrid_boss = fed.token("host", Role.ADMIN, madrid)
    quito_staff = fed.token("home", Role.STAFF, quito)
    rosa, savings, shares, loan, course = new_id(), new_id(), new_id(), new_id(), new_id()
    first_due, paid_today = due_soon_paid_today()
    home_savings = new_id()

    def coop(cid, name, country, currency, node):
        return {"cooperativeId": cid, "name": name, "country": country,
                "kind": "SAVINGS_AND_CREDIT", "languages": ["es"], "node": node,
                "currency": currency, "sharePrice": {"amount": "25.00", "currency": currency}}

    await mutate(fed, "host", host_admin, "registerCooperative",
                 coop(madrid, "Ahorro Solidario Madrid", "ES", "EUR", host))
    await mutate(fed, "home", home_admin, "registerCooperative",
                 coop(quito, "Cooperativa Andina", "EC", "USD", home))
    # -- her years in Spain
    for token, name, input in [
        (madrid_staff, "registerMember", {"memberId": rosa, "personal": {
            "givenNames": "Rosa", "familyNames": "Quispe", "dateOfBirth": "1988-04-17",
            "nationality": "EC", "preferredLanguages": ["es-EC"]}}),
        (madrid_staff, "startMembership", {"memberId": rosa, "cooperativeId": madrid,
                                           "startedOn": "2019-05-06", "shareCapitalRequired": {
                                               "amount": "50.00", "currency": "EUR"}}),
        (madrid_staff, "openAccount", {"accountId": shares, "memberId": rosa,
                                       "cooperativeId": madrid, "product": "SHARE_CAPITAL",
                                       "currency": "EUR"}),
        (madrid_staff, "purchaseShares", {"accountId": shares, "shares": 2}),
        (madrid_staff, "openAccount", {"accountId": savings, "memberId": rosa,
                                       "cooperativeId": madrid, "product": "SAVINGS",
                                       "currency": "EUR"}),
        *[(madrid_staff, "depositFunds", {"accountId": savings, "amount": {
            "amount": "150.00", "currency": "EUR"}}) for _ in range(6)],
        (madrid_staff, "sendRemittance", {"accountId": savings, "remittanceId": new_id(),
                                          "amount": {"amount": "200.00", "currency": "EUR"},
                                          "to": {"payout": {"country": "EC", "currency": "USD",
                                                            "recipient": {"fullName": "Elvira"}}}}),
        (madrid_staff, "openAccount", {"accountId": loan, "memberId": rosa,
                                       "cooperativeId": madrid, "product": "LOAN",
                                       "currency": "EUR"}),
        (madrid_boss, "disburseLoan", {"accountId": loan, "principal": {"amount": "1200",
                                                                        "currency": "EUR"},
                                       "annualRate": "0.12", "termMonths": 12,
                                       "firstDueOn": first_due}),
        (madrid_staff, "recordRepayment", {"accountId": loan, "amount": {
            "amount": "106.62", "currency": "EUR"}, "paidOn": paid_today}),
        (madrid_boss, "offerCourse", {"courseId": course, "cooperativeId": madrid,
                                      "kind": "LANGUAGE",
                                      "titles": [{"language": "es", "title": "Español B1"}],
                                      "languageTaught": "es-ES", "targetLevel": "B1",
                                      "hours": 80, "startsOn": "2026-03-02",
                                      "endsOn": "2026-06-26", "capacity": 20}),
        (madrid_staff, "enrolLearner", {"courseId": course, "memberId": rosa}),
        (madrid_staff, "completeCourse", {"courseId": course, "memberId": rosa,
                                          "result": "PASSED", "score": 84,
                                          "levelAttained": "B1", "completedOn": "2026-06-26"}),
        (madrid_staff, "issueCertificate", {"courseId": course, "memberId": rosa,
                                            "certificateId": new_id(),
                                            "issuedOn": "2026-06-30"}),
    ]:
        await mutate(fed, "host", token, name, input)

    # -- without her consent nothing leaves; with it, her record does
    export = """mutation($input: ExportRecordInput!) { exportRecord(input: $input) {
        __typename ... on ExportedRecord { credentialId credential certificates }
        ... on Problem { code } } }"""
    asked = {"memberId": rosa, "recipient": {"cooperative": quito}}
    refused = (await call(fed, "host", madrid_staff, export, input=asked))["exportRecord"]
    assert refused == {"__typename": "NoConsent", "code": "NoConsent"}
    await mutate(fed, "host", madrid_staff, "grantConsent", {
        "memberId": rosa, "consentId": new_id(), "granteeKind": "COOPERATIVE",
        "grantee": quito, "scopes": ["IDENTITY", "MEMBERSHIP", "SAVINGS", "TRAINING"],
        "join": True, "expiresAt": "2030-01-01T00:00:00Z"})
    record = (await call(fed, "host", madrid_staff, export, input=asked))["exportRecord"]
    assert record["__typename"] == "ExportedRecord", record
    assert len(record["certificates"]) == 1

    # -- at home: verify (the host's status list fetched over HTTP), import, join, open
    verified = (await call(fed, "home", quito_staff, """query($c: String!) {
        verifyRecord(credential: $c) { valid checks { name passed reason } } }""",
                           c=record["credential"]))["verifyRecord"]
    assert verified["valid"], verified["checks"]
    imported = (await call(fed, "home", quito_staff, """mutation($input: ImportRecordInput!) {
        importRecord(input: $input) { __typename
          ... on RecordImportedHere { memberId membershipStarted } ... on Problem { code message }
          ... on RecordNotVerified { message } } }""", input={
        "credential": record["credential"], "cooperativeId": quito, "startedOn": dt.datetime.now(dt.UTC).date().isoformat(),
        "shareCapitalRequired": {"amount": "10.00", "currency": "USD"}}))["importRecord"]
    assert imported == {"__typename": "RecordImportedHere", "memberId": rosa,
                        "membershipStarted": True}, imported
    await mutate(fed, "home", quito_staff, "openAccount", {
        "accountId": home_savings, "memberId": rosa, "cooperativeId": quito,
        "product": "SAVINGS", "currency": "USD"})
    # a returnee is a member to every home service: the start-up course takes her too
    start_up = new_id()
    await mutate(fed, "home", fed.token("home", Role.ADMIN, quito), "offerCourse", {
        "courseId": start_up, "cooperativeId": quito, "kind": "BUSINESS_START_UP",
        "titles": [{"language": "es-EC", "title": "Emprender al volver"}],
        "skills": [{"isco08": {"code": "1420"}}], "hours": 20, "startsOn": "2026-12-01",
        "endsOn": "2026-12-19", "capacity": 12})
    await mutate(fed, "home", quito_staff, "enrolLearner", {"courseId": start_up,
                                                           "memberId": rosa})

    # -- her savings go home: debit here, credit there, delivered here
    transfer = {"accountId": savings, "transferId": new_id(),
                "amount": {"amount": "300.00", "currency": "EUR"}, "toNode": home,
                "toAccountId": home_savings, "toCurrency": "USD"}
    await mutate(fed, "host", madrid_staff, "transferSavingsHome", transfer)

    async def delivered(transfer_id):
        async def check():
            found = await transfers_of(fed, "host", madrid_staff, rosa, savings)
            return next((t for t in found if t["transferId"] == transfer_id
                         and t["status"] == "delivered"), None)
        return await until(check, timeout=90)

    sent = await delivered(transfer["transferId"])
    assert sent is not None, await transfers_of(fed, "host", madrid_staff, rosa, savings)
    expected = ((Decimal("300.00") - Decimal(sent["fee"]["amount"])) * Decimal(sent["rate"])
                ).quantize(Decimal("0.01"), ROUND_HALF_EVEN)
    assert Decimal(sent["received"]["amount"]) == expected
    assert sent["received"]["currency"] == "USD"

    # -- she leaves the host cooperative, returned home
    await mutate(fed, "host", madrid_staff, "endMembership", {
        "memberId": rosa, "cooperativeId": madrid, "reason": "RETURNED_HOME",
        "endedOn": "2026-11-30"})
    at_host = (await call(fed, "host", madrid_staff, TRANSFERS, id=rosa))["member"]
    assert at_host["memberships"] == [{"cooperativeId": madrid, "active": False,
                                       "endReason": "returned_home"}]

    at_home = (await call(fed, "home", quito_staff, """query($id: ID!) { member(id: $id) {
        identity { familyNames }
        memberships { cooperativeId active }
        importedRecords { issuerNode memberships { cooperativeName country }
                          loans { principal { amount currency } repaidOnTime instalments }
                          remittances { corridor count }
                          certificates { title level } }
        accounts { accountId balance { amount currency }
                   transfers { direction status node amount { amount currency } } } } }""",
                             id=rosa))["member"]
    assert at_home["identity"] == {"familyNames": "Quispe"}
    assert at_home["memberships"] == [{"cooperativeId": quito, "active": True}]
    [history] = at_home["importedRecords"]
    assert history["issuerNode"] == host
    assert history["memberships"] == [{"cooperativeName": "Ahorro Solidario Madrid",
                                       "country": "ES"}]
    assert history["loans"] == [{"principal": {"amount": "1200.00", "currency": "EUR"},
                                 "repaidOnTime": 1, "instalments": 12}]
    assert history["remittances"] == [{"corridor": "ES-EC", "count": 1}]
    assert history["certificates"] == [{"title": "Español B1", "level": "B1"}]
    [account] = at_home["accounts"]
    assert account["balance"] == {"amount": str(expected), "currency": "USD"}
    assert account["transfers"] == [{"direction": "received", "status": "received",
                                     "node": host,
                                     "amount": {"amount": str(expected), "currency": "USD"}}]

    # -- exactly once: the home savings service dies while a second transfer is under way
    fed.kill("home", "savings")
    second = {**transfer, "transferId": new_id(), "amount": {"amount": "100.00",
                                                             "currency": "EUR"}}
    await mutate(fed, "host", madrid_staff, "transferSavingsHome", second)
    await asyncio.sleep(5)
    pending = await transfers_of(fed, "host", madrid_staff, rosa, savings)
    assert next(t for t in pending if t["transferId"] == second["transferId"])["status"] == "sent"
    fed.start("home", "savings")
    sent_again = await delivered(second["transferId"])
    assert sent_again is not None
    credits = [REGISTRY.decode(r.value) for r in await read_topic(
        events_topic(home, "savings"), fed.bootstraps["home"])]
    received = [e.payload for e in credits if type(e.payload).__name__ == "SavingsTransferReceived"]
    assert sorted(e.transfer_id for e in received) == sorted(
        [transfer["transferId"], second["transferId"]])
    host_events = [REGISTRY.decode(r.value).payload for r in await read_topic(
        events_topic(host, "savings"), fed.bootstraps["host"])]
    delivered_events = [e for e in host_events if type(e).__name__ == "SavingsTransferDelivered"]
    assert sorted(e.transfer_id for e in delivered_events) == sorted(
        [transfer["transferId"], second["transferId"]])
    # money: what left the host (fee aside), at the disclosed rate, is what arrived at home
    for event in (e for e in host_events if type(e).__name__ == "SavingsSentHome"):
        arrived = next(r for r in received if r.transfer_id == event.transfer_id)
        assert arrived.amount == event.received
        assert Decimal(event.received.amount) == (
            Decimal(event.amount.amount - event.fee.amount) * Decimal(event.rate)
        ).quantize(Decimal("1"), ROUND_HALF_EVEN)
