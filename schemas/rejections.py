"""The codes a command may be rejected with, declared by whoever answers them.

Each service declares its codes beside its contracts (``schemas.membership`` …), and the
runtime its own (``schemas.runtime``: codes any command may get). A code is a stable
PascalCase name a client switches on (``InsufficientFunds``) with a sentence saying what it
means; the message of a rejection says more, for people, never with personal data.

The command processor treats a code its service did not declare as a bug (``InternalError``),
and the gateway has one GraphQL error type per declared code, listed in the order the codes
were published (``published``): the first release listed its codes by name, each later
release added its own after them, service by service (by name), in the order each service
declares them. Nothing here does I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

CODE_PATTERN = r"^[A-Z][A-Za-z0-9]{1,63}$"
_CODE = re.compile(CODE_PATTERN)


@dataclass(frozen=True)
class Rejection:
    """One code as one service declares it."""

    code: str
    meaning: str
    service: str
    release: int  # the release of the API that published it


class RejectionCodes:
    """Every declared code, by service, in the order declared."""

    def __init__(self) -> None:
        self._declared: list[Rejection] = []

    def declare(self, service: str, meanings: dict[str, str], *,
                release: int = 1) -> frozenset[str]:
        """Declare the codes ``service`` answers with (code -> what it means), published in
        ``release``; returns the codes."""
        for code, meaning in meanings.items():
            if not _CODE.match(code):
                raise ValueError(f"not a rejection code: {code!r}")
            if code in self.of(service):
                raise ValueError(f"{service} declares {code} twice")
            if not meaning:
                raise ValueError(f"{service} declares {code} without saying what it means")
            self._declared.append(Rejection(code, meaning, service, release))
        return frozenset(meanings)

    def of(self, service: str) -> frozenset[str]:
        """The codes ``service`` declared (not the runtime's, which every command may get)."""
        return frozenset(r.code for r in self._declared if r.service == service)

    def declared(self) -> list[Rejection]:
        return list(self._declared)

    def published(self) -> list[str]:
        """Every declared code once, in the order the API publishes them."""
        first = sorted({r.code for r in self._declared if r.release == 1})
        position = {id(r): i for i, r in enumerate(self._declared)}
        later = sorted((r for r in self._declared if r.release > 1),
                       key=lambda r: (r.release, r.service, position[id(r)]))
        return list(dict.fromkeys([*first, *(r.code for r in later)]))


#: The process-wide declarations; importing ``schemas`` fills it.
REJECTION_CODES = RejectionCodes()
declare_rejections = REJECTION_CODES.declare
