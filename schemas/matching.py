"""Whether a worker's verified records show what a job order needs, and how well, and when
a shift she booked is hers (pure; issue 26). It lives with the contracts because both sides of them apply it: the placement
service decides an offer by it (``OfferJob``: RequirementsNotMet) and the gateway ranks
candidates by it, so both read the same facts the same way:

* a **skill** the job needs (an ESCO URI, or ``isco08:<group>``) is shown by a certificate
  that is not revoked and names it: the same ESCO URI, or an ISCO-08 group within the one
  needed (a certificate for ``5311`` shows ``isco08:531``; one for ``531`` does not show
  ``isco08:5311``);
* a **language** at a CEFR level is shown by a certificate that is not revoked, in that
  language (a need without a region, ``es``, is met in any region's variety; ``es-MX``
  only in that one), at that level or above.

Certificates come from this node's courses and from records imported from other nodes alike:
both were verified before they were recorded (a course's, by its cooperative; an imported
record's, by its issuer's signature and status list).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from schemas import training as t

LEVELS = {level: rank for rank, level in enumerate(("A1", "A2", "B1", "B2", "C1", "C2"), 1)}


@dataclass(frozen=True)
class Evidence:
    """One verified certificate, as matching reads it."""

    skills: frozenset[str] = frozenset()  # ESCO URIs and isco08:<code>
    language: str | None = None
    level: str | None = None


def skill_key(skill: t.Skill) -> str:
    """A skill as records write it: an ESCO URI, or ``isco08:<code>``."""
    return skill.uri if isinstance(skill, t.EscoSkill) else f"isco08:{skill.code}"


def shows_skill(needed: str, held: str) -> bool:
    if needed.startswith("isco08:"):
        return held.startswith("isco08:") and held[7:].startswith(needed[7:])
    return held == needed


def _language_matches(needed: str, held: str) -> bool:
    needed, held = needed.lower(), held.lower()
    return held == needed or ("-" not in needed and held.split("-")[0] == needed)


def level_in(language: str, evidence: Iterable[Evidence]) -> int:
    """Her best CEFR level in ``language`` (1 for A1 … 6 for C2; 0: none shown)."""
    return max((LEVELS.get(e.level or "", 0) for e in evidence
                if e.language and _language_matches(language, e.language)), default=0)


def unmet(languages: Sequence, skills: Sequence[str], evidence: Sequence[Evidence]) -> list[str]:
    """What her certificates do not show of the needs (``LanguageNeed``s and skill keys),
    as words with no personal data: empty when she qualifies."""
    missing = [f"{need.language} {need.level}" for need in languages
               if level_in(need.language, evidence) < LEVELS[str(need.level)]]
    missing += [needed for needed in skills
                if not any(shows_skill(needed, held) for e in evidence for held in e.skills)]
    return missing


def overlaps(a_start: dt.datetime, a_end: dt.datetime, b_start: dt.datetime,
             b_end: dt.datetime) -> bool:
    """Whether two shifts share a moment (one ending as the other starts does not)."""
    return a_start < b_end and b_start < a_end


def freed(start: dt.datetime, ended_on: dt.date | None) -> bool:
    """Whether a booked shift starting at ``start`` is free again, its placement having
    ended on ``ended_on`` (a day somewhere: the shift's UTC day may be the next one, so it
    is free from the second day after). Her calendar decides by it, and the gateway says
    whether a candidate is free by it."""
    return ended_on is not None and start.date() > ended_on + dt.timedelta(days=1)


def score(languages: Sequence, skills: Sequence[str], evidence: Sequence[Evidence]) -> int:
    """How far she exceeds the needs, for ranking qualified workers: each CEFR step above a
    needed level, and each certificate that shows a needed skill."""
    above = sum(level_in(need.language, evidence) - LEVELS[str(need.level)]
                for need in languages)
    showing = sum(1 for e in evidence
                  if any(shows_skill(needed, held) for needed in skills for held in e.skills))
    return above + showing
