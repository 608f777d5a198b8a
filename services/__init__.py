"""The services of a node (membership, savings, training), the relay between nodes, and the
runtime they share.

Each service folder has the same shape: ``domain`` (pure decide/evolve), ``app`` (wiring:
checks, effects, companions), ``__main__`` (entry point). ``relay/`` carries signed messages
between nodes; ``runtime/`` is the event-sourcing machinery all of them use: a pure command
core (``runtime.core``) with the Kafka processor and clients around it.
"""
