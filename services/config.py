"""Configuration, read from the environment on every call, with working local defaults.

| variable                       | default            | meaning                                   |
|--------------------------------|--------------------|-------------------------------------------|
| ``KAFKA_BOOTSTRAP_SERVERS``    | (unset)            | an existing cluster; nothing is started   |
| ``COOPBRIDGE_KAFKA_PORT``      | ``9092``           | the embedded broker's client port         |
| ``COOPBRIDGE_NODE``            | ``es``             | this node's id (topic namespace)          |
| ``COOPBRIDGE_REPLICATION_FACTOR`` | ``1``           | replication of the topics we create       |
| ``COOPBRIDGE_SESSION_TIMEOUT_S`` | ``30``           | consumer group session timeout (seconds)  |
| ``COOPBRIDGE_HOME``            | ``./.coopbridge``  | local state (jars, broker data, dev keys) |
| ``COOPBRIDGE_NODE_KEY``        | a dev key file     | base64url of the node's 32-byte key that  |
|                                | (none in           | wraps every member's data key             |
|                                | production)        |                                           |
| ``COOPBRIDGE_SIGNING_KEY``     | a dev key file     | base64url Ed25519 seed: signs tokens      |
|                                | (none in           | (``coopbridge keys new`` makes a pair)    |
|                                | production)        |                                           |
| ``COOPBRIDGE_ENV``             | (unset)            | ``development`` (``up --development``)    |
|                                |                    | turns on GraphiQL and introspection;      |
|                                |                    | ``production`` also refuses to start      |
|                                |                    | without the keys and never writes key     |
|                                |                    | files; unset: neither                     |
| ``COOPBRIDGE_GATEWAY_PORT``    | ``8000``           | the GraphQL gateway's HTTP port           |
| ``COOPBRIDGE_PUBLIC_URL``      | ``http://127.0.0.1:<port>`` | the gateway's address as others   |
|                                | (``https`` when    | reach it (status lists in credentials)    |
|                                | it serves TLS)     |                                           |
| ``COOPBRIDGE_PEERS``           | ``<home>/<node>.peers.json`` | the trust list: peer nodes, their|
|                                | if it exists       | gateway URLs and public keys (JWKS)       |
| ``COOPBRIDGE_PEER_CA``         | (unset)            | a PEM file of certificate authorities the |
|                                |                    | gateway trusts for its peers' https       |
|                                |                    | gateways, besides the public ones         |
| ``COOPBRIDGE_CHECKPOINTS``     | ``<home>/gateway/  | where gateways write and new replicas     |
|                                | checkpoints``      | find checkpoints (``<dir>/<node>/...``)   |
| ``COOPBRIDGE_CHECKPOINT_EVERY``| ``1d``             | a gateway's checkpoint schedule: seconds, |
|                                |                    | or ``90s``/``15m``/``6h``/``1d``; ``0``   |
|                                |                    | or ``off``: none                          |
| ``COOPBRIDGE_CHECKPOINT_KEEP`` | ``3``              | checkpoints kept per node (the newest)    |
| ``COOPBRIDGE_SNAPSHOT_EVERY``  | ``100000``         | a command processor snapshots a partition |
|                                |                    | every this many events of it (and on a    |
|                                |                    | clean handover); ``0``: never             |
| ``COOPBRIDGE_FORGET_OUTCOMES`` | ``1``              | processors forget outcomes older than the |
|                                |                    | week; ``0``: never (``forget_outcomes``)  |
| ``COOPBRIDGE_CATCH_UP_BEYOND`` | ``4000``           | records behind beyond which a gateway     |
|                                |                    | folds its store in bulk first             |
| ``COOPBRIDGE_CATCH_UP_BATCH``  | ``4000``           | records a bulk catch-up fetches at a time |
| ``COOPBRIDGE_GATEWAY_REPLICA`` | ``1``              | which replica of the node's gateway this  |
|                                |                    | is (each its own store)                   |
"""

from __future__ import annotations

import base64
import json
import logging
import os
import re
import secrets
import sys
from dataclasses import dataclass
from pathlib import Path

from schemas.topics import check_node


def external_bootstrap() -> str | None:
    """The cluster named by ``KAFKA_BOOTSTRAP_SERVERS``, or ``None`` to use the embedded one."""
    value = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "").strip()
    return value or None


class ConfigError(ValueError):
    """A setting in the environment that cannot be used; the message names it."""


def _port(variable: str, default: int) -> int:
    raw = os.environ.get(variable) or str(default)
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise ConfigError(f"{variable}={raw!r} is not a port number")
    return int(raw)


def kafka_port() -> int:
    """The embedded broker's client port."""
    return _port("COOPBRIDGE_KAFKA_PORT", 9092)


def controller_port() -> int:
    """The embedded broker's KRaft controller port."""
    return _port("COOPBRIDGE_KAFKA_CONTROLLER_PORT", 9093)


def bootstrap_servers() -> str:
    """Where the clients connect: the external cluster, else the embedded broker."""
    return external_bootstrap() or f"127.0.0.1:{kafka_port()}"


def node_id() -> str:
    return check_node(os.environ.get("COOPBRIDGE_NODE", "es"))


def replication_factor() -> int:
    return int(os.environ.get("COOPBRIDGE_REPLICATION_FACTOR", "1"))


def session_timeout_s() -> float:
    """How long a silent group member keeps its partitions (tests shorten group joins)."""
    return float(os.environ.get("COOPBRIDGE_SESSION_TIMEOUT_S", "30"))


def home() -> Path:
    """Where coopbridge keeps local state: ``$COOPBRIDGE_HOME`` or ``./.coopbridge``."""
    return Path(os.environ.get("COOPBRIDGE_HOME") or ".coopbridge").expanduser().absolute()


def checkpoints_dir(node: str) -> Path:
    """Where the gateway checkpoints of ``node`` live: ``$COOPBRIDGE_CHECKPOINTS/<node>``,
    by default ``<home>/gateway/checkpoints/<node>`` (shared storage, when replicas run on
    several machines)."""
    base = os.environ.get("COOPBRIDGE_CHECKPOINTS")
    root = Path(base).expanduser().absolute() if base else home() / "gateway" / "checkpoints"
    return root / check_node(node)


_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhd]?)$")
_UNIT_S = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def checkpoint_every_s() -> float | None:
    """A gateway's checkpoint schedule in seconds (``COOPBRIDGE_CHECKPOINT_EVERY``: a number
    of seconds, or one with a unit, ``90s``, ``15m``, ``6h``, ``1d``; default ``1d``), or
    ``None`` for no schedule (``0`` or ``off``)."""
    raw = os.environ.get("COOPBRIDGE_CHECKPOINT_EVERY", "1d").strip().lower()
    if raw in ("0", "off", "none", ""):
        return None
    found = _DURATION.match(raw)
    if found is None or float(found[1]) <= 0:
        raise ConfigError(f"COOPBRIDGE_CHECKPOINT_EVERY={raw!r} is not a duration "
                          "(seconds, or 90s, 15m, 6h, 1d; 0 or off for none)")
    return float(found[1]) * _UNIT_S[found[2]]


def count_setting(name: str, default: int, least: int = 0) -> int:
    """A whole number from the environment variable ``name`` (``default`` when unset), at
    least ``least``; ``ConfigError`` otherwise."""
    raw = os.environ.get(name, str(default)).strip()
    if not raw.isdigit() or int(raw) < least:
        raise ConfigError(f"{name}={raw!r} is not a whole number of {least} or more")
    return int(raw)


def checkpoint_keep() -> int:
    """How many checkpoints of a node are kept, the newest (``COOPBRIDGE_CHECKPOINT_KEEP``,
    default 3, at least 1)."""
    return count_setting("COOPBRIDGE_CHECKPOINT_KEEP", 3, least=1)


def snapshot_every() -> int:
    """Events of a partition between two snapshots of it (``COOPBRIDGE_SNAPSHOT_EVERY``,
    default 100,000; 0: no snapshots, a takeover folds from offset 0)."""
    return count_setting("COOPBRIDGE_SNAPSHOT_EVERY", 100_000)


def catch_up_beyond() -> int:
    """Records a gateway's store may be behind the log and still be followed by the faust
    agent; beyond, it is caught up in bulk first (``COOPBRIDGE_CATCH_UP_BEYOND``, default
    4,000: one agent batch)."""
    return count_setting("COOPBRIDGE_CATCH_UP_BEYOND", 4000)


def catch_up_batch() -> int:
    """Records a bulk catch-up fetches and writes at a time (``COOPBRIDGE_CATCH_UP_BATCH``,
    default 4,000, at least 1)."""
    return count_setting("COOPBRIDGE_CATCH_UP_BATCH", 4000, least=1)


def gateway_replica() -> str:
    """Which replica of its node's gateway this process is (``COOPBRIDGE_GATEWAY_REPLICA``,
    default ``1``); each keeps its own store."""
    return os.environ.get("COOPBRIDGE_GATEWAY_REPLICA", "").strip() or "1"


def forget_outcomes() -> bool:
    """Whether a command processor forgets the outcomes of commands older than the week the
    commands topics keep them (``COOPBRIDGE_FORGET_OUTCOMES``, default 1: its memory stays
    flat as the log grows; 0: never, as before issue 21). A command whose time is older is
    then refused (``CommandOutOfTime``); the gateway sends a retry under an idempotency key
    with the time its command was first decided (``gateway.decided``), so that a late retry
    is refused, never decided twice. A node whose gateways are older than that (a rolling
    upgrade) keeps it at 0 until they are upgraded."""
    value = count_setting("COOPBRIDGE_FORGET_OUTCOMES", 1)
    if value > 1:
        raise ConfigError(f"COOPBRIDGE_FORGET_OUTCOMES={value} is neither 0 nor 1")
    return value == 1


#: The two secrets of a node, each from its own variable (a process is given those it uses).
SIGNING_KEY, NODE_KEY = "COOPBRIDGE_SIGNING_KEY", "COOPBRIDGE_NODE_KEY"
#: A gateway signs tokens and records and opens members' data: it uses both.
GATEWAY_KEYS = (SIGNING_KEY, NODE_KEY)
#: What ``COOPBRIDGE_ENV`` may say (unset: as before there was a production mode).
ENVIRONMENTS = ("production", "development")


def node_key(node: str) -> bytes:
    """The node's key-encryption key (32 bytes) that wraps every member's data key.

    Production sets ``COOPBRIDGE_NODE_KEY`` (and refuses to go on without it). Elsewhere,
    without it, a development key is created once in
    ``<home>/<node>.node-key`` (mode 0600) so that a local node keeps working across restarts.
    """
    return _secret(NODE_KEY, node, "node-key")


def signing_key(node: str) -> bytes:
    """The node's Ed25519 signing key seed (32 bytes): it signs access tokens (and, with the
    federation, portable records). ``COOPBRIDGE_SIGNING_KEY`` (required in production), else a
    development key in ``<home>/<node>.signing-key``."""
    return _secret(SIGNING_KEY, node, "signing-key")


def new_keys() -> dict[str, str]:
    """A fresh pair of keys for a node, by variable (``coopbridge keys new`` prints them)."""
    return {variable: base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
            for variable in GATEWAY_KEYS}


def production() -> bool:
    """``COOPBRIDGE_ENV=production``, said explicitly: the node's keys come from the
    environment only, and a process without the keys it uses does not start. Unset, a node
    makes development key files as it always did (a machine's ``make run``, the tests)."""
    return _environment() == "production"


def _environment() -> str | None:
    value = os.environ.get("COOPBRIDGE_ENV") or None
    if value is not None and value not in ENVIRONMENTS:
        raise ConfigError(f"COOPBRIDGE_ENV={value!r} is neither 'production' nor 'development'")
    return value


def require_keys(node: str, variables: tuple[str, ...]) -> None:
    """In production, that each of ``variables`` is set and is a valid key (``ConfigError``
    naming the first that is not); elsewhere nothing (development keys are made on use)."""
    if not production():
        return
    missing = [v for v in variables if not os.environ.get(v)]
    if missing:
        raise ConfigError(
            f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set, and with "
            f"COOPBRIDGE_ENV=production no key file is made (`coopbridge keys new --node "
            f"{check_node(node)}` prints a fresh pair to store)")
    for variable in variables:
        _secret(variable, node, "")


def refuse_to_start_without_keys(node: str | None, variables: tuple[str, ...]) -> None:
    """What a gateway, service or relay does first: without the keys it uses in production
    (or with an unknown ``COOPBRIDGE_ENV``, or a node id that is none; ``node`` None:
    ``COOPBRIDGE_NODE``), one line on stderr and exit status 2, before anything is opened or
    written."""
    try:
        require_keys(node or node_id(), variables)
    except ValueError as exc:  # a ConfigError, or a node id that is none
        print(f"coopbridge: {exc}", file=sys.stderr, flush=True)
        raise SystemExit(2) from None


def _secret(variable: str, node: str, suffix: str) -> bytes:
    value = os.environ.get(variable)
    if not value and production():
        require_keys(node, (variable,))
    if not value:
        path = home() / f"{check_node(node)}.{suffix}"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:  # another process made it first
                pass
            else:
                with os.fdopen(fd, "w") as out:
                    out.write(base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())
                logging.getLogger("coopbridge.config").warning(
                    "%s is not set: made a development key file %s (COOPBRIDGE_ENV=production "
                    "refuses to)", variable, path.name)
        value = path.read_text().strip()
    try:
        key = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except ValueError:
        key = b""
    if len(key) != 32:
        raise ConfigError(f"{variable} must be 32 bytes, base64url-encoded")
    return key


def development_mode() -> bool:
    """GraphiQL and introspection are on only with ``COOPBRIDGE_ENV=development``, which
    ``coopbridge up --development`` (``make run``) sets for its gateways; anything else is
    production."""
    return _environment() == "development"


def gateway_port() -> int:
    return _port("COOPBRIDGE_GATEWAY_PORT", 8000)


def public_url() -> str:
    """Where others reach this node's gateway (no trailing slash)."""
    value = os.environ.get("COOPBRIDGE_PUBLIC_URL") or f"http://127.0.0.1:{gateway_port()}"
    return value.rstrip("/")


def peer_ca() -> Path | None:
    """The federation's own certificate authority for its peers' gateways, if it has one
    (a public one needs none)."""
    value = os.environ.get("COOPBRIDGE_PEER_CA")
    return Path(value) if value else None


@dataclass(frozen=True)
class Peer:
    """A node this node trusts: its id, its gateway, its public keys (a JWKS)."""

    node: str
    gateway_url: str
    jwks: dict


def peers(node: str) -> dict[str, Peer]:
    """The trust list of ``node``: ``COOPBRIDGE_PEERS`` names a JSON file
    ``{"peers": [{"node": "ec", "gateway": "http://…", "jwks": {"keys": [...]}}]}``;
    without it, ``<home>/<node>.peers.json`` if present (``coopbridge up`` writes it), else
    no peers. A node never trusts itself through this list."""
    path = Path(os.environ.get("COOPBRIDGE_PEERS") or home() / f"{check_node(node)}.peers.json")
    if not path.exists():
        if os.environ.get("COOPBRIDGE_PEERS"):
            raise ConfigError(f"COOPBRIDGE_PEERS names a file that does not exist: {path}")
        return {}
    try:
        document = json.loads(path.read_text())
        listed = {
            check_node(entry["node"]): Peer(check_node(entry["node"]),
                                            str(entry["gateway"]).rstrip("/"),
                                            dict(entry["jwks"]))
            for entry in document["peers"]
        }
    except (ValueError, KeyError, TypeError) as bad:
        raise ConfigError(f"the trust list {path.name} is not valid: {bad}") from None
    listed.pop(node, None)
    return listed


def write_peers(path: Path, peers_: list[Peer], written_by: str | None = None) -> None:
    """Write a trust list in the format ``peers`` reads (``written_by`` marks a generated
    one, which its writer may remove again)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    document: dict = {"peers": [
        {"node": p.node, "gateway": p.gateway_url, "jwks": p.jwks} for p in peers_]}
    if written_by:
        document["written_by"] = written_by
    path.write_text(json.dumps(document, indent=2))
