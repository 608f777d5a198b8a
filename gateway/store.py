"""The projections' store: one RocksDB database (``rocksdict``, raw mode) holding the
documents of ``gateway.fold.TABLES`` under ``{table}/{key}`` (msgpack), the rows of
``gateway.fold.ROWS`` under ``{table}/{key}\x00{sort}`` (msgpack; RocksDB keeps keys in
order, so a history reads back in order with one seek), each aggregate's chain position under
``chain/{topic}/{subject}``, how far each partition was read under
``offset/{topic}/{partition}``, the raw rows of the figures kept (``figures/...``,
``gateway.figures.kept``: marks written with a batch, the rest by the figures' follower),
when each command sent under an idempotency key was decided (``decided/...``,
``gateway.decided``),
and the layout of all this under ``meta/format``
(``FORMAT``: a store of another layout is emptied on opening, and so rebuilt from the log,
which is the truth). Reads and writes no topic; ``gateway.projections`` drives it.
"""

from __future__ import annotations

import logging
import shutil
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import msgspec
from rocksdict import BlockBasedOptions, Cache, Checkpoint, Options, Rdict, WriteBatch

from gateway.documents import Doc, Row
from gateway.fold import ROWS, TABLES

log = logging.getLogger(__name__)

#: The layout of the store: raised whenever what it holds changes shape (2: what grows with
#: a history is rows: her timeline and accounts, an account's remittances, transfers and
#: repayments, a cooperative's members; 3: the figures kept, ``figures/...``, which a store
#: of layout 2 lacks, with no mark to make them from; 4: when each command sent under an
#: idempotency key was decided, ``decided/...``, ``gateway.decided``, which a store of
#: layout 3 lacks; it also rebuilds the stores of layout 3 that kept a loan's repayments in
#: its document, a change made without a bump; 5: each cooperative's assemblies,
#: ``coop_assemblies``, written when an assembly is convened, which a store of layout 4 lacks;
#: 6: the insurance service's products and policies, which a store of layout 5 never folded;
#: 7: each insurance product's figures, kept as its policies' events come, which 6 lacks;
#: 8: the catalogue of the node's insurance products, ``insurance_catalogue``, which a store
#: of layout 7 never wrote (and her covers, ``covers``, whose events were new then); 9: a
#: payout's sealed recipient and country on its remittance row, to suggest her beneficiaries
#: from, which rows folded at layout 8 lack); 10: the placement service's job orders,
#: employers and floors (issue 26), and her ``placements``, which a store of layout 9 never
#: folded; imported records' work and certificates' languages).
FORMAT = 10
_FORMAT_KEY = b"meta/format"

#: The size of one RocksDB memtable (two at most: one filling, one being flushed), and of
#: its cache of uncompressed blocks: resident memory, whatever the number of members (RocksDB's
#: defaults, 64 and 32 MiB, buy a read-mostly view nothing the OS's page cache does not).
WRITE_BUFFER_BYTES = 8 << 20
BLOCK_CACHE_BYTES = 8 << 20
#: Documents the fold keeps decoded between batches (the busiest members' and accounts',
#: which every batch touches again).
CACHE_DOCS = 4096
#: Chain positions kept in memory once committed (written through: the disk always has them
#: too), the most recently used; about 400 bytes each.
CACHE_CHAINS = 16384

def _doc_key(table: str, key: str) -> bytes:
    return f"{table}/{key}".encode()


def _rows_prefix(table: str, key: str) -> bytes:
    return f"{table}/{key}\x00".encode()


def _row_key(table: str, key: str, sort: str) -> bytes:
    return f"{table}/{key}\x00{sort}".encode()


def _chain_key(topic: str, subject: str) -> bytes:
    return f"chain/{topic}/{subject}".encode()


def _offset_key(topic: str, partition: int) -> bytes:
    return f"offset/{topic}/{partition}".encode()


_CHAIN = tuple[int, str | None]
_ENCODER = msgspec.msgpack.Encoder()
_DECODERS = {table: msgspec.msgpack.Decoder(cls) for table, cls in TABLES.items()}
_ROW_DECODERS = {table: msgspec.msgpack.Decoder(cls) for table, cls in ROWS.items()}
_CHAIN_DECODER = msgspec.msgpack.Decoder(_CHAIN)


class OtherLayout(Exception):
    """A store of another layout than this code's (``FORMAT``), left as it is."""


class RocksStore:
    """A ``documents.DocumentStore`` on RocksDB (``rocksdict`` in raw mode).

    ``get``/``put`` and ``chain``/``set_chain``/``set_offset`` work in a session (a batch of
    events): ``get`` returns the session's copy of a document (decoded once per session, or
    taken out of the cache of committed documents, to which ``commit`` returns it),
    ``put`` marks it changed, and nothing reaches the disk until ``commit`` writes the changed
    documents (encoded once), chain positions and offsets in one ``WriteBatch``; ``rollback``
    forgets the session. ``read`` and ``position`` return committed state (a fresh copy of a
    document), so readers never see a batch half applied nor share objects with the fold.
    Both caches (documents, ``CACHE_DOCS``; chain positions, ``CACHE_CHAINS``, written
    through at ``commit``) forget their least recently used entry first.
    """

    def __init__(self, path: Path, *, empty_other_layout: bool = True):
        """Open (or create) the store at ``path``. One of another layout is emptied to be
        rebuilt, or, with ``empty_other_layout=False`` (a copy is asked of it, not a fold),
        left as it is: ``OtherLayout``."""
        path.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.db = self._open(path)
        found = self.db.get(_FORMAT_KEY)
        if found is not None:
            layout = msgspec.msgpack.decode(found)
        else:  # a store written before its layout was recorded, or a new one
            layout = 1 if next(iter(self.db.keys()), None) is not None else None
        if layout not in (None, FORMAT) and not empty_other_layout:
            self.db.close()
            raise OtherLayout(f"the store {path.name} has layout {layout}, not {FORMAT}")
        if layout not in (None, FORMAT):
            log.warning("the store %s has layout %s, not %d: emptied, to be rebuilt from the "
                        "log (coopbridge replay --workers N rebuilds it faster, the gateway "
                        "stopped)", path.name, layout, FORMAT)
            self.db.close()
            aside = path.with_name(path.name + ".old-layout")
            shutil.rmtree(aside, ignore_errors=True)  # left by a crash here, if any
            path.rename(aside)  # at once: never a half-deleted store where the gateway looks
            path.mkdir()
            self.db = self._open(path)
            shutil.rmtree(aside, ignore_errors=True)
        if layout != FORMAT:
            self.db[_FORMAT_KEY] = msgspec.msgpack.encode(FORMAT)
        self._session: dict[tuple[str, str], Doc] = {}
        # committed, decoded, least recently used first
        self._cache: OrderedDict[tuple[str, str], Doc] = OrderedDict()
        self.cache_size = CACHE_DOCS
        self._changed: dict[tuple[str, str], Doc] = {}
        self._rows: dict[tuple[str, str, str], Row] = {}  # this session's, all changed
        self._chains: dict[tuple[str, str], _CHAIN] = {}
        # committed chain positions, least recently used first (``position``'s too)
        self._positions: OrderedDict[tuple[str, str], _CHAIN] = OrderedDict()
        self.positions_size = CACHE_CHAINS
        self._offsets: dict[tuple[str, int], int] = {}
        self._raw: dict[bytes, bytes] = {}  # this session's raw rows (``stage_raw``)
        #: called with the raw rows of each committed session (``stage_raw``), once written
        self.on_commit: list[Callable[[dict[bytes, bytes]], None]] = []

    @staticmethod
    def _open(path: Path) -> Rdict:
        return Rdict(str(path), RocksStore.options())

    @staticmethod
    def options() -> Options:
        """How the store's RocksDB is opened (raw mode: bytes keys and values)."""
        options = Options(raw_mode=True)
        options.create_if_missing(True)
        options.set_write_buffer_size(WRITE_BUFFER_BYTES)
        table = BlockBasedOptions()
        table.set_block_cache(Cache(BLOCK_CACHE_BYTES))
        table.set_bloom_filter(10, False)  # a key not there (a new aggregate) costs no read
        options.set_block_based_table_factory(table)
        return options

    # DocumentStore (the session of one batch)
    def get(self, table: str, key: str) -> Doc | None:
        k = (table, key)
        doc = self._session.get(k)
        if doc is None:
            doc = self._cache.pop(k, None)  # back at commit; gone if the session is not
            if doc is None:
                raw = self.db.get(_doc_key(table, key))
                doc = None if raw is None else _DECODERS[table].decode(raw)
            if doc is not None:
                self._session[k] = doc
        return doc

    def put(self, table: str, key: str, doc: Doc) -> None:
        if not isinstance(doc, TABLES[table]):
            raise TypeError(f"{type(doc).__name__} does not belong in table {table}")
        k = (table, key)
        self._session[k] = doc
        self._changed[k] = doc

    def row(self, table: str, key: str, sort: str) -> Row | None:
        """The row, this session's if it wrote it (the same object: change it, then
        ``put_row``)."""
        k = (table, key, sort)
        found = self._rows.get(k)
        if found is None:
            raw = self.db.get(_row_key(table, key, sort))
            found = None if raw is None else _ROW_DECODERS[table].decode(raw)
        return found

    def put_row(self, table: str, key: str, sort: str, row: Row) -> None:
        if not isinstance(row, ROWS[table]):
            raise TypeError(f"{type(row).__name__} does not belong in table {table}")
        self._rows[(table, key, sort)] = row

    def chain(self, topic: str, subject: str) -> _CHAIN:
        """The aggregate's chain position, this session's if it moved it."""
        found = self._chains.get((topic, subject))
        return self.position(topic, subject) if found is None else found

    def set_chain(self, topic: str, subject: str, version: int, last_id: str) -> None:
        self._chains[(topic, subject)] = (version, last_id)

    def set_offset(self, topic: str, partition: int, next_offset: int) -> None:
        self._offsets[(topic, partition)] = next_offset

    def stage_raw(self, key: bytes, value: bytes) -> None:
        """A raw row written with this session (the figures' marks, ``gateway.figures.kept``)."""
        self._raw[key] = value

    def commit(self) -> None:
        """Write the session's changed documents, chains and offsets atomically."""
        batch = WriteBatch(raw_mode=True)
        encode = _ENCODER.encode
        for (table, key), doc in self._changed.items():
            batch.put(_doc_key(table, key), encode(doc))
        for (table, key, sort), row in self._rows.items():
            batch.put(_row_key(table, key, sort), encode(row))
        for (topic, subject), chain in self._chains.items():
            batch.put(_chain_key(topic, subject), encode(chain))
        for (topic, partition), next_offset in self._offsets.items():
            batch.put(_offset_key(topic, partition), encode(next_offset))
        for key, value in self._raw.items():
            batch.put(key, value)
        self.db.write(batch)
        self._remember(self._cache, self._session, self.cache_size)
        self._remember(self._positions, self._chains, self.positions_size)
        raw = self._raw
        self.rollback()
        if raw:
            for listener in self.on_commit:
                listener(raw)

    @staticmethod
    def _remember(cache: OrderedDict, committed: dict, size: int) -> None:
        """Put what was just committed in ``cache``, as its most recently used, and forget
        its least recently used beyond ``size``."""
        for k, value in committed.items():
            cache[k] = value
            cache.move_to_end(k)
        for _ in range(len(cache) - size):
            cache.popitem(last=False)

    def rollback(self) -> None:
        self._session.clear()
        self._changed.clear()
        self._rows.clear()
        self._chains.clear()
        self._offsets.clear()
        self._raw = {}  # a new dict: the one committed went to the listeners

    # committed state
    def read(self, table: str, key: str) -> Doc | None:
        raw = self.db.get(_doc_key(table, key))
        return None if raw is None else _DECODERS[table].decode(raw)

    def rows(self, table: str, key: str, after: str | None = None) -> Iterator[Row]:
        """The committed rows of ``key`` in ``table``, in ``sort`` order (after ``after``
        only, if given), decoded as they are iterated."""
        prefix = _rows_prefix(table, key)
        start = prefix if after is None else _row_key(table, key, after)
        decode = _ROW_DECODERS[table].decode
        for k, v in self.db.items(from_key=start):
            if not k.startswith(prefix):
                return
            if after is not None and k == start:
                continue
            yield decode(v)

    def position(self, topic: str, subject: str) -> _CHAIN:
        k = (topic, subject)
        found = self._positions.get(k)
        if found is not None:
            self._positions.move_to_end(k)
            return found
        raw = self.db.get(_chain_key(topic, subject))
        return (0, None) if raw is None else _CHAIN_DECODER.decode(raw)

    def raw(self, key: bytes) -> bytes | None:
        """A raw row, as committed."""
        return self.db.get(key)

    def raw_items(self, prefix: bytes) -> Iterator[tuple[bytes, bytes]]:
        """The committed raw rows whose key starts with ``prefix``, in key order."""
        for k, v in self.db.items(from_key=prefix):
            if not k.startswith(prefix):
                break
            yield k, v

    def write_raw(self, puts: dict[bytes, bytes], deletes: Iterable[bytes]) -> None:
        """Write raw rows and delete others in one ``WriteBatch``, outside any session (the
        figures' follower, ``gateway.figures.kept``)."""
        batch = WriteBatch(raw_mode=True)
        for key, value in puts.items():
            batch.put(key, value)
        for key in deletes:
            batch.delete(key)
        self.db.write(batch)

    def compact(self, prefix: bytes) -> None:
        """Rewrite the files that hold rows starting with ``prefix``, so that deleted ones are
        gone from the disk too (an erased member's figures), not only from reads."""
        self.db.compact_range(prefix, prefix + b"\xff")

    def offsets(self, topics: Iterable[str]) -> dict[tuple[str, int], int]:
        """The next offset to read of every stored partition of ``topics``."""
        found: dict[tuple[str, int], int] = {}
        for topic in topics:
            prefix = f"offset/{topic}/".encode()
            for k, v in self.db.items(from_key=prefix):
                if not k.startswith(prefix):
                    break
                found[(topic, int(k[len(prefix):]))] = msgspec.msgpack.decode(v, type=int)
        return found

    def checkpoint(self, path: Path) -> None:
        """RocksDB's own checkpoint of the committed state into ``path`` (which must not
        exist): the memtable flushed, table files hard-linked (copied across file systems),
        the rest copied. A commit is one ``WriteBatch``, so the copy holds whole batches only:
        documents, chain positions and offsets of the same batches. ``gateway.checkpoints``
        makes it a checkpoint a replica can start from."""
        Checkpoint(self.db).create_checkpoint(str(path))

    def close(self) -> None:
        self.rollback()
        self._cache.clear()
        self._positions.clear()
        self.db.close()
