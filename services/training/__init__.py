"""The training service: courses, learners, results and certificates.

``domain`` decides (pure), ``app`` wires it to Kafka, ``__main__`` runs it. Reads
``{node}.training.commands``, ``{node}.membership.events`` (who is a member, which
cooperatives exist); writes ``{node}.training.events``, ``{node}.replies``,
``{node}.deadletter``.
"""
