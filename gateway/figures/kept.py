"""Figures kept, not scanned (issue 20): each member's part in each of her cooperatives'
figures, kept where it can be withdrawn, and per cooperative the sums of her cell's members,
from which ``federationStats`` builds its atoms without reading a single member.

What it owns: four kinds of raw rows in the projections' store (``gateway.store``; a dict in
``gateway.fold.MemoryStore``):

* ``figures/dirty/{member}`` (empty): her figures may have changed; staged by the fold
  (``mark``, called by ``gateway.fold.project``) in the very batch that changes her
  documents, so a crash loses no mark (and any fold of one log writes the same bytes);
* ``figures/kept/{member}/{cooperative}`` = her ``Part`` in that cooperative's figures (her
  corridor and gender, her groups there, and per slot, today's or a month's, her figures),
  and the row it was added to;
* ``figures/class/{cooperative}/c/{digest}`` = a ``Part`` summed over the ``count`` members
  of one corridor, gender and set of groups there: per slot their figures and how many of
  them have something in it (``people``), and their month sets (``shapes``: how many have a
  flow in exactly which months), so that people in several slots of one cell are counted
  once (``gateway.figures.disclosure.headcount``); the number of these rows does not grow
  with the members. ``figures/class/{cooperative}/m/{member}`` is a member counted on her
  own: one in two or more cooperatives (counted once in a cell of both) or with records
  brought home (each counted once per cell);
* ``figures/more/{row}`` = what a row keeps apart (``More``), read with the rows (one
  moment for an answer) but decoded only by an answer that needs it: its month sets, and
  the days its memberships start and stop being active (an answer for a day on or after
  the last of them reads only their sum);
* ``figures/compact/{prefix}`` (empty): an erased member's withdrawn rows still to be
  compacted off the disk (``COMPACT``).

The follower (``KeptFigures.settle``, run after the batches that mark someone and by a query
before it reads) takes the marked members, makes each one's parts as the scan would
(``gateway.figures.scan.contribution``, opening her seal with the node's data keys), and in
one ``WriteBatch`` writes her new parts, withdraws the old ones from their rows and adds
the new ones, and clears her mark, unless a newer batch marked her again meanwhile. An
erased member has no parts: the difference withdraws her from every figure at once.

Reads: the views (her record, accounts, courses, cooperatives) and the data keys; writes only
its own rows. Nothing here is plaintext personal data beyond what the figures are made of: a
part names her corridor and gender cell, as the atoms do, next to her id, until she is
withdrawn; an erased member's withdrawn parts are compacted off the disk at once
(``RocksStore.compact``; docs/decisions.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import itertools
import logging
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping
from decimal import Decimal
from typing import Protocol

import msgspec

from gateway.context import Keys, Views
from gateway.documents import DocumentStore
from gateway.figures.disclosure import (
    COUNTS,
    KEYED,
    Contribution,
    CooperativeAtoms,
    cooperative_atoms,
)
from gateway.figures.scan import contribution, person_of
from gateway.members.documents import member_sort
from schemas import Message
from schemas import membership as m

log = logging.getLogger(__name__)

DIRTY = b"figures/dirty/"
KEPT = b"figures/kept/"
CLASS = b"figures/class/"
MORE = b"figures/more/"
#: ``figures/compact/{prefix}``: rows withdrawn (an erased member's) whose files are still to
#: be compacted: written with the withdrawal, removed once compacted, so a crash between
#: the two leaves the compaction to be done, not forgotten.
COMPACT = b"figures/compact/"
#: Members settled per ``WriteBatch`` (then other coroutines run).
CHUNK = 256
#: The population slot's name in a ``Part`` (a month's is ``YYYY-MM``).
TODAY = ""


class Rows(Protocol):
    """The raw rows of a store (``gateway.store.RocksStore``, ``gateway.fold.MemoryStore``)."""

    on_commit: list[Callable[[dict[bytes, bytes]], None]]

    def raw(self, key: bytes) -> bytes | None: ...

    def raw_items(self, prefix: bytes) -> Iterator[tuple[bytes, bytes]]: ...

    def write_raw(self, puts: dict[bytes, bytes], deletes: Iterable[bytes]) -> None: ...


def mark(store: DocumentStore, message: Message, touched: Iterable[str]) -> None:
    """Mark the members whose figures ``message`` may change: those it touched, and when a
    cooperative is registered, its members (their corridor is written with its country)."""
    _, event = message
    members = list(touched)
    if isinstance(event, m.CooperativeRegistered):
        coop = store.get("cooperatives", event.cooperative_id)
        for ordinal in range(coop.joined if coop is not None else 0):  # type: ignore[attr-defined]
            row = store.row("coop_members", event.cooperative_id, member_sort(ordinal))
            if row is not None:
                members.append(row.member_id)  # type: ignore[attr-defined]
    for member_id in members:
        store.stage_raw(DIRTY + member_id.encode(), b"")


class Slot(msgspec.Struct, omit_defaults=True, gc=False):
    """One slot's figures of a part: counts (``joined`` …), keyed amounts with how many
    members hold each key (``deposits:EUR`` -> [amount, holders]: a key held with 0 is shown),
    fees, the records brought home (a member's own part only), and today's slot's active
    memberships: ``steps`` by day (+1 the day one starts, -1 the day it stops), their sum
    ``active`` and the ``last`` day with a step (a day asked from then on needs no steps)."""

    counts: dict[str, int] = {}
    keyed: dict[str, list[int]] = {}
    fee_sum: Decimal = Decimal(0)
    fee_count: int = 0
    arrivals: list[str] = []
    people: int = 1  # the members with something in this slot
    steps: dict[str, int] = {}
    active: int = 0
    last: str = ""


class More(msgspec.Struct, omit_defaults=True, gc=False):
    """What a row keeps apart (``figures/more/``), decoded only when an answer needs it: its
    month sets, and its steps by day."""

    shapes: dict[str, int] = {}
    steps: dict[str, dict[str, int]] = {}


class Part(msgspec.Struct, omit_defaults=True, gc=False):
    """A member's part in one cooperative's figures (``count`` 1, and ``cls``: the row it was
    added to), or a row's: the sum of ``count`` members' parts, with ``shapes``: how many of
    them have a flow in exactly which months (``|``-joined)."""

    corridor: str
    gender: str
    groups: list[str]
    slots: dict[str, Slot]
    count: int = 1
    cls: str = ""
    shapes: dict[str, int] = {}


_ENCODE = msgspec.msgpack.Encoder().encode
_PART = msgspec.msgpack.Decoder(Part)
_MORE = msgspec.msgpack.Decoder(More)


def part_of(c: Contribution) -> Part:
    """A member's contribution (``gateway.figures.scan.contribution`` with no ``today``) as a
    part that adds up."""
    slots: dict[str, Slot] = {}
    for month, what, key, amount in c.flows:
        slot = slots.get(month or TODAY)
        if slot is None:
            slot = slots[month or TODAY] = Slot(counts={}, keyed={}, arrivals=[])
        if what == "active_days":
            day = key.isoformat()
            slot.steps = {**slot.steps, day: slot.steps.get(day, 0) + amount}
        elif what in COUNTS:
            slot.counts[what] = slot.counts.get(what, 0) + amount
        elif what in KEYED:
            held = slot.keyed.setdefault(f"{what}:{key}", [0, 1])
            held[0] += amount
        elif what == "arrivals":
            slot.arrivals.append(key)
        elif what == "fee_percents":
            slot.fee_sum += amount
            slot.fee_count += 1
    for slot in slots.values():
        slot.counts = {k: v for k, v in slot.counts.items() if v}
        _stepped(slot)
    shape = "|".join(sorted(name for name in slots if name != TODAY))
    return Part(corridor=c.corridor, gender=c.gender, groups=sorted(c.groups), slots=slots,
                shapes={shape: 1})


def _stepped(slot: Slot) -> None:
    """Its steps without zeros, their sum and last day."""
    slot.steps = {day: n for day, n in slot.steps.items() if n}
    slot.active = sum(slot.steps.values())
    slot.last = max(slot.steps, default="")


def _split(part: Part) -> tuple[bytes, bytes]:
    """A row as stored: the part without its month sets and steps, and those apart."""
    more = More(shapes=part.shapes,
                steps={name: slot.steps for name, slot in part.slots.items() if slot.steps})
    light = msgspec.structs.replace(part, shapes={}, slots={
        name: msgspec.structs.replace(slot, steps={}) for name, slot in part.slots.items()})
    return _ENCODE(light), _ENCODE(more)


def _joined(main: bytes, more: bytes | None) -> Part:
    part = _PART.decode(main)
    if more is not None:
        kept = _MORE.decode(more)
        part.shapes = kept.shapes
        for name, steps in kept.steps.items():
            part.slots[name].steps = steps
    return part


def _class_of(cooperative_id: str, member_id: str, part: Part, alone: bool) -> str:
    """The row a part adds to (after ``figures/class/``): her own, or that of her corridor,
    gender and groups in the cooperative."""
    if alone:
        return f"{cooperative_id}/m/{member_id}"
    cell = _ENCODE((part.corridor, part.gender, part.groups))
    return f"{cooperative_id}/c/{hashlib.blake2b(cell, digest_size=12).hexdigest()}"


def _alone(cls: str) -> str | None:
    """The member a row is of, if it is one member's own."""
    _, kind, rest = cls.split("/", 2)
    return rest if kind == "m" else None


def _combine(into: Part | None, part: Part, sign: int) -> Part | None:
    """``into`` plus (``sign`` 1) or less (-1) one member's ``part``; None once empty."""
    if into is None:
        if sign < 0:
            return None
        return _PART.decode(_ENCODE(part))  # a copy
    into.count += sign
    if into.count <= 0:
        return None
    for shape, n in part.shapes.items():
        total = into.shapes.get(shape, 0) + sign * n
        if total > 0:
            into.shapes[shape] = total
        else:
            into.shapes.pop(shape, None)
    for name, slot in part.slots.items():
        mine = into.slots.get(name)
        if mine is None:
            mine = into.slots[name] = Slot(counts={}, keyed={}, arrivals=[], people=0)
        mine.people += sign * slot.people
        if mine.people <= 0:
            del into.slots[name]
            continue
        for k, v in slot.counts.items():
            total = mine.counts.get(k, 0) + sign * v
            if total:
                mine.counts[k] = total
            else:
                mine.counts.pop(k, None)
        if slot.steps:
            steps = dict(mine.steps)
            for day, n in slot.steps.items():
                steps[day] = steps.get(day, 0) + sign * n
            mine.steps = steps
            _stepped(mine)
        for k, (amount, holders) in slot.keyed.items():
            held = mine.keyed.setdefault(k, [0, 0])
            held[0] += sign * amount
            held[1] += sign * holders
            if held[1] <= 0:
                del mine.keyed[k]
        mine.fee_count += sign * slot.fee_count
        mine.fee_sum = mine.fee_sum + sign * slot.fee_sum if mine.fee_count else Decimal(0)
    return into


def _contributions(cls: str, part: Part, today: str,
                   steps: Callable[[], dict[str, dict[str, int]]]) -> Iterator[Contribution]:
    """A row's figures as contributions, with its active memberships of ``today`` (ISO; a
    day before its last step reads its ``steps``): one member's own row as hers; a row of
    many, one per slot, named ``(row, slot)`` (their people counted once across slots by the
    row's shapes: ``disclosure.headcount``)."""
    member_id = _alone(cls)
    whole = None
    if member_id is not None:
        whole = Contribution(member_id, part.corridor, part.gender, tuple(part.groups))
    for name, slot in part.slots.items():
        month = name or None
        me = whole
        if me is None:
            me = Contribution((cls, month), part.corridor, part.gender, tuple(part.groups))
            me.flows.clear()  # only this slot's: today's is a slot of its own here
            me.add(month, "member", None, None)
        elif month is not None:
            me.add(month, "member", None, None)
        add = me.add
        for k, v in slot.counts.items():
            add(month, k, None, v)
        active = slot.active
        if slot.last > today:  # a day before some start or stop: step by step
            active = sum(n for day, n in steps().get(name, {}).items() if day <= today)
        if active:
            add(None, "active", None, active)
        for k, (amount, _) in slot.keyed.items():
            what, key = k.split(":", 1)
            add(month, what, key, amount)
        if slot.fee_count:
            add(month, "fee_percents", slot.fee_count, slot.fee_sum)
        for credential in slot.arrivals:
            add(month, "arrivals", credential)
        if whole is None:
            yield me
    if whole is not None:
        yield whole


class KeptFigures:
    """The figures kept in one store, for one gateway's views: ``settle`` brings them up to
    the marks, ``atoms`` reads a cooperative's."""

    def __init__(self, store: Rows, views: Views) -> None:
        self.store, self.views = store, views
        #: member id -> the commit that marked her last (0: before this instance), loaded
        #: once, then kept up to date by the store's commits: no scan of the marks' range,
        #: whose deleted rows RocksDB steps over one by one until it compacts them
        self.pending: dict[str, int] = {
            key[len(DIRTY):].decode(): 0 for key, _ in store.raw_items(DIRTY)}
        self._commits = itertools.count(1)
        store.on_commit.append(self._committed)
        self._lock = asyncio.Lock()
        self._wake: asyncio.Event | None = None
        self.settled = 0  # members settled since this instance began

    def _committed(self, rows: dict[bytes, bytes]) -> None:
        marked, commit = False, next(self._commits)
        for key in rows:
            if key.startswith(DIRTY):
                self.pending[key[len(DIRTY):].decode()] = commit
                marked = True
        if marked and self._wake is not None:
            self._wake.set()

    async def settle(self, keys: Keys) -> None:
        """Settle every member marked when called (the marks of later batches may be settled
        too): her parts made again, and the difference applied to their rows."""
        if not self.pending:
            return
        async with self._lock:
            todo = list(self.pending)  # the ids only: no copy of the marks
            for start in range(0, len(todo), CHUNK):
                # her mark as she is taken: cleared only if no batch marks her meanwhile
                chunk = {x: self.pending[x] for x in todo[start:start + CHUNK]
                         if x in self.pending}
                made: dict[str, dict[str, Part]] = {}
                for member_id in chunk:
                    try:
                        made[member_id] = await self._parts(member_id, keys)
                    except Exception as exc:  # noqa: BLE001 - hers stay marked, for next time
                        log.warning("figures of a member not settled: %s", type(exc).__name__)
                await self._compact(self._write(made, chunk))
                await asyncio.sleep(0)

    async def _compact(self, prefixes: list[bytes]) -> None:
        """An erased member's withdrawn rows off the disk too (in a thread: RocksDB rewrites
        the files that held them), then their ``COMPACT`` markers cleared."""
        compact = getattr(self.store, "compact", None)
        for prefix in prefixes if compact is not None else ():
            await asyncio.to_thread(compact, prefix)
        if prefixes:
            self.store.write_raw({}, [COMPACT + prefix for prefix in prefixes])

    @contextlib.asynccontextmanager
    async def following(self, keys: Keys) -> AsyncIterator[None]:
        """Settle in the background after every batch that marks someone, while inside."""
        # what a crash left between a withdrawal and its compaction
        await self._compact([key[len(COMPACT):] for key, _ in self.store.raw_items(COMPACT)])
        self._wake = asyncio.Event()
        self._wake.set()  # what was marked before
        task = asyncio.create_task(self._follow(keys))
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            self._wake = None

    async def _follow(self, keys: Keys) -> None:
        wake = self._wake
        assert wake is not None
        while True:
            await wake.wait()
            wake.clear()
            try:
                await self.settle(keys)
            except Exception as exc:  # noqa: BLE001 - tried again on the next batch
                log.warning("the figures' follower failed: %s", type(exc).__name__)
                await asyncio.sleep(1)
                wake.set()

    async def _parts(self, member_id: str, keys: Keys) -> dict[str, Part]:
        """Her parts, per cooperative she ever joined (none if erased or unsealed)."""
        views = self.views
        record = views.get("members", member_id)
        person = await person_of(keys, record)
        if person is None:
            return {}
        parts = {}
        for cooperative_id in dict.fromkeys(x.cooperative_id for x in record.memberships):
            coop = views.get("cooperatives", cooperative_id)
            if coop is None:
                continue
            parts[cooperative_id] = part_of(contribution(views, record, person, coop.country,
                                                         cooperative_id, None))
        return parts

    def _write(self, made: dict[str, dict[str, Part]], marks: dict[str, int]) -> list[bytes]:
        """One ``WriteBatch``: each member's parts, their rows, and her mark cleared
        unless a newer batch marked her again (then she is settled again later). Returns
        the prefixes of the rows of members withdrawn from every figure (erased), each marked
        for compaction in the same batch (``COMPACT``)."""
        store = self.store
        puts: dict[bytes, bytes] = {}
        deletes: list[bytes] = []
        classes: dict[str, Part | None] = {}

        def cls(name: str) -> Part | None:
            if name not in classes:
                raw = store.raw(CLASS + name.encode())
                classes[name] = None if raw is None else _joined(
                    raw, store.raw(MORE + name.encode()))
            return classes[name]

        done, gone = [], []
        for member_id, parts in made.items():
            mine = KEPT + member_id.encode() + b"/"
            old = {k[len(mine):].decode(): _PART.decode(v) for k, v in store.raw_items(mine)}
            if old and not parts:  # withdrawn: her rows off the disk too
                gone.append(mine)
                gone += [prefix + part.cls.encode() for part in old.values()
                         if _alone(part.cls) is not None for prefix in (CLASS, MORE)]
            alone = len(parts) > 1 or any(slot.arrivals for part in parts.values()
                                          for slot in part.slots.values())
            for cooperative_id, part in parts.items():
                part.cls = _class_of(cooperative_id, member_id, part, alone)
            for cooperative_id in old.keys() | parts.keys():
                before, after = old.get(cooperative_id), parts.get(cooperative_id)
                if before == after:
                    continue
                if before is not None:
                    classes[before.cls] = _combine(cls(before.cls), before, -1)
                if after is not None:
                    classes[after.cls] = _combine(cls(after.cls), after, 1)
                    puts[mine + cooperative_id.encode()] = _ENCODE(after)
                else:
                    deletes.append(mine + cooperative_id.encode())
            if self.pending.get(member_id) == marks[member_id]:
                deletes.append(DIRTY + member_id.encode())
                done.append(member_id)
        for name, part in classes.items():
            if part is None:
                deletes += [CLASS + name.encode(), MORE + name.encode()]
            else:
                puts[CLASS + name.encode()], puts[MORE + name.encode()] = _split(part)
        for prefix in gone:  # compacted after this batch (``_compact``), even after a crash
            puts[COMPACT + prefix] = b""
        store.write_raw(puts, deletes)
        for member_id in done:
            self.pending.pop(member_id, None)
        self.settled += len(made)
        return gone

    async def atoms(self, cooperative_id: str, today: dt.date) -> CooperativeAtoms | None:
        """The atoms of one cooperative as kept (``settle`` first for the latest)."""
        coop = self.views.get("cooperatives", cooperative_id)
        if coop is None:
            return None
        contributions: list[Contribution] = []
        weights: dict = {}
        iso = today.isoformat()
        prefix = CLASS + cooperative_id.encode() + b"/"
        # every row of the cooperative and its month sets read now, with nothing awaited in
        # between (the fold and the follower write on this loop): one moment, whenever the
        # atoms are used (in a thread, or cached for a minute); a month set is decoded only
        # if an answer needs it
        more = _More(cooperative_id, {key[len(MORE):].decode(): raw for key, raw in
                                      self.store.raw_items(MORE + cooperative_id.encode() + b"/")})
        for key, raw in self.store.raw_items(prefix):
            part = _PART.decode(raw)
            cls = key[len(CLASS):].decode()
            member_id = _alone(cls)
            if member_id is not None:
                weights[member_id] = 1
            else:
                for name, slot in part.slots.items():
                    weights[(cls, name or None)] = slot.people
                more.rows.append(cls)
            contributions.extend(_contributions(cls, part, iso, lambda c=cls: more.of(c).steps))
        shapes = more
        # in a thread, as the scan's: a cooperative of many groups does not hold the loop
        return await asyncio.to_thread(cooperative_atoms, cooperative_id, coop.country,
                                       contributions, weights, shapes,
                                       self._identify(cooperative_id))

    def _identify(self, cooperative_id: str) -> Callable[[str, str | None], object]:
        suffix = b"/" + cooperative_id.encode()

        def identify(member_id: str, slot: str | None) -> object:
            raw = self.store.raw(KEPT + member_id.encode() + suffix)
            if raw is None:
                return None
            part = _PART.decode(raw)
            if _alone(part.cls) is not None:
                return member_id
            return (part.cls, slot) if (slot or TODAY) in part.slots else None
        return identify


class _More(Mapping):
    """The month sets of a cooperative's rows (``Mapping``: row -> shapes): their bytes all
    read with its rows (``KeptFigures.atoms``), each decoded the first time it is asked for.
    A row of another cooperative is not here (``KeyError``: an answer over several
    cooperatives chains their mappings)."""

    def __init__(self, cooperative_id: str, raw: dict[str, bytes]) -> None:
        self.rows: list[str] = []
        self._prefix = cooperative_id + "/"
        self._raw, self._read = raw, {}

    def of(self, cls: str) -> More:
        found = self._read.get(cls)
        if found is None:
            raw = self._raw.get(cls)
            found = self._read[cls] = More() if raw is None else _MORE.decode(raw)
        return found

    def __getitem__(self, cls: str) -> dict[str, int]:
        if not cls.startswith(self._prefix):
            raise KeyError(cls)
        return self.of(cls).shapes

    def __iter__(self) -> Iterator[str]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)


def kept_of(views: Views) -> KeptFigures | None:
    """The figures ``views`` keep, if they do (else the figures are scanned)."""
    return getattr(views, "figures", None)

