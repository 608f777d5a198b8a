"""``python -m services.membership`` (or ``coopbridge service membership``): run the service
until SIGTERM or Ctrl-C, which finish the batch in flight and commit it."""

from __future__ import annotations

from services.membership.app import membership_processor
from services.runtime.host import run_service

if __name__ == "__main__":
    run_service(membership_processor)
