"""The insurance service wired to Kafka: its decider on the shared runtime. Nothing it holds
is personal (member ids, account ids, digests), so there is nothing to seal or open here."""

from __future__ import annotations

from services.insurance.domain import INSURANCE
from services.runtime.datakeys import DataKeys
from services.runtime.processor import CommandProcessor


def insurance_processor(node: str, bootstrap: str | None, keys: DataKeys) -> CommandProcessor:
    return CommandProcessor(INSURANCE, node, bootstrap)
