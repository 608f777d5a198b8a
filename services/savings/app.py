"""The savings service wired to Kafka: the decider, the rate table, and the courier that
carries remittances (see ``courier``). Nothing here decides anything."""

from __future__ import annotations

from services.runtime.client import CommandClient
from services.runtime.datakeys import DataKeys
from services.runtime.processor import CommandProcessor
from services.savings.courier import Courier, PayoutAgent
from services.savings.domain import SAVINGS
from services.savings.rates import RateSource, load_rates


def savings_processor(node: str, bootstrap: str | None, keys: DataKeys, *,
                      rates: RateSource | None = None, payouts: PayoutAgent | None = None,
                      courier: bool = True) -> CommandProcessor:
    """The savings service's command processor (``courier=False`` leaves remittances
    pending: for fault tests that play the courier's part themselves)."""
    carrier = Courier(CommandClient(node, bootstrap, source="savings-courier"), payouts)
    return CommandProcessor(
        SAVINGS, node, bootstrap,
        references={"rates": rates or load_rates()},
        observer=carrier.observe if courier else None,
        companions=[carrier] if courier else [],
    )
