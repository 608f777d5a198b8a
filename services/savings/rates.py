"""Exchange rates and remittance fees: a replaceable source, a file-backed default.

The default reads a JSON file (``COOPBRIDGE_RATES_FILE``, else ``rates.json`` beside this
module)::

    {"source": "…",
     "rates": [{"date": "2026-11-01", "base": "EUR", "quote": "USD", "rate": "1.0842"}, …],
     "fees":  [{"corridor": "ES-EC", "fixed": {"amount": 150, "currency": "EUR"},
                "percent": "0.01"}, {"corridor": "*", …}]}

A quote is the newest rate dated on or before the day asked (the inverse pair is used when
only the other direction is listed). Rates are decimal strings and stay strings on events.
Anything with ``quote(base, quote, on)`` and ``fee(corridor, amount)`` can replace it.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from decimal import Decimal, localcontext
from pathlib import Path
from typing import Protocol

import msgspec

from schemas.fields import Money
from schemas.savings import Decimal as DecimalText
from schemas.money import add
from services.savings.arithmetic import percent_of

DEFAULT_FILE = Path(__file__).with_name("rates.json")


@dataclass(frozen=True)
class Quote:
    rate: str
    date: dt.date


class RateSource(Protocol):
    def quote(self, base: str, quote: str, on: dt.date) -> Quote | None: ...

    def fee(self, corridor: str, amount: Money) -> Money: ...


class _Rate(msgspec.Struct, frozen=True):
    date: dt.date
    base: str
    quote: str
    rate: DecimalText


class _Fee(msgspec.Struct, frozen=True):
    corridor: str
    fixed: Money
    percent: DecimalText


class _File(msgspec.Struct, frozen=True):
    source: str
    rates: list[_Rate]
    fees: list[_Fee]


class RateTable:
    """Rates and fees held in memory (pure lookups once loaded)."""

    def __init__(self, rates: list[_Rate], fees: list[_Fee], source: str = ""):
        self.source = source
        self._rates: dict[tuple[str, str], list[_Rate]] = {}
        for rate in sorted(rates, key=lambda r: r.date):
            self._rates.setdefault((rate.base, rate.quote), []).append(rate)
        self._fees = {fee.corridor: fee for fee in fees}

    def quote(self, base: str, quote: str, on: dt.date) -> Quote | None:
        if base == quote:
            return Quote("1", on)
        direct = self._latest(base, quote, on)
        if direct is not None:
            return Quote(direct.rate, direct.date)
        inverse = self._latest(quote, base, on)
        if inverse is None:
            return None
        with localcontext() as ctx:
            ctx.prec = 40
            rate = (1 / Decimal(inverse.rate)).quantize(Decimal("1e-10")).normalize()
        return Quote(format(rate, "f"), inverse.date)

    def fee(self, corridor: str, amount: Money) -> Money:
        fee = self._fees.get(corridor) or self._fees.get("*")
        if fee is None:
            return Money(0, amount.currency)
        fixed = fee.fixed if fee.fixed.currency == amount.currency else Money(0, amount.currency)
        return add(fixed, percent_of(amount, fee.percent))

    def _latest(self, base: str, quote: str, on: dt.date) -> _Rate | None:
        dated = [r for r in self._rates.get((base, quote), []) if r.date <= on]
        return dated[-1] if dated else None


def load_rates(path: Path | None = None) -> RateTable:
    path = path or Path(os.environ.get("COOPBRIDGE_RATES_FILE") or DEFAULT_FILE)
    data = msgspec.json.decode(path.read_bytes(), type=_File)
    return RateTable(data.rates, data.fees, data.source)
