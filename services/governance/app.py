"""The governance service wired to Kafka: its decider on the shared runtime. Ballots arrive
sealed with the assembly's ballot key (the gateway seals them; the service never opens one),
so there is nothing to seal or open here."""

from __future__ import annotations

from services.governance.domain import GOVERNANCE
from services.runtime.datakeys import DataKeys
from services.runtime.processor import CommandProcessor


def governance_processor(node: str, bootstrap: str | None, keys: DataKeys) -> CommandProcessor:
    return CommandProcessor(GOVERNANCE, node, bootstrap)
