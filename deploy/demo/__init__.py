"""``coopbridge demo``: a believable federation, seeded through the public GraphQL API only
(what it creates, and why: docs/demo.md). It writes no topic itself; the gateways and the
services behind them do. Its parts:

* ``catalogue``: the countries, cooperatives and courses it knows;
* ``calls``, ``crowd``, ``planner``: the plan, what will be sent (pure, from the seed);
* ``sender``: sending the plan to the gateways (tokens, retries, progress, Ctrl-C);
* ``report``: what it prints at the end;
* ``run``: all of it, for the CLI (``run_demo``).
"""

from __future__ import annotations

from deploy.demo.calls import BOOKED_ON, Call, Chain, Plan, Round
from deploy.demo.catalogue import COOPERATIVES, COUNTRIES, MIN_MEMBERS, MIN_RETURNEES
from deploy.demo.planner import plan
from deploy.demo.run import SUBJECT, run_demo
from deploy.demo.sender import DemoError, Outcome, seed_federation

__all__ = [
    "BOOKED_ON",
    "COOPERATIVES",
    "COUNTRIES",
    "MIN_MEMBERS",
    "MIN_RETURNEES",
    "SUBJECT",
    "Call",
    "Chain",
    "DemoError",
    "Outcome",
    "Plan",
    "Round",
    "plan",
    "run_demo",
    "seed_federation",
]
