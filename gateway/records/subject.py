"""What a portable record says: its subject (``credentialSubject``) built from the gateway's
views for the scopes she consented to, and read back when a record comes home.

The subject is plain JSON: money as decimal strings in major units with the ISO 4217 code,
dates ISO 8601, skills as ESCO URIs / ISCO-08 codes, language levels CEFR, and every id an
absolute IRI (a cooperative ``urn:uuid:<id>``, a node ``urn:coopbridge:node:<id>``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import msgspec

from gateway.documents import CertificateDoc, MemberRecord, accounts_of
from gateway.i18n.catalogues import language_for, translate
from gateway.i18n.languages import canonical, pick
from gateway.inputs import InputError
from gateway.records import credentials as vc
from gateway.records import words
from gateway.records.languages import in_languages, value_object
from schemas.fields import LANGUAGE_TAG
from schemas import governance as g
from schemas import membership as m
from schemas.money import AmountError, major_text, parse_major

MEMBER_URN = "urn:coopbridge:member:"
UUID_URN = "urn:uuid:"
#: how a record may say she took part in an assembly (else: not said)
VOTED = (*(c.value for c in g.Channel), "no")


def _money_json(money) -> dict[str, str] | None:
    if money is None:
        return None
    return {"amount": major_text(money.amount, money.currency), "currency": money.currency}


def _money_value(data: Any, path: str) -> m.Money:
    """An amount a record carries: exactly as ``_money_json`` wrote it (a plain decimal string
    and an ISO 4217 code), nothing else (a JSON number, a lowercase code …)."""
    if not isinstance(data, dict):
        raise ValueError(f"{path} is not an amount")
    try:
        return parse_major(data.get("amount"), data.get("currency"))
    except AmountError as wrong:
        raise ValueError(f"{path}: {wrong}") from None


def recipient(kind: str, grantee: str) -> dict:
    """Whom a record is shared with, as an absolute IRI: a cooperative or a node (and
    ``join``, set by the export, when her consent lets that cooperative admit her)."""
    iri = vc.node_issuer(grantee) if kind == m.GranteeKind.NODE.value else UUID_URN + grantee
    return {"type": kind, "id": iri}


def lets_join_here(shared: dict, cooperative_id: str) -> bool:
    """Whether a record's ``sharedWith`` is her consent to join this very cooperative: named
    by its IRI (a whole node is never joined), with ``join`` true."""
    return (shared.get("type") == m.GranteeKind.COOPERATIVE.value and shared.get("join") is True
            and shared.get("id") == UUID_URN + cooperative_id)


def shared_with_here(shared: dict, cooperative_id: str, node: str) -> bool:
    """Whether a record's ``sharedWith`` names this cooperative or this node (by its IRI, or
    by the bare id records carried before they used IRIs)."""
    if shared.get("type") == m.GranteeKind.COOPERATIVE.value:
        return shared.get("id") in (UUID_URN + cooperative_id, cooperative_id)
    return shared.get("type") == m.GranteeKind.NODE.value and shared.get("id") in (
        vc.node_issuer(node), node)


def _cover_json(cover) -> dict:
    """One policy of hers as a record carries it: who insures her, the terms, what came of
    it; never her beneficiaries."""
    applied, terms = cover.applied, cover.terms
    return {"policyId": applied.policy_id, "insurerNode": applied.insurer_node,
            "productId": applied.product_id, "startsOn": applied.starts_on.isoformat(),
            "endsOn": terms.ends_on.isoformat() if terms else None,
            "status": cover.status,
            "premium": _money_json(terms.premium) if terms else None,
            "monthlyBenefit": _money_json(terms.monthly_benefit) if terms else None,
            "periodsPaid": cover.periods_paid}


def record_subject(record: MemberRecord, views, scopes: frozenset[str],
                   identity: m.PersonalDetails | None, shared_with: dict[str, str],
                   languages: Sequence[str] = ()) -> dict:
    """The ``credentialSubject`` of a member's record, with only ``scopes`` in it; each
    certificate's ``title`` in its course's first language, and ``titles`` in
    ``languages`` (language value objects: ``gateway.records.languages``)."""
    subject: dict[str, Any] = {"id": MEMBER_URN + record.member_id,
                               "type": ["CoopbridgeMember"], "memberId": record.member_id,
                               "sharedWith": shared_with, "scopes": sorted(scopes)}
    if "identity" in scopes and identity is not None:
        subject["identity"] = {
            "givenNames": identity.given_names, "familyNames": identity.family_names,
            "dateOfBirth": identity.date_of_birth.isoformat(),
            "nationality": identity.nationality,
            "preferredLanguages": list(identity.preferred_languages)}
    if "membership" in scopes:
        memberships = []
        for ms in record.memberships:
            coop = views.get("cooperatives", ms.cooperative_id)
            shares = _shares_of(record, views, ms.cooperative_id)
            memberships.append({
                "cooperative": {"id": UUID_URN + ms.cooperative_id,
                                "name": coop.name if coop else "",
                                "country": coop.country if coop else ""},
                "role": ms.role, "startedOn": ms.started_on.isoformat(),
                "endedOn": ms.ended_on.isoformat() if ms.ended_on else None,
                "endReason": ms.end_reason,
                "shareCapital": _money_json(shares)})
        subject["memberships"] = memberships
        subject["governance"] = [
            {"cooperativeId": ms.cooperative_id, "role": ms.role,
             "from": ms.started_on.isoformat(),
             "until": ms.ended_on.isoformat() if ms.ended_on else None}
            for ms in record.memberships if ms.role == m.MembershipRole.BOARD_MEMBER.value]
    if "savings" in scopes:
        subject["savings"] = _savings(record, views)
    if "governance" in scopes:  # her part in assemblies: never her choice
        subject["assemblies"] = [
            {"assemblyId": part.assembly_id, "cooperativeId": part.cooperative_id,
             "cooperative": _cooperative_json(views, part.cooperative_id),
             "meetingOn": part.meeting_on.isoformat(), "voted": part.voted,
             "offices": list(part.offices), "titles": in_languages(part.titles, languages)}
            for part in record.assemblies]
    if "insurance" in scopes:  # her policies as her host node knows them (issue 25)
        subject["insurance"] = [_cover_json(views.get("covers", cover_id))
                                for cover_id in record.covers
                                if views.get("covers", cover_id) is not None]
    if "work" in scopes:  # the placements she worked, once ended (issue 26)
        subject["work"] = [_work_json(views, ended) for ended in work_done(record, views)]
    if "training" in scopes:
        subject["training"] = {"certificates": [{
            "certificateId": c.certificate_id, "title": c.title, "kind": c.kind,
            "issuedOn": (c.issued_on or c.completed_on or dt.date.today()).isoformat(),
            "hours": c.hours, "language": c.language, "level": c.level,
            "skills": list(c.skills), "revoked": c.revoked,
            **({"titles": in_languages(c.titles, languages)} if c.titles and languages
               else {})} for c in record.certificates]}
    return subject


def work_done(record: MemberRecord, views) -> list:
    """The placements she worked here (``PlacementEnded``), in the order the job orders were
    offered to her: those of her ``placements`` that were confirmed for her and ended; never
    one still running, nor one another worker was placed in. Their minutes are those of
    the settlements credited to her (days may be settled after the end)."""
    done = []
    for job_order_id in record.placements:
        job = views.get("job_orders", job_order_id)
        if (job is not None and job.ended is not None and job.placement is not None
                and job.placement.member_id == record.member_id
                and job.ended.member_id == record.member_id):
            done.append(msgspec.structs.replace(job.ended, minutes=job.worked_minutes))
    return done


def hours_text(minutes: int) -> str:
    """Minutes as hours, a decimal string: exact whenever a whole number of minutes is a
    whole number of hundredths of an hour (``"160"``, ``"7.5"``, ``"0.05"``: minutes a
    multiple of 3), else to the nearest hundredth (7 minutes: ``"0.12"``); never a float.
    ``minutes`` beside it is exact."""
    hours = (Decimal(minutes) / 60).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return f"{hours:f}".rstrip("0").rstrip(".")


def occupation_json(code: str) -> dict:
    """An ISCO-08 occupation as a record names it, in the style of a course's alignments:
    the code, the framework and what kind of concept it is, and the URL where ESCO publishes
    its label in every EU language; never a code passed off as a label."""
    return {"isco08": code, "framework": "ISCO-08", "concept": "ISCO-08 unit group",
            "url": vc.isco08_url(code)}


def _work_json(views, ended) -> dict:
    """One placement she worked, as a record carries it (``PlacementEnded``): the occupation,
    the cooperative that placed her, where, the period, the minutes settled (and as hours)
    and how it ended; never the employer, the wage or her rating."""
    return {"jobOrderId": ended.job_order_id, "occupation": occupation_json(ended.occupation),
            "cooperative": _cooperative_json(views, ended.cooperative_id),
            "country": ended.country, "startedOn": ended.started_on.isoformat(),
            "endedOn": ended.ended_on.isoformat(), "minutes": ended.minutes,
            "hours": hours_text(ended.minutes), "howEnded": ended.reason.value}


def _cooperative_json(views, cooperative_id: str) -> dict:
    coop = views.get("cooperatives", cooperative_id)
    return {"name": coop.name if coop else "", "country": coop.country if coop else ""}


def _shares_of(record: MemberRecord, views, cooperative_id: str):
    for account_id in accounts_of(views, record.member_id):
        account = views.get("accounts", account_id)
        if (account and account.cooperative_id == cooperative_id
                and account.product == "share_capital" and account.balance is not None):
            return account.balance
    return None


def _savings(record: MemberRecord, views) -> dict:
    balances, loans, corridors = [], [], {}
    for account_id in accounts_of(views, record.member_id):
        account = views.get("accounts", account_id)
        if account is None:
            continue
        if account.product != "loan" and account.balance is not None:
            balances.append({"product": account.product,
                             "balance": _money_json(account.balance),
                             "closed": account.closed})
        if account.loan is not None:
            timing = {"early": 0, "on_time": 0, "late": 0}
            for repayment in views.rows("repayments",
                                        account.loan.repayments_key(account.account_id)):
                timing[repayment.timing] = timing.get(repayment.timing, 0) + 1
            disbursed = account.loan.disbursed_on or (
                account.opened_at.date() if account.opened_at else
                account.loan.schedule[0].due_on if account.loan.schedule else dt.date.today())
            loans.append({"principal": _money_json(account.loan.principal),
                          "disbursedOn": disbursed.isoformat(),
                          "termMonths": account.loan.term_months,
                          "instalments": len(account.loan.schedule),
                          "repaidEarly": timing["early"], "repaidOnTime": timing["on_time"],
                          "repaidLate": timing["late"], "closed": account.loan.closed})
        for r in views.rows("remittances", account_id):
            if r.direction != "sent" or r.status == "refunded" or not r.corridor:
                continue
            key = (r.corridor, r.amount.currency)
            count, sent, fees = corridors.get(key, (0, 0, 0))
            corridors[key] = (count + 1, sent + r.amount.amount,
                              fees + (r.fee.amount if r.fee else 0))
    remittances = [{"corridor": corridor, "count": count,
                    "sent": _money_json(m.Money(sent, currency)),
                    "fees": _money_json(m.Money(fees, currency))}
                   for (corridor, currency), (count, sent, fees) in sorted(corridors.items())]
    return {"balances": balances, "loans": loans, "remittances": remittances}


def imported_history(subject: dict) -> m.ImportedHistory:
    """What a record says, as the home membership service records it. ValueError if the
    record's subject is not shaped as ``record_subject`` writes it."""
    try:
        memberships = [m.ImportedMembership(
            cooperative_name=x["cooperative"]["name"] or "unnamed",
            country=x["cooperative"]["country"], role=m.MembershipRole(x["role"]),
            started_on=dt.date.fromisoformat(x["startedOn"]),
            ended_on=dt.date.fromisoformat(x["endedOn"]) if x.get("endedOn") else None,
            share_capital=(_money_value(x["shareCapital"], "shareCapital")
                           if x.get("shareCapital") else None))
            for x in subject.get("memberships", [])]
        savings = subject.get("savings") or {}
        balances = [m.ImportedBalance(product=x["product"],
                                      balance=_money_value(x["balance"], "balance"))
                    for x in savings.get("balances", [])]
        loans = [m.ImportedLoan(
            principal=_money_value(x["principal"], "principal"),
            disbursed_on=dt.date.fromisoformat(x["disbursedOn"]),
            instalments=int(x["instalments"]), repaid_early=int(x["repaidEarly"]),
            repaid_on_time=int(x["repaidOnTime"]), repaid_late=int(x["repaidLate"]),
            closed=bool(x["closed"])) for x in savings.get("loans", [])]
        remittances = [m.ImportedRemittances(
            corridor=x["corridor"], count=int(x["count"]),
            sent=_money_value(x["sent"], "sent"), fees=_money_value(x["fees"], "fees"))
            for x in savings.get("remittances", [])]
        certificates = [m.ImportedCertificate(
            title=x["title"], kind=x["kind"], issued_on=dt.date.fromisoformat(x["issuedOn"]),
            level=x.get("level"), skills=list(x.get("skills") or []),
            revoked=bool(x.get("revoked")), titles=_titles_of(x.get("titles")),
            language=_language_of(x.get("language")))
            for x in (subject.get("training") or {}).get("certificates", [])]
        assemblies = _assemblies_of(subject.get("assemblies"))
        history = m.ImportedHistory(memberships=memberships, balances=balances, loans=loans,
                                    remittances=remittances, certificates=certificates,
                                    assemblies=assemblies, work=_work_of(subject.get("work")))
        # the contract's own limits (lengths, patterns) apply to what came from outside
        return msgspec.json.decode(msgspec.json.encode(history), type=m.ImportedHistory)
    except (KeyError, TypeError, ValueError, AttributeError, InputError,
            msgspec.ValidationError) as bad:
        raise ValueError("the record's subject is not a coopbridge member record") from bad


def _assemblies_of(values: Any) -> list[m.ImportedAssembly]:
    """Her assemblies, as a record says them: the well-formed ones, up to the contract's 200
    (an odd one is left out, never the whole record: a peer's newer code may say more). A
    record exported before assemblies named their cooperative and title reads with neither:
    ``unnamed``, no country, no title."""
    found = []
    for x in values if isinstance(values, list) else []:
        if len(found) == 200:
            break
        try:
            coop = x.get("cooperative") or {}
            offices = x.get("offices")
            offices = offices if isinstance(offices, list) else []
            voted = x.get("voted")
            found.append(msgspec.convert({
                "cooperative_name": coop.get("name") or "unnamed",
                "country": coop.get("country") or None,
                "meeting_on": x["meetingOn"],
                "voted": voted if voted in VOTED else None,
                "offices": [o for o in offices if isinstance(o, str) and 0 < len(o) <= 200][:20],
                "titles": _titles_of(x.get("titles"))}, m.ImportedAssembly))
        except (AttributeError, KeyError, TypeError, msgspec.ValidationError):
            continue
    return found


#: how a record may say a placement ended (else: not said)
HOW_ENDED = re.compile(r"[a-z_]{1,30}")


def _work_of(values: Any) -> list[m.ImportedWork]:
    """The work she did through cooperatives, as a record says it: the well-formed entries,
    up to the contract's 200 (an odd one is left out, never the whole record: a peer's newer
    code may say more). ``minutes`` is what counts (``hours`` is for people); an entry
    ending before it started is odd; an ending the contract cannot hold reads as not said."""
    found = []
    for x in values if isinstance(values, list) else []:
        if len(found) == 200:
            break
        try:
            coop = x.get("cooperative") or {}
            minutes, how = x["minutes"], x.get("howEnded")
            if type(minutes) is not int:  # (a JSON number with a fraction, or true)
                continue
            work = msgspec.convert({
                "occupation": x["occupation"]["isco08"],
                "cooperative_name": coop.get("name") or "unnamed",
                "country": x.get("country") or None,
                "started_on": x["startedOn"], "ended_on": x["endedOn"], "minutes": minutes,
                "how_ended": how if isinstance(how, str) and HOW_ENDED.fullmatch(how) else None},
                m.ImportedWork)
        except (AttributeError, KeyError, TypeError, msgspec.ValidationError):
            continue
        if work.ended_on >= work.started_on:
            found.append(work)
    return found


def _language_of(value: Any) -> str | None:
    """A certificate's language as a record says it: a well-formed BCP 47 tag, else not said
    (an odd one never fails the record)."""
    tag = canonical(value) if isinstance(value, str) else None
    return tag if tag is not None and re.fullmatch(LANGUAGE_TAG, tag) else None


def _titles_of(values: Any) -> dict[str, str]:
    """A record's language value objects (``titles``) as a language map: the well-formed
    ones only, up to the contract's 20 (an odd one is left out, never the whole record)."""
    found: dict[str, str] = {}
    for value in values if isinstance(values, list) else []:
        said = value.get("@language") if isinstance(value, dict) else None
        tag = canonical(said) if isinstance(said, str) else None
        if tag is None or not re.fullmatch(LANGUAGE_TAG, tag):
            continue
        text = value.get("@value")
        if tag and isinstance(text, str) and 0 < len(text) <= 200 and len(found) < 20:
            found.setdefault(tag, text)
    return found


def identity_of(subject: dict) -> m.PersonalDetails | None:
    identity = subject.get("identity")
    if not isinstance(identity, dict):
        return None
    try:
        return msgspec.convert({
            "given_names": identity["givenNames"], "family_names": identity["familyNames"],
            "date_of_birth": identity["dateOfBirth"], "nationality": identity["nationality"],
            "preferred_languages": identity["preferredLanguages"]},
            m.PersonalDetails, strict=False)
    except (KeyError, msgspec.ValidationError):
        return None


#: What an ESCO URI names, by the segment before its code (``…/esco/skill/<uuid>``).
_ESCO_CONCEPTS = {"skill": "ESCO skill", "occupation": "ESCO occupation",
                  "isco": "ESCO occupation group"}


def skill_alignment(skill: str, course_title: str) -> dict:
    """A course's alignment to one of its skills (an ESCO URI or ``isco08:<code>``). The
    course offer names a skill by URI or code only, with no label, and ESCO publishes the
    label, in every EU language, at the URI: so ``targetName`` says what the alignment is
    (this course's ESCO skill, occupation, ISCO-08 group) and never passes a code off as a
    label; ``targetCode`` and ``targetUrl`` say which one it is."""
    if skill.startswith("isco08:"):
        framework, code, concept = "ISCO-08", skill.split(":", 1)[1], "ISCO-08 occupation group"
    else:
        framework, code = "ESCO", skill
        concept = _ESCO_CONCEPTS.get(skill.rsplit("/", 2)[-2], "ESCO concept")
    return vc.alignment(framework, code, f"{course_title}: {concept}",
                        f"The {concept} this course aligns to, named by its code and URL; "
                        "its label, in every EU language, is published at targetUrl.")


def certificate_achievement(c: CertificateDoc, course_url: str,
                            languages: Sequence[str] = ()) -> tuple[dict, list]:
    """The Open Badges achievement of a certificate: its name, description and criteria in
    the first of ``languages`` its course has a title in (``inLanguage``), and in each of
    them as language value objects (``nameInLanguages``, ``descriptionInLanguages``,
    ``narrativeInLanguages``: Open Badges types the three as single strings). The criteria
    are the course's own where it wrote them, else a sentence from the catalogues."""
    titles = c.titles or ({"en": c.title} if c.title else {})
    picked = pick(titles, list(languages) or ["en"])
    title = picked.text if picked is not None else c.title
    alignment = [skill_alignment(skill, title) for skill in c.skills]
    if c.language and c.level:
        alignment.append(vc.alignment("CEFR", c.level, f"CEFR {c.level} ({c.language})"))
    primary = language_for([picked.language] if picked is not None else ["en"])
    said = pick(c.criteria, [picked.language] if picked is not None else ["en"])
    said = said if said is not None and not said.fallback else None  # never another language's
    achievement = {
        "id": course_url, "name": title,
        "description": translate(words.COURSE_OF_HOURS, primary, title=title, hours=c.hours),
        "criteria": said.text if said is not None else translate(
            words.CRITERIA, primary, title=title, hours=c.hours),
        "achievementType": "Certificate" if c.kind != "language" else "Course",
        "alignment": alignment}
    if (picked is not None and vc.IN_LANGUAGE.match(picked.language)
            and language_for([picked.language]) == primary
            and (primary != "en" or picked.language.split("-")[0] == "en")):
        achievement["inLanguage"] = picked.language  # (only when its words are too)
    if languages and c.titles:
        names = in_languages(c.titles, languages)
        achievement["nameInLanguages"] = names
        achievement["descriptionInLanguages"] = _each(words.COURSE_OF_HOURS, names, c.hours)
        achievement["narrativeInLanguages"] = (
            in_languages(c.criteria, languages) if c.criteria  # as the course says it
            else _each(words.CRITERIA, names, c.hours))
    return achievement, alignment


def _each(message: str, titles: list[dict], hours: int) -> list[dict]:
    """``message`` with each title, in that title's language (English where the catalogues
    have none)."""
    found: dict[str, dict] = {}
    for title in titles:
        language = language_for([title["@language"]])
        found.setdefault(language, value_object(translate(
            message, language, title=title["@value"], hours=hours), language))
    return list(found.values())
