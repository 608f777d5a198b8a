"""``issueMemberAccess`` and ``redeemMemberAccess`` (issue 23): her cooperative's staff issue
her an activation code (shown once; only its keyed digest is sent and logged), and she
redeems it, without a token, for her own member token. The membership service decides both
(``IssueMemberAccess``, ``RedeemMemberAccess``); the token is signed only once it accepted.

Writes ``{node}.membership.commands`` (through ``gateway.commands``).
"""

from __future__ import annotations

import datetime as dt
import typing
import uuid

from strawberry.types import Info

from gateway.access import authorized
from gateway.auth import Role, issue_token
from gateway.commands import command_id_for, send_command
from gateway.context import GatewayContext
from gateway.member_access import codes
from gateway.member_access.attempts import attempts_of
from gateway.member_access.types import (
    IssueMemberAccessInput,
    IssueMemberAccessResult,
    MemberAccessCode,
    MemberToken,
    RedeemMemberAccessInput,
    RedeemMemberAccessResult,
)
from gateway.results import NotAuthorized, ValidationError, problem
from schemas import membership as m
from schemas.membership.access import ACTIVATION_LIVES
from services import config
from services.runtime.ids import new_id

#: How long her token lives (phones are often offline: she renews it before).
TOKEN_LIVES = dt.timedelta(days=7)
_ACCESS_IDS = uuid.UUID("0192d3c4-0000-7000-8000-0000000acce5")
INVALID = "this activation code cannot be redeemed; ask your cooperative for a new one"


async def issue_member_access(info: Info[GatewayContext, None], input: IssueMemberAccessInput,
                              idempotency_key: typing.Optional[str] = None,
                              ) -> IssueMemberAccessResult:
    context = info.context
    member_id, caller = str(input.member_id), context.caller
    if caller is None or not authorized(m.IssueMemberAccess, {"member_id": member_id}, context):
        return NotAuthorized(code="NotAuthorized", message="only a cooperative she is an "
                             "active member of issues her an activation code")
    if caller.cooperative_id is None:
        return ValidationError(code="ValidationError", field="input.memberId",
                               message="a cooperative's staff issue it (a token of theirs)")
    # the key is the caller's for this member's code only: the same key for another member
    # must not show (or issue) the first one's code
    command_id = command_id_for(context, None if idempotency_key is None else
                                f"issueMemberAccess|{member_id}|{idempotency_key}") or new_id()
    node_key = config.node_key(context.node)
    code = codes.code_for(node_key, command_id)
    digest = codes.digest(code, node_key)
    access_id = str(uuid.uuid5(_ACCESS_IDS, command_id))
    outcome = await send_command(context, m.IssueMemberAccess(
        member_id=member_id, access_id=access_id, cooperative_id=caller.cooperative_id,
        code_digest=digest, expires_at=context.now + ACTIVATION_LIVES), member_id, command_id)
    if not hasattr(outcome, "events"):
        return outcome
    if outcome.aggregate_id != member_id:  # never another member's code
        return ValidationError(code="ValidationError", field="idempotencyKey", message=(
            "this idempotency key was used for another request; a new one needs a new key"))
    issued = context.views.get("activation_codes", digest)
    return MemberAccessCode(access_id=access_id, code=code, expires_at=issued.expires_at
                            if issued is not None else context.now + ACTIVATION_LIVES)


async def redeem_member_access(info: Info[GatewayContext, None],
                               input: RedeemMemberAccessInput) -> RedeemMemberAccessResult:
    """Open to a caller without a token: the code is the credential. Every code that cannot
    be redeemed gets the same answer; a redemption is never replayed from the log (a fresh
    command each time), so a code seen after its use opens nothing. Tries are limited per
    client address and per replica (``attempts``)."""
    context = info.context
    if not attempts_of(context.views).allow(_address(context)):
        return problem("TooManyAttempts", "too many activation codes were tried from here in "
                       "the last minute: wait a minute and try again")
    node_key = config.node_key(context.node)
    digest = codes.digest(input.code, node_key)
    issued = context.views.get("activation_codes", digest) if digest is not None else None
    if issued is None:
        return problem("ActivationInvalid", INVALID)
    outcome = await send_command(context, m.RedeemMemberAccess(
        member_id=issued.member_id, access_id=issued.access_id, code_digest=digest),
        issued.member_id, new_id(), actor="member")
    if not hasattr(outcome, "events"):
        return outcome if outcome.code == "Unavailable" else problem("ActivationInvalid",
                                                                     INVALID)
    return her_token(context.node, issued.member_id, issued.access_id)


def _address(context: GatewayContext) -> str:
    """The client's address as uvicorn gives it (behind a proxy: the one it trusts)."""
    client = getattr(context.request, "client", None)
    return client.host if client is not None and client.host else "unknown"


def her_token(node: str, member_id: str, access_id: str,
              now: dt.datetime | None = None) -> MemberToken:
    """A member token for her access, valid ``TOKEN_LIVES`` from now."""
    now = now or dt.datetime.now(dt.UTC)
    return MemberToken(token=issue_token(node, Role.MEMBER, subject=member_id,
                                         access_id=access_id, ttl=TOKEN_LIVES, now=now),
                       member_id=member_id, expires_at=now + TOKEN_LIVES)
