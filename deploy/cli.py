"""The ``coopbridge`` command line: a thin layer over deploy.broker and deploy.topics.

Commands are grouped by what they act on (``coopbridge broker start``); add a new group or
command with ``@main.group()`` / ``@main.command()``.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import os
import urllib.request
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.markup import escape

from deploy import broker
from deploy.topics import TopicReport, ensure_node_topics
from gateway.auth import Role, issue_token
from services import config
from deploy.node import SERVICES
from services.runtime.keys import jwks, signing_key

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

F = TypeVar("F", bound=Callable[..., Any])


def fails_cleanly(func: F) -> F:
    """Turn a BrokerError or a bad setting into a one-line message and exit status 1."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (broker.BrokerError, config.ConfigError) as exc:
            lines = str(exc).splitlines() or [type(exc).__name__]
            err.print(f"[bold red]error:[/] {escape(lines[0])}")
            if len(lines) > 1 and os.environ.get("COOPBRIDGE_VERBOSE"):
                err.print(escape("\n".join(lines[1:])))
            elif len(lines) > 1:
                err.print("[dim](set COOPBRIDGE_VERBOSE=1 for the broker's log tail)[/]")
            raise SystemExit(1) from None

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """coopbridge: run and operate the platform."""


@main.group("broker")
def broker_group() -> None:
    """The embedded Apache Kafka broker (or the external cluster in KAFKA_BOOTSTRAP_SERVERS)."""


@broker_group.command("fetch")
@fails_cleanly
def broker_fetch() -> None:
    """Fetch the Kafka jars with Maven (cached; fetched again only when the POM changes)."""
    lib = broker.jars(broker.home())
    count = sum(1 for _ in lib.glob("*.jar"))
    out.print(f"Kafka jars ready · {count} jars · {escape(_display_path(lib))}")


@broker_group.command("start")
@click.option("--timeout", default=90.0, show_default=True, help="Seconds to wait until ready.")
@fails_cleanly
def broker_start(timeout: float) -> None:
    """Start the embedded broker and wait until it answers requests."""
    if _external_notice():
        return
    status = broker.default_broker().start(wait_timeout=timeout)
    out.print(_status_line(status))


@broker_group.command("stop")
@click.option("--timeout", default=30.0, show_default=True, help="Seconds before SIGKILL.")
@fails_cleanly
def broker_stop(timeout: float) -> None:
    """Stop the embedded broker (controlled shutdown; a no-op if it is not running)."""
    if _external_notice():
        return
    embedded = broker.default_broker()
    embedded.stop(timeout=timeout)
    out.print(_status_line(embedded.status()))


@broker_group.command("status")
@fails_cleanly
def broker_status() -> None:
    """Show whether the broker runs (for an external cluster: whether it answers)."""
    external = broker.external_bootstrap()
    if external:
        info = broker.cluster_info(external)
        out.print(
            f"external cluster [bold green]reachable[/] · {escape(external)} · "
            f"{info.brokers} broker(s) · cluster {escape(info.cluster_id or '?')}"
        )
        return
    out.print(_status_line(broker.default_broker().status()))


@main.command("topics")
@click.option("--node", "nodes", multiple=True, help="Node id (repeatable); default $COOPBRIDGE_NODE.")
@fails_cleanly
def topics(nodes: tuple[str, ...]) -> None:
    """Create the missing topics of a node and report drift (exit status 2 on drift)."""
    reports = _ensure_topics(nodes or (config.node_id(),))
    if any(not r.ok for r in reports.values()):
        raise SystemExit(2)


@main.command("service")
@click.argument("name", type=click.Choice(sorted(SERVICES)))
@click.option("--node", default=None, help="Node id; default $COOPBRIDGE_NODE.")
def service(name: str, node: str | None) -> None:
    """Run one service of a node in the foreground (SIGTERM/Ctrl-C stop it cleanly)."""
    from services.runtime.host import run_service

    run_service(SERVICES[name][0], node)


#: How long a stopping gateway lets requests in flight finish before it drops them (seconds):
#: a mutation waits for its reply up to 30 s, far too long for a Ctrl-C.
GATEWAY_GRACE_S = 3.0


@main.command("gateway")
@click.option("--node", default=None, help="Node id; default $COOPBRIDGE_NODE.")
@click.option("--port", default=None, type=int, help="HTTP port; default $COOPBRIDGE_GATEWAY_PORT.")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (0.0.0.0 in a container).")
@click.option("--ssl-certfile", type=click.Path(dir_okay=False), default=None,
              help="Serve HTTPS only, with this certificate (PEM, its chain after it); "
                   "needs --ssl-keyfile.")
@click.option("--ssl-keyfile", type=click.Path(dir_okay=False), default=None,
              help="The certificate's private key (PEM).")
def gateway(node: str | None, port: int | None, host: str, ssl_certfile: str | None,
            ssl_keyfile: str | None) -> None:
    """Serve the GraphQL gateway of a node (uvicorn), over HTTPS with --ssl-certfile and
    --ssl-keyfile (what its peers fetch status lists over)."""
    if (ssl_certfile is None) != (ssl_keyfile is None):
        raise click.UsageError("--ssl-certfile and --ssl-keyfile go together")
    import uvicorn

    from gateway.app import create_app

    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("aiokafka").setLevel(logging.WARNING)
    if port is not None:  # where it listens is its default public address (status lists, kids)
        os.environ["COOPBRIDGE_GATEWAY_PORT"] = str(port)
    if ssl_certfile is not None:  # ... over https, unless COOPBRIDGE_PUBLIC_URL says otherwise
        os.environ.setdefault("COOPBRIDGE_PUBLIC_URL",
                              f"https://127.0.0.1:{port or config.gateway_port()}")
    uvicorn.run(create_app(node), host=host, port=port or config.gateway_port(),
                ssl_certfile=ssl_certfile, ssl_keyfile=ssl_keyfile,
                log_level="info", lifespan="on", timeout_graceful_shutdown=GATEWAY_GRACE_S)


@main.command("schema")
def schema() -> None:
    """Print the GraphQL schema (SDL) a gateway serves: every type, field, argument and enum
    value with its description (the same text as the committed schema.graphql)."""
    from gateway.schema import build_schema, schema_text  # noqa: PLC0415 (heavy; only here)

    click.echo(schema_text(build_schema(development=False)), nl=False)


@main.command("token")
@click.option("--role", type=click.Choice([r.value for r in Role]), default="staff",
              show_default=True)
@click.option("--cooperative", default=None, help="The cooperative id (staff and admin).")
@click.option("--subject", default="coopbridge-cli", show_default=True,
              help="Who the token stands for (an opaque id, never a name).")
@click.option("--hours", default=12, show_default=True, help="Validity in hours.")
@click.option("--node", default=None, help="Node id; default $COOPBRIDGE_NODE.")
def token(role: str, cooperative: str | None, subject: str, hours: int,
          node: str | None) -> None:
    """Print a bearer token signed with the node's key."""
    try:
        out.print(issue_token(node or config.node_id(), Role(role), cooperative, subject,
                              dt.timedelta(hours=hours)), soft_wrap=True)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@main.command("status")
@click.option("--node", "nodes", multiple=True,
              help="Node id (repeatable); default: the nodes `up` runs, else $COOPBRIDGE_NODE.")
@fails_cleanly
def status(nodes: tuple[str, ...]) -> None:
    """The broker, each process `up` runs, each gateway's health, and consumer lag."""
    from rich.table import Table  # noqa: PLC0415

    from deploy.operate import consumer_lag  # noqa: PLC0415

    external = broker.external_bootstrap()
    out.print(f"external cluster · {escape(external)}" if external
              else _status_line(broker.default_broker().status()))
    state = _UpState.read()
    if state is None:
        out.print("[yellow]no `coopbridge up` is running[/] (from this $COOPBRIDGE_HOME)")
    else:
        table = Table("node", "process", "pid", "state", "restarts", "log", title="processes")
        for p in state["processes"]:
            alive = _alive(p["pid"])
            table.add_row(p["node"], p["name"], str(p["pid"]),
                          "[green]running[/]" if alive else "[red]exited[/]",
                          str(p["restarts"]), escape(_display_path(Path(p["log"]))))
        out.print(table)
        for node, port in state["gateways"].items():
            healthy = wait_until_healthy(int(port), timeout=1.5)
            out.print(f"gateway {node} · http://127.0.0.1:{port} · "
                      + ("[green]ready[/]" if healthy else "[red]not ready[/]"))
    nodes = nodes or tuple(state["gateways"]) if state else nodes or (config.node_id(),)
    try:
        lags = consumer_lag(list(nodes))
    except Exception as exc:  # the cluster does not answer: say so in one line
        raise broker.BrokerError(f"could not read consumer lag: {exc}") from exc
    table = Table("node", "consumer", "group", "partitions", "lag", title="consumer lag")
    for lag in lags:
        table.add_row(lag.node, lag.consumer, lag.group, str(lag.partitions),
                      "—" if lag.lag is None else str(lag.lag))
    out.print(table)


@main.command("replay")
@click.option("--node", default=None, help="Node id; default $COOPBRIDGE_NODE.")
@click.option("--replica", default="1", show_default=True, help="The gateway replica.")
@fails_cleanly
def replay_command(node: str | None, replica: str) -> None:
    """Rebuild a node's gateway projections from the log (stop that gateway first)."""
    from rich.progress import Progress  # noqa: PLC0415

    from deploy.operate import replay  # noqa: PLC0415

    node = node or config.node_id()
    state = _UpState.read()
    if state and node in state["gateways"]:
        raise click.ClickException(f"`coopbridge up` runs the gateway of node {node}: stop "
                                   "it first (a gateway rebuilds by itself from an empty "
                                   "store, too)")
    started = time.monotonic()
    with Progress(console=out) as bar:
        task = bar.add_task(f"replaying node {node}", total=None)
        applied = replay(node, replica=replica,
                         progress=lambda done, total: bar.update(task, completed=done,
                                                                 total=total or None))
    out.print(f"node [bold]{node}[/] projections rebuilt · {applied} events · "
              f"{time.monotonic() - started:.1f} s")


@main.command("export")
@click.option("--node", default=None, help="Node id; default $COOPBRIDGE_NODE.")
@click.option("--url", default=None, help="The node's gateway; default http://127.0.0.1:<port>.")
@click.option("--member", required=True, help="The member's id.")
@click.option("--to-cooperative", default=None, help="The recipient cooperative's id.")
@click.option("--to-node", default=None, help="The recipient node's id.")
@click.option("--scope", "scopes", multiple=True,
              type=click.Choice(["identity", "membership", "savings", "training"]),
              help="Repeatable; default: what her consent to the recipient grants.")
@click.option("--out", "out_path", required=True, type=click.Path(path_type=Path),
              help="The record file (vc+jwt); the JWKS and status list go beside it.")
@fails_cleanly
def export_command(node, url, member, to_cooperative, to_node, scopes, out_path) -> None:
    """Export a member's record (with her consent to the recipient) to a file."""
    from deploy.operate import ExportRefused, export_record  # noqa: PLC0415

    if bool(to_cooperative) == bool(to_node):
        raise click.UsageError("name one recipient: --to-cooperative or --to-node")
    node = node or config.node_id()
    url = (url or _gateway_url(node)).rstrip("/")
    recipient = {"cooperative": to_cooperative} if to_cooperative else {"node": to_node}
    try:
        files = export_record(node, url, member, recipient, out_path, list(scopes) or None)
    except ExportRefused as refused:
        err.print(f"[bold red]refused:[/] {escape(str(refused))}")
        raise SystemExit(1) from None
    for path in files:
        out.print(f"wrote {escape(_display_path(path))}")


@main.command("verify")
@click.argument("record", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--jwks", "jwks_source", default=None,
              help="The issuer's JWKS (file or URL); default: <record>.jwks.json.")
@click.option("--status-list", "status_lists", multiple=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A status list credential file (repeatable); default: <record>.status.jwt "
                   "if present. Without one, revocation is not checked.")
def verify_command(record: Path, jwks_source: str | None,
                   status_lists: tuple[Path, ...]) -> None:
    """Verify a record or certificate file offline. Exit 0: every check passed; 1: a check
    failed; 3: valid but its revocation could not be checked (no status list)."""
    from rich.table import Table  # noqa: PLC0415

    from deploy.operate import load_json_or_url, verify_file  # noqa: PLC0415

    jwks_source = jwks_source or str(record.with_name(record.name + ".jwks.json"))
    try:
        keys = load_json_or_url(jwks_source)
    except (OSError, ValueError) as exc:
        raise click.BadParameter(f"cannot read the JWKS: {exc}", param_hint="--jwks") from None
    default_list = record.with_name(record.name + ".status.jwt")
    paths = list(status_lists) or ([default_list] if default_list.exists() else [])
    result = verify_file(record, keys, [p.read_text() for p in paths])
    table = Table("check", "result", title=escape(record.name))
    for name, reason in result.checks.items():
        table.add_row(name, "[green]passed[/]" if reason is None else f"[red]{escape(reason)}[/]")
    out.print(table)
    if result.valid:
        out.print("[bold green]valid[/]")
        return
    unchecked = result.checks.get("revocation") == "the revocation status was not checked"
    others = all(r is None for n, r in result.checks.items() if n != "revocation")
    if unchecked and others:
        out.print("[yellow]valid, but its revocation was not checked (give --status-list)[/]")
        raise SystemExit(3)
    out.print("[bold red]not valid[/]")
    raise SystemExit(1)


@main.command("demo")
@click.option("--seed", default=7, show_default=True,
              help="Same seed, same federation: running it again changes nothing.")
@click.option("--members", default=3000, show_default=True, type=click.IntRange(0, 100_000),
              help="People in the synthetic federation (Rosa comes on top).")
@click.option("--node", "nodes", multiple=True,
              help="Node id (repeatable): the first hosts, the others are home countries; "
                   "default $COOPBRIDGE_NODE.")
@click.option("--url", "urls", multiple=True,
              help="A node's gateway (repeatable, in the nodes' order); default: the gateways "
                   "`coopbridge up` runs, from $COOPBRIDGE_GATEWAY_PORT on.")
@click.option("--concurrency", default=16, show_default=True, type=click.IntRange(1, 256),
              help="Requests in flight per gateway.")
@fails_cleanly
def demo(seed: int, members: int, nodes: tuple[str, ...], urls: tuple[str, ...],
         concurrency: int) -> None:
    """Seed a believable federation through the GraphQL API of running nodes: Rosa's story
    and a year of a synthetic federation's activity (exit status 1 if anything is rejected)."""
    from deploy.demo import DemoError, run_demo  # noqa: PLC0415 (httpx, the plan: only here)

    stop = threading.Event()  # Ctrl-C: stop sending and say what was left out
    before = signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        accepted = run_demo(list(nodes), seed, members, urls, concurrency, out, stop)
    except DemoError as exc:
        err.print(f"[bold red]error:[/] {escape(str(exc))}")
        raise SystemExit(1) from None
    finally:
        signal.signal(signal.SIGINT, before)
    if not accepted:
        raise SystemExit(1)


def _gateway_url(node: str) -> str:
    state = _UpState.read()
    port = state["gateways"].get(node) if state else None
    return f"http://127.0.0.1:{port or config.gateway_port()}"


@main.command("up")
@click.option("--node", "nodes", multiple=True, help="Node id (repeatable); default $COOPBRIDGE_NODE.")
@click.option("--demo", "with_demo", is_flag=True,
              help="Seed the demo federation through GraphQL once the nodes are ready.")
@click.option("--seed", default=7, show_default=True, help="The demo's seed.")
@click.option("--members", default=3000, show_default=True, help="The demo's members.")
@click.option("--development", is_flag=True,
              help="Gateways in development mode: GraphiQL and introspection (make run). "
                   "Without it they run as in production (unless COOPBRIDGE_ENV says so).")
@fails_cleanly
def up(nodes: tuple[str, ...], with_demo: bool, seed: int, members: int,
       development: bool) -> None:
    """Run nodes: the embedded broker (unless KAFKA_BOOTSTRAP_SERVERS is set), their topics and
    their services and gateways, each a supervised process with its log in
    $COOPBRIDGE_HOME/logs. Stays in the foreground; Ctrl-C (or SIGTERM) stops everything it
    started, and a child never outlives it.
    """
    nodes = nodes or (config.node_id(),)
    gateways = {node: config.gateway_port() + i for i, node in enumerate(nodes)}
    for node, port in gateways.items():
        _port_free(port, f"the gateway of node {node}")
    embedded = None if broker.external_bootstrap() else broker.default_broker()
    started_here = embedded is not None and not embedded.status().running
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    children: list[_Child] = []
    seeding: threading.Thread | None = None
    try:
        if embedded is not None:
            with out.status("starting the embedded Kafka broker…"):
                status = embedded.start(ends_with_caller=True)  # even if up is SIGKILLed
            out.print(_status_line(status))
        else:
            info = broker.cluster_info(config.bootstrap_servers())
            out.print(f"external cluster · {escape(info.bootstrap)} · {info.brokers} broker(s)")
        reports = _ensure_topics(nodes)
        drift = sum(len(r.drift) for r in reports.values())
        logs = config.home() / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        urls = _federate(gateways)
        children = [_Child(node, name, logs, url=urls[node])
                    for node in nodes for name in sorted(SERVICES)]
        children += [_Child(node, "gateway", logs, port, url=urls[node],
                            development=development)
                     for node, port in gateways.items()]
        state = _UpState(nodes, gateways, children)
        state.write()
        for node, port in gateways.items():
            _wait_for_gateway(port, children)
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
        out.print(
            f"[bold green]coopbridge up[/] · nodes {', '.join(nodes)} · "
            f"services {', '.join(sorted(SERVICES))} + gateway · "
            f"bootstrap {escape(config.bootstrap_servers())} · "
            f"logs {escape(_display_path(logs))}"
            + (f" · [bold red]{drift} drift[/]" if drift else "")
            + " · Ctrl-C stops"
        )
        if with_demo:
            seeding = _seed_in_background(list(nodes), seed, members, stop)
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
        _UpState.clear()
        if started_here:
            with out.status("stopping the broker…"):
                embedded.stop()
            out.print(_status_line(embedded.status()))


def _federate(gateways: dict[str, int]) -> dict[str, str]:
    """Each node's public URL, and (with several nodes, unless ``COOPBRIDGE_PEERS`` names a
    trust list) a trust list per node in ``$COOPBRIDGE_HOME/<node>.peers.json`` naming the
    others: their gateway and their public keys."""
    single = len(gateways) == 1 and os.environ.get("COOPBRIDGE_PUBLIC_URL")
    urls = {node: single or f"http://127.0.0.1:{port}" for node, port in gateways.items()}
    shared = [v for v in ("COOPBRIDGE_SIGNING_KEY", "COOPBRIDGE_NODE_KEY") if os.environ.get(v)]
    if len(gateways) > 1 and shared:
        raise click.ClickException(
            f"{' and '.join(shared)} would give every node the same key; unset it to run "
            "several nodes here (each gets its own development keys), or run one node per "
            "process with its own keys")
    if os.environ.get("COOPBRIDGE_PEERS"):
        return urls
    generated = "coopbridge up"
    for node in gateways:  # a trust list an earlier `up` wrote for other nodes goes
        path = config.home() / f"{node}.peers.json"
        if len(gateways) == 1 and path.exists() and generated in path.read_text():
            path.unlink()
    if len(gateways) > 1:
        known = {node: config.Peer(node, urls[node], jwks(signing_key(node).public_key(),
                                                           base_url=urls[node]))
                 for node in gateways}
        for node in gateways:
            config.write_peers(config.home() / f"{node}.peers.json",
                               [peer for other, peer in known.items() if other != node],
                               written_by=generated)
    return urls


class _Child:
    """One service process of ``up``: restarted (with a pause) if it dies on its own."""

    def __init__(self, node: str, name: str, logs: Path, port: int | None = None,
                 url: str | None = None, development: bool = False):
        self.node, self.name, self.port, self.url = node, name, port, url
        self.development = development
        self.log_path = logs / f"{node}-{name}.log"
        self.restarts = 0
        self._start()

    def _start(self) -> None:
        env = dict(os.environ, COOPBRIDGE_NODE=self.node,
                   KAFKA_BOOTSTRAP_SERVERS=config.bootstrap_servers())
        if self.development:  # asked for (make run): GraphiQL and introspection
            env["COOPBRIDGE_ENV"] = "development"
        if self.url:
            env["COOPBRIDGE_PUBLIC_URL"] = self.url
        if self.name == "gateway":
            command = [sys.executable, "-m", "deploy.cli", "gateway", "--port", str(self.port)]
        else:
            command = [sys.executable, "-m", SERVICES[self.name][1]]
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                command, env=env, stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True,
                preexec_fn=_end_with_parent)
        self.started = time.monotonic()

    def restart_if_dead(self) -> bool:
        code = self.proc.poll()
        if code is None or time.monotonic() - self.started < 2 ** min(self.restarts, 5):
            return False
        self.restarts += 1
        err.print(f"[yellow]{self.node} {self.name} exited ({code}); restarting "
                  f"(see {escape(_display_path(self.log_path))})[/]")
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


def _end_with_parent() -> None:
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


class _UpState:
    """What ``up`` runs, in ``$COOPBRIDGE_HOME/up.json``, for ``coopbridge status``."""

    def __init__(self, nodes, gateways: dict[str, int], children: list[_Child]):
        self.nodes, self.gateways, self.children = nodes, gateways, children

    @staticmethod
    def path() -> Path:
        return config.home() / "up.json"

    def write(self) -> None:
        import json  # noqa: PLC0415

        self.path().write_text(json.dumps({
            "pid": os.getpid(), "bootstrap": config.bootstrap_servers(),
            "gateways": self.gateways,
            "processes": [{"node": c.node, "name": c.name, "pid": c.proc.pid,
                           "restarts": c.restarts, "log": str(c.log_path)}
                          for c in self.children]}, indent=2))

    @classmethod
    def clear(cls) -> None:
        cls.path().unlink(missing_ok=True)

    @classmethod
    def read(cls) -> dict | None:
        import json  # noqa: PLC0415

        try:
            state = json.loads(cls.path().read_text())
        except (OSError, ValueError):
            return None
        return state if _alive(state.get("pid")) else None


def _alive(pid) -> bool:
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


def _wait_for_gateway(port: int, children: list[_Child], timeout: float = 120) -> None:
    def look_after_children() -> None:
        for child in children:
            child.restart_if_dead()

    with out.status(f"waiting for the gateway on port {port}…"):
        if wait_until_healthy(port, timeout, look_after_children):
            return
    raise broker.BrokerError(f"the gateway on port {port} did not become ready in "
                             f"{timeout:.0f} s; see {config.home() / 'logs'}")


def _ensure_topics(nodes: tuple[str, ...]) -> dict[str, TopicReport]:
    reports = {}
    for node in nodes:
        try:
            report = ensure_node_topics(node)
        except ValueError as exc:  # an invalid node id
            raise click.BadParameter(str(exc), param_hint="--node") from None
        except Exception as exc:  # the cluster refused or did not answer
            raise broker.BrokerError(f"could not set up the topics of node {node}: {exc}") from exc
        reports[node] = report
        out.print(
            f"node [bold]{node}[/] topics · {len(report.created)} created · "
            f"{len(report.existing)} already there"
            + ("" if report.ok else f" · [bold red]{len(report.drift)} drift[/]")
        )
        for line in report.drift:
            err.print(f"  [red]drift[/] {escape(line)}")
    return reports


def _external_notice() -> bool:
    external = broker.external_bootstrap()
    if external:
        out.print(
            f"external cluster configured (KAFKA_BOOTSTRAP_SERVERS={escape(external)}): "
            "nothing to start or stop"
        )
    return bool(external)


def _status_line(status: broker.BrokerStatus) -> str:
    state = "[bold green]running[/]" if status.running else "[bold yellow]stopped[/]"
    parts = [f"broker {state}"]
    if status.kafka_version:
        parts.append(f"Kafka {escape(status.kafka_version)}")
    parts.append(status.bootstrap)
    if status.pid is not None:
        parts.append(f"pid {status.pid}")
    parts.append(f"data {escape(_display_path(status.data_dir))}")
    return " · ".join(parts)


def _display_path(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


if __name__ == "__main__":
    main()

