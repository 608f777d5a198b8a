"""docker-compose.yml, checked against the code it runs (no Docker: it cannot run here).

Every coopbridge process in the compose file must be a command the ``coopbridge`` CLI accepts
(parsed by the click group itself), run a service of the catalog, read only settings the code
reads, come from the one image built from deploy/Dockerfile, and talk to its own node's Kafka
cluster only. Both nodes run the full set of processes; their gateways answer on the port
they are told; MirrorMaker 2 carries exactly each node's federation topic to the other cluster;
each node's trust list names the other node's gateway. The nodes reach each other's gateways
over HTTPS only: every gateway address is https, every gateway serves TLS with the options
``coopbridge gateway`` has, its certificate (for the name its peer reaches it by) and key
mounted from files that are never committed, and trusts the authority that signed its peer's.

What this cannot show: that the images pull and build, that the containers start, that
brokers form a quorum, that MirrorMaker 2 copies, that the gateway is reachable from outside
its container, that the certificates made as deploy/federation/README.md says are accepted.
Those need a Docker engine (the gateway's TLS options themselves are tested with a real
handshake in tests/e2e/test_gateway_tls.py).
"""

from __future__ import annotations

import re
import shlex
import tomllib
from dataclasses import dataclass
from fnmatch import fnmatch
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click
import pytest
import yaml

from deploy import broker, cli, mirror
from deploy.broker.properties import server_properties
from deploy.node import SERVICES
from schemas.topics import federation_topic, node_topics
from services import config
from services.runtime import host

REPO = Path(__file__).resolve().parents[2]
COMPOSE = REPO / "docker-compose.yml"
DOCKERFILE = REPO / "deploy" / "Dockerfile"
NODES = ("es", "ec")
#: The federation relay: ``coopbridge service federation`` runs on every node.
RELAY = "federation"
#: Names the compose file runs before they are in the catalog (the relay is being written).
PENDING = {RELAY} - set(SERVICES)
#: Images that are not ours; every other service is a coopbridge process.
KAFKA_IMAGE = "apache/kafka:"
SETTING = re.compile(r"(COOPBRIDGE|KAFKA)_[A-Z0-9_]+")
#: The keys of a node, each in its own env file ``deploy/federation/<node>.<kind>.env``.
KEY_FILES = {"signing-key": "COOPBRIDGE_SIGNING_KEY", "node-key": "COOPBRIDGE_NODE_KEY"}


# ---- reading the compose file ----------------------------------------------------------------

@cache
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())  # resolves the anchors and `<<` merges


def services() -> dict[str, dict[str, Any]]:
    return compose()["services"]


def is_kafka_image(spec: dict) -> bool:
    return str(spec.get("image", "")).startswith(KAFKA_IMAGE)


def brokers() -> dict[str, dict]:
    return {n: s for n, s in services().items()
            if is_kafka_image(s) and "KAFKA_PROCESS_ROLES" in environment(s)}


def mirror_makers() -> dict[str, dict]:
    return {n: s for n, s in services().items()
            if is_kafka_image(s) and "connect-mirror-maker.sh" in " ".join(command(s))}


def coopbridge_services() -> dict[str, dict]:
    return {n: s for n, s in services().items() if not is_kafka_image(s)}


def environment(spec: dict) -> dict[str, str]:
    env = spec.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {str(k): "" if v is None else str(v) for k, v in env.items()}


def command(spec: dict) -> list[str]:
    cmd = spec.get("command") or []
    return shlex.split(cmd) if isinstance(cmd, str) else [str(part) for part in cmd]


def depends_on(spec: dict) -> set[str]:
    return set(spec.get("depends_on") or ())


def volumes(spec: dict) -> dict[str, str]:
    """target -> source of a service's mounts (short or long syntax)."""
    mounts = {}
    for volume in spec.get("volumes") or ():
        if isinstance(volume, dict):
            mounts[volume["target"]] = str(volume.get("source", ""))
        else:
            source, target, *_ = volume.split(":")
            mounts[target] = source
    return mounts


def repo_file(source: str) -> Path:
    """A bind mount's source: relative paths are relative to the compose file."""
    return (COMPOSE.parent / source).resolve()


def container_ports(spec: dict) -> list[tuple[str, int]]:
    """(published, container port) of every port a service publishes."""
    found = []
    for port in spec.get("ports") or ():
        if isinstance(port, dict):
            found.append((str(port.get("published", "")), int(port["target"])))
        else:
            parts = str(port).split("/")[0].split(":")
            found.append((parts[-2] if len(parts) > 1 else "", int(parts[-1])))
    return found


def hosts(bootstrap: str) -> set[str]:
    return {address.strip() for address in bootstrap.split(",") if address.strip()}


# ---- what the CLI makes of a command ----------------------------------------------------------

@dataclass(frozen=True)
class Process:
    service: str  # the compose service
    command: str  # the coopbridge subcommand: topics, service, gateway
    name: str  # the service run (``service``) or the subcommand
    node: str
    params: dict


def parse(args: list[str], *, allow_pending: bool = False) -> tuple[str, dict]:
    """The subcommand and its parameters, as the click group parses ``coopbridge <args>``.

    Raises ``click.UsageError`` for a subcommand, option or value the CLI does not have. With
    ``allow_pending``, a service name of PENDING is accepted (its options are still parsed)."""
    root = click.Context(cli.main, info_name="coopbridge")
    if not args:
        raise click.UsageError("no subcommand (the image's default is --help)")
    sub = cli.main.get_command(root, args[0])
    if sub is None:
        raise click.UsageError(f"no subcommand {args[0]!r}; "
                               f"the CLI has {', '.join(cli.main.list_commands(root))}")
    rest = list(args[1:])
    pending = allow_pending and args[0] == "service" and rest[:1] and rest[0] in PENDING
    if pending:
        rest[0] = sorted(SERVICES)[0]
    with root:
        params = dict(sub.make_context(args[0], rest, parent=root).params)
    if pending:
        params["name"] = args[1]
    return args[0], params


def process(service: str) -> Process:
    spec = services()[service]
    try:
        subcommand, params = parse(command(spec), allow_pending=True)
    except click.UsageError as exc:
        pytest.fail(f"{service}: `coopbridge {shlex.join(command(spec))}`: "
                    f"{exc.format_message()}", pytrace=False)
    nodes = params.get("nodes") or (params.get("node"),)
    assert len(nodes) == 1 and nodes[0], (
        f"{service}: `coopbridge {shlex.join(command(spec))}` must name exactly one node "
        f"with --node (one container per node and process); it names {list(nodes)}")
    return Process(service, subcommand, params.get("name") or subcommand, nodes[0], params)


def processes() -> list[Process]:
    return [process(name) for name in coopbridge_services()]


def of_node(node: str) -> list[Process]:
    return [p for p in processes() if p.node == node]


# ---- the Kafka clusters ------------------------------------------------------------------------

def clusters() -> dict[str, set[str]]:
    """CLUSTER_ID -> the ``host:port`` addresses its brokers advertise to clients."""
    found: dict[str, set[str]] = {}
    for name, spec in brokers().items():
        env = environment(spec)
        advertised = {urlsplit(listener).netloc
                      for listener in env.get("KAFKA_ADVERTISED_LISTENERS", "").split(",")}
        found.setdefault(env.get("CLUSTER_ID", ""), set()).update(advertised)
    return found


def cluster_of(addresses: set[str]) -> str | None:
    """The one cluster whose brokers all of ``addresses`` are, else None."""
    owners = {cid for cid, members in clusters().items() if addresses & members}
    if len(owners) == 1 and addresses <= clusters()[next(iter(owners))]:
        return next(iter(owners))
    return None


def node_cluster(node: str) -> str:
    addresses = set().union(*(hosts(environment(services()[p.service])
                                    .get("KAFKA_BOOTSTRAP_SERVERS", ""))
                              for p in of_node(node)))
    cid = cluster_of(addresses)
    assert cid is not None, (
        f"the processes of node {node} connect to {sorted(addresses)}, which are not the "
        f"brokers of one cluster; the clusters are "
        f"{({cid: sorted(members) for cid, members in clusters().items()})}")
    return cid


# ---- reading the code ------------------------------------------------------------------------

@cache
def python_source() -> str:
    return "\n".join(path.read_text() for folder in ("services", "gateway", "deploy")
                     for path in sorted((REPO / folder).rglob("*.py")))


def read_properties(path: Path) -> dict[str, str]:
    """A Java .properties file as MirrorMaker reads it (escapes, continuations, separators)."""
    def unescape(text: str) -> str:
        out, chars = [], iter(text)
        for char in chars:
            if char == "\\":
                char = next(chars, "")
                char = {"t": "\t", "n": "\n", "r": "\r", "f": "\f"}.get(char, char)
            out.append(char)
        return "".join(out)

    props, pending = {}, ""
    for raw in path.read_text().splitlines():
        line = raw.lstrip()
        if not pending and (not line or line.startswith(("#", "!"))):
            continue
        if (len(line) - len(line.rstrip("\\"))) % 2:  # an odd trailing backslash continues
            pending += line[:-1]
            continue
        line, pending = pending + line, ""
        match = re.match(r"((?:\\.|[^\\=:\s])*)\s*[=:]?\s*(.*)", line)
        props[unescape(match[1])] = unescape(match[2])
    return props


def dockerfile_instructions() -> list[tuple[str, str]]:
    lines, current = [], ""
    for raw in DOCKERFILE.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        current += line[:-1] + " " if line.endswith("\\") else line
        if not line.endswith("\\"):
            instruction, _, argument = current.partition(" ")
            lines.append((instruction.upper(), argument.strip()))
            current = ""
    return lines


# ---- the tests ---------------------------------------------------------------------------------

def test_the_compose_file_has_both_kinds_of_services():
    assert coopbridge_services() and brokers() and mirror_makers(), (
        "docker-compose.yml should run coopbridge processes, Kafka brokers and MirrorMaker 2")
    others = set(services()) - set(coopbridge_services()) - set(brokers()) - set(mirror_makers())
    assert not others, f"services on {KAFKA_IMAGE}* that are neither broker nor MM2: {others}"


@pytest.mark.parametrize("service", sorted(coopbridge_services()))
def test_every_command_is_one_the_cli_has(service):
    args = command(services()[service])
    try:
        parse(args)
    except click.UsageError as exc:
        if args[:1] == ["service"] and args[1:2] and args[1] in PENDING:
            parse(args, allow_pending=True)  # the options must exist all the same
            pytest.xfail(f"`coopbridge service {args[1]}` is not in the CLI until "
                         f"deploy.node.SERVICES has {args[1]!r}")
        pytest.fail(f"{service}: `coopbridge {shlex.join(args)}` is not a command the CLI "
                    f"(deploy.cli) accepts: {exc.format_message()}", pytrace=False)


def test_every_service_run_is_in_the_catalog():
    run = {p.name for p in processes() if p.command == "service"}
    missing = run - set(SERVICES)
    if missing and missing <= PENDING:
        pytest.xfail(f"{sorted(missing)} not in deploy.node.SERVICES yet")
    assert not missing, (f"docker-compose.yml runs `coopbridge service` {sorted(missing)}, "
                         f"which deploy.node.SERVICES does not have ({sorted(SERVICES)})")


def test_both_nodes_run_every_process():
    expected = ({("topics", "topics"), ("gateway", "gateway")}
                | {("service", name) for name in (*SERVICES, RELAY)})
    assert {p.node for p in processes()} == set(NODES), (
        f"the coopbridge processes belong to nodes {sorted({p.node for p in processes()})}, "
        f"expected exactly {list(NODES)}")
    for node in NODES:
        running = {(p.command, p.name) for p in of_node(node)}
        assert running == expected, (
            f"node {node}: missing {sorted(expected - running)}, "
            f"unexpected {sorted(running - expected)}")


@pytest.mark.parametrize("service", sorted(coopbridge_services()))
def test_the_node_in_the_environment_is_the_node_on_the_command_line(service):
    node = environment(services()[service]).get("COOPBRIDGE_NODE")
    assert node == process(service).node, (
        f"{service}: --node {process(service).node} but COOPBRIDGE_NODE={node}")


@pytest.mark.parametrize("service", sorted(coopbridge_services()))
def test_every_setting_given_is_one_the_code_reads(service):
    spec = services()[service]
    for name in filter(SETTING.fullmatch, environment(spec)):
        assert re.search(rf"""["']{name}["']""", python_source()), (
            f"{service}: sets {name}, which no code under services/, gateway/ or deploy/ reads")
    for secret in KEY_FILES.values():
        assert secret not in environment(spec), (
            f"{service}: {secret} is written in docker-compose.yml; it belongs in the node's "
            "key env file, which is never committed")


def holds_data_keys(name: str) -> bool | None:
    """Whether a service of the catalog is built with the node's data keys (None: unknown)."""
    if name not in SERVICES:
        return None
    without = getattr(host, "WithoutDataKeys", None)
    return not (without is not None and isinstance(SERVICES[name][0], without))


def test_each_process_gets_its_own_nodes_keys_and_only_those_it_uses():
    ignored = (REPO / "deploy" / "federation" / ".gitignore").read_text().split()
    for variable in KEY_FILES.values():
        assert re.search(rf"""["']{variable}["']""", python_source()), f"nothing reads {variable}"
    for p in processes():
        files = services()[p.service].get("env_file") or []
        files = [f if isinstance(f, str) else f["path"] for f in files]
        given = set()
        for f in files:
            match = re.fullmatch(r"([a-z0-9]+)\.([a-z-]+)\.env", Path(f).name)
            assert match and match[2] in KEY_FILES, (
                f"{p.service}: env file {f} is not <node>.{{{','.join(KEY_FILES)}}}.env")
            assert match[1] == p.node, (
                f"{p.service} (node {p.node}) is given node {match[1]}'s key: {f}")
            assert any(fnmatch(Path(f).name, pattern) for pattern in ignored), (
                f"{f} is not in deploy/federation/.gitignore: a node's key would be committed")
            given.add(KEY_FILES[match[2]])
        needs, refused = set(), set()
        if p.command == "topics":  # creates topics, holds no key
            refused = set(KEY_FILES.values())
        elif p.command == "gateway":  # signs tokens and records, opens members' data
            needs = set(KEY_FILES.values())
        else:
            if p.name == RELAY:  # signs what it sends to the peers
                needs.add("COOPBRIDGE_SIGNING_KEY")
            data_keys = holds_data_keys(p.name)
            if data_keys:
                needs.add("COOPBRIDGE_NODE_KEY")
            elif data_keys is False:  # built never to see a member's data key
                refused.add("COOPBRIDGE_NODE_KEY")
        assert needs <= given, f"{p.service}: without {sorted(needs - given)} (given {files})"
        assert not given & refused, f"{p.service}: must not hold {sorted(given & refused)}"


def test_every_gateway_answers_on_the_port_it_is_given():
    published = []
    for p in processes():
        if p.command != "gateway":
            continue
        spec, env = services()[p.service], environment(services()[p.service])
        port = p.params["port"]
        assert port, f"{p.service}: no --port"
        if "COOPBRIDGE_GATEWAY_PORT" in env:
            assert int(env["COOPBRIDGE_GATEWAY_PORT"]) == port, (
                f"{p.service}: --port {port} but COOPBRIDGE_GATEWAY_PORT="
                f"{env['COOPBRIDGE_GATEWAY_PORT']}")
        ports = container_ports(spec)
        assert ports, f"{p.service}: publishes no port"
        for host_port, container in ports:
            assert container == port, (
                f"{p.service}: publishes container port {container}, the gateway listens "
                f"on --port {port}")
            published.append(host_port)
        probe = " ".join(map(str, (spec.get("healthcheck") or {}).get("test") or []))
        assert re.search(rf"(127\.0\.0\.1|localhost):{port}/health\b", probe), (
            f"{p.service}: the healthcheck should ask /health on port {port}: {probe!r}")
        url = urlsplit(env.get("COOPBRIDGE_PUBLIC_URL", ""))
        assert (url.hostname, url.port) == (p.service, port), (
            f"{p.service}: COOPBRIDGE_PUBLIC_URL={env.get('COOPBRIDGE_PUBLIC_URL')} is not "
            f"this gateway (http://{p.service}:{port})")
    assert len(published) == len(set(published)), f"two gateways share a host port: {published}"


def test_each_node_talks_to_its_own_cluster_only():
    assert len(clusters()) == len(NODES), (
        f"expected one Kafka cluster per node, found CLUSTER_IDs {sorted(clusters())}")
    for name, spec in brokers().items():
        env = environment(spec)
        voters = {v.split("@", 1)[1].split(":")[0]
                  for v in env["KAFKA_CONTROLLER_QUORUM_VOTERS"].split(",")}
        members = {a.split(":")[0] for a in clusters()[env["CLUSTER_ID"]]}
        assert voters == members, (
            f"{name}: its controller quorum {sorted(voters)} is not its cluster {sorted(members)}")
    owner = {node: node_cluster(node) for node in NODES}
    assert len(set(owner.values())) == len(NODES), f"two nodes share a cluster: {owner}"
    broker_cluster = {name: environment(spec)["CLUSTER_ID"] for name, spec in brokers().items()}
    node_of_service = {p.service: p.node for p in processes()}
    for p in processes():
        env = environment(services()[p.service])
        cid = cluster_of(hosts(env.get("KAFKA_BOOTSTRAP_SERVERS", "")))
        assert cid == owner[p.node], (
            f"{p.service} (node {p.node}) connects to {env.get('KAFKA_BOOTSTRAP_SERVERS')!r}, "
            f"not to node {p.node}'s cluster only")
        replicas = int(env.get("COOPBRIDGE_REPLICATION_FACTOR", "1"))
        assert replicas <= len(clusters()[cid]), (
            f"{p.service}: replication factor {replicas} > {len(clusters()[cid])} brokers")
        for dependency in depends_on(services()[p.service]):
            other = node_of_service.get(dependency) or (
                next(n for n, c in owner.items() if c == broker_cluster[dependency])
                if dependency in broker_cluster else None)
            assert other in (None, p.node), (
                f"{p.service} (node {p.node}) waits for {dependency} of node {other}")


def test_every_coopbridge_process_runs_the_one_image_built_from_deploy_dockerfile():
    images = set()
    for name, spec in coopbridge_services().items():
        build = spec.get("build")
        assert build, f"{name}: not built from deploy/Dockerfile (no build:)"
        context, dockerfile = ((build, "Dockerfile") if isinstance(build, str)
                               else (build.get("context", "."), build.get("dockerfile",
                                                                          "Dockerfile")))
        built_from = (COMPOSE.parent / context / dockerfile).resolve()
        assert built_from == DOCKERFILE, f"{name}: built from {built_from}, not {DOCKERFILE}"
        assert (COMPOSE.parent / context).resolve() == REPO, (
            f"{name}: the build context must be the repository (the Dockerfile copies it)")
        images.add(spec.get("image"))
    assert len(images) == 1, f"the coopbridge processes should share one image, not {images}"


def test_the_dockerfile_installs_the_project_and_runs_the_cli_as_a_user():
    instructions = dockerfile_instructions()
    froms = [arg for ins, arg in instructions if ins == "FROM"]
    assert froms and froms[-1].split()[0] == "python:3.11-slim", f"FROM {froms}"
    runs = " && ".join(arg for ins, arg in instructions if ins == "RUN")
    assert re.search(r"pip install\b[^&;|]*\s\.(\s|$)", runs), (
        f"the Dockerfile should `pip install .` (the project): {runs!r}")
    entrypoint = [arg for ins, arg in instructions if ins == "ENTRYPOINT"]
    assert entrypoint and yaml.safe_load(entrypoint[-1]) == ["coopbridge"], (
        f"ENTRYPOINT should be [\"coopbridge\"], is {entrypoint}")
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts.get("coopbridge") == f"{cli.__name__}:{cli.main.callback.__name__}", (
        f"the image's entrypoint `coopbridge` should be deploy.cli:main, is {scripts}")
    users = [arg for ins, arg in instructions if ins == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0"), (
        f"the processes should not run as root: USER {users}")
    env = dict(re.findall(r"(\w+)=(\S+)", " ".join(a for i, a in instructions if i == "ENV")))
    workdir = [arg for ins, arg in instructions if ins == "WORKDIR"][-1]
    workdir = re.sub(r"\$\{?(\w+)\}?", lambda m: env.get(m[1], m[0]), workdir)
    assert env.get("COOPBRIDGE_HOME") and workdir == env["COOPBRIDGE_HOME"], (
        f"the processes should run in COOPBRIDGE_HOME ({env.get('COOPBRIDGE_HOME')}), which "
        f"their user owns: faust makes its data folder in the working directory ({workdir})")


def test_kafka_is_the_official_4x_image_everywhere():
    tags = {spec["image"] for spec in (*brokers().values(), *mirror_makers().values())}
    assert len(tags) == 1 and next(iter(tags)).startswith(f"{KAFKA_IMAGE}4."), (
        f"brokers and MirrorMaker 2 should run one apache/kafka:4.x image, not {tags}")


def test_mirror_maker_carries_each_nodes_federation_topic_to_the_other_and_nothing_else():
    makers = mirror_makers()
    targets = {}
    for name, spec in makers.items():
        args = command(spec)
        properties_in_container = args[1]
        source = volumes(spec).get(properties_in_container)
        assert source, f"{name}: {properties_in_container} is not mounted from the repository"
        path = repo_file(source)
        assert path.is_file(), f"{name}: mounts {source}, which does not exist"
        assert "--clusters" in args, f"{name}: one process per direction needs --clusters"
        targets[name] = tuple(args[args.index("--clusters") + 1:])
        assert len(targets[name]) == 1, f"{name}: one target cluster, not {targets[name]}"
        props = read_properties(path)
        assert props.get("replication.policy.class", "").endswith(".IdentityReplicationPolicy"), (
            f"{source}: the copies must keep their names (IdentityReplicationPolicy)")
        aliases = [alias.strip() for alias in props["clusters"].split(",")]
        assert sorted(aliases) == sorted(NODES), f"{source}: clusters = {aliases}"
        owner = {node: node_cluster(node) for node in NODES}
        for alias in aliases:
            assert cluster_of(hosts(props[f"{alias}.bootstrap.servers"])) == owner[alias], (
                f"{source}: {alias}.bootstrap.servers is not node {alias}'s cluster "
                f"({sorted(clusters()[owner[alias]])})")
            brokers_there = len(clusters()[owner[alias]])
            for key, value in props.items():
                if key.endswith("replication.factor"):
                    assert int(value) <= brokers_there, f"{source}: {key} = {value}"
        flows = {tuple(key.removesuffix(".enabled").split("->"))
                 for key, value in props.items()
                 if key.endswith(".enabled") and "->" in key and value.strip() == "true"}
        assert flows == {(a, b) for a in NODES for b in NODES if a != b}, (
            f"{source}: enabled flows {sorted(flows)}, expected each node to each other")
        every_topic = {spec.name for node in NODES for spec in node_topics(node)}
        for source_node, target_node in flows:
            patterns = [p.strip() for p in props[f"{source_node}->{target_node}.topics"]
                        .split(",")]
            carried = {t for t in every_topic if re.fullmatch("|".join(patterns), t)}
            assert carried == {federation_topic(source_node)}, (
                f"{source}: {source_node}->{target_node} carries {sorted(carried)}, "
                f"expected only {federation_topic(source_node)}")
    assert sorted(t for (t,) in targets.values()) == sorted(NODES), (
        f"one MirrorMaker 2 process per direction (per target cluster): {targets}")


#: What differs from broker to broker (checked by the tests of the quorum and listeners).
PER_BROKER = {"node.id", "listeners", "advertised.listeners", "log.dirs",
              "controller.quorum.voters"}
#: Sized for the machine a local cluster runs on (threads, memory): a real broker sizes them
#: for its own hardware.
SIZED_FOR_THE_MACHINE = {"num.network.threads", "num.io.threads",
                         "log.cleaner.dedupe.buffer.size"}


def broker_settings(env: dict[str, str]) -> dict[str, str]:
    """A broker's settings as the apache/kafka image makes them of its KAFKA_* variables
    (``KAFKA_MIN_INSYNC_REPLICAS`` -> ``min.insync.replicas``)."""
    return {key.removeprefix("KAFKA_").lower().replace("_", "."): value
            for key, value in env.items()
            if key.startswith("KAFKA_") and key != "KAFKA_HEAP_OPTS"}


def test_each_broker_runs_the_settings_the_three_broker_tests_ran(tmp_path):
    """The brokers here have every setting a local three-broker cluster is started with
    (deploy/broker/properties.py), durability first: replicas, min.insync.replicas,
    unclean election, the internal topics' replication; and none it is not."""
    local = broker.EmbeddedCluster("x", tmp_path, [(9500, 9501), (9502, 9503), (9504, 9505)])
    ran = dict(line.split("=", 1) for line in server_properties(
        local.nodes[0].config, tmp_path).splitlines() if not line.startswith("#"))
    shared = {k: v for k, v in ran.items() if k not in PER_BROKER | SIZED_FOR_THE_MACHINE}
    for name, spec in brokers().items():
        given = broker_settings(environment(spec))
        differ = {k: (v, given.get(k)) for k, v in shared.items() if given.get(k) != v}
        assert not differ, f"{name}: (what ran, what compose says) {differ}"
        never_ran = sorted(set(given) - set(ran))  # and nothing the tests never ran
        assert not never_ran, f"{name}: settings no local cluster runs with: {never_ran}"


def test_mirror_maker_is_told_what_coopbridge_up_clusters_tells_it():
    """The committed configuration is ``deploy.mirror.settings`` for the compose clusters,
    setting for setting, as Java reads the file: what the multi-cluster tests and
    ``up --clusters`` ran (only the bootstrap servers differ)."""
    for spec in mirror_makers().values():
        props = read_properties(repo_file(volumes(spec)[command(spec)[1]]))
        bootstraps = {node: props[f"{node}.bootstrap.servers"] for node in NODES}
        assert props == mirror.settings(bootstraps)
        assert f"-Xmx{mirror.HEAP}" in environment(spec).get("KAFKA_HEAP_OPTS", "")


def test_each_nodes_trust_list_names_the_other_nodes_gateway(monkeypatch):
    public_url = {p.node: environment(services()[p.service])["COOPBRIDGE_PUBLIC_URL"]
                  for p in processes() if p.command == "gateway"}
    for p in processes():
        if p.command == "topics":
            continue
        spec = services()[p.service]
        target = environment(spec).get("COOPBRIDGE_PEERS")
        assert target, f"{p.service}: no COOPBRIDGE_PEERS (the node's trust list)"
        source = volumes(spec).get(target)
        assert source and repo_file(source).name == f"{p.node}.peers.json", (
            f"{p.service} (node {p.node}): {target} is mounted from {source}, "
            f"not from node {p.node}'s trust list")
        monkeypatch.setenv("COOPBRIDGE_PEERS", str(repo_file(source)))
        peers = config.peers(p.node)
        assert set(peers) == set(NODES) - {p.node}, f"{source} lists {sorted(peers)}"
        for peer in peers.values():
            assert peer.gateway_url == public_url[peer.node].rstrip("/"), (
                f"{source}: node {peer.node}'s gateway is {public_url[peer.node]}, "
                f"the trust list says {peer.gateway_url}")


# ---- between the gateways: HTTPS ---------------------------------------------------------------

#: Where each gateway's certificate, key and the federation's authority come from.
TLS_FOLDER = REPO / "deploy" / "federation" / "tls"


def never_committed(path: Path) -> bool:
    """Whether deploy/federation/.gitignore keeps ``path`` (a file under that folder) out."""
    folder = REPO / "deploy" / "federation"
    relative = path.relative_to(folder).as_posix()
    for pattern in (folder / ".gitignore").read_text().split():
        if pattern.startswith("#"):
            continue
        if pattern.endswith("/") and relative.startswith(pattern):
            return True
        if fnmatch(path.name, pattern) or fnmatch(relative, pattern):
            return True
    return False


def gateways() -> list[Process]:
    return [p for p in processes() if p.command == "gateway"]


def test_the_nodes_reach_each_others_gateways_over_https_only(monkeypatch):
    for p in gateways():
        url = environment(services()[p.service]).get("COOPBRIDGE_PUBLIC_URL", "")
        assert urlsplit(url).scheme == "https", (
            f"{p.service}: COOPBRIDGE_PUBLIC_URL={url!r}: its peers reach it over https only")
    for p in processes():
        if p.command == "topics":  # reads no trust list
            continue
        spec = services()[p.service]
        source = repo_file(volumes(spec)[environment(spec)["COOPBRIDGE_PEERS"]])
        monkeypatch.setenv("COOPBRIDGE_PEERS", str(source))
        for peer in config.peers(p.node).values():
            assert urlsplit(peer.gateway_url).scheme == "https", (
                f"{source.name}: node {peer.node}'s gateway is {peer.gateway_url}, not https")


def test_every_gateway_serves_https_with_the_clis_options_and_never_committed_files():
    cli_options = {option for param in cli.gateway.params for option in param.opts}
    for p in gateways():
        spec, env = services()[p.service], environment(services()[p.service])
        passed = {arg.split("=", 1)[0] for arg in command(spec) if arg.startswith("--ssl")}
        assert passed and passed <= cli_options, (
            f"{p.service}: passes {sorted(passed)}; `coopbridge gateway` has "
            f"{sorted(o for o in cli_options if o.startswith('--ssl'))}")
        mounts = volumes(spec)
        for option, expected in (("ssl_certfile", f"{p.service}.pem"),
                                 ("ssl_keyfile", f"{p.service}.key")):
            in_container = p.params.get(option)
            assert in_container, f"{p.service}: no --{option.replace('_', '-')}: plain HTTP"
            source = mounts.get(in_container)
            assert source, f"{p.service}: {in_container} is not mounted"
            path = repo_file(source)
            # the certificate is made for the name the peer reaches it by (its service)
            assert path == TLS_FOLDER / expected, (
                f"{p.service}: {in_container} comes from {source}, not "
                f"deploy/federation/tls/{expected}")
            assert never_committed(path), f"{source} would be committed"
        authority = env.get("COOPBRIDGE_PEER_CA")
        assert authority and mounts.get(authority), (
            f"{p.service}: no COOPBRIDGE_PEER_CA mounted: it could not trust its peer's "
            "gateway")
        assert repo_file(mounts[authority]) == TLS_FOLDER / "ca.pem", (
            f"{p.service}: COOPBRIDGE_PEER_CA comes from {mounts[authority]}, not the "
            "federation's authority (deploy/federation/tls/ca.pem)")
        probe = " ".join(map(str, (spec.get("healthcheck") or {}).get("test") or []))
        assert f"https://127.0.0.1:{p.params['port']}/health" in probe, (
            f"{p.service}: the healthcheck should ask over https: {probe!r}")
        assert "ca.pem" in probe, f"{p.service}: the healthcheck should check the chain"
