"""The relay between nodes: the only path from one node to another.

``messages`` signs and opens the messages nodes exchange (a CloudEvent inside a compact JWS),
``relay`` carries them (``schemas.federation``), ``__main__`` runs it. Its service name, on
the command line (``coopbridge service federation``) and in its consumer group
(``{node}.federation.relay``), is ``federation``.

Reads ``{node}.savings.events`` and each trusted peer's ``{peer}.federation``, and
``{node}.replies``; writes ``{node}.federation``, ``{node}.savings.commands`` and
``{node}.deadletter``. It holds the node's signing key, never members' data keys.
"""
