"""The federation relay: the only path between nodes.

``messages`` signs and opens the messages nodes exchange (a CloudEvent inside a compact JWS),
``relay`` carries them (``schemas.federation``), ``__main__`` runs it.

Reads ``{node}.savings.events`` and each trusted peer's ``{peer}.federation``, and
``{node}.replies``; writes ``{node}.federation``, ``{node}.savings.commands`` and
``{node}.deadletter``. It holds the node's signing key, never members' data keys.
"""
