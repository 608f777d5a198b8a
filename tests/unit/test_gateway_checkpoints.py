"""Checkpoints of a gateway store (``gateway.checkpoints``), on local disk with no broker:
only the newest are kept, a half-written, damaged, foreign or out-of-date one is never
restored (the next older one is), a restored store holds the bytes of the checkpoint, and the
schedule counts from the newest checkpoint of any replica and survives a failed one."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import os
import shutil
import tempfile
from pathlib import Path

import msgspec
import pytest
from gateway import checkpoints
from gateway.checkpoints import MANIFEST, STORE, listed, restore, take
from gateway.store import RocksStore
from services import config
from tests.integration.test_catch_up import everything

NODE = "es"
TOPICS = ["es.membership.events", "es.savings.events"]


@pytest.fixture
def store(tmp_path):
    opened = RocksStore(tmp_path / "live")
    yield opened
    opened.close()


def fold_some(store: RocksStore, upto: int) -> None:
    """A batch as the fold writes one: chains and the offsets read, in one commit."""
    for n in range(upto - 10, upto):
        store.set_chain(TOPICS[0], f"member-{n}", 1, f"event-{n}")
        store.set_offset(TOPICS[0], 0, n + 1)
        store.set_offset(TOPICS[1], n % 2, n // 2 + 1)
    store.commit()


def test_a_checkpoint_holds_the_store_and_only_the_newest_are_kept(store, tmp_path):
    where = tmp_path / "checkpoints" / NODE
    taken = []
    for upto in (10, 20, 30, 40):
        fold_some(store, upto)
        taken.append(take(store, TOPICS, NODE, "1", where, keep=3))
    assert [c.name for c in listed(where)] == [c.name for c in reversed(taken[1:])]
    assert not (where / taken[0].name).exists()
    newest = listed(where)[0]
    assert newest.offsets == {(TOPICS[0], 0): 40, (TOPICS[1], 0): 20, (TOPICS[1], 1): 20}
    assert newest.records == 80 and newest.size > 0

    target = tmp_path / "replica-2"
    restored = restore(NODE, target, where, TOPICS)
    assert restored is not None and restored.name == newest.name
    assert everything(target) == everything(newest.path / STORE)
    assert not list(tmp_path.glob("*.restoring"))


def test_a_kill_while_an_old_checkpoint_is_removed_leaves_no_checkpoint_without_manifest(
        store, tmp_path, monkeypatch):
    """``make chaos`` found a folder under a checkpoint's name without its manifest: the
    gateway was killed while removing the oldest checkpoint, file by file. Now it is renamed
    out of its name first, and what the kill left is removed at the next pruning."""
    where = tmp_path / "checkpoints" / NODE
    for upto in (10, 20):
        fold_some(store, upto)
        take(store, TOPICS, NODE, "1", where, keep=2)
    real = shutil.rmtree

    def killed_midway(path, ignore_errors=False):
        (Path(path) / MANIFEST).unlink()  # the first file gone, then the process is killed
        raise KeyboardInterrupt

    monkeypatch.setattr(checkpoints.shutil, "rmtree", killed_midway)
    with pytest.raises(KeyboardInterrupt):
        checkpoints.prune(where, keep=1)
    named = [p for p in where.iterdir() if checkpoints._NAME.match(p.name)]  # noqa: SLF001
    assert all((p / MANIFEST).exists() for p in named) and len(named) == 1
    monkeypatch.setattr(checkpoints.shutil, "rmtree", real)
    fold_some(store, 30)
    take(store, TOPICS, NODE, "1", where, keep=1)
    assert [p.name for p in where.iterdir()] == [listed(where)[0].name]  # the leftover too


def test_a_half_written_or_damaged_checkpoint_is_never_restored(store, tmp_path):
    where = tmp_path / "checkpoints" / NODE
    fold_some(store, 10)
    good = take(store, TOPICS, NODE, "1", where, keep=10)
    fold_some(store, 20)
    damaged = take(store, TOPICS, NODE, "1", where, keep=10)
    # a table file with one byte changed (same size): bit rot, or a copy gone wrong
    table = next((damaged.path / STORE).glob("*.sst"))
    data = bytearray(table.read_bytes())
    data[len(data) // 2] ^= 0xFF
    table.unlink()  # the live store's link to it stays whole
    table.write_bytes(bytes(data))
    # a checkpoint's name with no manifest (renamed by hand, or a copy cut short) ...
    unnamed = where / "29991231T235959.000000Z-1"
    (unnamed / STORE).mkdir(parents=True)
    # ... and one of replica 2 being written when its process was killed
    half_written, _ = checkpoints.begin(store, TOPICS, NODE, "2", where)
    # a newer one of another node, and one of another layout of the store
    fold_some(store, 30)
    foreign = take(store, TOPICS, "ec", "1", where, keep=10)
    fold_some(store, 40)
    outdated = take(store, TOPICS, NODE, "1", where, keep=10)
    manifest = json.loads((outdated.path / MANIFEST).read_text())
    (outdated.path / MANIFEST).write_text(json.dumps({**manifest, "layout": "0" * 16}))

    with pytest.raises(checkpoints.BadCheckpoint, match="another store layout"):
        checkpoints.verify(outdated.path, NODE)
    with pytest.raises(checkpoints.BadCheckpoint, match="node ec"):
        checkpoints.verify(foreign.path, NODE)
    with pytest.raises(checkpoints.BadCheckpoint, match="not the one written"):
        checkpoints.verify(damaged.path, NODE)
    target = tmp_path / "replica-2"
    restored = restore(NODE, target, where, TOPICS)
    assert restored is not None and restored.name == good.name
    assert everything(target) == everything(good.path / STORE)

    # the next checkpoint of replica 2 removes what its killed predecessor left
    assert half_written.exists()
    take(store, TOPICS, NODE, "2", where, keep=10)
    assert not half_written.exists() and not list(where.glob(".taking-*"))


def test_no_usable_checkpoint_leaves_the_data_directory_to_the_fold(store, tmp_path):
    where = tmp_path / "checkpoints" / NODE
    assert restore(NODE, tmp_path / "replica-2", where, TOPICS) is None
    assert not (tmp_path / "replica-2").exists()
    fold_some(store, 10)
    take(store, TOPICS, NODE, "1", where, keep=3)
    occupied = tmp_path / "replica-3"
    occupied.mkdir()
    (occupied / "something").write_text("not a store")
    with pytest.raises(FileExistsError):
        restore(NODE, occupied, where, TOPICS)


@pytest.mark.parametrize(("value", "seconds"), [
    ("3600", 3600.0), ("90s", 90.0), ("15m", 900.0), ("6h", 21600.0), ("1d", 86400.0),
    ("0.5", 0.5), ("0", None), ("off", None)])
def test_the_checkpoint_schedule_is_seconds_or_a_duration(monkeypatch, value, seconds):
    monkeypatch.setenv("COOPBRIDGE_CHECKPOINT_EVERY", value)
    assert config.checkpoint_every_s() == seconds
    monkeypatch.delenv("COOPBRIDGE_CHECKPOINT_EVERY")
    assert config.checkpoint_every_s() == 86400.0
    monkeypatch.setenv("COOPBRIDGE_CHECKPOINT_EVERY", "daily")
    with pytest.raises(config.ConfigError):
        config.checkpoint_every_s()


async def test_the_schedule_goes_on_after_a_failed_checkpoint(store, tmp_path):
    where = tmp_path / "checkpoints" / NODE
    attempts = []

    async def take_one():
        attempts.append(1)
        if len(attempts) == 2:
            raise OSError("No space left on device")
        fold_some(store, 10 * len(attempts))
        return take(store, TOPICS, NODE, "1", where, keep=10)

    schedule = asyncio.create_task(checkpoints.on_schedule(0.05, where, take_one))
    while len(attempts) < 4:
        await asyncio.sleep(0.01)
    schedule.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await schedule
    assert len(listed(where)) >= 3  # the second failed, the others were taken


async def test_the_schedule_counts_from_the_newest_checkpoint_of_any_replica(store, tmp_path):
    where = tmp_path / "checkpoints" / NODE
    fold_some(store, 10)
    other = take(store, TOPICS, NODE, "2", where, keep=10)  # another replica's, just now
    attempts = []

    async def take_one():
        attempts.append(dt.datetime.now(dt.UTC))
        return take(store, TOPICS, NODE, "1", where, keep=10)

    schedule = asyncio.create_task(checkpoints.on_schedule(1.0, where, take_one))
    for _ in range(1000):
        if attempts:
            break
        await asyncio.sleep(0.01)
    schedule.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await schedule
    # not before a second after the other replica's
    assert len(attempts) == 1 and (attempts[0] - other.taken).total_seconds() >= 1.0


def test_a_store_that_has_not_moved_is_the_newest_checkpoint_already(store, tmp_path):
    where = tmp_path / "checkpoints" / NODE
    fold_some(store, 10)
    assert checkpoints.unmoved(where, store.offsets(TOPICS)) is None
    taken = take(store, TOPICS, NODE, "1", where, keep=3)
    assert checkpoints.unmoved(where, store.offsets(TOPICS)) == taken
    fold_some(store, 20)
    assert checkpoints.unmoved(where, store.offsets(TOPICS)) is None


def test_the_layout_fingerprint_follows_the_stores_format(monkeypatch):
    from gateway import store as store_module  # noqa: PLC0415

    before = checkpoints.layout()
    monkeypatch.setattr(store_module, "FORMAT", store_module.FORMAT + 1)
    assert checkpoints.layout() != before


SHARED = Path("/dev/shm")


@pytest.mark.skipif(not SHARED.is_dir(), reason="needs a second file system (/dev/shm)")
def test_a_checkpoint_to_another_file_system_is_staged_beside_the_store(store, tmp_path):
    if os.stat(SHARED).st_dev == os.stat(tmp_path).st_dev:
        pytest.skip("/dev/shm is on the same file system here")
    where = Path(tempfile.mkdtemp(dir=SHARED)) / NODE
    try:
        fold_some(store, 10)
        staging, manifest = checkpoints.begin(store, TOPICS, NODE, "1", where)
        assert staging.parent == store.path.parent  # linked beside the store, not copied
        taken = checkpoints.finish(staging, manifest, 3, where)
        assert taken.path.parent == where and not staging.exists()
        assert taken.offsets == {(TOPICS[0], 0): 10, (TOPICS[1], 0): 5, (TOPICS[1], 1): 5}
        restored = restore(NODE, tmp_path / "replica-2", where, TOPICS)
        assert restored is not None and restored.name == taken.name
        assert everything(tmp_path / "replica-2") == everything(taken.path / STORE)
    finally:
        shutil.rmtree(where.parent, ignore_errors=True)


@pytest.mark.parametrize("name, value", [
    ("COOPBRIDGE_CHECKPOINT_KEEP", "0"), ("COOPBRIDGE_CATCH_UP_BATCH", "0"),
    ("COOPBRIDGE_CATCH_UP_BEYOND", "-1"), ("COOPBRIDGE_CATCH_UP_BEYOND", "many")])
def test_a_count_setting_out_of_range_is_a_clear_error(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    read = {"COOPBRIDGE_CHECKPOINT_KEEP": config.checkpoint_keep,
            "COOPBRIDGE_CATCH_UP_BATCH": config.catch_up_batch,
            "COOPBRIDGE_CATCH_UP_BEYOND": config.catch_up_beyond}[name]
    with pytest.raises(config.ConfigError, match=name):
        read()


def test_coopbridge_checkpoint_copies_a_stopped_store_and_never_empties_one(
        monkeypatch, tmp_path):
    """What `coopbridge checkpoint` does with a store no gateway holds: copies it; one of
    another layout (an older release's) is refused and left as it was; a replica id that
    is no id is refused."""
    from deploy.operate import CheckpointRefused, checkpoint  # noqa: PLC0415
    from gateway.projections import store_dir  # noqa: PLC0415
    from gateway.store import _FORMAT_KEY, FORMAT  # noqa: PLC0415

    monkeypatch.setenv("COOPBRIDGE_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("COOPBRIDGE_CHECKPOINTS", raising=False)  # the operator's own: not
    monkeypatch.delenv("COOPBRIDGE_CHECKPOINT_KEEP", raising=False)  # written to or pruned
    stopped = RocksStore(store_dir(NODE, "1"))
    fold_some(stopped, 10)
    stopped.close()
    made = checkpoint(NODE, "1")
    assert made["records"] == 20 and Path(made["path"]).is_dir()

    older = RocksStore(store_dir(NODE, "2"))
    fold_some(older, 10)
    older.db[_FORMAT_KEY] = msgspec.msgpack.encode(FORMAT - 1)
    older.close()
    before = everything(store_dir(NODE, "2"))
    with pytest.raises(CheckpointRefused, match="layout"):
        checkpoint(NODE, "2")
    assert everything(store_dir(NODE, "2")) == before
    with pytest.raises(CheckpointRefused, match="invalid gateway replica id"):
        checkpoint(NODE, "../1")


@pytest.mark.parametrize("who, status", [
    (None, 401), ("expired", 401), ("analyst", 403), ("node_admin", 503)])
def test_only_the_nodes_operator_asks_a_ready_gateway_for_a_checkpoint(who, status):
    """``POST /admin/checkpoint``: no token or an expired one, 401; another role, 403; the
    operator before the gateway is ready (its lifespan has not run here), 503."""
    import httpx  # noqa: PLC0415

    from gateway.app import create_app  # noqa: PLC0415
    from gateway.auth import Role, issue_token  # noqa: PLC0415

    headers = {}
    if who is not None:
        long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=2)
        token = (issue_token(NODE, Role.NODE_ADMIN, now=long_ago) if who == "expired" else
                 issue_token(NODE, Role(who)))
        headers["authorization"] = f"Bearer {token}"
    app = create_app(node=NODE, bootstrap="127.0.0.1:9", development=False)

    async def ask() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://gateway") as client:
            return await client.post("/admin/checkpoint", headers=headers)

    answer = asyncio.run(ask())
    assert answer.status_code == status, answer.text
    assert "error" in answer.json()


def test_a_gateway_asked_for_another_replicas_checkpoint_answers_409(monkeypatch):
    """`coopbridge checkpoint --replica 2` that reaches replica 1's gateway (its URL given,
    or the machine's gateway port) is told so before anything is taken: a checkpoint is one
    replica's store. Its own id, or none, goes on (here to 503: not ready)."""
    import httpx  # noqa: PLC0415

    from gateway.app import create_app  # noqa: PLC0415
    from gateway.auth import Role, issue_token  # noqa: PLC0415

    monkeypatch.setenv("COOPBRIDGE_GATEWAY_REPLICA", "1")
    app = create_app(node=NODE, bootstrap="127.0.0.1:9", development=False)
    headers = {"authorization": f"Bearer {issue_token(NODE, Role.NODE_ADMIN)}"}

    async def ask(params) -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://gateway") as client:
            return await client.post("/admin/checkpoint", params=params, headers=headers)

    other = asyncio.run(ask({"replica": "2"}))
    assert other.status_code == 409 and other.json()["replica"] == "1"
    assert asyncio.run(ask({"replica": "1"})).status_code == 503
    assert asyncio.run(ask({})).status_code == 503
