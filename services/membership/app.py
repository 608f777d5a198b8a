"""The membership service wired to Kafka: its deciders, the checks that need I/O, the effects.

* check: a ``RegisterMember`` / ``CorrectMemberDetails`` seal (and an ``ImportRecord``'s, when
  the record carried her identity) must open with the member's data key and hold valid
  ``PersonalDetails``, born on a day that has come (the service never stores the plaintext);
* effect: before ``MemberErased`` is appended, the member's data keys are destroyed, so that
  a redelivered erasure finds the keys gone or destroys them again (idempotent).
"""

from __future__ import annotations

import datetime as dt

import msgspec

from schemas import membership as m
from schemas.fields import NOT_COME_YET, days_ahead
from services.membership.domain import MEMBERSHIP
from services.runtime.aggregate import Rejected
from services.runtime.core import Hooks
from services.runtime.datakeys import DataKeys, SealBroken
from services.runtime.processor import CommandProcessor


def membership_hooks(keys: DataKeys) -> Hooks:
    """The checks and effects of the membership service, using ``keys`` for personal data."""

    async def personal_details_open(command: m.RegisterMember | m.CorrectMemberDetails
                                    | m.ImportRecord) -> None:
        if command.personal is None:  # an imported record without her identity
            return
        try:
            plaintext = await keys.open(command.member_id, command.personal)
        except SealBroken as broken:
            raise Rejected("InvalidPersonalDetails", str(broken)) from None
        if plaintext is None:
            raise Rejected("InvalidPersonalDetails", "no data key of this member sealed it")
        try:
            details = msgspec.json.decode(plaintext, type=m.PersonalDetails)
        except msgspec.ValidationError as invalid:
            # the detail names the field, never its value (msgspec quotes only enum values)
            message = str(invalid).split(" - at ")[-1]
            raise Rejected("InvalidPersonalDetails", f"invalid personal details at {message}") from None
        ahead = days_ahead(details, dt.datetime.now(dt.UTC))
        if ahead:
            raise Rejected("InvalidPersonalDetails", f"{ahead[0]}: {NOT_COME_YET}")

    async def destroy_keys(event: m.MemberErased) -> None:
        await keys.destroy(event.member_id)

    return Hooks(
        checks={m.RegisterMember: personal_details_open,
                m.CorrectMemberDetails: personal_details_open,
                m.ImportRecord: personal_details_open},
        effects={m.MemberErased: destroy_keys},
    )


def membership_processor(node: str, bootstrap: str | None, keys: DataKeys) -> CommandProcessor:
    """The membership service's command processor, using ``keys`` for personal data."""
    return CommandProcessor(MEMBERSHIP, node, bootstrap, hooks=membership_hooks(keys))
