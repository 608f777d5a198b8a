"""The ``coopbridge`` command line: its click commands, each a thin layer over the module that
does the work (deploy.broker, deploy.topics, deploy.supervisor for ``up``, deploy.operate,
deploy.demo, the gateway and the services of deploy.node). It reads and writes no topic itself.

Commands are grouped by what they act on (``coopbridge broker start``); add a new group or
command with ``@main.group()`` / ``@main.command()``.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.markup import escape

from deploy import broker, shape
from deploy.console import display_path, err, out, set_up_topics, status_line, status_lines
from deploy.node import SERVICES
from deploy.peers import SharedKeys, keys_apart
from deploy.supervisor import (
    GATEWAY_GRACE_S,
    MIRROR_MAKER,
    UpState,
    alive,
    run_up,
    wait_until_healthy,
)
from gateway.auth import SIGNED_BY_OPERATORS, Role, issue_token
from schemas.topics import check_node
from services import config

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
    """Fetch the Kafka jars with Maven, the broker's and MirrorMaker 2's (cached; fetched
    again only when a POM changes)."""
    for what, lib in (("Kafka", broker.jars(broker.home())),
                      ("MirrorMaker 2", broker.mirror_jars(broker.home()))):
        count = sum(1 for _ in lib.glob("*.jar"))
        out.print(f"{what} jars ready · {count} jars · {escape(display_path(lib))}")


@broker_group.command("start")
@click.option("--timeout", default=90.0, show_default=True, help="Seconds to wait until ready.")
@fails_cleanly
def broker_start(timeout: float) -> None:
    """Start the embedded broker and wait until it answers requests."""
    if _external_notice():
        return
    status = broker.default_broker().start(wait_timeout=timeout)
    out.print(status_line(status))


@broker_group.command("stop")
@click.option("--timeout", default=30.0, show_default=True, help="Seconds before SIGKILL.")
@fails_cleanly
def broker_stop(timeout: float) -> None:
    """Stop the embedded broker (controlled shutdown; a no-op if it is not running)."""
    if _external_notice():
        return
    embedded = broker.default_broker()
    embedded.stop(timeout=timeout)
    out.print(status_line(embedded.status()))


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
    out.print(status_line(broker.default_broker().status()))


@main.command("topics")
@click.option("--node", "nodes", multiple=True, help="Node id (repeatable); default $COOPBRIDGE_NODE.")
@fails_cleanly
def topics(nodes: tuple[str, ...]) -> None:
    """Create the missing topics of a node and report drift (exit status 2 on drift)."""
    reports = set_up_topics(nodes or (config.node_id(),))
    if any(not r.ok for r in reports.values()):
        raise SystemExit(2)


@main.command("service")
@click.argument("name", type=click.Choice(sorted(SERVICES)))
@click.option("--node", default=None, help="Node id; default $COOPBRIDGE_NODE.")
def service(name: str, node: str | None) -> None:
    """Run one service of a node in the foreground (SIGTERM/Ctrl-C stop it cleanly)."""
    from services.runtime.host import run_service

    run_service(SERVICES[name][0], node)


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
@click.option("--forwarded-allow-ips", default="127.0.0.1", show_default=True,
              help="The proxies whose X-Forwarded-For names the client (comma-separated "
                   "addresses, or *): behind a proxy, what limits each client's tries of an "
                   "activation code per address.")
def gateway(node: str | None, port: int | None, host: str, ssl_certfile: str | None,
            ssl_keyfile: str | None, forwarded_allow_ips: str) -> None:
    """Serve the GraphQL gateway of a node (uvicorn), over HTTPS with --ssl-certfile and
    --ssl-keyfile (what its peers fetch status lists over)."""
    if (ssl_certfile is None) != (ssl_keyfile is None):
        raise click.UsageError("--ssl-certfile and --ssl-keyfile go together")
    # tokens and records are signed, members' data opened: both keys, or no start
    config.refuse_to_start_without_keys(node, config.GATEWAY_KEYS)
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
                proxy_headers=True, forwarded_allow_ips=forwarded_allow_ips,
                log_level="info", lifespan="on", timeout_graceful_shutdown=GATEWAY_GRACE_S)


@main.group("keys")
def keys_group() -> None:
    """A node's secrets."""


@keys_group.command("new")
@click.option("--node", required=True, help="The node the keys are for.")
def keys_new(node: str) -> None:
    """Print a fresh pair of keys for NODE as environment lines (COOPBRIDGE_SIGNING_KEY,
    COOPBRIDGE_NODE_KEY) on stdout, for an operator to store; nothing is written. Each process
    is given only the keys it uses (docs/docker.md): the services the node key, the relay the
    signing key, the gateway both."""
    try:
        check_node(node)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--node") from None
    for variable, value in config.new_keys().items():
        click.echo(f"{variable}={value}")
    err.print(f"keys of node {node}: store each apart, never in git or Kafka; losing the node "
              "key loses its members' personal data, a new signing key must reach the peers' "
              "trust lists")


@main.command("schema")
def schema() -> None:
    """Print the GraphQL schema (SDL) a gateway serves: every type, field, argument and enum
    value with its description (the same text as the committed schema.graphql)."""
    from gateway.schema import build_schema, schema_text  # noqa: PLC0415 (heavy; only here)

    click.echo(schema_text(build_schema(development=False)), nl=False)


@main.command("token")
@click.option("--role", type=click.Choice([r.value for r in SIGNED_BY_OPERATORS]),
              default="staff", show_default=True,
              help="A member's token comes only from redeeming her activation code.")
@click.option("--cooperative", default=None, help="The cooperative id (staff and admin).")
@click.option("--subject", default="coopbridge-cli", show_default=True,
              help="Who the token stands for (an opaque id, never a name; an employer's: "
                   "their employer id).")
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
    state = UpState.read()
    kafka = [shape.from_description(entry) for entry in (state or {}).get("kafka", [])]
    if external:
        out.print(f"external cluster · {escape(external)}")
    for local in kafka or ([] if external else [broker.default_broker()]):
        for line in status_lines(local.status()):
            out.print(line)
    if state is None:
        out.print("[yellow]no `coopbridge up` is running[/] (from this $COOPBRIDGE_HOME)")
    else:
        table = Table("node", "process", "pid", "state", "restarts", "log", title="processes")
        for p in state["processes"]:
            running = alive(p["pid"])
            table.add_row(p["node"], p["name"], str(p["pid"]),
                          "[green]running[/]" if running else "[red]exited[/]",
                          str(p["restarts"]), escape(display_path(Path(p["log"]))))
        out.print(table)
        for node, port in state["gateways"].items():
            healthy = wait_until_healthy(int(port), timeout=1.5)
            out.print(f"gateway {node} · http://127.0.0.1:{port} · "
                      + ("[green]ready[/]" if healthy else "[red]not ready[/]"))
    nodes = nodes or tuple(state["gateways"]) if state else nodes or (config.node_id(),)
    bootstraps = (state or {}).get("bootstraps") or {}
    table = Table("node", "consumer", "group", "partitions", "lag", title="consumer lag")
    unreachable = []
    for node in nodes:
        try:
            lags = consumer_lag([node], bootstraps.get(node))
        except Exception as exc:  # noqa: BLE001 (its cluster does not answer: say so, go on)
            unreachable.append(node)
            table.add_row(node, "—", "—", "—", f"[red]unknown[/] ({escape(str(exc))[:80]})")
            continue
        for lag in lags:
            table.add_row(lag.node, lag.consumer, lag.group, str(lag.partitions),
                          "—" if lag.lag is None else str(lag.lag))
    out.print(table)
    mirrors = {p["node"]: alive(p["pid"]) for p in (state or {}).get("processes", [])
               if p["name"] == MIRROR_MAKER}
    if mirrors:
        _print_mirror_lag(mirrors, bootstraps)
    if unreachable:
        raise broker.BrokerError(f"could not read the consumer lag of {', '.join(unreachable)}: "
                                 "its Kafka does not answer")


def _print_mirror_lag(mirrors: dict[str, bool], bootstraps: dict[str, str]) -> None:
    """Per flow between two nodes' clusters, how many federation records MirrorMaker 2 has
    not yet committed as copied (as of its last commit, at most 5 s old)."""
    from rich.table import Table  # noqa: PLC0415

    from deploy.mirror import lag  # noqa: PLC0415

    table = Table("flow", "mirrormaker", "records behind", title="replication lag")
    for target, running in mirrors.items():
        for source in bootstraps:
            if source == target:
                continue
            try:
                behind = lag(source, bootstraps[source], target, bootstraps[target])
                shown = "— (not set up yet)" if behind is None else str(behind)
            except Exception as exc:  # noqa: BLE001 (a cluster that does not answer)
                shown = f"[red]unknown[/] ({escape(type(exc).__name__)})"
            table.add_row(f"{source} → {target}",
                          "[green]running[/]" if running else "[red]exited[/]", shown)
    out.print(table)


@main.command("replay")
@click.option("--node", default=None, help="Node id; default $COOPBRIDGE_NODE.")
@click.option("--replica", default="1", show_default=True, help="The gateway replica.")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Processes folding the partitions apart; default: one per core.")
@fails_cleanly
def replay_command(node: str | None, replica: str, workers: int | None) -> None:
    """Rebuild a node's gateway projections from the log (stop that gateway first)."""
    from rich.progress import Progress  # noqa: PLC0415

    from deploy.operate import ReplayRunning, replay  # noqa: PLC0415

    node = node or config.node_id()
    state = UpState.read()
    if state and node in state["gateways"]:
        raise click.ClickException(f"`coopbridge up` runs the gateway of node {node}: stop "
                                   "it first (a gateway rebuilds by itself from an empty "
                                   "store, too)")
    started = time.monotonic()
    with Progress(console=out) as bar:
        task = bar.add_task(f"replaying node {node}", total=None)
        try:
            applied = replay(node, replica=replica, workers=workers,
                             progress=lambda done, total: bar.update(task, completed=done,
                                                                     total=total or None))
        except ReplayRunning as exc:
            raise click.ClickException(str(exc)) from None
    out.print(f"node [bold]{node}[/] projections rebuilt · {applied} events · "
              f"{time.monotonic() - started:.1f} s")


@main.command("checkpoint")
@click.option("--node", default=None, help="Node id; default $COOPBRIDGE_NODE.")
@click.option("--replica", default="1", show_default=True, help="The gateway replica.")
@click.option("--url", default=None,
              help="The replica's gateway, asked to take it (default: the store here is "
                   "copied, or, held by its running gateway, that gateway is asked).")
@fails_cleanly
def checkpoint_command(node: str | None, replica: str, url: str | None) -> None:
    """Write a checkpoint of a gateway replica's store, which new replicas of the node start
    from (a running gateway takes it itself, without stopping; a stopped one's store is copied
    here)."""
    from deploy.operate import CheckpointRefused, checkpoint  # noqa: PLC0415

    node = node or config.node_id()
    started = time.monotonic()
    try:
        made = checkpoint(node, replica, url, running_at=_gateway_url(node))
    except CheckpointRefused as exc:
        raise click.ClickException(str(exc)) from None
    out.print(f"node [bold]{node}[/] checkpoint {escape(made['name'])} · "
              f"{made['records']} records of the log · {made['bytes'] / 1e6:.1f} MB · "
              f"{escape(display_path(Path(made['path'])))} · "
              f"{time.monotonic() - started:.1f} s")


@main.command("export")
@click.option("--node", default=None, help="Node id; default $COOPBRIDGE_NODE.")
@click.option("--url", default=None, help="The node's gateway; default http://127.0.0.1:<port>.")
@click.option("--member", required=True, help="The member's id.")
@click.option("--to-cooperative", default=None, help="The recipient cooperative's id.")
@click.option("--to-node", default=None, help="The recipient node's id.")
@click.option("--scope", "scopes", multiple=True,
              type=click.Choice(["identity", "membership", "savings", "training",
                                 "governance", "insurance", "work"]),
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
        out.print(f"wrote {escape(display_path(path))}")


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
    state = UpState.read()
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
@click.option("--brokers", type=click.IntRange(1, broker.MOST_BROKERS), default=1,
              show_default=True,
              help="Brokers of the local Kafka: 3 is the production shape (every topic on "
                   "3 replicas, a write acknowledged by 2).")
@click.option("--clusters", is_flag=True,
              help="A Kafka cluster of its own for each node (of --brokers brokers), with "
                   "MirrorMaker 2 carrying each node's federation topic to the others.")
@fails_cleanly
def up(nodes: tuple[str, ...], with_demo: bool, seed: int, members: int,
       development: bool, brokers: int, clusters: bool) -> None:
    """Run nodes: the embedded broker (unless KAFKA_BOOTSTRAP_SERVERS is set; a replicated
    cluster with --brokers, one per node with --clusters), their topics and their services
    and gateways, each a supervised process with its log in $COOPBRIDGE_HOME/logs. Stays in
    the foreground; Ctrl-C (or SIGTERM) stops everything it started, and a child never
    outlives it.
    """
    for node in nodes or (None,):  # its gateway uses both keys: refuse before all
        config.refuse_to_start_without_keys(node, config.GATEWAY_KEYS)
    if development and config.production():
        raise click.UsageError("--development (GraphiQL, introspection) is for a development "
                               "machine, not with COOPBRIDGE_ENV=production")
    try:
        keys_apart(len(nodes))  # before a broker starts: six, with --clusters --brokers 3
        run_up(nodes or (config.node_id(),), development, (seed, members) if with_demo else None,
               brokers, clusters)
    except SharedKeys as exc:
        raise click.ClickException(str(exc)) from None


def _external_notice() -> bool:
    external = broker.external_bootstrap()
    if external:
        out.print(
            f"external cluster configured (KAFKA_BOOTSTRAP_SERVERS={escape(external)}): "
            "nothing to start or stop"
        )
    return bool(external)


if __name__ == "__main__":
    main()

