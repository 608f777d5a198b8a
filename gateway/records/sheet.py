"""Her record as a page shows it, built here in each of its languages (issue 23): every
label from the catalogues, every day, amount, count and country name formatted for that
language's locale by Babel (CLDR), so the browser formats nothing and shows two languages
side by side the same everywhere. A course title she has in no language of the column shows
in its own language, marked (``Cell.language``).

Which languages: those asked for (``printableRecord { sheet(languages) }``, the page's
``#lang=``), else the language of her cooperative (the first she chose where she is active)
and her own first preferred language, in that order; at most ``MOST``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

import msgspec
from babel.numbers import format_decimal, format_percent

from gateway.documents import MemberRecord, accounts_of
from gateway.i18n.catalogues import language_for, translate
from gateway.i18n.formats import count, day, direction, locale_of, money
from gateway.i18n.languages import canonical, pick
from gateway.records import words
from gateway.records.languages import her_cooperatives_language
from gateway.records.subject import hours_text, work_done
from schemas import membership as m
from schemas.fields import Money

#: The most languages one sheet shows side by side.
MOST = 2
#: The page's own words, by the key the page finds them under.
LABELS = {"title": words.TITLE, "eyebrow": words.EYEBROW, "member_id": words.MEMBER_ID,
          "issued_by": words.ISSUED_BY, "printed": words.PRINTED,
          "at_a_glance": words.AT_A_GLANCE, "verify": words.VERIFY, "scan": words.SCAN,
          "foot": words.FOOT, "print": words.PRINT, "hint": words.HINT,
          "forget": words.FORGET}


@dataclass
class Cell:
    text: str
    language: str | None = None  # the text's own language, when not the column's
    note: str | None = None  # then, which language it is, in the column's words


@dataclass
class Table:
    key: str  # memberships, savings, loans, remittances, certificates, assemblies, work
    heading: str
    columns: list[str]
    numeric: list[bool]
    rows: list[list[Cell]]
    empty: str


@dataclass
class Column:
    language: str  # the BCP 47 tag its days and amounts are formatted for
    catalogue: str  # the catalogue its words come from (``language_for``)
    direction: str  # ltr, rtl
    labels: dict[str, str]
    glance: list[tuple[str, str]]
    tables: list[Table] = field(default_factory=list)


async def preferred_languages(keys, record: MemberRecord) -> tuple[str, ...]:
    """Her preferred languages, from her sealed details (none once erased, nor when her key
    cannot be read now: the sheet is then in her cooperative's language alone)."""
    if record.personal is None:
        return ()
    try:
        plaintext = await keys.open(record.member_id, record.personal)
    except Exception:  # noqa: BLE001 (KeysUnavailable, a timeout: the sheet goes on)
        return ()
    if plaintext is None:
        return ()
    return tuple(msgspec.json.decode(plaintext, type=m.PersonalDetails).preferred_languages)


def sheet_languages(record: MemberRecord, views, preferred: Sequence[str],
                    asked: Sequence[str] | None) -> list[str]:
    """The languages of her sheet: ``asked`` (well-formed tags only), else her cooperative's
    language and her first ``preferred`` one; English when neither says."""
    if asked:
        tags = [tag for tag in (canonical(a) for a in asked) if tag]
        return list(dict.fromkeys(tags))[:MOST] or ["en"]
    chosen = [her_cooperatives_language(record, views),
              *(canonical(p) for p in preferred[:1])]
    return list(dict.fromkeys(tag for tag in chosen if tag))[:MOST] or ["en"]


def record_sheet(record: MemberRecord, views, languages: Sequence[str],
                 today: dt.date, valid_until: dt.date | None = None) -> list[Column]:
    """Her record in each of ``languages``: one column each; ``today`` (printed) and
    ``valid_until`` (her QR code's) worded in each."""
    return [_column(record, views, language, today, valid_until) for language in languages]


def _column(record: MemberRecord, views, language: str, today: dt.date,
            valid_until: dt.date | None) -> Column:
    catalogue = language_for([language])

    def _(message: str, /, **fields: object) -> str:
        return translate(message, catalogue, **fields)

    locale = locale_of(language)[0]

    def country(code: str) -> str:
        name = locale.territories.get(code) if code else None
        return f"{name} ({code})" if name and name != code else code or ""

    coops = {}
    for cooperative_id in {ms.cooperative_id for ms in record.memberships}:
        coops[cooperative_id] = views.get("cooperatives", cooperative_id)

    def coop_name(cooperative_id: str) -> str:
        coop = coops.get(cooperative_id) or views.get("cooperatives", cooperative_id)
        if coop is not None and coop.names:  # its name in the column's language, if it has one
            return pick(coop.names, [language]).text
        return coop.name if coop is not None and coop.name else cooperative_id

    def coop_country(cooperative_id: str) -> str:
        coop = coops.get(cooperative_id) or views.get("cooperatives", cooperative_id)
        return country(coop.country) if coop is not None else ""

    labels = {key: _(message) for key, message in LABELS.items()}
    labels["today"] = day(today, language)
    labels["scan"] = _(words.SCAN, date=day(valid_until, language) if valid_until else "")
    column = Column(language=language, catalogue=catalogue, direction=direction(language),
                    labels=labels, glance=[])
    # cooperatives
    rows = []
    for ms in record.memberships:
        until = _(words.MEMBER_TODAY)
        if ms.ended_on is not None:
            ended = day(ms.ended_on, language)
            until = (_(words.ENDED_BECAUSE, day=ended,
                       reason=_(words.REASONS.get(ms.end_reason, ms.end_reason)))
                     if ms.end_reason else ended)
        rows.append([Cell(coop_name(ms.cooperative_id)), Cell(coop_country(ms.cooperative_id)),
                     Cell(_(words.ROLES.get(ms.role, ms.role))),
                     Cell(day(ms.started_on, language)), Cell(until)])
    imports = _latest(record.imports)  # her history from other nodes, as the records said
    for imported in imports:
        for ims in imported.history.memberships:
            rows.append([Cell(_(words.FROM_NODE, name=ims.cooperative_name,
                                node=imported.issuer_node)), Cell(country(ims.country)),
                         Cell(_(words.ROLES.get(ims.role.value, ims.role.value))),
                         Cell(day(ims.started_on, language)),
                         Cell(day(ims.ended_on, language) if ims.ended_on else "")])
    column.tables.append(Table("memberships", _(words.COOPERATIVES), [
        _(words.COOPERATIVE), _(words.COUNTRY), _(words.ROLE), _(words.FROM), _(words.UNTIL)],
        [False] * 5, rows, _(words.NO_MEMBERSHIPS)))
    # accounts, loans, remittances
    accounts = [a for a in (views.get("accounts", i) for i in accounts_of(views, record.member_id))
                if a is not None]
    column.tables.append(Table("savings", _(words.SAVINGS), [
        _(words.ACCOUNT), _(words.COOPERATIVE), _(words.BALANCE), _(words.STATUS)],
        [False, False, True, False],
        [[Cell(_(words.PRODUCTS.get(a.product, a.product))), Cell(coop_name(a.cooperative_id)),
          Cell(money(a.balance, language) if a.balance is not None else ""),
          Cell(_(words.CLOSED if a.closed else words.OPEN))]
         for a in accounts if a.product != "loan"]
        + [[Cell(_(words.PRODUCTS.get(b.product, b.product))),
            Cell(_(words.FROM_NODE, name="", node=i.issuer_node).strip(" ·")),
            Cell(money(b.balance, language)), Cell("")]
           for i in imports for b in i.history.balances], _(words.NO_ACCOUNTS)))
    loan_rows, on_time_all, late_all = [], 0, 0
    for a in accounts:
        if a.loan is None:
            continue
        timing = {"early": 0, "on_time": 0, "late": 0}
        for repayment in views.rows("repayments", a.loan.repayments_key(a.account_id)):
            timing[repayment.timing] = timing.get(repayment.timing, 0) + 1
        on_time, late = timing["on_time"] + timing["early"], timing["late"]
        on_time_all, late_all = on_time_all + on_time, late_all + late
        loan_rows.append([
            Cell(coop_name(a.cooperative_id)), Cell(money(a.loan.principal, language)),
            Cell(_(words.MONTHS, count=count(a.loan.term_months, language))),
            Cell(_(words.REPAYMENTS_MADE, made=count(on_time + late, language),
                   on_time=count(on_time, language), late=count(late, language))),
            Cell(money(a.loan.outstanding, language)),
            Cell(_(words.REPAID if a.loan.closed else words.BEING_REPAID))])
    for imported in imports:
        for loan in imported.history.loans:
            on_time, late = loan.repaid_on_time + loan.repaid_early, loan.repaid_late
            on_time_all, late_all = on_time_all + on_time, late_all + late
            loan_rows.append([
                Cell(_(words.FROM_NODE, name="", node=imported.issuer_node).strip(" ·")),
                Cell(money(loan.principal, language)),
                Cell(_(words.MONTHS, count=count(loan.instalments, language))),
                Cell(_(words.REPAYMENTS_MADE, made=count(on_time + late, language),
                       on_time=count(on_time, language), late=count(late, language))),
                Cell(""), Cell(_(words.REPAID if loan.closed else words.BEING_REPAID))])
    column.tables.append(Table("loans", _(words.LOANS), [
        _(words.COOPERATIVE), _(words.LOAN), _(words.TERM), _(words.REPAYMENTS),
        _(words.STILL_OWED), _(words.STATUS)], [False, True, False, False, True, False],
        loan_rows, _(words.NO_LOANS)))
    corridors: dict[tuple[str, str], list[int]] = {}
    for a in accounts:
        for r in views.rows("remittances", a.account_id):
            if r.direction != "sent" or r.status == "refunded":
                continue
            sums = corridors.setdefault((r.corridor or "", r.amount.currency), [0, 0, 0])
            sums[0] += 1
            sums[1] += r.amount.amount
            sums[2] += r.fee.amount if r.fee else 0
    for imported in imports:
        for sent_home in imported.history.remittances:
            sums = corridors.setdefault((sent_home.corridor, sent_home.sent.currency), [0, 0, 0])
            sums[0] += sent_home.count
            sums[1] += sent_home.sent.amount
            sums[2] += sent_home.fees.amount
    remittance_rows = []
    for (corridor, currency), (number, sent, fees) in sorted(corridors.items()):
        ends = corridor.split("-")
        remittance_rows.append([
            Cell(f"{country(ends[0])} → {country(ends[1])}" if len(ends) == 2 else corridor),
            Cell(count(number, language)), Cell(money(Money(sent, currency), language)),
            Cell(money(Money(fees, currency), language)),
            Cell(format_percent(round(Decimal(fees) / Decimal(sent), 4), locale=locale,
                                decimal_quantization=False) if sent else "")])
    column.tables.append(Table("remittances", _(words.SENT_HOME), [
        _(words.CORRIDOR), _(words.TRANSFERS), _(words.SENT), _(words.FEES_PAID),
        _(words.FEES_SHARE)], [False, True, True, True, True], remittance_rows,
        _(words.NO_REMITTANCES)))
    # certificates
    certificate_rows = []
    for c in record.certificates:
        title = pick(c.titles, [language]) if c.titles else None
        text = title.text if title is not None else c.title
        if c.revoked:
            text = _(words.REVOKED, title=text)
        level = f"CEFR {c.level}" + (f" · {c.language}" if c.language else "") if c.level else ""
        issued = c.issued_on or c.completed_on
        other = title.language if title is not None and title.fallback else None
        certificate_rows.append([
            Cell(text, other, _(words.IN_LANGUAGE, language=_language_name(other, catalogue))
                 if other else None),
            Cell(_(words.KINDS.get(c.kind, c.kind))), Cell(level),
            Cell(count(c.hours, language)), Cell(", ".join(_skill(s) for s in c.skills)),
            Cell(day(issued, language) if issued else "")])
    for imported in imports:
        for ic in imported.history.certificates:
            title = pick(ic.titles, [language]) if ic.titles else None
            text = title.text if title is not None else ic.title
            other = title.language if title is not None and title.fallback else None
            certificate_rows.append([
                Cell(_(words.REVOKED, title=text) if ic.revoked else text, other,
                     _(words.IN_LANGUAGE, language=_language_name(other, catalogue))
                     if other else None),
                Cell(_(words.KINDS.get(ic.kind, ic.kind))),
                Cell(f"CEFR {ic.level}" if ic.level else ""), Cell(""),
                Cell(", ".join(_skill(s) for s in ic.skills)), Cell(day(ic.issued_on, language))])
    column.tables.append(Table("certificates", _(words.CERTIFICATES), [
        _(words.CERTIFICATE), _(words.KIND), _(words.LEVEL), _(words.HOURS), _(words.SKILLS),
        _(words.ISSUED)], [False, False, False, True, False, False], certificate_rows,
        _(words.NO_CERTIFICATES)))
    # assemblies: on whose roll she was, whether and how she voted, offices (never her choice)
    def voted(how: str | None) -> str:
        return _(words.VOTES.get(how, how)) if how else _(words.VOTING_OPEN)

    def titled(titles: dict[str, str]) -> Cell:  # marked when in a language not asked for
        if not titles:
            return Cell("")
        found = pick(titles, [language])
        other = found.language if found.fallback else None
        return Cell(found.text, other, _(words.IN_LANGUAGE, language=_language_name(
            other, catalogue)) if other else None)

    assembly_rows = [[titled(part.titles), Cell(coop_name(part.cooperative_id)),
                      Cell(day(part.meeting_on, language)), Cell(voted(part.voted)),
                      Cell(", ".join(part.offices))] for part in record.assemblies]
    assembly_rows += [[titled(ia.titles),
                       Cell(_(words.FROM_NODE, name=ia.cooperative_name,
                              node=imported.issuer_node)),
                       Cell(day(ia.meeting_on, language)), Cell(voted(ia.voted)),
                       Cell(", ".join(ia.offices))]
                      for imported in imports for ia in imported.history.assemblies]
    column.tables.append(Table("assemblies", _(words.ASSEMBLIES), [
        _(words.ASSEMBLY), _(words.COOPERATIVE), _(words.MEETING), _(words.VOTED),
        _(words.OFFICES)], [False] * 5, assembly_rows, _(words.NO_ASSEMBLIES)))
    # work: the placements she worked, once ended (issue 26): never the employer or the wage
    def ended(on: dt.date, how: str | None) -> str:
        return (_(words.ENDED_BECAUSE, day=day(on, language),
                  reason=_(words.ENDINGS.get(how, how))) if how else day(on, language))

    def hours(minutes: int) -> str:
        return format_decimal(Decimal(hours_text(minutes)), locale=locale)

    work_rows = [[Cell(_skill("isco08:" + done.occupation)),
                  Cell(coop_name(done.cooperative_id)), Cell(country(done.country)),
                  Cell(day(done.started_on, language)),
                  Cell(ended(done.ended_on, done.reason.value)), Cell(hours(done.minutes))]
                 for done in work_done(record, views)]
    work_rows += [[Cell(_skill("isco08:" + iw.occupation)),
                   Cell(_(words.FROM_NODE, name=iw.cooperative_name, node=imported.issuer_node)),
                   Cell(country(iw.country or "")), Cell(day(iw.started_on, language)),
                   Cell(ended(iw.ended_on, iw.how_ended)), Cell(hours(iw.minutes))]
                  for imported in imports for iw in imported.history.work]
    column.tables.append(Table("work", _(words.WORK), [
        _(words.OCCUPATION), _(words.COOPERATIVE), _(words.COUNTRY), _(words.FROM),
        _(words.UNTIL), _(words.HOURS)], [False] * 5 + [True], work_rows, _(words.NO_WORK)))
    # at a glance
    abroad = [ims for i in imports for ims in i.history.memberships]
    since = min([ms.started_on for ms in record.memberships]
                + [ims.started_on for ims in abroad], default=None)
    if since is not None:
        column.glance.append((_(words.MEMBER_SINCE), day(since, language)))
    countries = sorted(({coop_country(ms.cooperative_id) for ms in record.memberships}
                        | {country(ims.country) for ims in abroad}) - {""})
    column.glance.append((_(words.COOPERATIVES),
                          count(len(record.memberships) + len(abroad), language)
                          + (" · " + ", ".join(countries) if countries else "")))
    if on_time_all + late_all:
        column.glance.append((_(words.REPAYMENTS), _(
            words.ON_TIME_LATE, on_time=count(on_time_all, language),
            late=count(late_all, language))))
    held = [c for c in record.certificates if not c.revoked] + [
        c for i in imports for c in i.history.certificates if not c.revoked]
    levels = [f"CEFR {c.level}" for c in held if c.level]
    column.glance.append((_(words.CERTIFICATES), count(len(held), language)
                          + (f" ({', '.join(levels)})" if levels else "")))
    return column


def _latest(imports):
    """The newest record she brought from each node: each is her whole history there, so
    two records from one node would count it twice."""
    newest = {}
    for imported in imports:
        held = newest.get(imported.issuer_node)
        if held is None or imported.issued_at > held.issued_at:
            newest[imported.issuer_node] = imported
    return list(newest.values())


def _language_name(tag: str, catalogue: str) -> str:
    """A language's name in the catalogue's language (Spanish, español), else its tag."""
    locale = locale_of(catalogue)[0]
    return locale.languages.get(tag.split("-")[0].lower()) or tag


def _skill(skill: str) -> str:
    """A skill's code as the sheet shows it (its label is ESCO's, at the URI)."""
    if skill.startswith("isco08:"):
        return "ISCO-08 " + skill[7:]
    kind, _, code = skill.rpartition("/")
    return f"ESCO {kind.rsplit('/', 1)[-1]} {code[:8]}" if "/esco/" in skill else skill
