"""faust wiring shared by every projection: one way to build an app, one way to read contracts.

``make_app`` builds a faust app with the settings every coopbridge stream uses (acks from all
replicas, the configured session timeout, topics we declare ourselves). ``contract_topic``
declares a topic whose records are read as raw bytes, and ``decoded`` turns a stream of those
bytes into ``schemas.Message`` objects (``reading.read``), sending everything that cannot be
decoded to the node's dead-letter topic (acknowledged by the broker) and going on with the
next record.

A faust agent acknowledges a record even when its body raises, so ``decoded``
never lets a bad record raise; if even the dead letter cannot be written, the app crashes
instead of skipping the record silently.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import faust

from schemas import Message
from schemas.registry import Kind
from schemas.topics import service_partitions
from services import config
from services.runtime.deadletter import publish_faust
from services.runtime.reading import Unreadable, read


def make_app(app_id: str, bootstrap: str | None = None, **settings: Any) -> faust.App:
    """A faust app for coopbridge streams; ``settings`` override the defaults."""
    session = config.session_timeout_s()
    (config.home() / "faust").mkdir(parents=True, exist_ok=True)  # faust makes one level
    defaults: dict[str, Any] = dict(
        broker=f"kafka://{bootstrap or config.bootstrap_servers()}",
        store="memory://",
        web_enabled=False,
        producer_acks=-1,
        broker_session_timeout=session,
        broker_heartbeat_interval=max(1.0, session / 10),
        broker_rebalance_timeout=max(10.0, session * 2),
        consumer_auto_offset_reset="earliest",
        topic_replication_factor=config.replication_factor(),
        topic_partitions=service_partitions(),
        # faust keeps a data folder per app; by default in the working directory
        datadir=str(config.home() / "faust" / "{conf.name}-data"),
    )
    defaults.update(settings)
    return faust.App(app_id, **defaults)


def contract_topic(app: faust.App, *names: str) -> faust.TopicT:
    """Declared topics read as raw bytes, as one stream (decoding is ``decoded``'s job)."""
    return app.topic(*names, key_type=bytes, value_type=bytes,
                     key_serializer="raw", value_serializer="raw")


async def decoded(
    app: faust.App, node: str, stream: faust.StreamT, kind: Kind | None = None
) -> AsyncIterator[Message]:
    """The decodable messages of ``stream``; the rest go to ``{node}.deadletter``."""
    async for event in stream.events():
        found = read(event.message, kind=kind)
        if isinstance(found, Unreadable):
            try:
                await publish_faust(app, found.letter(node))
            except Exception as exc:  # the record must not be skipped silently
                await app.crash(exc)
                raise
            continue
        yield found
