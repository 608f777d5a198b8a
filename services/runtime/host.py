"""Running a service process: logging, the data keys, signals, and a clear exit status.

A service is a command processor (built with the node's data keys) or, wrapped in
``WithoutDataKeys``, anything else with the same ``run``/``stop`` surface that must not hold
members' data keys (the relay between nodes): no ``DataKeys`` is opened for it.

With ``COOPBRIDGE_ENV=production`` a service without the keys it uses does not start (one
line, exit status 2). SIGTERM and SIGINT stop the service gracefully (the batch in flight finishes and commits).
An infrastructure failure ends the process with status 1 and no commit, so the commands are
redelivered to the next owner of their partitions.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from services import config
from services.runtime import clock
from services.runtime.datakeys import DataKeys
from services.runtime.processor import CommandProcessor

log = logging.getLogger("coopbridge.service")

ProcessorFactory = Callable[[str, str, DataKeys], CommandProcessor]


class Service(Protocol):
    """What a service process runs: ``run`` until ``stop`` (or a failure)."""

    name: str

    async def run(self) -> None: ...

    def stop(self) -> None: ...


@dataclass(frozen=True)
class WithoutDataKeys:
    """A service built from ``(node, bootstrap)`` alone, that never sees a data key;
    ``keys`` names the secrets it does use (``config.SIGNING_KEY``), which production
    requires before it starts."""

    build: Callable[[str, str], Service]
    keys: tuple[str, ...] = ()


ServiceFactory = ProcessorFactory | WithoutDataKeys


def keys_used(factory: ServiceFactory) -> tuple[str, ...]:
    """The secrets a service reads: a command processor the node key (members' data keys)."""
    return factory.keys if isinstance(factory, WithoutDataKeys) else (config.NODE_KEY,)


async def serve(factory: ServiceFactory, node: str | None = None,
                bootstrap: str | None = None) -> None:
    node = node or config.node_id()
    bootstrap = bootstrap or config.bootstrap_servers()
    if isinstance(factory, WithoutDataKeys):
        service = factory.build(node, bootstrap)
        await _until_stopped(service, service.name, node, bootstrap)
        return
    async with DataKeys(node, bootstrap) as keys:
        processor = factory(node, bootstrap, keys)
        await _until_stopped(processor, processor.service.name, node, bootstrap)


async def _until_stopped(service: Service | CommandProcessor, name: str, node: str,
                         bootstrap: str) -> None:
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, service.stop)
    log.info("%s service of node %s starting on %s", name, node, bootstrap)
    await service.run()
    log.info("%s service of node %s stopped", name, node)


def run_service(factory: ServiceFactory, node: str | None = None) -> None:
    config.refuse_to_start_without_keys(node, keys_used(factory))
    clock.refuse_to_start_moved()
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("aiokafka").setLevel(logging.WARNING)
    try:
        asyncio.run(serve(factory, node))
    except Exception:
        log.exception("the service stopped on a failure; its commands will be redelivered")
        sys.exit(1)
