"""What a replicated local cluster is made of, before anything starts: each node's
``server.properties`` (one static quorum of every node, the production durability from three
brokers on), the ports of ``up``'s clusters, and the shape ``up --brokers/--clusters`` plans."""

from __future__ import annotations

from pathlib import Path

import pytest

from deploy import broker, mirror, shape
from deploy.broker.cluster import PORT_BLOCK
from deploy.broker.properties import server_properties
from deploy.supervisor import child_environment, keys_of
from services import config


def properties(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if not line.startswith("#"))


def test_every_node_of_a_cluster_names_the_same_quorum_and_its_own_listeners(tmp_path):
    cluster = broker.EmbeddedCluster("t", tmp_path, [(9500, 9501), (9502, 9503), (9504, 9505)])
    written = [properties(server_properties(n.config, n.log_dir)) for n in cluster.nodes]
    assert [w["node.id"] for w in written] == ["1", "2", "3"]
    assert {w["controller.quorum.voters"] for w in written} == {
        "1@127.0.0.1:9501,2@127.0.0.1:9503,3@127.0.0.1:9505"}
    assert [w["advertised.listeners"] for w in written] == [
        f"PLAINTEXT://127.0.0.1:{p}" for p in (9500, 9502, 9504)]
    assert len({w["log.dirs"] for w in written}) == 3
    for w in written:  # the production shape: three replicas, two acknowledge, none unclean
        assert w["default.replication.factor"] == w["offsets.topic.replication.factor"] == "3"
        assert w["min.insync.replicas"] == w["transaction.state.log.min.isr"] == "2"
        assert w["unclean.leader.election.enable"] == "false"
    assert cluster.bootstrap == "127.0.0.1:9500,127.0.0.1:9502,127.0.0.1:9504"


def test_a_single_broker_is_its_own_quorum_with_one_replica(tmp_path):
    alone = broker.BrokerConfig(data_dir=tmp_path, port=9092, controller_port=9093)
    written = properties(server_properties(alone, tmp_path / "kraft"))
    assert written["controller.quorum.voters"] == "1@127.0.0.1:9093"
    assert written["default.replication.factor"] == written["min.insync.replicas"] == "1"


def test_up_clusters_sit_in_port_blocks_that_do_not_overlap(monkeypatch, tmp_path):
    monkeypatch.setenv("COOPBRIDGE_HOME", str(tmp_path))
    monkeypatch.setenv("COOPBRIDGE_KAFKA_PORT", "9092")
    monkeypatch.setenv("COOPBRIDGE_KAFKA_CONTROLLER_PORT", "9093")
    first, second = broker.local_cluster("a", 3, 0), broker.local_cluster("b", 3, 1)
    assert first.bootstrap == "127.0.0.1:9092,127.0.0.1:9094,127.0.0.1:9096"
    assert second.nodes[0].config.port == 9092 + PORT_BLOCK
    ports = [p for c in (first, second) for n in c.nodes
             for p in (n.config.port, n.config.controller_port)]
    assert len(set(ports)) == len(ports)
    assert not tmp_path.joinpath("a-x3").exists()  # nothing is written before a start
    monkeypatch.setenv("COOPBRIDGE_KAFKA_CONTROLLER_PORT", "9094")  # node 2's client port
    with pytest.raises(broker.BrokerError, match="overlap"):
        broker.local_cluster("a", 3, 0)
    with pytest.raises(broker.BrokerError, match="1 to 9"):
        broker.local_cluster("a", 10, 0)


def test_up_plans_one_shared_cluster_or_one_cluster_per_node(monkeypatch, tmp_path):
    monkeypatch.setenv("COOPBRIDGE_HOME", str(tmp_path))
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
    single = shape.plan(("es", "ec"))
    assert list(single.local) == ["broker"] and single.replication is None
    assert single.bootstraps["es"] == single.bootstraps["ec"]
    shared = shape.plan(("es", "ec"), brokers=3)
    assert shared.replication == 3 and shared.bootstraps["es"] == shared.bootstraps["ec"]
    apart = shape.plan(("es", "ec"), brokers=3, clusters=True)
    assert list(apart.local) == ["cluster-es", "cluster-ec"]
    assert apart.bootstraps["es"] != apart.bootstraps["ec"]
    assert apart.bootstraps["ec"] == apart.local["cluster-ec"].bootstrap
    again = [shape.from_description(entry) for entry in shape.described(apart)]
    assert [c.bootstrap for c in again] == [apart.bootstraps["es"], apart.bootstraps["ec"]]
    assert Path(shape.described(single)[0]["data_dir"]) == tmp_path.absolute() / "broker"


def test_an_external_cluster_is_not_reshaped(monkeypatch):
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "kafka.example:9092")
    assert shape.plan(("es",)).bootstraps == {"es": "kafka.example:9092"}
    with pytest.raises(broker.BrokerError, match="KAFKA_BOOTSTRAP_SERVERS"):
        shape.plan(("es",), brokers=3)


def test_with_a_cluster_per_node_each_node_gets_a_mirror_maker_writing_into_its_cluster(
        monkeypatch, tmp_path):
    monkeypatch.setenv("COOPBRIDGE_HOME", str(tmp_path))
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
    apart = shape.plan(("es", "ec"), clusters=True)
    makers = shape.mirror_makers(apart, tmp_path)
    assert [m.target for m in makers] == ["es", "ec"]
    assert all(m.bootstraps == apart.bootstraps for m in makers)
    assert shape.mirror_makers(shape.plan(("es", "ec"), brokers=3), tmp_path) == []
    assert shape.mirror_makers(shape.plan(("es",), clusters=True), tmp_path) == []
    settings = mirror.settings(apart.bootstraps)
    assert settings["es->ec.topics"] == r"es\.federation"
    assert settings["ec->es.topics"] == r"ec\.federation"
    assert mirror.properties_text({"es->ec.topics": r"es\.federation"}) == (
        "es->ec.topics = es\\\\.federation\n")  # doubled, as Java reads it back


def test_each_child_of_up_is_given_only_the_keys_it_uses(monkeypatch):
    monkeypatch.setenv(config.SIGNING_KEY, "signing")
    monkeypatch.setenv(config.NODE_KEY, "node")
    given = {name: {k for k in (config.SIGNING_KEY, config.NODE_KEY)
                    if k in child_environment("es", keys_of(name, command), {})}
             for name, command in (("gateway", None), ("federation", None),
                                   ("savings", None), ("mirrormaker", ["java"]))}
    assert given == {"gateway": {config.SIGNING_KEY, config.NODE_KEY},
                     "federation": {config.SIGNING_KEY}, "savings": {config.NODE_KEY},
                     "mirrormaker": set()}
    assert child_environment("ec", (), {"KAFKA_BOOTSTRAP_SERVERS": "b:1"})[
        "KAFKA_BOOTSTRAP_SERVERS"] == "b:1"


def test_mirror_makers_progress_is_read_from_connects_offset_records():
    """What MirrorMaker 2 commits in ``mm2-offsets.<source>.internal`` (Connect's
    JsonConverter, schemas off): the last copied offset of each partition of the topic."""
    copied: dict[int, int] = {}
    key = b'["MirrorSourceConnector",{"cluster":"es","partition":2,"topic":"es.federation"}]'
    mirror._note(copied, key, b'{"offset":41}', "es", "es.federation")
    mirror._note(copied, key, b'{"offset":57}', "es", "es.federation")  # the newest counts
    other = key.replace(b'"partition":2', b'"partition":0').replace(b'"es.f', b'"ec.f')
    mirror._note(copied, other, b'{"offset":9}', "es", "es.federation")  # another topic
    mirror._note(copied, b"not json", b"{}", "es", "es.federation")
    assert copied == {2: 57}
    mirror._note(copied, key, None, "es", "es.federation")  # a tombstone forgets it
    assert copied == {}
