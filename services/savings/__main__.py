"""``python -m services.savings`` (or ``coopbridge service savings``): run the service until
SIGTERM or Ctrl-C, which finish the batch in flight and commit it."""

from __future__ import annotations

from services.runtime.host import run_service
from services.savings.app import savings_processor

if __name__ == "__main__":
    run_service(savings_processor)
