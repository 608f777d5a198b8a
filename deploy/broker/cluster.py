"""A replicated embedded cluster: N combined KRaft broker+controller processes on 127.0.0.1,
one cluster id, each node an ``EmbeddedBroker`` in a folder of its own, all of them voters
of a static quorum. Start formats and starts every node before waiting for any (a node is
ready only once a majority of voters elected a controller), then waits until every broker
is registered; stop stops them all at once. For fault tests it kills (SIGKILL), pauses
(SIGSTOP) and resumes (SIGCONT) a node, restarts one (waiting until every replica is back in
sync), and says which node leads a partition. It reads and writes no topic.

Its data directory holds ``cluster.id`` (kept, so a node wiped for a test rejoins the same
cluster) and ``node-<id>/`` per node, laid out as an ``EmbeddedBroker``'s.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from deploy.broker import guard
from deploy.broker.embedded import BrokerStatus, EmbeddedBroker, new_cluster_id
from deploy.broker.errors import BrokerError
from deploy.broker.network import cluster_info, free_ports, quiet_admin
from deploy.broker.processes import locked
from deploy.broker.properties import BrokerConfig, heap
from services.config import controller_port, home, kafka_port

#: The most nodes a local cluster has (a cluster's ports are in a block of 2 per node).
MOST_BROKERS = 9


@dataclass(frozen=True)
class ClusterStatus:
    name: str
    bootstrap: str
    nodes: tuple[BrokerStatus, ...]

    @property
    def running(self) -> int:
        return sum(node.running for node in self.nodes)


class EmbeddedCluster:
    """The cluster of ``len(ports)`` nodes, node ``i + 1`` listening on ``ports[i]`` (client
    port, controller port), with its data under ``data_dir`` and its jars under ``home``."""

    def __init__(self, name: str, data_dir: Path, ports: list[tuple[int, int]],
                 heap_size: str = "512m", jar_home: Path | None = None) -> None:
        if not 1 <= len(ports) <= MOST_BROKERS:
            raise BrokerError(f"a local cluster has 1 to {MOST_BROKERS} brokers, not {len(ports)}")
        self.name = name
        self.data_dir = Path(data_dir).absolute()
        voters = tuple((i + 1, controller) for i, (_, controller) in enumerate(ports))
        self.nodes = [
            EmbeddedBroker(BrokerConfig(
                data_dir=self.data_dir / f"node-{i + 1}", port=port, controller_port=controller,
                heap=heap_size, node_id=i + 1, voters=voters),
                home=jar_home)
            for i, (port, controller) in enumerate(ports)]

    @property
    def bootstrap(self) -> str:
        return ",".join(node.config.bootstrap for node in self.nodes)

    @property
    def size(self) -> int:
        return len(self.nodes)

    def _identify(self) -> None:
        """Give every node the cluster's id (made once, kept in ``cluster.id``), which a node
        is formatted with."""
        path = self.data_dir / "cluster.id"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(new_cluster_id() + "\n")
        cluster_id = path.read_text().strip()
        for node in self.nodes:
            node.config = replace(node.config, cluster_id=cluster_id)

    def node(self, node_id: int) -> EmbeddedBroker:
        return self.nodes[node_id - 1]

    # lifecycle -------------------------------------------------------------
    def status(self) -> ClusterStatus:
        return ClusterStatus(self.name, self.bootstrap,
                             tuple(node.status() for node in self.nodes))

    def start(self, wait_timeout: float = 240, ends_with_caller: bool = False) -> ClusterStatus:
        """Start every node that is not running (all of them before waiting for any), then
        wait, within one ``wait_timeout``, until each answers and the cluster has every
        broker registered. A node this call started is stopped again if the cluster does
        not come up; ``ends_with_caller`` as for ``EmbeddedBroker.start``."""
        deadline = time.monotonic() + wait_timeout
        self._identify()
        with self._all_locked():
            started: list[tuple[EmbeddedBroker, int]] = []
            try:
                for node in self.nodes:
                    if node.running_pid() is None:
                        started.append((node, node._spawn(ends_with_caller)))
                    elif ends_with_caller:
                        guard.take_over(node)
                offsets = {id(node): offset for node, offset in started}
                for node in self.nodes:
                    node._wait_ready(deadline, offsets.get(id(node), 0))
                self._wait_registered(deadline)
            except BaseException:
                for node, _ in started:
                    node._stop_started()
                raise
        return self.status()

    def stop(self, timeout: float = 30) -> None:
        """Stop every node at once (controlled shutdown, SIGKILL after ``timeout``): one by
        one, the last nodes would lose their quorum and wait out the timeout."""
        errors: list[BaseException] = []

        def stop(node: EmbeddedBroker) -> None:
            try:
                node.stop(timeout)
            except BaseException as exc:  # noqa: BLE001 (reported below, after all stopped)
                errors.append(exc)

        threads = [threading.Thread(target=stop, args=(node,)) for node in self.nodes]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            raise errors[0]

    def restart(self, node_id: int, timeout: float = 180) -> None:
        """A rolling restart's step: stop node ``node_id`` cleanly, start it, and wait until
        every partition has all its replicas in sync again (only then may the next go)."""
        node = self.node(node_id)
        node.stop()
        self._identify()
        node.start(wait_timeout=timeout)
        self.wait_in_sync(timeout)

    # faults ------------------------------------------------------------------
    def kill(self, node_id: int) -> None:
        """``kill -9`` of a node (its whole process group), waiting until it is gone."""
        pid = self._pid(node_id)
        os.killpg(pid, signal.SIGKILL)
        node = self.node(node_id)
        if not node._wait_exit(pid, 10):
            raise BrokerError(f"node {node_id} (pid {pid}) did not die after SIGKILL")

    def pause(self, node_id: int) -> None:
        """SIGSTOP a node: it holds its connections but answers nothing (a frozen machine)."""
        os.killpg(self._pid(node_id), signal.SIGSTOP)

    def resume(self, node_id: int) -> None:
        os.killpg(self._pid(node_id), signal.SIGCONT)

    def _pid(self, node_id: int) -> int:
        pid = self.node(node_id).running_pid()
        if pid is None:
            raise BrokerError(f"node {node_id} of cluster {self.name} is not running")
        return pid

    # what the cluster says -----------------------------------------------------
    def partitions(self, topics: list[str] | None = None) -> list[dict]:
        """Every partition of ``topics`` (all topics if None), as the metadata says:
        ``{"topic", "partition", "leader", "replicas", "isr"}`` (node ids; leader -1: none)."""
        with quiet_admin(self.bootstrap) as admin:
            described = admin.describe_topics(topics)
        return [{"topic": t["name"], "partition": p["partition_index"], "leader": p["leader_id"],
                 "replicas": sorted(p["replica_nodes"]), "isr": sorted(p["isr_nodes"])}
                for t in described for p in t["partitions"]]

    def leader_of(self, topic: str, partition: int) -> int:
        for found in self.partitions([topic]):
            if found["partition"] == partition and found["leader"] > 0:
                return found["leader"]
        raise BrokerError(f"{topic}[{partition}] has no leader in cluster {self.name}")

    def wait_in_sync(self, timeout: float = 180) -> None:
        """Until every partition of every topic has a leader and all its replicas in sync."""
        deadline = time.monotonic() + timeout
        lagging: list[str] = ["(not asked yet)"]
        while time.monotonic() < deadline:
            try:
                lagging = [f"{p['topic']}[{p['partition']}]" for p in self.partitions()
                           if p["leader"] < 0 or p["isr"] != p["replicas"]]
            except Exception as exc:  # noqa: BLE001 (a node still starting: ask again)
                lagging = [repr(exc)]
            if not lagging:
                return
            time.sleep(0.5)
        raise BrokerError(f"cluster {self.name}: replicas not in sync after {timeout:.0f} s: "
                          + ", ".join(lagging[:10]))

    def _wait_registered(self, deadline: float) -> None:
        while True:
            try:
                seen = {cluster_info(node.config.bootstrap, timeout=2.0).brokers
                        for node in self.nodes}
            except BrokerError:
                seen = set()
            if seen == {self.size}:
                return
            if time.monotonic() >= deadline:
                raise BrokerError(f"cluster {self.name}: not all {self.size} brokers "
                                  f"registered in time (each node sees {sorted(seen)})")
            time.sleep(0.25)

    @contextlib.contextmanager
    def _all_locked(self) -> Iterator[None]:
        with contextlib.ExitStack() as stack:
            for node in self.nodes:
                node.data_dir.mkdir(parents=True, exist_ok=True)
                stack.enter_context(locked(node.data_dir / "broker.lock"))
            yield


def cluster_on_free_ports(name: str, data_dir: Path, jar_home: Path, brokers: int,
                          heap_size: str | None = None,
                          ports: list[int] | None = None) -> EmbeddedCluster:
    """A cluster (not started) on free ports: one that tests and benchmarks own. Clusters
    started side by side take their ``ports`` from one ``free_ports`` call: chosen apart,
    the second could be handed a port of the first, whose brokers have not bound it yet."""
    ports = ports or free_ports(2 * brokers)
    return EmbeddedCluster(name, data_dir, list(zip(ports[::2], ports[1::2], strict=True)),
                           heap_size or heap(), jar_home=jar_home)


#: Ports a local cluster's block spans (2 per node), so that several run side by side.
PORT_BLOCK = 2 * MOST_BROKERS + 2


def local_cluster(name: str, brokers: int, block: int = 0) -> EmbeddedCluster:
    """The cluster ``coopbridge up`` runs under ``$COOPBRIDGE_HOME/<name>-x<brokers>``:
    node ``i`` (from 0) on the client port ``COOPBRIDGE_KAFKA_PORT + block * PORT_BLOCK +
    2i`` and the controller port ``COOPBRIDGE_KAFKA_CONTROLLER_PORT`` shifted alike, so the
    first node of block 0 has the single broker's ports (9092, 9093) and the second cluster
    of ``up --clusters`` starts at 9112."""
    if not 1 <= brokers <= MOST_BROKERS:
        raise BrokerError(f"a local cluster has 1 to {MOST_BROKERS} brokers, not {brokers}")
    shift = block * PORT_BLOCK
    ports = [(kafka_port() + shift + 2 * i, controller_port() + shift + 2 * i)
             for i in range(brokers)]
    taken = {port for pair in ports for port in pair}
    if len(taken) != 2 * brokers or max(taken) > 65535:
        raise BrokerError(f"the ports of cluster {name} ({sorted(taken)}) overlap or run out: "
                          "choose COOPBRIDGE_KAFKA_PORT and COOPBRIDGE_KAFKA_CONTROLLER_PORT "
                          "further apart")
    return EmbeddedCluster(name, home() / f"{name}-x{brokers}", ports, heap())
