"""What an operator asks of running nodes: consumer lag, a projection rebuild, a checkpoint
of a gateway's store, a member's record exported to a file, and a record file verified offline.

The CLI (``deploy/cli.py``) prints; this module does the work and returns plain values. It
reads the services' commands topics, the events topics and the federation topics of the
node's peers (their ends, and the consumer groups' offsets on them: lag), and the events
topics again through the gateway's projections (replay); it writes no topic.
"""

from __future__ import annotations

import datetime as dt
import json
import fcntl
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from gateway.records import credentials, verification
from gateway.auth import Role, issue_token
from schemas.topics import (
    SERVICES,
    commands_topic,
    events_topic,
    federation_group,
    federation_topic,
    gateway_group,
    processor_group,
)
from services import config


# -- consumer lag ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Lag:
    node: str
    consumer: str  # membership, savings, training, federation, gateway
    group: str
    lag: int | None  # records not yet handled; None: the group has committed nothing yet
    partitions: int


def consumer_lag(nodes: list[str], bootstrap: str | None = None) -> list[Lag]:
    """How far each service's consumer group is behind its topics' ends, per node."""
    from kafka import KafkaAdminClient, KafkaConsumer  # noqa: PLC0415
    from kafka.structs import TopicPartition  # noqa: PLC0415

    bootstrap = bootstrap or config.bootstrap_servers()
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="coopbridge-status")
    probe = KafkaConsumer(bootstrap_servers=bootstrap, client_id="coopbridge-status",
                          enable_auto_commit=False)
    try:
        existing = set(admin.list_topics())
        lags = []
        for node in nodes:
            peers = [federation_topic(p) for p in config.peers(node)]
            wanted = {service: (processor_group(node, service),
                                [commands_topic(node, service)]) for service in SERVICES}
            wanted["federation"] = (federation_group(node),
                                    [events_topic(node, "savings"), *peers])
            wanted["gateway"] = (gateway_group(node, "1"),
                                 [events_topic(node, s) for s in SERVICES])
            for consumer, (group, topics) in wanted.items():
                partitions = [TopicPartition(t, p) for t in topics if t in existing
                              for p in sorted(probe.partitions_for_topic(t) or ())]
                committed = admin.list_group_offsets({group: None}).get(group) or {}
                ends = probe.end_offsets(partitions) if partitions else {}
                lag = None
                if committed:
                    lag = sum(max(0, ends[tp] - (committed[tp].offset if tp in committed
                                                 and committed[tp].offset >= 0 else 0))
                              for tp in partitions)
                lags.append(Lag(node, consumer, group, lag, len(partitions)))
        return lags
    finally:
        probe.close()
        admin.close()


# -- replay ----------------------------------------------------------------------------------


def replay(node: str, bootstrap: str | None = None, replica: str = "1",
           progress: Callable[[int, int], None] | None = None,
           workers: int | None = None) -> int:
    """Rebuild the gateway's projections of ``node`` from the log into a fresh store, with
    ``workers`` processes (default: one per core; ``gateway.rebuild``; never from a
    checkpoint: the whole log), then swap it in (the old one is kept until the new one is
    complete). The gateway of that replica must be stopped; one replay of a replica runs at a time (``ReplayRunning``). Returns the number of
    events applied."""
    from gateway.projections import store_dir  # noqa: PLC0415
    from gateway.rebuild import rebuild  # noqa: PLC0415

    target = store_dir(node, replica)
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.with_name(target.name + ".replay.lock"), "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)  # let go when this process ends
        except BlockingIOError:
            raise ReplayRunning(f"a replay of gateway {node}-{replica} is running") from None
        fresh = target.with_name(target.name + ".replay")
        shutil.rmtree(fresh, ignore_errors=True)
        try:
            stats = rebuild(node, bootstrap, fresh, workers or len(os.sched_getaffinity(0)),
                            progress)
        except BaseException:
            shutil.rmtree(fresh, ignore_errors=True)
            raise
        old = target.with_name(target.name + ".old")
        shutil.rmtree(old, ignore_errors=True)
        if target.exists():
            target.rename(old)
        fresh.rename(target)
        shutil.rmtree(old, ignore_errors=True)
    return stats["applied"]


class ReplayRunning(RuntimeError):
    """Another replay of the same gateway replica holds its lock."""


# -- checkpoint ------------------------------------------------------------------------------


class CheckpointRefused(Exception):
    """No checkpoint was taken: the message says why."""


def checkpoint(node: str, replica: str = "1", url: str | None = None,
               running_at: str | None = None) -> dict:
    """A checkpoint of the store of gateway replica ``replica`` of ``node``
    (``gateway.checkpoints``); returns its summary. With ``url``, the gateway there is asked
    to take it (``POST <url>/admin/checkpoint`` as the node admin), between two of its
    batches, without stopping. Else a stopped replica's store is opened and copied here (a
    store of another layout is refused, not emptied); a running one's store is locked by its
    gateway (RocksDB admits one process), so the gateway at ``running_at`` (default: this
    machine's gateway port) is asked."""
    from gateway.checkpoints import take  # noqa: PLC0415
    from gateway.projections import check_replica, store_dir  # noqa: PLC0415
    from gateway.store import OtherLayout, RocksStore  # noqa: PLC0415

    try:
        check_replica(replica)
    except ValueError as exc:
        raise CheckpointRefused(str(exc)) from None
    if url is not None:  # where that replica's gateway runs: it takes it
        return _ask_gateway(node, replica, url.rstrip("/"), asked=True)
    data_dir = store_dir(node, replica)
    if not (data_dir / "CURRENT").exists():
        raise CheckpointRefused(f"gateway replica {replica} of node {node} has no store here "
                                "(a gateway elsewhere: give --url)")
    try:
        store = RocksStore(data_dir, empty_other_layout=False)  # copied, never emptied
    except OtherLayout as exc:
        raise CheckpointRefused(f"{exc}: start its gateway (it rebuilds the store) or run "
                                "coopbridge replay, then take one") from None
    except Exception as exc:  # rocksdict raises a bare Exception for a held lock
        if "lock" not in str(exc).lower():
            raise
        return _ask_gateway(node, replica, running_at
                            or f"http://127.0.0.1:{config.gateway_port()}", asked=False)
    try:
        topics = [events_topic(node, service) for service in SERVICES]
        return take(store, topics, node, replica, config.checkpoints_dir(node),
                    config.checkpoint_keep()).summary()
    finally:
        store.close()


def _ask_gateway(node: str, replica: str, url: str, asked: bool) -> dict:
    """Have the gateway at ``url`` take the checkpoint if it is the replica asked for (it
    answers 409 otherwise: a gateway is one replica, another's checkpoint is not this one's).
    ``asked``: the caller gave ``url`` (else it is where this machine's gateway runs)."""
    token = issue_token(node, Role.NODE_ADMIN, subject="coopbridge-checkpoint",
                        ttl=dt.timedelta(minutes=10))
    try:
        response = httpx.post(f"{url}/admin/checkpoint", params={"replica": replica},
                              timeout=3600, headers={"Authorization": f"Bearer {token}"})
    except httpx.HTTPError as exc:
        where = ("" if asked else "the store is open in another process, and ")
        raise CheckpointRefused(f"{where}the gateway at {url} does not answer "
                                f"({type(exc).__name__})" + ("" if asked else ": give --url")
                                ) from None
    if response.status_code != 200:
        raise CheckpointRefused(f"the gateway at {url} answered {response.status_code}: "
                                f"{response.text[:200]}")
    return response.json()


# -- export and offline verification ---------------------------------------------------------

EXPORT = """mutation($input: ExportRecordInput!) { exportRecord(input: $input) {
  __typename
  ... on ExportedRecord { credentialId credential certificates statusList validUntil }
  ... on Problem { code message } } }"""


class ExportRefused(Exception):
    """The gateway did not export the record: ``code`` and the gateway's message."""

    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code


def export_record(node: str, url: str, member_id: str, recipient: dict[str, str],
                  out: Path, scopes: list[str] | None = None) -> list[Path]:
    """Export a member's record through the gateway's GraphQL API (as the node admin) into
    ``out``, with what an offline verifier needs next to it: the node's JWKS
    (``<out>.jwks.json``), the record's current status list (``<out>.status.jwt``) and her
    certificates (``<out>.certificate-N.jwt``). Returns the files written."""
    token = issue_token(node, Role.NODE_ADMIN, subject="coopbridge-export",
                        ttl=dt.timedelta(minutes=10))
    variables = {"input": {"memberId": member_id, "recipient": recipient,
                           **({"scopes": scopes} if scopes else {})}}
    with httpx.Client(timeout=60) as client:
        response = client.post(f"{url}/graphql", json={"query": EXPORT, "variables": variables},
                               headers={"Authorization": f"Bearer {token}"})
        response.raise_for_status()
        body = response.json()
        if body.get("errors"):
            raise ExportRefused("GraphQLError", body["errors"][0].get("message", ""))
        result = body["data"]["exportRecord"]
        if result["__typename"] != "ExportedRecord":
            raise ExportRefused(result.get("code", result["__typename"]),
                                result.get("message", ""))
        keys = client.get(f"{url}/.well-known/jwks.json").json()
        status = client.get(result["statusList"])
        status.raise_for_status()
    files = {out: result["credential"], _beside(out, ".jwks.json"): json.dumps(keys, indent=2),
             _beside(out, ".status.jwt"): status.text.strip()}
    for i, certificate in enumerate(result["certificates"], start=1):
        files[_beside(out, f".certificate-{i}.jwt")] = certificate
    for path, text in files.items():
        path.write_text(text + "\n")
    return list(files)


def _beside(path: Path, suffix: str) -> Path:
    return path.with_name(path.name + suffix)


def verify_file(path: Path, jwks: dict, status_lists: list[str],
                now: dt.datetime | None = None) -> verification.Verification:
    """Verify a ``vc+jwt`` file offline: the keys of ``jwks`` stand for the credential's
    issuer (whoever hands you the JWKS vouches for it), revocation is checked against the
    status list credentials given (each verified with the same keys), else not checked."""
    now = now or dt.datetime.now(dt.UTC)
    token = path.read_text().strip()
    issuer = _issuer(token)
    trusted = {issuer: jwks} if issuer else {}
    lists: dict[str, dict] = {}
    for raw in status_lists:
        claims = verification.verify_status_list(raw.strip(), trusted, now)
        if claims is not None and isinstance(claims.get("id"), str):
            lists[claims["id"]] = claims
    return verification.verify_credential(token, trusted, now,
                                status=lists.get if status_lists else None)


def _issuer(token: str) -> str | None:
    import jwt  # noqa: PLC0415

    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return None
    return credentials.issuer_of(claims) if isinstance(claims, dict) else None


def load_json_or_url(where: str) -> Any:
    """A JSON document from a file, or from an http(s) URL."""
    if where.startswith(("http://", "https://")):
        response = httpx.get(where, timeout=10)
        response.raise_for_status()
        return response.json()
    return json.loads(Path(where).read_text())
