"""Sending a command from a mutation: one mutation per command a partner may send, generated
from its contract (``make_mutation``; its input: ``gateway.inputs``).

Each mutation checks who may send it (``gateway.access``), and what the gateway knows and the
service cannot (the feature's precheck), sends the command (the idempotency key is the
command id: the same key gives the same result), waits for the reply, waits until the
gateway's own views have applied the reply's events (read-your-writes, bounded), and returns
``MutationResult`` (``gateway.results``): ``CommandAccepted`` or one typed error.

Writes ``{node}.{service}.commands`` (through the command client) and, sealing a member's
details, ``{node}.datakeys``; reads ``{node}.replies``.
"""

import logging
import typing
import uuid
from collections.abc import Callable

import strawberry
from aiokafka.errors import KafkaError
from strawberry.types import Info

from gateway.access import authorized, completed, may_replay, who_may_send
from gateway.auth import Caller, Role
from gateway.context import GatewayContext
from gateway.descriptions import summary_of
from gateway.inputs import UNSEALED, InputError, camel, input_for, to_command, to_plain
from gateway.results import (
    NOT_AUTHORIZED,
    CommandAccepted,
    EventRef,
    IdempotencyKeyExpired,
    MutationResult,
    NotAuthorized,
    Unavailable,
    ValidationError,
    problem,
)
from schemas import REGISTRY
from schemas import placement as p
from schemas.fields import Sealed
from schemas.registry import Contract
from schemas.topics import events_topic
from services.runtime.datakeys import KeysUnavailable
from services.runtime.datakeys import MemberErased as KeysMemberErased
from services.runtime.ids import new_id

log = logging.getLogger(__name__)

#: What the gateway checks of a command before sending it, that the service cannot: None,
#: or the problem to answer (each feature's ``mutations.PRECHECKS``).
Precheck = Callable[[Contract, GatewayContext], typing.Any]

_KEYS = uuid.UUID("6f1c2a52-3c35-4b6e-9a53-6d1f6c0b5e21")
#: The services whose events' positions an answer does not tell: an assembly's stream holds
#: its ballots, so two positions apart would count the ballots cast in between, a turnout
#: meter before the close (issue 24).
POSITIONS_HIDDEN = frozenset({"governance"})


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
        if member_id is None and "employer_id" in data:  # an employer's: their own key
            return await context.keys.seal(p.employer_key_owner(data["employer_id"]),
                                           plaintext)
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
    return dict(UNSEALED)


def actor_of(caller: Caller | None) -> str | None:
    """Who sends a command, as the envelope's ``actor`` says it (``schemas.envelope``): the
    member herself, a cooperative's staff or admins, or the node; never a person's id."""
    if caller is None:
        return None
    if caller.role is Role.MEMBER:
        return "member"
    if caller.role is Role.NODE_ADMIN:
        return "node"
    if caller.cooperative_id is not None:
        return f"cooperative:{caller.cooperative_id}:{caller.role.value}"
    return None


async def send_command(context: GatewayContext, command: Contract, aggregate_id: str,
                       command_id: str | None, replay: bool = False, actor: str | None = None):
    """Send, wait for the reply, then for the gateway's views to show its events:
    ``CommandAccepted`` or the typed problem. ``replay``: ask only for the log's answer to
    ``command_id`` (a request of its own id, never decided); ``NotAuthorized`` unless the
    reply speaks of that command (the caller may not send it now). ``actor``: who sends it,
    when the caller does not say (``actor_of``)."""
    topic = events_topic(context.node, command.contract_service)
    first = None  # when the log decided it, if it did: a retry goes with that time
    try:
        if replay:
            reply = await context.commands.send(command, aggregate_id, command_id=new_id(),
                                                replay_of=command_id)
        else:
            if command_id is not None:
                try:
                    first = context.views.decided_at(topic, aggregate_id, command_id)
                except RuntimeError:  # the views stopped (ProjectionsFailed): a retry is
                    # never sent without knowing whether it was decided
                    return Unavailable(code="Unavailable", message="the gateway's views are "
                                       "not available; send it again later, with the same key")
            reply = await context.commands.send(command, aggregate_id, command_id=command_id,
                                                time=None if first is None else first.time,
                                                actor=actor or actor_of(context.caller))
    except TimeoutError:
        return Unavailable(code="Unavailable", message="no reply in time; send it again "
                           "with the same idempotency key")
    except KafkaError as failed:  # the brokers did not take it (its producer is replaced):
        # under the same key a retry is decided once, whether or not this one landed
        log.warning("a command was not taken by the brokers: %s", type(failed).__name__)
        return Unavailable(code="Unavailable", message="the brokers did not take it; send it "
                           "again with the same idempotency key")
    payload = reply.payload
    if replay and payload.command_id != command_id:  # NotDone, or refused as misaddressed
        return NOT_AUTHORIZED
    if not payload.accepted:
        if payload.error.code == "CommandOutOfTime":
            if first is None:  # never decided: this gateway's clock and the service's differ
                return Unavailable(code="Unavailable", message="the service could not take "
                                   "it now; send it again later, with the same key")
            return IdempotencyKeyExpired(
                code="IdempotencyKeyExpired", first_decided_on=first.time.date(),
                accepted=first.accepted, message=(
                    f"this request was first made on {first.time:%Y-%m-%d} and "
                    f"{'accepted' if first.accepted else 'refused'} then; what it did is no "
                    "longer kept (a week on, by the service's clock) and it is never decided "
                    "again; a new request needs a new idempotency key"))
        return problem(payload.error.code, payload.error.message)
    visible = await context.views.wait_for(
        [(topic, payload.aggregate_id, e.sequence) for e in payload.events], timeout=5.0)
    hidden = command.contract_service in POSITIONS_HIDDEN
    return CommandAccepted(
        command_id=payload.command_id, aggregate_id=payload.aggregate_id,
        events=[EventRef(id=e.id, type=e.type, sequence=None if hidden else e.sequence)
                for e in payload.events],
        visible=visible)


async def replay(cls: type[Contract], data: dict, context: GatewayContext, key: str):
    """A command this caller may not send now may have been sent by them before, when they
    could (an enrolment retried after her membership ended): the log's answer to that
    idempotency key is theirs to hear again. Nothing is decided; without an answer in the
    log it is ``NotAuthorized``, as is input that is no command at all."""
    try:
        command = await to_command(cls, data, _unsealed, context.now)
        aggregate_id = REGISTRY.key_of(command)
    except (InputError, KeysMemberErased, ValueError, TypeError):
        return NOT_AUTHORIZED
    return await send_command(context, command, aggregate_id,
                              command_id_for(context, key), replay=True)


def make_mutation(cls: type[Contract], precheck: Precheck | None = None, fill=None):
    """The mutation that sends ``cls`` (``depositFunds`` for ``DepositFunds``), checking
    ``precheck`` before it is sent; ``fill`` (async: input, context -> input) adds what the
    gateway fills from what it keeps sealed (her age from her date of birth), once the
    caller is authorized."""
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
                return NOT_AUTHORIZED
            return await replay(cls, data, context, idempotency_key)
        try:
            if fill is not None:
                data = await fill(data, context)
            command = await to_command(cls, data, _seal_for(context), context.now)
        except InputError as invalid:
            return ValidationError(code="ValidationError", message=str(invalid),
                                   field=invalid.field)
        except KeysMemberErased:
            return problem("MemberErased", "this member was erased")
        except (TimeoutError, KafkaError, KeysUnavailable) as failed:  # her data key could
            # not be written or read now: nothing was sent
            log.warning("a member's details could not be sealed: %s", type(failed).__name__)
            return Unavailable(code="Unavailable", message="the node's keys are not available "
                               "now; send it again later, with the same idempotency key")
        refused = precheck(command, context) if precheck is not None else None
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
