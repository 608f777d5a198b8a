"""The embedded Apache Kafka broker: this module owns its whole lifecycle.

It fetches the Kafka jars with Maven (``deploy/kafka/pom.xml``) into ``<home>/kafka-lib``,
writes the broker's ``server.properties`` (one combined KRaft broker+controller on 127.0.0.1),
formats its storage once, starts ``java ... kafka.Kafka`` as a detached process, waits until it
answers metadata requests, reports its status, and stops it (controlled shutdown, then SIGKILL).

Everything the broker owns lives in its data directory (``<home>/broker`` by default)::

    server.properties   written on every start
    kraft/              log.dirs (meta.properties marks formatted storage; kept across restarts)
    logs/server.log     the broker's log (log4j2, see deploy/kafka/log4j2.xml)
    logs/stdout.log     the JVM's stdout/stderr
    broker.pid          the pid of the running broker (also its process group id)
    broker.lock         serialises start and stop
    broker.owner        the process the broker ends with (pid and start time), if any
    broker.guard        the pid of that broker's guard, while it watches
    logs/guard.log      what the guard said (below), if anything

A broker started for a process that must not outlive it (``coopbridge up``) is stopped by a
guard when that process ends, however it ends (even SIGKILL): a small process of its own
(``python -m deploy.broker guard``, started with the broker) that watches the owner named in
``broker.owner`` and stops the broker's whole process group, so even a ``java`` that is a
wrapper script around the real JVM goes. A parent-death signal would not do: it reaches only
the process that was started, not a JVM that a wrapper forked. The owner is written before
the guard starts (an owner killed at once is still seen gone), and a process that reuses a
guarded broker (an ``up`` started again at once) becomes its owner, so the old guard does
not stop the broker under it. Like ``up`` itself, the guard lets the broker's clients leave
first (``up``'s services, which end with it; at most ``CLIENTS_LEAVE_S``): a gateway whose
broker vanished while it was stopping took a minute to give up.

When ``KAFKA_BOOTSTRAP_SERVERS`` is set, an external cluster is used and nothing is started.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import logging
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from services.config import controller_port, external_bootstrap, home, kafka_port

__all__ = [
    "BrokerConfig",
    "BrokerError",
    "BrokerStatus",
    "ClusterInfo",
    "EmbeddedBroker",
    "cluster_info",
    "controller_port",
    "default_broker",
    "external_bootstrap",
    "free_port",
    "free_ports",
    "on_free_ports",
    "heap",
    "home",
    "jars",
    "kafka_port",
]

_PACKAGE = Path(__file__).parent
POM = _PACKAGE / "kafka" / "pom.xml"
LOG4J_CONFIG = _PACKAGE / "kafka" / "log4j2.xml"

_LIB_DIR = "kafka-lib"
_STAMP = ".pom.sha256"
_STARTED = "Kafka Server started"
_VERSION_RE = re.compile(r"Kafka version: (\S+)")
_JVM_FLAGS = (
    "-server",
    "-XX:+UseG1GC",
    "-XX:MaxGCPauseMillis=20",
    "-XX:InitiatingHeapOccupancyPercent=35",
    "-XX:+ExplicitGCInvokesConcurrent",
    "-Djava.awt.headless=true",
)


class BrokerError(RuntimeError):
    """The broker (or the tools it needs) could not be fetched, started, reached or stopped."""


# --------------------------------------------------------------------------- configuration
# Read the environment on every call, so tests and the CLI can change it at run time. The
# client-side settings (KAFKA_BOOTSTRAP_SERVERS, the client port) live in services.config.


def heap() -> str:
    """The embedded broker's JVM heap (-Xms/-Xmx): ``$COOPBRIDGE_KAFKA_HEAP`` or ``512m``."""
    value = os.environ.get("COOPBRIDGE_KAFKA_HEAP") or "512m"
    if not re.fullmatch(r"\d+[kKmMgG]?", value):
        raise BrokerError(f"COOPBRIDGE_KAFKA_HEAP={value!r} is not a JVM heap size like 512m")
    return value


def default_broker() -> EmbeddedBroker:
    """The embedded broker the environment describes (data in ``<home>/broker``)."""
    config = BrokerConfig(
        data_dir=home() / "broker",
        port=kafka_port(),
        controller_port=controller_port(),
        heap=heap(),
    )
    return EmbeddedBroker(config)


# --------------------------------------------------------------------------- jars


def jars(home: Path) -> Path:
    """Return ``<home>/kafka-lib`` holding the Kafka jars, fetching them with Maven if needed.

    Maven runs only when the stamp in that folder does not match the POM's sha256. The jars are
    copied into a fresh folder that replaces the old one, so two versions never mix.
    """
    home = Path(home).absolute()
    lib = home / _LIB_DIR
    digest = hashlib.sha256(POM.read_bytes()).hexdigest()
    if _stamp_matches(lib, digest):
        return lib
    home.mkdir(parents=True, exist_ok=True)
    with _locked(home / f"{_LIB_DIR}.lock"):
        if _stamp_matches(lib, digest):  # another process fetched them while we waited
            return lib
        mvn = shutil.which("mvn")
        if mvn is None:
            raise BrokerError("Maven (mvn) is not installed: it is needed to fetch the Kafka jars")
        _java()
        staging = home / f"{_LIB_DIR}.partial"
        shutil.rmtree(staging, ignore_errors=True)
        cmd = [
            mvn, "-B", "-q", "-f", str(POM), "dependency:copy-dependencies",
            "-DincludeScope=runtime", f"-DoutputDirectory={staging}",
        ]  # fmt: skip
        proc = subprocess.run(
            cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, errors="replace", check=False,
        )  # fmt: skip
        if proc.returncode != 0 or not any(staging.glob("kafka_2.13-*.jar")):
            shutil.rmtree(staging, ignore_errors=True)
            raise BrokerError(
                f"Maven could not fetch the Kafka jars (exit {proc.returncode}):\n"
                + _tail_text(proc.stdout, 20)
            )
        (staging / _STAMP).write_text(digest + "\n")
        if lib.is_symlink():
            lib.unlink()
        shutil.rmtree(lib, ignore_errors=True)
        staging.rename(lib)
    return lib


def _stamp_matches(lib: Path, digest: str) -> bool:
    try:
        return (lib / _STAMP).read_text().strip() == digest
    except OSError:
        return False


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _java() -> str:
    java = shutil.which("java")
    if java is None:
        raise BrokerError("Java is not installed: the Kafka broker needs a Java 17+ runtime")
    return java


# --------------------------------------------------------------------------- clusters


@dataclass(frozen=True)
class ClusterInfo:
    """What a metadata request says about a cluster."""

    bootstrap: str
    cluster_id: str | None
    brokers: int
    controller_id: int | None


def cluster_info(bootstrap: str, timeout: float = 5.0) -> ClusterInfo:
    """Ask ``bootstrap`` for its cluster metadata; :class:`BrokerError` if it does not answer."""
    from kafka import KafkaAdminClient  # imported here: the CLI and unit tests stay light

    timeout_ms = max(int(timeout * 1000), 500)
    try:
        with _quiet("kafka"):
            admin = KafkaAdminClient(
                bootstrap_servers=bootstrap,
                client_id="coopbridge-probe",
                request_timeout_ms=timeout_ms,
                bootstrap_timeout_ms=timeout_ms,
                reconnect_backoff_max_ms=200,
            )
            try:
                meta = admin.describe_cluster()
            finally:
                admin.close()
    except Exception as exc:  # kafka-python raises many kinds; all mean "not reachable"
        raise BrokerError(
            f"Kafka at {bootstrap} did not answer a metadata request: {exc!r}"
        ) from exc
    return ClusterInfo(
        bootstrap=bootstrap,
        cluster_id=meta.get("cluster_id"),
        brokers=len(meta.get("brokers") or ()),
        controller_id=meta.get("controller_id"),
    )


@contextlib.contextmanager
def _quiet(name: str) -> Iterator[None]:
    """Silence a library logger while probing (connection refused is expected then)."""
    logger = logging.getLogger(name)
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now (for tests)."""
    return free_ports(1)[0]


def free_ports(count: int) -> list[int]:
    """``count`` different TCP ports on 127.0.0.1, free right now (for tests): all are held
    at once while they are chosen, so the system cannot hand out one of them twice."""
    with contextlib.ExitStack() as held:
        sockets = [held.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
                   for _ in range(count)]
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in sockets]


def on_free_ports(data_dir: Path, home: Path) -> EmbeddedBroker:
    """A broker (not started) listening on a free port, its controller on another, its data
    in ``data_dir`` and its jars under ``home``: one that tests and benchmarks own."""
    port, controller = free_ports(2)
    return EmbeddedBroker(BrokerConfig(data_dir=data_dir, port=port, controller_port=controller,
                                       heap=heap()), home=home)


def port_in_use(port: int) -> bool:
    """Whether something listens on 127.0.0.1:``port`` (the broker and ``coopbridge up``)."""
    # SO_REUSEADDR like the JVM's server sockets: TIME_WAIT leftovers do not count as "taken".
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


# --------------------------------------------------------------------------- the broker


@dataclass(frozen=True)
class BrokerConfig:
    """One combined KRaft broker+controller on 127.0.0.1."""

    data_dir: Path
    port: int
    controller_port: int
    heap: str = "512m"

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"


@dataclass(frozen=True)
class BrokerStatus:
    running: bool
    pid: int | None
    bootstrap: str
    kafka_version: str | None
    data_dir: Path


class EmbeddedBroker:
    """Start, stop and inspect the broker described by ``config``.

    ``home`` is where the jars are cached (default: :func:`home` at start time); it may differ
    from the data directory, so tests share the jars but not the data.
    """

    def __init__(self, config: BrokerConfig, home: Path | None = None) -> None:
        self.config = config
        self._home = home
        self._proc: subprocess.Popen[bytes] | None = None  # set when this process started it

    # paths -----------------------------------------------------------------
    @property
    def data_dir(self) -> Path:
        return Path(self.config.data_dir).absolute()

    @property
    def properties_file(self) -> Path:
        return self.data_dir / "server.properties"

    @property
    def log_dir(self) -> Path:
        """Kafka's ``log.dirs`` (the partitions and the KRaft metadata log)."""
        return self.data_dir / "kraft"

    @property
    def logs_dir(self) -> Path:
        """The broker's own logs (``kafka.logs.dir``)."""
        return self.data_dir / "logs"

    @property
    def server_log(self) -> Path:
        return self.logs_dir / "server.log"

    @property
    def stdout_log(self) -> Path:
        return self.logs_dir / "stdout.log"

    @property
    def pid_file(self) -> Path:
        return self.data_dir / "broker.pid"

    @property
    def owner_file(self) -> Path:
        return self.data_dir / "broker.owner"

    @property
    def guard_file(self) -> Path:
        return self.data_dir / "broker.guard"

    # lifecycle -------------------------------------------------------------
    def status(self) -> BrokerStatus:
        pid = self._running_pid()
        return BrokerStatus(
            running=pid is not None,
            pid=pid,
            bootstrap=self.config.bootstrap,
            kafka_version=self._kafka_version(),
            data_dir=self.data_dir,
        )

    def start(self, wait_timeout: float = 90, ends_with_caller: bool = False) -> BrokerStatus:
        """Start the broker (a no-op if it already runs) and wait until it answers requests.
        ``ends_with_caller``: a broker this call starts is stopped when the calling process
        ends, however it ends (a guard process, see the module's docstring); otherwise it
        runs until ``stop``."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with _locked(self.data_dir / "broker.lock"):  # one start/stop at a time per data dir
            return self._start(wait_timeout, ends_with_caller)

    def _start(self, wait_timeout: float, ends_with_caller: bool = False) -> BrokerStatus:
        if self._running_pid() is not None:
            if ends_with_caller and _guard_alive(self.guard_file):
                self.owner_file.write_text(_identity(os.getpid()))  # the guard now watches us
            self._wait_ready(time.monotonic() + wait_timeout, log_offset=0)
            return self.status()
        cfg = self.config
        if cfg.port == cfg.controller_port:
            raise BrokerError(f"the Kafka and controller ports must differ (both {cfg.port})")
        for name, port in (("Kafka", cfg.port), ("KRaft controller", cfg.controller_port)):
            if port_in_use(port):
                raise BrokerError(
                    f"port {port} on 127.0.0.1 (the {name} port) is already in use by another "
                    "process; stop it or choose other ports (COOPBRIDGE_KAFKA_PORT, "
                    "COOPBRIDGE_KAFKA_CONTROLLER_PORT)"
                )
        java = _java()
        lib = jars(self._home if self._home is not None else home())
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.properties_file.write_text(self._properties())
        classpath = ["-cp", f"{lib}/*"]  # the JVM expands the wildcard
        logging_flags = [
            f"-Dkafka.logs.dir={self.logs_dir}",
            f"-Dlog4j2.configurationFile={LOG4J_CONFIG}",
        ]
        if not (self.log_dir / "meta.properties").exists():
            self._format(java, classpath, logging_flags)

        log_offset = self.server_log.stat().st_size if self.server_log.exists() else 0
        cmd = [
            java, f"-Xms{cfg.heap}", f"-Xmx{cfg.heap}", *_JVM_FLAGS, *logging_flags,
            *classpath, "kafka.Kafka", str(self.properties_file),
        ]  # fmt: skip
        with open(self.stdout_log, "wb") as out:  # this run's console only
            self._proc = subprocess.Popen(
                cmd, cwd=self.data_dir, stdin=subprocess.DEVNULL, stdout=out,
                stderr=subprocess.STDOUT, start_new_session=True, close_fds=True,
            )  # fmt: skip
        self.pid_file.write_text(f"{self._proc.pid}\n")
        if ends_with_caller:
            self.owner_file.write_text(_identity(os.getpid()))
            self._start_guard()
        try:
            self._wait_ready(time.monotonic() + wait_timeout, log_offset)
        except BaseException:
            self._terminate(self._proc.pid, timeout=10)
            self._proc = None
            self.pid_file.unlink(missing_ok=True)
            raise
        return self.status()

    def stop(self, timeout: float = 30) -> None:
        """Stop the broker: SIGTERM (controlled shutdown), SIGKILL after ``timeout`` seconds.

        Stopping a stopped broker does nothing.
        """
        if not self.data_dir.is_dir():
            return
        with _locked(self.data_dir / "broker.lock"):
            pid = self._running_pid()
            if pid is not None:
                self._terminate(pid, timeout)
            self._proc = None
            self.pid_file.unlink(missing_ok=True)

    def guard(self, poll: float = 0.25) -> None:
        """The guard's whole life, in a process of its own started with this broker: when the
        owner ``broker.owner`` names has ended (and no other took its place while the broker's
        clients left, at most ``CLIENTS_LEAVE_S``), stop the broker; when the broker stopped
        first, end."""
        self.guard_file.write_text(_identity(os.getpid()))
        try:
            while True:
                owner = self._owner_alive(poll)
                if owner is None:
                    return  # the broker stopped first
                deadline = time.monotonic() + CLIENTS_LEAVE_S
                while _connections_to(self.config.port) and time.monotonic() < deadline:
                    time.sleep(poll)
                if not _identity_alive(self._read(self.owner_file)):
                    break  # no new owner took over while the clients left
            print(f"{time.strftime('%Y-%m-%dT%H:%M:%S')} the process that started the broker "
                  f"(or reused it last; pid and start {owner}) has ended: stopping the broker "
                  f"({_connections_to(self.config.port)} client connections left)", flush=True)
            self.stop()
        finally:
            self.guard_file.unlink(missing_ok=True)

    def _owner_alive(self, poll: float) -> str | None:
        """Wait while the broker runs and its owner lives; the owner that ended (None: the
        broker stopped)."""
        while self._running_pid() is not None:
            owner = self._read(self.owner_file)
            if not _identity_alive(owner):
                return owner or "unknown"
            time.sleep(poll)
        return None

    @staticmethod
    def _read(path: Path) -> str:
        try:
            return path.read_text().strip()
        except OSError:
            return ""

    # internals -------------------------------------------------------------
    def _start_guard(self) -> None:
        with open(self.logs_dir / "guard.log", "ab") as log:
            subprocess.Popen(
                [sys.executable, "-m", "deploy.broker", "guard", str(self.data_dir),
                 str(self.config.port)],
                cwd=_PACKAGE.parent, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True, close_fds=True,
            )  # fmt: skip

    def _properties(self) -> str:
        cfg = self.config
        listeners = f"PLAINTEXT://127.0.0.1:{cfg.port},CONTROLLER://127.0.0.1:{cfg.controller_port}"
        settings = {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.voters": f"1@127.0.0.1:{cfg.controller_port}",
            "listeners": listeners,
            "advertised.listeners": f"PLAINTEXT://127.0.0.1:{cfg.port}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
            "log.dirs": str(self.log_dir),
            "num.partitions": "1",
            "auto.create.topics.enable": "false",
            "offsets.topic.replication.factor": "1",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            "group.initial.rebalance.delay.ms": "0",
            # sized for a 2-core development box
            "num.network.threads": "2",
            "num.io.threads": "2",
            "log.cleaner.dedupe.buffer.size": "33554432",
        }
        lines = ["# Written by deploy/broker.py on every start; edits are overwritten."]
        lines += [f"{key}={value}" for key, value in settings.items()]
        return "\n".join(lines) + "\n"

    def _format(self, java: str, classpath: list[str], logging_flags: list[str]) -> None:
        cluster_id = _cluster_id()
        cmd = [
            java, "-Xmx256m", *logging_flags, *classpath, "kafka.tools.StorageTool",
            "format", "-t", cluster_id, "-c", str(self.properties_file),
        ]  # fmt: skip
        proc = subprocess.run(
            cmd, cwd=self.data_dir, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, errors="replace", check=False,
        )  # fmt: skip
        if proc.returncode != 0 or not (self.log_dir / "meta.properties").exists():
            raise BrokerError(
                f"formatting the broker's storage in {self.log_dir} failed "
                f"(exit {proc.returncode}):\n{_tail_text(proc.stdout, 20)}"
            )

    def _wait_ready(self, deadline: float, log_offset: int) -> None:
        started = False
        last_error: BrokerError | None = None
        while True:
            pid = self._running_pid()
            if pid is None:
                raise BrokerError(
                    f"the broker exited while starting (see {self.logs_dir}):\n"
                    + self._log_tails(log_offset)
                )
            if not started:
                started = _STARTED in self._read_log_from(log_offset)
            if started:
                try:
                    cluster_info(self.config.bootstrap, timeout=2.0)
                    return
                except BrokerError as exc:
                    last_error = exc
            if time.monotonic() >= deadline:
                what = "answer a metadata request" if started else f"log '{_STARTED}'"
                detail = f"\n{last_error}" if last_error else ""
                raise BrokerError(
                    f"the broker did not {what} within the timeout (see {self.logs_dir})"
                    f"{detail}\n" + self._log_tails(log_offset)
                )
            time.sleep(0.25)

    def _read_log_from(self, offset: int) -> str:
        try:
            with open(self.server_log, "rb") as handle:
                size = os.fstat(handle.fileno()).st_size
                handle.seek(offset if offset <= size else 0)  # rolled over: read it all
                return handle.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def _kafka_version(self) -> str | None:
        for path in [self.server_log, *sorted(self.logs_dir.glob("server.log.*"))]:
            try:
                text = path.read_text(errors="replace")
            except OSError:
                continue
            found = _VERSION_RE.findall(text)
            if found:
                return found[-1]
        return None

    def _log_tails(self, server_log_offset: int = 0, lines: int = 25) -> str:
        """The last lines of stdout.log and of what server.log got since ``server_log_offset``."""
        parts = []
        try:
            stdout = self.stdout_log.read_text(errors="replace")
        except OSError:
            stdout = ""
        for path, text in (
            (self.stdout_log, stdout),
            (self.server_log, self._read_log_from(server_log_offset)),
        ):
            if text.strip():
                parts.append(f"--- {path} (last {lines} lines)\n{_tail_text(text, lines)}")
        return "\n".join(parts) or "(the broker wrote no log)"

    def _running_pid(self) -> int | None:
        """The pid in broker.pid, if that process is alive and is this broker."""
        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None
        if self._proc is not None and self._proc.pid == pid:
            return pid if self._proc.poll() is None else None  # our child: poll() reaps it
        for _ in range(20):
            if not process_alive(pid):
                return None
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            except OSError:
                return None
            if cmdline != [b""]:
                break
            time.sleep(0.05)  # empty while the java launcher (re-)executes
        if b"kafka.Kafka" not in cmdline or str(self.properties_file).encode() not in cmdline:
            return None  # the pid was reused by another process
        return pid

    def _terminate(self, pid: int, timeout: float) -> None:
        """SIGTERM the broker's process group, SIGKILL it after ``timeout``, wait for the exit."""
        self._signal_group(pid, signal.SIGTERM)
        if not self._wait_exit(pid, timeout):
            self._signal_group(pid, signal.SIGKILL)
            if not self._wait_exit(pid, 10):
                raise BrokerError(f"the broker (pid {pid}) did not exit even after SIGKILL")
        # anything else left in its process group (there should be nothing)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)

    @staticmethod
    def _signal_group(pid: int, sig: signal.Signals) -> None:
        try:
            os.killpg(pid, sig)  # the broker leads its own session, so pgid == pid
        except ProcessLookupError:
            pass
        except PermissionError as exc:
            raise BrokerError(f"not allowed to signal the broker (pid {pid}): {exc}") from exc

    def _alive(self, pid: int) -> bool:
        if self._proc is not None and self._proc.pid == pid:
            return self._proc.poll() is None  # our child: poll() also reaps it
        return process_alive(pid)

    def _wait_exit(self, pid: int, timeout: float) -> bool:
        """Wait until the broker and the rest of its process group (a JVM that a ``java``
        wrapper script forked, say) have exited."""
        deadline = time.monotonic() + timeout
        while self._alive(pid) or _group_alive(pid):
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.1)
        return True


def _identity(pid: int) -> str:
    """A process as "pid start-time" (its start in clock ticks since boot, from /proc): a pid
    the kernel gives again to another process names another identity."""
    try:
        started = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[19]
    except (OSError, IndexError):
        started = "gone"
    return f"{pid} {started}"


def _identity_alive(identity: str) -> bool:
    """Whether the process an ``_identity`` names still runs (and is not a zombie)."""
    pid, _, _ = identity.partition(" ")
    return pid.isdigit() and process_alive(int(pid)) and _identity(int(pid)) == identity


def _guard_alive(guard_file: Path) -> bool:
    try:
        return _identity_alive(guard_file.read_text().strip())
    except OSError:
        return False


def process_alive(pid: int) -> bool:
    """Whether ``pid`` runs (reaping it first if it is our exited child; zombies are dead)."""
    with contextlib.suppress(ChildProcessError, OSError):
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


#: How long a guard waits for the broker's clients to leave before it stops the broker.
CLIENTS_LEAVE_S = 10.0


def _connections_to(port: int) -> int:
    """Established TCP connections to ``port`` on this machine (the broker's clients)."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()  # sl, local address:port (hex), remote, state (01: open)
            if len(fields) > 3 and fields[3] == "01" \
                    and int(fields[1].rsplit(":", 1)[1], 16) == port:
                count += 1
    return count


def _group_alive(pgid: int) -> bool:
    """Whether a process of process group ``pgid`` still runs (zombies are dead)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            state, _, group = (entry / "stat").read_text().rsplit(")", 1)[-1].split()[:3]
        except (OSError, ValueError):
            continue
        if state != "Z" and int(group) == pgid:
            return True
    return False


def _cluster_id() -> str:
    """16 random bytes, URL-safe base64 without padding (22 characters), like Kafka's Uuid.

    Like Kafka's ``Uuid.randomUuid`` it never starts with "-": the storage tool would read such
    an id as an option.
    """
    while True:
        cluster_id = base64.urlsafe_b64encode(secrets.token_bytes(16)).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


def _tail_text(text: str, lines: int) -> str:
    return "\n".join(text.rstrip().splitlines()[-lines:])


if __name__ == "__main__" and sys.argv[1:2] == ["guard"]:
    # The guard of a broker started with ``ends_with_caller``: its data directory (``stop``
    # reads the pid file there) and client port. Ctrl-C is for its parent, never for it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    EmbeddedBroker(BrokerConfig(data_dir=Path(sys.argv[2]), port=int(sys.argv[3]),
                                controller_port=0)).guard()
