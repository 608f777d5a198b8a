"""Which language a reader gets. Her preferences come from a ``lang`` argument when she gives
one, else from the request's ``Accept-Language`` (RFC 9110 §12.5.4: weights, ``q=0`` meaning
"not this one"). A text written by people is a language map (BCP 47 tag -> text), and
``pick`` chooses from it by RFC 4647 lookup, widened to any region of the same language
(``es-EC`` reads ``es-ES`` before anything else), and otherwise gives the map's first entry
(the language it was written in) marked as a fallback, with its own tag, so a page can say
so and set ``lang`` on it. Pure: no I/O."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

#: At most this many languages are read from one header or argument (a header is the
#: caller's to write: its cost stays bounded whatever it holds).
MOST_PREFERENCES = 12
_TAG = re.compile(r"^[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*$")


@dataclass(frozen=True)
class Localized:
    """A text in the language it is written in; ``fallback``: not one the reader asked
    for (nor a region of one)."""

    text: str
    language: str
    fallback: bool


def canonical(tag: str) -> str | None:
    """A well-formed BCP 47 tag in its usual case (``es-ec`` -> ``es-EC``, ``zh-hant`` ->
    ``zh-Hant``); None if it is not one."""
    tag = tag.strip()
    if not _TAG.match(tag) or len(tag) > 35:
        return None
    first, *rest = tag.split("-")
    parts = [first.lower()]
    for part in rest:
        if len(part) == 2 and part.isalpha():
            parts.append(part.upper())  # region
        elif len(part) == 4 and part.isalpha():
            parts.append(part.title())  # script
        else:
            parts.append(part.lower())
    return "-".join(parts)


def preferences(accept_language: str | None, lang: Sequence[str] | str | None = None
                ) -> list[str]:
    """The languages a reader asked for, most wanted first: ``lang`` when given (one tag or
    several, in order), else ``Accept-Language`` by weight (ties in the header's order).
    Malformed entries are left out, never an error: a reader still gets a page."""
    if lang:
        asked = [lang] if isinstance(lang, str) else list(lang)
        return _unique(canonical(tag) for tag in asked[:MOST_PREFERENCES])
    weighted: list[tuple[float, int, str]] = []
    for position, item in enumerate((accept_language or "").split(",")[:MOST_PREFERENCES]):
        tag, _, params = item.partition(";")
        weight = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = -1.0
        tag = tag.strip()
        if tag == "*" or not 0 < weight <= 1:
            continue
        weighted.append((-weight, position, tag))
    return _unique(canonical(tag) for _, _, tag in sorted(weighted))


def pick(texts: Mapping[str, str], wanted: Sequence[str]) -> Localized | None:
    """The text of ``texts`` for a reader who wants ``wanted`` (canonical tags, most wanted
    first): for each wanted tag in turn, that tag or a shorter one it starts with (``es-EC``,
    then ``es``), else another region of its language (``es-ES``), before the next wanted
    tag (a Spanish reader who also reads English gets Spanish from Spain before English);
    else the first text, marked as a fallback. None only for an empty map."""
    if not texts:
        return None
    by_tag = {(canonical(tag) or tag).lower(): (tag, text) for tag, text in texts.items()}
    for tag in wanted:
        subtags = tag.lower().split("-")
        for end in range(len(subtags), 0, -1):
            found = by_tag.get("-".join(subtags[:end]))
            if found:
                return Localized(found[1], found[0], fallback=False)
        for key, (original, text) in by_tag.items():  # her language, another region of it
            if key.split("-")[0] == subtags[0]:
                return Localized(text, original, fallback=False)
    first, text = next(iter(texts.items()))
    return Localized(text, first, fallback=True)


def _unique(tags) -> list[str]:
    seen: list[str] = []
    for tag in tags:
        if tag and tag not in seen:
            seen.append(tag)
    return seen
