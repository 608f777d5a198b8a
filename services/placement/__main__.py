"""``python -m services.placement`` (or ``coopbridge service placement``): run the service
until SIGTERM or Ctrl-C, which finish the batch in flight and commit it."""

from __future__ import annotations

from services.placement.app import placement_processor
from services.runtime.host import run_service

if __name__ == "__main__":
    run_service(placement_processor)
