"""Who hears of the events the views apply: the subscriptions' listeners, capped in number,
and never waited for.

What it owns: the hand-over from the projection fold (``gateway.projections``; the unit
tests' in-memory node uses the same ``Listeners``) to the subscriptions (each feature's
``subscriptions.py``). The fold hands each batch of applied events over in one call
(``publish``): a listener of everything gets the batch itself (a reference, not a copy), a
listener of one member the events that touch her (an index by member, so a thousand members
followed cost the fold nothing per event of anyone else). ``publish`` never waits and never
drops an event silently: a listener that has not taken ``MAX_BEHIND`` events is ended, and
its next ``get`` raises ``FellBehind``, which its subscriber sees as an error saying so.

The live feed's subscribers are fed by one hub per gateway (``gateway.figures.activity``), which
holds the one listener of everything (``tap``: the gateway's own, outside the caps); each
subscriber holds a listener that is never fed (``listen(..., fed=False)``), so that it
counts under the caps like any other subscription.

Its caps, each answered with ``TooManySubscriptions`` (a GraphQL error, never a silent end):
``MAX_LISTENERS_PER_CALLER`` per caller (subject, role and cooperative of the token, across
all its sockets) and ``MAX_LISTENERS`` per gateway replica. The cap per socket is
strawberry's (``gateway.app.MAX_SUBSCRIPTIONS_PER_SOCKET``).
"""

from __future__ import annotations

import asyncio
from collections import Counter, deque
from typing import Any

from graphql import GraphQLError

from gateway.auth import Caller

#: Listeners one caller may hold at a time, across its sockets: a partner's screen follows
#: a few members, an integration a few dozen (one that wants every member's news reads the
#: views instead); at 50 it takes twenty tokens at their cap to fill a gateway.
MAX_LISTENERS_PER_CALLER = 50
#: Listeners a gateway replica holds at most, whoever asks: each is a coroutine on the
#: gateway's one event loop, woken for the events it follows while the fold runs there too.
#: A batch is handed over to each listener whole, so the fold's cost grows with the listeners,
#: not with events times listeners (docs/gateway-notes.md); more subscribers need more
#: replicas.
MAX_LISTENERS = 1_000
#: Events a listener may leave untaken before it is ended. At least two of the fold's
#: batches (``gateway.projections.MAX_BATCH``, 4,000), since a batch is handed over whole; a
#: listener holds references to events the fold made anyway, so the memory this bounds is
#: that of the few batches the slowest listener has not taken.
MAX_BEHIND = 10_000

#: What a caller is counted as: one person or integration, whichever token it holds now.
Owner = tuple[str, str, str | None]
#: ``(member ids touched, message)``: one applied event.
Applied = tuple[list[str], Any]


class TooManySubscriptions(GraphQLError):
    """A subscription over a cap: the caller's, or the gateway's."""

    def __init__(self, message: str):
        super().__init__(message, extensions={"code": "TOO_MANY_SUBSCRIPTIONS"})


class FellBehind(GraphQLError):
    """The subscriber took events more slowly than they came and missed some."""

    def __init__(self, limit: int):
        super().__init__(
            f"this subscription fell behind (more than {limit:,} events not taken) and "
            "missed events: subscribe again", extensions={"code": "FELL_BEHIND"})


class Listener:
    """One subscription's events, in order: ``await get()`` the next ``(members touched,
    message)``; raises ``FellBehind`` once it was ended for being too far behind."""

    def __init__(self, owner: Owner | None, member: str | None, limit: int):
        self.owner, self.member, self.limit = owner, member, limit
        self.fell_behind = False
        self._chunks: deque[list[Applied]] = deque()  # handed over, not yet taken
        self._at = 0  # the next event's place in the first chunk
        self._pending = 0
        self._arrived = asyncio.Event()

    def qsize(self) -> int:
        return self._pending

    def empty(self) -> bool:
        return not self._pending

    def get_nowait(self) -> Applied:
        if self.fell_behind:
            raise FellBehind(self.limit)
        if not self._pending:
            raise asyncio.QueueEmpty
        chunk = self._chunks[0]
        event = chunk[self._at]
        self._at += 1
        self._pending -= 1
        if self._at == len(chunk):
            self._chunks.popleft()
            self._at = 0
        return event

    async def get(self) -> Applied:
        while not self._pending and not self.fell_behind:
            self._arrived.clear()
            await self._arrived.wait()
        return self.get_nowait()

    def _take(self, chunk: list[Applied]) -> bool:
        """Hand ``chunk`` over; False (and ended, its events let go) if that would put it
        more than ``limit`` behind."""
        if self._pending + len(chunk) > self.limit:
            self.fell_behind = True
            self._chunks.clear()
            self._pending = 0
            self._arrived.set()
            return False
        self._chunks.append(chunk)
        self._pending += len(chunk)
        self._arrived.set()
        return True


class Listeners:
    """The listeners of one gateway replica (or of the unit tests' in-memory node)."""

    def __init__(self, *, total: int = MAX_LISTENERS,
                 per_caller: int = MAX_LISTENERS_PER_CALLER, behind: int = MAX_BEHIND):
        self.total, self.per_caller, self.behind = total, per_caller, behind
        self._everything: set[Listener] = set()
        self._unfed: set[Listener] = set()  # held by subscribers a hub feeds
        self._by_member: dict[str, set[Listener]] = {}
        self._owners: Counter[Owner] = Counter()
        self.count = 0

    def listen(self, caller: Caller, member: str | None = None, *,
               fed: bool = True) -> Listener:
        """A listener for ``caller`` of every event from now on, or of those that touch
        ``member``; one not ``fed`` is never handed an event, and only holds its place under
        the caps (a subscriber whom a hub feeds). Raises ``TooManySubscriptions`` over a
        cap."""
        owner = (caller.subject, caller.role.value, caller.cooperative_id)
        if self._owners[owner] >= self.per_caller:
            raise TooManySubscriptions(
                f"at most {self.per_caller} subscriptions at a time per token, across its "
                "sockets: end one before you start another")
        if self.count >= self.total:
            raise TooManySubscriptions(
                f"this gateway serves {self.total:,} subscriptions, its most: try again later")
        listener = Listener(owner, member, self.behind)
        if not fed:
            self._unfed.add(listener)
        elif member is None:
            self._everything.add(listener)
        else:
            self._by_member.setdefault(member, set()).add(listener)
        self._owners[owner] += 1
        self.count += 1
        return listener

    def tap(self) -> Listener:
        """The gateway's own listener of every event (a hub's, that feeds subscribers of its
        own): outside the caps and the count, ended like any other if it falls behind."""
        listener = Listener(None, None, self.behind)
        self._everything.add(listener)
        return listener

    def unlisten(self, listener: Listener) -> None:
        """Stop feeding ``listener`` (again: nothing happens)."""
        if listener.member is None:
            found = listener in self._everything or listener in self._unfed
            self._everything.discard(listener)
            self._unfed.discard(listener)
        else:
            followers = self._by_member.get(listener.member, set())
            found = listener in followers
            followers.discard(listener)
            if not followers:
                self._by_member.pop(listener.member, None)
        if found and listener.owner is not None:
            self._owners[listener.owner] -= 1
            if not self._owners[listener.owner]:
                del self._owners[listener.owner]
            self.count -= 1

    def publish(self, applied: list[Applied]) -> None:
        """Hand a batch of applied events, in order, to every listener; never waits. A
        listener it would put too far behind is ended instead (``FellBehind``)."""
        if not applied or not (self._everything or self._by_member):
            return
        ended = [listener for listener in self._everything if not listener._take(applied)]
        if self._by_member:
            chunks: dict[Listener, list[Applied]] = {}
            for event in applied:
                for member in event[0]:
                    for listener in self._by_member.get(member, ()):
                        chunk = chunks.setdefault(listener, [])
                        if not chunk or chunk[-1] is not event:
                            chunk.append(event)
            ended += [listener for listener, chunk in chunks.items()
                      if not listener._take(chunk)]
        for listener in ended:
            self.unlisten(listener)
