"""JSON Schema files generated from the typed contracts, for partners in any language.

``python -m schemas.jsonschemas`` rewrites ``schemas/jsonschema/``: one file per wire type
(``coop.membership.MembershipStarted.v1.json``, the ``data`` of that message), the plaintext
shapes that travel sealed (``sealed.*.json``), and ``envelope.json``. A unit test fails when the committed files drift from the types.

Each struct's properties say what they mean, and each enumeration what its values mean, in
the words of ``schemas.glossary`` (where a type gave no description of its own): the same
sentences the GraphQL schema carries.
"""

from __future__ import annotations

import inspect
import json
import sys
from pathlib import Path

import msgspec

from schemas import REGISTRY, glossary
from schemas.envelope import Envelope
from schemas.insurance import Beneficiaries
from schemas.membership import PersonalDetails
from schemas.placement import EmployerDetails, Grievance
from schemas.savings import PayoutRecipient

#: What travels only inside a seal (``fields.Sealed``): published so partners can build it.
SEALED = {"membership.PersonalDetails": PersonalDetails, "savings.PayoutRecipient": PayoutRecipient,
          "insurance.Beneficiaries": Beneficiaries,
          "placement.EmployerDetails": EmployerDetails, "placement.Grievance": Grievance}

FOLDER = Path(__file__).parent / "jsonschema"
DIALECT = "https://json-schema.org/draft/2020-12/schema"


#: The enumerations the glossary describes value by value, by name.
_ENUMS = {cls.__name__: cls for cls in glossary.VALUES}


def _described(definitions: dict[str, dict]) -> dict[str, dict]:
    """The ``$defs``, changed in place, with the glossary's words: a property's meaning (before
    the description its type gives, which says only what any such value is), an
    enumeration's values after its own description; and a struct's docstring without the
    indentation of its lines."""
    for name, definition in definitions.items():
        struct = name.rsplit(".", 1)[-1]  # msgspec qualifies a name that two types share
        if "description" in definition:
            definition["description"] = inspect.cleandoc(definition["description"])
        for field, schema in definition.get("properties", {}).items():
            meaning = glossary.meaning(struct, field)
            if meaning:  # the field's meaning first, then what its type says of any value
                own = schema.get("description")
                schema["description"] = f"{meaning} ({own})" if own and own != meaning \
                    else meaning
        if struct in _ENUMS and "enum" in definition:
            values = "; ".join(f"{value.value}: {glossary.value_meaning(value)}"
                               for value in _ENUMS[struct] if glossary.value_meaning(value))
            own = definition.get("description", "")
            definition["description"] = f"{own} Values: {values}." if own else f"{values}."
    return definitions


def _document(title: str, description: str, tp: type) -> str:
    schema = {"$schema": DIALECT, "title": title, "description": description}
    schema.update(msgspec.json.schema(tp))
    _described(schema.get("$defs", {}))
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def render() -> dict[str, str]:
    """File name -> file text, for every contract and the envelope."""
    files = {
        "envelope.json": _document(
            "coopbridge envelope",
            "CloudEvents 1.0 structured JSON with the extensions sequence, previousid, "
            "causationid, correlationid and partitionkey; data is described by the file "
            "named after type.",
            Envelope,
        )
    }
    for name, cls in SEALED.items():
        files[f"sealed.{name}.json"] = _document(
            f"sealed {name}", "The plaintext inside a seal, encrypted with a member's data key "
            "(an employer's details: with the employer's own).",
            cls)
    for wire_type, cls in sorted(REGISTRY.types().items()):
        files[f"{wire_type}.json"] = _document(
            wire_type, f"The data of a {cls.contract_kind} of type {wire_type}.", cls
        )
    return files


def write(folder: Path = FOLDER) -> list[str]:
    """Rewrite the folder to match ``render()``; returns the names that changed."""
    folder.mkdir(parents=True, exist_ok=True)
    wanted = render()
    changed = []
    for stale in folder.glob("*.json"):
        if stale.name not in wanted:
            stale.unlink()
            changed.append(stale.name)
    for name, text in wanted.items():
        path = folder / name
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
            changed.append(name)
    return changed


if __name__ == "__main__":
    names = write()
    print(f"{len(names)} JSON Schema files changed" + "".join(f"\n  {n}" for n in names))
    sys.exit(0)
