"""Rosa's two-node story on the production shape of the federation (issue 22): each node on a
Kafka cluster of its own, nothing shared between them but MirrorMaker 2, which copies each
node's federation topic into the other's cluster under the same name (as ``coopbridge up
--clusters`` and ``docker-compose.yml`` run it). Through GraphQL only, as in
``test_federation_over_http``: her record exported and imported, her savings sent home and
credited exactly once, the home savings service killed while a transfer is on its way.
And nothing of a node crosses but its federation topic."""

from __future__ import annotations

import asyncio

import pytest

from deploy.broker.network import quiet_admin
from deploy.mirror import lag
from schemas.topics import federation_topic
from services.runtime.kafka_clients import read_topic
from tests.e2e.test_federation_over_http import (  # noqa: F401 (run here, on two clusters)
    running_federation,
    test_rosa_goes_home_with_her_record_and_her_savings,
    until,
)

pytestmark = pytest.mark.kafka


@pytest.fixture(scope="module")
def federation(replicated_cluster, tmp_path_factory):
    with replicated_cluster.together({"host": 1, "home": 1}) as clusters, \
            running_federation({role: c.bootstrap for role, c in clusters.items()},
                               tmp_path_factory.mktemp("federation-on-clusters")) as fed:
        yield fed


async def test_only_each_nodes_federation_topic_crosses_to_the_other_cluster(federation):
    """Of the other node's topics only its federation topic is in a node's cluster, besides
    MirrorMaker's own heartbeat topic, which it copies whatever it is told and which stays
    empty (heartbeats are off)."""
    for role, other in (("host", "home"), ("home", "host")):
        node = federation.nodes[other]

        async def copied(role=role, node=node) -> set[str]:  # MirrorMaker makes it lazily
            with quiet_admin(federation.bootstraps[role]) as admin:
                topics = set(admin.list_topics())
            return topics if federation_topic(node) in topics else set()

        topics = await until(copied, 60)
        foreign = {t for t in topics if t.startswith(f"{node}.")}
        assert foreign - {f"{node}.heartbeats"} == {federation_topic(node)}, (role, foreign)
        for topic in foreign - {federation_topic(node)}:
            assert await read_topic(topic, federation.bootstraps[role]) == [], topic


async def test_status_reads_how_far_each_mirror_maker_is_behind(federation):
    """``coopbridge status``'s replication lag: from what each MirrorMaker committed, every
    federation record of Rosa's story is copied (a misread progress would leave them all
    counted behind)."""
    for source, target in (("host", "home"), ("home", "host")):
        flow = (federation.nodes[source], federation.bootstraps[source],
                federation.nodes[target], federation.bootstraps[target])
        sent = len(await read_topic(federation_topic(federation.nodes[source]),
                                    federation.bootstraps[source]))
        assert sent > 0, f"nothing went {source} -> {target} in Rosa's story"
        caught_up = await until(lambda flow=flow: asyncio.to_thread(lambda: lag(*flow) == 0),
                                30)
        assert caught_up, (source, target, lag(*flow))
