"""The insurance service: products, policies, premiums, claims and payouts (issue 25).

``domain`` decides (pure), ``app`` wires it to Kafka, ``__main__`` runs it. Reads
``{node}.insurance.commands``, ``{node}.membership.events`` (which cooperatives exist and of
what kind), its own events (the products); writes ``{node}.insurance.events``,
``{node}.replies``, ``{node}.deadletter``.
"""
