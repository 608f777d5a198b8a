"""The GraphQL types of the portable record: each maps a read model with ``from_doc``.

Money is shown as a decimal string in major units (``"125.50"``) with its ISO 4217 code, and
as a string of minor units: GraphQL's ``Int`` is 32-bit, too small for a federation's sums.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import strawberry

from gateway.documents import ImportDoc, MembershipDoc
from gateway.members.documents import CooperativeView
from gateway.savings.documents import AccountView, LoanDoc, RemittanceDoc, TransferDoc
from gateway.training.documents import CourseView
from schemas.fields import Money as MoneyValue
from schemas.money import major_text


def own_id(attribute: str, what: str, more: str = ""):
    """The ``id`` field of a type whose own identifier was first published as ``attribute``
    (``memberId``, ``cooperativeId`` …): clients expect ``id``; the old name stays, deprecated."""
    def resolve(self) -> strawberry.ID:
        return getattr(self, attribute)
    return strawberry.field(resolver=resolve,
                            description=f"the {what}'s id (a UUID){more}")


def use_id():
    """The deprecation of a type's first, longer name for its own id."""
    return strawberry.field(deprecation_reason="Use `id`: the same value.")


@strawberry.type(description="An amount of money in one currency, written two ways")
class Money:
    amount: str = strawberry.field(description="decimal, in major units: \"125.50\"")
    currency: str = strawberry.field(description="an ISO 4217 currency code (EUR)")
    minor_units: str = strawberry.field(
        description="integer minor units, as a string (\"12550\"): exact, and no limit of "
                    "GraphQL's 32-bit Int")

    @classmethod
    def from_value(cls, money: MoneyValue | None) -> Money | None:
        if money is None:
            return None
        return cls(amount=major_text(money.amount, money.currency), currency=money.currency,
                   minor_units=str(money.amount))


@strawberry.type(description="Who she is: her personal details, opened from their seal for "
                             "this request only")
class Identity:
    given_names: str
    family_names: str
    date_of_birth: dt.date
    nationality: str
    gender: str | None
    preferred_languages: list[str]
    contact: str | None


@strawberry.type(description="A membership of a cooperative of this node")
class Membership:
    cooperative_id: strawberry.ID
    role: str = strawberry.field(description="her role: member, worker_member or board_member")
    started_on: dt.date
    ended_on: dt.date | None = strawberry.field(
        description="the day the membership ended; null while it lasts")
    end_reason: str | None = strawberry.field(
        description="why it ended: returned_home, moved, resigned, deceased or expelled; null "
                    "while it lasts")
    share_capital_required: Money
    active: bool = strawberry.field(description="it has not ended")
    consent_id: strawberry.ID | None = strawberry.field(
        description="the consent to join that admitted her (the cooperative sees and does "
                    "only what her consents allow); null: a cooperative she chose herself, or "
                    "a caller her consents are not the business of")

    @classmethod
    def from_doc(cls, doc: MembershipDoc, own: bool = False) -> Membership:
        """``own``: the caller is a cooperative she chose (her consents are its business)."""
        return cls(cooperative_id=doc.cooperative_id, role=doc.role, started_on=doc.started_on,
                   ended_on=doc.ended_on, end_reason=doc.end_reason,
                   share_capital_required=Money.from_value(doc.share_capital_required),
                   active=doc.ended_on is None, consent_id=doc.consent_id if own else None)


@strawberry.type(description="A member group she belongs to")
class GroupMembership:
    cooperative_id: strawberry.ID
    group_id: strawberry.ID


@strawberry.type(description="A consent she gave: who may see which parts of her record, "
                             "until when")
class Consent:
    consent_id: strawberry.ID = use_id()
    id: strawberry.ID = own_id("consent_id", "consent")
    grantee_kind: str = strawberry.field(description="cooperative or node")
    grantee: str
    scopes: list[str]
    expires_at: dt.datetime
    revoked: bool = strawberry.field(description="she revoked it")
    active: bool = strawberry.field(description="neither revoked nor expired: it lets the "
                                                "grantee see the scopes now")
    join: bool
    used: bool
    granted_at: dt.datetime | None


@strawberry.type(description="A loan repayment, set against the earliest instalment it pays")
class Repayment:
    amount: Money = strawberry.field(description="the amount repaid")
    paid_on: dt.date
    instalment: int
    due_on: dt.date = strawberry.field(description="that instalment's due date")
    timing: str = strawberry.field(
        description="early (more than 10 days before the due date), on_time or late (after it)")
    days_late: int


@strawberry.type(description="One monthly instalment of a loan's schedule")
class Instalment:
    number: int
    due_on: dt.date
    principal: Money
    interest: Money
    total: Money


@strawberry.type(description="The loan of a loan account: its terms, schedule and repayments")
class Loan:
    principal: Money
    annual_rate: str
    term_months: int
    total_due: Money
    outstanding: Money
    closed: bool = strawberry.field(description="repaid in full")
    schedule: list[Instalment]
    repayments: list[Repayment] = strawberry.field(description="the repayments, oldest first")

    @classmethod
    def from_doc(cls, doc: LoanDoc | None) -> Loan | None:
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


@strawberry.type(description="Money sent from or received into a savings account of this node "
                             "(a closing account's balance moved out shows here too)")
class Remittance:
    # no ``id``: one remittance between two accounts of a node is a value in each of them
    # (sent, received), and clients key their caches by type and id
    remittance_id: strawberry.ID = strawberry.field(
        description="the remittance's id, the same in the sending and the receiving account")
    direction: str = strawberry.field(description="sent (from this account) or received (into "
                                                  "it)")
    status: str = strawberry.field(
        description="sent (on its way), delivered, refunded (amount and fee came back), or "
                    "received")
    counterpart_account_id: strawberry.ID | None = strawberry.field(
        description="the other account of this node: the beneficiary's or the sender's; null "
                    "for a payout to a non-member")
    amount: Money = strawberry.field(
        description="sent: what was sent, the fee on top; received: what was credited")
    fee: Money | None = strawberry.field(
        description="the fee, charged on top of the amount; null on a remittance received")
    rate: str | None
    received: Money | None = strawberry.field(
        description="what the beneficiary is credited, in its currency; null on a remittance "
                    "received")
    corridor: str | None
    fee_percent: str | None = strawberry.field(
        description="the fee as a percentage of the amount sent (\"1.50\")")
    at: dt.datetime | None = strawberry.field(
        description="sent: the day it was booked (midnight UTC) or the moment it was decided; "
                    "received: when it was credited")


@strawberry.type(description="Savings moved between nodes")
class Transfer:
    transfer_id: strawberry.ID = use_id()
    id: strawberry.ID = own_id("transfer_id", "transfer")
    direction: str = strawberry.field(description="sent (from here) or received (here)")
    node: str = strawberry.field(description="the other node")
    counterpart_account_id: strawberry.ID = strawberry.field(
        description="the account at the other node (its id there)")
    amount: Money = strawberry.field(description="debited here, fee included (sent), or "
                                                 "credited here (received)")
    fee: Money | None = strawberry.field(
        description="the fee, taken out of the amount; null on a transfer received")
    rate: str | None = strawberry.field(
        description="the exchange rate used (\"1.0842\"); null on a transfer received")
    received: Money | None = strawberry.field(description="what the home account is credited")
    status: str = strawberry.field(description="sent, delivered, refunded or received")
    at: dt.datetime | None = strawberry.field(description="when it was sent or credited here")

    @classmethod
    def from_doc(cls, doc: TransferDoc) -> Transfer:
        return cls(transfer_id=doc.transfer_id, direction=doc.direction, node=doc.node,
                   counterpart_account_id=doc.counterpart, amount=Money.from_value(doc.amount),
                   fee=Money.from_value(doc.fee), rate=doc.rate,
                   received=Money.from_value(doc.received), status=doc.status, at=doc.at)


@strawberry.type(description="A member's account at a cooperative of this node")
class Account:
    account_id: strawberry.ID = use_id()
    id: strawberry.ID = own_id("account_id", "account")
    cooperative_id: strawberry.ID = strawberry.field(
        description="the cooperative that keeps the account")
    product: str = strawberry.field(description="savings, share_capital or loan")
    currency: str = strawberry.field(description="the account's currency: the cooperative's "
                                                 "(ISO 4217)")
    balance: Money | None = strawberry.field(
        description="savings: what it holds; share capital: what was paid in; loan: what is "
                    "still owed")
    closed: bool = strawberry.field(description="the account is closed")
    shares: int = strawberry.field(description="the shares it holds (share capital accounts; "
                                               "0 for the others)")
    loan: Loan | None = strawberry.field(description="its loan (loan accounts, once disbursed)")
    remittances: list[Remittance] = strawberry.field(
        description="money sent from it and received into it, oldest first")
    transfers: list[Transfer] = strawberry.field(
        description="savings moved between this account and another node's, oldest first")

    @classmethod
    def from_doc(cls, doc: AccountView) -> Account:
        def remittance(r: RemittanceDoc) -> Remittance:
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


@strawberry.type(description="Her place in a course and how it went")
class Enrolment:
    course_id: strawberry.ID
    status: str = strawberry.field(description="enrolled, withdrawn or completed")
    hours: int = strawberry.field(description="the hours she has attended")
    result: str | None = strawberry.field(description="passed or failed; null until completed")
    score: int | None = strawberry.field(description="0 to 100; null until completed")
    level_attained: str | None
    completed_on: dt.date | None


#: How a skill is written in the record's output types.
SKILLS = ("the skills the course covered: ESCO URIs (http://data.europa.eu/esco/skill/<id>) and "
          "ISCO-08 codes written isco08:<code>")
#: The kinds of course, as the record's output types write them.
COURSE_KINDS = "language, vocational, business_start_up, financial_literacy or governance"


@strawberry.type(description="A certificate a course issued her")
class Certificate:
    certificate_id: strawberry.ID = use_id()
    id: strawberry.ID = own_id("certificate_id", "certificate")
    course_id: strawberry.ID
    cooperative_id: strawberry.ID = strawberry.field(
        description="the issuing cooperative: the one that offered the course")
    kind: str = strawberry.field(description="the kind of course: " + COURSE_KINDS)
    title: str = strawberry.field(description="the course's title, in its first language")
    skills: list[str] = strawberry.field(description=SKILLS)
    language: str | None
    level: str | None
    hours: int = strawberry.field(description="the hours she attended")
    score: int = strawberry.field(description="her final score, 0 to 100")
    completed_on: dt.date | None
    issued_on: dt.date | None
    revoked: bool = strawberry.field(description="its cooperative revoked it: verifiers see it "
                                                 "revoked")
    revocation_reason: str | None = strawberry.field(
        description="why it was revoked; null if it was not")


@strawberry.type(description="One event of her timeline, in words (no personal data)")
class HistoryEntry:
    at: dt.datetime = strawberry.field(description="when the event was decided")
    service: str = strawberry.field(description="membership, savings or training")
    type: str = strawberry.field(description="the event's name (FundsDeposited)")
    summary: str = strawberry.field(description="what happened, in one English line")


@strawberry.type(description="A member group of a cooperative")
class Group:
    group_id: strawberry.ID = use_id()
    id: strawberry.ID = own_id("group_id", "group")
    name: str
    kind: str = strawberry.field(description="solidarity_group, society or work_team")
    member_count: int = strawberry.field(description="how many members it has now")


#: Counts under this are shown to the cooperative's own people only (they could point at one).
SMALL = 5


def _count(value: int, insider: bool) -> int | None:
    return value if insider or value >= SMALL or value == 0 else None


@strawberry.type(description="A cooperative of this node: its public facts")
class Cooperative:
    cooperative_id: strawberry.ID = use_id()
    id: strawberry.ID = own_id("cooperative_id", "cooperative")
    name: str
    country: str
    kind: str = strawberry.field(
        description="savings_and_credit, worker, multi_purpose, insurance, services, consumer, "
                    "producer or training")
    languages: list[str]
    node: str
    currency: str = strawberry.field(
        description="the currency it keeps its accounts and prices its shares in (ISO 4217)")
    share_price: Money | None
    active_members: int | None = strawberry.field(
        description="its members now; null for outsiders when under 5")
    groups: list[Group] | None = strawberry.field(
        description="its member groups: for the cooperative's own people only (null for "
                    "others)")

    @classmethod
    def from_doc(cls, doc: CooperativeView, insider: bool = False) -> Cooperative:
        return cls(cooperative_id=doc.cooperative_id, name=doc.name, country=doc.country,
                   kind=doc.kind, languages=doc.languages, node=doc.node, currency=doc.currency,
                   share_price=Money.from_value(doc.share_price),
                   active_members=_count(doc.active_members, insider),
                   groups=[Group(group_id=g.group_id, name=g.name, kind=g.kind,
                                 member_count=len(g.members)) for g in doc.groups]
                   if insider else None)


@strawberry.type(description="A course's title and description in one language")
class CourseTitle:
    language: str = strawberry.field(description="the language of this title and description: "
                                                 "a BCP 47 tag (es)")
    title: str = strawberry.field(description="the course's title in that language")
    description: str


@strawberry.type(description="A course a cooperative offers: its public facts")
class Course:
    course_id: strawberry.ID = use_id()
    id: strawberry.ID = own_id("course_id", "course")
    cooperative_id: strawberry.ID = strawberry.field(
        description="the cooperative that offers it")
    titles: list[CourseTitle]
    kind: str = strawberry.field(description=COURSE_KINDS)
    language_taught: str | None
    target_level: str | None
    skills: list[str] = strawberry.field(description=SKILLS)
    hours: int
    starts_on: dt.date | None
    ends_on: dt.date | None
    capacity: int
    enrolled: int | None = strawberry.field(
        description="learners enrolled and not withdrawn (those who completed it included); "
                    "null for outsiders when under 5")
    places_left: int | None = strawberry.field(
        description="places not taken; null for outsiders while the enrolled count is hidden "
                    "(capacity minus places left would give it away): see hasPlaces")
    has_places: bool | None = strawberry.field(
        description="a place is free: the course can enrol another learner; null for "
                    "outsiders on a course of fewer than 5 places (full would tell how many "
                    "are enrolled)")
    completed: int | None = strawberry.field(
        description="learners who completed it; null for outsiders when under 5")

    @classmethod
    def from_doc(cls, doc: CourseView, insider: bool = False) -> Course:
        return cls(course_id=doc.course_id, cooperative_id=doc.cooperative_id,
                   titles=[CourseTitle(language=x.language, title=x.title,
                                       description=x.description) for x in doc.titles],
                   kind=doc.kind, language_taught=doc.language_taught,
                   target_level=doc.target_level, skills=doc.skills, hours=doc.hours,
                   starts_on=doc.starts_on, ends_on=doc.ends_on, capacity=doc.capacity,
                   enrolled=_count(doc.enrolled, insider),
                   places_left=(max(0, doc.capacity - doc.enrolled)
                                if _count(doc.enrolled, insider) is not None else None),
                   has_places=(doc.capacity > doc.enrolled
                               if insider or doc.capacity >= SMALL else None),
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
                                              revoked=x.revoked) for x in h.certificates])


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
