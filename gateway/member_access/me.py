"""What a member does with her own token (issue 23): ``me`` (her whole record on this node,
her accesses, and who read her record under her consent), ``renewMemberToken`` and
``correctMyContact``. Everything else she may send for herself goes through the generated
mutations (``access.SELF_SERVICE``: her consents, her records, her accesses).

Writes ``{node}.membership.commands`` (``CorrectMemberDetails``, through ``gateway.commands``).
"""

from __future__ import annotations

import collections
import datetime as dt
import itertools
import logging
import typing

import msgspec
import strawberry
from kafka.errors import KafkaError
from strawberry.types import Info

from gateway.access import SignedIn
from gateway.auth import Caller, Role
from gateway.commands import command_id_for, send_command
from gateway.context import GatewayContext
from gateway.i18n.languages import preferences
from gateway.member_access.access import her_token
from gateway.member_access.page import MyPage, my_page
from gateway.records.sheet import preferred_languages
from gateway.member_access.types import MemberToken
from gateway.members.member import Member, visible_member
from gateway.paging import PageInfo, cursor, offset, page_size
from gateway.results import (
    PROBLEMS,
    MutationResult,
    NotAuthorized,
    Unavailable,
    ValidationError,
    problem,
)
from schemas import membership as m
from services.runtime.datakeys import KeysUnavailable

log = logging.getLogger(__name__)

#: How many of the latest reads under her consent her page shows.
LATEST_READINGS = 50
#: What a caller without her own member token hears from her own mutations.
NOT_HERS = "only the member herself, with her own member token (redeemMemberAccess)"


def _herself(context: GatewayContext) -> Caller | None:
    caller = context.caller
    return caller if caller is not None and caller.role is Role.MEMBER else None


@strawberry.type(description="One of her accesses with a member token (a phone, a browser)")
class MyAccess:
    access_id: strawberry.ID
    cooperative_id: strawberry.ID = strawberry.field(
        description="the cooperative that issued its activation code")
    issued_at: dt.datetime = strawberry.field(description="when its code was issued")
    granted_at: dt.datetime | None = strawberry.field(
        description="when she redeemed the code (null: not redeemed)")
    revoked: bool = strawberry.field(description="revoked: its tokens open nothing")
    current: bool = strawberry.field(description="the access of the token asking")


@strawberry.type(description="A cooperative read her record under her consent")
class AccessEntry:
    at: dt.datetime = strawberry.field(description="when (the service's time)")
    reader: strawberry.ID = strawberry.field(description="the cooperative that read")
    reader_name: str | None = strawberry.field(
        description="its name, if it is a cooperative of this node")
    read: str = strawberry.field(description="what it read: record, timeline or events (a "
                                             "subscription, once when it opened)")
    scopes: list[str] = strawberry.field(description="the parts of her record it could see")
    consent_ids: list[strawberry.ID] = strawberry.field(
        description="her consents it read under")


@strawberry.type(description="One access entry of a page, with its cursor")
class AccessEntryEdge:
    cursor: str
    node: AccessEntry


@strawberry.type(description="A page of her access entries, oldest first")
class AccessEntryConnection:
    edges: list[AccessEntryEdge]
    page_info: PageInfo


@strawberry.type(description="Her own view, with her own member token: her whole record on "
                             "this node, her accesses, and who read her record under her "
                             "consent")
class Me:
    member_id: strawberry.ID = strawberry.field(description="her global member id")
    record: Member = strawberry.field(description="her whole record on this node: every "
                                      "cooperative, every scope, her consents, her imported "
                                      "and exported records")
    access_id: strawberry.Private[str | None]

    @strawberry.field(description="her accesses with a member token, oldest first")
    def accesses(self) -> list[MyAccess]:
        return [MyAccess(access_id=a.access_id, cooperative_id=a.cooperative_id,
                         issued_at=a.issued_at, granted_at=a.granted_at, revoked=a.revoked,
                         current=a.access_id == self.access_id)
                for a in self.record.record.accesses]

    @strawberry.field(description="her page's words and lists (her consents, her shared "
                                  "records, the latest reads under her consent), worded and "
                                  "formatted for the first of the languages asked for there "
                                  "is a catalogue for (without lang: her own preferred "
                                  "languages, then the request's Accept-Language)")
    async def page(self, info: Info[GatewayContext, None], lang: typing.Annotated[
            typing.Optional[list[str]], strawberry.argument(
                description="BCP 47 tags, most wanted first")] = None) -> MyPage:
        request = info.context.request
        asked = preferences(None, lang) if lang else []
        wanted = asked or [*preferences(None, list(await preferred_languages(
            info.context.keys, self.record.record))), *preferences(
            request.headers.get("accept-language") if request is not None else None)]
        latest = collections.deque(info.context.views.rows("access_entries", self.member_id),
                                   maxlen=LATEST_READINGS)
        return my_page(self.record.record, info.context.views, wanted, info.context.now,
                       list(latest))

    @strawberry.field(description="every read of her record by a cooperative under her "
                                  "consent, oldest first, a page at a time")
    def access_entries(self, info: Info[GatewayContext, None], first: int = 50,
                       after: str | None = None) -> AccessEntryConnection:
        views = info.context.views
        size, start = page_size(first), offset(after)
        rows = list(itertools.islice(views.rows("access_entries", self.member_id),
                                     start, start + size + 1))
        page = rows[:size]
        return AccessEntryConnection(
            edges=[AccessEntryEdge(cursor=cursor(start + i), node=AccessEntry(
                at=row.at, reader=row.reader, reader_name=_name(views, row.reader),
                read=row.read, scopes=row.scopes, consent_ids=row.consent_ids))
                for i, row in enumerate(page)],
            page_info=PageInfo(has_next_page=len(rows) > size,
                               end_cursor=cursor(start + len(page) - 1) if page else None))


def _name(views, cooperative_id: str) -> str | None:
    coop = views.get("cooperatives", cooperative_id)
    return coop.name if coop is not None and coop.registered else None


@strawberry.field(permission_classes=[SignedIn], description=(
    "Her own record, with her own member token (redeemMemberAccess): null for any other "
    "caller"))
def me(info: Info[GatewayContext, None]) -> Me | None:
    caller = _herself(info.context)
    if caller is None:
        return None
    member = visible_member(info, caller.member_id)
    if member is None:
        return None
    return Me(member_id=caller.member_id, record=member, access_id=caller.access_id)


async def renew_member_token(info: Info[GatewayContext, None]) -> RenewMemberTokenResult:
    """Her token again, for 7 days from now, while her access is live (a revoked one is not
    her caller any more: the gateway checks it on every request)."""
    caller = _herself(info.context)
    if caller is None:
        return NotAuthorized(code="NotAuthorized", message=NOT_HERS)
    return her_token(info.context.node, caller.member_id, caller.access_id)


@strawberry.input(description="Her new contact details: a field left out stays as it is")
class CorrectMyContactInput:
    contact: typing.Optional[str] = strawberry.field(
        default=None, description="how her cooperatives reach her (a phone number, an "
                                  "address; up to 200 characters); an empty text removes it")
    preferred_languages: typing.Optional[list[str]] = strawberry.field(
        default=None, description="the languages she reads, most preferred first (BCP 47 "
                                  "tags: es-EC, tl, ar)")
    residence: typing.Optional[str] = strawberry.field(
        default=None, description="the country she lives in now (ISO 3166-1 alpha-2: EC), "
                                  "where she counts in assemblies' turnout; an empty text "
                                  "removes it")


async def correct_my_contact(info: Info[GatewayContext, None], input: CorrectMyContactInput,
                             idempotency_key: typing.Optional[str] = None) -> MutationResult:
    """Her contact details, languages and country of residence, corrected by herself: the
    rest of her personal details (names, date of birth, nationality) stays with her
    cooperative's staff."""
    context = info.context
    caller = _herself(context)
    if caller is None:
        return NotAuthorized(code="NotAuthorized", message=NOT_HERS)
    record = context.views.get("members", caller.member_id)
    if record is None or record.erased or record.personal is None:
        return problem("MemberErased", "this member was erased")
    plaintext = await context.keys.open(caller.member_id, record.personal)
    if plaintext is None:
        return problem("MemberErased", "this member was erased")
    details = msgspec.json.decode(plaintext, type=m.PersonalDetails)
    if input.contact is None and input.preferred_languages is None and input.residence is None:
        return ValidationError(code="ValidationError", field="input",
                               message="give her contact, her preferred languages or the "
                                       "country she lives in")
    changes = {}
    if input.contact is not None:
        changes["contact"] = input.contact or None
    if input.preferred_languages is not None:
        changes["preferred_languages"] = input.preferred_languages
    if input.residence is not None:
        changes["residence"] = input.residence.upper() or None
    try:
        corrected = msgspec.json.decode(msgspec.json.encode(
            {**msgspec.to_builtins(details), **changes}), type=m.PersonalDetails)
    except msgspec.ValidationError as invalid:
        if "contact" in str(invalid):
            return ValidationError(code="ValidationError", field="input.contact",
                                   message="a contact has at most 200 characters")
        if "residence" in str(invalid):
            return ValidationError(code="ValidationError", field="input.residence",
                                   message="the country she lives in is an ISO 3166-1 "
                                           "alpha-2 code (EC)")
        return ValidationError(code="ValidationError", field="input.preferredLanguages",
                               message="preferred languages are 1 to 20 BCP 47 tags "
                                       "(es-EC, tl, ar)")
    if corrected == details and idempotency_key is None:  # (under a key: a retry, which the
        # log answers as it answered the first)
        return problem("NothingToChange", "her contact details are already these")
    try:
        sealed = await context.keys.seal(caller.member_id, msgspec.json.encode(corrected))
    except (TimeoutError, KafkaError, KeysUnavailable) as failed:  # nothing was sent
        log.warning("her details could not be sealed: %s", type(failed).__name__)
        return Unavailable(code="Unavailable", message="the node's keys are not available "
                           "now; send it again later, with the same idempotency key")
    return await send_command(context, m.CorrectMemberDetails(
        member_id=caller.member_id, personal=sealed), caller.member_id,
        command_id_for(context, idempotency_key))


RenewMemberTokenResult = typing.Annotated[
    typing.Union[(MemberToken, *PROBLEMS)],
    strawberry.union("RenewMemberTokenResult",
                     description="Her token again, or why it was not renewed")]

#: The queries this feature adds to the schema.
QUERIES = {"me": me}

#: The mutations of hers this feature adds (``mutations.MUTATIONS`` lists them all).
MUTATIONS = {
    "renewMemberToken": strawberry.mutation(
        renew_member_token, description="Her own token again, valid 7 days from now, while "
        "her access is live. Who: " + NOT_HERS),
    "correctMyContact": strawberry.mutation(
        correct_my_contact, description="Correct her own contact details, languages and "
        "country of residence (the rest of her personal details stays with her cooperative's "
        "staff). Who: " + NOT_HERS),
}
