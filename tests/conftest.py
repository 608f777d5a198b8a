"""Shared fixtures: the Kafka broker for integration tests, and fresh node ids.

The broker starts lazily, only when a test asks for ``kafka_bootstrap`` (so unit tests never
start Java), once per session, on free ports with a temporary data directory. The jars are
cached in ``$COOPBRIDGE_HOME`` (default: the repository's ``.coopbridge``) across runs. With
``KAFKA_BOOTSTRAP_SERVERS`` set, that cluster is used and nothing is started.
"""

from __future__ import annotations

import base64
import concurrent.futures
import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from deploy import broker

REPO = Path(__file__).resolve().parents[1]

# Short group joins in tests (faust and aiokafka consumers), never by skipping real behaviour.
os.environ.setdefault("COOPBRIDGE_SESSION_TIMEOUT_S", "6")
# One node key for the session, inherited by the service processes the tests start.
os.environ.setdefault("COOPBRIDGE_NODE_KEY", base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())


#: The test files handed out first (``make test`` runs pytest-xdist with ``--dist loadfile
#: --no-loadscope-reorder``): pytest-xdist's own order is by the number of tests in a file,
#: which put the production shape (6 minutes, two tests) after hundreds of unit tests, to run
#: alone at the end. Only it goes first: two long runs side by side (six brokers each) slow
#: each other more than they gain (``--durations``, 2026-12-07). The rest keep their order.
LONGEST_FIRST = ("tests/chaos/test_production_shape.py",)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The files of ``LONGEST_FIRST`` first, the rest in their order."""
    rank = {path: i for i, path in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::", 1)[0], len(rank)))


def jar_home() -> Path:
    """Where the tests' Kafka jars are cached (shared by every broker, cluster and
    MirrorMaker the tests start)."""
    return broker.home() if os.environ.get("COOPBRIDGE_HOME") else REPO / ".coopbridge"


@pytest.fixture(scope="session")
def kafka_lib() -> Path:
    """The folder with the Kafka jars (fetched with Maven on first use, then cached)."""
    return broker.jars(jar_home())


@pytest.fixture(scope="session")
def embedded_broker(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[broker.EmbeddedBroker | None]:
    """The broker this session started, or None when KAFKA_BOOTSTRAP_SERVERS names a cluster."""
    if broker.external_bootstrap():
        yield None
        return
    embedded = broker.on_free_ports(tmp_path_factory.mktemp("kafka") / "broker", jar_home())
    embedded.start()
    try:
        yield embedded
    finally:
        embedded.stop()


@pytest.fixture(scope="module")
def replicated_cluster(tmp_path_factory: pytest.TempPathFactory):
    """Start a replicated cluster of the tests' own (``with replicated_cluster("x", 3) as
    cluster``; several side by side with ``replicated_cluster.together({"a": 1, "b": 1})``),
    on free ports, stopped at the end of the block; even with KAFKA_BOOTSTRAP_SERVERS set,
    as the tests that use one put it through faults."""

    @contextlib.contextmanager
    def started(name: str, brokers: int = 3) -> Iterator[broker.EmbeddedCluster]:
        with together({name: brokers}) as clusters:
            yield clusters[name]

    @contextlib.contextmanager
    def together(sizes: dict[str, int]) -> Iterator[dict[str, broker.EmbeddedCluster]]:
        """Several clusters (name -> brokers), started side by side."""
        ports = iter(broker.free_ports(2 * sum(sizes.values())))  # all at once: none twice
        clusters = {name: broker.cluster_on_free_ports(
            name, tmp_path_factory.mktemp(f"cluster-{name}"), jar_home(), brokers,
            os.environ.get("COOPBRIDGE_KAFKA_HEAP") or "384m",
            [next(ports) for _ in range(2 * brokers)])
            for name, brokers in sizes.items()}
        try:
            with concurrent.futures.ThreadPoolExecutor(len(clusters)) as pool:
                for started_one in [pool.submit(c.start) for c in clusters.values()]:
                    started_one.result()
            yield clusters
        finally:  # side by side, as they started
            with concurrent.futures.ThreadPoolExecutor(len(clusters)) as pool:
                for stopped in [pool.submit(c.stop) for c in clusters.values()]:
                    stopped.result()

    started.together = together
    return started


@pytest.fixture(scope="session")
def kafka_bootstrap(embedded_broker: broker.EmbeddedBroker | None) -> str:
    """bootstrap.servers of the Kafka cluster for this test session."""
    if embedded_broker is None:
        external = broker.external_bootstrap()
        assert external is not None
        return external
    return embedded_broker.config.bootstrap


@pytest.fixture
def node_id() -> str:
    """A fresh node id (``t`` + 8 lowercase hex digits): topics and groups no other test uses."""
    return "t" + secrets.token_hex(4)
