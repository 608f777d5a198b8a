"""A fault injector for chaos tests: ``kill -9`` a process every few seconds (the next one of
``names``, round and round: shuffle them for a random order) and start it again, and stop and
restart the broker once, meanwhile, when the session runs its own.

It works on anything with ``procs`` (name -> ``subprocess.Popen``), ``kill(*name)`` and
``start(*name)``, such as ``Federation`` in ``tests/e2e/test_federation_over_http.py``; a
process that ended on its own (a Kafka failure ends a service) is started again as well.
"""

from __future__ import annotations

import asyncio
import random


class FaultInjector:
    def __init__(self, world, names: list[tuple[str, str]], rng: random.Random,
                 every: tuple[float, float] = (3.0, 6.0), down_for: float = 1.0,
                 broker=None):
        self.world, self.names, self.rng = world, names, rng
        self.every, self.down_for, self.broker = every, down_for, broker
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
        broker = (asyncio.create_task(self.restart_broker(seconds / 3))
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
        return self.kills + self.broker_restarts
