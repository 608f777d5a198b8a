"""The embedded Apache Kafka broker's process: start it (formatting its storage once), wait
until it answers metadata requests, report its status, and stop it (controlled shutdown, then
SIGKILL of its whole process group). It reads and writes no topic.

Everything the broker owns lives in its data directory (``<home>/broker`` by default)::

    server.properties   written on every start (deploy/broker/properties.py)
    kraft/              log.dirs (meta.properties marks formatted storage; kept across restarts)
    logs/server.log     the broker's log (log4j2, see deploy/kafka/log4j2.xml)
    logs/stdout.log     the JVM's stdout/stderr
    broker.pid          the pid of the running broker (also its process group id)
    broker.lock         serialises start and stop
    broker.owner, broker.guard, logs/guard.log
                        the guard of a broker that ends with its caller (deploy/broker/guard.py)
"""

from __future__ import annotations

import base64
import contextlib
import os
import re
import secrets
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from deploy.broker import guard
from deploy.broker.errors import BrokerError, tail_text
from deploy.broker.kafka_jars import jars
from deploy.broker.kafka_jars import java as find_java
from deploy.broker.network import cluster_info, free_ports, port_in_use
from deploy.broker.processes import group_alive, locked, process_alive
from deploy.broker.properties import BrokerConfig, heap, server_properties
from services.config import controller_port, home, kafka_port

LOG4J_CONFIG = Path(__file__).parent.parent / "kafka" / "log4j2.xml"

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


def default_broker() -> EmbeddedBroker:
    """The embedded broker the environment describes (data in ``<home>/broker``)."""
    config = BrokerConfig(
        data_dir=home() / "broker",
        port=kafka_port(),
        controller_port=controller_port(),
        heap=heap(),
    )
    return EmbeddedBroker(config)


def on_free_ports(data_dir: Path, home: Path) -> EmbeddedBroker:
    """A broker (not started) listening on a free port, its controller on another, its data
    in ``data_dir`` and its jars under ``home``: one that tests and benchmarks own."""
    port, controller = free_ports(2)
    return EmbeddedBroker(BrokerConfig(data_dir=data_dir, port=port, controller_port=controller,
                                       heap=heap()), home=home)


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

    @property
    def bootstrap(self) -> str:
        return self.config.bootstrap

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
        pid = self.running_pid()
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
        ends, however it ends (a guard process, see deploy.broker.guard); otherwise it
        runs until ``stop``."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with locked(self.data_dir / "broker.lock"):  # one start/stop at a time per data dir
            return self._start(wait_timeout, ends_with_caller)

    def _start(self, wait_timeout: float, ends_with_caller: bool = False) -> BrokerStatus:
        if self.running_pid() is not None:
            if ends_with_caller:
                guard.take_over(self)
            self._wait_ready(time.monotonic() + wait_timeout, log_offset=0)
            return self.status()
        log_offset = self._spawn(ends_with_caller)
        self._ready_or_stopped(time.monotonic() + wait_timeout, log_offset)
        return self.status()

    def _spawn(self, ends_with_caller: bool) -> int:
        """Format the storage once, start the JVM and return where this run's server.log
        begins; waits for nothing (the nodes of a cluster all start before any can be
        ready: a node logs it started only once a quorum of voters elected a controller)."""
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
        java = find_java()
        lib = jars(self._home if self._home is not None else home())
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.properties_file.write_text(server_properties(cfg, self.log_dir))
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
            guard.start(self)
        return log_offset

    def _ready_or_stopped(self, deadline: float, log_offset: int) -> None:
        """Wait until the broker this process just started is ready; stop it if it is not."""
        try:
            self._wait_ready(deadline, log_offset)
        except BaseException:
            self._stop_started()
            raise

    def _stop_started(self) -> None:
        if self._proc is not None:
            self._terminate(self._proc.pid, timeout=10)
        self._proc = None
        self.pid_file.unlink(missing_ok=True)

    def stop(self, timeout: float = 30) -> None:
        """Stop the broker: SIGTERM (controlled shutdown), SIGKILL after ``timeout`` seconds.

        Stopping a stopped broker does nothing.
        """
        if not self.data_dir.is_dir():
            return
        with locked(self.data_dir / "broker.lock"):
            pid = self.running_pid()
            if pid is not None:
                self._terminate(pid, timeout)
            self._proc = None
            self.pid_file.unlink(missing_ok=True)

    def running_pid(self) -> int | None:
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

    # internals -------------------------------------------------------------
    def _format(self, java: str, classpath: list[str], logging_flags: list[str]) -> None:
        cluster_id = self.config.cluster_id or new_cluster_id()
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
                f"(exit {proc.returncode}):\n{tail_text(proc.stdout, 20)}"
            )

    def _wait_ready(self, deadline: float, log_offset: int) -> None:
        started = False
        last_error: BrokerError | None = None
        while True:
            pid = self.running_pid()
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
                parts.append(f"--- {path} (last {lines} lines)\n{tail_text(text, lines)}")
        return "\n".join(parts) or "(the broker wrote no log)"

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
        while self._alive(pid) or group_alive(pid):
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.1)
        return True


def new_cluster_id() -> str:
    """16 random bytes, URL-safe base64 without padding (22 characters), like Kafka's Uuid.

    Like Kafka's ``Uuid.randomUuid`` it never starts with "-": the storage tool would read such
    an id as an option.
    """
    while True:
        cluster_id = base64.urlsafe_b64encode(secrets.token_bytes(16)).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id
