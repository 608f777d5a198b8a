"""Durability and money under faults (issue 9, parts 1 and 2).

Two nodes (the ``Federation`` of the end-to-end test: host and home, each with its
membership, savings, training and federation processes and its gateway). Per run, on fresh
accounts: several clients send deposits, withdrawals, remittances between accounts of two
cooperatives and transfers home through GraphQL, each command retried with the same
idempotency key until it has an outcome, while a process of either node is killed
(``kill -9``) every few seconds and started again, and the broker is stopped and started
once when this session runs its own (an external cluster is not ours to stop; the figures
then count kills only). After a quiet period, from the events topics:

* every acknowledged command is in the log exactly once, with the outcome its client got;
* every aggregate's chain is 1..n, and no command has two outcomes;
* the gateways' balances equal a fresh fold of the log (``gateway.fold.project``);
* no balance is ever negative, and money is conserved per currency: deposits - withdrawals
  - disclosed fees - what went home = balances + what is in transit, every transfer credited
  at home exactly what its ``SavingsSentHome`` disclosed.

In ``make chaos`` (more than one run) each node also runs its insurance service (issue 25),
and every member of a run holds a policy of an insurer at home, taken before the workload:
her standing instruction pays its first premium from her host account while the faults go
on, and one member of each run dies as the workload starts, so her claim is opened from the
notice, assessed and approved by two of the insurer's staff, and its repatriation and first
month paid to her home account, all under the same kills. Then also: every premium is
collected at most once and only if not refunded, at the amount disclosed; every payment the
insurer released is credited once to the account it names, at its amount; and premiums and
benefits are in the conservation of money per currency.

In ``make chaos`` each host node also runs its placement service (issue 26): per run, one
member of a host cooperative is offered ten job orders of overlapping hours, which she
accepts all at once with her own member token as the faults begin; the one accepted is
confirmed, a day of it settled as the employer paid it (a short payment refused), its wage
credited to her savings, the placement ended and the employer rated, all under the same
kills. Then also: exactly one of the ten is accepted and confirmed; every settlement's
employer payment is exactly wage and margin and its wage at least the hourly wage of its
minutes; each is credited to her account once, at its wage; and wages are in the
conservation of money.

The gateways take a checkpoint of their store every 2 s (``COOPBRIDGE_CHECKPOINT_EVERY``)
and catch up in bulk, 50 records a batch, from any lag (``COOPBRIDGE_CATCH_UP_BEYOND`` and
``_BATCH``). A gateway is killed in the middle of a checkpoint it was asked for
(``POST /admin/checkpoint``; the kill lands once its half-written folder appears), and then,
in turn, its data directory is lost (it comes back from the newest checkpoint of its node and
the tail of the log); its data directory and the node's checkpoints are lost and it is killed
again in the middle of its bulk catch-up from the start of the log (it comes back from the
part it had written); or nothing more. Its balances must still equal the fold of the log,
and every checkpoint left under a checkpoint's name must check out
(``gateway.checkpoints.verify``), or it counts as a violation.

The command processors snapshot every 3 events of a partition (``COOPBRIDGE_SNAPSHOT_EVERY``)
and take partitions over from their snapshots. A service process is killed, in turn, as soon
as it starts writing a snapshot (its log says so; ``mid_snapshot`` counts the kills that left
that snapshot without its manifest), or started again right after its kill and killed once
more as soon as it starts taking a partition over from its snapshots (``mid_takeover``), or
at any moment. Every must-be-zero column must stay zero all the same.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import random
import shutil
import threading
import time
from collections import Counter, defaultdict
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

import httpx
import pytest

from gateway.auth import Role, verify_token
from gateway.checkpoints import BadCheckpoint, verify
from gateway.store import RocksStore
from gateway.commands import command_id_for
from gateway.fold import MemoryStore, project
from schemas import REGISTRY, ContractError
from schemas import insurance as i
from schemas import placement as p
from schemas import savings as s
from schemas.runtime import CommandRejected
from schemas.topics import SERVICES, events_topic, federation_topic
from services.runtime.ids import new_id
from services.runtime import kafka_clients
from services.runtime.kafka_clients import read_topic
from tests.chaos.figures import record, record_kills, record_repeats, runs
from tests.chaos.kill import FaultInjector
from tests.e2e.test_federation_over_http import (
    MIRROR_MAKER,
    PROCESSES,
    Federation,
    _home,
    call,
    running_federation,
)

pytestmark = pytest.mark.kafka

CLIENTS = 4
WORKLOAD_S = 30.0
MEMBERS_PER_COOP = 3
#: the job orders of overlapping hours one member of a run is offered (issue 26)
JOBS = 10
SAVINGS_MUTATIONS = ("openAccount", "depositFunds", "withdrawFunds", "sendRemittance",
                     "transferSavingsHome")


def eur(amount: str) -> dict:
    return {"amount": amount, "currency": "EUR"}


@pytest.fixture(scope="module")
def federation(kafka_bootstrap, tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:  # the processes' environment
        patch.setenv("COOPBRIDGE_CHECKPOINT_EVERY", "2s")
        # a restarted gateway catches up in bulk from any lag, 50 records a batch
        patch.setenv("COOPBRIDGE_CATCH_UP_BEYOND", "0")
        patch.setenv("COOPBRIDGE_CATCH_UP_BATCH", "50")
        patch.setenv("COOPBRIDGE_SNAPSHOT_EVERY", "3")  # snapshots, and takeovers from them
        insured = (*PROCESSES, "insurance", "placement") if runs() > 1 else PROCESSES  # chaos
        with running_federation(kafka_bootstrap, tmp_path_factory.mktemp("chaos-federation"),
                                insured) as fed:
            yield fed


class CheckpointKills:
    """The federation as the fault injector sees it, except that a gateway is killed in the
    middle of a checkpoint: asked for one, it is killed as soon as the checkpoint's hidden
    folder appears (or after 2 s). Then, in turn: its data directory is lost (it comes back
    from the newest checkpoint); its data directory and the node's checkpoints are lost, and
    it is started and killed again once the bulk catch-up from the start of the log has
    written its first batch (it comes back from the part it had written); nothing more."""

    def __init__(self, fed: Federation):
        self.fed, self.procs, self.start = fed, fed.procs, fed.start
        self.gateway_kills = self.mid_checkpoint = self.disks_lost = self.mid_catch_up = 0
        self.service_kills = self.mid_snapshot = self.mid_takeover = 0
        self.tokens = {role: fed.token(role, Role.NODE_ADMIN) for role in fed.nodes}

    def checkpoints(self, role: str) -> Path:
        return self.fed.root / role / "gateway" / "checkpoints" / self.fed.nodes[role]

    def kill(self, role: str, name: str) -> None:
        if name in SERVICES:
            return self.kill_service(role, name)
        if name != "gateway":
            return self.fed.kill(role, name)
        where = self.checkpoints(role)
        before = set(where.glob(".taking-*"))
        threading.Thread(target=_ask_checkpoint, daemon=True, args=(
            self.fed.url(role, "/admin/checkpoint"), self.tokens[role])).start()
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline and not set(where.glob(".taking-*")) - before:
            time.sleep(0.001)
        self.fed.kill(role, name)
        self.mid_checkpoint += bool(set(where.glob(".taking-*")) - before)
        self.gateway_kills += 1
        turn = self.gateway_kills % 3
        if turn == 0:
            return
        store = self.fed.root / role / "gateway" / f"{self.fed.nodes[role]}-1"
        shutil.rmtree(store)
        self.disks_lost += 1
        if turn == 2:
            shutil.rmtree(where, ignore_errors=True)
            self.kill_in_catch_up(role, store)

    def kill_in_catch_up(self, role: str, store: Path) -> None:
        """Start the gateway on an empty store with no checkpoint, and kill it once its bulk
        catch-up has written a batch; ``mid_catch_up`` counts it if the store then holds
        part of the log, not all of it."""
        self.fed.start(role, "gateway")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any(
                wal.stat().st_size for wal in store.glob("*.log")):
            time.sleep(0.001)
        self.fed.kill(role, "gateway")
        topics = [events_topic(self.fed.nodes[role], s) for s in ("membership", "savings",
                                                                   "training")]
        opened = RocksStore(store)
        try:
            folded = sum(opened.offsets(topics).values())
        finally:
            opened.close()
        self.mid_catch_up += 0 < folded < asyncio.run(_records_in(self.fed.bootstraps[role], topics))

    def kill_service(self, role: str, name: str) -> None:
        """In turn: kill a service as soon as it starts writing a snapshot (or after 5 s); kill
        it, start it and kill it again as soon as it starts taking a partition over from its
        snapshots (or after 10 s); kill it at once."""
        self.service_kills += 1
        turn = self.service_kills % 3
        log = self.fed.root / f"{role}-{name}.log"
        if turn == 0:
            return self.fed.kill(role, name)
        if turn == 1:
            seen = _logged_after(log, log.stat().st_size, b"writing a snapshot of", 5.0)
            self.fed.kill(role, name)
            if seen is not None:  # "snapshot of <topic>[<p>] at offset <n>:" once written
                text = log.read_bytes()[seen:]
                which = text.split(b"\n", 1)[0].split(b"writing a ", 1)[1].strip()
                self.mid_snapshot += which + b":" not in text
            return None
        self.fed.kill(role, name)
        size = log.stat().st_size
        self.fed.start(role, name)
        seen = _logged_after(log, size, b"over: reading its snapshots", 10.0)
        self.fed.kill(role, name)
        self.mid_takeover += seen is not None and b"rebuilt" not in log.read_bytes()[seen:]
        return None

    def bad_checkpoints(self) -> list[str]:
        """Checkpoints under a checkpoint's name that do not check out (one the gateway,
        which takes one every 2 s and keeps the newest 3, pruned while it was being read is
        not one of them: a replica restoring from it would try the next, as
        ``checkpoints.restore`` does)."""
        bad = []
        for role, node in self.fed.nodes.items():
            where = self.checkpoints(role)
            for path in where.iterdir() if where.exists() else ():
                if not path.name.startswith("."):
                    try:
                        verify(path, node)
                    except (BadCheckpoint, OSError) as exc:
                        if path.exists():  # else pruned while read (the gateway goes on)
                            bad.append(f"{path.name}: {exc}")
        return bad


def _logged_after(log: Path, offset: int, line: bytes, seconds: float) -> int | None:
    """Where ``line`` appears in ``log`` after ``offset``, waiting up to ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = log.read_bytes().find(line, offset)
        if found >= 0:
            return found
        time.sleep(0.001)
    return None


async def _records_in(bootstrap: str, topics: list[str]) -> int:
    probe = kafka_clients.offsets_probe(bootstrap)
    await probe.start()
    try:
        partitions = [tp for topic in topics
                      for tp in await kafka_clients.all_partitions(probe, topic)]
        return sum((await probe.end_offsets(partitions)).values())
    finally:
        await probe.stop()


def _ask_checkpoint(url: str, token: str) -> None:
    try:
        httpx.post(url, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    except httpx.HTTPError:
        pass  # killed meanwhile: that is the point


class Acknowledged:
    """What the clients were told: command id -> (node, accepted, code)."""

    def __init__(self):
        self.outcomes: dict[str, tuple[str, bool, str | None]] = {}
        self.retries = 0


async def send(fed, role, token, name, input, key, acknowledged: Acknowledged,
               command_id: str, patience: float = 120.0) -> dict:
    """Send until there is an outcome, always under the same idempotency key."""
    document = (f"mutation($input: {name[0].upper()}{name[1:]}Input!, $key: String) "
                f"{{ {name}(input: $input, idempotencyKey: $key)"
                " { __typename ... on CommandAccepted { commandId } "
                "... on Problem { code message } } }")
    deadline = time.monotonic() + patience
    while True:
        try:
            result = (await asyncio.wait_for(
                call(fed, role, token, document, input=input, key=key), 20))[name]
        except Exception:  # the gateway is down, restarting, or its reply is lost
            result = None
        if result is not None and result["__typename"] != "Unavailable":
            accepted = result["__typename"] == "CommandAccepted"
            if accepted:
                assert result["commandId"] == command_id
            acknowledged.outcomes[command_id] = (fed.nodes[role], accepted, result.get("code"))
            return result
        assert time.monotonic() < deadline, f"no outcome for {name} {input} in {patience}s"
        acknowledged.retries += 1
        await asyncio.sleep(0.5)


class Run:
    """One run's fresh cooperatives, members and accounts, and its tokens."""

    def __init__(self, fed: Federation):
        self.patience = 120.0  # how long a client retries a command for an outcome
        self.fed = fed
        self.coops = {"host": [new_id(), new_id()], "home": [new_id()]}
        self.members = {c: [new_id() for _ in range(MEMBERS_PER_COOP)]
                        for c in self.coops["host"]}
        self.host_account = {m: new_id() for ms in self.members.values() for m in ms}
        self.home_account = {m: new_id() for m in self.host_account}
        self.coop_of = {m: c for c, ms in self.members.items() for m in ms}
        self.tokens = {c: fed.token("host", Role.STAFF, c) for c in self.coops["host"]}
        self.tokens[self.coops["home"][0]] = fed.token("home", Role.STAFF,
                                                        self.coops["home"][0])
        self.callers = {}
        for coop, token in self.tokens.items():
            role = "host" if coop in self.coops["host"] else "home"
            with _home(fed.env[role]):
                self.callers[coop] = verify_token(fed.nodes[role], token)
        self.acknowledged = Acknowledged()
        self.savings_sent: list[str] = []
        #: issue 25, when the nodes run their insurance services: the insurer at home, its
        #: staff (one assesses, another approves), each member's cover, and who dies
        self.insured = "insurance" in fed.chosen
        self.insurer = new_id()
        self.covers = {m: new_id() for m in self.host_account}
        self.policies: dict[str, str] = {}  # member -> policy id, once issued
        self.dies = next(iter(self.host_account))
        #: issue 26, when the host runs its placement service: who is offered the jobs
        self.placing = "placement" in fed.chosen
        self.worker = next(iter(self.host_account))
        self.jobs = [new_id() for _ in range(JOBS)]
        self.her_token: str | None = None
        if self.insured:
            self.tokens[self.insurer] = fed.token("home", Role.ADMIN, self.insurer, "marta")
            self.assessor = fed.token("home", Role.STAFF, self.insurer, "ana")
            self.approver = fed.token("home", Role.STAFF, self.insurer, "ben")
            for coop, who in ((self.insurer, self.tokens[self.insurer]),):
                with _home(fed.env["home"]):
                    self.callers[coop] = verify_token(fed.nodes["home"], who)

    def command_id(self, coop: str, key: str) -> str:
        role = "host" if coop in self.coops["host"] else "home"
        context = type("Context", (), {"node": self.fed.nodes[role],
                                       "caller": self.callers[coop]})
        return command_id_for(context, key)

    async def as_staff(self, coop: str, name: str, input: dict,
                       token: str | None = None) -> dict:
        role = "host" if coop in self.coops["host"] else "home"
        key = new_id()
        if token is None:
            command_id = self.command_id(coop, key)
        else:  # another person of that cooperative
            with _home(self.fed.env[role]):
                caller = verify_token(self.fed.nodes[role], token)
            command_id = command_id_for(
                type("Context", (), {"node": self.fed.nodes[role], "caller": caller}), key)
        result = await send(self.fed, role, token or self.tokens[coop], name, input, key,
                            self.acknowledged, command_id, self.patience)
        if name in SAVINGS_MUTATIONS:
            self.savings_sent.append(command_id)
        return result

    async def set_up(self) -> None:
        fed = self.fed
        for role, coops in self.coops.items():
            admin = fed.token(role, Role.NODE_ADMIN)
            country, currency = ("ES", "EUR") if role == "host" else ("EC", "USD")
            for coop in coops:
                key = new_id()
                with _home(fed.env[role]):
                    caller = verify_token(fed.nodes[role], admin)
                context = type("Context", (), {"node": fed.nodes[role], "caller": caller})
                result = await send(fed, role, admin, "registerCooperative", {
                    "cooperativeId": coop, "name": f"Chaos {coop[:8]}", "country": country,
                    "kind": "SAVINGS_AND_CREDIT", "languages": ["es"], "node": fed.nodes[role],
                    "currency": currency,
                    "sharePrice": {"amount": "25.00", "currency": currency}},
                    key, self.acknowledged, command_id_for(context, key))
                assert result["__typename"] == "CommandAccepted", result
        home_coop = self.coops["home"][0]

        async def member(member_id: str) -> None:
            coop = self.coop_of[member_id]
            for where, currency, account in ((coop, "EUR", self.host_account[member_id]),
                                             (home_coop, "USD", self.home_account[member_id])):
                for name, input in [
                    ("registerMember", {"memberId": member_id, "personal": {
                        "givenNames": "Ana", "familyNames": "Chaos", "dateOfBirth": "1990-01-01",
                        "nationality": "EC", "preferredLanguages": ["es-EC"]}}),
                    ("startMembership", {"memberId": member_id, "cooperativeId": where,
                                         "startedOn": "2020-01-06", "shareCapitalRequired": {
                                             "amount": "10.00", "currency": currency}}),
                    ("openAccount", {"accountId": account, "memberId": member_id,
                                     "cooperativeId": where, "product": "SAVINGS",
                                     "currency": currency})]:
                    result = await self.as_staff(where, name, input)
                    deadline = time.monotonic() + self.patience
                    while result["__typename"] == "NotAuthorized" \
                            and time.monotonic() < deadline:
                        # the gateway decides who may act on her from its views: after the
                        # last run's faults (its data directory lost) they may still lag
                        # behind her registration; refused before anything was sent
                        await asyncio.sleep(0.5)
                        result = await self.as_staff(where, name, input)
                    assert result["__typename"] == "CommandAccepted", (name, result)

        await asyncio.gather(*(member(m) for m in self.host_account))
        if self.insured:
            await self.insure()
        if self.placing:
            await self.offer_jobs()

    async def offer_jobs(self) -> None:
        """Her cooperative's floor and employer; ten job orders of overlapping hours today,
        each offered to her; her own member token (what follows happens under the faults:
        ``placed_and_paid``)."""
        fed, coop = self.fed, self.coop_of[self.worker]
        admin = fed.token("host", Role.ADMIN, coop, "dolores")
        employer = new_id()
        start = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(hours=1)
        shift = {"startsAt": start.isoformat(),
                 "endsAt": (start + dt.timedelta(hours=5)).isoformat()}
        steps = [("setWageFloor", {"cooperativeId": coop, "occupation": "5",
                                   "hourly": eur("10.00")}, admin),
                 ("registerEmployer", {"employerId": employer, "cooperativeId": coop,
                                       "details": {"name": "Familia Caos",
                                                   "address": "Calle 1, Madrid"}}, None)]
        for job in self.jobs:
            steps += [("postJobOrder", {
                "jobOrderId": job, "cooperativeId": coop, "employerId": employer,
                "occupation": "5311", "country": "ES", "locality": "Madrid",
                "shifts": [shift], "wage": eur("12.00"), "margin": eur("1.00"),
                "termsSha256": "cd" * 32, "answerHours": 24}, None),
                ("offerJob", {"jobOrderId": job, "memberId": self.worker}, None)]
        for name, input, token in steps:
            result = await self.as_staff(coop, name, input, token)
            assert result["__typename"] == "CommandAccepted", (name, result)
        self.her_token = await self.member_token(coop, self.worker)

    async def member_token(self, coop: str, member_id: str) -> str:
        """Her own token: a code her cooperative issues, redeemed by her (again with a new
        code if a redemption's answer was lost)."""
        issue = """mutation($input: IssueMemberAccessInput!, $key: String) {
            issueMemberAccess(input: $input, idempotencyKey: $key) { __typename
              ... on MemberAccessCode { code } } }"""
        redeem = """mutation($code: String!) { redeemMemberAccess(input: {code: $code}) {
            __typename ... on MemberToken { token } } }"""
        deadline = time.monotonic() + self.patience
        while time.monotonic() < deadline:
            key = new_id()
            try:
                issued = (await asyncio.wait_for(call(
                    self.fed, "host", self.tokens[coop], issue, input={"memberId": member_id},
                    key=key), 20))["issueMemberAccess"]
                if issued["__typename"] != "MemberAccessCode":
                    continue
                redeemed = (await asyncio.wait_for(call(
                    self.fed, "host", None, redeem, code=issued["code"]), 20))[
                    "redeemMemberAccess"]
                if redeemed["__typename"] == "MemberToken":
                    return redeemed["token"]
            except Exception:  # noqa: BLE001 - the gateway is down or restarting
                await asyncio.sleep(0.5)
        raise AssertionError("her member token was never issued")

    async def as_her(self, name: str, input: dict) -> dict:
        """A command she sends herself, retried under one idempotency key."""
        key = new_id()
        with _home(self.fed.env["host"]):
            caller = verify_token(self.fed.nodes["host"], self.her_token)
        command_id = command_id_for(type("Context", (), {"node": self.fed.nodes["host"],
                                                          "caller": caller}), key)
        return await send(self.fed, "host", self.her_token, name, input, key,
                          self.acknowledged, command_id, self.patience)

    async def placed_and_paid(self) -> None:
        """Under the faults: she accepts the ten at once; the one accepted is confirmed, a
        day settled (a short payment refused first), credited, ended, and rated."""
        coop = self.coop_of[self.worker]
        answers = await asyncio.gather(*(self.as_her("acceptOffer", {
            "memberId": self.worker, "jobOrderId": job,
            "accountId": self.host_account[self.worker]}) for job in self.jobs))
        accepted = [job for job, a in zip(self.jobs, answers, strict=True)
                    if a["__typename"] == "CommandAccepted"]
        self.placed = accepted
        assert len(accepted) == 1, answers
        assert sorted(a["__typename"] for a in answers) == \
            ["CommandAccepted"] + ["ShiftsOverlap"] * (JOBS - 1), answers
        [job] = accepted
        await self.job_status(job, lambda j: j["status"] == "filled")
        today = dt.datetime.now(dt.UTC).date().isoformat()
        settle = {"jobOrderId": job, "workedFrom": today, "workedTo": today, "minutes": 300}
        short = await self.as_staff(coop, "settleWages", {
            **settle, "settlementId": new_id(), "employerPaid": eur("64.99")})
        assert short["__typename"] == "RecruitmentFeeForbidden", short
        settled = await self.as_staff(coop, "settleWages", {
            **settle, "settlementId": new_id(), "employerPaid": eur("65.00")})
        assert settled["__typename"] == "CommandAccepted", settled
        await self.job_status(job, lambda j: [x["status"] for x in j["settlements"]]
                              == ["credited"])
        for name, input, mine in (
                ("endPlacement", {"jobOrderId": job, "endedOn": today,
                                  "reason": "COMPLETED"}, False),
                ("rateEmployer", {"jobOrderId": job, "memberId": self.worker,
                                  "stars": 5}, True)):
            result = await (self.as_her(name, input) if mine
                            else self.as_staff(coop, name, input))
            assert result["__typename"] == "CommandAccepted", (name, result)

    async def job_status(self, job: str, done) -> None:
        query = """query($id: ID!) { jobOrder(id: $id) { status settlements { status } } }"""
        token = self.tokens[self.coop_of[self.worker]]
        deadline = time.monotonic() + self.patience
        while True:
            try:
                found = (await asyncio.wait_for(call(self.fed, "host", token, query, id=job),
                                                20))["jobOrder"]
            except Exception:  # noqa: BLE001 - the gateway is down or restarting
                found = None
            if found and done(found):
                return
            assert time.monotonic() < deadline, f"job order {job}: {found}"
            await asyncio.sleep(0.5)

    async def insure(self) -> None:
        """An insurer at home and its product; every member's consent to it, and money in
        her host account for her premiums (what follows happens under the faults:
        ``insured_and_claimed``)."""
        fed, home = self.fed, self.fed.nodes["home"]
        admin = fed.token("home", Role.NODE_ADMIN)
        key = new_id()
        with _home(fed.env["home"]):
            caller = verify_token(home, admin)
        result = await send(fed, "home", admin, "registerCooperative", {
            "cooperativeId": self.insurer, "name": f"Seguros {self.insurer[:8]}",
            "country": "EC", "kind": "INSURANCE", "languages": ["es"], "node": home,
            "currency": "USD", "sharePrice": {"amount": "10.00", "currency": "USD"}},
            key, self.acknowledged, command_id_for(type("Context", (), {
                "node": home, "caller": caller}), key))
        assert result["__typename"] == "CommandAccepted", result
        self.product = new_id()
        result = await self.as_staff(self.insurer, "offerProduct", {
            "productId": self.product, "cooperativeId": self.insurer,
            "names": [{"language": "es", "text": "Repatriación"}], "currency": "USD",
            "repatriationLimit": {"amount": "500.00", "currency": "USD"},
            "monthlyBenefitCap": {"amount": "50.00", "currency": "USD"},
            "premium": {"amount": "2.00", "currency": "USD"}, "waitingDays": 0})
        assert result["__typename"] == "CommandAccepted", result

        async def consent(member_id: str) -> None:
            coop = self.coop_of[member_id]
            for name, input in (
                    ("grantConsent", {"memberId": member_id, "consentId": new_id(),
                                      "granteeKind": "NODE", "grantee": home,
                                      "scopes": ["INSURANCE"],
                                      "expiresAt": "2031-01-01T00:00:00Z"}),
                    ("depositFunds", {"accountId": self.host_account[member_id],
                                      "amount": {"amount": "40.00", "currency": "EUR"}})):
                result = await self.as_staff(coop, name, input)
                assert result["__typename"] == "CommandAccepted", (name, result)

        await asyncio.gather(*(consent(m) for m in self.host_account))

    async def insured_and_claimed(self) -> None:
        """Under the faults: every member applies at her host cooperative, her home account
        the payee, and her instruction pays her first premium once her policy is issued;
        then one member dies (``claim``)."""
        home = self.fed.nodes["home"]

        async def apply(member_id: str) -> None:
            coop = self.coop_of[member_id]
            result = await self.as_staff(coop, "applyForPolicy", {
                "coverId": self.covers[member_id], "memberId": member_id,
                "cooperativeId": coop, "insurerNode": home, "productId": self.product,
                "currency": "USD", "accountId": self.host_account[member_id],
                "startsOn": time.strftime("%Y-%m-%d", time.gmtime()),
                "requestedBenefit": {"amount": "20.00", "currency": "USD"},
                "payees": [{"accountId": self.home_account[member_id], "sharePercent": 100}]})
            assert result["__typename"] == "CommandAccepted", result

        await asyncio.gather(*(apply(m) for m in self.host_account))
        query = """query($id: ID!) { member(id: $id) { insurance { coverId policyId status } } }"""
        deadline = time.monotonic() + self.patience
        while len(self.policies) < len(self.covers):
            for member_id in self.host_account:
                try:
                    found = (await asyncio.wait_for(call(
                        self.fed, "host", self.tokens[self.coop_of[member_id]], query,
                        id=member_id), 20))["member"]["insurance"]
                except Exception:  # noqa: BLE001, S112 - the gateway is down or restarting
                    continue
                if found and found[0]["status"] == "issued":
                    self.policies[member_id] = found[0]["policyId"]
            assert time.monotonic() < deadline, f"not issued: {self.policies}"
            await asyncio.sleep(0.5)
        await self.claim()

    async def claim(self) -> None:
        """One member dies as the workload starts: her host cooperative records it, and the
        insurer's staff take the claim the notice opened to an approval, retrying through
        the kills like every client."""
        member_id = self.dies
        policy = self.policies[member_id]
        today = time.strftime("%Y-%m-%d", time.gmtime())
        result = await self.as_staff(self.coop_of[member_id], "endMembership", {
            "memberId": member_id, "cooperativeId": self.coop_of[member_id],
            "reason": "DECEASED", "endedOn": today})
        assert result["__typename"] == "CommandAccepted", result
        query = "query($id: ID!) { insurancePolicy(id: $id) { claim { status } } }"
        deadline = time.monotonic() + self.patience
        while True:
            try:
                found = (await asyncio.wait_for(call(self.fed, "home", self.assessor, query,
                                                     id=policy), 20))["insurancePolicy"]
            except Exception:  # noqa: BLE001 - the gateway is down or restarting
                found = None
            if found and found["claim"]:
                break
            assert time.monotonic() < deadline, "the claim was never opened"
            await asyncio.sleep(0.5)
        for name, input, token in (
                ("attachEvidence", {"policyId": policy, "kind": "DEATH_CERTIFICATE",
                                    "sha256": "ab" * 32}, self.assessor),
                ("assessClaim", {"policyId": policy, "repatriationCost": {
                    "amount": "300.00", "currency": "USD"},
                    "repatriationAccountId": self.home_account[member_id]}, self.assessor),
                ("approveClaim", {"policyId": policy}, self.approver)):
            result = await self.as_staff(self.insurer, name, input, token)
            assert result["__typename"] == "CommandAccepted", (name, result)

    async def client(self, rng: random.Random, done: asyncio.Event) -> None:
        """Random money commands until ``done``; each retried until it has an outcome."""
        home = self.fed.nodes["home"]
        while not done.is_set():
            member = rng.choice(list(self.host_account))
            coop, account = self.coop_of[member], self.host_account[member]
            amount = {"amount": f"{rng.randint(5, 120)}.{rng.randint(0, 99):02d}",
                      "currency": "EUR"}
            kind = rng.choices(["deposit", "withdraw", "remit", "home", "at home"],
                               [4, 2, 2, 1, 2])[0]
            if kind == "at home":  # the home node's gateway and savings under load too
                await self.as_staff(self.coops["home"][0], rng.choice(
                    ["depositFunds", "withdrawFunds"]), {
                    "accountId": self.home_account[member],
                    "amount": {**amount, "currency": "USD"}})
            elif kind == "deposit":
                await self.as_staff(coop, "depositFunds", {"accountId": account, "amount": amount})
            elif kind == "withdraw":
                await self.as_staff(coop, "withdrawFunds", {"accountId": account,
                                                            "amount": amount})
            elif kind == "remit":
                other = rng.choice([m for m in self.host_account if m != member])
                await self.as_staff(coop, "sendRemittance", {
                    "accountId": account, "remittanceId": new_id(), "amount": amount,
                    "to": {"account": {"accountId": self.host_account[other]}}})
            else:
                await self.as_staff(coop, "transferSavingsHome", {
                    "accountId": account, "transferId": new_id(), "amount": amount,
                    "toNode": home, "toAccountId": self.home_account[member],
                    "toCurrency": "USD"})

    async def balances_shown(self) -> dict[str, Decimal]:
        """Account id -> balance in major units, as each gateway shows it."""
        shown = {}
        home_coop = self.coops["home"][0]
        query = """query($id: ID!) { member(id: $id) {
            accounts { accountId balance { amount currency } } } }"""
        for member, coop in self.coop_of.items():
            for role, staff in (("host", coop), ("home", home_coop)):
                data = (await call(self.fed, role, self.tokens[staff], query, id=member))
                for account in (data["member"] or {}).get("accounts", []):
                    shown[account["accountId"]] = Decimal(account["balance"]["amount"])
        return shown


def _subject(raw) -> str | None:
    try:
        return json.loads(raw).get("subject")
    except Exception:
        return None


class Log:
    """One node's savings events for this run's accounts, folded along each chain."""

    def __init__(self, records, accounts: set[str]):
        self.chained: dict[str, list] = defaultdict(list)  # account -> (envelope, event)
        self.by_command: Counter = Counter()  # command id -> chained events + rejections
        self.rejections: dict[str, str] = {}
        self.off_chain: list = []  # a stale writer's events, ignored by every fold
        self.repeated = 0  # a record written twice (the same event id): never expected
        self.unreadable = 0
        self.gaps = 0
        seen: set[str] = set()
        versions: dict[str, tuple[int, str | None]] = {}
        for r in sorted(records, key=lambda r: (r.partition, r.offset)):
            try:
                envelope, event = REGISTRY.decode(r.value)
            except ContractError:  # a negative balance, say, would not even decode
                self.unreadable += _subject(r.value) in accounts
                continue
            if isinstance(event, CommandRejected):
                if event.aggregate_id in accounts:
                    self.by_command[event.command_id] += 1
                    self.rejections.setdefault(event.command_id, event.error.code)
                continue
            if envelope.subject not in accounts:
                continue
            self.repeated += envelope.id in seen
            seen.add(envelope.id)
            version, last = versions.get(envelope.subject, (0, None))
            if envelope.sequence == version + 1 and envelope.previousid == last:
                versions[envelope.subject] = (version + 1, envelope.id)
                self.chained[envelope.subject].append((envelope, event))
                self.by_command[envelope.causationid] += 1
            else:
                self.off_chain.append((envelope, event))
        for account, chain in self.chained.items():
            if [e.sequence for e, _ in chain] != list(range(1, len(chain) + 1)):
                self.gaps += 1

    def outcome(self, command_id: str) -> tuple[bool, str | None] | None:
        accepted = any(e.causationid == command_id for chain in self.chained.values()
                       for e, _ in chain)
        if accepted:
            return True, None
        if command_id in self.rejections:
            return False, self.rejections[command_id]
        return None

    def events(self):
        for chain in self.chained.values():
            yield from chain


def money_violations(host: Log, home: Log, insurance: list | None = None,
                     placement: list | None = None) -> tuple[int, dict]:
    """Negative balances, balances that do not follow from the amounts, and conservation
    breaks per currency; also what is still in transit. ``insurance``: the insurer's policy
    events of this run (issue 25), against which premiums and benefits are checked;
    ``placement``: the job orders' events of this run (issue 26), against which wages are."""
    violations = 0
    balances: dict[str, int] = {}
    currency_of: dict[str, str] = {}
    flows: dict[str, Counter] = defaultdict(Counter)
    for log in (host, home):
        for account, chain in log.chained.items():
            running = 0
            for _, event in chain:
                delta = {s.FundsDeposited: lambda e: e.amount.amount,
                         s.FundsWithdrawn: lambda e: -e.amount.amount,
                         s.RemittanceSent: lambda e: -(e.amount.amount + e.fee.amount),
                         s.RemittanceReceived: lambda e: e.amount.amount,
                         s.RemittanceRefunded: lambda e: e.amount.amount,
                         s.SavingsSentHome: lambda e: -e.amount.amount,
                         s.SavingsTransferReceived: lambda e: e.amount.amount,
                         s.SavingsTransferRefunded: lambda e: e.amount.amount,
                         s.PremiumPaid: lambda e: -(e.cost.amount + e.fee.amount),
                         s.PremiumRefunded: lambda e: e.amount.amount,
                         s.BenefitReceived: lambda e: e.amount.amount,
                         s.WageReceived: lambda e: e.amount.amount,
                         }.get(type(event))
                if isinstance(event, s.AccountOpened):
                    currency_of[account] = event.currency
                if delta is not None:
                    running += delta(event)
                balance = getattr(event, "balance", None)
                if balance is not None:
                    violations += balance.amount < 0  # never negative
                    violations += balance.amount != running  # follows from the amounts
                if isinstance(event, s.FundsDeposited):
                    flows[event.amount.currency]["deposits"] += event.amount.amount
                elif isinstance(event, s.FundsWithdrawn):
                    flows[event.amount.currency]["withdrawals"] += event.amount.amount
            balances[account] = running
    # remittances (host, between accounts): received once or refunded once, never both
    sent = {e.remittance_id: e for _, e in host.events() if isinstance(e, s.RemittanceSent)}
    received = Counter(e.remittance_id for _, e in host.events()
                       if isinstance(e, s.RemittanceReceived))
    refunded = {e.remittance_id: e for _, e in host.events()
                if isinstance(e, s.RemittanceRefunded)}
    in_transit: Counter = Counter()
    for rid, e in sent.items():
        got = received[rid]
        violations += got > 1 or (got and rid in refunded)
        credited = next((r for _, r in host.events()
                         if isinstance(r, s.RemittanceReceived) and r.remittance_id == rid), None)
        if credited is not None:
            violations += credited.amount != e.received
            flows[e.amount.currency]["fees"] += e.fee.amount
            # same currency in this workload: what left minus the fee is what arrived
            violations += (e.amount.amount != credited.amount.amount
                           if e.received.currency == e.amount.currency else 0)
        elif rid in refunded:
            violations += refunded[rid].amount.amount != e.amount.amount + e.fee.amount
        else:
            in_transit[e.amount.currency] += e.amount.amount + e.fee.amount
    # transfers home: credited at home exactly what the host disclosed, at most once
    going = {e.transfer_id: e for _, e in host.events() if isinstance(e, s.SavingsSentHome)}
    arrived = defaultdict(list)
    for _, e in home.events():
        if isinstance(e, s.SavingsTransferReceived):
            arrived[e.transfer_id].append(e)
    back = {e.transfer_id: e for _, e in host.events() if isinstance(e, s.SavingsTransferRefunded)}
    for tid, e in going.items():
        credits = arrived.get(tid, [])
        violations += len(credits) > 1 or (credits and tid in back)
        if credits:
            violations += credits[0].amount != e.received
            violations += Decimal(e.received.amount) != (
                Decimal(e.amount.amount - e.fee.amount) * Decimal(e.rate)
            ).quantize(Decimal("1"), ROUND_HALF_EVEN)
            flows[e.amount.currency]["fees"] += e.fee.amount
            flows[e.amount.currency]["went home"] += e.amount.amount - e.fee.amount
            flows[e.received.currency]["came home"] += e.received.amount
        elif tid in back:
            violations += back[tid].amount != e.amount
        else:
            in_transit[e.amount.currency] += e.amount.amount
    violations += sum(1 for tid in arrived if tid not in going)  # credited, never sent
    violations += _insurance_violations(host, home, insurance or [], flows, in_transit)
    violations += _wage_violations(host, placement or [], flows)
    held: Counter = Counter()
    for account, balance in balances.items():
        held[currency_of.get(account, "?")] += balance
    report = {}
    for currency in set(flows) | set(held):
        f = flows[currency]
        came_in = f["deposits"] + f["came home"] + f["benefits"] + f["wages"]
        went_out = f["withdrawals"] + f["fees"] + f["went home"] + f["premiums"]
        report[currency] = dict(f, held=held[currency], in_transit=in_transit[currency])
        violations += came_in - went_out != held[currency] + in_transit[currency]
    return violations, report


def _insurance_violations(host: Log, home: Log, insurance: list, flows: dict,
                          in_transit: Counter) -> int:
    """Premiums: collected at most once, only if not refunded, at the premium the host
    disclosed (delivered means collected; refunded means whole); benefits: each credited once,
    to the account and for the amount of a payment the insurer released, and each payment
    the insurer marks credited credited exactly once. Adds premiums and benefits to the
    flows."""
    violations = 0
    paid = {e.premium_id: e for _, e in host.events() if isinstance(e, s.PremiumPaid)}
    delivered = {e.premium_id for _, e in host.events() if isinstance(e, s.PremiumDelivered)}
    refunded = {e.premium_id: e for _, e in host.events() if isinstance(e, s.PremiumRefunded)}
    collected: dict[str, list] = defaultdict(list)
    for event in insurance:
        if isinstance(event, i.PremiumCollected):
            collected[event.transfer_id].append(event)
    for premium_id, e in paid.items():
        got = collected.get(premium_id, [])
        violations += len(got) > 1 or bool(got and premium_id in refunded)
        violations += premium_id in delivered and premium_id in refunded
        if got:
            violations += got[0].amount != e.premium
        if premium_id in delivered:
            violations += not got
            flows[e.cost.currency]["fees"] += e.fee.amount
            flows[e.cost.currency]["premiums"] += e.cost.amount
        elif premium_id in refunded:
            violations += refunded[premium_id].amount.amount != e.cost.amount + e.fee.amount
        else:
            in_transit[e.cost.currency] += e.cost.amount + e.fee.amount
    violations += sum(1 for premium_id in collected if premium_id not in paid)
    periods = Counter((e.policy_id, e.period) for e in insurance
                      if isinstance(e, i.PremiumCollected))
    violations += sum(n > 1 for n in periods.values())  # a period collected twice
    kept = Counter((e.policy_id, e.period) for _, e in host.events()
                   if isinstance(e, s.PremiumDelivered))
    violations += sum(n > 1 for n in kept.values())  # ... or delivered twice at the host
    released = {(e.policy_id, e.payment.number): e.payment for e in insurance
                if isinstance(e, i.PaymentReleased)}
    benefits: Counter = Counter()
    for envelope, e in home.events():
        if isinstance(e, s.BenefitReceived):
            benefits[(e.policy_id, e.number)] += 1
            payment = released.get((e.policy_id, e.number))
            violations += payment is None or payment.amount != e.amount \
                or payment.account_id != envelope.subject
            flows[e.amount.currency]["benefits"] += e.amount.amount
    violations += sum(n > 1 for n in benefits.values())
    violations += sum(benefits[(e.policy_id, e.number)] != 1 for e in insurance
                      if isinstance(e, i.PaymentCredited))
    returned = {(e.policy_id, e.number) for e in insurance if isinstance(e, i.PaymentReturned)}
    violations += sum(1 for key in returned if benefits[key])  # both credited and returned
    return violations


def _wage_violations(host: Log, placement: list, flows: dict) -> int:
    """Wages: every settlement's employer payment exactly wage and margin, its wage at least
    the hourly wage of its minutes; each credited to her account once, at its wage, never
    both credited and returned; and each marked paid credited exactly once. Adds wages to
    the flows."""
    violations = 0
    settled = {(e.job_order_id, e.settlement_id): e for e in placement
               if isinstance(e, p.WagesSettled)}
    for e in settled.values():
        violations += e.employer_paid.amount != e.wage.amount + e.margin.amount
        violations += e.wage.amount * 60 < e.hourly_wage.amount * e.minutes
    credited: Counter = Counter()
    for envelope, e in host.events():
        if isinstance(e, s.WageReceived):
            key = (e.job_order_id, e.settlement_id)
            credited[key] += 1
            wage = settled.get(key)
            violations += wage is None or wage.wage != e.amount \
                or wage.account_id != envelope.subject
            flows[e.amount.currency]["wages"] += e.amount.amount
    violations += sum(n > 1 for n in credited.values())
    paid = Counter((e.job_order_id, e.settlement_id) for e in placement
                   if isinstance(e, p.WagePaid))
    violations += sum(n > 1 or credited[key] != 1 for key, n in paid.items())
    returned = {(e.job_order_id, e.settlement_id) for e in placement
                if isinstance(e, p.WagePaymentReturned)}
    violations += sum(1 for key in returned if credited[key])
    return violations


def placement_violations(placement: list, run: Run) -> int:
    """Of her ten job orders of overlapping hours, exactly one accepted and confirmed."""
    accepted = [e for e in placement if isinstance(e, p.OfferAccepted)]
    confirmed = [e for e in placement if isinstance(e, p.PlacementConfirmed)]
    return (len(accepted) != 1) + (len(confirmed) != 1) + (
        bool(accepted and confirmed) and accepted[0].job_order_id != confirmed[0].job_order_id)


def placement_settled(placement: list) -> bool:
    """The placement ended and rated, every settlement credited."""
    settled = {e.settlement_id for e in placement if isinstance(e, p.WagesSettled)}
    paid = {e.settlement_id for e in placement if isinstance(e, p.WagePaid)}
    return bool(settled) and settled <= paid and any(
        isinstance(e, p.EmployerRated) for e in placement)


def insurance_settled(host: Log, insurance: list, claims: int) -> bool:
    """Every premium delivered or refunded; ``claims`` claims approved, and every payment
    the insurer released credited or returned."""
    open_ids = {e.premium_id for _, e in host.events() if isinstance(e, s.PremiumPaid)}
    for _, e in host.events():
        if isinstance(e, s.PremiumDelivered | s.PremiumRefunded):
            open_ids.discard(e.premium_id)
    released = {(e.policy_id, e.payment.number) for e in insurance
                if isinstance(e, i.PaymentReleased)}
    done = {(e.policy_id, e.number) for e in insurance
            if isinstance(e, i.PaymentCredited | i.PaymentReturned)}
    approved = sum(isinstance(e, i.ClaimApproved) for e in insurance)
    credited = {(e.policy_id, e.number) for e in insurance if isinstance(e, i.PaymentCredited)}
    return not open_ids and approved >= claims and len(credited) >= 2 * claims \
        and released <= done


async def mirror_repeats(fed: Federation) -> int:
    """How many records MirrorMaker 2 copied more than once so far: each node's federation
    topic against its copy in the other node's cluster (once MirrorMaker caught up; a copy
    still behind counts none)."""
    total = 0
    for role, other in (("host", "home"), ("home", "host")):
        topic = federation_topic(fed.nodes[role])
        sent = len(await read_topic(topic, fed.bootstraps[role]))
        total += max(0, len(await read_topic(topic, fed.bootstraps[other])) - sent)
    return total


async def read_run(fed: Federation, run: Run) -> tuple[Log, Log]:
    host_accounts = set(run.host_account.values())
    home_accounts = set(run.home_account.values())
    host = Log(await read_topic(events_topic(fed.nodes["host"], "savings"),
                                fed.bootstraps["host"]), host_accounts)
    home = Log(await read_topic(events_topic(fed.nodes["home"], "savings"),
                                fed.bootstraps["home"]), home_accounts)
    return host, home


async def read_policies(fed: Federation, run: Run) -> list:
    """The insurer's events of this run's policies, each once, in each policy's order."""
    if not run.insured:
        return []
    policies = {p.encode() for p in run.policies.values()}
    records = await read_topic(events_topic(fed.nodes["home"], "insurance"),
                               fed.bootstraps["home"])
    events, chains = [], {}  # policy -> (sequence, event id) its chain stands at
    for r in sorted(records, key=lambda r: (r.partition, r.offset)):
        if r.key not in policies:
            continue
        envelope, event = REGISTRY.decode(r.value)
        version, last = chains.get(envelope.subject, (0, None))
        if envelope.sequence != version + 1 or envelope.previousid != last:
            continue  # a rejection, a copy, or a stale writer's: off the chain, as every fold
        chains[envelope.subject] = (envelope.sequence, envelope.id)
        events.append(event)
    return events


async def read_placement(fed: Federation, run: Run) -> list:
    """The placement events of this run's job orders and of her calendar, each once, in
    each aggregate's order."""
    if not run.placing:
        return []
    keys = {job.encode() for job in run.jobs} | {run.worker.encode()}
    records = await read_topic(events_topic(fed.nodes["host"], "placement"),
                               fed.bootstraps["host"])
    events, chains = [], {}
    for r in sorted(records, key=lambda r: (r.partition, r.offset)):
        if r.key not in keys:
            continue
        envelope, event = REGISTRY.decode(r.value)
        version, last = chains.get(envelope.subject, (0, None))
        if envelope.sequence != version + 1 or envelope.previousid != last:
            continue  # a rejection, or a stale writer's: off the chain
        chains[envelope.subject] = (envelope.sequence, envelope.id)
        events.append(event)
    return events


def settled(host: Log, home: Log) -> bool:
    """Every remittance and every transfer home is delivered or refunded."""
    open_ids = set()
    for _, e in host.events():
        if isinstance(e, s.RemittanceSent | s.SavingsSentHome):
            open_ids.add(getattr(e, "remittance_id", None) or e.transfer_id)
        elif isinstance(e, s.RemittanceDelivered | s.RemittanceRefunded):
            open_ids.discard(e.remittance_id)
        elif isinstance(e, s.SavingsTransferDelivered | s.SavingsTransferRefunded):
            open_ids.discard(e.transfer_id)
    return not open_ids


def folded_balances(host: Log, home: Log) -> dict[str, Decimal]:
    """A fresh fold of the log through the gateway's own projection."""
    store = MemoryStore()
    for log in (host, home):
        for message in log.events():
            project(store, message)
    folded = {}
    for log in (host, home):
        for account in log.chained:
            view = store.get("accounts", account)
            if view is not None and view.balance is not None:
                folded[account] = Decimal(view.balance.amount) / 100  # EUR and USD: 2
    return folded


async def one_run(fed: Federation, broker, seed: int,
                  sections: tuple[str, str] = ("durability", "money"),
                  broker_after: float | None = None, patience: float = 120.0) -> None:
    """One run of the workload under faults (``broker``: the broker the injector restarts,
    or a ``ClusterFault``, ``broker_after`` seconds in: by default a third of the workload),
    its figures recorded in ``sections`` (durability, money); a client retries a command
    for ``patience`` seconds before it counts as having no outcome."""
    rng = random.Random(seed)
    started = time.monotonic()
    run = Run(fed)
    run.patience = patience
    await run.set_up()
    # the processes money passes through first (each killed once a run), then the others
    names = [(role, name) for role in fed.nodes for name in (
        "savings", "gateway", "federation", "insurance", MIRROR_MAKER)
        if name in fed.processes]
    others = [(role, name) for role in fed.nodes for name in fed.processes
              if (role, name) not in names]
    rng.shuffle(names)
    rng.shuffle(others)
    names += others
    # every MirrorMaker is killed early in each run: the money home passes through both
    names.sort(key=lambda victim: victim[1] != MIRROR_MAKER)
    world = CheckpointKills(fed)
    injector = FaultInjector(world, names, rng, broker=broker, broker_after=broker_after)
    done = asyncio.Event()
    clients = [asyncio.create_task(run.client(random.Random(seed * 100 + i), done))
               for i in range(CLIENTS)]
    if run.insured:  # policies, premiums, her death and her claim, under the same faults
        clients.append(asyncio.create_task(run.insured_and_claimed()))
    if run.placing:  # her job offers accepted at once, confirmed, paid, ended, rated
        clients.append(asyncio.create_task(run.placed_and_paid()))
    await injector.run(WORKLOAD_S)  # the clients keep sending until the last fault is over
    done.set()
    await asyncio.gather(*clients)
    fed.wait_until_ready()

    # quiet period: the sagas finish, the gateways catch up; a process that ends meanwhile
    # (an infrastructure failure ends it) is started again, as its supervisor would
    deadline = time.monotonic() + 90
    while True:
        # the insurer's and the job orders' events first, then the savings ones: a payment
        # or a wage is marked credited only after its account credited it, so the savings
        # read after them hold every credit they speak of (read the other way round, a
        # credit between the two reads was "credited" with no credit, and a balance shown
        # later than the savings read did not match their fold)
        policies = await read_policies(fed, run)
        placement = await read_placement(fed, run)
        host, home = await read_run(fed, run)
        if (settled(host, home) and (not run.insured or insurance_settled(
                host, policies, claims=1))
                and (not run.placing or placement_settled(placement))) \
                or time.monotonic() > deadline:
            break
        injector.revive()
        await asyncio.sleep(1)
    folded = folded_balances(host, home)
    deadline = time.monotonic() + 30
    while True:
        shown = await run.balances_shown()
        mismatched = [a for a in folded if shown.get(a) != folded[a]]
        if not mismatched or time.monotonic() > deadline:
            break
        await asyncio.sleep(1)

    logs = {fed.nodes["host"]: host, fed.nodes["home"]: home}
    lost = wrong_outcome = 0
    for command_id in run.savings_sent:  # every acknowledged savings command is in the log
        node, accepted, code = run.acknowledged.outcomes[command_id]
        logged = logs[node].outcome(command_id)
        if logged is None:
            lost += 1
        else:
            wrong_outcome += logged != (accepted, None if accepted else code)
    duplicated = sum(n - 1 for log in logs.values() for n in log.by_command.values() if n > 1)
    duplicated += sum(log.repeated for log in logs.values())
    orphans = sum(1 for log in logs.values() for e, _ in log.off_chain
                  if log.by_command[e.causationid] == 0)
    copied_again = None
    if fed.apart:  # this run's repeats: the topics outlive the run
        so_far = await mirror_repeats(fed)
        copied_again, fed.repeats_seen = so_far - getattr(fed, "repeats_seen", 0), so_far
        record_repeats(copied_again)
    bad_checkpoints = world.bad_checkpoints()
    violations = (host.gaps + home.gaps + len(mismatched) + wrong_outcome + orphans
                  + len(bad_checkpoints))
    money, flows = money_violations(host, home, policies, placement)
    if run.placing:
        violations += placement_violations(placement, run)
    money += host.unreadable + home.unreadable
    faults = injector.faults
    acknowledged = len(run.acknowledged.outcomes)
    record(sections[0], runs=1, faults=faults, acknowledged=acknowledged, lost=lost,
           duplicated=duplicated, violations=violations)
    record(sections[1], runs=1, faults=faults, acknowledged=acknowledged, violations=money)
    record_kills(mid_snapshot=world.mid_snapshot, mid_takeover=world.mid_takeover,
                 mid_checkpoint=world.mid_checkpoint, mid_catch_up=world.mid_catch_up,
                 with_data_directory_lost=world.disks_lost,
                 **({"of_mirror_makers": sum(v[1] == MIRROR_MAKER for v in injector.victims)}
                    if fed.apart else {}))
    print(f"{sections[0]} run {seed}: {time.monotonic() - started:.0f}s, {injector.kills} kills, "
          f"{injector.broker_restarts} broker restarts "
          f"({getattr(broker, 'kind', 'stop and start')}: {injector.faults - injector.kills} "
          "faults), "
          f"killed {['-'.join(v) for v in injector.victims]}, "
          f"{injector.restarted - injector.kills} started again after ending on their own"
          f"{'' if broker else ' (external cluster: not stopped)'}, "
          f"{acknowledged} acknowledged ({run.acknowledged.retries} retries), "
          f"{len(run.savings_sent)} of them savings commands, lost {lost}, duplicated {duplicated}, "
          f"off the chain {sum(len(log.off_chain) for log in logs.values())}, "
          f"gaps {host.gaps + home.gaps}, projection mismatches {mismatched}, "
          f"wrong outcomes {wrong_outcome}, money violations {money}, flows {flows}; "
          f"{world.gateway_kills} gateway kills, {world.mid_checkpoint} in the middle of a "
          f"checkpoint, {world.disks_lost} with the data directory lost, "
          f"{world.mid_catch_up} more in the middle of a bulk catch-up; "
          + (f"{copied_again} records MirrorMaker copied more than once; "
             if copied_again is not None else "")
          + f"checkpoints that do "
          f"not check out {bad_checkpoints}; {world.service_kills} service kills, "
          f"{world.mid_snapshot} in the middle of writing a snapshot, {world.mid_takeover} in "
          f"the middle of a takeover from snapshots")
    assert settled(host, home), "a remittance or transfer home never finished"
    assert not run.insured or insurance_settled(host, policies, claims=1), \
        "a premium or a benefit never finished"
    assert not run.insured or any(isinstance(e, s.PremiumDelivered) for _, e in host.events()), \
        "no premium was paid: the insurance checks checked nothing"
    assert not run.placing or placement_settled(placement), \
        "a placement's wage never reached her, or it never ended"
    assert (lost, duplicated, violations, money) == (0, 0, 0, 0), flows


async def test_acknowledged_money_survives_kills_and_broker_restarts(federation,
                                                                      embedded_broker):
    for seed in range(runs(at_most=12)):  # make chaos: 12 here, 10 on the production shape
        await one_run(federation, embedded_broker, seed + 1)
