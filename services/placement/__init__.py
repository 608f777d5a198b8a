"""The placement service: fair work without recruitment fees (issue 26).

``domain`` decides (pure; it reads her verified certificates against a job's needs with
``schemas.matching``, which the gateway shares), ``placer`` carries a placement's steps between
aggregates and to her savings account, ``app`` wires it to Kafka, ``__main__`` runs it.
Reads ``{node}.placement.commands``, ``{node}.membership.events`` (cooperatives, her
memberships, her imported records), ``{node}.training.events`` (her certificates),
``{node}.savings.events`` (her accounts), its own events (floors, employers, job orders);
writes ``{node}.placement.events``, ``{node}.replies``, ``{node}.deadletter``.
"""
