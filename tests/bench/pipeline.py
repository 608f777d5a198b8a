"""Pipeline: commands per second accepted *and visible in the gateway projection*.

One run, on a fresh node (its own topics), with everything as it runs in production:

* the three services as real processes (``python -m services.<name>``), ``n`` instances of
  each sharing their consumer groups; processes because that is how they are deployed, and
  because only processes spread over the cores (instances in one interpreter would share a
  GIL, and the scaling figure would mean nothing);
* the gateway's projections (``gateway.projections.Projections``) in a process of their own
  (``tests.bench.pipeline_views``), as the gateway is;
* the senders here: ``CLIENTS`` ``CommandClient``s, each with ``IN_FLIGHT`` concurrent
  sends (encode, produce, wait for the reply), as many gateway requests would.

The world is set up first and not timed: cooperatives, members (registered with sealed
details), memberships, one savings account each with an opening deposit, a course per
cooperative with every member enrolled. The timed workload is what a day of a cooperative
looks like, savings first: 75 % deposits, 10 % withdrawals, 7.5 % attendance records
(training), 7.5 % consents granted (membership), spread over every account, learner and
member. The clock runs from the first send to the moment the projection process has reached
every accepted command's event (the last sequence of every aggregate touched).

The baseline, on the same broker minutes apart: raw aiokafka, as many messages as commands,
each of the mean encoded command size, produced (the runtime's producer settings: acks=all,
idempotent, linger 2 ms) to a fresh topic with as many partitions as the commands topics and
consumed by a plain consumer, from the first send to the last record read (the median of
three such runs, each on a fresh topic: it takes a second or less, so one run is noisy).

Scaling repeats the pipeline on fresh nodes with 2 and 4 instances of each service (and
4 instances on twice the partitions), the 1-instance figure as baseline.

Every row notes the CPU µs per command each process took in the timed phase (from
``/proc``): on a machine this small, that is what the figure is made of.
``COOPBRIDGE_BENCH_CLIENTS`` and ``COOPBRIDGE_BENCH_IN_FLIGHT`` change the senders (default
4 x 64). ``COOPBRIDGE_BENCH_PROFILE=<dir>`` runs every service process and the projections under
cProfile (``<dir>/<node>-<name>.prof``) and profiles this process's timed phase (the
clients), to find where the time goes.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import cProfile
import datetime as dt
import json
import os
import random
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import msgspec
from aiokafka import TopicPartition
from aiokafka.partitioner import murmur2
from kafka.admin import KafkaAdminClient
from kafka.errors import KafkaError

from deploy.topics import ensure_topics
from schemas import membership as m
from schemas import savings as s
from schemas import training as t
from schemas.fields import Money
from schemas.registry import Contract
from schemas.topics import (
    SERVICE_PARTITIONS_ENV,
    SERVICES,
    TopicSpec,
    events_topic,
    node_topics,
    processor_group,
)
from services.runtime import kafka_clients
from services.runtime.client import CommandClient, Reply
from services.runtime.datakeys import DataKeys
from services.runtime.ids import new_id
from tests.bench.harness import Bench, Row

SECTION = "pipeline"
CLIENTS = int(os.environ.get("COOPBRIDGE_BENCH_CLIENTS", "4"))
IN_FLIGHT = int(os.environ.get("COOPBRIDGE_BENCH_IN_FLIGHT", "64"))  # sends per client
TIMEOUT_S = 300.0
PROFILE_ENV = "COOPBRIDGE_BENCH_PROFILE"
START = dt.date(2026, 1, 5)
DETAILS = m.PersonalDetails(
    given_names="Ana", family_names="Bench", date_of_birth=dt.date(1990, 1, 1),
    nationality="EC", gender=m.Gender.FEMALE, preferred_languages=["es-EC"])

#: ``(service, aggregate id, command)``
Job = tuple[str, str, Contract]


@dataclass
class Figure:
    """One pipeline run."""

    instances: int
    partitions: int
    sent: int
    accepted: int
    seconds: float
    mean_size: float
    rejected: dict[str, int] = field(default_factory=dict)
    replied: float = 0.0  # seconds until the last reply
    cpu_us: dict[str, float] = field(default_factory=dict)  # CPU µs per command, per process

    @property
    def rate(self) -> float:
        return self.accepted / self.seconds

    @property
    def cpu_text(self) -> str:
        return ", ".join(f"{name} {us:,.0f}" for name, us in self.cpu_us.items())


#: Commands/s accepted and visible against raw produce+consume (issue 21; 0.5x long-term).
TARGET = 0.25


async def run(bench: Bench) -> None:
    commands = bench.size(20_000, 600)
    members = bench.size(400, 40)
    one = await pipeline(bench, instances=1, commands=commands, members=members)
    raws = [await raw_kafka(bench, one.sent, round(one.mean_size), one.partitions)
            for _ in range(3)]  # a short figure: the median of three, on fresh topics
    raw, raw_cpu = sorted(raws)[1]
    ratio = one.rate / raw
    short = "" if ratio >= TARGET else (
        f"target missed: {TARGET / ratio:.1f}x too slow. A command is 3 Kafka writes (command, "
        "event, reply) and 6 or more reads (processor, lookups, client, projections), decoded "
        "and encoded in Python, plus a RocksDB write, where a raw message is 1 write and 1 "
        f"read of bytes: the raw run costs {raw_cpu:,.0f} µs CPU per message (broker and "
        "client) against the sum above; ")
    bench.add(Row(
        SECTION, "commands/s accepted and visible in the projection (1 instance each)",
        one.rate, "cmd/s", baseline=raw, baseline_name="raw aiokafka produce+consume msgs/s",
        target=TARGET, note=_note(one, f"{short}long-term goal 0.5x; raw: {one.sent:,} "
                                     f"msgs of {round(one.mean_size)} B")))
    for instances, partitions in bench_scaling(bench):
        more = await pipeline(bench, instances=instances, commands=commands, members=members,
                              partitions=partitions)
        bench.add(Row(
            SECTION, f"scaling: {instances} instances of each service, "
                     f"{partitions} partitions", more.rate, "cmd/s",
            baseline=one.rate, baseline_name="1 instance, 4 partitions (speed-up)",
            note=_note(more, f"this machine has {os.cpu_count()} cores: the services, the "
                             "broker, the projections and the clients share them")))


def bench_scaling(bench: Bench) -> list[tuple[int, int]]:
    """(instances, partitions) of the scaling runs after the 1-instance one (``--quick``:
    one run, through the code paths of both more instances and more partitions)."""
    return [(2, 8)] if bench.quick else [(2, 4), (4, 4), (4, 8)]


def _note(figure: Figure, more: str) -> str:
    rejected = ", ".join(f"{n} {code}" for code, n in sorted(figure.rejected.items()))
    return (f"{figure.accepted:,} of {figure.sent:,} commands accepted in {figure.seconds:.1f} s"
            f" ({CLIENTS} clients x {IN_FLIGHT} in flight; mean command "
            f"{figure.mean_size:.0f} B){'; rejected: ' + rejected if rejected else ''}; last"
            f" reply after {figure.replied:.1f} s; CPU µs per command: {figure.cpu_text}; {more}")


# -- one pipeline run -----------------------------------------------------------------------


async def pipeline(bench: Bench, *, instances: int, commands: int, members: int,
                   partitions: int = 4) -> Figure:
    node = "b" + secrets.token_hex(4)
    node_key = secrets.token_bytes(32)
    home = bench.work / SECTION
    home.mkdir(parents=True, exist_ok=True)
    report = await asyncio.to_thread(ensure_topics, node_topics(node, partitions),
                                     bench.bootstrap)
    if not report.ok:
        raise RuntimeError(f"topics of {node}: {report.drift}")
    env = dict(os.environ, COOPBRIDGE_NODE=node, KAFKA_BOOTSTRAP_SERVERS=bench.bootstrap,
               COOPBRIDGE_HOME=str(home), COOPBRIDGE_ENV="production",
               COOPBRIDGE_NODE_KEY=base64.urlsafe_b64encode(node_key).decode(),
               COOPBRIDGE_SIGNING_KEY=base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())
    env[SERVICE_PARTITIONS_ENV] = str(partitions)  # the projections' faust app declares too
    async with _views(node, env, home) as views, \
            _services(node, env, home, instances) as services, \
            DataKeys(node, bench.bootstrap, node_key=node_key) as keys, \
            contextlib.AsyncExitStack() as stack:
        clients = [await stack.enter_async_context(
            CommandClient(node, bench.bootstrap, source=f"bench-{i}")) for i in range(CLIENTS)]
        await _until_serving(node, bench.bootstrap, clients[0], instances, partitions)
        await views.started
        world = await _set_up(node, clients, keys, members)
        await views.visible(world.refs)
        jobs = world.day(commands, random.Random(7))
        profile = _profiler()
        pids = {**services, "projections": [views.proc.pid], "clients": [os.getpid()],
                "broker": _broker_pids(bench.work)}
        cpu_before = {name: sum(map(_cpu_s, ps)) for name, ps in pids.items()}
        started = time.monotonic()
        if profile:
            profile.enable()
        replies, sizes = await _drive(clients, jobs)
        if profile:
            profile.disable()
            profile.dump_stats(_profile_dir() / f"{node}-clients.prof")
        accepted = [(job, reply) for job, reply in zip(jobs, replies) if reply.accepted]
        replied_at = time.monotonic()
        visible_at = await views.visible(_last_refs(node, accepted))
        cpu = {name: sum(map(_cpu_s, ps)) - cpu_before[name] for name, ps in pids.items()}
    rejected: dict[str, int] = {}
    for reply in replies:
        if not reply.accepted:
            rejected[reply.code] = rejected.get(reply.code, 0) + 1
    figure = Figure(instances, partitions, len(jobs), len(accepted), visible_at - started,
                    sum(sizes) / len(sizes), rejected, replied_at - started,
                    {name: 1e6 * seconds / len(jobs) for name, seconds in cpu.items()})
    print(f"  {SECTION}: {instances} instance(s), {partitions} partitions: "
          f"{figure.rate:,.0f} cmd/s ({figure.accepted:,} in {figure.seconds:.2f} s, the last "
          f"reply after {figure.replied:.2f} s); CPU µs per command: {figure.cpu_text}")
    return figure


@dataclass
class World:
    """What the timed workload acts on."""

    node: str
    cooperatives: list[str]
    members: list[str]
    accounts: list[str]  # one per member, same index
    courses: list[str]  # one per cooperative; member i is enrolled in course i % len
    refs: list[tuple[str, str, int]]

    def day(self, n: int, rng: random.Random) -> list[Job]:
        """``n`` commands of a day: mostly deposits, every one of them acceptable."""
        jobs: list[Job] = []
        expires = dt.datetime.now(dt.UTC) + dt.timedelta(days=365)
        for _ in range(n):
            i = rng.randrange(len(self.members))
            draw = rng.random()
            if draw < 0.75:
                jobs.append(("savings", self.accounts[i], s.DepositFunds(
                    account_id=self.accounts[i], amount=Money(rng.randint(100, 50_000), "EUR"))))
            elif draw < 0.85:  # opening deposit 10,000 EUR: a day never empties an account
                jobs.append(("savings", self.accounts[i], s.WithdrawFunds(
                    account_id=self.accounts[i], amount=Money(rng.randint(1, 500), "EUR"))))
            elif draw < 0.925:
                course = self.courses[i % len(self.courses)]
                jobs.append(("training", course, t.RecordAttendance(
                    course_id=course, member_id=self.members[i], hours=1,
                    on=START + dt.timedelta(days=rng.randrange(60)))))
            else:
                jobs.append(("membership", self.members[i], m.GrantConsent(
                    member_id=self.members[i], consent_id=new_id(),
                    grantee_kind=m.GranteeKind.COOPERATIVE,
                    grantee=self.cooperatives[(i + 1) % len(self.cooperatives)],
                    scopes=[m.ConsentScope.SAVINGS], expires_at=expires)))
        return jobs


async def _set_up(node: str, clients: list[CommandClient], keys: DataKeys,
                  members: int) -> World:
    """Cooperatives, members, memberships, accounts with an opening deposit, courses."""
    cooperatives = [new_id() for _ in range(4)]
    people = [new_id() for _ in range(members)]
    accounts = [new_id() for _ in range(members)]
    courses = [new_id() for _ in cooperatives]
    plain = msgspec.json.encode(DETAILS)
    sealed = await asyncio.gather(*(keys.seal(member, plain) for member in people))
    phases: list[list[Job]] = [
        [("membership", c, m.RegisterCooperative(
            cooperative_id=c, name=f"Cooperativa {n}", country="ES",
            kind=m.CooperativeKind.SAVINGS_AND_CREDIT, languages=["es-ES"], node=node,
            currency="EUR", share_price=Money(5000, "EUR"))) for n, c in enumerate(cooperatives)]
        + [("membership", p, m.RegisterMember(member_id=p, personal=seal))
           for p, seal in zip(people, sealed)],
        [("membership", p, m.StartMembership(
            member_id=p, cooperative_id=cooperatives[i % len(cooperatives)],
            started_on=dt.date(2019, 5, 6), share_capital_required=Money(5000, "EUR")))
         for i, p in enumerate(people)],
        [("savings", a, s.OpenAccount(
            account_id=a, member_id=p, cooperative_id=cooperatives[i % len(cooperatives)],
            product=s.Product.SAVINGS, currency="EUR"))
         for i, (p, a) in enumerate(zip(people, accounts))]
        + [("training", course, t.OfferCourse(
            course_id=course, cooperative_id=c,
            titles=[t.Title(language="es-ES", title="Contabilidad para cooperativas")],
            kind=t.CourseKind.FINANCIAL_LITERACY, skills=[t.IscoOccupation(code="3313")],
            hours=5000, starts_on=START,
            ends_on=START + dt.timedelta(days=90), capacity=10_000))
           for c, course in zip(cooperatives, courses)],
        [("savings", a, s.DepositFunds(account_id=a, amount=Money(1_000_000, "EUR")))
         for a in accounts]
        + [("training", courses[i % len(courses)], t.EnrolLearner(
            course_id=courses[i % len(courses)], member_id=p)) for i, p in enumerate(people)],
    ]
    accepted: list[tuple[Job, Reply]] = []
    for jobs in phases:
        replies, _ = await _drive(clients, jobs)
        for job, reply in zip(jobs, replies):
            if not reply.accepted:
                raise RuntimeError(f"setting up: {type(job[2]).__name__} was rejected: "
                                   f"{reply.code} {reply.payload.error.message}")
            accepted.append((job, reply))
    return World(node, cooperatives, people, accounts, courses, _last_refs(node, accepted))


async def _drive(clients: list[CommandClient], jobs: list[Job]) -> tuple[list[Reply], list[int]]:
    """Send every job, ``IN_FLIGHT`` at a time per client; the replies in the jobs' order
    and the encoded size of every command."""
    replies: list[Reply | None] = [None] * len(jobs)
    sizes = [0] * len(jobs)
    queue = iter(enumerate(jobs))

    async def sender(client: CommandClient) -> None:
        for i, (service, aggregate_id, command) in queue:
            command_id = new_id()
            raw = client.encode(command, aggregate_id, command_id)
            sizes[i] = len(raw)
            replies[i] = await client.send_raw(service, aggregate_id, command_id, raw,
                                               timeout=TIMEOUT_S)

    await asyncio.gather(*(sender(client) for client in clients for _ in range(IN_FLIGHT)))
    return replies, sizes  # type: ignore[return-value]


def _last_refs(node: str, accepted: Iterable[tuple[Job, Reply]]) -> list[tuple[str, str, int]]:
    """The last sequence each aggregate reached: seeing it means seeing all before it."""
    last: dict[tuple[str, str], int] = {}
    for (service, aggregate_id, _), reply in accepted:
        key = (events_topic(node, service), aggregate_id)
        last[key] = max(last.get(key, 0), *(e.sequence for e in reply.payload.events))
    return [(topic, subject, sequence) for (topic, subject), sequence in last.items()]


# -- the processes --------------------------------------------------------------------------


def _command(module: str, name: str) -> list[str]:
    profile = _profile_dir()
    if profile is None:
        return [sys.executable, "-m", module]
    return [sys.executable, "-m", "cProfile", "-o", str(profile / f"{name}.prof"), "-m", module]


@contextlib.asynccontextmanager
async def _services(node: str, env: dict, home: Path,
                    instances: int) -> AsyncIterator[dict[str, list[int]]]:
    """``instances`` processes of each service; SIGTERM (finish the batch, commit) at the end."""
    procs: list[subprocess.Popen] = []
    try:
        for service in SERVICES:
            for i in range(instances):
                with open(home / f"{node}-{service}-{i}.log", "ab") as log:
                    procs.append(subprocess.Popen(
                        _command(f"services.{service}", f"{node}-{service}-{i}"), env=env,
                        stdout=log, stderr=subprocess.STDOUT))
        yield {service: [p.pid for p in procs if f"services.{service}" in p.args]
               for service in SERVICES}
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                await asyncio.to_thread(proc.wait, 60)
            except subprocess.TimeoutExpired:
                proc.kill()
                await asyncio.to_thread(proc.wait)


class _Views:
    """The projections process (``tests.bench.pipeline_views``), spoken to by JSON lines."""

    def __init__(self, proc: asyncio.subprocess.Process):
        self.proc = proc
        self.started = asyncio.ensure_future(self._read())

    async def visible(self, refs: list[tuple[str, str, int]]) -> float:
        """When (``time.monotonic()``) the projections reached every ref."""
        self.proc.stdin.write(json.dumps({"refs": refs}).encode() + b"\n")
        await self.proc.stdin.drain()
        answer = await asyncio.wait_for(self._read(), TIMEOUT_S)
        if not answer["ok"]:
            raise RuntimeError(f"the projections did not show every event: {answer}")
        return answer["visible_at"]

    async def _read(self) -> dict:
        line = await self.proc.stdout.readline()
        if not line:
            raise RuntimeError("the projections process stopped; see its log")
        return json.loads(line)


@contextlib.asynccontextmanager
async def _views(node: str, env: dict, home: Path) -> AsyncIterator[_Views]:
    with open(home / f"{node}-views.log", "ab") as log:
        proc = await asyncio.create_subprocess_exec(
            *_command("tests.bench.pipeline_views", f"{node}-views"), node,
            str(home / f"{node}-views"), env=env, stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=log)
    views = _Views(proc)
    try:
        yield views
    finally:
        views.started.cancel()
        if proc.stdin and not proc.stdin.is_closing():
            proc.stdin.close()  # EOF: it stops (and writes its profile)
        try:
            await asyncio.wait_for(proc.wait(), 60)
        except TimeoutError:
            proc.kill()
            await proc.wait()


async def _until_serving(node: str, bootstrap: str, client: CommandClient, instances: int,
                         partitions: int) -> None:
    """Every group stable with all its instances, and every partition of every service
    answering (its state rebuilt): nothing of the set-up is timed."""
    groups = [processor_group(node, service) for service in SERVICES]
    deadline = time.monotonic() + TIMEOUT_S
    while True:
        try:
            states = await asyncio.to_thread(_groups, bootstrap, groups)
        except KafkaError as error:  # no coordinator yet: the broker is making one
            states = {"?": (type(error).__name__, 0)}
        if all(state == ("Stable", instances) for state in states.values()):
            break
        if time.monotonic() > deadline:
            raise RuntimeError(f"the services did not form their groups: {states}")
        await asyncio.sleep(0.2)
    probes = []
    for p in range(partitions):
        member, account, course = (_key_on(p, partitions) for _ in range(3))
        probes += [
            client.send(m.RevokeConsent(member_id=member, consent_id=new_id()), member,
                        timeout=TIMEOUT_S),
            client.send(s.WithdrawFunds(account_id=account, amount=Money(1, "EUR")), account,
                        timeout=TIMEOUT_S),
            client.send(t.RecordAttendance(course_id=course, member_id=new_id(), hours=1,
                                           on=START), course,
                        timeout=TIMEOUT_S)]
    await asyncio.gather(*probes)  # rejections, all of them: unknown aggregates


def _groups(bootstrap: str, groups: list[str]) -> dict[str, tuple[str, int]]:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="coopbridge-bench")
    try:
        return {group: (found.get("group_state"), len(found.get("members") or ()))
                for group, found in admin.describe_groups(groups).items()}
    finally:
        admin.close()


def _key_on(partition: int, partitions: int) -> str:
    """An aggregate id whose key murmur2-partitions to ``partition``."""
    while True:
        key = new_id()
        if (murmur2(key.encode()) & 0x7FFFFFFF) % partitions == partition:
            return key


def _cpu_s(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far; 0 once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _broker_pids(work: Path) -> list[int]:
    """The embedded broker started under ``work`` (none if the broker is external)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes()
                if b"kafka.Kafka" in cmdline and str(work).encode() in cmdline:
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def _profile_dir() -> Path | None:
    value = os.environ.get(PROFILE_ENV)
    if not value:
        return None
    path = Path(value).absolute()
    path.mkdir(parents=True, exist_ok=True)
    return path


def _profiler() -> cProfile.Profile | None:
    return cProfile.Profile() if _profile_dir() else None


# -- the baseline ---------------------------------------------------------------------------


async def raw_kafka(bench: Bench, n: int, size: int, partitions: int) -> tuple[float, float]:
    """Messages/s of raw aiokafka: ``n`` messages of ``size`` bytes (uuid keys) produced to
    a fresh topic of ``partitions`` partitions and consumed, from the first send to the last
    record read; and the CPU µs per message it took (this process and the broker)."""
    bootstrap = bench.bootstrap
    pids = [os.getpid(), *_broker_pids(bench.work)]
    topic = f"bench-raw-{secrets.token_hex(4)}"
    await asyncio.to_thread(ensure_topics, [TopicSpec(topic, partitions)], bootstrap)
    producer = kafka_clients.producer(bootstrap)
    consumer = kafka_clients.reader(bootstrap)
    payloads = [(new_id().encode(), secrets.token_bytes(size)) for _ in range(n)]
    await producer.start()
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in range(partitions)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        for tp in tps:
            await consumer.position(tp)

        async def consume() -> None:
            seen = 0
            while seen < n:
                batches = await consumer.getmany(timeout_ms=500, max_records=5000)
                seen += sum(len(records) for records in batches.values())

        cpu_before = sum(map(_cpu_s, pids))
        started = time.monotonic()
        reading = asyncio.ensure_future(consume())
        sends = [await producer.send(topic, value=value, key=key) for key, value in payloads]
        await asyncio.gather(*sends)
        await asyncio.wait_for(reading, TIMEOUT_S)
        seconds = time.monotonic() - started
        cpu_us = 1e6 * (sum(map(_cpu_s, pids)) - cpu_before) / n
    finally:
        await consumer.stop()
        await producer.stop()
    rate = n / seconds
    print(f"  {SECTION}: raw aiokafka {rate:,.0f} msgs/s ({n:,} of {size} B in {seconds:.2f} s;"
          f" CPU µs per message: {cpu_us:,.0f})")
    return rate, cpu_us
