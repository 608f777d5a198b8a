"""Fixtures for tests on the real broker: a fresh node with its topics, keys and a client."""

from __future__ import annotations

import pytest

from deploy.topics import ensure_node_topics
from services.runtime.client import CommandClient
from services.runtime.datakeys import DataKeys


@pytest.fixture
async def node(kafka_bootstrap, node_id):
    """A fresh node with its topics: ``(node id, bootstrap, command client, data keys)``."""
    ensure_node_topics(node_id, kafka_bootstrap)
    async with DataKeys(node_id, kafka_bootstrap) as keys, \
            CommandClient(node_id, kafka_bootstrap) as client:
        yield node_id, kafka_bootstrap, client, keys
