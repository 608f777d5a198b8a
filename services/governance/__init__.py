"""The governance service: bylaws, assemblies, the roll, proxies, ballots, tally and result.

``domain`` decides (pure), ``app`` wires it to Kafka, ``__main__`` runs it. Reads
``{node}.governance.commands``, ``{node}.membership.events`` (which cooperatives exist, who
was a member of which and when, who was erased), its own events (the bylaws); writes
``{node}.governance.events``, ``{node}.replies``, ``{node}.deadletter``.
"""
