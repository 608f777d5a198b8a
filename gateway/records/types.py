"""The records feature's GraphQL types of her record's history between nodes: the records
imported here (what they state of her life abroad) and the records this node issued.
"""

from __future__ import annotations

import datetime as dt

import strawberry

from gateway.documents import ImportDoc
from gateway.types import Money, own_id, use_id


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
