"""A member's open sockets close at once when her access ends (issue 23): each replica's
``SocketsByAccess`` watches the events its own views apply (``Listeners.tap``) and, on a
``MemberAccessRevoked`` or ``MemberErased`` of a member with a socket open on it, closes the
sockets of the accesses it ends with 4403. "At once" is within this replica's consumer lag;
every event a subscription would hand her is also checked against her access again
(``context.caller_of``), so nothing reaches her in between.

The watcher runs only while some member has a socket open on this replica.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections.abc import Awaitable, Callable

from gateway.auth import Caller, Role
from gateway.listeners import FellBehind
from gateway.member_access.liveness import live
from schemas import membership as m

log = logging.getLogger(__name__)

Close = Callable[[], Awaitable[None]]


class SocketsByAccess:
    """The member sockets of one replica's views, by member id."""

    def __init__(self, views) -> None:
        self.views = views
        self._open: dict[str, dict[object, tuple[Caller, Close]]] = {}
        self._task: asyncio.Task | None = None
        self._tap = None

    def opened(self, caller: Caller, close: Close) -> object | None:
        """Note a socket of ``caller`` (a member's, else nothing); ``close`` ends it. Returns
        what ``closed`` takes."""
        if caller.role is not Role.MEMBER:
            return None
        seat = object()
        self._open.setdefault(caller.member_id, {})[seat] = (caller, close)
        if self._task is None or self._task.done():  # (one that died is started again)
            # the tap is taken now, not when the task first runs: a revocation applied in
            # between is not missed
            self._tap = self.views.listeners.tap()
            self._task = asyncio.ensure_future(self._watch(self._tap))
        if live(caller, self.views) is None:  # revoked before its socket was noted
            asyncio.ensure_future(_quietly(close))
        return seat

    def closed(self, seat: object | None) -> None:
        for member_id, seats in list(self._open.items()):
            if seats.pop(seat, None) is not None and not seats:
                del self._open[member_id]
        if not self._open and self._task is not None:
            self._task.cancel()  # (one cancelled before it ran lets go of its tap here)
            self.views.listeners.unlisten(self._tap)
            self._task = None

    async def _watch(self, tap) -> None:
        """Its own tap only (a task cancelled late must never let go of its successor's)."""
        listeners = self.views.listeners
        try:
            while True:
                try:
                    _, (_, event) = await tap.get()
                except FellBehind:  # what did it miss? ask every socket's access again
                    listeners.unlisten(tap)
                    tap = listeners.tap()
                    self._close_where(lambda caller: live(caller, self.views) is None)
                    continue
                if isinstance(event, m.MemberAccessRevoked):
                    ended = event.access_id
                    self._close_where(lambda caller, ended=ended: ended in (None,
                                                                           caller.access_id),
                                      event.member_id)
                elif isinstance(event, m.MemberErased):
                    self._close_where(lambda caller: True, event.member_id)
        finally:
            listeners.unlisten(tap)

    def _close_where(self, ends: Callable[[Caller], bool], member_id: str | None = None) -> None:
        for member in [member_id] if member_id is not None else list(self._open):
            for seat, (caller, close) in list(self._open.get(member, {}).items()):
                if ends(caller):
                    asyncio.ensure_future(_quietly(close))


async def _quietly(close: Close) -> None:
    with contextlib.suppress(Exception):  # closed by the client meanwhile
        await close()


_SOCKETS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def sockets_of(views) -> SocketsByAccess:
    """The member sockets of ``views`` (one registry per gateway replica)."""
    sockets = _SOCKETS.get(views)
    if sockets is None:
        sockets = _SOCKETS[views] = SocketsByAccess(views)
    return sockets
