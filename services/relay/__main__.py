"""``python -m services.relay`` (or ``coopbridge service federation``): run the node's relay
until SIGTERM or Ctrl-C, which finish the record in hand and commit it."""

from __future__ import annotations

from services.relay.relay import RELAY_SERVICE
from services.runtime.host import run_service

if __name__ == "__main__":
    run_service(RELAY_SERVICE)
