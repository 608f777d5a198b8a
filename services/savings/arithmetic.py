"""The savings service's own money rules, exact: conversion at a rate, a fee's percentage, a
loan's annuity schedule. Minor units in and out, ``Decimal`` in between, never a float. What
an amount means (exponents, major <-> minor units, sums) is ``schemas.money``'s; every
rounding here is half-even ("banker's rounding") to the currency's minor unit.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, localcontext

from schemas.fields import Money, add_months
from schemas.money import from_major, to_major
from schemas.savings import Instalment


def convert(amount: Money, rate: str, currency: str) -> Money:
    """``amount`` in ``currency`` at ``rate`` (units of ``currency`` per unit of the amount's)."""
    with localcontext() as ctx:
        ctx.prec = 40
        return from_major(to_major(amount) * Decimal(rate), currency)


def percent_of(amount: Money, fraction: str) -> Money:
    """``fraction`` of ``amount`` (``"0.01"``: one per cent), in its currency."""
    with localcontext() as ctx:
        ctx.prec = 40
        return from_major(to_major(amount) * Decimal(fraction), amount.currency)


def annuity_schedule(principal: Money, annual_rate: str, term_months: int,
                     first_due_on: dt.date) -> list[Instalment]:
    """Equal monthly instalments (French amortisation); the last one absorbs the rounding, so
    the principals add up to the loan exactly."""
    currency = principal.currency
    with localcontext() as ctx:
        ctx.prec = 40
        monthly = Decimal(annual_rate) / 12
        amount = to_major(principal)
        if monthly == 0:
            payment = amount / term_months
        else:
            payment = amount * monthly / (1 - (1 + monthly) ** -term_months)
        payment_minor = from_major(payment, currency).amount
        remaining = principal.amount
        schedule = []
        for number in range(1, term_months + 1):
            interest = from_major(to_major(Money(remaining, currency)) * monthly,
                                  currency).amount
            part = remaining if number == term_months else min(payment_minor - interest,
                                                                remaining)
            remaining -= part
            schedule.append(Instalment(
                number=number, due_on=add_months(first_due_on, number - 1),
                principal=Money(part, currency), interest=Money(interest, currency),
                total=Money(part + interest, currency)))
        return schedule
