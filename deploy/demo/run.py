"""``coopbridge demo`` (and ``up --demo``) from end to end: find the nodes' gateways, plan,
send, report. It signs its tokens with the nodes' keys in ``$COOPBRIDGE_HOME`` (same machine):
the node admin registers cooperatives and people and records consents (so that a re-run is
authorised even once she has left), the cooperatives' admins create groups, offer courses and
grant loans, their staff do the rest."""

from __future__ import annotations

import asyncio
import threading

from rich.console import Console

from deploy.demo.planner import plan
from deploy.demo.report import print_cut_short, print_summary
from deploy.demo.sender import find_gateways, seed_federation
from gateway.auth import Role

#: The ``sub`` of every token the demo signs: its idempotency keys are this caller's.
SUBJECT = "coopbridge-demo"


def run_demo(nodes: list[str], seed: int = 7, members: int = 3000, urls: tuple[str, ...] = (),
             concurrency: int = 16, console: Console | None = None,
             stop: threading.Event | None = None) -> bool:
    """``coopbridge demo`` (and ``up --demo``): find the gateways, plan, send, print the
    summary. True when every mutation was accepted. ``stop`` (``up``'s Ctrl-C) cuts it
    short: what was left out is said instead of the summary."""
    from gateway.auth import issue_token  # noqa: PLC0415 (reads the nodes' signing keys)
    from services import config  # noqa: PLC0415

    console = console or Console(highlight=False, soft_wrap=True)
    nodes = list(nodes) or ([] if urls else [config.node_id()])
    gateways = asyncio.run(find_gateways(nodes, urls, config.gateway_port()))
    the_plan = plan(seed, members, list(gateways))

    def token_for(node: str, role: Role, cooperative: str | None) -> str:
        return issue_token(node, role, cooperative, SUBJECT)

    console.print(f"seeding {len(the_plan.cooperatives)} cooperatives and "
                  f"{sum(the_plan.people.values())} memberships over "
                  f"{', '.join(f'{n} ({u})' for n, u in gateways.items())}: "
                  f"{the_plan.calls} mutations")
    outcome = asyncio.run(seed_federation(the_plan, gateways, token_for, concurrency, console,
                                          stop=stop))
    if outcome.cut_short:
        print_cut_short(console, the_plan, outcome, urls)
        return False
    print_summary(console, the_plan, outcome, gateways,
                  lambda node: issue_token(node, Role.ANALYST, None, SUBJECT))
    return outcome.ok
