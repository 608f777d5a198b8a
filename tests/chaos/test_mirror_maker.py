"""Money between two clusters under faults (issue 22): the durability and money workload of
``test_durability_and_money`` with each node on a Kafka cluster of its own and MirrorMaker 2
carrying each node's federation topic to the other (at least once: a killed MirrorMaker
copies again what it copied since its last commit, so a relay sees repeats). Each run, while
clients send deposits, withdrawals, remittances and transfers home:

* processes are killed (``kill -9``) and started again as there, each node's MirrorMaker
  first among them, with the money path's processes;
* the home node's whole cluster is stopped for a minute and started again (its data kept):
  its services and MirrorMaker end and are started again, the host's MirrorMaker and relay
  wait.

Then every acknowledged command's event is in the log exactly once, every transfer home
credited exactly once and settled exactly once (money conserved per currency, every credit
the amount its ``SavingsSentHome`` disclosed), chains whole, balances equal to a fresh fold.
The rows are ``durability, two clusters`` and ``money, two clusters``.
"""

from __future__ import annotations

import pytest

from schemas.topics import events_topic
from tests.chaos.figures import runs
from tests.chaos.kill import ClusterFault
from tests.chaos.test_durability_and_money import one_run
from tests.e2e.test_federation_over_http import running_federation

pytestmark = pytest.mark.kafka

SECTIONS = ("durability, two clusters", "money, two clusters")
#: How long the home cluster is down each run.
HOME_DOWN_S = 60.0


@pytest.fixture(scope="module")
def clusters(replicated_cluster):
    with replicated_cluster("host", 1) as host, replicated_cluster("home", 1) as home:
        yield {"host": host, "home": home}


@pytest.fixture(scope="module")
def federation(clusters, tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("COOPBRIDGE_CHECKPOINT_EVERY", "2s")
        patch.setenv("COOPBRIDGE_CATCH_UP_BEYOND", "0")
        patch.setenv("COOPBRIDGE_CATCH_UP_BATCH", "50")
        patch.setenv("COOPBRIDGE_SNAPSHOT_EVERY", "3")
        with running_federation({role: c.bootstrap for role, c in clusters.items()},
                                tmp_path_factory.mktemp("chaos-two-clusters")) as fed:
            yield fed


async def test_transfers_home_are_credited_once_through_mirror_maker_kills_and_a_home_outage(
        clusters, federation):
    topic = events_topic(federation.nodes["home"], "savings")
    for seed in range(runs(at_most=10)):
        outage = ClusterFault(clusters["home"], "stopped", topic, paused_for=HOME_DOWN_S)
        await one_run(federation, outage, seed + 1, SECTIONS, broker_after=ClusterFault.AFTER_S)
