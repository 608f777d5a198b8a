"""The GraphQL types of the portable record: each maps a read model with ``from_doc``.

Money is shown as a decimal string in major units (``"125.50"``) with its ISO 4217 code, and
as a string of minor units: GraphQL's ``Int`` is 32-bit, too small for a federation's sums.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import strawberry

from gateway import readmodel as rm
from schemas.fields import Money as MoneyValue
from schemas.money import major_text


def own_id(attribute: str, what: str):
    """The ``id`` field of a type whose own identifier was first published as ``attribute``
    (``memberId``, ``cooperativeId`` …): clients expect ``id``; the old name stays, deprecated."""
    def resolve(self) -> strawberry.ID:
        return getattr(self, attribute)
    return strawberry.field(resolver=resolve, description=f"the {what}'s id (a UUID)")


def use_id():
    """The deprecation of a type's first, longer name for its own id."""
    return strawberry.field(deprecation_reason="Use `id`: the same value.")


@strawberry.type
class Money:
    amount: str = strawberry.field(description="decimal, in major units: \"125.50\"")
    currency: str
    minor_units: str = strawberry.field(description="integer minor units, as a string")

    @classmethod
    def from_value(cls, money: MoneyValue | None) -> Money | None:
        if money is None:
            return None
        return cls(amount=major_text(money.amount, money.currency), currency=money.currency,
                   minor_units=str(money.amount))


@strawberry.type
class Identity:
    given_names: str
    family_names: str
    date_of_birth: dt.date
    nationality: str
    gender: str | None
    preferred_languages: list[str]
    contact: str | None


@strawberry.type
class Membership:
    cooperative_id: strawberry.ID
    role: str
    started_on: dt.date
    ended_on: dt.date | None
    end_reason: str | None
    share_capital_required: Money
    active: bool

    @classmethod
    def from_doc(cls, doc: rm.MembershipDoc) -> Membership:
        return cls(cooperative_id=doc.cooperative_id, role=doc.role, started_on=doc.started_on,
                   ended_on=doc.ended_on, end_reason=doc.end_reason,
                   share_capital_required=Money.from_value(doc.share_capital_required),
                   active=doc.ended_on is None)


@strawberry.type
class GroupMembership:
    cooperative_id: strawberry.ID
    group_id: strawberry.ID


@strawberry.type
class Consent:
    consent_id: strawberry.ID = use_id()
    id: strawberry.ID = own_id("consent_id", "consent")
    grantee_kind: str
    grantee: str
    scopes: list[str]
    expires_at: dt.datetime
    revoked: bool
    active: bool


@strawberry.type
class Repayment:
    amount: Money
    paid_on: dt.date
    instalment: int
    due_on: dt.date
    timing: str
    days_late: int


@strawberry.type
class Instalment:
    number: int
    due_on: dt.date
    principal: Money
    interest: Money
    total: Money


@strawberry.type
class Loan:
    principal: Money
    annual_rate: str
    term_months: int
    total_due: Money
    outstanding: Money
    closed: bool
    schedule: list[Instalment]
    repayments: list[Repayment]

    @classmethod
    def from_doc(cls, doc: rm.LoanDoc | None) -> Loan | None:
        if doc is None:
            return None
        return cls(
            principal=Money.from_value(doc.principal), annual_rate=doc.annual_rate,
            term_months=doc.term_months, total_due=Money.from_value(doc.total_due),
            outstanding=Money.from_value(doc.outstanding), closed=doc.closed,
            schedule=[Instalment(number=i.number, due_on=i.due_on,
                                 principal=Money.from_value(i.principal),
                                 interest=Money.from_value(i.interest),
                                 total=Money.from_value(i.total)) for i in doc.schedule],
            repayments=[Repayment(amount=Money.from_value(r.amount), paid_on=r.paid_on,
                                  instalment=r.instalment, due_on=r.due_on, timing=r.timing,
                                  days_late=r.days_late) for r in doc.repayments])


@strawberry.type
class Remittance:
    remittance_id: strawberry.ID = use_id()
    id: strawberry.ID = own_id("remittance_id", "remittance")
    direction: str
    status: str
    counterpart_account_id: strawberry.ID | None
    amount: Money
    fee: Money | None
    rate: str | None
    received: Money | None
    corridor: str | None
    fee_percent: str | None = strawberry.field(
        description="the fee as a percentage of the amount sent")
    at: dt.datetime | None


@strawberry.type(description="Savings moved between nodes")
class Transfer:
    transfer_id: strawberry.ID = use_id()
    id: strawberry.ID = own_id("transfer_id", "transfer")
    direction: str = strawberry.field(description="sent (from here) or received (here)")
    node: str = strawberry.field(description="the other node")
    counterpart_account_id: strawberry.ID
    amount: Money = strawberry.field(description="debited here (sent) or credited here")
    fee: Money | None
    rate: str | None
    received: Money | None = strawberry.field(description="what the home account is credited")
    status: str = strawberry.field(description="sent, delivered, refunded or received")
    at: dt.datetime | None

    @classmethod
    def from_doc(cls, doc: rm.TransferDoc) -> Transfer:
        return cls(transfer_id=doc.transfer_id, direction=doc.direction, node=doc.node,
                   counterpart_account_id=doc.counterpart, amount=Money.from_value(doc.amount),
                   fee=Money.from_value(doc.fee), rate=doc.rate,
                   received=Money.from_value(doc.received), status=doc.status, at=doc.at)


@strawberry.type
class Account:
    account_id: strawberry.ID = use_id()
    id: strawberry.ID = own_id("account_id", "account")
    cooperative_id: strawberry.ID
    product: str
    currency: str
    balance: Money | None
    closed: bool
    shares: int
    loan: Loan | None
    remittances: list[Remittance]
    transfers: list[Transfer]

    @classmethod
    def from_doc(cls, doc: rm.AccountView) -> Account:
        def remittance(r: rm.RemittanceDoc) -> Remittance:
            percent = None
            if r.fee is not None and r.amount.amount:
                percent = str((Decimal(r.fee.amount * 100) / r.amount.amount).quantize(
                    Decimal("0.01")))
            return Remittance(
                remittance_id=r.remittance_id, direction=r.direction, status=r.status,
                counterpart_account_id=r.counterpart, amount=Money.from_value(r.amount),
                fee=Money.from_value(r.fee), rate=r.rate, received=Money.from_value(r.received),
                corridor=r.corridor, fee_percent=percent, at=r.at)

        return cls(account_id=doc.account_id, cooperative_id=doc.cooperative_id,
                   product=doc.product, currency=doc.currency,
                   balance=Money.from_value(doc.balance), closed=doc.closed, shares=doc.shares,
                   loan=Loan.from_doc(doc.loan),
                   remittances=[remittance(r) for r in doc.remittances],
                   transfers=[Transfer.from_doc(x) for x in doc.transfers])


@strawberry.type
class Enrolment:
    course_id: strawberry.ID
    status: str
    hours: int
    result: str | None
    score: int | None
    level_attained: str | None
    completed_on: dt.date | None


@strawberry.type
class Certificate:
    certificate_id: strawberry.ID = use_id()
    id: strawberry.ID = own_id("certificate_id", "certificate")
    course_id: strawberry.ID
    cooperative_id: strawberry.ID
    kind: str
    title: str
    skills: list[str]
    language: str | None
    level: str | None
    hours: int
    score: int
    completed_on: dt.date | None
    issued_on: dt.date | None
    revoked: bool
    revocation_reason: str | None


@strawberry.type
class HistoryEntry:
    at: dt.datetime
    service: str
    type: str
    summary: str


@strawberry.type
class Group:
    group_id: strawberry.ID = use_id()
    id: strawberry.ID = own_id("group_id", "group")
    name: str
    kind: str
    member_count: int


#: Counts under this are shown to the cooperative's own people only (they could point at one).
SMALL = 5


def _count(value: int, insider: bool) -> int | None:
    return value if insider or value >= SMALL or value == 0 else None


@strawberry.type
class Cooperative:
    cooperative_id: strawberry.ID = use_id()
    id: strawberry.ID = own_id("cooperative_id", "cooperative")
    name: str
    country: str
    kind: str
    languages: list[str]
    node: str
    currency: str
    share_price: Money | None
    active_members: int | None = strawberry.field(
        description="null for outsiders when under 5")
    groups: list[Group] | None = strawberry.field(
        description="the cooperative's own people only")

    @classmethod
    def from_doc(cls, doc: rm.CooperativeView, insider: bool = False) -> Cooperative:
        return cls(cooperative_id=doc.cooperative_id, name=doc.name, country=doc.country,
                   kind=doc.kind, languages=doc.languages, node=doc.node, currency=doc.currency,
                   share_price=Money.from_value(doc.share_price),
                   active_members=_count(doc.active_members, insider),
                   groups=[Group(group_id=g.group_id, name=g.name, kind=g.kind,
                                 member_count=len(g.members)) for g in doc.groups]
                   if insider else None)


@strawberry.type
class CourseTitle:
    language: str
    title: str
    description: str


@strawberry.type
class Course:
    course_id: strawberry.ID = use_id()
    id: strawberry.ID = own_id("course_id", "course")
    cooperative_id: strawberry.ID
    titles: list[CourseTitle]
    kind: str
    language_taught: str | None
    target_level: str | None
    skills: list[str]
    hours: int
    starts_on: dt.date | None
    ends_on: dt.date | None
    capacity: int
    enrolled: int | None = strawberry.field(description="null for outsiders when under 5")
    places_left: int
    completed: int | None = strawberry.field(description="null for outsiders when under 5")

    @classmethod
    def from_doc(cls, doc: rm.CourseView, insider: bool = False) -> Course:
        return cls(course_id=doc.course_id, cooperative_id=doc.cooperative_id,
                   titles=[CourseTitle(language=x.language, title=x.title,
                                       description=x.description) for x in doc.titles],
                   kind=doc.kind, language_taught=doc.language_taught,
                   target_level=doc.target_level, skills=doc.skills, hours=doc.hours,
                   starts_on=doc.starts_on, ends_on=doc.ends_on, capacity=doc.capacity,
                   enrolled=_count(doc.enrolled, insider),
                   places_left=max(0, doc.capacity - doc.enrolled),
                   completed=_count(doc.completed, insider))


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


@strawberry.type
class ImportedBalance:
    product: str
    balance: Money


@strawberry.type
class ImportedRemittances:
    corridor: str
    count: int
    sent: Money
    fees: Money


@strawberry.type
class ImportedCertificate:
    title: str
    kind: str
    issued_on: dt.date
    level: str | None
    skills: list[str]
    revoked: bool


@strawberry.type(description="A portable record from another node, verified and imported")
class ImportedRecord:
    credential_id: strawberry.ID = use_id()
    id: strawberry.ID = own_id("credential_id", "record")
    issuer_node: str
    issued_at: dt.datetime
    imported_at: dt.datetime
    memberships: list[ImportedMembership]
    balances: list[ImportedBalance]
    loans: list[ImportedLoan]
    remittances: list[ImportedRemittances]
    certificates: list[ImportedCertificate]

    @classmethod
    def from_doc(cls, doc: rm.ImportDoc) -> ImportedRecord:
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
                                              revoked=x.revoked) for x in h.certificates])


@strawberry.type(description="A record this node issued")
class ExportedRecordInfo:
    credential_id: strawberry.ID = use_id()
    id: strawberry.ID = own_id("credential_id", "record")
    grantee_kind: str
    grantee: str
    scopes: list[str]
    valid_from: dt.datetime
    valid_until: dt.datetime
    revoked: bool
