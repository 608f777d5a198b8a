"""``make bench``: how fast coopbridge is, each figure against a baseline of the same run.

Not a test (nothing here is collected by pytest: no ``test_`` modules). ``python -m tests.bench``
starts its own embedded broker (or uses ``KAFKA_BOOTSTRAP_SERVERS``), runs every section (or
``--only`` some), prints one table and writes it as JSON to ``$COOPBRIDGE_HOME/bench/results.json``.
Machines here are shared and noisy, so every figure that has a target is a ratio to a baseline
measured minutes before or after it, on the same broker, in the same process tree.

Sections (one module each, ``async def run(bench: Bench) -> None``):

* ``pipeline``  commands/s accepted and visible in the gateway projection vs raw aiokafka
                produce+consume of as many same-size messages; and with 1, 2, 4 instances
* ``roundtrip`` mutation latency p50/p99 at a fixed arrival rate below saturation
* ``query``     ``member(id)`` p50/p99 at 10, 100, 1,000 history items vs plain graphql-core
                and a plain JSON endpoint
* ``replay``    rebuilding the projections from 1,000,000 events vs a raw consume of them
* ``memory``    gateway resident memory per 100,000 members
* ``takeover``  a savings partition of 1,000,000 events taken over from a snapshot vs folded
                from offset 0; the processor's resident memory after 1,000,000 commands vs
                after 100,000; how long a snapshot's cut stops commands, and its writing
"""
