"""What goes wrong with the embedded broker: ``BrokerError``, and the tail of a log or of a
tool's output that its messages quote."""

from __future__ import annotations


class BrokerError(RuntimeError):
    """The broker (or the tools it needs) could not be fetched, started, reached or stopped."""


def tail_text(text: str, lines: int) -> str:
    """The last ``lines`` lines of ``text``."""
    return "\n".join(text.rstrip().splitlines()[-lines:])
