"""Dates, amounts and counts written for a locale by Babel (CLDR), on the server: a page or a
printed record never leaves formatting to the reader's browser, so what she sees is what was
chosen for her language and region (``es-EC`` writes US dollars and its dates as Ecuador
does), and every reader of one record sees the same text. Tags are BCP 47 (``es-EC``,
``tl``); one Babel has no data for is written in English, and says so (``locale_of``)."""

from __future__ import annotations

import datetime as dt
from functools import cache

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime
from babel.numbers import format_currency, format_decimal

from schemas.fields import Money
from schemas.money import to_major

#: What a tag Babel has no data for is written in.
DEFAULT = "en"


@cache
def locale_of(tag: str) -> tuple[Locale, bool]:
    """Babel's locale for a BCP 47 tag, and whether it is that tag's (False: Babel has no
    data for it, and ``DEFAULT`` stands in). ``tl`` is CLDR's ``fil`` (Filipino)."""
    try:
        return Locale.parse(tag, sep="-"), True
    except (UnknownLocaleError, ValueError):
        return Locale.parse(DEFAULT), False


def day(value: dt.date, tag: str) -> str:
    """A day, as the locale writes a date in full (``7 de diciembre de 2026``)."""
    return format_date(value, format="long", locale=locale_of(tag)[0])


def moment(value: dt.datetime, tag: str) -> str:
    """A day and time, as the locale writes them, in UTC, saying so (her time zone is not
    known here)."""
    return format_datetime(value, format="medium", tzinfo=dt.UTC,
                           locale=locale_of(tag)[0]) + " UTC"


def money(amount: Money, tag: str) -> str:
    """An amount with its currency as the locale writes it (``$1.234,50`` in ``es-EC``,
    where the dollar is the currency, ``1.234,50 US$`` in ``es-ES``), exact: never through a
    float."""
    return format_currency(to_major(amount), amount.currency, locale=locale_of(tag)[0])


def count(value: int, tag: str) -> str:
    """A whole number with the locale's digit grouping (``1 234 567`` in ``fr``)."""
    return format_decimal(value, locale=locale_of(tag)[0])


def direction(tag: str) -> str:
    """``rtl`` for a right-to-left script (Arabic), else ``ltr``: the page's ``dir``."""
    locale, known = locale_of(tag)
    return locale.text_direction if known else "ltr"
