"""``python -m services.insurance`` (or ``coopbridge service insurance``): run the service
until SIGTERM or Ctrl-C, which finish the batch in flight and commit it."""

from __future__ import annotations

from services.insurance.app import insurance_processor
from services.runtime.host import run_service

if __name__ == "__main__":
    run_service(insurance_processor)
