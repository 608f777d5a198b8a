"""``importRecord`` (home): verify a record from another node, check it was shared with this
cooperative (or node) with her consent to join it, then send ``ImportRecord`` (the same
global member id, her identity sealed here with her data key) and ``StartMembership`` at
the home cooperative.

Writes ``{node}.membership.commands`` (through ``gateway.commands``) and, sealing her
details, ``{node}.datakeys``.
"""

from __future__ import annotations

import hashlib
import typing
import uuid

import msgspec
from strawberry.types import Info

from gateway.access import authorized
from gateway.commands import command_id_for, send_command
from gateway.context import GatewayContext
from gateway.documents import MemberRecord
from gateway.inputs import InputError, money_from_input
from gateway.records import credentials as vc
from gateway.records.status_lists import verify
from gateway.records.subject import identity_of, imported_history, lets_join_here, shared_with_here
from gateway.records.types import (
    ImportRecordInput,
    ImportRecordResult,
    RecordImportedHere,
    RecordNotVerified,
    checks_of,
)
from gateway.results import NotAuthorized, ValidationError, problem
from schemas import membership as m
from schemas.fields import NOT_COME_YET, latest_day
from services.runtime.datakeys import MemberErased as KeysMemberErased
from services.runtime.keys import b64url


async def import_record(info: Info[GatewayContext, None], input: ImportRecordInput,
                        idempotency_key: typing.Optional[str] = None) -> ImportRecordResult:
    context = info.context
    cooperative = context.views.get("cooperatives", str(input.cooperative_id))
    if not authorized(m.ImportRecord, {"importing": str(input.cooperative_id)}, context):
        return NotAuthorized(code="NotAuthorized",
                             message="a cooperative's staff import records into it")
    if cooperative is None or not cooperative.registered or cooperative.node != context.node:
        return problem("UnknownCooperative", "no cooperative of this node has this id")
    try:
        share_capital = money_from_input(input.share_capital_required,
                                         "input.shareCapitalRequired")
    except InputError as invalid:
        return ValidationError(code="ValidationError", message=str(invalid),
                               field=invalid.field)
    role = m.MembershipRole(input.role.value)
    if input.started_on > latest_day(context.now):  # before anything is imported
        return ValidationError(code="ValidationError", field="input.startedOn",
                               message=f"startedOn: {NOT_COME_YET}")
    if share_capital["currency"] != cooperative.currency:
        return problem("CurrencyMismatch", "the share capital is in the cooperative's currency")
    result = await verify(context, input.credential[:512 * 1024])
    if not result.valid:
        failed = "; ".join(f"{k}: {v}" for k, v in result.checks.items() if v)
        return RecordNotVerified(code="RecordNotVerified", checks=checks_of(result),
                                 message=f"the record did not pass verification ({failed})")
    claims = result.credential
    issuer = vc.issuer_of(claims) or ""
    subject = claims.get("credentialSubject")
    subject = subject if isinstance(subject, dict) else {}
    shared = subject.get("sharedWith") if isinstance(subject.get("sharedWith"), dict) else {}
    if vc.RECORD_TYPE not in vc.listed(claims.get("type")) or not shared_with_here(
            shared, cooperative.cooperative_id, context.node):
        return NotAuthorized(code="NotAuthorized",
                             message="this record was shared with another recipient")
    if issuer == vc.node_issuer(context.node):
        return NotAuthorized(code="NotAuthorized", message="a record comes home from another "
                             "node; this node's own members join with startMembership")
    if "membership" not in vc.listed(subject.get("scopes")):
        return NotAuthorized(code="NotAuthorized", message="her consent does not cover her "
                             "memberships, so it does not let her join here")
    if not lets_join_here(shared, cooperative.cooperative_id):
        return NotAuthorized(code="NotAuthorized", message="her consent shares her record "
                             "with this cooperative but does not let it admit her: with her "
                             "consent to join it (join: true), the record is exported again")
    valid_from = vc.date_of(claims.get("validFrom"))
    if valid_from is not None and input.started_on < valid_from.date():
        return ValidationError(code="ValidationError", field="input.startedOn",
                               message="a membership starts no earlier than the record that "
                                       "carries her consent to it")
    if role is m.MembershipRole.BOARD_MEMBER:
        return ValidationError(code="ValidationError", field="input.role",
                               message="a record admits her as a member; the board is elected")
    member_id = str(subject.get("memberId", ""))
    try:
        history = imported_history(subject)
        uuid.UUID(member_id)
    except ValueError as bad:
        return ValidationError(code="ValidationError", field="input.credential",
                               message=str(bad))
    known = context.views.get("members", member_id)
    identity = identity_of(subject)
    joining = {"member_id": member_id, "cooperative_id": cooperative.cooperative_id}
    if known is not None and known.registered:  # (a retry meets her known by its import)
        refused = await _known_here(context, known, identity, cooperative.cooperative_id)
        if refused is not None:
            return refused
    personal = None
    if identity is not None and (known is None or known.personal is None):
        try:  # her details at this node win over what a record says
            personal = await context.keys.seal(member_id, msgspec.json.encode(identity))
        except KeysMemberErased:
            return problem("MemberErased", "this member was erased")
    base_id = command_id_for(context, idempotency_key) or str(
        uuid.uuid5(uuid.UUID(int=0), f"{context.node}|{claims.get('id')}|"
                                     f"{cooperative.cooperative_id}"))
    imported = m.ImportRecord(
        member_id=member_id, credential_id=vc.id_of(claims.get("id")) or base_id,
        issuer_node=issuer.removeprefix("urn:coopbridge:node:"),
        issued_at=vc.date_of(claims.get("validFrom")) or context.now,
        digest=b64url(hashlib.sha256(input.credential.encode()).digest()), history=history,
        personal=personal)
    outcome = await send_command(context, imported, member_id,
                                 str(uuid.uuid5(uuid.UUID(base_id), "import")))
    code = getattr(outcome, "code", "")
    if code == "IdempotencyKeyExpired" and _imported(known, imported.credential_id):
        code = "RecordAlreadyImported"  # a retry over a week late, of an import that was
    if not hasattr(outcome, "events") and code != "RecordAlreadyImported":
        return outcome
    joined = await send_command(context, m.StartMembership(
        **joining, role=role, started_on=input.started_on,
        share_capital_required=m.Money(**share_capital)),
        member_id, str(uuid.uuid5(uuid.UUID(base_id), "membership")))
    started = hasattr(joined, "events")
    code = getattr(joined, "code", "")
    if code == "IdempotencyKeyExpired" and _member_of(context.views.get("members", member_id),
                                                      cooperative.cooperative_id):
        code = "AlreadyAMember"  # the same, of a membership that began
    if not started and code != "AlreadyAMember":
        return joined
    return RecordImportedHere(member_id=member_id, credential_id=imported.credential_id,
                              membership_started=started,
                              visible=bool(getattr(joined, "visible", True)))


def _imported(known: MemberRecord | None, credential_id: str) -> bool:
    return known is not None and any(i.credential_id == credential_id for i in known.imports)


def _member_of(known: MemberRecord | None, cooperative_id: str) -> bool:
    return known is not None and any(
        s.cooperative_id == cooperative_id and s.ended_on is None for s in known.memberships)


async def _known_here(context: GatewayContext, known: MemberRecord,
                      identity: m.PersonalDetails | None, cooperative_id: str):
    """Why a record cannot come home to a member this node knows already, if it cannot: the
    record's identity not the member known here (names, date of birth, nationality), or her
    global id registered here by another cooperative that never admitted her. Either way
    someone may have taken the id printed on her record: the node's operator looks into it,
    and nothing is recorded. (Joining is her record's own consent to this cooperative.)"""
    if identity is not None and known.personal is not None:
        plaintext = await context.keys.open(known.member_id, known.personal)
        here = msgspec.json.decode(plaintext, type=m.PersonalDetails) if plaintext else None
        if here is not None and _who(here) != _who(identity):
            return problem("IdentityMismatch", "the record names another person than the "
                           "member this node knows under this id")
    if not known.memberships and known.registered_by not in (None, cooperative_id):
        return problem("MemberIdInUse", "another cooperative registered this member id here "
                       "and never admitted her: the node's operator must look into it before "
                       "her record is imported")
    return None


def _who(details: m.PersonalDetails) -> tuple:
    """What says two sets of details are the same person's (spelling of spaces and case
    aside)."""
    def plain(text: str) -> str:
        return " ".join(text.casefold().split())
    return (plain(details.given_names), plain(details.family_names), details.date_of_birth,
            details.nationality)
