"""``coopbridge up``: the process supervisor. It runs nodes in the foreground: the embedded
broker (unless ``KAFKA_BOOTSTRAP_SERVERS`` names a cluster; a broker it starts ends with it,
even when ``up`` is SIGKILLed: see deploy.broker.guard), the nodes' topics, and each service
and gateway of each node as a child process, restarted with a growing pause when it dies and
never outliving ``up`` (a parent-death signal). Ctrl-C or SIGTERM stops everything it started.
What it runs is in ``$COOPBRIDGE_HOME/up.json``, for ``coopbridge status``. It reads and
writes no topic itself (``deploy.topics`` creates the nodes' topics)."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from rich.markup import escape

from deploy import broker, shape
from deploy.console import display_path, err, out, set_up_topics, status_lines
from deploy.node import SERVICES
from deploy.peers import federate
from gateway.auth import Role, issue_token
from services import config
from services.runtime.host import keys_used

#: What ``up`` and ``status`` call a node's MirrorMaker 2 (the one writing into its cluster).
MIRROR_MAKER = "mirrormaker"

#: How long a stopping gateway lets requests in flight finish before it drops them (seconds):
#: a mutation waits for its reply up to 30 s, far too long for a Ctrl-C.
GATEWAY_GRACE_S = 3.0


def run_up(nodes: tuple[str, ...], development: bool, demo: tuple[int, int] | None,
           brokers: int = 1, clusters: bool = False) -> None:
    """Run ``nodes`` until Ctrl-C or SIGTERM, then stop everything started here. Their
    gateways are on consecutive ports from ``$COOPBRIDGE_GATEWAY_PORT``, in development mode
    if ``development``; ``demo`` (seed, members) seeds the demo once the nodes are ready.
    Kafka is shaped by ``brokers`` and ``clusters`` (``deploy.shape``)."""
    gateways = {node: config.gateway_port() + i for i, node in enumerate(nodes)}
    for node, port in gateways.items():
        _port_free(port, f"the gateway of node {node}")
    kafka = shape.plan(nodes, brokers, clusters)
    mirrors = shape.mirror_makers(kafka, config.home())
    if mirrors:  # before anything starts: a failed fetch leaves nothing to tear down
        with out.status("fetching MirrorMaker 2's jars (first time only)…"):
            broker.mirror_jars(config.home())
    started_here = [local for local in kafka.local.values() if not shape.running(local)]
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    children: list[Child] = []
    seeding: threading.Thread | None = None
    try:
        for name, local in kafka.local.items():
            what = ("the embedded Kafka broker" if isinstance(local, broker.EmbeddedBroker)
                    else f"Kafka cluster {name} ({local.size} brokers)")
            with out.status(f"starting {what}…"):
                status = local.start(ends_with_caller=True)  # even if up is SIGKILLed
            for line in status_lines(status):
                out.print(line)
        if not kafka.local:
            info = broker.cluster_info(config.bootstrap_servers())
            out.print(f"external cluster · {escape(info.bootstrap)} · {info.brokers} broker(s)")
        reports = set_up_topics(nodes, kafka.bootstraps, kafka.replication)
        drift = sum(len(r.drift) for r in reports.values())
        logs = config.home() / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        urls = federate(gateways)
        env = {node: {"KAFKA_BOOTSTRAP_SERVERS": kafka.bootstraps[node],
                      **shape.replication_env(kafka)} for node in nodes}
        children = [Child(node, name, logs, env[node], url=urls[node])
                    for node in nodes for name in sorted(SERVICES)]
        children += [Child(node, "gateway", logs, env[node], port, url=urls[node],
                           development=development)
                     for node, port in gateways.items()]
        children += [Child(mirror.target, MIRROR_MAKER, logs, {},
                           command=mirror.command(config.home()))
                     for mirror in mirrors]
        state = UpState(nodes, gateways, children, kafka)
        state.write()
        for node, port in gateways.items():
            _wait_for_gateway(port, children)
        _print_addresses(gateways, development)
        out.print(
            f"[bold green]coopbridge up[/] · nodes {', '.join(nodes)} · "
            f"services {', '.join(sorted(SERVICES))} + gateway"
            + (f" + {MIRROR_MAKER}" if mirrors else "") + " · "
            f"bootstrap {escape(' | '.join(sorted(set(kafka.bootstraps.values()))))} · "
            f"logs {escape(display_path(logs))}"
            + (f" · [bold red]{drift} drift[/]" if drift else "")
            + " · Ctrl-C stops"
        )
        if demo is not None:
            seeding = _seed_in_background(list(nodes), *demo, stop)
        while not stop.wait(1.0):
            if any([child.restart_if_dead() for child in children]):
                state.write()
    finally:
        stop.set()
        if children:
            out.print("stopping: services finish the batch in hand and commit; gateways drop "
                      f"requests still in flight after {GATEWAY_GRACE_S:.0f} s (a retry with "
                      "the same idempotency key gets the logged answer)"
                      + ("; the demo seeding stops at once" if seeding and seeding.is_alive()
                         else ""))
        if seeding is not None:
            seeding.join(timeout=10)  # drops its requests in flight, says what is left out
        for child in children:  # all at once (each finishes its batch), then wait
            if child.proc.poll() is None:
                child.proc.terminate()
        for child in children:
            child.terminate()
        UpState.clear()
        for local in started_here:
            with out.status("stopping the broker…" if isinstance(local, broker.EmbeddedBroker)
                            else f"stopping Kafka cluster {local.name}…"):
                local.stop()
            for line in status_lines(local.status()):
                out.print(line)


def _print_addresses(gateways: dict[str, int], development: bool) -> None:
    """Where each node's GraphQL, GraphiQL (in development) and dashboard are, with tokens."""
    for node, port in gateways.items():
        admin = issue_token(node, Role.NODE_ADMIN, subject="make-run")
        analyst = issue_token(node, Role.ANALYST, subject="make-run")
        out.print(f"node [bold]{node}[/] GraphQL · http://127.0.0.1:{port}/graphql")
        if development:
            out.print(f"  GraphiQL · http://127.0.0.1:{port}/graphql#token={admin}",
                      soft_wrap=True)
        out.print(f"  dashboard · http://127.0.0.1:{port}/dashboard#token={analyst}",
                  soft_wrap=True)
        out.print(f"  node admin token: {admin}", soft_wrap=True)


def keys_of(name: str, command: list[str] | None = None) -> tuple[str, ...]:
    """The keys a child of ``up`` uses: the gateway both, a service or the relay its own
    (``keys_used``), anything else (MirrorMaker 2) none."""
    if command is not None:
        return ()
    return config.GATEWAY_KEYS if name == "gateway" else keys_used(SERVICES[name][0])


def child_environment(node: str, keys: tuple[str, ...], extra: dict[str, str]) -> dict[str, str]:
    """A child's environment: ``up``'s, for node ``node``, with ``extra``, and of the node's
    keys only ``keys`` (the relay is never given the node key, even when ``up`` has it)."""
    env = {k: v for k, v in os.environ.items() if k not in config.GATEWAY_KEYS or k in keys}
    env.update(COOPBRIDGE_NODE=node, **extra)
    return env


#: The exit status of a process that will not run with its settings (``config``'s refusal).
REFUSED = 2


class Child:
    """One service process of ``up``: restarted (with a pause) if it dies on its own."""

    def __init__(self, node: str, name: str, logs: Path, env: dict[str, str],
                 port: int | None = None, url: str | None = None, development: bool = False,
                 command: list[str] | None = None):
        self.node, self.name, self.port, self.url = node, name, port, url
        self.env, self.development, self.command = env, development, command
        self.keys = keys_of(name, command)
        self.log_path = logs / f"{node}-{name}.log"
        self.restarts = 0
        self.refused = False
        self._start()

    def _start(self) -> None:
        env = child_environment(self.node, self.keys, self.env)
        if self.development:  # asked for (make run): GraphiQL and introspection
            env["COOPBRIDGE_ENV"] = "development"
        if self.url:
            env["COOPBRIDGE_PUBLIC_URL"] = self.url
        if self.command is not None:  # not a coopbridge process (MirrorMaker 2)
            command = self.command
        elif self.name == "gateway":
            command = [sys.executable, "-m", "deploy.cli", "gateway", "--port", str(self.port)]
        else:
            command = [sys.executable, "-m", SERVICES[self.name][1]]
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                command, env=env, stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True,
                preexec_fn=end_with_parent)
        self.started = time.monotonic()

    def restart_if_dead(self) -> bool:
        """Start the process again if it died, after a pause that grows with its restarts;
        not one that refused its settings (exit status 2: a missing or malformed key, an
        unknown ``COOPBRIDGE_ENV``, a command line it does not take), which would only refuse
        again."""
        code = self.proc.poll()
        if code is None or self.refused:
            return False
        if code == REFUSED:
            self.refused = True
            err.print(f"[red]{self.node} {self.name} refused to run with these settings "
                      f"(exit status 2); not restarted "
                      f"(see {escape(display_path(self.log_path))})[/]")
            return True
        if time.monotonic() - self.started < 2 ** min(self.restarts, 5):
            return False
        self.restarts += 1
        err.print(f"[yellow]{self.node} {self.name} exited ({code}); restarting "
                  f"(see {escape(display_path(self.log_path))})[/]")
        self._start()
        return True

    def terminate(self, timeout: float = 30) -> None:
        if self.proc.poll() is not None:
            return
        self.proc.terminate()  # the service finishes its batch and commits
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def _seed_in_background(nodes: list[str], seed: int, members: int,
                        stop: threading.Event) -> threading.Thread | None:
    """``up --demo``: seed the demo while the nodes run (the dashboard fills as it goes),
    once per home: a marker file remembers a finished seeding (a re-run would change
    nothing, but costs minutes). ``stop`` cuts it short (it says what it left out)."""
    marker = config.home() / f"demo-{seed}-{members}-{'-'.join(nodes)}.done"
    if marker.exists():
        out.print(f"demo data already seeded (seed {seed}, {members} members)")
        return None

    def seed_it() -> None:
        from deploy.demo import run_demo  # noqa: PLC0415 (only with --demo)

        try:
            if run_demo(nodes, seed=seed, members=members, console=out, stop=stop):
                marker.write_text(dt.datetime.now(dt.UTC).isoformat() + "\n")
        except Exception as exc:  # noqa: BLE001 (a stopped node: one line, not a trace)
            if not stop.is_set():
                err.print(f"[yellow]demo seeding stopped: {escape(str(exc))}[/]")

    thread = threading.Thread(target=seed_it, name="demo", daemon=True)
    thread.start()
    return thread


def end_with_parent() -> None:
    """In a child of ``up``: receive SIGTERM when ``up`` dies, however it dies (Linux's
    parent-death signal), so that not even a SIGKILLed ``up`` leaves its services behind."""
    try:
        import ctypes  # noqa: PLC0415

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _port_free(port: int, what: str) -> None:
    if broker.port_in_use(port):
        raise broker.BrokerError(
            f"port {port} on 127.0.0.1 ({what}) is already in use: stop what holds it, "
            f"or set COOPBRIDGE_GATEWAY_PORT to another first port")


class UpState:
    """What ``up`` runs, in ``$COOPBRIDGE_HOME/up.json``, for ``coopbridge status``."""

    def __init__(self, nodes, gateways: dict[str, int], children: list[Child],
                 kafka: shape.Shape):
        self.nodes, self.gateways, self.children = nodes, gateways, children
        self.kafka = kafka

    @staticmethod
    def path() -> Path:
        return config.home() / "up.json"

    def write(self) -> None:
        self.path().write_text(json.dumps({
            "pid": os.getpid(), "bootstraps": self.kafka.bootstraps,
            "kafka": shape.described(self.kafka), "gateways": self.gateways,
            "processes": [{"node": c.node, "name": c.name, "pid": c.proc.pid,
                           "restarts": c.restarts, "log": str(c.log_path)}
                          for c in self.children]}, indent=2))

    @classmethod
    def clear(cls) -> None:
        cls.path().unlink(missing_ok=True)

    @classmethod
    def read(cls) -> dict | None:
        """What the ``up`` running from this home runs (None: none runs)."""
        try:
            state = json.loads(cls.path().read_text())
        except (OSError, ValueError):
            return None
        return state if alive(state.get("pid")) else None


def alive(pid) -> bool:
    """Whether ``pid`` (from ``up.json``) names a running process."""
    return isinstance(pid, int) and broker.process_alive(pid)


def wait_until_healthy(port: int, timeout: float = 120, on_wait=None) -> bool:
    """Poll ``http://127.0.0.1:<port>/health`` until it answers 200 (the gateway's views
    caught up); ``on_wait()`` runs between tries. False if ``timeout`` passes first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
                if r.status == 200:
                    return True
        except OSError:
            pass
        if on_wait is not None:
            on_wait()
        time.sleep(0.5)
    return False


def _wait_for_gateway(port: int, children: list[Child], timeout: float = 120) -> None:
    def look_after_children() -> None:
        for child in children:
            child.restart_if_dead()

    with out.status(f"waiting for the gateway on port {port}…"):
        if wait_until_healthy(port, timeout, look_after_children):
            return
    raise broker.BrokerError(f"the gateway on port {port} did not become ready in "
                             f"{timeout:.0f} s; see {config.home() / 'logs'}")
