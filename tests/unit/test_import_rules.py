"""The import rules, read from the source with ``ast`` (nothing is imported):

* ``schemas`` (the contracts) imports nothing of ours but itself;
* a service package (``services/<name>/``) imports no other service package: only its own
  modules, the runtime (``services.runtime``), ``services.config`` and ``schemas``; the
  runtime imports no service package at all;
* the gateway imports of the services only the client side of the runtime (``CLIENT_SIDE``)
  and ``services.config``: never a service package, never the command processor or its core;
  and nothing of ``deploy`` (whose composition root reaches every service);
* the services (the runtime too) import neither the gateway nor ``deploy``;
* no import cycle among our modules;
* no ``importlib.import_module`` or ``__import__``, which this reading could not follow.

Every import statement counts, wherever it stands: at module level, inside a function (an
import put off into a function still makes its module depend on the other) or under a
condition. An import counts as one of the module it names (``from services import config``
names ``services.config``); the parent packages Python initialises on the way do not count,
or every package whose ``__init__`` re-exports its modules would be a cycle.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path


ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("schemas", "services", "gateway", "deploy")
#: What of the services the gateway may use: sending commands and reading replies, ids, keys,
#: data keys, reading records (and their dead letters), Kafka clients and faust wiring, and
#: the clock commands are sent and days checked by (the client's own, moved outside
#: production only).
CLIENT_SIDE = frozenset({
    "services.config", "services.runtime.client", "services.runtime.ids", "services.runtime.clock",
    "services.runtime.keys", "services.runtime.datakeys", "services.runtime.deadletter",
    "services.runtime.reading", "services.runtime.kafka_clients", "services.runtime.streams",
})


@dataclass(frozen=True)
class Import:
    module: str  # the importing module
    target: str  # the module it imports
    line: int

    def __str__(self) -> str:
        return f"{self.module} (line {self.line}) imports {self.target}"


def module_names(root: Path) -> dict[str, Path]:
    """Our modules under ``root``, by dotted name (a package by its own name)."""
    found = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imports(root: Path) -> list[Import]:
    """Every import of one of our modules by one of our modules, anywhere in its source."""
    known = module_names(root)
    found = []
    for module, path in known.items():
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets = [_nearest(alias.name, known) for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                    base = ".".join([*anchor, *([base] if base else [])])
                targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known
                           else _nearest(base, known) for alias in node.names]
            else:
                continue
            found += [Import(module, target, node.lineno)
                      for target in dict.fromkeys(targets) if target is not None]
    return found


def _nearest(name: str, known: dict[str, Path]) -> str | None:
    """The module ``name`` is, or the nearest package of ours it lies in (None: not ours)."""
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name or None


def service_packages(root: Path) -> frozenset[str]:
    """``services.membership``, ``services.runtime`` …: the folders of ``services/``."""
    return frozenset(f"services.{path.parent.name}"
                     for path in (root / "services").glob("*/__init__.py"))


def _within(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def violations(found: list[Import], packages: frozenset[str]) -> list[str]:
    """Each import that breaks a rule, with the rule it breaks (``packages``: the service
    packages, the runtime's included)."""

    def package_of(module: str) -> str | None:
        return next((p for p in packages if _within(module, p)), None)

    broken = []
    for imp in found:
        source, target = imp.module, imp.target
        if (_within(source, "schemas") and target.split(".")[0] in PACKAGES
                and not _within(target, "schemas")):
            broken.append(f"{imp}: the contracts import nothing of ours")
        home, away = package_of(source), package_of(target)
        if home == "services.runtime" and away not in (None, home):
            broken.append(f"{imp}: the runtime imports no service package")
        elif home and away not in (None, home, "services.runtime"):
            broken.append(f"{imp}: a service imports no other service package")
        if (_within(source, "gateway") and _within(target, "services")
                and target not in CLIENT_SIDE):
            broken.append(f"{imp}: the gateway imports only the client side of the runtime")
        if _within(source, "gateway") and _within(target, "deploy"):
            broken.append(f"{imp}: the gateway imports nothing of deploy (its composition "
                          "root reaches every service)")
        if _within(source, "services") and target.split(".")[0] in ("gateway", "deploy"):
            broken.append(f"{imp}: the services import neither the gateway nor deploy")
    return broken


def dynamic_imports(root: Path) -> list[str]:
    """Imports the reading cannot follow: ``importlib.import_module`` or ``__import__`` in
    our packages, each as ``module (line n)``."""
    found = []
    for module, path in module_names(root).items():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Call):
                name = (node.func.id if isinstance(node.func, ast.Name)
                        else getattr(node.func, "attr", ""))
                if name in ("import_module", "__import__"):
                    found.append(f"{module} (line {node.lineno}): {name}")
    return found


def cycles(found: list[Import]) -> list[list[str]]:
    """The import cycles: each strongly connected set of two or more modules (or a module
    that imports itself), sorted (Tarjan's algorithm, iterative)."""
    graph: dict[str, set[str]] = {}
    for imp in found:
        graph.setdefault(imp.module, set()).add(imp.target)
        graph.setdefault(imp.target, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found_cycles = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                members = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    members.append(member)
                    if member == node:
                        break
                if len(members) > 1 or node in graph[node]:
                    found_cycles.append(sorted(members))
    return sorted(found_cycles)


# -- the rules, on this tree ----------------------------------------------------------------

FOUND = imports(ROOT)


def test_the_reading_finds_the_imports_there_are():
    """A guard against a checker that sees nothing: known imports of each kind are found."""
    pairs = {(imp.module, imp.target) for imp in FOUND}
    assert ("services.runtime.processor", "services.runtime.core") in pairs
    assert ("gateway.auth", "services.config") in pairs  # from services import config
    assert ("deploy.cli", "gateway.app") in pairs  # inside a function
    assert ("schemas", "schemas.membership") in pairs


def test_every_import_keeps_to_the_rules():
    assert violations(FOUND, service_packages(ROOT)) == []


def test_no_import_cycle():
    assert cycles(FOUND) == []


def test_no_import_the_reading_cannot_see():
    assert dynamic_imports(ROOT) == []


# -- the checker can fail -------------------------------------------------------------------


def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_each_rule_reports_the_module_and_the_import_that_break_it(tmp_path):
    root = _tree(tmp_path, {
        "schemas/__init__.py": "",
        "schemas/money.py": "def parse():\n    from gateway.types import Amount\n",
        "services/__init__.py": "",
        "services/config.py": "",
        "services/runtime/__init__.py": "",
        "services/runtime/processor.py": "from services.savings import domain\n",
        "services/runtime/client.py": "",
        "services/savings/__init__.py": "",
        "services/savings/domain.py": ("from services.runtime import client\n"
                                       "from services import config\n"
                                       "from . import rates\n"),
        "services/savings/rates.py": "",
        "services/training/__init__.py": "",
        "services/training/domain.py": "from services.savings.domain import decide\n",
        "gateway/__init__.py": "",
        "gateway/mutations.py": ("from services.runtime.client import CommandClient\n"
                                 "import services.runtime.processor\n"
                                 "from deploy.node import SERVICES\n"),
        "services/runtime/core.py": "def answer():\n    from gateway import results\n",
        "deploy/__init__.py": "",
        "deploy/node.py": "import importlib\nimportlib.import_module('services.savings')\n",
    })
    assert sorted(violations(imports(root), service_packages(root))) == [
        "gateway.mutations (line 2) imports services.runtime.processor: the gateway imports "
        "only the client side of the runtime",
        "gateway.mutations (line 3) imports deploy.node: the gateway imports nothing of deploy "
        "(its composition root reaches every service)",
        "schemas.money (line 2) imports gateway: the contracts import nothing of ours",
        "services.runtime.core (line 2) imports gateway: the services import neither the "
        "gateway nor deploy",
        "services.runtime.processor (line 1) imports services.savings.domain: the runtime "
        "imports no service package",
        "services.training.domain (line 1) imports services.savings.domain: a service "
        "imports no other service package",
    ]
    assert dynamic_imports(root) == ["deploy.node (line 2): import_module"]


def test_a_cycle_is_found_through_a_function_local_import_and_a_package(tmp_path):
    root = _tree(tmp_path, {
        "gateway/__init__.py": "from gateway import feed\nVERSION = 1\n",
        "gateway/feed.py": "from gateway.money import show\n",
        "gateway/money.py": "def show():\n    from gateway import VERSION\n",
        "gateway/pages.py": "from gateway.money import show\n",
        "deploy/__init__.py": "",
        "deploy/cli.py": "import deploy.cli\n",
    })
    assert cycles(imports(root)) == [["deploy.cli"], ["gateway", "gateway.feed", "gateway.money"]]
