"""``make catalogues``: the message ids marked in the gateway's code (``N_``, ``_``) into
``gateway/locales/coopbridge.pot``, and each language's ``.po`` brought up to it (a new id
comes in empty, for its translator; a removed one is kept as obsolete). Run after adding or
changing words; ``tests/unit/test_catalogues.py`` says which are missing where."""

from __future__ import annotations

from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from gateway.i18n.catalogues import LANGUAGES, LOCALES, SOURCE

GATEWAY = Path(__file__).resolve().parents[1]
KEYWORDS = {"N_": None, "_": None}


def extracted() -> Catalog:
    """Every message id marked in the gateway's Python code, with where it is."""
    template = Catalog(project="coopbridge", fuzzy=False)
    for filename, line, message, comments, _ in extract_from_dir(
            GATEWAY, method_map=[("**.py", "python")], keywords=KEYWORDS):
        template.add(message, locations=[(f"gateway/{filename}", line)],
                     auto_comments=comments)
    return template


def main() -> None:
    template = extracted()
    with (LOCALES / "coopbridge.pot").open("wb") as pot:
        write_po(pot, template, omit_header=False, sort_output=True)
    for language in LANGUAGES:
        if language == SOURCE:
            continue
        path = LOCALES / f"{language}.po"
        with path.open("rb") as po:
            catalogue = read_po(po, locale=language)
        catalogue.update(template, no_fuzzy_matching=True)
        with path.open("wb") as po:
            write_po(po, catalogue, sort_output=True, include_previous=False)
        missing = [m.id for m in catalogue if m.id and not m.string]
        print(f"{language}: {len(catalogue)} messages, {len(missing)} to translate")


if __name__ == "__main__":
    main()
