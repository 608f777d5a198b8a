"""A fault injector for chaos tests: ``kill -9`` a process every few seconds (the next one of
``names``, round and round: shuffle them for a random order) and start it again, and stop and
restart the broker once, meanwhile, when the session runs its own.

On a replicated cluster, the broker's restart is a ``ClusterFault`` instead: a partition
leader killed, a node paused past its session timeout, or a rolling restart.

It works on anything with ``procs`` (name -> ``subprocess.Popen``), ``kill(*name)`` and
``start(*name)``, such as ``Federation`` in ``tests/e2e/test_federation_over_http.py``; a
process that ended on its own (a Kafka failure ends a service) is started again as well.
"""

from __future__ import annotations

import asyncio
import random
import time


class FaultInjector:
    def __init__(self, world, names: list[tuple[str, str]], rng: random.Random,
                 every: tuple[float, float] = (3.0, 6.0), down_for: float = 1.0,
                 broker=None, broker_after: float | None = None):
        self.world, self.names, self.rng = world, names, rng
        self.every, self.down_for, self.broker = every, down_for, broker
        self.broker_after = broker_after  # seconds into the run (None: a third of it)
        self.kills, self.broker_restarts, self.restarted = 0, 0, 0
        self.victims: list[tuple[str, str]] = []
        self._next = 0

    def revive(self) -> None:
        """Start again every process that is not running (``restarted`` counts them, the
        killed ones included)."""
        for name in self.names:
            if self.world.procs[name].poll() is not None:
                self.world.start(*name)
                self.restarted += 1

    async def run(self, seconds: float) -> None:
        loop = asyncio.get_running_loop()
        end = loop.time() + seconds
        after = seconds / 3 if self.broker_after is None else self.broker_after
        broker = (asyncio.create_task(self.restart_broker(after))
                  if self.broker is not None else None)
        while loop.time() < end:
            await asyncio.sleep(self.rng.uniform(*self.every))
            victim = self.names[self._next % len(self.names)]
            self._next += 1
            if self.world.procs[victim].poll() is None:
                await asyncio.to_thread(self.world.kill, *victim)
                self.kills += 1
                self.victims.append(victim)
            await asyncio.sleep(self.down_for)
            self.revive()
        if broker is not None:
            await broker
        self.revive()

    async def restart_broker(self, after: float) -> None:
        """Stop the broker, and start it again ``down_for`` seconds later (its data kept)."""
        await asyncio.sleep(after)
        await asyncio.to_thread(self.broker.stop)
        await asyncio.sleep(self.down_for)
        await asyncio.to_thread(self.broker.start)
        self.broker_restarts += 1

    @property
    def faults(self) -> int:
        """Processes killed, and broker restarts (a cluster fault counts each node it hit)."""
        return self.kills + (self.broker.faults if isinstance(self.broker, ClusterFault)
                             else self.broker_restarts)


class ClusterFault:
    """A fault of a replicated cluster, in the two halves ``FaultInjector`` calls a broker
    restart by (``stop``, then ``start`` ``down_for`` seconds later), one kind per instance:

    * ``leader``: ``kill -9`` of the node leading ``topic``'s partition 0, started again;
    * ``pause``: that node SIGSTOPped past its session timeout (``paused_for`` seconds, from
      the stop), then resumed (SIGCONT);
    * ``rolling``: every node in turn stopped cleanly and started again, the next only once
      every replica is back in sync;
    * ``stopped``: the whole cluster stopped (a node's Kafka gone), started again
      ``paused_for`` seconds after the stop.

    Each ends once every partition has all its replicas in sync again."""

    KINDS = ("leader", "pause", "rolling", "stopped")
    #: How far into a run a cluster's fault begins: it outlasts the clients' workload anyway
    #: (they keep sending until it is over), and begun early it overlaps the process kills.
    AFTER_S = 3.0

    def __init__(self, cluster, kind: str, topic: str, paused_for: float = 20.0):
        if kind not in self.KINDS:
            raise ValueError(f"unknown cluster fault {kind!r}")
        self.cluster, self.kind, self.topic, self.paused_for = cluster, kind, topic, paused_for
        self.victim: int | None = None
        self.since = 0.0
        self.faults = 0  # nodes killed, paused or restarted

    def stop(self) -> None:
        self.since = time.monotonic()
        if self.kind == "rolling":
            return
        if self.kind == "stopped":
            self.cluster.stop()
            self.faults += 1
            return
        self.victim = self.cluster.leader_of(self.topic, 0)
        if self.kind == "leader":
            self.cluster.kill(self.victim)
        else:
            self.cluster.pause(self.victim)
        self.faults += 1

    def start(self) -> None:
        if self.kind == "rolling":
            for node in range(1, self.cluster.size + 1):
                self.cluster.restart(node)
                self.faults += 1
            return
        if self.kind in ("pause", "stopped"):
            time.sleep(max(0.0, self.paused_for - (time.monotonic() - self.since)))
        if self.kind == "stopped":
            self.cluster.start()
        elif self.kind == "pause":
            self.cluster.resume(self.victim)
        else:
            self.cluster.node(self.victim).start(wait_timeout=180)
        self.cluster.wait_in_sync()
