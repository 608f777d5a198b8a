"""The GraphQL schema as a partner learns it alone: ``schema.graphql`` at the repository's root
is what the gateway serves (a drift fails here, as for the JSON Schema files), ``coopbridge
schema`` prints the same, and every type, field, argument and enum value says what it is."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
)

from deploy.cli import main
from gateway.schema import build_schema, schema_text

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "schema.graphql"
BUILT_IN = {"String", "Int", "Float", "Boolean", "ID"}


def undescribed(schema) -> list[str]:
    missing = []
    for name, graphql_type in schema._schema.type_map.items():
        if name.startswith("__") or name in BUILT_IN:
            continue
        if not (graphql_type.description or "").strip():
            missing.append(f"type {name}")
        if isinstance(graphql_type, GraphQLObjectType | GraphQLInterfaceType
                      | GraphQLInputObjectType):
            for field_name, field in graphql_type.fields.items():
                if not (field.description or "").strip():
                    missing.append(f"field {name}.{field_name}")
                for argument_name, argument in getattr(field, "args", {}).items():
                    if not (argument.description or "").strip():
                        missing.append(f"argument {name}.{field_name}({argument_name})")
        if isinstance(graphql_type, GraphQLEnumType):
            missing += [f"value {name}.{value_name}"
                        for value_name, value in graphql_type.values.items()
                        if not (value.description or "").strip()]
    return missing


def test_every_type_field_argument_and_enum_value_has_a_description():
    assert undescribed(build_schema(development=False)) == []


def test_the_committed_schema_file_is_what_the_gateway_serves():
    served = schema_text(build_schema(development=False))
    assert SCHEMA_FILE.exists() and SCHEMA_FILE.read_text() == served, (
        "schema.graphql drifted from the gateway's schema: run `make schemas`")
    assert schema_text(build_schema(development=True)) == served  # development adds no type


def test_coopbridge_schema_prints_the_schema_file():
    printed = CliRunner().invoke(main, ["schema"])
    assert printed.exit_code == 0, printed.output
    assert printed.output == SCHEMA_FILE.read_text()


def test_enum_values_spelled_alike_keep_their_own_meaning():
    """``Product.SAVINGS`` and ``ConsentScope.SAVINGS`` are equal strings (StrEnum), but not
    the same word: each says what it means in its own enumeration."""
    types = build_schema(development=False)._schema.type_map
    for value, enums in (("SAVINGS", ("Product", "ConsentScope")),
                         ("TRAINING", ("CooperativeKind", "ConsentScope"))):
        first, second = (types[name].values[value].description for name in enums)
        assert first and second and first != second
