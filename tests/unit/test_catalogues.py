"""Every word of the pages in every language (``gateway.i18n.catalogues``): a catalogue that
misses a message marked in the code, leaves one empty or fuzzy, or changes its
``{placeholders}`` fails here, naming the language and the message."""

from __future__ import annotations

import copy
import re
import sys

import pytest

from gateway.i18n.catalogues import (
    LANGUAGES,
    SOURCE,
    catalogue,
    language_for,
    translate,
)
from gateway.i18n.extract import extracted
from gateway.records import words

PLACEHOLDER = re.compile(r"\{(\w+)\}")
MARKED = sorted(m.id for m in extracted() if m.id)


def test_the_code_marks_the_words_of_the_record():
    assert words.TITLE in MARKED and words.ON_TIME_LATE in MARKED and len(MARKED) >= 30


@pytest.mark.parametrize("language", [lang for lang in LANGUAGES if lang != SOURCE])
def test_every_marked_message_is_translated_whole(language):
    found = catalogue(language)
    problems = []
    for message in MARKED:
        entry = found.get(message)
        if entry is None or not entry.string:
            problems.append(f"missing: {message!r}")
        elif entry.fuzzy:
            problems.append(f"fuzzy: {message!r}")
        elif set(PLACEHOLDER.findall(entry.string)) != set(PLACEHOLDER.findall(message)):
            problems.append(f"placeholders differ: {message!r} -> {entry.string!r}")
    assert not problems, f"{language}.po: " + "; ".join(problems)


def test_a_missing_message_is_named(monkeypatch):
    """The check above can fail: a catalogue without one message is caught, by name."""
    short = copy.deepcopy(catalogue("es"))
    del short[words.NO_LOANS]
    monkeypatch.setattr(sys.modules[__name__], "catalogue", lambda _language: short)
    with pytest.raises(AssertionError, match="No loans"):
        test_every_marked_message_is_translated_whole("es")


def test_her_language_by_its_region_and_tagalog_by_either_name():
    assert language_for(["es-EC", "en"]) == "es"
    assert language_for(["qu", "pt-BR"]) == "pt"  # no Quechua words yet: her second
    assert language_for(["fil-PH"]) == "tl" and language_for(["tl"]) == "tl"
    assert language_for(["it-IT"]) == "en" and language_for([]) == "en"


def test_words_are_given_in_her_language_with_their_fields():
    assert translate(words.ON_TIME_LATE, "es", on_time=3, late=1) == "3 a tiempo, 1 con retraso"
    assert translate(words.ON_TIME_LATE, "en", on_time=3, late=1) == "3 on time, 1 late"
    assert translate(words.CERTIFICATES, "ar") == "الشهادات"
