"""What a service's companions that carry its work to other aggregates share (the savings
courier, the insurance payer, her standing instruction): a command client, one task per piece of work at a time, and
a sweep that tries again; started before and stopped after the processor
(``CommandProcessor(companions=...)``)."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Callable, Coroutine
from typing import Any

from services.runtime.client import CommandClient


class Errands:
    """A client, the tasks running (one per key) and the sweep (``_sweep``, a coroutine the
    subclass defines)."""

    name = "errands"

    def __init__(self, client: CommandClient, retry_every: float = 5.0):
        self.client = client
        self.retry_every = retry_every
        self._running: dict[Any, asyncio.Task] = {}
        self._sweeper: asyncio.Task | None = None

    async def start(self) -> None:
        await self.client.start()
        self._sweeper = asyncio.create_task(self._sweep(), name=f"{self.name}-sweep")

    async def stop(self) -> None:
        tasks = [t for t in (self._sweeper, *self._running.values()) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.client.stop()

    def _run(self, key: Any, work: Coroutine, label: str) -> None:
        """Run ``work`` for ``key`` (the caller checked none runs for it)."""
        task = asyncio.create_task(work, name=f"{self.name}-{label}")
        self._running[key] = task
        task.add_done_callback(lambda _: self._running.pop(key, None))

    async def _sweep(self) -> None:
        raise NotImplementedError


class ClockedErrands(Errands):
    """Errands that fall due by a clock (the insurance payer, her standing instruction):
    ``_todo`` holds what may be due, ``_dispatch(key)`` starts it if it is due now."""

    def __init__(self, client: CommandClient, clock: Callable[[], dt.datetime],
                 retry_every: float = 5.0):
        super().__init__(client, retry_every)
        self.clock = clock
        self._todo: dict[Any, Any] = {}

    def _dispatch(self, key: Any) -> None:
        raise NotImplementedError

    async def _sweep(self) -> None:
        """Everything due is dispatched when the day changes (a moved clock's too) and every
        ``retry_every`` seconds (what failed is tried again); between, nothing is scanned."""
        last_day, last_scan = None, 0.0
        while True:
            await asyncio.sleep(min(self.retry_every, 0.5))
            today = self.clock().date()
            if today == last_day and time.monotonic() - last_scan < self.retry_every:
                continue
            last_day, last_scan = today, time.monotonic()
            for key in list(self._todo):
                self._dispatch(key)
