"""``exportRecord`` (host): the member's cooperative issues her record to a recipient she
consented to. The membership service decides (consent, scopes, how long) and logs
``RecordExported``; only then is the credential built from the gateway's views, for the
consented scopes only, and signed with the node key. Her certificates come with it, each an
Open Badges 3.0 credential of its own. Each credential's status entry points at a status
list this gateway serves (``/credentials/status/{list}``), signed too.

Writes ``{node}.membership.commands`` (``ExportRecord``, through ``gateway.commands``).
"""

from __future__ import annotations

import datetime as dt
import typing
import uuid

import msgspec
from strawberry.types import Info

from gateway.access import SCOPE_ORDER, SCOPES, authorized
from gateway.commands import command_id_for, send_command
from gateway.context import GatewayContext
from gateway.documents import ExportDoc, MemberRecord
from gateway.records import credentials as vc
from gateway.records import words
from gateway.records.documents import status_list_id
from gateway.records.languages import NotLanguages, record_languages, translated
from gateway.records.signing import sign
from gateway.records.status_lists import status_list_url
from gateway.records.subject import (
    MEMBER_URN,
    certificate_achievement,
    recipient,
    record_subject,
)
from gateway.records.types import (
    MAX_DAYS,
    ExportedRecord,
    ExportRecordInput,
    ExportRecordResult,
)
from gateway.results import NotAuthorized, Unavailable, ValidationError, problem
from schemas import membership as m
from services import config
from services.runtime.ids import new_id


async def export_record(info: Info[GatewayContext, None], input: ExportRecordInput,
                        idempotency_key: typing.Optional[str] = None) -> ExportRecordResult:
    context = info.context
    record = context.views.get("members", str(input.member_id))
    if record is None or not record.registered or not authorized(
            m.ExportRecord, {"member_id": str(input.member_id)}, context):
        return NotAuthorized(code="NotAuthorized",
                             message="only the member's own cooperative exports her record")
    if record.erased:
        return problem("MemberErased", "this member was erased")
    if input.recipient.cooperative:
        kind, grantee = m.GranteeKind.COOPERATIVE, str(input.recipient.cooperative)
    elif input.recipient.node:
        kind, grantee = m.GranteeKind.NODE, str(input.recipient.node)
    else:
        return ValidationError(code="ValidationError", field="input.recipient",
                               message="name a cooperative or a node")
    if not 1 <= input.valid_days <= MAX_DAYS:
        return ValidationError(code="ValidationError", field="input.validDays",
                               message=f"a record is valid 1 to {MAX_DAYS} days")
    try:
        languages = record_languages(record, context.views, kind.value, grantee,
                                     input.languages)
    except NotLanguages as wrong:
        return ValidationError(code="ValidationError", field="input.languages",
                               message=str(wrong))
    # (as her consents name them, in any case: WORK or work)
    scopes = None if input.scopes is None else [scope.lower() for scope in input.scopes]
    if scopes is None:  # what the consent the service will choose grants: the one
        granted = [c for c in record.consents  # expiring last (ties: the larger id)
                   if not c.revoked and c.expires_at > context.now
                   and c.grantee_kind == kind.value and c.grantee == grantee]
        chosen = max(granted, key=lambda c: (c.expires_at, c.consent_id), default=None)
        scopes = sorted(chosen.scopes) if chosen else ["membership"]
    if not scopes or not set(scopes) <= SCOPES:
        return ValidationError(code="ValidationError", field="input.scopes",
                               message="scopes are " + ", ".join(SCOPE_ORDER))
    command_id = command_id_for(context, idempotency_key) or new_id()
    command = m.ExportRecord(
        member_id=record.member_id, credential_id=command_id, grantee_kind=kind,
        grantee=grantee, scopes=[m.ConsentScope(s) for s in sorted(set(scopes))],
        valid_until=context.now + dt.timedelta(days=input.valid_days))
    outcome = await send_command(context, command, record.member_id, command_id)
    if not hasattr(outcome, "events"):
        return outcome
    exported = next((e for e in record_after(context, record.member_id).exports
                     if e.credential_id == command_id), None)
    if exported is None:
        return Unavailable(code="Unavailable", message="the record is not visible yet; "
                           "send it again with the same idempotency key")
    return await _issue(context, record_after(context, record.member_id), exported, languages)


def record_after(context: GatewayContext, member_id: str) -> MemberRecord:
    return context.views.get("members", member_id)


async def _issue(context: GatewayContext, record: MemberRecord, exported: ExportDoc,
                 languages: list[str]) -> ExportedRecord:
    node = context.node
    identity = None
    if "identity" in exported.scopes and record.personal is not None:
        plaintext = await context.keys.open(record.member_id, record.personal)
        if plaintext is not None:
            identity = msgspec.json.decode(plaintext, type=m.PersonalDetails)
    shared_with = recipient(exported.grantee_kind, exported.grantee)
    if any(c.consent_id == exported.consent_id and c.join for c in record.consents):
        shared_with["join"] = True  # her consent lets the recipient admit her, once
    subject = record_subject(record, context.views, frozenset(exported.scopes), identity,
                             shared_with, languages)
    base = config.public_url()
    records_list = status_list_url(base, status_list_id(record.member_id))
    credential = sign(node, vc.member_record_credential(
        node=node, credential_id=exported.credential_id, subject=subject,
        valid_from=exported.valid_from, valid_until=exported.valid_until,
        status_list=records_list, status_index=exported.status_index,
        names=translated(words.EYEBROW, languages),
        descriptions=translated(words.RECORD_DESCRIPTION, languages)))
    certificates = []
    if "training" in exported.scopes:
        certificates_list = status_list_url(base, status_list_id(record.member_id,
                                                                    "certificates"))
        for index, c in enumerate(record.certificates):
            coop = context.views.get("cooperatives", c.cooperative_id)
            achievement, _ = certificate_achievement(c, f"{base}/courses/{c.course_id}",
                                                     languages)
            issued = dt.datetime.combine(c.issued_on or exported.valid_from.date(),
                                         dt.time(), dt.UTC)
            certificates.append(sign(node, vc.certificate_credential(
                node=node, issuer_name=coop.name if coop and coop.name else node,
                credential_id=str(uuid.uuid5(uuid.UUID(exported.credential_id),
                                             c.certificate_id)),
                subject_id=MEMBER_URN + record.member_id, achievement=achievement,
                level=c.level if c.language else None, valid_from=issued, valid_until=None,
                status_list=certificates_list, status_index=index)))
    return ExportedRecord(credential_id=exported.credential_id, credential=credential,
                          valid_until=exported.valid_until, certificates=certificates,
                          status_list=records_list)
