"""The payer: at the insurer's node, releases each payment of an approved claim once it is
due, credits it to its payee's savings account and settles it on the policy, exactly once;
and records a policy's lapse once a premium is unpaid past its grace period.

Its to-do list is the state itself: each policy's approved schedule and what was released,
credited or returned, which the command processor shows it after every batch and every
rebuild, and the clock (the processor's: what is due is due by the clock the service decides
by). For each payment due it sends, one after the other:

1. ``ReleasePayment`` (command id ``<policy>/payment/<n>/release/<day>``);
2. ``ReceiveBenefit`` to the payee's savings account (``<policy>/payment/<n>/credit``);
3. ``ConfirmPayment``, or ``ReturnPayment`` if the account refused it for good (closed,
   unknown, another product or currency), both under ``<policy>/payment/<n>/settle``.

A payer killed anywhere in between (or two during a rebalance) repeats the steps and gets
the logged answers back (a release another day goes under a new id, which the policy
answers ``PaymentAlreadyReleased``); the account keeps every payment it was credited, so a
credit repeated after its log forgot it is answered ``BenefitAlreadyReceived``, read as
credited, never returned. The day in the release's id keeps a refusal that depends on the
clock (``PaymentNotDue`` from an instance whose clock lagged) from being its logged answer
for a week; the credit's id has none, so the account's first answer is the only one (a
refusal for good is returned once; a payment is never both credited and returned). A
refusal not for good is tried again, never returned. A lapse is sent as ``LapsePolicy``
under ``<policy>/lapse/<period>/<day>``.

Reads ``{node}.replies``; writes ``{node}.insurance.commands`` and
``{node}.savings.commands``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable

from schemas import insurance as i
from schemas import savings as s
from services.insurance.domain import Policy
from services.runtime.aggregate import Stream
from services.runtime.client import CommandClient
from services.runtime.errands import ClockedErrands

log = logging.getLogger(__name__)

#: What an account answers that means it will never take the payment: the payment goes back
#: to the insurer (any other refusal, a service's bug or a clock out of step, is tried again).
REFUSED_FOR_GOOD = frozenset({"UnknownAccount", "AccountClosed", "WrongProduct",
                              "CurrencyMismatch"})


def next_day(state: Policy) -> dt.date | None:
    """The first day the payer has something to do for this policy (None: nothing ever)."""
    if state.issued is None:
        return None
    if state.approved is not None:
        settled = state.credited | state.returned
        open_ = [p for p in state.payments() if p.number not in settled]
        if any(p.number in state.released for p in open_):
            return dt.date.min  # released, not settled: now
        return min((p.due_on for p in open_), default=None)
    if state.claim is not None or state.lapsed is not None:
        return None  # a claim judges the premiums; a lapse is recorded once
    first = len(state.paid_at) + 1
    return state.lapses_on(first) if first <= state.periods else None


class Payer(ClockedErrands):
    """Pays approved claims and records lapses; ``observe`` is the processor's observer."""

    name = "payer"

    def __init__(self, client: CommandClient, clock: Callable[[], dt.datetime],
                 retry_every: float = 5.0):
        super().__init__(client, clock, retry_every)
        self._todo: dict[str, tuple[Policy, dt.date]] = {}  # policy id -> (state, from day)

    def observe(self, streams: list[Stream]) -> None:
        for stream in streams:
            if not isinstance(stream.state, Policy):
                continue  # a product
            day = next_day(stream.state)
            if day is None:
                self._todo.pop(stream.aggregate_id, None)
                continue
            self._todo[stream.aggregate_id] = (stream.state, day)
            self._dispatch(stream.aggregate_id)

    def _dispatch(self, policy_id: str) -> None:
        if policy_id in self._running or policy_id not in self._todo:
            return
        state, day = self._todo[policy_id]
        if day > self.clock().date():
            return
        self._run(policy_id, self._work(policy_id, state), policy_id)

    async def _work(self, policy_id: str, state: Policy) -> None:
        try:
            if state.approved is not None:
                await self._pay(policy_id, state)
            elif state.claim is None and state.lapsed is None:
                period = len(state.paid_at) + 1
                await self.client.send(i.LapsePolicy(policy_id=policy_id), policy_id,
                                       command_id=f"{policy_id}/lapse/{period}/"
                                                  f"{self.clock().date()}")
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - the sweep tries again; nothing is lost
            log.warning("payer: policy %s not done yet: %s", policy_id, type(exc).__name__)

    async def _pay(self, policy_id: str, state: Policy) -> None:
        today = self.clock().date()
        settled = state.credited | state.returned
        for payment in state.payments():
            number = payment.number
            if number in settled or (number not in state.released and payment.due_on > today):
                continue
            ids = f"{policy_id}/payment/{number}"
            if number not in state.released:
                reply = await self.client.send(
                    i.ReleasePayment(policy_id=policy_id, number=number), policy_id,
                    command_id=f"{ids}/release/{today}")
                if not (reply.accepted or reply.code == "PaymentAlreadyReleased"):
                    log.warning("payer: payment %s of %s not released: %s", number, policy_id,
                                reply.code)
                    return  # the sweep tries again (a clock the service does not share yet)
            reply = await self.client.send(
                s.ReceiveBenefit(account_id=payment.account_id, policy_id=policy_id,
                                 number=number, amount=payment.amount),
                payment.account_id, command_id=f"{ids}/credit")
            if reply.accepted or reply.code == "BenefitAlreadyReceived":
                settle = i.ConfirmPayment(policy_id=policy_id, number=number)
            elif reply.code in REFUSED_FOR_GOOD:
                settle = i.ReturnPayment(policy_id=policy_id, number=number, reason=reply.code)
            else:
                log.warning("payer: payment %s of %s not credited yet: %s", number, policy_id,
                            reply.code)
                return  # the sweep tries again
            await self.client.send(settle, policy_id, command_id=f"{ids}/settle")
