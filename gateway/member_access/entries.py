"""Her access entries (issue 23): every read of her record by a cooperative under her consent
is recorded before it is answered, and she sees who read what, and when.

The gateway sends ``RecordConsentUse`` to the membership service, which decides it on her
own aggregate: each consent must be live at that moment, so a consent revoked a moment ago
cannot be read under. If the service refuses, the read is denied like any other (null); if
it cannot be recorded now (no reply, brokers down), the read fails closed with an error
``UNAVAILABLE``: no data under her consent leaves the gateway unrecorded. Within one request
a read of her record is recorded once, however many fields or aliases ask for it.

Writes ``{node}.membership.commands`` (through ``gateway.commands``).
"""

from __future__ import annotations

import asyncio
import typing

from graphql import GraphQLError
from strawberry.types import Info

from gateway.auth import Caller
from gateway.commands import actor_of, send_command
from gateway.context import GatewayContext
from schemas import membership as m
from services.runtime.ids import new_id

if typing.TYPE_CHECKING:
    from gateway.members.member import Member

#: The most consents one entry names (the contract's limit); four scopes need four at most.
MOST_CONSENTS = 20
#: What a read that cannot be recorded now answers.
NOT_RECORDED = ("her record is read under her consent only once the read is recorded, and it "
                "cannot be recorded now; ask again later")


async def recorded(info: Info[GatewayContext, None], member: Member | None,
                   read: m.ReadKind, caller: Caller | None = None,
                   once: bool = True) -> Member | None:
    """``member`` once the read is recorded, if the caller reads her under her consent; None
    if the service refused (her consent ended in between); raises ``UNAVAILABLE`` if it could
    not be recorded. Her own cooperatives' reads (``read_under`` empty) pass as they are.
    ``caller``: a socket's (``context.caller_of``), else the request's. ``once``: one entry
    per request (a subscription records for itself: a socket's context lives as long as
    the socket)."""
    if member is None or not member.read_under:
        return member
    context = info.context
    caller = caller or context.caller
    if once:
        key = (member.member_id, read)
        pending = context.consent_uses.get(key)
        if pending is None:
            pending = context.consent_uses[key] = asyncio.ensure_future(_record(
                context, caller, member, read))
        outcome = await asyncio.shield(pending)
    else:
        outcome = await _record(context, caller, member, read)
    if hasattr(outcome, "events"):
        return member
    if outcome.code == "Unavailable":  # no answer now: not recorded, so not answered
        raise GraphQLError(NOT_RECORDED, extensions={"code": "UNAVAILABLE"})
    return None  # refused (her consent ended meanwhile): denied like any read


async def _record(context: GatewayContext, caller: Caller, member: Member, read: m.ReadKind):
    return await send_command(context, m.RecordConsentUse(
        member_id=member.member_id, consent_ids=_covering(member), reader=caller.cooperative_id,
        scopes=sorted(member.scopes), read=read), member.member_id, new_id(),
        actor=actor_of(caller))


def _covering(member: Member) -> list[str]:
    """Her consents the read is under: few enough for the contract (up to 20), every scope
    the caller sees covered, the longest-lived first."""
    by_id = {c.consent_id: c for c in member.record.consents}
    chosen, covered = [], set()
    for consent_id in sorted(member.read_under,
                             key=lambda c: by_id[c].expires_at, reverse=True):
        if not set(by_id[consent_id].scopes) <= covered or not chosen:
            chosen.append(consent_id)
            covered |= set(by_id[consent_id].scopes)
        if covered >= member.scopes:
            break
    return chosen[:MOST_CONSENTS]
