"""The Kafka jars and the Java that runs them: the broker's jars are fetched with Maven
(``deploy/kafka/pom.xml``) into ``<home>/kafka-lib``, MirrorMaker 2's
(``deploy/kafka/mirror/pom.xml``) into ``<home>/kafka-mirror-lib``, each fetched again only
when its POM changes."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

from deploy.broker.errors import BrokerError, tail_text
from deploy.broker.processes import locked

#: The POMs that list the jars (package data, shipped with ``deploy``).
POM = Path(__file__).parent.parent / "kafka" / "pom.xml"
MIRROR_POM = Path(__file__).parent.parent / "kafka" / "mirror" / "pom.xml"

_STAMP = ".pom.sha256"


def jars(home: Path) -> Path:
    """Return ``<home>/kafka-lib`` holding the broker's jars, fetching them if needed."""
    return _fetched(home, POM, "kafka-lib", "kafka_2.13-*.jar")


def mirror_jars(home: Path) -> Path:
    """Return ``<home>/kafka-mirror-lib`` holding MirrorMaker 2's jars, fetching them if
    needed."""
    return _fetched(home, MIRROR_POM, "kafka-mirror-lib", "connect-mirror-[0-9]*.jar")


def _fetched(home: Path, pom: Path, lib_dir: str, must_hold: str) -> Path:
    """Return ``<home>/<lib_dir>`` holding the jars ``pom`` lists, fetching them with Maven
    if needed.

    Maven runs only when the stamp in that folder does not match the POM's sha256. The jars are
    copied into a fresh folder that replaces the old one, so two versions never mix.
    """
    home = Path(home).absolute()
    lib = home / lib_dir
    digest = hashlib.sha256(pom.read_bytes()).hexdigest()
    if _stamp_matches(lib, digest):
        return lib
    home.mkdir(parents=True, exist_ok=True)
    with locked(home / f"{lib_dir}.lock"):
        if _stamp_matches(lib, digest):  # another process fetched them while we waited
            return lib
        mvn = shutil.which("mvn")
        if mvn is None:
            raise BrokerError("Maven (mvn) is not installed: it is needed to fetch the Kafka jars")
        java()
        staging = home / f"{lib_dir}.partial"
        shutil.rmtree(staging, ignore_errors=True)
        cmd = [
            mvn, "-B", "-q", "-f", str(pom), "dependency:copy-dependencies",
            "-DincludeScope=runtime", f"-DoutputDirectory={staging}",
        ]  # fmt: skip
        proc = subprocess.run(
            cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, errors="replace", check=False,
        )  # fmt: skip
        if proc.returncode != 0 or not any(staging.glob(must_hold)):
            shutil.rmtree(staging, ignore_errors=True)
            raise BrokerError(
                f"Maven could not fetch the jars of {pom.relative_to(pom.parents[2])} "
                f"(exit {proc.returncode}):\n"
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
