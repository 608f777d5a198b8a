"""``python -m services.federation`` (or ``coopbridge service federation``): run the node's
federation relay until SIGTERM or Ctrl-C, which finish the record in hand and commit it."""

from __future__ import annotations

from services.federation.relay import federation_relay
from services.runtime.host import WithoutDataKeys, run_service

if __name__ == "__main__":
    run_service(WithoutDataKeys(federation_relay))
