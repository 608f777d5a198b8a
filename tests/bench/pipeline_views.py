"""The gateway projections as a process of their own, for ``tests.bench.pipeline``.

``python -m tests.bench.pipeline_views <node> <data dir>`` (bootstrap from
``KAFKA_BOOTSTRAP_SERVERS``) starts ``gateway.projections.Projections``, prints one JSON line
``{"ready": true}`` once it caught up with the log, then answers each line it reads on stdin,
``{"refs": [[topic, subject, sequence], ...]}``, with ``{"visible_at": t, "ok": true,
"stats": {...}}`` as soon as every ref is reached: ``t`` is ``time.monotonic()`` at that moment
(one clock for every process of a Linux machine), ``ok`` what ``Projections.wait_for`` says of
the same refs right after. EOF on stdin stops it.

A process of its own, as the gateway is: the projections then do not share one interpreter
with the clients sending the commands.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

from gateway.projections import Projections, ProjectionsFailed
from services import config

POLL_S = 0.005


async def serve(node: str, data_dir: Path) -> None:
    async with Projections(node, config.bootstrap_servers(), data_dir=data_dir) as views:
        await views.ready(timeout=600)
        _say({"ready": True, "stats": views.stats})
        while True:
            line = await asyncio.to_thread(sys.stdin.readline)
            if not line:
                return
            refs = [tuple(ref) for ref in json.loads(line)["refs"]]
            pending = list(refs)
            while pending:  # polling one ref at a time: wait_for re-checks every ref after
                topic, subject, sequence = pending[-1]  # every event, a cost of its own here
                if views.position(topic, subject) >= sequence:
                    pending.pop()
                    continue
                if views.failure is not None:
                    raise ProjectionsFailed(str(views.failure))
                await asyncio.sleep(POLL_S)
            at = time.monotonic()
            ok = await views.wait_for(refs, timeout=10)
            _say({"visible_at": at, "ok": ok, "stats": views.stats})


def _say(message: dict) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    asyncio.run(serve(sys.argv[1], Path(sys.argv[2])))
