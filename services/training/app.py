"""The training service wired to Kafka: its decider on the shared runtime. Training events
hold member ids and course facts only, so there is nothing to seal here."""

from __future__ import annotations

from services.runtime.datakeys import DataKeys
from services.runtime.processor import CommandProcessor
from services.training.domain import TRAINING


def training_processor(node: str, bootstrap: str | None, keys: DataKeys) -> CommandProcessor:
    return CommandProcessor(TRAINING, node, bootstrap)
