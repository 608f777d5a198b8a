"""Every type, field, argument and enum value of the GraphQL schema says what it is.

Most are written where the type is defined (``strawberry.field(description=…)``). The rest
come from one place each, applied to the built schema by ``describe``:

* a generated input (``DepositFundsInput``) is described by its contract's docstring, its
  fields and the values of its enums by the contracts' glossary (``schemas.glossary``);
* a field of the record's types that repeats a contract's field (``cooperativeId``,
  ``startedOn`` …) means what the glossary says of that name;
* names that only the gateway has (``cursor``, ``visible``, ``minorUnits`` …) mean what
  ``WORDS`` says.

``tests/unit/test_schema_file.py`` fails when anything is left undescribed, so a new field
cannot arrive without its sentence.
"""

from __future__ import annotations

import re
from enum import Enum

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
)

from schemas import glossary

#: (GraphQL type, field) or field -> what a name the gateway alone uses means: the names that
#: repeat across types or fields (a name used once is described where it is defined). An
#: argument is looked up as ("Type.field", argument), then as a field of that type.
WORDS: dict[tuple[str, str] | str, str] = {
    # the arguments of every mutation
    "input": "the command's fields",
    "idempotencyKey": "1 to 200 characters of the caller's choosing that name this request: "
                      "sending it again with the same key (a retry) gets the same result and "
                      "never acts twice (after a week: IdempotencyKeyExpired, the result is no "
                      "longer kept); the key itself never leaves the gateway",
    # pages (members, memberHistory)
    "first": "how many items the page holds at most: 1 to 100",
    "after": "where the page starts: the cursor of the item before it (the previous page's "
             "pageInfo.endCursor); absent: from the beginning",
    "cursor": "this item's place in the list: pass it as `after` for the items that follow it",
    "edges": "the page's items, each with its cursor",
    "pageInfo": "where the page ends and whether another follows",
}


def snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _contract_name(graphql_type: str) -> str:
    return graphql_type.removesuffix("Input")


def _word(owner: str, field: str) -> str | None:
    return (WORDS.get((owner, field)) or glossary.meaning(_contract_name(owner), snake(field))
            or WORDS.get(field))


def summary_of(contract: type | None) -> str | None:
    """The first paragraph of a contract's own docstring (not one it inherits)."""
    doc = (contract.__dict__.get("__doc__") or "").strip() if contract is not None else ""
    return " ".join(doc.split("\n\n")[0].split()) or None


def describe(schema: GraphQLSchema, structs: dict[str, type],
             enums: dict[str, type[Enum]]) -> GraphQLSchema:
    """Fill in what was not written where it is defined: ``structs`` are the contract structs
    behind the generated inputs (by input type name), ``enums`` the contract enums behind the
    generated enum types (by name)."""
    for name, graphql_type in schema.type_map.items():
        if name.startswith("__"):
            continue
        if not graphql_type.description:
            contract = structs.get(name) or enums.get(name)
            graphql_type.description = summary_of(contract) or WORDS.get(name)
        if isinstance(graphql_type, GraphQLObjectType | GraphQLInterfaceType
                      | GraphQLInputObjectType):
            for field_name, field in graphql_type.fields.items():
                if not field.description:
                    field.description = _word(name, field_name)
                for argument_name, argument in getattr(field, "args", {}).items():
                    if not argument.description:
                        argument.description = (WORDS.get((f"{name}.{field_name}", argument_name))
                                                or _word(name, argument_name))
        if isinstance(graphql_type, GraphQLEnumType) and name in enums:
            for value_name, value in graphql_type.values.items():
                if not value.description:
                    value.description = glossary.value_meaning(enums[name][value_name])
    return schema
