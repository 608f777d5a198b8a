"""The placement service wired to Kafka: its decider on the shared runtime, its placer
(``placer``), and the checks and effects that need data keys:

* check: an employer's details (``RegisterEmployer``) open with the employer's own data key
  (``employer_key_owner``) and a grievance (``FileGrievance``) with hers, each holding what
  its field says; the service never stores the plaintext;
* effect: before ``EmployerErased`` is appended, the employer's data keys are destroyed, so
  a redelivered erasure finds them gone or destroys them again (idempotent).
"""

from __future__ import annotations

from collections.abc import Callable

import msgspec

from schemas import placement as p
from schemas.fields import Sealed
from services.placement.domain import PLACEMENT
from services.placement.placer import Placer
from services.runtime.aggregate import Rejected, Stream
from services.runtime.client import CommandClient
from services.runtime.core import Hooks
from services.runtime.datakeys import DataKeys, SealBroken
from services.runtime.processor import CommandProcessor


def placement_hooks(keys: DataKeys) -> Hooks:
    """The checks and effects of the placement service, using ``keys``."""

    def opens(owner: Callable, kind: type) -> Callable:
        async def check(command) -> None:
            sealed: Sealed = getattr(command, "details", None) or command.grievance
            try:
                plaintext = await keys.open(owner(command), sealed)
            except SealBroken as broken:
                raise Rejected("InvalidSealedDetails", str(broken)) from None
            if plaintext is None:
                raise Rejected("InvalidSealedDetails", "no data key of its owner sealed it")
            try:
                msgspec.json.decode(plaintext, type=kind)
            except msgspec.ValidationError as invalid:
                where = str(invalid).split(" - at ")[-1]  # the field, never its value
                raise Rejected("InvalidSealedDetails", f"invalid sealed details at {where}") \
                    from None
        return check

    async def destroy_keys(event: p.EmployerErased) -> None:
        await keys.destroy(p.employer_key_owner(event.employer_id))

    return Hooks(
        checks={p.RegisterEmployer: opens(lambda c: p.employer_key_owner(c.employer_id),
                                          p.EmployerDetails),
                p.FileGrievance: opens(lambda c: c.member_id, p.Grievance)},
        effects={p.EmployerErased: destroy_keys},
    )


def placement_processor(node: str, bootstrap: str | None, keys: DataKeys, *,
                        placer: bool = True, retry_every: float = 5.0) -> CommandProcessor:
    """The placement service's command processor (``placer=False``: nothing is confirmed,
    released or credited but by hand, for fault tests)."""
    placing = Placer(CommandClient(node, bootstrap, source="placement-placer"),
                     retry_every=retry_every)

    def observe(streams: list[Stream]) -> None:
        placing.observe(streams)

    return CommandProcessor(PLACEMENT, node, bootstrap, hooks=placement_hooks(keys),
                            observer=observe if placer else None,
                            companions=[placing] if placer else [])
