"""Dates, amounts and counts for a locale, by Babel on the server (``gateway.i18n.formats``):
the same record reads as each of her languages and regions writes it."""

from __future__ import annotations

import datetime as dt

from gateway.i18n.formats import count, day, direction, locale_of, money
from schemas.fields import Money

DOLLARS = Money(amount=123450, currency="USD")


def test_the_same_dollars_are_written_as_ecuador_and_as_spain_write_them():
    assert money(DOLLARS, "es-EC") == "$1.234,50"  # the dollar is Ecuador's currency
    assert money(DOLLARS, "es-ES") == "1.234,50\xa0US$"
    assert money(Money(amount=5, currency="JPY"), "en") == "¥5"  # no minor units


def test_dates_in_each_language():
    day_ = dt.date(2026, 12, 7)
    assert day(day_, "es-EC") == "7 de diciembre de 2026"
    assert day(day_, "it-IT") == "7 dicembre 2026"
    assert day(day_, "tl") == "Disyembre 7, 2026"  # Tagalog: CLDR's Filipino
    assert day(day_, "ar") == "7 ديسمبر 2026"


def test_an_amount_too_large_for_a_float_is_written_exactly():
    assert money(Money(amount=10**17 + 1, currency="EUR"), "en") == "€1,000,000,000,000,000.01"


def test_arabic_is_right_to_left_and_counts_group_by_locale():
    assert direction("ar") == "rtl" and direction("es-EC") == "ltr"
    assert count(1234567, "fr") == "1\u202f234\u202f567"
    assert count(1234567, "id") == "1.234.567"


def test_a_tag_babel_does_not_know_is_written_in_english_and_says_so():
    assert locale_of("xx")[1] is False and locale_of("qu")[1] is True
    assert day(dt.date(2026, 12, 7), "xx") == "December 7, 2026"
    assert direction("xx") == "ltr"
