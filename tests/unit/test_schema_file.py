"""The GraphQL schema as a partner learns it alone: ``schema.graphql`` at the repository's root
is what the gateway serves (a drift fails here, as for the JSON Schema files), ``coopbridge
schema`` prints the same, and every type, field, argument and enum value says what it is."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from deploy.cli import main
from gateway.schema import build_schema, schema_text

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "schema.graphql"


def test_the_committed_schema_file_is_what_the_gateway_serves():
    served = schema_text(build_schema(development=False))
    assert SCHEMA_FILE.exists() and SCHEMA_FILE.read_text() == served, (
        "schema.graphql drifted from the gateway's schema: run `make schemas`")
    assert schema_text(build_schema(development=True)) == served  # development adds no type


def test_coopbridge_schema_prints_the_schema_file():
    printed = CliRunner().invoke(main, ["schema"])
    assert printed.exit_code == 0, printed.output
    assert printed.output == SCHEMA_FILE.read_text()
