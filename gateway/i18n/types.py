"""The GraphQL side of her languages: ``LocalizedText``, and the languages a request asks
for (a ``lang`` argument, else its ``Accept-Language``: on a socket, the upgrade request's)."""

from __future__ import annotations

from collections.abc import Mapping

import strawberry
from strawberry.types import Info

from gateway.i18n.languages import pick, preferences

#: The ``lang`` argument's description, on every field that picks a language.
LANG = ("the languages to read it in, most wanted first (BCP 47 tags: es-EC); without it, "
        "the request's Accept-Language")


@strawberry.type(description="A text written by people, in the language picked for the reader")
class LocalizedText:
    text: str = strawberry.field(description="the text, in that language")
    language: str = strawberry.field(
        description="the language it is in (BCP 47; und: not said by whoever wrote it)")
    fallback: bool = strawberry.field(
        description="not a language the reader asked for (nor a region of one): the one it "
                    "was written in, to be shown as such (\"in Spanish\")")


def wanted(info: Info, lang: list[str] | None) -> list[str]:
    """The languages the reader asked for: ``lang``, else the request's Accept-Language."""
    request = getattr(info.context, "request", None)
    headers = getattr(request, "headers", None)
    return preferences(headers.get("accept-language") if headers is not None else None, lang)


def localized(texts: Mapping[str, str], info: Info, lang: list[str] | None
              ) -> LocalizedText | None:
    found = pick(texts, wanted(info, lang))
    return None if found is None else LocalizedText(text=found.text, language=found.language,
                                                    fallback=found.fallback)
