"""The input types of the mutations, generated from the contracts, and the way back from an
input to a contract.

For ``RegisterMember`` the input is ``RegisterMemberInput``: it mirrors the command, with three
translations:

* money is a decimal string in major units (``{amount: "200.00", currency: "EUR"}``),
  converted exactly (more decimals than the currency has is a ``ValidationError``);
* sealed personal fields are given in the clear (``personal: PersonalDetailsInput``) and
  sealed with the member's data key (``to_command``) before anything reaches Kafka;
* a choice between shapes (where the money goes, which skill scheme) is a ``@oneOf`` input.
"""

import base64
import datetime as dt
import enum
import re
import typing
from decimal import Decimal

import msgspec
import strawberry
from msgspec import inspect as mi

from gateway.descriptions import summary_of
from gateway.i18n.languages import canonical
from schemas import insurance as i
from schemas import membership as m
from schemas import placement as p
from schemas import savings as s
from schemas.fields import NOT_COME_YET, Money, Sealed, days_ahead
from schemas.money import AmountError, parse_major
from schemas.registry import Contract


@strawberry.input(description="An amount as a decimal string in major units: \"200.00\" EUR")
class MoneyInput:
    amount: str = strawberry.field(
        description="a plain decimal string in major units, with at most as many decimals as "
                    "the currency has: \"125.50\" (no sign, exponent or separator)")
    currency: str = strawberry.field(description="an ISO 4217 currency code (EUR)")


#: Fields the gateway fills (``access.completed``), never asked of the caller: who on the
#: staff assesses or decides a claim (``gateway.insurance.staff``), so nobody names another
#: as approver, the node a death recorded here is notified by (this one), and her age on
#: applying for a policy (from her sealed date of birth: ``gateway.insurance.applying``).
GATEWAY_FILLS: dict[type, frozenset[str]] = {
    i.AssessClaim: frozenset({"by"}), i.ApproveClaim: frozenset({"by"}),
    i.RejectClaim: frozenset({"by"}), i.OpenClaim: frozenset({"notified_by", "relayed"}),
    i.ApplyForPolicy: frozenset({"age"})}

_inputs: dict[type, type] = {}
_enums: dict[type, type] = {}


@strawberry.input(description="A text in one language: a contract's language map (tag -> "
                              "text) is a list of these in GraphQL, each language once")
class LocalizedTextInput:
    language: str = strawberry.field(description="a BCP 47 tag (es, es-EC, qu)")
    text: str = strawberry.field(description="the text in that language")


def camel(name: str) -> str:
    return name[0].lower() + name[1:]


def _graphql_type(info: mi.Type, owner: str, field: str):
    match info:
        case mi.Metadata():
            return _graphql_type(info.type, owner, field)
        case mi.StrType() | mi.LiteralType():
            return str
        case mi.IntType():
            return int
        case mi.BoolType():
            return bool
        case mi.DateType():
            return dt.date
        case mi.DateTimeType():
            return dt.datetime
        case mi.EnumType():
            return enum_for(info.cls)
        case mi.ListType():
            return list[_graphql_type(info.item_type, owner, field)]
        case mi.DictType():  # a language map (tag -> text): a list of pairs in GraphQL
            return list[LocalizedTextInput]
        case mi.StructType() if info.cls is Money:
            return MoneyInput
        case mi.StructType() if info.cls is Sealed:
            plain = {"personal": m.PersonalDetails, "recipient": s.PayoutRecipient,
                     **SEALED_FIELDS}[field]
            return input_for(plain)
        case mi.StructType():
            return input_for(info.cls)
        case mi.UnionType():
            options = [x for x in info.types if not isinstance(x, mi.NoneType)]
            if len(options) == 1:
                return typing.Optional[_graphql_type(options[0], owner, field)]
            return _one_of(owner, field, options)
    raise TypeError(f"no GraphQL input for {info!r} ({owner}.{field})")


def enum_for(cls: type[enum.Enum]) -> type[enum.Enum]:
    """The GraphQL enum of a contract's enum (its names as values: ``BOARD_MEMBER``)."""
    if cls not in _enums:
        _enums[cls] = strawberry.enum(enum.Enum(cls.__name__, {
            member.name: member.value for member in cls}))
    return _enums[cls]


def contract_inputs() -> dict[str, type]:
    """GraphQL input type name -> the contract struct it mirrors (``DepositFundsInput``)."""
    return {f"{struct.__name__}Input": struct for struct in _inputs if isinstance(struct, type)}


def contract_enums() -> dict[str, type[enum.Enum]]:
    """GraphQL enum name -> the contract enum it mirrors (``Product``)."""
    return {cls.__name__: cls for cls in _enums}


def _one_of(owner: str, field: str, options: list[mi.StructType]):
    key = (owner, field)
    if key not in _inputs:
        annotations = {_tag_name(o): typing.Optional[input_for(o.cls)] for o in options}
        described = {_tag_name(o): strawberry.field(description=summary_of(o.cls))
                     for o in options}
        cls = type(f"{owner}{field[0].upper()}{field[1:]}Choice", (), {
            "__annotations__": annotations, **described})
        _inputs[key] = strawberry.input(cls, one_of=True,
                                        description="exactly one of these fields")
    return _inputs[key]


def _tag_name(option: mi.StructType) -> str:
    return camel(str(option.tag))


def input_for(struct: type) -> type:
    """The strawberry input type mirroring a contract struct."""
    if struct in _inputs:
        return _inputs[struct]
    name = struct.__name__
    annotations, defaults = {}, {}
    for f in mi.type_info(struct).fields:
        if f.name in GATEWAY_FILLS.get(struct, ()):
            continue
        tp = _graphql_type(f.type, name, f.name)
        if not f.required:
            tp = typing.Optional[tp] if typing.get_origin(tp) is not typing.Union else tp
            defaults[f.name] = None
        annotations[f.name] = tp
    ordered = dict(sorted(annotations.items(), key=lambda kv: kv[0] in defaults))
    cls = type(f"{name}Input", (), {"__annotations__": ordered, **defaults})
    _inputs[struct] = strawberry.input(cls)
    return _inputs[struct]


# -- from input back to a contract ----------------------------------------------------------


def graphql_path(path: str) -> str:
    """A path into the input as the caller wrote it: the contract's ``personal.date_of_birth``
    is GraphQL's ``personal.dateOfBirth``."""
    return re.sub(r"_([a-z0-9])", lambda found: found.group(1).upper(), path)


class InputError(ValueError):
    """What is wrong with an input, and where in it (``ValidationError.field``: the path in
    GraphQL's names, ``input.personal.dateOfBirth``, whatever the contract calls it)."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = graphql_path(field) if field else field


def money_from_input(value: MoneyInput, path: str) -> dict:
    try:
        money = parse_major(value.amount, value.currency.upper())
    except AmountError as invalid:
        raise InputError(str(invalid), path) from None
    return {"amount": money.amount, "currency": money.currency}


def _plain(value, path: str) -> typing.Any:
    """Strawberry input objects -> builtins msgspec can convert (money exact)."""
    if value is None or isinstance(value, str | int | bool | dt.date | Decimal):
        return value
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, list) and value and all(isinstance(v, LocalizedTextInput)
                                                 for v in value):
        texts: dict[str, str] = {}
        for i, entry in enumerate(value):
            tag = canonical(entry.language)
            if tag is None:
                raise InputError(f"{entry.language!r} is not a BCP 47 tag (es, es-EC, qu)",
                                 f"{path}[{i}].language")
            if tag in texts:
                raise InputError(f"the language {tag} is given twice", f"{path}[{i}].language")
            texts[tag] = entry.text
        return texts
    if isinstance(value, list):
        return [_plain(v, f"{path}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, MoneyInput):
        return money_from_input(value, path)
    fields = {k: v for k, v in vars(value).items() if v is not None}
    for option in getattr(type(value), "__annotations__", {}):
        if type(value).__name__.endswith("Choice") and option in fields:  # a @oneOf choice
            inner = _plain(fields[option], f"{path}.{option}")
            return {**inner, "type" if option in ("account", "payout") else "scheme":
                    "isco08" if option == "isco08" else option}
    annotations = getattr(type(value), "__annotations__", {})
    plain = {k: {} if v == [] and "LocalizedTextInput" in str(annotations.get(k))
             else _plain(v, f"{path}.{k}") for k, v in fields.items()}  # (no text: an empty map)
    return plain


def to_plain(value) -> dict:
    """The input as builtins (money exact), nothing sealed yet."""
    return _plain(value, "input")


#: Stands for a seal while the rest of a command is validated, before anything is sealed.
#: The fields a caller gives in the clear that travel sealed with her data key, and what
#: each holds (a payout's recipient, nested, is sealed too).
SEALED_FIELDS = {"personal": m.PersonalDetails, "beneficiaries": i.Beneficiaries,
                 "details": p.EmployerDetails, "grievance": p.Grievance}

UNSEALED = {"kid": "unsealed", "iv": base64.b64encode(bytes(12)).decode(),
             "ct": base64.b64encode(bytes(16)).decode()}


async def to_command(cls: type[Contract], data: dict, seal, now: dt.datetime) -> Contract:
    """Validate the whole command (a day on which something happened must have come,
    ``PastDay``), then seal what must be sealed, then convert.

    Sealing may create the member's data key, published to ``{node}.datakeys`` under her
    member id: an input refused for any reason (a member id that is no id at all, where a
    name might have been typed) must make no key, or that text would stay in a Kafka key
    forever, with no member to erase it for."""
    sealed = {name: _convert(data[name], plain, f"input.{camel(name)}")
              for name, plain in SEALED_FIELDS.items()
              if data.get(name) is not None and name in cls.__struct_fields__}
    payout = isinstance(data.get("to"), dict) and "recipient" in data["to"]
    recipient = _convert(data["to"]["recipient"], s.PayoutRecipient,
                         "input.to.payout.recipient") if payout else None
    trial = {**data, **dict.fromkeys(sealed, UNSEALED),
             **({"to": {**data["to"], "recipient": UNSEALED}} if payout else {})}
    for value, path in ((sealed.get("personal"), "input.personal"),
                        (_convert(trial, cls, "input"), "input")):
        ahead = days_ahead(value, now) if value is not None else []
        if ahead:
            raise InputError(f"{graphql_path(ahead[0])}: {NOT_COME_YET}", f"{path}.{ahead[0]}")
    for name, plain in sealed.items():
        data[name] = await seal(data, msgspec.json.encode(plain))
    if payout:
        data["to"]["recipient"] = await seal(data, msgspec.json.encode(recipient))
    return _convert(data, cls, "input")


def _convert(data, cls, path):
    try:
        return msgspec.convert(data, cls, strict=False)
    except msgspec.ValidationError as invalid:
        text = re.sub(r"Invalid enum value .*? - at", "Invalid enum value - at", str(invalid))
        where = re.search(r"at `\$(.*)`", text)
        field = (path + where.group(1)) if where else path
        raise InputError(text.split(" - at ")[0], field) from None
