"""Field types shared by every contract: ids, codes, money and time.

Money is an integer number of minor units plus an ISO 4217 code, never a float. Countries are
ISO 3166-1 alpha-2, languages BCP 47 tags, times timezone-aware. Constraints live here so that
every contract and every generated JSON Schema states them the same way.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import msgspec

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

#: BCP 47 language tag, e.g. ``es-EC``.
LanguageTag = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$",
        max_length=35,
        description="BCP 47 language tag",
    ),
]

#: A node id: lowercase, short, safe inside topic names (``es``, ``ec``, ``t1a2b3c4``).
NODE_ID_PATTERN = r"^[a-z][a-z0-9]{1,15}$"
NodeId = Annotated[str, msgspec.Meta(pattern=NODE_ID_PATTERN, description="federation node id")]

#: A timezone-aware timestamp (encoded as ISO 8601).
UtcDateTime = Annotated[dt.datetime, msgspec.Meta(tz=True)]

#: A short human text (names, titles).
Text = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]

#: A non-negative integer number of minor units (cents, centavos …).
MinorUnits = Annotated[int, msgspec.Meta(ge=0, le=10**15)]


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
