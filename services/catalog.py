"""The services a node runs, by name: each maps to its command processor factory and module."""

from __future__ import annotations

from services.membership.app import membership_processor
from services.runtime.host import ProcessorFactory
from services.savings.app import savings_processor
from services.training.app import training_processor

#: service name -> (factory, module runnable with ``python -m``)
SERVICES: dict[str, tuple[ProcessorFactory, str]] = {
    "membership": (membership_processor, "services.membership"),
    "savings": (savings_processor, "services.savings"),
    "training": (training_processor, "services.training"),
}
