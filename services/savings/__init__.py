"""The savings service: accounts, savings, share capital, loans and remittances.

``domain`` decides (pure) on the account of ``state`` (and its ``evolve``), with the
facts of ``lookups`` (cooperatives, memberships, imported histories), ``arithmetic`` holds its money rules (pure), ``rates`` reads the
rate and fee table, ``courier`` carries remittances to their beneficiaries, ``app`` wires it
all to Kafka, ``__main__`` runs it.

Reads ``{node}.savings.commands``, its own events and ``{node}.membership.events`` (for the
membership rules); writes ``{node}.savings.events``, ``{node}.replies``,
``{node}.deadletter``, and, as the courier, ``{node}.savings.commands``.
"""
