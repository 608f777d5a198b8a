"""Mutations: one per command a partner may send, generated from the contracts.

For ``RegisterMember`` the mutation is ``registerMember(input: RegisterMemberInput!,
idempotencyKey: String)``; its input mirrors the command, with three translations:

* money is a decimal string in major units (``{amount: "200.00", currency: "EUR"}``),
  converted exactly (more decimals than the currency has is a ``ValidationError``);
* sealed personal fields are given in the clear (``personal: PersonalDetailsInput``) and
  sealed here with the member's data key before anything reaches Kafka;
* a choice between shapes (where the money goes, which skill scheme) is a ``@oneOf`` input.

Each mutation checks who may send it, sends the command (the idempotency key is the command
id: the same key gives the same result), waits for the reply, waits until the gateway's own
views have applied the reply's events (read-your-writes, bounded), and returns
``MutationResult``: ``CommandAccepted`` or one typed error.

The courier's and the relay's commands (``savings.INTERNAL_COMMANDS``) are never offered;
records are exported and imported by ``gateway.federation``'s own mutations.
"""

import base64
import datetime as dt
import enum
import functools
import re
import typing
import uuid
from decimal import Decimal

import msgspec
import strawberry
from msgspec import inspect as mi
from strawberry.types import Info

from gateway.access import authorized, completed, may_replay, who_may_send
from gateway.context import GatewayContext
from gateway.descriptions import summary_of
from schemas import REGISTRY
from schemas import membership as m
from schemas import savings as s
from schemas.fields import NOT_COME_YET, Money, Sealed, days_ahead
from schemas.money import AmountError, parse_major
from schemas.registry import Contract
from schemas.rejections import REJECTION_CODES
from schemas.topics import SERVICES, events_topic
from services import config
from services.runtime.datakeys import MemberErased as KeysMemberErased
from services.runtime.ids import new_id

#: Every rejection code the services and the runtime declare (``schemas.rejections``), in the
#: order the API publishes them; an undeclared one comes as ``CommandRejected``.
ERROR_CODES = tuple(REJECTION_CODES.published())

# -- result types ---------------------------------------------------------------------------


@strawberry.interface(description="Why a mutation did not happen: a stable code, a sentence")
class Problem:
    code: str = strawberry.field(
        description="a stable code to switch on: the type's own name, except on "
                    "CommandRejected, where it is the service's code")
    message: str = strawberry.field(
        description="what went wrong, in one English sentence for people; never personal data")


@strawberry.type(description="An event the command led to, as the service's reply names it")
class EventRef:  # its fields: the glossary's words for the reply's (schemas.runtime.EventRef)
    id: strawberry.ID
    type: str
    sequence: int


@strawberry.type(description="The command was accepted: its event is in the log")
class CommandAccepted:
    command_id: strawberry.ID = strawberry.field(
        description="the command's id: the same for every retry with the same idempotency key")
    aggregate_id: strawberry.ID = strawberry.field(
        description="the id of what the command acted on: a member's, a cooperative's, an "
                    "account's or a course's id")
    events: list[EventRef] = strawberry.field(
        description="the events it led to (one: a command is one fact)")
    visible: bool = strawberry.field(
        description="the gateway's views already show the change (read-your-writes)")


@strawberry.type(description="The input is not valid: a value out of its format or range, or "
                             "against a rule (a day that has not come, a membership ending "
                             "before it started)")
class ValidationError(Problem):
    field: typing.Optional[str] = strawberry.field(
        description="where the problem is, as a path into the arguments (input.amount, "
                    "idempotencyKey); null when it is no one field")


@strawberry.type(description="The caller may not send this command")
class NotAuthorized(Problem):
    pass


@strawberry.type(description="No answer in time: send again with the same idempotency key")
class Unavailable(Problem):
    pass


@strawberry.type(description="A rejection with a code this gateway does not know yet")
class CommandRejected(Problem):
    pass


ERROR_TYPES = {code: strawberry.type(type(code, (Problem,), {}),
                                     description=f"the command was rejected: {code}")
               for code in ERROR_CODES if code != "ValidationError"}

MutationResult = typing.Annotated[
    typing.Union[(CommandAccepted, ValidationError, NotAuthorized, Unavailable, CommandRejected,
                  *ERROR_TYPES.values())],
    strawberry.union("MutationResult", description=(
        "What a command came to: CommandAccepted, or one Problem (ask for __typename and "
        "`... on Problem { code message }`)")),
]


def problem(code: str, message: str, field: str | None = None):
    if code == "ValidationError":
        return ValidationError(code=code, message=message, field=field)
    cls = ERROR_TYPES.get(code)
    return cls(code=code, message=message) if cls else CommandRejected(code=code, message=message)


# -- input types, generated from the contracts ---------------------------------------------


@strawberry.input(description="An amount as a decimal string in major units: \"200.00\" EUR")
class MoneyInput:
    amount: str = strawberry.field(
        description="a plain decimal string in major units, with at most as many decimals as "
                    "the currency has: \"125.50\" (no sign, exponent or separator)")
    currency: str = strawberry.field(description="an ISO 4217 currency code (EUR)")


_inputs: dict[type, type] = {}
_enums: dict[type, type] = {}


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
        case mi.StructType() if info.cls is Money:
            return MoneyInput
        case mi.StructType() if info.cls is Sealed:
            plain = {"personal": m.PersonalDetails, "recipient": s.PayoutRecipient}[field]
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
    plain = {k: _plain(v, f"{path}.{k}") for k, v in fields.items()}
    return plain


def to_plain(value) -> dict:
    """The input as builtins (money exact), nothing sealed yet."""
    return _plain(value, "input")


#: Stands for a seal while the rest of a command is validated, before anything is sealed.
_UNSEALED = {"kid": "unsealed", "iv": base64.b64encode(bytes(12)).decode(),
             "ct": base64.b64encode(bytes(16)).decode()}


async def to_command(cls: type[Contract], data: dict, seal, now: dt.datetime) -> Contract:
    """Validate the whole command (a day on which something happened must have come,
    ``PastDay``), then seal what must be sealed, then convert.

    Sealing may create the member's data key, published to ``{node}.datakeys`` under her
    member id: an input refused for any reason (a member id that is no id at all, where a
    name might have been typed) must make no key, or that text would stay in a Kafka key
    forever, with no member to erase it for."""
    personal = "personal" in data and "personal" in cls.__struct_fields__
    payout = isinstance(data.get("to"), dict) and "recipient" in data["to"]
    details = _convert(data["personal"], m.PersonalDetails, "input.personal") if personal \
        else None
    recipient = _convert(data["to"]["recipient"], s.PayoutRecipient,
                         "input.to.payout.recipient") if payout else None
    trial = {**data, **({"personal": _UNSEALED} if personal else {}),
             **({"to": {**data["to"], "recipient": _UNSEALED}} if payout else {})}
    for value, path in ((details, "input.personal"), (_convert(trial, cls, "input"), "input")):
        ahead = days_ahead(value, now) if value is not None else []
        if ahead:
            raise InputError(f"{graphql_path(ahead[0])}: {NOT_COME_YET}", f"{path}.{ahead[0]}")
    if personal:
        data["personal"] = await seal(data, msgspec.json.encode(details))
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


# -- resolvers ------------------------------------------------------------------------------

_KEYS = uuid.UUID("6f1c2a52-3c35-4b6e-9a53-6d1f6c0b5e21")


def command_id_for(context: GatewayContext, key: str | None) -> str | None:
    """An idempotency key is the caller's own: two callers using the same key never meet,
    and the key itself (which may be any text) never becomes a Kafka key."""
    if key is None:
        return None
    caller = context.caller
    return str(uuid.uuid5(_KEYS, f"{context.node}|{caller.subject}|{caller.role}|"
                                 f"{caller.cooperative_id}|{key}"))



def _seal_for(context: GatewayContext):
    async def seal(data: dict, plaintext: bytes) -> Sealed:
        member_id = data.get("member_id")
        if member_id is None and "account_id" in data:  # a payout: the sender's key
            account = context.views.get("accounts", data["account_id"])
            member_id = account.member_id if account else None
        if not member_id:
            raise InputError("unknown account", "input.accountId")
        return await context.keys.seal(member_id, plaintext)
    return seal


async def _unsealed(data: dict, plaintext: bytes) -> dict:
    """A replay's seal: the log answers by the command's id alone, so nothing is sealed and
    no member's key is made for a caller who may not send the command now."""
    return dict(_UNSEALED)


async def send_command(context: GatewayContext, command: Contract, aggregate_id: str,
                       command_id: str | None, replay: bool = False):
    """Send, wait for the reply, then for the gateway's views to show its events:
    ``CommandAccepted`` or the typed problem. ``replay``: ask only for the log's answer to
    ``command_id`` (a request of its own id, never decided); ``NotAuthorized`` unless the
    reply speaks of that command (the caller may not send it now)."""
    try:
        if replay:
            reply = await context.commands.send(command, aggregate_id, command_id=new_id(),
                                                replay_of=command_id)
        else:
            reply = await context.commands.send(command, aggregate_id, command_id=command_id)
    except TimeoutError:
        return Unavailable(code="Unavailable", message="no reply in time; send it again "
                           "with the same idempotency key")
    payload = reply.payload
    if replay and payload.command_id != command_id:  # NotDone, or refused as misaddressed
        return _NOT_AUTHORIZED
    if not payload.accepted:
        return problem(payload.error.code, payload.error.message)
    topic = events_topic(context.node, command.contract_service)
    visible = await context.views.wait_for(
        [(topic, payload.aggregate_id, e.sequence) for e in payload.events], timeout=5.0)
    return CommandAccepted(
        command_id=payload.command_id, aggregate_id=payload.aggregate_id,
        events=[EventRef(id=e.id, type=e.type, sequence=e.sequence) for e in payload.events],
        visible=visible)


def precheck(command: Contract, context: GatewayContext):
    """What the gateway knows and the service cannot: which node this is (a cooperative
    registered here is this node's), and that savings go only to a trusted peer."""
    if isinstance(command, m.RegisterCooperative) and command.node != context.node:
        return ValidationError(code="ValidationError", field="input.node",
                               message=f"a cooperative registered here is of node "
                                       f"{context.node}")
    if isinstance(command, s.TransferSavingsHome):
        if command.to_node == context.node or command.to_node not in config.peers(context.node):
            return problem("UnknownPeer", "the receiving node is not a trusted peer of this node")
    return None


_NOT_AUTHORIZED = NotAuthorized(code="NotAuthorized",
                                message="this caller may not send this command")


async def replay(cls: type[Contract], data: dict, context: GatewayContext, key: str):
    """A command this caller may not send now may have been sent by them before, when they
    could (an enrolment retried after her membership ended): the log's answer to that
    idempotency key is theirs to hear again. Nothing is decided; without an answer in the
    log it is ``NotAuthorized``, as is input that is no command at all."""
    try:
        command = await to_command(cls, data, _unsealed, context.now)
        aggregate_id = REGISTRY.key_of(command)
    except (InputError, KeysMemberErased, ValueError, TypeError):
        return _NOT_AUTHORIZED
    return await send_command(context, command, aggregate_id,
                              command_id_for(context, key), replay=True)


def make_mutation(cls: type[Contract]):
    input_type = input_for(cls)

    async def resolve(info: Info, input, idempotency_key=None):
        context: GatewayContext = info.context
        if context.caller is None:
            return NotAuthorized(code="NotAuthorized", message="a bearer token is required")
        try:
            data = to_plain(input)
        except InputError as invalid:
            return ValidationError(code="ValidationError", message=str(invalid),
                                   field=invalid.field)
        data = completed(cls, data, context)
        if idempotency_key is not None and not 1 <= len(idempotency_key) <= 200:
            return ValidationError(code="ValidationError", field="idempotencyKey",
                                   message="an idempotency key has 1 to 200 characters")
        if not authorized(cls, data, context):
            if idempotency_key is None or not may_replay(cls, context):
                return _NOT_AUTHORIZED
            return await replay(cls, data, context, idempotency_key)
        try:
            command = await to_command(cls, data, _seal_for(context), context.now)
        except InputError as invalid:
            return ValidationError(code="ValidationError", message=str(invalid),
                                   field=invalid.field)
        except KeysMemberErased:
            return problem("MemberErased", "this member was erased")
        refused = precheck(command, context)
        if refused is not None:
            return refused
        return await send_command(context, command, REGISTRY.key_of(command),
                                  command_id_for(context, idempotency_key))

    resolve.__annotations__ = {"info": Info, "input": input_type,
                               "idempotency_key": typing.Optional[str],
                               "return": MutationResult}
    resolve.__name__ = camel(cls.__name__)
    what = summary_of(cls) or f"Send {cls.__name__} to the {cls.contract_service} service."
    return strawberry.mutation(resolve, description=f"{what} {who_may_send(cls)}")


#: Commands with a mutation of their own (``gateway.federation``): the gateway builds them.
BUILT_HERE = (m.ExportRecord, m.ImportRecord)


def partner_commands() -> list[type[Contract]]:
    return sorted((cls for cls in REGISTRY.types().values()
                   if cls.contract_kind == "command" and cls.contract_service in SERVICES
                   and REGISTRY.is_newest(cls) and cls not in BUILT_HERE
                   and cls.contract_name not in s.INTERNAL_COMMANDS),
                  key=lambda cls: cls.wire_type)


@functools.cache
def mutation_type() -> type:
    from gateway.federation import MUTATIONS  # noqa: PLC0415 (it builds on this module)

    fields = {camel(cls.__name__): make_mutation(cls) for cls in partner_commands()}
    return strawberry.type(type("Mutation", (), {**fields, **MUTATIONS}), description=(
        "Commands: each mutation sends one, waits for the service's answer and returns it. "
        "Every mutation needs a bearer token; send it again with the same idempotencyKey "
        "after a timeout or a lost answer"))
