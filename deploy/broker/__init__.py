"""The embedded Apache Kafka broker, or the external cluster ``KAFKA_BOOTSTRAP_SERVERS``
names (then nothing is started). This package owns the broker's whole lifecycle; import it
as ``from deploy import broker``. Its parts:

* ``kafka_jars``: the Kafka jars, fetched with Maven into ``<home>/kafka-lib`` (MirrorMaker
  2's into ``<home>/kafka-mirror-lib``);
* ``properties``: what the broker is (ports, data directory, heap, ``server.properties``);
* ``embedded``: its process (start, wait until ready, status, stop) and its data directory;
* ``cluster``: a replicated cluster of N such brokers (all voters of one KRaft quorum), and
  the faults the chaos tests put it through (kill, pause, rolling restart);
* ``guard``: the process that stops a broker when the process it belongs to ends;
* ``network``, ``processes``: what the machine says (a cluster's metadata, free ports,
  live processes); ``errors``: ``BrokerError``.

It creates no topic (``deploy.topics`` does) and reads none.
"""

from __future__ import annotations

from deploy.broker.cluster import (
    MOST_BROKERS,
    ClusterStatus,
    EmbeddedCluster,
    cluster_on_free_ports,
    local_cluster,
)
from deploy.broker.embedded import BrokerStatus, EmbeddedBroker, default_broker, on_free_ports
from deploy.broker.errors import BrokerError
from deploy.broker.guard import CLIENTS_LEAVE_S
from deploy.broker.kafka_jars import jars, mirror_jars
from deploy.broker.network import ClusterInfo, cluster_info, free_port, free_ports, port_in_use
from deploy.broker.processes import process_alive
from deploy.broker.properties import BrokerConfig, heap
from services.config import controller_port, external_bootstrap, home, kafka_port

__all__ = [
    "MOST_BROKERS",
    "CLIENTS_LEAVE_S",
    "BrokerConfig",
    "BrokerError",
    "BrokerStatus",
    "ClusterInfo",
    "ClusterStatus",
    "EmbeddedCluster",
    "cluster_on_free_ports",
    "local_cluster",
    "EmbeddedBroker",
    "cluster_info",
    "controller_port",
    "default_broker",
    "external_bootstrap",
    "free_port",
    "free_ports",
    "on_free_ports",
    "heap",
    "home",
    "jars",
    "mirror_jars",
    "kafka_port",
    "port_in_use",
    "process_alive",
]
