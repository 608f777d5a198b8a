"""Field types shared by every contract: ids, codes, money and time.

Money is an integer number of minor units plus an ISO 4217 code, never a float. Countries are
ISO 3166-1 alpha-2, languages BCP 47 tags, times timezone-aware. Constraints live here so that
every contract and every generated JSON Schema states them the same way.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Annotated

import msgspec
from msgspec import inspect as mi

#: An identifier: a UUID string (DESIGN: time-ordered v7 for new ids, but any version decodes).
Id = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
        description="a lowercase UUID string",
    ),
]

#: ISO 3166-1 alpha-2 country code, e.g. ``ES``.
CountryCode = Annotated[
    str, msgspec.Meta(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2 country code")
]

#: ISO 4217 currency code, e.g. ``EUR``.
CurrencyCode = Annotated[
    str, msgspec.Meta(pattern=r"^[A-Z]{3}$", description="ISO 4217 currency code")
]

#: BCP 47 language tag, e.g. ``es-EC`` (the pattern contracts accept).
LANGUAGE_TAG = r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$"
LanguageTag = Annotated[
    str,
    msgspec.Meta(
        pattern=LANGUAGE_TAG,
        max_length=35,
        description="BCP 47 language tag",
    ),
]

#: A node id: lowercase, short, safe inside topic names (``es``, ``ec``, ``t1a2b3c4``).
NODE_ID_PATTERN = r"^[a-z][a-z0-9]{1,15}$"
NodeId = Annotated[str, msgspec.Meta(pattern=NODE_ID_PATTERN, description="federation node id")]

#: A timezone-aware timestamp (encoded as ISO 8601).
UtcDateTime = Annotated[dt.datetime, msgspec.Meta(tz=True)]

#: A day on which something happened (paid, attended, joined, born). A command carrying one
#: that has not begun anywhere on Earth yet is refused (``days_ahead``); days that name a plan
#: (a course's dates, a loan's first due date) are plain ``dt.date``.
PastDay = Annotated[dt.date, msgspec.Meta(
    description="a day that has come: never later than today in the earliest time zone "
                "(UTC+14)", extra={"happened": True})]

#: A short human text (names, titles).
Text = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]

#: A text people wrote in several languages: by BCP 47 tag, the first its author's (issue 23).
LanguageMap = Annotated[dict[LanguageTag, Text], msgspec.Meta(
    max_length=20, description="a text in several languages, by BCP 47 tag (es: …, qu: …)")]

#: The largest amount a contract holds, in minor units.
MAX_MINOR_UNITS = 10**15
#: A non-negative integer number of minor units (cents, centavos …).
MinorUnits = Annotated[int, msgspec.Meta(ge=0, le=MAX_MINOR_UNITS)]


class Money(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """An amount in integer minor units of one currency: ``{"amount": 12550, "currency": "EUR"}``."""

    amount: MinorUnits
    currency: CurrencyCode


class Sealed(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Personal fields encrypted with the member's data key (AES-256-GCM).

    ``kid`` names the data key (never a person), ``iv`` is the 12-byte nonce and ``ct`` the
    ciphertext with its tag; bytes travel as base64. Once the key is destroyed, this is noise.
    """

    kid: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    iv: Annotated[bytes, msgspec.Meta(min_length=12, max_length=12)]
    ct: Annotated[bytes, msgspec.Meta(min_length=16, max_length=65536)]
    alg: str = "A256GCM"


# -- days that have come ---------------------------------------------------------------------

#: The earliest time zone's lead on UTC: a calendar day has begun somewhere on Earth once
#: UTC+14 has reached it.
EARLIEST_ZONE = dt.timedelta(hours=14)


#: What a day that has not begun anywhere on Earth is told.
NOT_COME_YET = "that day has not come yet anywhere (a day on which it happened)"


def latest_day(now: dt.datetime) -> dt.date:
    """The latest calendar day anywhere on Earth at ``now`` (a timezone-aware time)."""
    return (now.astimezone(dt.UTC) + EARLIEST_ZONE).date()


#: The latest time zone's lag behind UTC: a day is over everywhere once UTC−12 has left it.
LATEST_ZONE = dt.timedelta(hours=12)


def earliest_day(now: dt.datetime) -> dt.date:
    """The earliest calendar day anywhere on Earth at ``now``: a plan dated after it (a first
    instalment due "tomorrow") is still ahead somewhere, whatever the cooperative's zone."""
    return (now.astimezone(dt.UTC) - LATEST_ZONE).date()


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later, or the month's last day if it has no such day (a loan's
    instalments, a policy's premium periods and benefit months)."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, candidate))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def days_ahead(value: msgspec.Struct, now: dt.datetime) -> list[str]:
    """The ``PastDay`` fields of ``value`` (nested structs and lists included) that lie after
    ``latest_day(now)``, as paths: ``["paid_on"]``, ``["history.memberships[0].started_on"]``."""
    if not _has_days(type(value)):
        return []
    limit = latest_day(now)
    return [path for path, day in _happened(_info(type(value)), value, "") if day > limit]


def days_happened(value: msgspec.Struct) -> list[dt.date]:
    """The days ``value`` says, in its own ``PastDay`` fields, that something happened on (a
    deposit booked, a membership started); not those of the structs it holds (the history a
    record brings home)."""
    if not _has_days(type(value)):
        return []
    return [day for path, day in _happened(_info(type(value)), value, "")
            if "." not in path and "[" not in path]


@functools.cache
def _info(cls: type) -> mi.Type:
    return mi.type_info(cls)


@functools.cache
def _has_days(cls: type) -> bool:
    def walk(info: mi.Type, seen: frozenset) -> bool:
        match info:
            case mi.Metadata():
                return bool((info.extra or {}).get("happened")) or walk(info.type, seen)
            case mi.StructType() if info.cls not in seen:
                return any(walk(f.type, seen | {info.cls}) for f in info.fields)
            case mi.ListType():
                return walk(info.item_type, seen)
            case mi.UnionType():
                return any(walk(option, seen) for option in info.types)
        return False
    return walk(_info(cls), frozenset())


def _happened(info: mi.Type, value, path: str):
    match info:
        case mi.Metadata() if (info.extra or {}).get("happened"):
            if isinstance(value, dt.date):
                yield path, value
        case mi.Metadata():
            yield from _happened(info.type, value, path)
        case mi.StructType() if isinstance(value, info.cls):
            for f in info.fields:
                yield from _happened(f.type, getattr(value, f.name),
                                     f"{path}.{f.name}" if path else f.name)
        case mi.ListType() if isinstance(value, list | tuple):
            for index, item in enumerate(value):
                yield from _happened(info.item_type, item, f"{path}[{index}]")
        case mi.UnionType() if value is not None:
            for option in info.types:
                yield from _happened(option, value, path)
