"""The words of the pages and the printed record in her language: gettext catalogues
(``gateway/locales/<language>.po``), read with Babel when first asked for, one per language
of ``LANGUAGES``. The message ids are the English text, marked in the code with ``N_`` (or
``_``) so that ``make catalogues`` extracts them into ``gateway/locales/coopbridge.pot``;
``tests/unit/test_catalogues.py`` fails when a catalogue misses one, leaves one empty or
fuzzy, or changes its ``{placeholders}``.

gettext rather than Fluent (docs/decisions.md): Babel, already here for money and dates,
reads and writes ``.po`` files and extracts them from Python and JavaScript alike; ``.po``
is what volunteer translators' tools (Weblate, Poedit) edit, and its plural forms cover
Arabic's six; what Fluent adds (messages that agree in gender) these short labels do not
need."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from pathlib import Path

from babel import negotiate_locale
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

LOCALES = Path(__file__).resolve().parents[1] / "locales"
#: The languages the words come in (BCP 47); the message ids are the English.
LANGUAGES = ("en", "es", "fr", "pt", "tl", "id", "ar")
SOURCE = "en"
#: Tags a reader may send for one of ``LANGUAGES`` (CLDR calls Tagalog ``fil``).
ALIASES = {"fil": "tl"}


def N_(message: str) -> str:
    """Mark ``message`` for the catalogues; it is translated where it is shown."""
    return message


@cache
def catalogue(language: str) -> Catalog | None:
    """The catalogue of one of ``LANGUAGES`` (None for the source language, English)."""
    if language == SOURCE:
        return None
    with (LOCALES / f"{language}.po").open("rb") as po:
        return read_po(po, locale=language.replace("-", "_"))


def language_for(wanted: Sequence[str]) -> str:
    """The language of ``LANGUAGES`` a reader who wants ``wanted`` (most wanted first) gets:
    her first one there is, by language (``es-EC`` gets ``es``), else English."""
    primaries = [ALIASES.get(tag.split("-")[0].lower(), tag.split("-")[0].lower())
                 for tag in wanted]
    return negotiate_locale(primaries, LANGUAGES) or SOURCE


def translate(message: str, language: str, /, **fields: object) -> str:
    """``message`` in ``language`` (one of ``LANGUAGES``), its ``{placeholders}`` filled; the
    English if the catalogue has no translation (the test makes sure it has)."""
    found = catalogue(language)
    entry = found.get(message) if found is not None else None
    text = entry.string if entry is not None and entry.string and not entry.fuzzy else message
    return text.format(**fields) if fields else text
