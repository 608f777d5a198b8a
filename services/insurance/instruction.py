"""Her standing instruction: at her host node, pays each premium period of her policy from
her savings account when it falls due, in order, and records it on her cover.

Its to-do list is her cover's state (the policy's terms as the insurer issued them, the
periods paid so far, whether her death was notified), which the command processor shows it
after every batch and every rebuild, and the clock (the processor's). For the next period,
from the day it falls due to the last day of its grace, once a day until it is paid:

1. ``PayPremium`` to her savings account, under a premium id (and command id) of that day
   (``<cover>/premium/<period>/<day>``): the savings service takes the whole premium and its
   fee or nothing, and answers ``PremiumAlreadyPaid`` for a period paid or on its way (she
   paid the arrears herself, or an attempt of an earlier day is travelling);
2. ``RecordPremiumPaid`` on her cover (``<cover>/premium/<period>/record``), so the next
   period is the one paid next.

A premium her account cannot pay today (``InsufficientFunds``: the money came late) is tried
again the next day under a new id, until the grace period ends; after that the insurer's
node records the lapse and nothing is paid. An instruction killed anywhere in between
repeats the steps and gets the logged answers back. A premium the insurer refused comes
back whole to her account (the relay) and is not paid again by the instruction: it was
refused for a reason (lapsed, claimed, paid by another payment); she may pay it herself.

Reads ``{node}.replies``; writes ``{node}.savings.commands`` and
``{node}.insurance.commands``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable

from schemas import insurance as i
from schemas import savings as s
from services.insurance.domain import Cover
from services.runtime.aggregate import Stream
from services.runtime.client import CommandClient
from services.runtime.errands import ClockedErrands
from services.runtime.ids import derived_id

log = logging.getLogger(__name__)

#: What the savings service answers for a period paid or on its way: done.
ALREADY_PAID = "PremiumAlreadyPaid"
ALREADY_RECORDED = "PremiumAlreadyRecorded"


def premium_id(cover_id: str, period: int, day: dt.date) -> str:
    """The id of the attempt of ``day`` to pay ``period``: one per day, the same however
    often that day's attempt is repeated."""
    midnight = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
    return derived_id(f"{i.SERVICE}/cover/{cover_id}/premium/{period}/{day}", 0, midnight)


class StandingInstruction(ClockedErrands):
    """Pays her premiums as they fall due; ``observe`` is the processor's observer."""

    name = "instruction"

    def __init__(self, client: CommandClient, clock: Callable[[], dt.datetime],
                 retry_every: float = 5.0):
        super().__init__(client, clock, retry_every)
        self._todo: dict[str, Cover] = {}  # cover id -> its state, a premium ahead
        self._tried: dict[str, dt.date] = {}  # cover id -> the day its account could not pay

    def observe(self, streams: list[Stream]) -> None:
        for stream in streams:
            if not isinstance(stream.state, Cover):
                continue
            if stream.state.next_premium() is None:
                self._todo.pop(stream.aggregate_id, None)
                continue
            self._todo[stream.aggregate_id] = stream.state
            self._dispatch(stream.aggregate_id)

    def _dispatch(self, cover_id: str) -> None:
        if cover_id in self._running or cover_id not in self._todo:
            return
        state = self._todo[cover_id]
        period, due, last = state.next_premium()
        today = self.clock().date()
        if today > last:  # unpaid past its grace: the insurer's node records the lapse
            self._todo.pop(cover_id, None)
            return
        if today < due or self._tried.get(cover_id) == today:
            return
        self._run(cover_id, self._work(cover_id, state, period, today), cover_id)

    async def _work(self, cover_id: str, state: Cover, period: int, today: dt.date) -> None:
        applied, terms = state.applied, state.issued
        paid = premium_id(cover_id, period, today)
        try:
            reply = await self.client.send(s.PayPremium(
                account_id=applied.account_id, premium_id=paid, member_id=applied.member_id,
                policy_id=terms.policy_id, period=period, premium=terms.premium,
                to_node=applied.insurer_node), applied.account_id,
                command_id=f"{cover_id}/premium/{period}/{today}")
            if not (reply.accepted or reply.code == ALREADY_PAID):
                self._tried[cover_id] = today  # tomorrow, under a new id
                log.info("instruction: cover %s period %d not paid today: %s", cover_id,
                         period, reply.code)
                return
            reply = await self.client.send(
                i.RecordPremiumPaid(cover_id=cover_id, period=period,
                                    premium_id=paid if reply.accepted else None),
                cover_id, command_id=f"{cover_id}/premium/{period}/record")
            if not (reply.accepted or reply.code == ALREADY_RECORDED):
                log.warning("instruction: cover %s period %d not recorded: %s", cover_id,
                            period, reply.code)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - the sweep tries again; nothing is lost
            log.warning("instruction: cover %s not done yet: %s", cover_id,
                        type(exc).__name__)
