"""``python -m services.training`` (or ``coopbridge service training``): run the service until
SIGTERM or Ctrl-C, which finish the batch in flight and commit it."""

from __future__ import annotations

from services.runtime.host import run_service
from services.training.app import training_processor

if __name__ == "__main__":
    run_service(training_processor)
