"""The production shape under faults (issue 22): the durability and money workload of
``test_durability_and_money`` on a node whose Kafka is a replicated cluster of three brokers
(every topic on three replicas, a write acknowledged by two, no out-of-sync replica
elected), while processes are killed as there and, each run, the cluster itself is hit
three ways in turn:

* ``kill -9`` of the broker leading partition 0 of the host's savings events, started again;
* a broker (the new leader) paused with SIGSTOP past its session timeout (20 s), resumed;
* a rolling restart of all three, the next broker only once every replica is in sync.

Then, as there: every acknowledged command's event is in the log exactly once with the
outcome its client got, every chain whole, the gateways' balances equal to a fresh fold, and
money conserved. The rows are ``durability, 3 brokers`` and ``money, 3 brokers``.
"""

from __future__ import annotations

import pytest
from kafka.admin import ConfigResource, ConfigResourceType

from deploy.broker.network import quiet_admin
from schemas.topics import events_topic
from tests.chaos.figures import runs
from tests.chaos.kill import ClusterFault
from tests.chaos.test_durability_and_money import one_run
from tests.e2e.test_federation_over_http import running_federation

pytestmark = pytest.mark.kafka

SECTIONS = ("durability, 3 brokers", "money, 3 brokers")


class EveryClusterFault(ClusterFault):
    """The three faults of a run, one after the other (each waits for the replicas to be
    back in sync before the next begins): a leader killed, a broker paused, a rolling
    restart."""

    def __init__(self, cluster, topic: str):
        super().__init__(cluster, "leader", topic)

    def start(self) -> None:
        super().start()  # the killed leader back, in sync
        for kind in ("pause", "rolling"):
            self.kind = kind
            super().stop()
            super().start()


@pytest.fixture(scope="module")
def three_brokers(replicated_cluster):
    with replicated_cluster("three", 3) as cluster:
        yield cluster


@pytest.fixture(scope="module")
def federation(three_brokers, tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("COOPBRIDGE_REPLICATION_FACTOR", "3")  # the production shape's topics
        patch.setenv("COOPBRIDGE_CHECKPOINT_EVERY", "2s")
        patch.setenv("COOPBRIDGE_CATCH_UP_BEYOND", "0")
        patch.setenv("COOPBRIDGE_CATCH_UP_BATCH", "50")
        patch.setenv("COOPBRIDGE_SNAPSHOT_EVERY", "3")
        with running_federation(three_brokers.bootstrap,
                                tmp_path_factory.mktemp("chaos-three-brokers")) as fed:
            yield fed


def test_the_topics_are_replicated_three_times_and_acknowledged_by_two(three_brokers,
                                                                       federation):
    topic = events_topic(federation.nodes["host"], "savings")
    partitions = three_brokers.partitions([topic])
    assert partitions and all(len(p["replicas"]) == 3 for p in partitions), partitions
    with quiet_admin(three_brokers.bootstrap) as admin:
        described = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)],
                                           config_filter="all")
    settings = described["topic"][topic]
    assert settings["min.insync.replicas"]["value"] == "2", settings["min.insync.replicas"]
    assert settings["unclean.leader.election.enable"]["value"] == "false"


async def test_acknowledged_money_survives_leader_kills_pauses_and_rolling_restarts(
        three_brokers, federation):
    topic = events_topic(federation.nodes["host"], "savings")
    for seed in range(runs(at_most=10)):
        await one_run(federation, EveryClusterFault(three_brokers, topic), seed + 1,
                      SECTIONS, broker_after=ClusterFault.AFTER_S)
