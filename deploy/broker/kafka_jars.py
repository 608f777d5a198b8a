"""The Kafka jars and the Java that runs them: the jars are fetched with Maven
(``deploy/kafka/pom.xml``) into ``<home>/kafka-lib`` and fetched again only when the POM
changes."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

from deploy.broker.errors import BrokerError, tail_text
from deploy.broker.processes import locked

#: The POM that lists the jars (package data, shipped with ``deploy``).
POM = Path(__file__).parent.parent / "kafka" / "pom.xml"

_LIB_DIR = "kafka-lib"
_STAMP = ".pom.sha256"


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
    with locked(home / f"{_LIB_DIR}.lock"):
        if _stamp_matches(lib, digest):  # another process fetched them while we waited
            return lib
        mvn = shutil.which("mvn")
        if mvn is None:
            raise BrokerError("Maven (mvn) is not installed: it is needed to fetch the Kafka jars")
        java()
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
                + tail_text(proc.stdout, 20)
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


def java() -> str:
    """The ``java`` on the PATH; :class:`BrokerError` if there is none."""
    found = shutil.which("java")
    if found is None:
        raise BrokerError("Java is not installed: the Kafka broker needs a Java 17+ runtime")
    return found
