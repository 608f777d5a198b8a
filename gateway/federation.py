"""The portable record between nodes: export (host), verification (anyone), import (home).

* ``exportRecord`` (host): the member's cooperative issues her record to a recipient she
  consented to. The membership service decides (consent, scopes, how long) and logs
  ``RecordExported``; only then is the credential built from the gateway's views, for the
  consented scopes only, and signed with the node key. Her certificates come with it, each an
  Open Badges 3.0 credential of its own. Each credential's status entry points at a status
  list this gateway serves (``/credentials/status/{list}``), signed too.
* ``verifyRecord`` (anyone with a token): every check on its own: format, trusted issuer,
  signature, validity dates, revocation (the issuer's status list, fetched from the issuer's
  gateway as the trust list names it, and verified with the issuer's keys).
* ``importRecord`` (home): verify, check the record was shared with this cooperative (or
  node), then ``ImportRecord`` (same global member id, identity sealed here with her data
  key) and ``StartMembership`` at the home cooperative.

The record's subject (``credentialSubject``) is plain JSON: money as decimal strings in major
units with the ISO 4217 code, dates ISO 8601, skills as ESCO URIs / ISCO-08 codes, language
levels CEFR, and every id an absolute IRI (a cooperative ``urn:uuid:<id>``, a node
``urn:coopbridge:node:<id>``). Everything this node signs names its key by the key's URL at
this gateway (``/keys/…``, served by ``gateway/app.py``).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import hashlib
import io
import logging
import re
import ssl
import typing
import uuid
from typing import Any

import httpx
import msgspec
import segno
import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from gateway import credentials as vc
from gateway.documents import CertificateDoc, ExportDoc, MemberRecord
from gateway.records.documents import status_list_id
from gateway.access import SCOPES, SignedIn, active_member_of, authorized, who_may_send
from gateway.context import GatewayContext
from gateway.commands import command_id_for, send_command
from gateway.inputs import InputError, MoneyInput, enum_for, money_from_input
from gateway.results import PROBLEMS, NotAuthorized, Unavailable, ValidationError, problem
from schemas import membership as m
from schemas.fields import NOT_COME_YET, latest_day
from services import config
from services.runtime.datakeys import MemberErased as KeysMemberErased
from services.runtime.ids import new_id
from services.runtime.keys import b64url, jwks, key_url, signing_key
from schemas.money import AmountError, major_text, parse_major

log = logging.getLogger(__name__)

MEMBER_URN = "urn:coopbridge:member:"
UUID_URN = "urn:uuid:"
DEFAULT_DAYS, MAX_DAYS = 90, 365
#: Status lists are short-lived copies: a verifier refetches after this.
STATUS_LIST_TTL = dt.timedelta(minutes=10)
#: How long a verifier keeps a peer's status list before fetching it again.
STATUS_CACHE = dt.timedelta(minutes=1)
#: How far apart two nodes' clocks may be for a fresh status list to be valid at once.
CLOCK_SKEW = dt.timedelta(minutes=5)
STATUS_PATH = "/credentials/status/"
#: The printable record's summary credential: its type, how long it is valid, and the most
#: it may weigh (a QR code of version 40-M holds 2,331 bytes; under 2,000 it stays readable
#: printed at 6 cm).
SUMMARY_TYPE = "CoopbridgeMemberRecordSummary"
SUMMARY_DAYS = 365
MAX_SUMMARY_BYTES = 2_000


# -- building the record ---------------------------------------------------------------------


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


def sign(node: str, claims: dict) -> str:
    """A credential signed with the node's key, its ``kid`` the key's URL at this gateway."""
    key = signing_key(node)
    return vc.sign_credential(claims, key, kid=key_url(config.public_url(), key.public_key()))


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


def record_subject(record: MemberRecord, views, scopes: frozenset[str],
                   identity: m.PersonalDetails | None, shared_with: dict[str, str]) -> dict:
    """The ``credentialSubject`` of a member's record, with only ``scopes`` in it."""
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
    if "training" in scopes:
        subject["training"] = {"certificates": [{
            "certificateId": c.certificate_id, "title": c.title, "kind": c.kind,
            "issuedOn": (c.issued_on or c.completed_on or dt.date.today()).isoformat(),
            "hours": c.hours, "language": c.language, "level": c.level,
            "skills": list(c.skills), "revoked": c.revoked} for c in record.certificates]}
    return subject


def _shares_of(record: MemberRecord, views, cooperative_id: str):
    for account_id in record.accounts:
        account = views.get("accounts", account_id)
        if (account and account.cooperative_id == cooperative_id
                and account.product == "share_capital" and account.balance is not None):
            return account.balance
    return None


def _savings(record: MemberRecord, views) -> dict:
    balances, loans, corridors = [], [], {}
    for account_id in record.accounts:
        account = views.get("accounts", account_id)
        if account is None:
            continue
        if account.product != "loan" and account.balance is not None:
            balances.append({"product": account.product,
                             "balance": _money_json(account.balance),
                             "closed": account.closed})
        if account.loan is not None:
            timing = {"early": 0, "on_time": 0, "late": 0}
            for repayment in account.loan.repayments:
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
        for r in account.remittances:
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
            revoked=bool(x.get("revoked")))
            for x in (subject.get("training") or {}).get("certificates", [])]
        history = m.ImportedHistory(memberships=memberships, balances=balances, loans=loans,
                                    remittances=remittances, certificates=certificates)
        # the contract's own limits (lengths, patterns) apply to what came from outside
        return msgspec.json.decode(msgspec.json.encode(history), type=m.ImportedHistory)
    except (KeyError, TypeError, ValueError, AttributeError, InputError,
            msgspec.ValidationError) as bad:
        raise ValueError("the record's subject is not a coopbridge member record") from bad


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


def certificate_achievement(c: CertificateDoc, course_url: str) -> tuple[dict, list]:
    alignment = [skill_alignment(skill, c.title) for skill in c.skills]
    if c.language and c.level:
        alignment.append(vc.alignment("CEFR", c.level, f"CEFR {c.level} ({c.language})"))
    achievement = {
        "id": course_url, "name": c.title,
        "description": f"{c.title}: {c.hours} hours, {c.kind.replace('_', ' ')} course",
        "criteria": f"Completed {c.hours} hours of {c.title} and passed its assessment",
        "achievementType": "Certificate" if c.kind != "language" else "Course",
        "alignment": alignment}
    return achievement, alignment


# -- status lists ----------------------------------------------------------------------------


def status_list_url(node_url: str, list_id: str) -> str:
    return f"{node_url}{STATUS_PATH}{list_id}"


def signed_status_list(node: str, list_id: str, views, now: dt.datetime) -> str | None:
    listed = views.get("statuslists", list_id)
    revoked = listed.revoked if listed is not None else []
    claims = vc.status_list_credential(  # valid from a little earlier: clocks differ
        node=node, list_url=status_list_url(config.public_url(), list_id),
        revoked_indices=revoked, valid_from=now - CLOCK_SKEW, valid_until=now + STATUS_LIST_TTL)
    return sign(node, claims)


def trusted(node: str) -> dict[str, dict]:
    """Issuer id -> JWKS: this node and its peers."""
    listed = {vc.node_issuer(p.node): p.jwks for p in config.peers(node).values()}
    listed[vc.node_issuer(node)] = jwks(signing_key(node).public_key())
    return listed


async def verify(context: GatewayContext, token: str) -> vc.Verification:
    """Every check, with the issuer's status list fetched from where the trust list says,
    and only for a credential whose signature a trusted issuer's key verifies: an unsigned
    one never makes this gateway fetch anything."""
    trust = trusted(context.node)
    first = vc.verify_credential(token, trust, context.now)
    if first.credential is None or first.checks.get("signature") is not None:
        return first
    claims = first.credential
    issuer = vc.issuer_of(claims) or ""
    entries = claims.get("credentialStatus")
    entries = entries if isinstance(entries, list) else [entries] if entries else []
    lists: dict[str, dict | None] = {}
    for entry in entries[:2]:
        url = entry.get("statusListCredential") if isinstance(entry, dict) else None
        if isinstance(url, str) and url not in lists:
            lists[url] = await _status_list(context, issuer, url, trust)
    return vc.verify_credential(token, trust, context.now, status=lists.get)


#: Status lists already fetched and verified: url -> (claims, until when they may be used).
_LISTS: dict[str, tuple[dict, dt.datetime]] = {}
_LIST_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


async def _status_list(context: GatewayContext, issuer: str, url: str,
                       trust: dict) -> dict | None:
    """A status list's verified claims. Only ``<issuer's gateway>/credentials/status/<uuid>``
    is ever fetched, the gateway being the one the trust list names for the issuer: a
    credential cannot make this gateway fetch anything else."""
    node = issuer.removeprefix("urn:coopbridge:node:")
    own = issuer == vc.node_issuer(context.node)
    peer = None if own else config.peers(context.node).get(node)
    base = config.public_url() if own else (peer.gateway_url if peer else None)
    if base is None or not url.startswith(base + STATUS_PATH):
        return None
    list_id = url[len(base + STATUS_PATH):]
    if not _LIST_ID.match(list_id):
        return None
    if own:
        return vc.verify_status_list(signed_status_list(context.node, list_id, context.views,
                                                        context.now), trust, context.now)
    cached = _LISTS.get(url)
    if cached is not None and cached[1] > context.now:
        return cached[0]
    token = await fetch_status_list(url)
    if token is None:
        log.warning("status list of node %s unreachable", node)
        return None
    claims = vc.verify_status_list(token, trust, context.now)
    if claims is not None:
        until = vc.date_of(claims.get("validUntil")) or context.now
        _LISTS[url] = (claims, min(until, context.now + STATUS_CACHE))
        if len(_LISTS) > 10_000:
            _LISTS.pop(next(iter(_LISTS)))
    return claims


#: The most a status list may weigh: ours is about 1.5 KB signed (131,072 bits, gzipped), and
#: about 30 KB with half its bits set at random (the most gzip can be left with); reading
#: stops here, whatever the peer sends or declares.
MAX_STATUS_LIST_BYTES = 64 * 1024
#: One deadline for the whole fetch: connecting, TLS, the headers and the body together. A
#: verification waits no longer for a slow or trickling peer (its revocation is then not
#: checked, and the record not valid).
STATUS_FETCH_S = 5.0


@functools.cache
def _peer_tls(ca_file: str | None) -> ssl.SSLContext:
    """Whom a peer's gateway may be: whom httpx trusts by default (the public certificate
    authorities), and the federation's own authority if ``COOPBRIDGE_PEER_CA`` names one."""
    context = httpx.create_ssl_context()
    if ca_file:
        context.load_verify_locations(cafile=ca_file)
    return context


def _refused(response: httpx.Response) -> str | None:
    """Why a status list's headers already rule it out, or None."""
    if response.status_code != 200:
        return f"status {response.status_code}"
    if response.headers.get("content-encoding", "identity") != "identity":
        return "compressed"  # the cap counts what is kept, not what it would expand to
    declared = response.headers.get("content-length", "0")
    if not declared.isdigit() or int(declared) > MAX_STATUS_LIST_BYTES:
        return "too large"
    return None


async def fetch_status_list(url: str) -> str | None:
    """GET a peer's status list (a vc+jwt), or None: unreachable, not 200, compressed, over
    ``MAX_STATUS_LIST_BYTES`` (stopped reading there, the rest never read), or not all there
    within ``STATUS_FETCH_S``."""
    ca_file = config.peer_ca()
    try:
        async with asyncio.timeout(STATUS_FETCH_S), httpx.AsyncClient(
                timeout=STATUS_FETCH_S, follow_redirects=False,
                verify=_peer_tls(str(ca_file) if ca_file else None),
                headers={"accept-encoding": "identity"}) as client, client.stream(
                "GET", url) as response:
            refused = _refused(response)
            body = bytearray()
            if refused is None:
                async for chunk in response.aiter_raw():
                    body += chunk
                    if len(body) > MAX_STATUS_LIST_BYTES:
                        refused = "too large"
                        break
    except (httpx.HTTPError, httpx.InvalidURL, OSError, TimeoutError) as exc:
        refused = type(exc).__name__
    if refused is not None:
        log.warning("status list %s not fetched: %s", url, refused)
        return None
    return body.decode("utf-8", errors="replace").strip()


# -- GraphQL ---------------------------------------------------------------------------------


@strawberry.input(one_of=True, description="exactly one: a cooperative (id) or a node (id)")
class RecipientInput:
    cooperative: typing.Optional[strawberry.ID] = strawberry.field(
        default=strawberry.UNSET, description="a cooperative's id (a UUID), at any node")
    node: typing.Optional[str] = strawberry.field(
        default=strawberry.UNSET, description="a node's id (ec): any of its cooperatives may "
                                              "import the record")


@strawberry.input(description="Which member's record to issue, to whom, covering what, for "
                              "how long")
class ExportRecordInput:
    member_id: strawberry.ID
    recipient: RecipientInput = strawberry.field(
        description="whom it is for: the recipient of her active consent")
    scopes: typing.Optional[list[str]] = strawberry.field(
        default=None, description="identity, membership, savings, training; "
                                  "default: what her consent to the recipient grants")
    valid_days: int = strawberry.field(default=DEFAULT_DAYS,
                                       description=f"1 to {MAX_DAYS}; never past the consent")


@strawberry.type(description="A signed portable record, and her certificates")
class ExportedRecord:
    credential_id: strawberry.ID
    credential: str = strawberry.field(
        description="the record: a W3C Verifiable Credential 2.0 as a compact JWS, typ vc+jwt, "
                    "signed EdDSA with the node's key; hand it to the recipient")
    valid_until: dt.datetime
    certificates: list[str] = strawberry.field(
        description="one Open Badges 3.0 credential (compact JWS, typ JWT) per "
                    "certificate")
    status_list: str = strawberry.field(description="where the issuer publishes revocations")


@strawberry.input(description="A record from another node, and the membership it starts at a "
                              "cooperative here")
class ImportRecordInput:
    credential: str = strawberry.field(
        description="the record as she brought it: the compact JWS (vc+jwt) another node "
                    "issued, shared with this cooperative or this node, covering her "
                    "memberships")
    cooperative_id: strawberry.ID = strawberry.field(
        description="the cooperative of this node she joins (its id)")
    started_on: dt.date = strawberry.field(
        description="the first day of her membership here, a day that has come")
    share_capital_required: MoneyInput = strawberry.field(
        description="the share capital her membership here requires, in the cooperative's "
                    "currency")
    role: enum_for(m.MembershipRole) = strawberry.field(
        default=enum_for(m.MembershipRole).MEMBER, description="her role here")


@strawberry.type(description="An imported record and the home membership it started")
class RecordImportedHere:
    member_id: strawberry.ID
    credential_id: strawberry.ID
    membership_started: bool = strawberry.field(
        description="her membership here started now (false: she was a member already)")
    visible: bool = strawberry.field(
        description="the gateway's views already show her membership (read-your-writes)")


@strawberry.type(description="The record did not pass verification: see the checks")
class RecordNotVerified:
    code: str = strawberry.field(description="RecordNotVerified")
    message: str = strawberry.field(description="which checks failed, in one sentence")
    checks: list["VerificationCheck"] = strawberry.field(
        description="every check, passed or not")


@strawberry.type(description="One check of a credential and its outcome")
class VerificationCheck:
    name: str = strawberry.field(description="format, issuer, signature, validity, revocation")
    passed: bool = strawberry.field(description="the check passed")
    reason: str | None = strawberry.field(description="why it failed; null if it passed")


@strawberry.type(description="What verifying a credential found, check by check")
class RecordVerification:
    valid: bool = strawberry.field(description="every check passed")
    checks: list[VerificationCheck] = strawberry.field(
        description="format (VC 2.0 in a vc+jwt JWS, EdDSA), issuer (a trusted node), "
                    "signature, validity (its dates) and revocation (the issuer's status list)")
    issuer: str | None = strawberry.field(
        description="who issued it: urn:coopbridge:node:<node id>; null if unreadable")
    credential_id: str | None = strawberry.field(
        description="the credential's id without its urn:uuid: prefix; null if it has none")
    valid_from: str | None = strawberry.field(
        description="its validFrom, as written (ISO 8601); null if absent")
    valid_until: str | None = strawberry.field(
        description="its validUntil, as written (ISO 8601); null if absent")
    record: JSON | None = strawberry.field(
        description="the credential's subject, as signed (null if not readable)")


ExportRecordResult = typing.Annotated[typing.Union[(ExportedRecord, *PROBLEMS)],
                                      strawberry.union("ExportRecordResult", description=(
                                          "The signed record, or why it was not issued"))]
ImportRecordResult = typing.Annotated[
    typing.Union[(RecordImportedHere, RecordNotVerified, *PROBLEMS)],
    strawberry.union("ImportRecordResult", description=(
        "The record imported and her membership started, or why not"))]


def _checks(result: vc.Verification) -> list[VerificationCheck]:
    return [VerificationCheck(name=name, passed=reason is None, reason=reason)
            for name, reason in result.checks.items()]


def _id_of(value: Any) -> str | None:
    return value.removeprefix("urn:uuid:") if isinstance(value, str) else None


async def verify_record(info: Info[GatewayContext, None],
                        credential: typing.Annotated[str, strawberry.argument(
                            description="a credential as a compact JWS (vc+jwt): a record "
                                        "or a certificate; only its first 524,288 "
                                        "characters are read")],
                        ) -> RecordVerification:
    context = info.context
    result = await verify(context, credential[:512 * 1024])
    claims = result.credential or {}
    subject = claims.get("credentialSubject")
    return RecordVerification(
        valid=result.valid, checks=_checks(result), issuer=vc.issuer_of(claims),
        credential_id=_id_of(claims.get("id")), valid_from=_text(claims.get("validFrom")),
        valid_until=_text(claims.get("validUntil")),
        record=subject if isinstance(subject, dict) else None)


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
    scopes = input.scopes
    if scopes is None:  # what the consent the service will choose grants: the one
        granted = [c for c in record.consents  # expiring last (ties: the larger id)
                   if not c.revoked and c.expires_at > context.now
                   and c.grantee_kind == kind.value and c.grantee == grantee]
        chosen = max(granted, key=lambda c: (c.expires_at, c.consent_id), default=None)
        scopes = sorted(chosen.scopes) if chosen else ["membership"]
    if not scopes or not set(scopes) <= SCOPES:
        return ValidationError(code="ValidationError", field="input.scopes",
                               message="scopes are identity, membership, savings, training")
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
    return await _issue(context, record_after(context, record.member_id), exported)


def record_after(context: GatewayContext, member_id: str) -> MemberRecord:
    return context.views.get("members", member_id)


async def _issue(context: GatewayContext, record: MemberRecord,
                 exported: ExportDoc) -> ExportedRecord:
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
                             shared_with)
    base = config.public_url()
    records_list = status_list_url(base, status_list_id(record.member_id))
    credential = sign(node, vc.member_record_credential(
        node=node, credential_id=exported.credential_id, subject=subject,
        valid_from=exported.valid_from, valid_until=exported.valid_until,
        status_list=records_list, status_index=exported.status_index))
    certificates = []
    if "training" in exported.scopes:
        certificates_list = status_list_url(base, status_list_id(record.member_id,
                                                                    "certificates"))
        for index, c in enumerate(record.certificates):
            coop = context.views.get("cooperatives", c.cooperative_id)
            achievement, _ = certificate_achievement(c, f"{base}/courses/{c.course_id}")
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
        return RecordNotVerified(code="RecordNotVerified", checks=_checks(result),
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
        member_id=member_id, credential_id=_id_of(claims.get("id")) or base_id,
        issuer_node=issuer.removeprefix("urn:coopbridge:node:"),
        issued_at=vc.date_of(claims.get("validFrom")) or context.now,
        digest=b64url(hashlib.sha256(input.credential.encode()).digest()), history=history,
        personal=personal)
    outcome = await send_command(context, imported, member_id,
                                 str(uuid.uuid5(uuid.UUID(base_id), "import")))
    if not hasattr(outcome, "events") and getattr(outcome, "code", "") != "RecordAlreadyImported":
        return outcome
    joined = await send_command(context, m.StartMembership(
        **joining, role=role, started_on=input.started_on,
        share_capital_required=m.Money(**share_capital)),
        member_id, str(uuid.uuid5(uuid.UUID(base_id), "membership")))
    started = hasattr(joined, "events")
    if not started and getattr(joined, "code", "") != "AlreadyAMember":
        return joined
    return RecordImportedHere(member_id=member_id, credential_id=imported.credential_id,
                              membership_started=started,
                              visible=bool(getattr(joined, "visible", True)))


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


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


# -- the printable record ---------------------------------------------------------------------


@strawberry.type(description="What the printed member record carries: a signed summary "
                             "(vc+jwt) a cooperative verifies offline, as a QR code")
class PrintableRecord:
    credential: str = strawberry.field(
        description="compact JWS, typ vc+jwt, type CoopbridgeMemberRecordSummary: her "
                    "memberships, loan repayment counts and certificates, no identity")
    qr_svg: str = strawberry.field(description="the credential as a QR code (SVG, error "
                                               "correction M)")
    verify_url: str = strawberry.field(
        description="the issuing node's public keys (JWKS): fetched once, they verify the "
                    "QR code offline")


def record_summary(record: MemberRecord, views, compact: bool = False) -> dict:
    """The ``credentialSubject`` of the printable summary: no identity field, only what a
    cooperative needs to trust her history (a repayment made early counts as on time);
    ``compact`` keeps counts only (for a record too long for a QR code)."""
    full = record_subject(record, views, frozenset({"membership", "savings", "training"}),
                          None, {})
    loans = [{"repaidOnTime": x["repaidOnTime"] + x["repaidEarly"], "repaidLate": x["repaidLate"],
              "closed": x["closed"]} for x in full["savings"]["loans"]]
    certificates = [{"title": c["title"], **({"level": c["level"]} if c["level"] else {})}
                    for c in full["training"]["certificates"] if not c["revoked"]]
    subject: dict[str, Any] = {"id": MEMBER_URN + record.member_id}
    if not compact:
        subject["memberships"] = [
            {"cooperative": x["cooperative"]["name"], "country": x["cooperative"]["country"],
             "from": x["startedOn"], **({"until": x["endedOn"]} if x["endedOn"] else {})}
            for x in full["memberships"]]
        subject["loans"] = loans
        subject["certificates"] = certificates
        return subject
    subject["memberships"] = {"count": len(full["memberships"]),
                              "countries": sorted({x["cooperative"]["country"]
                                                   for x in full["memberships"]}),
                              "since": min((x["startedOn"] for x in full["memberships"]),
                                           default=None)}
    subject["loans"] = {"count": len(loans),
                        "repaidOnTime": sum(x["repaidOnTime"] for x in loans),
                        "repaidLate": sum(x["repaidLate"] for x in loans)}
    subject["certificates"] = {"count": len(certificates),
                               "levels": sorted({c["level"] for c in certificates
                                                 if "level" in c})}
    return subject


def summary_credential(node: str, record: MemberRecord, views, now: dt.datetime) -> str:
    """The signed summary (``vc+jwt``): valid a year, no status entry (it is verified offline,
    where no status list can be fetched; it is a snapshot, dated by ``validFrom``), cut to
    counts when the full summary would not fit a readable QR code."""
    now = now.astimezone(dt.UTC).replace(microsecond=0)

    def stamp(moment: dt.datetime) -> str:
        return moment.isoformat().replace("+00:00", "Z")

    for compact in (False, True):
        claims = {"@context": [vc.CONTEXT, vc.UNDEFINED_TERMS_CONTEXT],
                  "type": ["VerifiableCredential", SUMMARY_TYPE],
                  "issuer": vc.node_issuer(node), "validFrom": stamp(now),
                  "validUntil": stamp(now + dt.timedelta(days=SUMMARY_DAYS)),
                  "credentialSubject": record_summary(record, views, compact)}
        token = sign(node, claims)
        if len(token) <= MAX_SUMMARY_BYTES:
            break
    return token


def qr_svg(text: str) -> str:
    """``text`` as a QR code: an SVG document (with its namespace, so that it renders inline
    in HTML and parsed as XML alike) that scales with its box (a viewBox, no size)."""
    code = segno.make(text, error="m", boost_error=False, micro=False)
    out = io.BytesIO()
    code.save(out, kind="svg", xmldecl=False, svgns=True, nl=False, scale=1, border=4,
              omitsize=True, svgclass="qr", title="Signed summary of this record")
    return out.getvalue().decode()


async def printable_record(info: Info[GatewayContext, None],
                           member_id: strawberry.ID) -> PrintableRecord | None:
    context = info.context
    record = context.views.get("members", str(member_id))
    if (record is None or not record.registered or record.erased
            or not active_member_of(context.caller, record)):
        return None
    credential = summary_credential(context.node, record, context.views, context.now)
    return PrintableRecord(credential=credential, qr_svg=qr_svg(credential),
                           verify_url=f"{config.public_url()}/.well-known/jwks.json")


#: Commands with a mutation of their own (``MUTATIONS``): the gateway builds them.
BUILT_HERE = (m.ExportRecord, m.ImportRecord)

#: Mutations and queries this module adds to the schema.
MUTATIONS = {"exportRecord": strawberry.mutation(
                 export_record, description="Issue a member's portable record (VC 2.0, "
                 "vc+jwt) to a recipient she consented to; every export is an event. "
                 + who_may_send(m.ExportRecord)),
             "importRecord": strawberry.mutation(
                 import_record, description="Verify a record from another node, record it "
                 "for the same member id, and start her membership here. "
                 + who_may_send(m.ImportRecord))}
QUERIES = {"verify_record": strawberry.field(
    verify_record, permission_classes=[SignedIn], description="Check a record: format, "
    "trusted issuer, signature, validity dates and revocation, each on its own; for any "
    "signed-in caller"),
           "printable_record": strawberry.field(
    printable_record, permission_classes=[SignedIn], description="A signed summary of a member's record for her printed "
    "copy, with its QR code (her own cooperatives and the node admin; else null)")}
