"""``python -m services.governance`` (or ``coopbridge service governance``): run the service
until SIGTERM or Ctrl-C, which finish the batch in flight and commit it."""

from __future__ import annotations

from services.governance.app import governance_processor
from services.runtime.host import run_service

if __name__ == "__main__":
    run_service(governance_processor)
