"""How many activation codes a replica tries per minute (issue 23): redeeming needs no token,
so a guesser's only cost is the number of tries. A code has 60 bits and lives 15 minutes;
at most ``PER_ADDRESS`` tries a minute from one client address (an IPv6 /64) and
``PER_GATEWAY`` from all of them together leave a guess no chance worth counting, and the
second is high enough that one ordinary client cannot lock every member out (one holding a
whole IPv6 /48, 300 /64s and more, still could: a proxy's limits are the place for that).
Over either, the answer is
``TooManyAttempts`` (nothing is sent). Kept in memory, per replica (a node of several
replicas multiplies ``PER_GATEWAY`` by their number); behind a proxy the client address is
the one uvicorn is told to trust (``--forwarded-allow-ips``).
"""

from __future__ import annotations

import collections
import ipaddress
import time
import weakref
from collections.abc import Callable

PER_ADDRESS = 10
PER_GATEWAY = 3_000
WINDOW_S = 60.0
#: Addresses remembered at most (a sweep drops those with no try in the window first).
ADDRESSES = 100_000


class Attempts:
    """Tries in the last ``window`` seconds, per client address and in all."""

    def __init__(self, per_address: int = PER_ADDRESS, per_gateway: int = PER_GATEWAY,
                 window: float = WINDOW_S, clock: Callable[[], float] = time.monotonic):
        self.per_address, self.per_gateway, self.window = per_address, per_gateway, window
        self.clock = clock
        self._all: collections.deque[float] = collections.deque()
        self._by_address: dict[str, collections.deque[float]] = {}

    def allow(self, address: str) -> bool:
        """Note a try from ``address``, if it is within both limits (else nothing is noted).
        An IPv6 address counts by its /64: one client holds a whole /64."""
        address = _network(address)
        now = self.clock()
        since = now - self.window
        _drop_before(self._all, since)
        tries = self._by_address.get(address)
        if tries is not None:
            _drop_before(tries, since)
        if len(self._all) >= self.per_gateway or (tries is not None
                                                  and len(tries) >= self.per_address):
            return False
        if tries is None:
            if len(self._by_address) >= ADDRESSES:
                self._sweep(since)
            tries = self._by_address[address] = collections.deque()
        tries.append(now)
        self._all.append(now)
        return True

    def _sweep(self, since: float) -> None:
        for address, tries in list(self._by_address.items()):
            _drop_before(tries, since)
            if not tries:
                del self._by_address[address]
        while len(self._by_address) >= ADDRESSES:  # all busy: forget the oldest noted
            del self._by_address[next(iter(self._by_address))]


def _network(address: str) -> str:
    try:
        found = ipaddress.ip_address(address)
    except ValueError:
        return address
    if found.version == 4:
        return str(found)
    if found.ipv4_mapped is not None:  # ::ffff:192.0.2.1 is that IPv4 client
        return str(found.ipv4_mapped)
    return str(ipaddress.ip_network(f"{found}/64", strict=False))


def _drop_before(tries: collections.deque[float], since: float) -> None:
    while tries and tries[0] <= since:
        tries.popleft()


_ATTEMPTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def attempts_of(views) -> Attempts:
    """The tries of the replica whose views these are."""
    attempts = _ATTEMPTS.get(views)
    if attempts is None:
        attempts = _ATTEMPTS[views] = Attempts()
    return attempts
