"""Running a service process: logging, the data keys, signals, and a clear exit status.

SIGTERM and SIGINT stop the processor gracefully (the batch in flight finishes and commits).
An infrastructure failure ends the process with status 1 and no commit, so the commands are
redelivered to the next owner of their partitions.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from collections.abc import Callable

from services import config
from services.runtime.datakeys import DataKeys
from services.runtime.processor import CommandProcessor

log = logging.getLogger("coopbridge.service")

ProcessorFactory = Callable[[str, str, DataKeys], CommandProcessor]


async def serve(factory: ProcessorFactory, node: str | None = None,
                bootstrap: str | None = None) -> None:
    node = node or config.node_id()
    bootstrap = bootstrap or config.bootstrap_servers()
    async with DataKeys(node, bootstrap) as keys:
        processor = factory(node, bootstrap, keys)
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, processor.stop)
        log.info("%s service of node %s starting on %s", processor.service.name, node, bootstrap)
        await processor.run()
        log.info("%s service of node %s stopped", processor.service.name, node)


def run_service(factory: ProcessorFactory, node: str | None = None) -> None:
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("aiokafka").setLevel(logging.WARNING)
    try:
        asyncio.run(serve(factory, node))
    except Exception:
        log.exception("the service stopped on a failure; its commands will be redelivered")
        sys.exit(1)
