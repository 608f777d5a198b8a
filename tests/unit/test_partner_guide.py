"""The partner guide says what the gateway does: its tables are the access rules themselves
(``tests/partner_guide.py``), its examples are the files the end-to-end tests run, shown verbatim,
and every mutation of the schema is in the table."""

from __future__ import annotations

import re

from tests import partner_guide as guide
from gateway.schema import build_schema


def test_the_guide_is_as_the_rules_and_the_example_files_make_it():
    text = guide.GUIDE.read_text()
    assert guide.rendered(text) == text, "docs/partner-guide.md drifted: python -m tests.partner_guide"


def test_every_example_file_is_in_the_guide_and_every_mutation_in_its_table():
    text = guide.GUIDE.read_text()
    files = {str(p.relative_to(guide.DOCS)) for p in (guide.DOCS / "examples").rglob("*")
             if p.suffix in (".sh", ".py", ".mjs") and "node_modules" not in p.parts}
    assert set(guide.examples_in(text)) == files
    tabled = set(re.findall(r"^\| `(\w+)` \|", guide.mutations_table(), re.M))
    assert tabled == set(build_schema()._schema.mutation_type.fields)
