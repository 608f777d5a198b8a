"""The insurance service wired to Kafka: its decider on the shared runtime; at the insurer's
node the payer, which releases and credits approved claims' payments and records lapses
(``payer``); at her host node her standing instruction, which pays her premiums as they fall
due (``instruction``), and the death watcher, which notifies the insurer of her death once a
cooperative here recorded it (``deaths``). Every node runs both: a node may be host and insurer at once. It
holds no name, contact or document (member and account ids, ages, days, amounts, digests;
her beneficiaries' names arrive sealed and stay so), so there is nothing to open here."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from services.insurance.deaths import DeathWatcher
from services.insurance.domain import INSURANCE
from services.insurance.instruction import StandingInstruction
from services.insurance.payer import Payer
from services.runtime import clock as clocks
from services.runtime.aggregate import Stream
from services.runtime.client import CommandClient
from services.runtime.datakeys import DataKeys
from services.runtime.processor import CommandProcessor


def insurance_processor(node: str, bootstrap: str | None, keys: DataKeys, *,
                        clock: Callable[[], dt.datetime] = clocks.now, payer: bool = True,
                        retry_every: float = 5.0) -> CommandProcessor:
    """The insurance service's command processor; its payer and her standing instruction
    decide what is due by the same ``clock`` (the machine's, or one tests move:
    ``services.runtime.clock``; ``payer=False``: nothing is paid, lapsed or notified but by
    hand, for fault tests)."""
    paying = Payer(CommandClient(node, bootstrap, source="insurance-payer"), clock,
                   retry_every=retry_every)
    instructing = StandingInstruction(
        CommandClient(node, bootstrap, source="insurance-instruction"), clock,
        retry_every=retry_every)
    watching = DeathWatcher(CommandClient(node, bootstrap, source="insurance-deaths"), node,
                            bootstrap, retry_every=retry_every)
    companions = [paying, instructing, watching]

    def observe(streams: list[Stream]) -> None:
        for companion in companions:
            companion.observe(streams)

    return CommandProcessor(INSURANCE, node, bootstrap, clock=clock,
                            observer=observe if payer else None,
                            companions=companions if payer else [])
