"""The services of a node (membership, savings, training) and the runtime they share.

Each service folder has the same shape: ``domain`` (pure decide/evolve), ``app`` (wiring),
``__main__`` (entry point). ``runtime/`` holds the event-sourcing machinery all of them use.
"""
