"""The placer: carries a placement's steps from one aggregate to the next, exactly once.

Its to-do list is the state itself, which the command processor shows it after every batch
and every rebuild:

* her **calendar** booked a job she accepted and the job order has not confirmed it yet:
  ``ConfirmPlacement`` (command id ``<job>/<member>/<accepted at>/confirm``); confirmed (or
  ``AlreadyConfirmed``) it is recorded on her calendar (``RecordConfirmation``, ``…/record``);
  refused for good (the job order withdrawn, her offer declined or lapsed, another's
  placement) her shifts are freed (``ReleaseBooking``, ``…/release``);
* a **job order** settled wages not yet credited to her: ``ReceiveWage`` to the account
  the settlement goes to (``JobOrder.targets``: the one she had when it was settled), under
  ``<job>/<settlement>/<account>/credit``, then ``ConfirmWagePaid``, or
  ``ReturnWagePayment`` if the account refused it for good (both ``…/settle``): the money
  is then held until her cooperative names another account of hers (``RedirectWages``),
  which is credited under its own ids. A settlement goes to one account at a time, so a
  redirection while a credit is on its way never credits it twice.

A placer killed anywhere in between (or two during a rebalance) repeats the steps and gets
the logged answers back; an account keeps every settlement it was credited, so a credit
repeated after its log forgot it is answered ``WageAlreadyReceived``, read as credited.

Reads ``{node}.replies``; writes ``{node}.placement.commands`` and
``{node}.savings.commands``.
"""

from __future__ import annotations

import asyncio
import logging

from schemas import placement as p
from schemas import savings as s
from services.placement.domain import Calendar, JobOrder
from services.runtime.aggregate import Stream
from services.runtime.client import CommandClient
from services.runtime.errands import Errands

log = logging.getLogger(__name__)

#: What the job order answers that means her booking will never be confirmed.
NEVER_CONFIRMED = frozenset({"NoOffer", "OfferExpired", "JobOrderClosed", "JobOrderFilled",
                             "UnknownJobOrder"})
#: What an account answers that means it will never take the wage.
REFUSED_FOR_GOOD = frozenset({"UnknownAccount", "AccountClosed", "WrongProduct",
                              "CurrencyMismatch", "WrongBeneficiary"})


def calendar_todo(state: Calendar) -> list[str]:
    """The job orders her calendar booked and no confirmation was recorded for."""
    return [job for job, booking in state.bookings.items() if not booking.confirmed]


def wages_todo(state: JobOrder) -> list[tuple[p.WagesSettled, str]]:
    """The settlements to credit now, each with the account it goes to (``JobOrder.targets``:
    one at a time, never two): not credited, and not refused by that account."""
    return [(x, state.targets[x.settlement_id]) for x in state.unpaid()
            if state.returned.get(x.settlement_id) != state.targets[x.settlement_id]]


class Placer(Errands):
    """``observe`` is the processor's observer."""

    name = "placer"

    def __init__(self, client: CommandClient, retry_every: float = 5.0):
        super().__init__(client, retry_every)
        self._todo: dict[tuple[str, str], object] = {}  # (aggregate, id) -> state

    def observe(self, streams: list[Stream]) -> None:
        for stream in streams:
            state = stream.state
            due = (calendar_todo(state) if isinstance(state, Calendar) else
                   wages_todo(state) if isinstance(state, JobOrder) else [])
            key = (stream.aggregate.name, stream.aggregate_id)
            if not due:
                self._todo.pop(key, None)
                continue
            self._todo[key] = state
            self._dispatch(key)

    def _dispatch(self, key: tuple[str, str]) -> None:
        if key in self._running or key not in self._todo:
            return
        state = self._todo[key]
        work = (self._confirm(key[1], state) if isinstance(state, Calendar)
                else self._pay(key[1], state))
        self._run(key, work, key[1])

    async def _sweep(self) -> None:
        while True:
            await asyncio.sleep(self.retry_every)
            for key in list(self._todo):
                self._dispatch(key)

    async def _confirm(self, member_id: str, state: Calendar) -> None:
        try:
            for job in calendar_todo(state):
                booking = state.bookings[job]
                ids = f"{job}/{member_id}/{booking.accepted_at.isoformat()}"
                reply = await self.client.send(
                    p.ConfirmPlacement(job_order_id=job, member_id=member_id,
                                       account_id=booking.account_id,
                                       accepted_at=booking.accepted_at),
                    job, command_id=f"{ids}/confirm")
                if reply.accepted or reply.code == "AlreadyConfirmed":
                    step = p.RecordConfirmation(member_id=member_id, job_order_id=job,
                                                accepted_at=booking.accepted_at)
                    suffix = "record"
                elif reply.code in NEVER_CONFIRMED:
                    step = p.ReleaseBooking(member_id=member_id, job_order_id=job,
                                            accepted_at=booking.accepted_at, code=reply.code)
                    suffix = "release"
                else:
                    log.warning("placer: a booking is not confirmed yet: %s", reply.code)
                    continue  # the sweep tries again
                await self.client.send(step, member_id, command_id=f"{ids}/{suffix}")
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - the sweep tries again; nothing is lost
            log.warning("placer: a booking not done yet: %s", type(exc).__name__)

    async def _pay(self, job: str, state: JobOrder) -> None:
        try:
            placement = state.placement
            for settled, account in wages_todo(state):
                ids = f"{job}/{settled.settlement_id}/{account}"
                reply = await self.client.send(
                    s.ReceiveWage(account_id=account, member_id=placement.member_id,
                                  job_order_id=job, settlement_id=settled.settlement_id,
                                  amount=settled.wage),
                    account, command_id=f"{ids}/credit")
                if reply.accepted or reply.code == "WageAlreadyReceived":
                    step = p.ConfirmWagePaid(job_order_id=job,
                                             settlement_id=settled.settlement_id,
                                             account_id=account)
                elif reply.code in REFUSED_FOR_GOOD:
                    step = p.ReturnWagePayment(job_order_id=job,
                                               settlement_id=settled.settlement_id,
                                               account_id=account, reason=reply.code)
                else:
                    log.warning("placer: a wage is not credited yet: %s", reply.code)
                    continue
                await self.client.send(step, job, command_id=f"{ids}/settle")
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - the sweep tries again; nothing is lost
            log.warning("placer: a wage not credited yet: %s", type(exc).__name__)
