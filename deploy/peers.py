"""How the nodes one ``coopbridge up`` runs side by side know each other: each node's public
URL and, with several nodes, a trust list per node in ``$COOPBRIDGE_HOME/<node>.peers.json``
naming the others (their gateway and their public keys). Reads and writes no topic."""

from __future__ import annotations

import os

from services import config
from services.runtime.keys import jwks, signing_key


class SharedKeys(ValueError):
    """The environment gives every node the same key (several nodes in one ``up``)."""


def keys_apart(nodes: int) -> None:
    """``SharedKeys`` if the environment would give each of ``nodes`` nodes the same key
    (``up`` asks before it starts anything)."""
    shared = [v for v in ("COOPBRIDGE_SIGNING_KEY", "COOPBRIDGE_NODE_KEY") if os.environ.get(v)]
    if nodes > 1 and shared:
        raise SharedKeys(
            f"{' and '.join(shared)} would give every node the same key; unset it to run "
            "several nodes here (each gets its own development keys), or run one node per "
            "process with its own keys")


def federate(gateways: dict[str, int]) -> dict[str, str]:
    """Each node's public URL, and (with several nodes, unless ``COOPBRIDGE_PEERS`` names a
    trust list) a trust list per node in ``$COOPBRIDGE_HOME/<node>.peers.json`` naming the
    others: their gateway and their public keys."""
    single = len(gateways) == 1 and os.environ.get("COOPBRIDGE_PUBLIC_URL")
    urls = {node: single or f"http://127.0.0.1:{port}" for node, port in gateways.items()}
    keys_apart(len(gateways))
    if os.environ.get("COOPBRIDGE_PEERS"):
        return urls
    generated = "coopbridge up"
    for node in gateways:  # a trust list an earlier `up` wrote for other nodes goes
        path = config.home() / f"{node}.peers.json"
        if len(gateways) == 1 and path.exists() and generated in path.read_text():
            path.unlink()
    if len(gateways) > 1:
        known = {node: config.Peer(node, urls[node], jwks(signing_key(node).public_key(),
                                                           base_url=urls[node]))
                 for node in gateways}
        for node in gateways:
            config.write_peers(config.home() / f"{node}.peers.json",
                               [peer for other, peer in known.items() if other != node],
                               written_by=generated)
    return urls
