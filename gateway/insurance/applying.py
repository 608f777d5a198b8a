"""Her application for a policy over GraphQL (issue 25): what the gateway fills before it is
sent (``FILLS``, after the caller is authorized, before anything is sealed): her age at the
policy's start, from the date of birth her cooperative recorded (sealed with her data key,
opened here and never sent in the clear). The caller never says her age: nobody buys a
younger woman's premium."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable

import msgspec

from gateway.context import GatewayContext
from gateway.inputs import InputError
from schemas import insurance as i
from schemas import membership as m
from schemas.registry import Contract
from services.runtime.datakeys import MemberErased

#: What the gateway fills, asynchronously, of a command's plain input (``make_mutation``).
Fill = Callable[[dict, GatewayContext], Awaitable[dict]]


def age_on(born: dt.date, day: dt.date) -> int:
    """Her age in whole years on ``day``."""
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


async def with_her_age(data: dict, context: GatewayContext) -> dict:
    record = context.views.get("members", str(data.get("member_id", "")))
    if record is None or record.erased:
        raise MemberErased(str(data.get("member_id")))
    if record.personal is None:
        raise InputError("her date of birth is not recorded at this node", "input.memberId")
    plaintext = await context.keys.open(record.member_id, record.personal)
    if plaintext is None:  # her key is gone
        raise MemberErased(record.member_id)
    born = msgspec.json.decode(plaintext, type=m.PersonalDetails).date_of_birth
    starts_on = data.get("starts_on")
    if not isinstance(starts_on, dt.date):
        raise InputError("startsOn is a day (YYYY-MM-DD)", "input.startsOn")
    return {**data, "age": age_on(born, starts_on)}


FILLS: dict[type[Contract], Fill] = {i.ApplyForPolicy: with_her_age}
