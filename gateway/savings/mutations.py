"""The savings feature's mutations: each command of the savings service a partner sends
(``openAccount``, ``depositFunds``, ``sendRemittance``, ``transferSavingsHome`` …) is a
mutation generated from its contract (``gateway.commands``); the courier's and the relay's
commands (``savings.INTERNAL_COMMANDS``) are never offered. Here: what the gateway checks
before sending one that the service cannot (``PRECHECKS``).
"""

from __future__ import annotations

from gateway.commands import Precheck
from gateway.context import GatewayContext
from gateway.results import problem
from schemas import savings as s
from schemas.registry import Contract
from services import config


def to_a_trusted_peer(command: s.TransferSavingsHome, context: GatewayContext):
    """Savings go home only to a trusted peer of this node (``config.peers``)."""
    if command.to_node == context.node or command.to_node not in config.peers(context.node):
        return problem("UnknownPeer", "the receiving node is not a trusted peer of this node")
    return None


PRECHECKS: dict[type[Contract], Precheck] = {s.TransferSavingsHome: to_a_trusted_peer}
