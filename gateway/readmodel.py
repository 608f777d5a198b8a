"""The gateway's read models and how each event changes them (pure: no I/O).

Documents, each a msgspec struct stored under its key in a table of the ``DocumentStore``:

* ``members``       member id -> ``MemberRecord`` (the portable record, personal data sealed)
* ``accounts``      account id -> ``AccountView`` (balance, shares, loan, remittances)
* ``cooperatives``  cooperative id -> ``CooperativeView`` (details, groups, member ids)
* ``courses``       course id -> ``CourseView``
* ``history``       member id -> ``History`` (the member's readable event timeline)
* ``countries``     ISO country code -> ``CountryIndex`` (its cooperatives)
* ``statuslists``   status list id -> ``StatusListView`` (revoked indices of exported records)

``project(store, message)`` applies one decoded event of any service to every document it
touches. Events of different services arrive in no guaranteed order (a savings account may be
seen before its owner's registration), so every document is created on first touch.
Personal fields stay sealed here; the GraphQL layer opens them per request, so an erased
member's details are gone the moment their key is.
"""

from __future__ import annotations

import bisect
import datetime as dt
import operator
import uuid
from typing import Protocol

import msgspec

from schemas import Message
from schemas import membership as m
from schemas import savings as s
from schemas import training as t
from schemas.fields import Money, Sealed
from schemas.registry import Contract
from schemas.money import major_text


class Doc(msgspec.Struct, kw_only=True, gc=False):
    """Base of the stored documents (mutable while a projection updates them). Documents are
    trees, never cycles, so the garbage collector need not track them (``gc=False``): a
    replay creates millions, and tracking them cost a fifth of its time."""


class MembershipDoc(Doc, kw_only=True):
    cooperative_id: str
    role: str
    started_on: dt.date
    share_capital_required: Money
    ended_on: dt.date | None = None
    end_reason: str | None = None
    consent_id: str | None = None  # started under her consent to join (None: her own choice)


class ConsentDoc(Doc, kw_only=True):
    consent_id: str
    grantee_kind: str
    grantee: str
    scopes: list[str]
    expires_at: dt.datetime
    revoked: bool = False
    join: bool = False  # the grantee may admit her as a member, once
    used: bool = False  # a membership was started under it
    granted_at: dt.datetime | None = None


class GroupRef(Doc, kw_only=True):
    cooperative_id: str
    group_id: str


class EnrolmentDoc(Doc, kw_only=True):
    course_id: str
    status: str = "enrolled"  # enrolled, withdrawn, completed
    hours: int = 0
    result: str | None = None
    score: int | None = None
    level_attained: str | None = None
    completed_on: dt.date | None = None


class CertificateDoc(Doc, kw_only=True):
    certificate_id: str
    course_id: str
    cooperative_id: str
    kind: str
    title: str
    skills: list[str] = []
    language: str | None = None
    level: str | None = None
    hours: int = 0
    score: int = 0
    completed_on: dt.date | None = None
    issued_on: dt.date | None = None
    revoked: bool = False
    revocation_reason: str | None = None


class ExportDoc(Doc, kw_only=True):
    """A portable record issued from this node (its status index is the export event's
    sequence in the member's stream)."""

    credential_id: str
    consent_id: str = ""
    grantee_kind: str
    grantee: str
    scopes: list[str]
    valid_from: dt.datetime
    valid_until: dt.datetime
    status_index: int
    revoked: bool = False


class ImportDoc(Doc, kw_only=True):
    """A portable record from another node, verified and imported here."""

    credential_id: str
    issuer_node: str
    issued_at: dt.datetime
    imported_at: dt.datetime
    history: m.ImportedHistory


class MemberRecord(Doc, kw_only=True):
    member_id: str
    registered: bool = False
    registered_at: dt.datetime | None = None
    registered_by: str | None = None  # the cooperative that registered her here, if recorded
    erased: bool = False
    personal: Sealed | None = None
    memberships: list[MembershipDoc] = []
    groups: list[GroupRef] = []
    consents: list[ConsentDoc] = []
    accounts: list[str] = []
    enrolments: list[EnrolmentDoc] = []
    certificates: list[CertificateDoc] = []
    exports: list[ExportDoc] = []
    imports: list[ImportDoc] = []


class RepaymentDoc(Doc, kw_only=True):
    amount: Money
    paid_on: dt.date
    instalment: int
    due_on: dt.date
    timing: str
    days_late: int


class LoanDoc(Doc, kw_only=True):
    principal: Money
    annual_rate: str
    term_months: int
    total_due: Money
    outstanding: Money
    schedule: list[s.Instalment]
    repayments: list[RepaymentDoc] = []
    closed: bool = False
    disbursed_on: dt.date | None = None  # the day it was decided (None: folded before it was kept)


class RemittanceDoc(Doc, kw_only=True):
    remittance_id: str
    direction: str  # sent, received
    counterpart: str | None = None  # the other account, if any
    amount: Money
    fee: Money | None = None
    rate: str | None = None
    received: Money | None = None
    corridor: str | None = None
    status: str = "sent"  # sent, delivered, refunded, received
    at: dt.datetime | None = None  # sent: when booked (its month in ``MonthDoc``)


class TransferDoc(Doc, kw_only=True):
    """Savings moved between nodes: ``sent`` (here, to ``node``) or ``received`` (from it)."""

    transfer_id: str
    direction: str  # sent, received
    node: str
    counterpart: str  # the account at the other node
    amount: Money  # debited here (sent) or credited here (received)
    fee: Money | None = None
    rate: str | None = None
    received: Money | None = None
    status: str = "sent"  # sent, delivered, refunded, received
    at: dt.datetime | None = None


class MonthDoc(Doc, kw_only=True):
    """An account's flows in one calendar month (UTC), for the federation's time series: a
    deposit or remittance counts in the month it was booked (``booked_on``), else in the month
    it was decided."""

    deposits: int = 0
    remitted: int = 0
    fees: int = 0
    remittances: int = 0


class AccountView(Doc, kw_only=True):
    account_id: str
    member_id: str = ""
    cooperative_id: str = ""
    product: str = ""
    currency: str = ""
    balance: Money | None = None
    opened_at: dt.datetime | None = None
    closed: bool = False
    shares: int = 0
    deposits: Money | None = None
    withdrawals: Money | None = None
    loan: LoanDoc | None = None
    remittances: list[RemittanceDoc] = []
    transfers: list[TransferDoc] = []
    months: dict[str, MonthDoc] = {}  # "YYYY-MM" -> flows


class GroupDoc(Doc, kw_only=True):
    group_id: str
    name: str
    kind: str
    members: list[str] = []


class CooperativeView(Doc, kw_only=True):
    cooperative_id: str
    registered: bool = False
    name: str = ""
    country: str = ""
    kind: str = ""
    languages: list[str] = []
    node: str = ""
    currency: str = ""
    share_price: Money | None = None
    groups: list[GroupDoc] = []
    members: list[str] = []  # everyone who ever joined, in joining order
    active_members: int = 0


class CourseView(Doc, kw_only=True):
    course_id: str
    offered: bool = False
    cooperative_id: str = ""
    titles: list[t.Title] = []
    kind: str = ""
    language_taught: str | None = None
    target_level: str | None = None
    skills: list[str] = []
    hours: int = 0
    starts_on: dt.date | None = None
    ends_on: dt.date | None = None
    capacity: int = 0
    enrolled: int = 0
    completed: int = 0


class HistoryItem(Doc, kw_only=True):
    at: dt.datetime
    service: str
    type: str
    summary: str
    subject: str


class History(Doc, kw_only=True):
    member_id: str
    items: list[HistoryItem] = []


class CountryIndex(Doc, kw_only=True):
    country: str
    cooperatives: list[str] = []


class StatusListView(Doc, kw_only=True):
    """One member's records' revocation bits: an opaque list id, the indices revoked."""

    list_id: str
    revoked: list[int] = []


_STATUS_LISTS = uuid.UUID("0b6c3f0e-8f43-4a8e-9a55-0d2b8f1c7e10")


def status_list_id(member_id: str, of: str = "records") -> str:
    """The id of a member's status list for her ``records`` (index: the export event's
    sequence) or her ``certificates`` (index: the certificate's position in her record):
    stable, and not the member id itself."""
    return str(uuid.uuid5(_STATUS_LISTS, f"{of}/{member_id}"))


#: The key of the one ``countries`` document that lists every country with a cooperative.
ALL_COUNTRIES = "*"


TABLES: dict[str, type[Doc]] = {
    "members": MemberRecord, "accounts": AccountView, "cooperatives": CooperativeView,
    "courses": CourseView, "history": History, "countries": CountryIndex,
    "statuslists": StatusListView,
}

class DocumentStore(Protocol):
    """Where documents live: a faust table per name in the gateway, a dict in tests."""

    def get(self, table: str, key: str) -> Doc | None: ...

    def put(self, table: str, key: str, doc: Doc) -> None: ...


class MemoryStore:
    """Documents in dicts (tests, and anything that folds a log by hand)."""

    def __init__(self) -> None:
        self.tables: dict[str, dict[str, Doc]] = {name: {} for name in TABLES}

    def get(self, table: str, key: str) -> Doc | None:
        return self.tables[table].get(key)

    def put(self, table: str, key: str, doc: Doc) -> None:
        self.tables[table][key] = doc


#: The field of each table's documents that holds their key.
_KEY_FIELD = {"members": "member_id", "accounts": "account_id", "history": "member_id",
              "cooperatives": "cooperative_id", "courses": "course_id",
              "countries": "country", "statuslists": "list_id"}


def _doc(store: DocumentStore, table: str, key: str) -> Doc:
    doc = store.get(table, key)
    if doc is None:
        doc = TABLES[table](**{_KEY_FIELD[table]: key})
    return doc


def _title(titles: list[t.Title]) -> str:
    return titles[0].title if titles else ""


def _skill(skill: t.EscoSkill | t.IscoOccupation) -> str:
    return skill.uri if isinstance(skill, t.EscoSkill) else f"isco08:{skill.code}"


def _add(total: Money | None, amount: Money) -> Money:
    return Money((total.amount if total else 0) + amount.amount, amount.currency)


# -- what each event does -------------------------------------------------------------------


def project(store: DocumentStore, message: Message) -> list[str]:
    """Apply one event; returns the member ids whose record or history changed."""
    envelope, event = message
    if isinstance(event, m.RecordExported | m.RecordRevoked):
        touched = _project_record(store, event, envelope.sequence or 0)
    else:
        touched = _project(store, event, envelope.time)
    for member_id in touched:
        history = _doc(store, "history", member_id)
        item = HistoryItem(at=envelope.time, service=event.contract_service,
                           type=event.contract_name, summary=summary(event),
                           subject=envelope.subject)
        # the three services' topics are read concurrently: keep the timeline in time order
        history.items.insert(bisect.bisect_right(history.items, item.at, key=_at), item)
        store.put("history", member_id, history)
    return touched


_at = operator.attrgetter("at")


def _project(store: DocumentStore, event: Contract, at: dt.datetime) -> list[str]:  # noqa: C901
    match event:
        # -- membership: cooperatives
        case m.CooperativeRegistered():
            coop = _doc(store, "cooperatives", event.cooperative_id)
            coop.registered, coop.name, coop.country = True, event.name, event.country
            coop.kind, coop.languages, coop.node = event.kind.value, list(event.languages), event.node
            coop.currency, coop.share_price = event.currency, event.share_price
            store.put("cooperatives", event.cooperative_id, coop)
            index = _doc(store, "countries", event.country)
            if event.cooperative_id not in index.cooperatives:
                index.cooperatives.append(event.cooperative_id)
            store.put("countries", event.country, index)
            everywhere = _doc(store, "countries", ALL_COUNTRIES)
            if event.country not in everywhere.cooperatives:  # here: the country codes
                everywhere.cooperatives.append(event.country)
            store.put("countries", ALL_COUNTRIES, everywhere)
            return []
        case m.CooperativeUpdated():
            coop = _doc(store, "cooperatives", event.cooperative_id)
            coop.name = event.name or coop.name
            coop.languages = list(event.languages) if event.languages else coop.languages
            coop.share_price = event.share_price or coop.share_price
            store.put("cooperatives", event.cooperative_id, coop)
            return []
        case m.MemberGroupCreated():
            coop = _doc(store, "cooperatives", event.cooperative_id)
            coop.groups.append(GroupDoc(group_id=event.group_id, name=event.name,
                                        kind=event.kind.value))
            store.put("cooperatives", event.cooperative_id, coop)
            return []
        case m.MemberAssignedToGroup() | m.MemberRemovedFromGroup():
            coop = _doc(store, "cooperatives", event.cooperative_id)
            member = _doc(store, "members", event.member_id)
            ref = GroupRef(cooperative_id=event.cooperative_id, group_id=event.group_id)
            assigned = isinstance(event, m.MemberAssignedToGroup)
            for group in coop.groups:
                if group.group_id == event.group_id:
                    group.members = ([*group.members, event.member_id] if assigned else
                                     [x for x in group.members if x != event.member_id])
            member.groups = ([*member.groups, ref] if assigned else
                             [g for g in member.groups if g != ref])
            store.put("cooperatives", event.cooperative_id, coop)
            store.put("members", event.member_id, member)
            return [event.member_id]
        # -- membership: members
        case m.MemberRegistered() | m.MemberDetailsCorrected():
            member = _doc(store, "members", event.member_id)
            member.personal = event.personal
            if isinstance(event, m.MemberRegistered):
                member.registered, member.registered_at = True, at
                member.registered_by = event.cooperative_id
            store.put("members", event.member_id, member)
            return [event.member_id]
        case m.MembershipStarted():
            member = _doc(store, "members", event.member_id)
            member.memberships.append(MembershipDoc(
                cooperative_id=event.cooperative_id, role=event.role.value,
                started_on=event.started_on, share_capital_required=event.share_capital_required,
                consent_id=event.consent_id))
            for consent in member.consents:  # a consent to join is used once
                if consent.consent_id == event.consent_id:
                    consent.used = True
            coop = _doc(store, "cooperatives", event.cooperative_id)
            if event.member_id not in coop.members:
                coop.members.append(event.member_id)
            coop.active_members += 1
            store.put("members", event.member_id, member)
            store.put("cooperatives", event.cooperative_id, coop)
            return [event.member_id]
        case m.MembershipEnded():
            member = _doc(store, "members", event.member_id)
            for membership in member.memberships:
                if membership.cooperative_id == event.cooperative_id and not membership.ended_on:
                    membership.ended_on, membership.end_reason = event.ended_on, event.reason.value
            coop = _doc(store, "cooperatives", event.cooperative_id)
            coop.active_members = max(0, coop.active_members - 1)
            store.put("members", event.member_id, member)
            store.put("cooperatives", event.cooperative_id, coop)
            return [event.member_id]
        case m.ConsentGranted():
            member = _doc(store, "members", event.member_id)
            member.consents.append(ConsentDoc(
                consent_id=event.consent_id, grantee_kind=event.grantee_kind.value,
                grantee=event.grantee, scopes=[x.value for x in event.scopes],
                expires_at=event.expires_at, join=event.join, granted_at=event.granted_at))
            store.put("members", event.member_id, member)
            return [event.member_id]
        case m.ConsentRevoked():
            member = _doc(store, "members", event.member_id)
            for consent in member.consents:
                if consent.consent_id == event.consent_id:
                    consent.revoked = True
            # what she shared under it stops verifying (it cannot be unseen, but no longer
            # serves as her record)
            _revoke(store, member, lambda export: export.consent_id == event.consent_id)
            store.put("members", event.member_id, member)
            return [event.member_id]
        case m.MemberErased():
            member = _doc(store, "members", event.member_id)
            _revoke(store, member, lambda export: True, certificates=True)
            member.erased, member.personal = True, None
            store.put("members", event.member_id, member)
            return [event.member_id]
        case m.RecordImported():
            member = _doc(store, "members", event.member_id)
            if not member.registered:
                member.registered, member.registered_at = True, at
            if event.personal is not None and member.personal is None:
                member.personal = event.personal  # her details here win over a record's
            member.imports.append(ImportDoc(
                credential_id=event.credential_id, issuer_node=event.issuer_node,
                issued_at=event.issued_at, imported_at=at, history=event.history))
            store.put("members", event.member_id, member)
            return [event.member_id]
        # -- savings
        case s.AccountOpened():
            account = _doc(store, "accounts", event.account_id)
            account.member_id, account.cooperative_id = event.member_id, event.cooperative_id
            account.product, account.currency = event.product.value, event.currency
            account.balance, account.opened_at = Money(0, event.currency), at
            member = _doc(store, "members", event.member_id)
            member.accounts.append(event.account_id)
            store.put("accounts", event.account_id, account)
            store.put("members", event.member_id, member)
            return [event.member_id]
        case _ if event.contract_service == s.SERVICE:
            return _project_savings(store, event, at)
        # -- training
        case t.CourseOffered():
            course = _doc(store, "courses", event.course_id)
            course.offered, course.cooperative_id = True, event.cooperative_id
            course.titles, course.kind = list(event.titles), event.kind.value
            course.language_taught = event.language_taught
            course.target_level = event.target_level.value if event.target_level else None
            course.skills = [_skill(x) for x in event.skills]
            course.hours, course.capacity = event.hours, event.capacity
            course.starts_on, course.ends_on = event.starts_on, event.ends_on
            store.put("courses", event.course_id, course)
            return []
        case _ if event.contract_service == t.SERVICE:
            return _project_training(store, event)
    return []


def _project_record(store: DocumentStore, event: Contract, sequence: int) -> list[str]:
    member = _doc(store, "members", event.member_id)
    if isinstance(event, m.RecordExported):
        member.exports.append(ExportDoc(
            credential_id=event.credential_id, consent_id=event.consent_id,
            grantee_kind=event.grantee_kind.value,
            grantee=event.grantee, scopes=[x.value for x in event.scopes],
            valid_from=event.valid_from, valid_until=event.valid_until, status_index=sequence))
    else:
        _revoke(store, member, lambda export: export.credential_id == event.credential_id)
    store.put("members", event.member_id, member)
    return [event.member_id]


def _revoke(store: DocumentStore, member: MemberRecord, which, certificates: bool = False):
    """Set the status bits of her exported records that ``which`` picks (and, on erasure,
    of every certificate): what a verifier sees at the next fetch of her lists."""
    revoked = [e.status_index for e in member.exports if which(e) and not e.revoked]
    for export in member.exports:
        if which(export):
            export.revoked = True
    lists = [("records", revoked)]
    if certificates:
        lists.append(("certificates", list(range(len(member.certificates)))))
    for of, indices in lists:
        if indices:
            key = status_list_id(member.member_id, of)
            listed = _doc(store, "statuslists", key)
            listed.revoked = sorted({*listed.revoked, *indices})
            store.put("statuslists", key, listed)


def _month(account: AccountView, at: dt.datetime) -> MonthDoc:
    key = f"{at.year:04d}-{at.month:02d}"  # what strftime("%Y-%m") says, faster
    month = account.months.get(key)
    if month is None:
        month = account.months[key] = MonthDoc()
    return month


def _booked(event: s.FundsDeposited | s.RemittanceSent, at: dt.datetime) -> dt.datetime:
    """When a flow happened for the monthly series: the day it was booked (midnight UTC),
    or when it was decided if that was the same day or the event has no booking date."""
    if event.booked_on is None or event.booked_on == at.date():
        return at
    return dt.datetime.combine(event.booked_on, dt.time(), dt.UTC)


def _project_savings(store: DocumentStore, event: Contract, at: dt.datetime) -> list[str]:
    account = _doc(store, "accounts", event.account_id)
    match event:
        case s.FundsDeposited():
            account.balance, account.deposits = event.balance, _add(account.deposits, event.amount)
            _month(account, _booked(event, at)).deposits += event.amount.amount
        case s.FundsWithdrawn():
            account.balance = event.balance
            account.withdrawals = _add(account.withdrawals, event.amount)
        case s.AccountClosed():
            account.closed = True
            if event.transferred is not None:
                account.balance = Money(0, account.currency)
                account.remittances.append(RemittanceDoc(
                    remittance_id=event.transfer_id, direction="sent", at=at,
                    counterpart=event.transfer_to, amount=event.transferred,
                    fee=Money(0, account.currency), rate="1", received=event.transferred))
        case s.SharesPurchased():
            account.balance, account.shares = event.balance, event.total_shares
        case s.SharesRedeemed():
            account.balance, account.shares = Money(0, account.currency), 0
        case s.LoanDisbursed():
            account.loan = LoanDoc(
                principal=event.principal, annual_rate=event.annual_rate,
                term_months=event.term_months, total_due=event.total_due,
                outstanding=event.total_due, schedule=list(event.schedule),
                disbursed_on=at.date())
            account.balance = event.total_due
        case s.LoanRepaymentRecorded() if account.loan is not None:
            account.loan.repayments.append(RepaymentDoc(
                amount=event.amount, paid_on=event.paid_on, instalment=event.instalment,
                due_on=event.due_on, timing=event.timing.value, days_late=event.days_late))
            account.loan.outstanding, account.loan.closed = event.outstanding, event.loan_closed
            account.balance = event.outstanding
        case s.RemittanceSent():
            account.balance = event.balance
            booked = _booked(event, at)
            month = _month(account, booked)
            month.remitted += event.amount.amount
            month.fees += event.fee.amount
            month.remittances += 1
            account.remittances.append(RemittanceDoc(
                remittance_id=event.remittance_id, direction="sent", at=booked,
                counterpart=getattr(event.to, "account_id", None), amount=event.amount,
                fee=event.fee, rate=event.rate, received=event.received,
                corridor=event.corridor))
        case s.RemittanceReceived():
            account.balance = event.balance
            account.remittances.append(RemittanceDoc(
                remittance_id=event.remittance_id, direction="received", at=at,
                counterpart=event.from_account_id, amount=event.amount, status="received"))
        case s.RemittanceDelivered() | s.RemittanceRefunded():
            refunded = isinstance(event, s.RemittanceRefunded)
            for remittance in account.remittances:
                if remittance.remittance_id == event.remittance_id and remittance.direction == "sent":
                    remittance.status = "refunded" if refunded else "delivered"
                    if refunded and remittance.at is not None and remittance.fee is not None:
                        month = _month(account, remittance.at)  # it never went
                        month.remitted -= remittance.amount.amount
                        month.fees -= remittance.fee.amount
                        month.remittances -= 1
            if refunded:
                account.balance, account.closed = event.balance, False
        case s.SavingsSentHome():
            account.balance = event.balance
            account.transfers.append(TransferDoc(
                transfer_id=event.transfer_id, direction="sent", node=event.to_node,
                counterpart=event.to_account_id, amount=event.amount, fee=event.fee,
                rate=event.rate, received=event.received, at=at))
        case s.SavingsTransferReceived():
            account.balance = event.balance
            account.transfers.append(TransferDoc(
                transfer_id=event.transfer_id, direction="received", node=event.from_node,
                counterpart=event.from_account_id, amount=event.amount, received=event.amount,
                status="received", at=at))
        case s.SavingsTransferDelivered() | s.SavingsTransferRefunded():
            refunded = isinstance(event, s.SavingsTransferRefunded)
            for transfer in account.transfers:
                if transfer.transfer_id == event.transfer_id and transfer.direction == "sent":
                    transfer.status = "refunded" if refunded else "delivered"
            if refunded:
                account.balance = event.balance
    store.put("accounts", event.account_id, account)
    return [account.member_id] if account.member_id else []


def _project_training(store: DocumentStore, event: Contract) -> list[str]:
    course = _doc(store, "courses", event.course_id)
    member = _doc(store, "members", event.member_id)

    def enrolment() -> EnrolmentDoc:
        found = next((e for e in reversed(member.enrolments)
                      if e.course_id == event.course_id), None)
        if found is None:
            found = EnrolmentDoc(course_id=event.course_id)
            member.enrolments.append(found)
        return found

    match event:
        case t.LearnerEnrolled():
            member.enrolments.append(EnrolmentDoc(course_id=event.course_id))
            course.enrolled += 1
        case t.AttendanceRecorded():
            enrolment().hours = event.total_hours
        case t.LearnerWithdrew():
            enrolment().status = "withdrawn"
            course.enrolled = max(0, course.enrolled - 1)
        case t.CourseCompleted():
            done = enrolment()
            done.status, done.result, done.score = "completed", event.result.value, event.score
            done.level_attained = event.level_attained.value if event.level_attained else None
            done.completed_on = event.completed_on
            course.completed += 1
        case t.CertificateIssued():
            member.certificates.append(CertificateDoc(
                certificate_id=event.certificate_id, course_id=event.course_id,
                cooperative_id=event.cooperative_id, kind=event.kind.value,
                title=_title(event.titles), skills=[_skill(x) for x in event.skills],
                language=event.language, level=event.level.value if event.level else None,
                hours=event.hours, score=event.score, completed_on=event.completed_on,
                issued_on=event.issued_on))
        case t.CertificateRevoked():
            for index, certificate in enumerate(member.certificates):
                if certificate.certificate_id == event.certificate_id:
                    certificate.revoked, certificate.revocation_reason = True, event.reason
                    key = status_list_id(event.member_id, "certificates")
                    listed = _doc(store, "statuslists", key)
                    listed.revoked = sorted({*listed.revoked, index})
                    store.put("statuslists", key, listed)
    store.put("courses", event.course_id, course)
    store.put("members", event.member_id, member)
    return [event.member_id]


def summary(event: Contract) -> str:
    """One readable line for the member's timeline (no personal data)."""
    def money(x: Money) -> str:
        return f"{major_text(x.amount, x.currency)} {x.currency}"

    match event:
        case m.MemberRegistered():
            return "registered as a member of the federation"
        case m.MemberDetailsCorrected():
            return "corrected their personal details"
        case m.MembershipStarted():
            return f"became a {event.role.value.replace('_', ' ')} of cooperative {event.cooperative_id}"
        case m.MembershipEnded():
            return f"left cooperative {event.cooperative_id} ({event.reason.value.replace('_', ' ')})"
        case m.ConsentGranted():
            granted = [f"see {', '.join(x.value for x in event.scopes)}"] if event.scopes else []
            granted += ["admit her as a member, once"] if event.join else []
            return (f"let {event.grantee_kind.value} {event.grantee} "
                    f"{' and '.join(granted)} until {event.expires_at:%Y-%m-%d}")
        case m.ConsentRevoked():
            return f"revoked consent {event.consent_id}"
        case m.MemberErased():
            return "was erased at their request"
        case m.MemberAssignedToGroup():
            return f"joined group {event.group_id}"
        case m.MemberRemovedFromGroup():
            return f"left group {event.group_id}"
        case s.AccountOpened():
            return f"opened a {event.product.value.replace('_', ' ')} account in {event.currency}"
        case s.FundsDeposited():
            return f"deposited {money(event.amount)}"
        case s.FundsWithdrawn():
            return f"withdrew {money(event.amount)}"
        case s.SharesPurchased():
            return f"bought {event.shares} share(s) for {money(event.amount)}"
        case s.SharesRedeemed():
            return f"redeemed {event.shares} share(s) for {money(event.amount)}"
        case s.LoanDisbursed():
            return f"received a loan of {money(event.principal)} over {event.term_months} months"
        case s.LoanRepaymentRecorded():
            return (f"repaid {money(event.amount)} for instalment {event.instalment} "
                    f"({event.timing.value.replace('_', ' ')})")
        case s.RemittanceSent():
            return (f"sent {money(event.amount)} home, fee {money(event.fee)}, "
                    f"rate {event.rate}, {money(event.received)} to arrive")
        case s.RemittanceReceived():
            return f"received a remittance of {money(event.amount)}"
        case s.RemittanceDelivered():
            return f"remittance {event.remittance_id} delivered"
        case s.RemittanceRefunded():
            return f"remittance {event.remittance_id} refunded: {money(event.amount)}"
        case s.AccountClosed():
            return "closed an account"
        case s.SavingsSentHome():
            return (f"sent {money(event.amount)} of savings to node {event.to_node}, fee "
                    f"{money(event.fee)}, rate {event.rate}, {money(event.received)} to arrive")
        case s.SavingsTransferReceived():
            return f"received {money(event.amount)} of savings from node {event.from_node}"
        case s.SavingsTransferDelivered():
            return f"savings transfer {event.transfer_id} delivered"
        case s.SavingsTransferRefunded():
            return f"savings transfer {event.transfer_id} refunded: {money(event.amount)}"
        case m.RecordExported():
            return (f"shared their record ({', '.join(x.value for x in event.scopes)}) with "
                    f"{event.grantee_kind.value} {event.grantee}")
        case m.RecordRevoked():
            return f"record {event.credential_id} was revoked by its issuer"
        case m.RecordImported():
            return f"brought their record home from node {event.issuer_node}"
        case t.LearnerEnrolled():
            return f"enrolled in course {event.course_id}"
        case t.AttendanceRecorded():
            return f"attended {event.hours} hour(s) (total {event.total_hours})"
        case t.LearnerWithdrew():
            return f"withdrew from course {event.course_id}"
        case t.CourseCompleted():
            level = f" at {event.level_attained.value}" if event.level_attained else ""
            return f"completed course {event.course_id}: {event.result.value}{level}, score {event.score}"
        case t.CertificateIssued():
            return f"was awarded certificate {event.certificate_id}"
        case t.CertificateRevoked():
            return f"certificate {event.certificate_id} was revoked"
    return event.contract_name
