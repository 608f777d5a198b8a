"""The membership service: cooperatives, their member groups, members, memberships, consent
and erasure. ``domain`` decides (pure), ``app`` wires it to Kafka, ``__main__`` runs it.

Reads ``{node}.membership.commands`` (and its own events, for lookups); writes
``{node}.membership.events``, ``{node}.replies``, ``{node}.datakeys`` (erasure) and
``{node}.deadletter``.
"""
