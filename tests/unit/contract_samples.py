"""A valid sample of any contract, built from its type: round trips cover every type, new ones too."""

from __future__ import annotations

import datetime as dt

import msgspec
from msgspec import inspect as mi

#: Sample strings for the patterns of ``schemas.fields``.
_BY_PATTERN = {
    "^[A-Z]{2}$": "EC",
    "^[A-Z]{3}$": "USD",
    "^[a-z][a-z0-9]{1,15}$": "ec",
    "^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$": "es-EC",
    "^[A-Z][A-Za-z0-9]{1,63}$": "AlreadyAMember",
    "^[0-9]{1,9}(\\.[0-9]{1,12})?$": "1.0842",
    "^[A-Z]{2}-[A-Z]{2}$": "ES-EC",
    "^http://data\\.europa\\.eu/esco/(skill|occupation|isco)/[A-Za-z0-9.\\-]{1,64}$":
        "http://data.europa.eu/esco/occupation/1ec3fd45-0c2e-4ef9-8f43-3e4e7e4e7a35",
    "^[0-9]{1,4}$": "5113",
    "^[0-9]{4}$": "5311",
    "^[A-Za-z0-9_-]{43}$": "n4bQgYhMfWWaL-qgxVrQFaO_TxsrC4Is0V1sFbDwCgg",
    "^[a-z_]{1,20}$": "savings",
    "^[a-z_]{1,30}$": "language",
    "^(A1|A2|B1|B2|C1|C2)$": "B1",
    "^[a-z0-9][a-z0-9_-]{0,39}$": "for",
    "^[0-9a-f]{64}$": "5d1f" * 16,
    "^(remote|proxy|in_person|no)$": "in_person",
}
_UUID = "0192d3c4-5e6f-7a8b-9c0d-1e2f3a4b5c6d"


def sample_value(info: mi.Type):
    match info:
        case mi.Metadata():
            return sample_value(info.type)
        case mi.StructType():
            return info.cls(**{f.name: sample_value(f.type) for f in info.fields})
        case mi.StrType():
            if info.pattern and info.pattern.startswith("^[0-9a-f]{8}"):
                return _UUID
            if info.pattern:
                return _BY_PATTERN[info.pattern]
            return "Rosa" + "x" * max(0, (info.min_length or 0) - 4)
        case mi.IntType():
            if info.ge is not None and info.ge > 0:
                return info.ge
            return 12550 if info.le is None else min(12550, info.le)
        case mi.BoolType():
            return True
        case mi.BytesType():
            return bytes(range(info.min_length or 16))
        case mi.DateTimeType():
            return dt.datetime(2026, 3, 1, 9, 30, tzinfo=dt.UTC)
        case mi.DateType():
            return dt.date(2019, 5, 6)
        case mi.ListType():
            return [sample_value(info.item_type)] * max(1, info.min_length or 0)
        case mi.DictType():  # a language map: two languages, the author's first
            return {"es": sample_value(info.value_type), "qu": sample_value(info.value_type)}
        case mi.EnumType():
            return next(iter(info.cls))
        case mi.LiteralType():
            return info.values[0]
        case mi.UnionType():
            return sample_value(next(t for t in info.types if not isinstance(t, mi.NoneType)))
    raise NotImplementedError(f"no sample for {info!r}; teach contract_samples this type")


def sample(cls: type[msgspec.Struct]):
    """A valid instance of ``cls`` with every optional field filled in."""
    return sample_value(mi.type_info(cls))
