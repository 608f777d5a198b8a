"""Every rejection code is declared by whoever answers it (``schemas.rejections``): a decider
(or check) that can answer an undeclared code fails here, read from its source; so does a
declared code without its GraphQL error type."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from graphql import GraphQLObjectType

from gateway.schema import build_schema
from schemas import runtime
from schemas.rejections import REJECTION_CODES, RejectionCodes
from schemas.topics import SERVICES

ROOT = Path(__file__).resolve().parents[2]


def answered(source: str, call: str) -> tuple[set[str], list[str]]:
    """The codes ``source`` passes to ``call(...)`` (first argument or ``code=``), under any
    name it goes by there (imported as another, a subclass, assigned to a name), and the
    places where the code is no string written out (a code must be greppable)."""
    tree = ast.parse(source)
    names = {call} | _other_names(tree, call)
    codes, unreadable = set(), []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
        if name not in names:
            continue
        given = [k.value for k in node.keywords if k.arg == "code"] or node.args[:1]
        if not given:
            unreadable.append(f"line {node.lineno}: {name}() without a code")
            continue
        first = given[0]
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            codes.add(first.value)
        else:
            unreadable.append(f"line {node.lineno}: {ast.unparse(first)}")
    return codes, unreadable


def _other_names(tree: ast.AST, call: str) -> set[str]:
    """The names ``call`` also goes by in ``tree``: ``import … as``, a subclass, ``x = call``
    (to a fixed point: an alias of an alias too)."""
    names, found = {call}, set()
    while True:
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom | ast.Import):
                found |= {a.asname for a in node.names if a.name.split(".")[-1] in names
                          and a.asname}
            elif isinstance(node, ast.ClassDef) and any(
                    (b.id if isinstance(b, ast.Name) else getattr(b, "attr", "")) in names
                    for b in node.bases):
                found.add(node.name)
            elif (isinstance(node, ast.Assign) and isinstance(node.value, ast.Name)
                  and node.value.id in names):
                found |= {t.id for t in node.targets if isinstance(t, ast.Name)}
        if found <= names:
            return names - {call}
        names |= found


def undeclared(folder: Path, call: str, allowed: frozenset[str], *,
               written_out: bool = True) -> list[str]:
    """What the modules of ``folder`` answer beyond ``allowed``, as ``module: problem``
    (and, with ``written_out``, every code that is not a string written out)."""
    found = []
    for path in sorted(folder.rglob("*.py")):
        codes, unreadable = answered(path.read_text(), call)
        where = path.relative_to(folder.parent)
        found += [f"{where}: {code} is not declared" for code in sorted(codes - allowed)]
        if written_out:
            found += [f"{where}: {place} is no code written out" for place in unreadable]
    return found


@pytest.mark.parametrize("folder", sorted(p.name for p in (ROOT / "services").iterdir()
                                          if (p / "__init__.py").exists()))
def test_a_service_answers_only_the_codes_it_and_the_runtime_declare(folder):
    service = folder if folder in SERVICES else runtime.SERVICE
    allowed = REJECTION_CODES.of(service) | REJECTION_CODES.of(runtime.SERVICE)
    assert undeclared(ROOT / "services" / folder, "Rejected", allowed) == []


def test_the_gateway_answers_only_declared_codes_for_a_command():
    """(It passes on the services' codes as they come, so only its own are read.)"""
    declared = frozenset(REJECTION_CODES.published())
    assert undeclared(ROOT / "gateway", "problem", declared, written_out=False) == []


def test_the_scan_finds_an_undeclared_code_and_a_code_it_cannot_read(tmp_path):
    (tmp_path / "domain.py").write_text(
        "def decide(state, command):\n"
        "    if state.closed:\n"
        "        raise Rejected('AccountClosed', 'closed')\n"
        "    raise Rejected('AccountOnFire', 'a code nobody declared')\n"
        "def check(code):\n"
        "    raise Rejected(code, 'which?')\n")
    assert answered((tmp_path / "domain.py").read_text(), "Rejected") == (
        {"AccountClosed", "AccountOnFire"}, ["line 6: code"])
    found = " ".join(undeclared(tmp_path, "Rejected", frozenset({"AccountClosed"})))
    assert "AccountOnFire is not declared" in found and "code is no code written out" in found


def test_every_declared_code_has_its_graphql_error_type():
    schema = build_schema()._schema
    union = {t.name for t in schema.type_map["MutationResult"].types}
    missing = []
    for code in REJECTION_CODES.published():
        found = schema.type_map.get(code)
        if not (isinstance(found, GraphQLObjectType) and code in union
                and "Problem" in {i.name for i in found.interfaces}):
            missing.append(code)
    assert missing == []


def test_a_code_is_declared_once_per_service_with_what_it_means():
    codes = RejectionCodes()
    codes.declare("demo", {"ThingClosed": "the thing is closed"})
    with pytest.raises(ValueError, match="twice"):
        codes.declare("demo", {"ThingClosed": "again"}, release=2)
    with pytest.raises(ValueError, match="without saying"):
        codes.declare("demo", {"ThingOpen": ""})
    with pytest.raises(ValueError, match="not a rejection code"):
        codes.declare("demo", {"thing closed": "lowercase, with a space"})
    codes.declare("other", {"ThingClosed": "said again by another service", "Alpha": "a"})
    codes.declare("demo", {"Zulu": "later", "Bravo": "later still"}, release=2)
    assert codes.published() == ["Alpha", "ThingClosed", "Zulu", "Bravo"]


@pytest.mark.parametrize("source", [
    'raise Rejected(code="AccountOnFire", message="x")',
    'from services.runtime.aggregate import Rejected as Refusal\nraise Refusal("AccountOnFire", "x")',
    'class Declined(Rejected):\n    pass\nraise Declined("AccountOnFire", "x")',
    'e = Rejected\nf = e\nraise f("AccountOnFire", "x")',
])
def test_the_reading_finds_a_code_however_it_is_written(source):
    """The review of issue 19: a keyword, an alias, a subclass or a name bound to Rejected
    slipped past the reading."""
    assert answered(source, "Rejected") == ({"AccountOnFire"}, [])


def test_every_declared_code_is_in_the_contracts_page():
    """docs/contracts.md lists the codes each command may answer, by hand: a declared code
    missing there is a code a partner meets without a word about it."""
    page = (ROOT / "docs" / "contracts.md").read_text()
    missing = sorted(code for service in SERVICES for code in REJECTION_CODES.of(service)
                     if f"`{code}`" not in page)
    assert missing == []
