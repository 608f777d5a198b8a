"""The members feature's mutations: each command of the membership service a partner sends
(``registerCooperative``, ``registerMember``, ``startMembership``, ``grantConsent`` …) is a
mutation generated from its contract (``gateway.commands``). Here: what the gateway checks
before sending one that the service cannot (``PRECHECKS``).
"""

from __future__ import annotations

from gateway.commands import Precheck
from gateway.context import GatewayContext
from gateway.results import ValidationError
from schemas import membership as m
from schemas.registry import Contract


def registered_here(command: m.RegisterCooperative, context: GatewayContext):
    """A cooperative registered here is this node's: the service does not know which node
    it is."""
    if command.node != context.node:
        return ValidationError(code="ValidationError", field="input.node",
                               message=f"a cooperative registered here is of node "
                                       f"{context.node}")
    return None


PRECHECKS: dict[type[Contract], Precheck] = {m.RegisterCooperative: registered_here}
