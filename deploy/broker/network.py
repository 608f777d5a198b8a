"""The network as the broker and ``coopbridge up`` see it: what a Kafka cluster says about
itself (and whether it answers at all), free TCP ports on 127.0.0.1, whether a port is taken,
and how many connections are open to one."""

from __future__ import annotations

import contextlib
import logging
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deploy.broker.errors import BrokerError


@dataclass(frozen=True)
class ClusterInfo:
    """What a metadata request says about a cluster."""

    bootstrap: str
    cluster_id: str | None
    brokers: int
    controller_id: int | None


def cluster_info(bootstrap: str, timeout: float = 5.0) -> ClusterInfo:
    """Ask ``bootstrap`` for its cluster metadata; :class:`BrokerError` if it does not answer."""
    try:
        with quiet_admin(bootstrap, timeout) as admin:
            meta = admin.describe_cluster()
    except Exception as exc:  # kafka-python raises many kinds; all mean "not reachable"
        raise BrokerError(
            f"Kafka at {bootstrap} did not answer a metadata request: {exc!r}"
        ) from exc
    return ClusterInfo(
        bootstrap=bootstrap,
        cluster_id=meta.get("cluster_id"),
        brokers=len(meta.get("brokers") or ()),
        controller_id=meta.get("controller_id"),
    )


@contextlib.contextmanager
def quiet_admin(bootstrap: str, timeout: float = 5.0) -> Iterator[Any]:
    """A kafka-python admin client of ``bootstrap`` that logs nothing, closed after use."""
    from kafka import KafkaAdminClient  # noqa: I001 (imported here: the CLI stays light)

    timeout_ms = max(int(timeout * 1000), 500)
    with _quiet("kafka"):
        admin = KafkaAdminClient(
            bootstrap_servers=bootstrap,
            client_id="coopbridge-probe",
            request_timeout_ms=timeout_ms,
            bootstrap_timeout_ms=timeout_ms,
            reconnect_backoff_max_ms=200,
        )
        try:
            yield admin
        finally:
            admin.close()


@contextlib.contextmanager
def _quiet(name: str) -> Iterator[None]:
    """Silence a library logger while probing (connection refused is expected then)."""
    logger = logging.getLogger(name)
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now (for tests)."""
    return free_ports(1)[0]


def free_ports(count: int) -> list[int]:
    """``count`` different TCP ports on 127.0.0.1, free right now (for tests): all are held
    at once while they are chosen, so the system cannot hand out one of them twice."""
    with contextlib.ExitStack() as held:
        sockets = [held.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
                   for _ in range(count)]
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in sockets]


def port_in_use(port: int) -> bool:
    """Whether something listens on 127.0.0.1:``port`` (the broker and ``coopbridge up``)."""
    # SO_REUSEADDR like the JVM's server sockets: TIME_WAIT leftovers do not count as "taken".
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def connections_to(port: int) -> int:
    """Established TCP connections to ``port`` on this machine (the broker's clients)."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()  # sl, local address:port (hex), remote, state (01: open)
            if len(fields) > 3 and fields[3] == "01" \
                    and int(fields[1].rsplit(":", 1)[1], 16) == port:
                count += 1
    return count
