"""The insurance service wired to Kafka: its decider on the shared runtime, and the payer
that releases and credits approved claims' payments and records lapses (see ``payer``).
It holds no name, contact or document (member and account ids, ages, days, amounts,
digests), so there is nothing to seal or open here."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from services.insurance.domain import INSURANCE
from services.insurance.payer import Payer
from services.runtime import clock as clocks
from services.runtime.client import CommandClient
from services.runtime.datakeys import DataKeys
from services.runtime.processor import CommandProcessor


def insurance_processor(node: str, bootstrap: str | None, keys: DataKeys, *,
                        clock: Callable[[], dt.datetime] = clocks.now, payer: bool = True,
                        retry_every: float = 5.0) -> CommandProcessor:
    """The insurance service's command processor; its payer decides what is due by the same
    ``clock`` (the machine's, or one tests move: ``services.runtime.clock``; ``payer=False``:
    nothing is paid or lapsed but by hand, for fault tests)."""
    paying = Payer(CommandClient(node, bootstrap, source="insurance-payer"), clock,
                   retry_every=retry_every)
    return CommandProcessor(INSURANCE, node, bootstrap, clock=clock,
                            observer=paying.observe if payer else None,
                            companions=[paying] if payer else [])
