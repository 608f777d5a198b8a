"""What an amount of money means, once for every package: a currency's number of decimals
(its ISO 4217 / CLDR exponent: 2 for EUR, 0 for JPY, 3 for KWD, from Babel's CLDR data),
minor units <-> major units, the sum of amounts in one currency, and reading an amount a
person wrote ("125.50"). What a service does with money (rates, fees, schedules) is its own.

An amount written by a person is a plain decimal string: digits, at most one point, at most
as many decimals as the currency has, nothing else (no sign, no exponent, no spaces, no
thousands separators), so that what is read is exactly what was meant. No float anywhere.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_EVEN, Decimal
from functools import cache

from babel.numbers import get_currency_precision

from schemas.fields import MAX_MINOR_UNITS, Money

_PLAIN_DECIMAL = re.compile(r"([0-9]{1,16})(?:\.([0-9]{1,16}))?")
_CURRENCY = re.compile(r"[A-Z]{3}")


class AmountError(ValueError):
    """An amount that is not a plain decimal string in its currency's units."""


@cache
def exponent(currency: str) -> int:
    """How many decimals the currency has (CLDR)."""
    return get_currency_precision(currency)


def to_major(money: Money) -> Decimal:
    """``{"amount": 12550, "currency": "EUR"}`` -> ``Decimal("125.50")``."""
    return Decimal(money.amount).scaleb(-exponent(money.currency))


def from_major(value: Decimal, currency: str) -> Money:
    """A major-unit amount rounded half-even to the currency's minor unit."""
    minor = value.scaleb(exponent(currency)).quantize(Decimal(1), rounding=ROUND_HALF_EVEN)
    return Money(int(minor), currency)


def add(*amounts: Money) -> Money:
    """The sum of amounts in one currency (``ValueError`` for amounts in several)."""
    currencies = {a.currency for a in amounts}
    if len(currencies) != 1:
        raise ValueError(f"cannot add {sorted(currencies)}")
    return Money(sum(a.amount for a in amounts), currencies.pop())


def major_text(minor: int, currency: str) -> str:
    """Minor units as the plain decimal string a person writes: 12550 EUR -> ``"125.50"``."""
    return format(Decimal(minor).scaleb(-exponent(currency)), "f")


def parse_major(text: str, currency: str) -> Money:
    """The exact amount a plain decimal string names in ``currency`` (``AmountError`` for
    anything else: ``"1e3"``, ``"-5"``, ``" 5"``, ``"5."``, ``"1,000"``, ``"12.345"`` EUR)."""
    if not isinstance(currency, str) or not _CURRENCY.fullmatch(currency):
        raise AmountError("a currency is an ISO 4217 code of three capital letters")
    if not isinstance(text, str):
        raise AmountError("an amount is a decimal string")
    found = _PLAIN_DECIMAL.fullmatch(text)
    if found is None:
        raise AmountError("an amount is a non-negative plain decimal string: digits and at "
                          "most one point (\"125.50\"), no sign, exponent or separator")
    whole, decimals = found.group(1), found.group(2) or ""
    places = exponent(currency)
    if len(decimals) > places:
        raise AmountError(f"{currency} has {places} decimal places")
    minor = int(whole) * 10 ** places + int((decimals + "0" * places)[:places] or "0")
    if minor > MAX_MINOR_UNITS:
        raise AmountError("the amount is too large")
    return Money(minor, currency)
