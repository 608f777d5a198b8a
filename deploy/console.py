"""The CLI's terminal: its two consoles (stdout and stderr) and what several commands print,
the broker's status line, a path as the operator reads it, and the report of setting up the
nodes' topics (``coopbridge topics`` and ``up`` create them through ``deploy.topics``)."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape

from deploy import broker
from deploy.topics import TopicReport, ensure_node_topics

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def set_up_topics(nodes: tuple[str, ...], bootstraps: dict[str, str] | None = None,
                  replication: int | None = None) -> dict[str, TopicReport]:
    """Create the missing topics of each node (on its own cluster, ``bootstraps``; with
    ``replication`` replicas), and print what was done and any drift."""
    reports = {}
    for node in nodes:
        try:
            report = ensure_node_topics(node, (bootstraps or {}).get(node), replication)
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


def status_lines(status: broker.BrokerStatus | broker.ClusterStatus) -> list[str]:
    """A broker in one line; a cluster in a line, then one per broker."""
    if isinstance(status, broker.BrokerStatus):
        return [status_line(status)]
    state = ("[bold green]running[/]" if status.running == len(status.nodes) else
             "[bold yellow]stopped[/]" if not status.running else "[bold red]degraded[/]")
    return [f"cluster {status.name} {state} · {status.running}/{len(status.nodes)} brokers · "
            f"{status.bootstrap}", *(f"  {status_line(node)}" for node in status.nodes)]


def status_line(status: broker.BrokerStatus) -> str:
    """The broker in one line: running or stopped, its version, address, pid and data."""
    state = "[bold green]running[/]" if status.running else "[bold yellow]stopped[/]"
    parts = [f"broker {state}"]
    if status.kafka_version:
        parts.append(f"Kafka {escape(status.kafka_version)}")
    parts.append(status.bootstrap)
    if status.pid is not None:
        parts.append(f"pid {status.pid}")
    parts.append(f"data {escape(display_path(status.data_dir))}")
    return " · ".join(parts)


def display_path(path: Path) -> str:
    """``path`` relative to the working directory when it is below it."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
