"""The records feature's queries: ``verifyRecord`` (anyone with a token: every check on its
own: format, trusted issuer, signature, validity dates, revocation, with the issuer's status
list fetched from the issuer's gateway as the trust list names it and verified with the
issuer's keys) and ``printableRecord`` (``gateway.records.printable``).
"""

from __future__ import annotations

import typing
from typing import Any

import strawberry
from strawberry.types import Info

from gateway.access import SignedIn
from gateway.context import GatewayContext
from gateway.records import credentials as vc
from gateway.records.printable import printable_record
from gateway.records.status_lists import verify
from gateway.records.types import RecordVerification, checks_of


async def verify_record(info: Info[GatewayContext, None],
                        credential: typing.Annotated[str, strawberry.argument(
                            description="a credential as a compact JWS (vc+jwt): a record "
                                        "or a certificate; only its first 524,288 "
                                        "characters are read")],
                        ) -> RecordVerification:
    context = info.context
    result = await verify(context, credential[:512 * 1024])
    claims = result.credential or {}
    subject = claims.get("credentialSubject")
    return RecordVerification(
        valid=result.valid, checks=checks_of(result), issuer=vc.issuer_of(claims),
        credential_id=vc.id_of(claims.get("id")), valid_from=_text(claims.get("validFrom")),
        valid_until=_text(claims.get("validUntil")),
        record=subject if isinstance(subject, dict) else None)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


#: The queries this feature adds to the schema.
QUERIES = {
    "verify_record": strawberry.field(
        verify_record, permission_classes=[SignedIn], description=(
            "Check a record: format, trusted issuer, signature, validity dates and "
            "revocation, each on its own; for any signed-in caller")),
    "printable_record": strawberry.field(
        printable_record, permission_classes=[SignedIn], description=(
            "A signed summary of a member's record for her printed copy, with its QR code "
            "(her own cooperatives and the node admin; else null)")),
}
