"""What a node runs: the composition root that names each service and picks its factory (a
command processor's, or a ``WithoutDataKeys`` one for the relay between nodes) and the module
``python -m`` runs it with. ``coopbridge service`` and ``coopbridge up`` start what is listed
here; the services themselves never import each other. Reads and writes no topic itself."""

from __future__ import annotations

from services.governance.app import governance_processor
from services.insurance.app import insurance_processor
from services.membership.app import membership_processor
from services.placement.app import placement_processor
from services.relay.relay import RELAY_SERVICE
from services.runtime.host import ServiceFactory
from services.savings.app import savings_processor
from services.training.app import training_processor

#: service name -> (factory, module runnable with ``python -m``)
SERVICES: dict[str, tuple[ServiceFactory, str]] = {
    "federation": (RELAY_SERVICE, "services.relay"),
    "membership": (membership_processor, "services.membership"),
    "savings": (savings_processor, "services.savings"),
    "training": (training_processor, "services.training"),
    "governance": (governance_processor, "services.governance"),
    "insurance": (insurance_processor, "services.insurance"),
    "placement": (placement_processor, "services.placement"),
}
