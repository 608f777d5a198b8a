"""What the contracts' words mean, in a sentence each, said once: a field name means the same
in every command, event and record that has it (``member_id`` is always her global id),
``SPECIFIC`` says more where one contract's field needs it, and ``VALUES`` says what each
value of each enumeration means.

The generated JSON Schema files (``schemas.jsonschemas``) and the gateway's GraphQL schema
(``gateway.descriptions``) both read it, so a partner reads the same sentence in both. A
struct's own docstring describes the struct; a field's ``msgspec.Meta(description=…)`` wins
over these words where it is given.
"""

from __future__ import annotations

from enum import Enum

from schemas import membership as m
from schemas import savings as s
from schemas import training as t

#: field name (snake_case, as in the contracts) -> what it is, its units and format.
FIELDS: dict[str, str] = {}

#: (struct name, field name) -> what that field means in that struct, where it says more.
SPECIFIC: dict[tuple[str, str], str] = {}

#: enumeration value -> what it means.
VALUES: dict[Enum, str] = {}


def meaning(owner: str, field: str) -> str | None:
    """What ``field`` of the struct named ``owner`` means, or None if the glossary is silent."""
    return SPECIFIC.get((owner, field)) or FIELDS.get(field)


