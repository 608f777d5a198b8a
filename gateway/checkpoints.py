"""Checkpoints of a gateway replica's store: a consistent copy that a new or rebuilt replica
starts from, replaying only the tail of the log.

What it owns: the folder of a node's checkpoints (``services.config.checkpoints_dir``,
``<home>/gateway/checkpoints/<node>`` by default), one folder per checkpoint, named
``<taken, UTC>-<replica>`` so that names sort by time::

    20261206T190412.123456Z-1/
        store/            RocksDB's own checkpoint of the replica's store (RocksStore.checkpoint)
        checkpoint.json   the manifest: node, replica, when, the store's layout, the offsets
                          the store holds, and every file of store/ with its size and SHA-256

It reads and writes no topic. A checkpoint is taken between two committed batches (the
fold writes a batch in one ``WriteBatch``, and the gateway takes it on its event loop, where
batches are committed), so its documents, chain positions and offsets are those of the same
batches. It is written into a hidden folder (``.taking-<replica>.<name>``) and renamed into place
once the manifest is written and synced: a half-written checkpoint (the process killed, the
disk full) never has a checkpoint's name, and the next checkpoint of that replica removes it.
The newest ``keep`` are kept; an older one is renamed out of its name (``.pruning-<name>``)
before its files are removed, so a process killed while removing it never leaves a
checkpoint's name on a folder without its manifest (``make chaos`` found one), and what such a
kill left is removed at the next pruning.

A replica with no store yet (``restore``) takes the newest checkpoint of its node that checks
out: its manifest reads, it was taken of this node with the store layout of this code
(``layout``), every file is there with its size and hash, and the copy, opened, holds the
offsets its manifest lists. One that does not is skipped (and logged), and the next older one
tried; with none, the replica folds the whole log. The copy is made beside the data directory
and renamed into place, table files hard-linked (RocksDB never changes a table file; deleting
one only unlinks it), the rest copied.

Personal data: a checkpoint holds what the store holds, and the store holds personal details
only sealed under each member's data key; erasure destroys the key, so a checkpoint taken
before an erasure keeps only noise of her, like the events topics themselves
(``docs/gateway.md``, "Checkpoints").
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import json
import logging
import os
import re
import shutil
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import msgspec

from gateway.fold import ROWS, TABLES
from gateway import store as store_layout
from gateway.store import RocksStore

log = logging.getLogger(__name__)

MANIFEST = "checkpoint.json"
STORE = "store"
MANIFEST_FORMAT = 1  # the manifest's own shape (the store's is ``gateway.store.FORMAT``)
_STAGING = ".taking-"
_PRUNING = ".pruning-"
_NAME = re.compile(r"^\d{8}T\d{6}\.\d{6}Z-[A-Za-z0-9_-]{1,32}$")
_CHUNK = 1 << 20


class BadCheckpoint(ValueError):
    """A checkpoint that must not be used: the message says why."""


@dataclass(frozen=True)
class Checkpoint:
    """One checkpoint: its folder and what its manifest says."""

    path: Path
    node: str
    replica: str
    taken: dt.datetime
    offsets: dict[tuple[str, int], int]
    files: dict[str, tuple[int, str]]  # name in store/ -> (size, SHA-256)
    layout: str = ""

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def records(self) -> int:
        """Records of the log (every topic and partition) the checkpoint has read."""
        return sum(self.offsets.values())

    @property
    def size(self) -> int:
        return sum(size for size, _ in self.files.values())

    def summary(self) -> dict:
        """What an operator is told of it (``coopbridge checkpoint``, ``/admin/checkpoint``)."""
        return {"name": self.name, "node": self.node, "replica": self.replica,
                "taken": self.taken.isoformat(), "records": self.records,
                "bytes": self.size, "path": str(self.path)}


def layout() -> str:
    """A fingerprint of the store's layout: its ``FORMAT``, its tables of documents and of
    rows, and the shape of both. A checkpoint taken by code with another layout is not used
    (the replica folds the log)."""
    schemas, components = msgspec.json.schema_components([*TABLES.values(), *ROWS.values()])
    text = json.dumps([store_layout.FORMAT, sorted(TABLES), sorted(ROWS), schemas, components],
                      sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


# -- taking one ------------------------------------------------------------------------------


def begin(store: RocksStore, topics: list[str], node: str, replica: str,
          where: Path) -> tuple[Path, dict]:
    """The part of a checkpoint that must not interleave with a commit (call it where
    batches are committed, and commit nothing meanwhile): RocksDB's checkpoint of ``store``
    into a hidden staging folder, and the manifest's facts. Returns ``(staging folder,
    manifest)``; ``finish`` completes it, anywhere. The staging folder is under ``where`` if
    that is on the store's file system (table files hard-linked: milliseconds); else beside
    the store, and ``finish`` copies it to ``where`` (RocksDB would copy every file across
    file systems here, with the fold waiting)."""
    where.mkdir(parents=True, exist_ok=True)
    beside = store.path.parent
    for folder in {where, beside}:
        for stale in folder.glob(f"{_STAGING}{replica}.*"):  # this replica's, left by a crash
            log.warning("removing a half-written checkpoint %s", stale.name)
            shutil.rmtree(stale, ignore_errors=True)
    if os.stat(where).st_dev != os.stat(beside).st_dev:
        where = beside
    taken = dt.datetime.now(dt.UTC)
    name = f"{taken:%Y%m%dT%H%M%S.%fZ}-{replica}"
    staging = where / f"{_STAGING}{replica}.{name}"
    staging.mkdir()
    try:
        offsets = store.offsets(topics)
        store.checkpoint(staging / STORE)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    manifest = {"format": MANIFEST_FORMAT, "node": node, "replica": replica,
                "taken": taken.isoformat(), "layout": layout(), "name": name,
                "offsets": _offsets_json(offsets)}
    return staging, manifest


def finish(staging: Path, manifest: dict, keep: int, where: Path | None = None) -> Checkpoint:
    """Hash the staged files, write the manifest, sync, rename the folder into place in
    ``where`` (copied there first if it was staged elsewhere: ``begin``), and keep the newest
    ``keep`` checkpoints. Blocking file work: run it in a thread."""
    if where is not None and staging.parent != where:
        local, staging = staging, where / staging.name
        shutil.rmtree(staging, ignore_errors=True)
        try:
            shutil.copytree(local, staging)
        finally:
            shutil.rmtree(local, ignore_errors=True)
        for path in (staging / STORE).iterdir():  # copies, unlike links, need their own sync
            with open(path, "rb") as copied:
                os.fsync(copied.fileno())
    files = {path.name: _measure(path) for path in sorted((staging / STORE).iterdir())}
    manifest = {**manifest, "files": {name: list(f) for name, f in files.items()}}
    with open(staging / MANIFEST, "w") as out:
        json.dump(manifest, out, indent=1)
        out.flush()
        os.fsync(out.fileno())
    for folder in (staging / STORE, staging):
        _sync_dir(folder)
    final = staging.with_name(manifest["name"])
    os.rename(staging, final)
    _sync_dir(final.parent)
    prune(final.parent, keep)
    return _read(final)


def take(store: RocksStore, topics: list[str], node: str, replica: str, where: Path,
         keep: int) -> Checkpoint:
    """A checkpoint of a store nobody else is writing (``coopbridge checkpoint`` on a stopped
    replica): ``begin`` and ``finish`` in one go."""
    staging, manifest = begin(store, topics, node, replica, where)
    try:
        return finish(staging, manifest, keep, where)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def unmoved(where: Path, offsets: dict[tuple[str, int], int]) -> Checkpoint | None:
    """The newest checkpoint of ``where`` if it was taken at ``offsets`` by code of this
    store layout (a new one would hold the same), else None."""
    newest = listed(where)
    if newest and newest[0].offsets == offsets and newest[0].layout == layout():
        return newest[0]
    return None


def prune(where: Path, keep: int) -> list[str]:
    """Remove all but the newest ``keep`` checkpoints of ``where``; returns the names removed.
    Folders that are not checkpoints (a name of another shape) are left alone."""
    names = sorted(p.name for p in where.iterdir() if _NAME.match(p.name) and p.is_dir())
    gone = names[:max(0, len(names) - keep)]
    for name in gone:
        with contextlib.suppress(FileNotFoundError):  # another replica pruned it first
            os.rename(where / name, where / f"{_PRUNING}{name}")
    for left in where.glob(f"{_PRUNING}*"):  # these, and any a kill left half removed
        shutil.rmtree(left, ignore_errors=True)
    return gone


async def on_schedule(every_s: float, where: Path,
                      take_one: Callable[[], Awaitable[Checkpoint | None]]) -> None:
    """Take a checkpoint every ``every_s`` seconds, counted from the newest checkpoint of the
    node (whichever replica took it; with none, from now), until cancelled. ``take_one``
    returns None when there was nothing new to take. A checkpoint that fails is logged and
    tried again at the next turn: it never stops the gateway."""
    newest = listed(where)
    last = newest[0].taken if newest else dt.datetime.now(dt.UTC)
    while True:
        newest = listed(where)  # another replica's counts too
        if newest and newest[0].taken > last:
            last = newest[0].taken
        wait = (last + dt.timedelta(seconds=every_s) - dt.datetime.now(dt.UTC)).total_seconds()
        if wait > 0:
            await asyncio.sleep(wait)
            continue
        try:
            made = await take_one()
            if made is not None:
                log.info("checkpoint %s taken: %d records, %d bytes", made.name, made.records,
                         made.size)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - a failed checkpoint must not stop serving
            log.error("a scheduled checkpoint failed: %s", exc)
        last = dt.datetime.now(dt.UTC)


# -- finding and restoring one ---------------------------------------------------------------


def listed(where: Path) -> list[Checkpoint]:
    """The checkpoints of ``where`` whose manifest reads, newest first (their files not
    checked: ``verify`` does that)."""
    if not where.is_dir():
        return []
    found = []
    for path in sorted((p for p in where.iterdir() if _NAME.match(p.name)), reverse=True):
        try:
            found.append(_read(path))
        except BadCheckpoint:
            continue
    return found


def verify(path: Path, node: str) -> Checkpoint:
    """The checkpoint at ``path`` if it may be used for ``node``; else ``BadCheckpoint``."""
    checkpoint = _read(path)
    manifest = json.loads((path / MANIFEST).read_text())
    if checkpoint.node != node:
        raise BadCheckpoint(f"taken of node {checkpoint.node}, not {node}")
    if manifest.get("layout") != layout():
        raise BadCheckpoint("taken with another store layout (the read model changed)")
    there = {p.name for p in (path / STORE).iterdir()} if (path / STORE).is_dir() else set()
    if there != set(checkpoint.files):
        raise BadCheckpoint(f"its files are not those its manifest lists "
                            f"(missing {sorted(set(checkpoint.files) - there)[:3]}, "
                            f"extra {sorted(there - set(checkpoint.files))[:3]})")
    for name, expected in checkpoint.files.items():
        if _measure(path / STORE / name) != expected:
            raise BadCheckpoint(f"its file {name} is not the one written")
    return checkpoint


def restore(node: str, data_dir: Path, where: Path, topics: list[str]) -> Checkpoint | None:
    """Make ``data_dir`` (which holds no store) a copy of the newest usable checkpoint of
    ``where``; returns it, or None when there is none (the replica folds the whole log)."""
    if data_dir.exists() and any(data_dir.iterdir()):
        raise FileExistsError(f"{data_dir} is not empty: a checkpoint is restored into an "
                              "empty data directory only")
    for candidate in listed(where):
        copy = data_dir.with_name(data_dir.name + ".restoring")
        shutil.rmtree(copy, ignore_errors=True)
        try:
            checkpoint = verify(candidate.path, node)
            _copy_store(candidate.path / STORE, copy)
            opened = RocksStore(copy)
            try:
                held = opened.offsets(topics)
            finally:
                opened.close()
            listed_offsets = {tp: n for tp, n in checkpoint.offsets.items() if tp[0] in topics}
            if held != listed_offsets:
                raise BadCheckpoint("its store does not hold the offsets its manifest lists")
        except Exception as exc:  # noqa: BLE001 - whatever is wrong with it, try the next one
            shutil.rmtree(copy, ignore_errors=True)
            log.warning("checkpoint %s not used: %s", candidate.name, exc)
            continue
        if data_dir.exists():
            data_dir.rmdir()
        os.rename(copy, data_dir)
        _sync_dir(data_dir.parent)
        log.info("store restored from checkpoint %s (%d records of the log)",
                 checkpoint.name, checkpoint.records)
        return checkpoint
    return None


# -- helpers ---------------------------------------------------------------------------------


def _read(path: Path) -> Checkpoint:
    try:
        manifest = json.loads((path / MANIFEST).read_text())
        if manifest.get("format") != MANIFEST_FORMAT or manifest.get("name") != path.name:
            raise BadCheckpoint("not a checkpoint manifest of this format and name")
        offsets = {(topic, int(partition)): int(n)
                   for topic, parts in manifest["offsets"].items()
                   for partition, n in parts.items()}
        files = {str(name): (int(size), str(digest))
                 for name, (size, digest) in manifest["files"].items()}
        return Checkpoint(path, str(manifest["node"]), str(manifest["replica"]),
                          dt.datetime.fromisoformat(manifest["taken"]), offsets, files,
                          str(manifest.get("layout", "")))
    except BadCheckpoint:
        raise
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise BadCheckpoint(f"its manifest does not read: {type(exc).__name__}") from exc


def _offsets_json(offsets: dict[tuple[str, int], int]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for (topic, partition), n in sorted(offsets.items()):
        out.setdefault(topic, {})[str(partition)] = n
    return out


def _measure(path: Path) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def _copy_store(source: Path, target: Path) -> None:
    """Table files hard-linked (copied across file systems), every other file copied."""
    target.mkdir(parents=True)
    for path in source.iterdir():
        if path.suffix == ".sst":
            try:
                os.link(path, target / path.name)
                continue
            except OSError:
                pass
        shutil.copy2(path, target / path.name)
    _sync_dir(target)


def _sync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
