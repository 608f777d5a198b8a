"""The records feature's GraphQL types: her records imported here (what they state of her
life abroad) and issued here, the inputs and results of ``exportRecord`` and
``importRecord``, a verification check by check, and the printable record.
"""

from __future__ import annotations

import datetime as dt
import typing

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from gateway.documents import ImportDoc
from gateway.i18n.types import LANG, LocalizedText, localized
from gateway.inputs import MoneyInput, enum_for
from gateway.records.sheet import preferred_languages, record_sheet, sheet_languages
from gateway.records.sheet_types import SheetColumn
from gateway.records.subject import hours_text
from gateway.records.verification import Verification
from gateway.results import PROBLEMS
from gateway.types import Money, own_id, use_id
from schemas import membership as m


@strawberry.type(description="A membership abroad, as an imported record states it")
class ImportedMembership:
    cooperative_name: str
    country: str
    role: str
    started_on: dt.date
    ended_on: dt.date | None
    share_capital: Money | None


@strawberry.type(description="A loan abroad and how it was repaid")
class ImportedLoan:
    principal: Money
    disbursed_on: dt.date
    instalments: int
    repaid_early: int
    repaid_on_time: int
    repaid_late: int
    closed: bool


@strawberry.type(description="An account's balance abroad when the record was issued")
class ImportedBalance:
    product: str
    balance: Money


@strawberry.type(description="Remittances she sent abroad in one corridor and currency")
class ImportedRemittances:
    corridor: str
    count: int
    sent: Money
    fees: Money


@strawberry.type(description="A certificate earned abroad, as an imported record states it")
class ImportedCertificate:
    title: str = strawberry.field(description="its title, in the first language the record "
                                              "gave")
    kind: str
    issued_on: dt.date
    level: str | None
    skills: list[str]
    revoked: bool
    language: str | None = None
    titles: strawberry.Private[dict[str, str]] = None

    @strawberry.field(description="its title in the reader's language when the record gave "
                                  "it, else in its first language, marked as a fallback")
    def localized_title(self, info: Info, lang: typing.Annotated[
            typing.Optional[list[str]], strawberry.argument(description=LANG)] = None
                        ) -> LocalizedText:
        return localized(self.titles or {"und": self.title}, info, lang)


@strawberry.type(description="An assembly abroad she was on the roll of, as an imported "
                             "record states it: whether and how she voted, the offices she "
                             "was elected to (never her choice)")
class ImportedAssembly:
    cooperative_name: str
    country: str | None = strawberry.field(description="its cooperative's country; null if "
                                                       "the record did not say")
    meeting_on: dt.date
    voted: str | None = strawberry.field(description=(
        "remote (herself, from wherever she was), proxy, in_person or no; null: the voting "
        "was still open when the record was issued"))
    offices: list[str] = strawberry.field(description="the offices she was elected to")
    titles: strawberry.Private[dict[str, str]] = None

    @strawberry.field(description="the assembly's title in the reader's language when the "
                                  "record gave it, else in its first language, marked as a "
                                  "fallback; null if the record gave none")
    def title(self, info: Info, lang: typing.Annotated[
            typing.Optional[list[str]], strawberry.argument(description=LANG)] = None
              ) -> LocalizedText | None:
        return localized(self.titles, info, lang) if self.titles else None


@strawberry.type(description="A placement abroad she worked, through a cooperative, as an "
                             "imported record states it: the occupation, the cooperative that "
                             "placed her, the period, the time worked and how it ended")
class ImportedWork:
    occupation: str
    cooperative_name: str
    country: str | None = strawberry.field(description="the country where she worked: an ISO "
                                                       "3166-1 alpha-2 code (ES); null if the "
                                                       "record did not say")
    started_on: dt.date
    ended_on: dt.date
    minutes: int
    how_ended: str | None = strawberry.field(description=(
        "how it ended: completed, worker_left, employer_ended or cooperative_ended; null if "
        "the record did not say"))

    @strawberry.field(description="the time she worked in hours, a decimal string (\"7.5\"): "
                                  "exact when the minutes are a multiple of 3, else to the "
                                  "nearest hundredth")
    def hours(self) -> str:
        return hours_text(self.minutes)


@strawberry.type(description="A portable record from another node, verified and imported")
class ImportedRecord:
    credential_id: strawberry.ID = use_id()
    id: strawberry.ID = own_id("credential_id", "record")
    issuer_node: str
    issued_at: dt.datetime
    imported_at: dt.datetime = strawberry.field(description="when it was imported here")
    memberships: list[ImportedMembership] = strawberry.field(
        description="her memberships abroad, as the record states them")
    balances: list[ImportedBalance] = strawberry.field(
        description="her balances abroad when the record was issued")
    loans: list[ImportedLoan] = strawberry.field(
        description="her loans abroad and how she repaid them: her credit history")
    remittances: list[ImportedRemittances] = strawberry.field(
        description="what she sent, by corridor and currency")
    certificates: list[ImportedCertificate] = strawberry.field(
        description="her certificates, as the record states them")
    assemblies: list[ImportedAssembly] = strawberry.field(
        description="the assemblies abroad she was on the roll of, as the record states them")
    work: list[ImportedWork] = strawberry.field(
        description="the placements abroad she worked through cooperatives, as the record "
                    "states them")

    @classmethod
    def from_doc(cls, doc: ImportDoc) -> ImportedRecord:
        h = doc.history
        return cls(
            credential_id=doc.credential_id, issuer_node=doc.issuer_node,
            issued_at=doc.issued_at, imported_at=doc.imported_at,
            memberships=[ImportedMembership(
                cooperative_name=x.cooperative_name, country=x.country, role=x.role.value,
                started_on=x.started_on, ended_on=x.ended_on,
                share_capital=Money.from_value(x.share_capital)) for x in h.memberships],
            balances=[ImportedBalance(product=x.product, balance=Money.from_value(x.balance))
                      for x in h.balances],
            loans=[ImportedLoan(
                principal=Money.from_value(x.principal), disbursed_on=x.disbursed_on,
                instalments=x.instalments, repaid_early=x.repaid_early,
                repaid_on_time=x.repaid_on_time, repaid_late=x.repaid_late, closed=x.closed)
                for x in h.loans],
            remittances=[ImportedRemittances(corridor=x.corridor, count=x.count,
                                             sent=Money.from_value(x.sent),
                                             fees=Money.from_value(x.fees))
                         for x in h.remittances],
            certificates=[ImportedCertificate(title=x.title, kind=x.kind, issued_on=x.issued_on,
                                              level=x.level, skills=list(x.skills),
                                              revoked=x.revoked, language=x.language,
                                              titles=dict(x.titles))
                          for x in h.certificates],
            assemblies=[ImportedAssembly(cooperative_name=x.cooperative_name, country=x.country,
                                         meeting_on=x.meeting_on, voted=x.voted,
                                         offices=list(x.offices), titles=dict(x.titles))
                        for x in h.assemblies],
            work=[ImportedWork(occupation=x.occupation, cooperative_name=x.cooperative_name,
                               country=x.country, started_on=x.started_on,
                               ended_on=x.ended_on, minutes=x.minutes, how_ended=x.how_ended)
                  for x in h.work])


@strawberry.type(description="A record this node issued")
class ExportedRecordInfo:
    credential_id: strawberry.ID = use_id()
    id: strawberry.ID = own_id("credential_id", "record")
    grantee_kind: str = strawberry.field(description="cooperative or node")
    grantee: str
    scopes: list[str]
    valid_from: dt.datetime
    valid_until: dt.datetime
    revoked: bool = strawberry.field(
        description="revoked by its issuer, by her revoking the consent it was issued under, "
                    "or by her erasure: verifiers see it revoked")


#: How long an exported record is valid, by default and at most (days).
DEFAULT_DAYS, MAX_DAYS = 90, 365


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
        default=None, description="identity, membership, savings, training, governance, "
                                  "insurance, work (in any case); default: what her consent "
                                  "to the recipient grants")
    valid_days: int = strawberry.field(default=DEFAULT_DAYS,
                                       description=f"1 to {MAX_DAYS}; never past the consent")
    languages: typing.Optional[list[str]] = strawberry.field(
        default=None, description="the languages the record is written in, up to 3 BCP 47 "
        "tags, most wanted first (es-EC, tl, ar); default: the language of her cooperative "
        "and the recipient cooperative's")


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


def checks_of(result: Verification) -> list[VerificationCheck]:
    """Every check of a verification, passed or not."""
    return [VerificationCheck(name=name, passed=reason is None, reason=reason)
            for name, reason in result.checks.items()]


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
    record: strawberry.Private[typing.Any] = None
    valid_until: strawberry.Private[typing.Optional[dt.date]] = None  # the summary's

    @strawberry.field(description="her record to read and print, in one or two languages side "
                                  "by side, worded and formatted here: by default her "
                                  "cooperative's language and her own first preferred one")
    async def sheet(self, info: Info, languages: typing.Annotated[
            typing.Optional[list[str]], strawberry.argument(
                description="up to 2 BCP 47 tags (it-IT, tl); malformed ones are left out")]
              = None) -> list[SheetColumn]:
        preferred = () if languages else await preferred_languages(info.context.keys,
                                                                   self.record)
        columns = record_sheet(self.record, info.context.views, sheet_languages(
            self.record, info.context.views, preferred, languages), info.context.now.date(),
            self.valid_until)
        return [SheetColumn.of(column) for column in columns]
