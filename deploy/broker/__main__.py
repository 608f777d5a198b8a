"""``python -m deploy.broker guard <data dir> <client port>``: the guard of a broker started
with ``ends_with_caller`` (see deploy.broker.guard), in a process of its own."""

from __future__ import annotations

import signal
import sys
from pathlib import Path

from deploy.broker import guard
from deploy.broker.embedded import EmbeddedBroker
from deploy.broker.properties import BrokerConfig

if __name__ == "__main__" and sys.argv[1:2] == ["guard"]:
    # The broker's data directory (``stop`` reads the pid file there) and client port.
    # Ctrl-C is for its parent, never for it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    guard.watch(EmbeddedBroker(BrokerConfig(data_dir=Path(sys.argv[2]), port=int(sys.argv[3]),
                                            controller_port=0)))
