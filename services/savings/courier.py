"""The courier: carries every remittance and closing transfer to its beneficiary, then
settles it on the sender's account, exactly once.

Its to-do list is the state itself: each account's ``pending`` remittances, which the
command processor shows it after every batch and every rebuild. For each one it sends

1. ``ReceiveRemittance`` to the beneficiary's account (command id
   ``<sender account>/<remittance>/deliver``), or pays it out through the ``PayoutAgent``;
2. then ``ConfirmRemittanceDelivered`` or ``RefundRemittance`` to the sender's account, both
   under the one command id ``<sender account>/<remittance>/settle``.

(Remittance ids are the sender's choice, so they are unique per sending account only.)

Because the ids are fixed, a courier that dies anywhere in between (or two couriers during a
rebalance) repeats the steps and gets the logged answers back: the beneficiary is credited
once, and the sender is settled once, delivered or refunded, never both. A log remembers an
outcome a week (``services.runtime.log.OUTCOMES_KEPT``), and the courier stamps each attempt
with the current time: a delivery repeated after its outcome is forgotten is decided again,
and the beneficiary's account, which keeps every remittance it received, answers
``DuplicateRemittance``: that too means delivered, never refunded.

Reads ``{node}.replies``; writes ``{node}.savings.commands``.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Protocol

from schemas import savings as s
from services.runtime.aggregate import Stream
from services.runtime.client import CommandClient
from services.runtime.errands import Errands

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PayoutResult:
    paid: bool
    reason: str = ""


class PayoutAgent(Protocol):
    async def pay(self, remittance_id: str, payout: s.Payout, amount) -> PayoutResult: ...


class InstantPayout:
    """The default payout partner: pays every payout at once (a stand-in for a real agent
    network, which would answer asynchronously)."""

    async def pay(self, remittance_id: str, payout: s.Payout, amount) -> PayoutResult:
        return PayoutResult(True)


class Courier(Errands):
    """Delivers and settles pending remittances; ``observe`` is the processor's observer."""

    name = "courier"

    def __init__(self, client: CommandClient, payouts: PayoutAgent | None = None,
                 retry_every: float = 5.0):
        super().__init__(client, retry_every)
        self.payouts = payouts or InstantPayout()
        self._pending: dict[tuple[str, str], object] = {}  # (account, remittance) -> Pending

    def observe(self, streams: list[Stream]) -> None:
        for stream in streams:
            account_id, state = stream.aggregate_id, stream.state
            for key in [k for k in self._pending if k[0] == account_id
                        and k[1] not in state.pending]:
                del self._pending[key]  # settled
            for remittance_id, pending in state.pending.items():
                self._pending[(account_id, remittance_id)] = pending
                self._dispatch((account_id, remittance_id))

    def _dispatch(self, key: tuple[str, str]) -> None:
        if key in self._running or key not in self._pending:
            return
        self._run(key, self._carry(*key, self._pending[key]), key[1])

    async def _carry(self, account_id: str, remittance_id: str, pending) -> None:
        ids = f"{account_id}/{remittance_id}"
        try:
            match pending.to:
                case s.Beneficiary(account_id=target):
                    reply = await self.client.send(
                        s.ReceiveRemittance(account_id=target, remittance_id=remittance_id,
                                            from_account_id=account_id, amount=pending.received),
                        target, command_id=f"{ids}/deliver")
                    delivered = reply.accepted or reply.code == "DuplicateRemittance"
                    reason = reply.code or ""
                case s.Payout() as payout:
                    result = await self.payouts.pay(remittance_id, payout, pending.received)
                    delivered, reason = result.paid, result.reason
            settle = (s.ConfirmRemittanceDelivered(account_id=account_id,
                                                   remittance_id=remittance_id)
                      if delivered else
                      s.RefundRemittance(account_id=account_id, remittance_id=remittance_id,
                                         reason=f"not delivered: {reason or 'refused'}"))
            await self.client.send(settle, account_id, command_id=f"{ids}/settle")
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - the sweep tries again; nothing is lost
            log.warning("courier: remittance %s not carried yet: %s", remittance_id,
                        type(exc).__name__)

    async def _sweep(self) -> None:
        while True:
            await asyncio.sleep(self.retry_every)
            for key in list(self._pending):
                self._dispatch(key)
