"""Her page, ``/me`` (issue 23): the page itself (``gateway/static/me.html``, ``me.js``), its
words for a reader not signed in yet (``/i18n/{lang}.json``), and ``Me.page``: her consents,
her shared records and who read her record, worded and formatted here for her language, so
the browser formats nothing (her record itself is ``printableRecord { sheet }``)."""

from __future__ import annotations

import datetime as dt

import strawberry
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from gateway.documents import MemberRecord
from gateway.i18n.catalogues import language_for, translate
from gateway.i18n.formats import day, direction, moment
from gateway.i18n.languages import canonical, pick, preferences
from gateway.member_access import words
from gateway.pages import page
from gateway.records.sheet_types import SheetLabel


def page_words(language: str) -> dict[str, str]:
    """The page's words in the catalogue ``language`` (one of ``LANGUAGES``)."""
    return {key: translate(message, language) for key, message in words.PAGE.items()}


async def i18n(request: Request) -> JSONResponse:
    """``/i18n/{lang}.json``: the page's words in the catalogue that serves ``lang`` best
    (``auto``: the request's Accept-Language), with the direction to write them in."""
    asked = request.path_params["lang"]
    wanted = (preferences(request.headers.get("accept-language")) if asked == "auto"
              else [tag for tag in [canonical(asked)] if tag])
    language = language_for(wanted)
    return JSONResponse({"language": language, "direction": direction(language),
                         "words": page_words(language)},
                        headers={"cache-control": "public, max-age=300",
                                 "vary": "accept-language"})


ROUTES = [Route("/me", page("me.html"), methods=["GET", "HEAD"]),
          Route("/i18n/{lang}.json", i18n, methods=["GET"])]


@strawberry.type(description="One of her consents, as her page shows it")
class MyConsent:
    consent_id: strawberry.ID
    grantee: str = strawberry.field(description="whom it lets read: a cooperative's name, or "
                                                "a node")
    what: str = strawberry.field(description="what it lets them read, worded")
    until: str = strawberry.field(description="until when, formatted")
    status: str = strawberry.field(description="active, revoked or expired, worded")
    active: bool = strawberry.field(description="live now: it can be revoked")


@strawberry.type(description="A record she shared, as her page shows it")
class MyExport:
    credential_id: strawberry.ID
    recipient: str = strawberry.field(description="whom it was issued for")
    until: str = strawberry.field(description="valid until, formatted")
    status: str = strawberry.field(description="active, revoked or expired, worded")


@strawberry.type(description="A read of her record under her consent, as her page shows it")
class MyReading:
    at: str = strawberry.field(description="when, formatted")
    reader: str = strawberry.field(description="the cooperative that read it")
    what: str = strawberry.field(description="what it read and could see, worded")


@strawberry.type(description="Her page's words and lists in one language, worded and "
                             "formatted here (CLDR, by Babel)")
class MyPage:
    language: str = strawberry.field(description="the catalogue used (es for es-EC)")
    direction: str = strawberry.field(description="ltr or rtl")
    words: list[SheetLabel] = strawberry.field(description="the page's own words")
    consents: list[MyConsent] = strawberry.field(description="her consents, newest first")
    exports: list[MyExport] = strawberry.field(description="the records she shared, newest "
                                                           "first")
    readings: list[MyReading] = strawberry.field(description="the latest reads under her "
                                                             "consent, newest first")


def my_page(record: MemberRecord, views, wanted: list[str], now: dt.datetime,
            entries) -> MyPage:
    """Her page in the first of ``wanted`` there is a catalogue for; ``entries``: her access
    entries (``AccessEntry`` rows), oldest first."""
    language = language_for(wanted)
    tag = next((t for t in wanted if language_for([t]) == language), language)

    def _(message: str, /, **fields) -> str:
        return translate(message, language, **fields)

    def who(kind: str, grantee: str) -> str:
        if kind == "node":
            return _(words.A_NODE, node=grantee)
        coop = views.get("cooperatives", grantee)
        if coop is not None and coop.names:
            return pick(coop.names, [tag]).text
        return coop.name if coop is not None and coop.name else grantee

    def status(revoked: bool, until: dt.datetime) -> str:
        return _(words.REVOKED if revoked else words.EXPIRED if until <= now else words.ACTIVE)

    consents = [MyConsent(
        consent_id=c.consent_id, grantee=who(c.grantee_kind, c.grantee),
        what=", ".join([_(words.SCOPES.get(s, s)) for s in c.scopes]
                       + ([_(words.JOIN)] if c.join else [])),
        until=_(words.UNTIL, day=day(c.expires_at.date(), tag)),
        status=status(c.revoked, c.expires_at), active=not c.revoked and c.expires_at > now)
        for c in reversed(record.consents)]
    exports = [MyExport(credential_id=x.credential_id, recipient=who(x.grantee_kind, x.grantee),
                        until=day(x.valid_until.date(), tag),
                        status=status(x.revoked, x.valid_until))
               for x in reversed(record.exports)]
    readings = [MyReading(at=moment(e.at, tag), reader=who("cooperative", e.reader),
                          what=f"{_(words.READS.get(e.read, e.read))}: "
                               + ", ".join(_(words.SCOPES.get(s, s)) for s in e.scopes))
                for e in reversed(entries)]
    return MyPage(language=language, direction=direction(language),
                  words=[SheetLabel(key=k, text=v) for k, v in page_words(language).items()],
                  consents=consents, exports=exports, readings=readings)
