"""The languages a portable record is written in (issue 23): the texts people wrote in several
languages (course titles) and the record's own words, as VC 2.0 language value objects
(``{"@value", "@language"[, "@direction"]}``) inside the signed payload.

Which languages: those the export asks for (up to ``MOST``), else the language of the
cooperative that issues it (her cooperative where she is an active member, the first she
chose) and the language of the recipient cooperative (her home cooperative, when it is one
of this node's), in that order; English when neither says.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from gateway.documents import MemberRecord
from gateway.i18n.catalogues import language_for, translate
from gateway.i18n.formats import direction
from gateway.i18n.languages import canonical, pick

#: The most languages one record is written in.
MOST = 3


def value_object(text: str, tag: str) -> dict[str, str]:
    """A language value object; right-to-left scripts say so (``@direction``)."""
    found = {"@value": text, "@language": tag}
    if direction(tag) == "rtl":
        found["@direction"] = "rtl"
    return found


def in_languages(texts: Mapping[str, str], languages: Sequence[str]) -> list[dict[str, str]]:
    """``texts`` (language -> text, the author's first) in ``languages``, each as it was
    written: a language with no text of its own is left out (another region of it stands
    in: ``es-ES`` for ``es-EC``); if none of them has one, the author's own text alone."""
    found: dict[str, dict] = {}
    for language in languages:
        picked = pick(texts, [language])
        if picked is not None and not picked.fallback:
            found.setdefault(picked.language, value_object(picked.text, picked.language))
    if not found and texts:
        tag, text = next(iter(texts.items()))
        found[tag] = value_object(text, tag)
    return list(found.values())


def translated(message: str, languages: Sequence[str], **fields: object) -> list[dict]:
    """A message of the catalogues in each of ``languages`` there is a catalogue for (the
    rest fall back to English once)."""
    found: dict[str, dict] = {}
    for language in languages:
        catalogue = language_for([language])
        found.setdefault(catalogue, value_object(translate(message, catalogue, **fields),
                                                 catalogue))
    return list(found.values())


def her_cooperatives_language(record: MemberRecord, views) -> str | None:
    """The first language of the cooperative that speaks for her here: the first she chose
    (not joined under her consent) where she is active; None when she has none."""
    for ms in record.memberships:
        if ms.ended_on is None and ms.consent_id is None:
            coop = views.get("cooperatives", ms.cooperative_id)
            if coop is not None and coop.languages:
                return canonical(coop.languages[0]) or coop.languages[0]
            return None
    return None


class NotLanguages(ValueError):
    """An export asked for something that is not a list of up to ``MOST`` BCP 47 tags."""


def record_languages(record: MemberRecord, views, grantee_kind: str, grantee: str,
                     asked: Sequence[str] | None) -> list[str]:
    """The languages of one export (see the module's words). Raises ``NotLanguages``."""
    if asked:
        tags = [canonical(tag) for tag in asked]
        if len(tags) > MOST or None in tags:
            raise NotLanguages(f"languages are up to {MOST} BCP 47 tags (es-EC, tl, ar)")
        return list(dict.fromkeys(tags))
    chosen = [her_cooperatives_language(record, views)]
    recipient = views.get("cooperatives", grantee) if grantee_kind == "cooperative" else None
    if recipient is not None and recipient.languages:
        chosen.append(canonical(recipient.languages[0]) or recipient.languages[0])
    return list(dict.fromkeys(tag for tag in chosen if tag)) or ["en"]
