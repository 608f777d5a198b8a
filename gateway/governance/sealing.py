"""Ballot keys destroyed on time (issue 24): once an assembly's challenge period is over, its
ballot key is destroyed without anyone asking, and a destruction that was recorded but did not
finish (the gateway stopped in between) is finished.

Every gateway replica sweeps once a minute (``SWEEP_EVERY_S``) the assemblies certified and
not sealed yet (the ``ballot_keys`` document the fold keeps): for each whose challenge period
is over (by a margin, ``MARGIN``: the service's clock decides) it sends ``DestroyBallotKey`` as
the node, under a command id made from the assembly's id and the hour, so that the replicas
sweeping in one hour send one command, decided once (the others hear the same answer; a
replica in the next hour hears ``KeyAlreadyDestroyed``), and a refusal is not final beyond
its hour (an answer is the command id's for a week); then it destroys the key
(``DataKeys.destroy``: idempotent). An assembly whose key is
gone is not touched again. ``destroyBallotKey`` does the same at once, on an admin's request.

Writes ``{node}.governance.commands`` and ``{node}.datakeys``; reads ``{node}.replies``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import uuid

from gateway.governance.documents import BallotKeysView
from schemas import governance as g

log = logging.getLogger(__name__)

SWEEP_EVERY_S = 60.0
#: How long after the end of the challenge period a sweep destroys the key: the service's
#: clock decides, and this gateway's may run ahead of it.
MARGIN = dt.timedelta(minutes=5)
_DESTROY = uuid.UUID("3b0f3d1e-6f3c-4c8e-9b7e-2a4d0c9e5f17")


def destroy_command_id(assembly_id: str, now: dt.datetime) -> str:
    """The command id the replicas destroy an assembly's key under in this hour."""
    return str(uuid.uuid5(_DESTROY, f"{assembly_id}|{now.astimezone(dt.UTC):%Y-%m-%dT%H}"))


async def sweep(views, keys, commands, now: dt.datetime) -> list[str]:
    """Destroy the keys whose challenge period is over (recording it first if nobody has);
    returns the assemblies whose key this sweep destroyed."""
    pending = views.get(BallotKeysView.TABLE, BallotKeysView.ALL)
    done = []
    for assembly_id, due in sorted((pending.due if pending else {}).items()):
        owner = g.ballot_key_owner(assembly_id)
        if due + MARGIN > now or keys.gone(owner):
            continue
        try:  # one assembly's failure never holds the others up
            if assembly_id not in pending.recorded:
                reply = await commands.send(g.DestroyBallotKey(assembly_id=assembly_id),
                                            assembly_id,
                                            command_id=destroy_command_id(assembly_id, now),
                                            actor="node")
                code = getattr(getattr(reply.payload, "error", None), "code", None)
                if not reply.payload.accepted and code != "KeyAlreadyDestroyed":
                    log.warning("an assembly's ballot key was not destroyed: %s", code)
                    continue
            await keys.destroy(owner)
        except asyncio.CancelledError:
            raise
        except Exception as failed:  # noqa: BLE001 - tried again at the next sweep
            log.warning("an assembly's ballot key was not destroyed yet: %s",
                        type(failed).__name__)
            continue
        done.append(assembly_id)
    return done


async def on_schedule(views, keys, commands, every_s: float = SWEEP_EVERY_S) -> None:
    """``sweep`` every ``every_s`` seconds until cancelled; a sweep that fails is logged and
    tried again at the next turn: it never stops the gateway."""
    while True:
        await asyncio.sleep(every_s)
        try:
            destroyed = await sweep(views, keys, commands, dt.datetime.now(dt.UTC))
            if destroyed:
                log.info("ballot keys destroyed: %d assemblies", len(destroyed))
        except asyncio.CancelledError:
            raise
        except Exception as failed:  # noqa: BLE001 - a failed sweep never stops the gateway
            log.warning("a sweep of ballot keys failed: %s", type(failed).__name__)
