"""The contracts of coopbridge: what travels on Kafka, and where.

* ``envelope``  the CloudEvents 1.0 envelope (structured JSON) every message travels in;
* ``fields``    the shared field types (ids, money, country, language, time);
* ``registry``  wire type -> typed definition, the field that keys each command, upcasting,
  and the one decode/encode path;
* ``topics``    every topic of a node, declared once;
* ``runtime``   what every service writes besides its own events: rejections and replies;
* ``rejections`` the codes a command may be rejected with, each declared by who answers it;
* per service (``membership`` and ``savings`` packages, ``training``, ``governance``,
  ``insurance`` and ``federation`` modules) its commands, events and rejection codes;
* ``jsonschema/`` JSON Schema files generated from the types (``python -m schemas.jsonschemas``).

Nothing here does I/O. Importing the package registers every contract.
"""

from schemas.registry import REGISTRY, ContractError, Message

from schemas import (  # noqa: E402,F401 (registers)
    federation, governance, insurance, membership, placement, runtime, savings, training)

__all__ = [
    "REGISTRY", "ContractError", "Message", "federation", "governance", "insurance", "membership",
    "placement", "runtime", "savings", "training",
]
