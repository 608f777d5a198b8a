"""What the savings contracts' fields hold: decimal strings (rates), corridors, booking days,
the products, repayment timings, where money goes (an account, or a payout to a non-member,
whose recipient travels sealed: ``PayoutRecipient``) and a loan's instalments."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated

import msgspec

from schemas.fields import CountryCode, CurrencyCode, Id, Money, PastDay, Sealed

#: A decimal string, e.g. an exchange rate ``"1.0842"`` or an annual interest rate ``"0.12"``.
Decimal = Annotated[str, msgspec.Meta(pattern=r"^[0-9]{1,9}(\.[0-9]{1,12})?$",
                                      description="a non-negative decimal number as a string")]
Reason = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Count = Annotated[int, msgspec.Meta(ge=1, le=1_000_000)]
#: From-to countries of a remittance, ``"ES-EC"``.
Corridor = Annotated[str, msgspec.Meta(
    pattern=r"^[A-Z]{2}-[A-Z]{2}$",
    description="sending country - receiving country (ISO 3166-1 alpha-2): ES-EC")]


def corridor(sending: str, receiving: str) -> str:
    """A corridor as everything in coopbridge writes it, the way money goes: the country it
    is sent from, then the country it is sent to (``ES-EC``: from Spain to Ecuador). The
    figures group members the same way: host country, then home country."""
    return f"{sending}-{receiving}"


#: The day the cooperative booked a deposit, withdrawal or remittance (its value date, which
#: places it in a month); on a command, absent means the day it is decided, and an event
#: decided since version 2 always has it.
BookedOn = Annotated[PastDay | None, msgspec.Meta(
    description="the day the cooperative booked it; default: the day it is decided")]


class Product(StrEnum):
    """The three kinds of account."""

    SAVINGS = "savings"
    SHARE_CAPITAL = "share_capital"
    LOAN = "loan"


class Timing(StrEnum):
    """A repayment against its instalment's due date."""

    EARLY = "early"
    ON_TIME = "on_time"
    LATE = "late"


class Beneficiary(msgspec.Struct, frozen=True, forbid_unknown_fields=True, tag="account"):
    """Money for an account at a cooperative of this node: an open savings account, not the
    sender's own."""

    account_id: Id


class Payout(msgspec.Struct, frozen=True, forbid_unknown_fields=True, tag="payout"):
    """Money for a person who is not a member, paid out by a partner in the country named, in
    the currency named. Who they are is sealed with the *sender's* data key."""

    country: CountryCode
    currency: CurrencyCode
    recipient: Sealed


class PayoutRecipient(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Who collects a payout: the plaintext inside its seal, sealed with the sender's data key
    and never stored in the clear."""

    full_name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    phone: Annotated[str, msgspec.Meta(max_length=40)] | None = None


class Instalment(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One monthly instalment of a loan's schedule."""

    number: Count
    due_on: dt.date
    principal: Money
    interest: Money
    total: Money
