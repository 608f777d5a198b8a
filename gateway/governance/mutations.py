"""The governance feature's own mutations: the ballots, sealed here, and the tally, opened
here; the rest of governance is generated from its contracts (``gateway.commands``).

* ``castBallot``: the member herself, with her own member token, from wherever she is;
* ``castProxyBallot``: a member holding another member's proxy, with her own token;
* ``recordPaperBallot``: the cooperative's staff, at the meeting, for a member checked in;
  the choice goes from the paper (or the polling station's screen, which she fills in) into
  the seal, and no answer, view or log ever shows it again;
* ``certifyAssembly``: its cooperative's admins (or the node admin), after the close: the
  counted ballots are opened here, counted, and only the counts are sent (``CertifyResult``);
  the service checks that they add up and applies quorum and majorities itself;
* ``destroyBallotKey``: after the challenge period, the service records it, then the key is
  destroyed (again on a retry with the same key, until it is gone).

A choice is sealed with the assembly's ballot key (``schemas.governance.ballot_key_owner``)
under AES-256-GCM before it is sent: it never reaches Kafka, a log or a view in the clear.
Writes ``{node}.governance.commands`` and ``{node}.datakeys``; reads ``{node}.replies``.
"""

from __future__ import annotations

import logging
import typing

import msgspec
import strawberry
from aiokafka.errors import KafkaError
from strawberry.types import Info

from gateway.auth import Role
from gateway.commands import command_id_for, send_command
from gateway.context import GatewayContext
from gateway.governance.documents import AssemblyView
from gateway.results import (
    NOT_AUTHORIZED,
    PROBLEMS,
    CommandAccepted,
    MutationResult,
    Unavailable,
    ValidationError,
    problem,
)
from schemas import governance as g
from services.runtime.datakeys import KeysUnavailable, SealBroken
from services.runtime.datakeys import MemberErased as KeyDestroyed

log = logging.getLogger(__name__)

#: Commands with a mutation of their own (``MUTATIONS``): the gateway builds them.
BUILT_HERE = (g.CastBallot, g.CastProxyBallot, g.RecordPaperBallot, g.CertifyResult,
              g.DestroyBallotKey)


@strawberry.input(description="A ballot on one motion: the options chosen (one for a "
                              "resolution: for, against or abstain; up to the motion's "
                              "maxChoices otherwise)")
class BallotInput:
    assembly_id: strawberry.ID = strawberry.field(description="the assembly's id")
    motion_id: strawberry.ID = strawberry.field(description="the motion's id")
    choices: list[str] = strawberry.field(description="the ids of the options chosen")
    member_id: typing.Optional[strawberry.ID] = strawberry.field(
        default=None, description="whose ballot it is: for a proxy ballot, the member who "
        "gave the proxy; for a paper ballot, the member checked in; castBallot: herself "
        "(leave it out)")


@strawberry.type(description="The ballot is recorded, sealed: keep its receipt, and find it "
                             "in the assembly's published receipts after the close")
class BallotAccepted:
    receipt: str | None = strawberry.field(description=(
        "the SHA-256 of the sealed ballot, in hex; null if the gateway's views do not show "
        "the ballot yet (send it again with the same idempotency key to hear it)"))
    command_id: strawberry.ID = strawberry.field(
        description="the command's id: the same for every retry with the same idempotency key")
    visible: bool = strawberry.field(
        description="the gateway's views already show it (read-your-writes)")


BallotResult = typing.Annotated[
    typing.Union[(BallotAccepted, *PROBLEMS)],
    strawberry.union("BallotResult", description="The ballot's receipt, or why it was not "
                                                 "recorded")]


def _choices_problem(view: AssemblyView, motion_id: str, choices: list[str]):
    motion = next((m for m in view.motions if m.motion_id == motion_id), None)
    if motion is None:
        return problem("UnknownMotion", "the assembly has no motion with this id")
    known = {o.option_id for o in motion.options}
    if not choices or len(set(choices)) != len(choices) or not set(choices) <= known:
        return ValidationError(code="ValidationError", field="input.choices", message=(
            f"choose distinct options of this motion: {', '.join(sorted(known))}"))
    if len(choices) > motion.max_choices:
        return ValidationError(code="ValidationError", field="input.choices",
                               message=f"a ballot chooses at most {motion.max_choices}")
    return None


async def _ballot(info: Info[GatewayContext, None], input: BallotInput,
                  idempotency_key: str | None, kind: type[g._Ballot]):
    context = info.context
    caller = context.caller
    if caller is None:
        return NOT_AUTHORIZED
    view = context.views.get(AssemblyView.TABLE, str(input.assembly_id))
    known = view is not None and view.convened is not None
    if kind is g.RecordPaperBallot:  # its cooperative's people, at the meeting
        if not known or caller.role not in (Role.STAFF, Role.ADMIN) \
                or caller.cooperative_id != view.convened.cooperative_id:
            return NOT_AUTHORIZED
        member_id = str(input.member_id or "")
    elif caller.role is not Role.MEMBER:  # a ballot is hers: nobody else casts it remotely
        return NOT_AUTHORIZED
    elif kind is g.CastBallot:
        if input.member_id is not None and str(input.member_id) != caller.member_id:
            return NOT_AUTHORIZED
        member_id = caller.member_id
    else:  # a proxy ballot: only from the member holding her proxy
        member_id = str(input.member_id or "")
        if not known or view.proxies.get(member_id) != caller.member_id:
            return NOT_AUTHORIZED
    if not known:
        return problem("UnknownAssembly", "no assembly is convened with this id")
    if not member_id:
        return ValidationError(code="ValidationError", field="input.memberId",
                               message="name the member whose ballot it is")
    if idempotency_key is not None and not 1 <= len(idempotency_key) <= 200:
        return ValidationError(code="ValidationError", field="idempotencyKey",
                               message="an idempotency key has 1 to 200 characters")
    refused = _choices_problem(view, str(input.motion_id), list(input.choices))
    if refused is not None:
        return refused
    motion = next(m for m in view.motions if m.motion_id == str(input.motion_id))
    positions = [o.option_id for o in motion.options]
    content = g.BallotContent(assembly_id=str(input.assembly_id), motion_id=motion.motion_id,
                              choices=sorted(positions.index(c) for c in input.choices))
    try:
        sealed = await context.keys.seal(g.ballot_key_owner(content.assembly_id),
                                         g.ballot_plaintext(content))
    except KeyDestroyed:
        return problem("VotingClosed", "the assembly's ballot key is destroyed")
    except (TimeoutError, KafkaError, KeysUnavailable) as failed:
        log.warning("a ballot could not be sealed: %s", type(failed).__name__)
        return Unavailable(code="Unavailable", message="the node's keys are not available "
                           "now; send it again later, with the same idempotency key")
    fields = dict(assembly_id=content.assembly_id, motion_id=content.motion_id,
                  member_id=member_id, ballot=sealed, receipt=g.receipt_of(sealed))
    if kind is g.CastProxyBallot:
        fields["holder_id"] = caller.member_id
    command = kind(**fields)
    try:  # the contract's own checks, as the service will decode it
        command = msgspec.json.decode(msgspec.json.encode(command), type=kind)
    except msgspec.ValidationError as invalid:
        return ValidationError(code="ValidationError", field="input", message=str(invalid))
    answer = await send_command(context, command, content.assembly_id,
                                command_id_for(context, idempotency_key))
    if not isinstance(answer, CommandAccepted):
        return answer
    if idempotency_key is None:  # decided now, never before: its receipt is this seal's
        return BallotAccepted(receipt=command.receipt, command_id=answer.command_id,
                              visible=answer.visible)
    # a retry under the same key is decided once: its receipt is the first ballot's, found
    # by its event in the views (null if they do not show it yet: ask again, same key)
    event_id = answer.events[0].id if answer.events else None
    stored = context.views.get(AssemblyView.TABLE, content.assembly_id)
    first = next(((r, b) for r, b in (stored.ballots.items() if stored else ())
                  if b.event_id == event_id), None) if event_id else None
    if answer.aggregate_id != content.assembly_id or (
            first is not None and (first[1].motion_id, first[1].member_id)
            != (content.motion_id, member_id)):
        return ValidationError(code="ValidationError", field="idempotencyKey", message=(
            "this idempotency key was used for another ballot"))
    return BallotAccepted(receipt=first[0] if first else None, command_id=answer.command_id,
                          visible=answer.visible)


async def cast_ballot(info: Info[GatewayContext, None], input: BallotInput,
                      idempotency_key: typing.Optional[str] = None) -> BallotResult:
    return await _ballot(info, input, idempotency_key, g.CastBallot)


async def cast_proxy_ballot(info: Info[GatewayContext, None], input: BallotInput,
                            idempotency_key: typing.Optional[str] = None) -> BallotResult:
    return await _ballot(info, input, idempotency_key, g.CastProxyBallot)


async def record_paper_ballot(info: Info[GatewayContext, None], input: BallotInput,
                              idempotency_key: typing.Optional[str] = None) -> BallotResult:
    return await _ballot(info, input, idempotency_key, g.RecordPaperBallot)


def _as_admin(context: GatewayContext, assembly_id: str) -> AssemblyView | None:
    """The assembly, if the caller is an admin of its cooperative or the node admin."""
    caller = context.caller
    view = context.views.get(AssemblyView.TABLE, assembly_id)
    if caller is None or view is None or view.convened is None:
        return None
    if caller.is_node_admin or (caller.role is Role.ADMIN
                                and caller.cooperative_id == view.convened.cooperative_id):
        return view
    return None


async def opened_tally(context: GatewayContext, view: AssemblyView) -> list[g.MotionTally]:
    """Open the counted ballots of a closed assembly and count them: per motion, how many
    chose each option, and how many did not open or named no valid option (spoiled). Only
    the counts leave this function."""
    owner = g.ballot_key_owner(view.assembly_id)
    tallies = []
    for motion in view.motions:
        counts = dict.fromkeys((o.option_id for o in motion.options), 0)
        ballots = spoiled = 0
        for ballot in view.counted(motion.motion_id).values():
            ballots += 1
            content = None
            try:
                plain = await context.keys.open(owner, ballot.ballot) if ballot.ballot else None
                if plain is not None:
                    content = g.ballot_content(plain)
            except (SealBroken, msgspec.DecodeError, msgspec.ValidationError):
                content = None
            if (content is None or content.assembly_id != view.assembly_id
                    or content.motion_id != motion.motion_id or not content.choices
                    or len(set(content.choices)) != len(content.choices)
                    or not all(0 <= c < len(motion.options) for c in content.choices)
                    or len(content.choices) > motion.max_choices):
                spoiled += 1
                continue
            for choice in content.choices:
                counts[motion.options[choice].option_id] += 1
        tallies.append(g.MotionTally(motion_id=motion.motion_id, counts=counts,
                                     ballots=ballots, spoiled=spoiled))
    return tallies


@strawberry.input(description="The assembly acted on")
class AssemblyRefInput:
    assembly_id: strawberry.ID = strawberry.field(description="the assembly's id")


async def certify_assembly(info: Info[GatewayContext, None], input: AssemblyRefInput,
                           idempotency_key: typing.Optional[str] = None) -> MutationResult:
    context, assembly_id = info.context, str(input.assembly_id)
    view = _as_admin(context, assembly_id)
    if view is None:
        return NOT_AUTHORIZED
    if view.closed is None:  # nothing is opened before the close, by anyone
        return problem("NotClosed", "close the voting first")
    if view.result is not None:
        return problem("AssemblyCertified", "the result is certified already")
    try:
        tallies = await opened_tally(context, view)
    except (TimeoutError, KafkaError, KeysUnavailable) as failed:
        log.warning("an assembly's ballots could not be opened: %s", type(failed).__name__)
        return Unavailable(code="Unavailable", message="the node's keys are not available now; "
                           "send it again later, with the same idempotency key")
    command = g.CertifyResult(assembly_id=assembly_id, tallies=tallies,
                              receipts_digest=g.receipts_digest(view.counted()))
    return await send_command(context, command, assembly_id,
                              command_id_for(context, idempotency_key))


async def destroy_ballot_key(info: Info[GatewayContext, None], input: AssemblyRefInput,
                             idempotency_key: typing.Optional[str] = None) -> MutationResult:
    context, assembly_id = info.context, str(input.assembly_id)
    view = _as_admin(context, assembly_id)
    if view is None:
        return NOT_AUTHORIZED
    # (the challenge period: the service's clock decides, ChallengePeriodOpen)
    answer = await send_command(context, g.DestroyBallotKey(assembly_id=assembly_id),
                                assembly_id, command_id_for(context, idempotency_key))
    if isinstance(answer, CommandAccepted) or getattr(answer, "code", "") == "KeyAlreadyDestroyed":
        try:
            await context.keys.destroy(g.ballot_key_owner(assembly_id))
        except (TimeoutError, KafkaError, KeysUnavailable, RuntimeError) as failed:
            log.warning("a ballot key was not destroyed yet: %s", type(failed).__name__)
            return Unavailable(code="Unavailable", message="the destruction is recorded but "
                               "the key is not gone yet: send it again with the same key")
    return answer


_PAPER = ("Who: staff or admins of the assembly's cooperative, at the meeting, for a member "
          "checked in.")

#: The mutations this feature adds to the schema.
MUTATIONS = {
    "castBallot": strawberry.mutation(cast_ballot, description=(
        "Cast her ballot on one motion, sealed before it reaches Kafka; a later one replaces "
        "it until the window closes. Who: the member herself, with her own member token, on "
        "the roll.")),
    "castProxyBallot": strawberry.mutation(cast_proxy_ballot, description=(
        "Cast a ballot for the member who gave the caller her proxy (memberId); her own "
        "ballot overrides it. Who: the proxy holder, with her own member token.")),
    "recordPaperBallot": strawberry.mutation(record_paper_ballot, description=(
        "Record the paper ballot of a member checked in at the meeting, sealed at once; "
        "nobody sees it again. " + _PAPER)),
    "certifyAssembly": strawberry.mutation(certify_assembly, description=(
        "Open the counted ballots after the close, count them, and certify the result (the "
        "service applies quorum and majorities). Who: admins of the assembly's cooperative; "
        "and the node admin.")),
    "destroyBallotKey": strawberry.mutation(destroy_ballot_key, description=(
        "After the challenge period, destroy the assembly's ballot key: nobody can link a "
        "member to her choice again. Who: admins of the assembly's cooperative; and the node "
        "admin.")),
}
