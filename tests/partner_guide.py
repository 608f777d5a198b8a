"""The generated parts of ``docs/partner-guide.md``: the access rules as a partner reads them
(who may send each mutation, what each field of a member's record needs), made from the
rules ``gateway.access`` enforces, and the examples, copied verbatim from ``docs/examples``
(where the tests run them). Never written by hand.

``python -m tests.partner_guide`` rewrites them (between ``<!-- roles:NAME -->`` and
``<!-- /roles:NAME -->``, and ``<!-- example:PATH -->`` and ``<!-- /example -->``); a unit
test fails when they drift.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from gateway.access import (
    ALWAYS,
    COOPERATIVE_ONLY,
    MEMBER_FIELDS,
    ONLY_HERSELF,
    OWN,
    SELF_IN_WORDS,
    SELF_SERVICE,
    rule_for,
)
from gateway.auth import Role
from gateway.governance.mutations import MUTATIONS as GOVERNANCE_MUTATIONS
from gateway.member_access.me import MUTATIONS as HER_OWN
from gateway.member_access.mutations import BUILT_HERE as ACCESS_BUILT_HERE
from gateway.records.mutations import BUILT_HERE
from gateway.inputs import camel
from gateway.schema import partner_commands

DOCS = Path(__file__).resolve().parents[1] / "docs"  # a tool of the repository, not shipped
GUIDE = DOCS / "partner-guide.md"
_FENCES = {".sh": "sh", ".py": "python", ".mjs": "js"}
_EXAMPLE = re.compile(r"(<!-- example:(?P<path>[\w./-]+) -->\n)(?:.*?\n)??(<!-- /example -->)",
                      re.S)

_ROLE_NAMES = {Role.STAFF: "staff", Role.ADMIN: "admin"}
_NEEDS = {
    ALWAYS: "anyone who may see her at all",
    OWN: "a cooperative she chose herself, while she is an active member there",
}


def mutations_table() -> str:
    """Every mutation, who may send it besides the node admin, and when."""
    commands = sorted([*partner_commands(), *BUILT_HERE, *ACCESS_BUILT_HERE],
                      key=lambda cls: camel(cls.__name__))
    rows = ["| mutation | roles | when |", "|---|---|---|"]
    for cls in commands:
        if cls in ONLY_HERSELF:
            rows.append(f"| `{camel(cls.__name__)}` | member | only {SELF_IN_WORDS} (no one "
                        "acts for her in it, the node admin included) |")
            continue
        rule = rule_for(cls)
        if cls in COOPERATIVE_ONLY:
            rows.append(f"| `{camel(cls.__name__)}` | "
                        f"{', '.join(_ROLE_NAMES[r] for r in rule.who)} | {rule.when}; not "
                        "the node admin |")
            continue
        roles = [_ROLE_NAMES[r] for r in rule.who] + (["member"] if cls in SELF_SERVICE else [])
        herself = f"; {SELF_IN_WORDS}, for herself" if cls in SELF_SERVICE else ""
        rows.append(f"| `{camel(cls.__name__)}` | {', '.join(roles) or '—'} | "
                    f"{rule.when}{herself} |")
    for name in sorted(HER_OWN):
        rows.append(f"| `{name}` | member | only {SELF_IN_WORDS} (no one acts for her in it) |")
    for name, field in sorted(GOVERNANCE_MUTATIONS.items()):  # the ballots and the tally
        rows.append(f"| `{name}` | {GOVERNANCE_ROLES[name]} | "
                    f"{field.description.split('Who: ', 1)[1]} |")
    return "\n".join(rows)


def member_fields_table() -> str:
    """Every field of a member's record and what reading it needs (she herself, with her own
    member token, reads every one: the guide says so above the table)."""
    rows = ["| field of `Member` | who reads it |", "|---|---|"]
    for field, need in MEMBER_FIELDS.items():
        said = _NEEDS.get(need) or (f"a cooperative she chose herself (now or before), and a "
                                    f"cooperative her consent names with the `{need}` scope")
        rows.append(f"| `{field}` | {said} |")
    return "\n".join(rows)


#: Who sends governance's own mutations (issue 24); their descriptions say when.
GOVERNANCE_ROLES = {"castBallot": "member", "castProxyBallot": "member",
                    "recordPaperBallot": "staff, admin", "certifyAssembly": "admin",
                    "destroyBallotKey": "admin"}


TABLES = {"mutations": mutations_table, "member-fields": member_fields_table}


def example(path: str) -> str:
    """An example file of ``docs/`` as a fenced block."""
    file = DOCS / path
    return f"```{_FENCES[file.suffix]}\n{file.read_text().rstrip()}\n```"


def examples_in(text: str) -> list[str]:
    """The example files the guide shows."""
    return [found.group("path") for found in _EXAMPLE.finditer(text)]


def _between(opening: str, closing: str) -> re.Pattern:
    """A generated section: its markers on lines of their own, and anything between."""
    return re.compile(rf"({opening}\n)(?:.*?\n)??({closing})", re.S)


def rendered(text: str) -> str:
    """``text`` (the guide) with every generated table and example brought up to date."""
    for name, table in TABLES.items():
        section = _between(f"<!-- roles:{name} -->", f"<!-- /roles:{name} -->")
        if not section.search(text):
            raise ValueError(f"the guide has no <!-- roles:{name} --> section")
        text = section.sub(lambda found: f"{found.group(1)}{table()}\n{found.group(2)}", text)
    return _EXAMPLE.sub(lambda found: f"{found.group(1)}{example(found.group('path'))}\n"
                                      f"{found.group(3)}", text)


if __name__ == "__main__":
    before = GUIDE.read_text()
    after = rendered(before)
    GUIDE.write_text(after)
    print("docs/partner-guide.md " + ("rewritten" if after != before else "unchanged"))
    sys.exit(0)
