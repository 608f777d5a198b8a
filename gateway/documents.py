"""The documents every feature shares: the base of all documents, where they live, and the
member's record and timeline (pure: no I/O).

Each document is a msgspec struct stored under its key in one table of a ``DocumentStore``;
its class names that table and the field that holds the key (``TABLE``, ``KEY``). What only
grows with her history is kept as rows instead (``Row``: one key each, in order), so a
document's size does not grow with the number of events. Here:

* ``members``  member id -> ``MemberRecord``: the one document every feature writes a part
  of (members: memberships, groups, consents, her sealed details; savings: her accounts;
  training: enrolments and certificates; records: the records exported and imported), so it
  and its parts are declared here, below the features, and each feature's fold keeps its own
  part; personal data stays sealed here (opened per request by the GraphQL layer);
* rows ``member_accounts``  member id -> ``AccountRef``: her accounts;
* rows ``timeline``  member id -> ``HistoryItem`` rows: her timeline (``gateway.fold``
  writes it), one row per event, in time order.

Each feature's other documents are in its own ``documents.py`` (``gateway.fold.TABLES`` lists
them all). Events of different services arrive in no guaranteed order, so a document is
created on first touch (``document``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import ClassVar, Protocol, TypeVar

import msgspec

from schemas import membership as m
from schemas.fields import Money, Sealed


class Doc(msgspec.Struct, kw_only=True, gc=False):
    """Base of the stored documents (mutable while a projection updates them). Documents are
    trees, never cycles, so the garbage collector need not track them (``gc=False``): a
    replay creates millions of them (docs/gateway-notes.md)."""

    #: The table a document of this class is stored in, and the field that holds its key.
    TABLE: ClassVar[str]
    KEY: ClassVar[str]


class Row(msgspec.Struct, kw_only=True, gc=False):
    """Base of the rows: the parts of a history that only grow (her timeline, an account's
    remittances, a loan's repayments), each under its own key, so applying an event costs the
    same whatever the length of the history: ``(table, key, sort)``, read back in ``sort``
    order (``DocumentStore.rows``), assembled when a query asks."""

    #: The rows table a row of this class is stored in.
    TABLE: ClassVar[str]


class DocumentStore(Protocol):
    """Where documents and rows live: RocksDB in the gateway (``gateway.store``), dicts in
    tests (``gateway.fold.MemoryStore``)."""

    def get(self, table: str, key: str) -> Doc | None: ...

    def put(self, table: str, key: str, doc: Doc) -> None: ...

    def row(self, table: str, key: str, sort: str) -> Row | None: ...

    def put_row(self, table: str, key: str, sort: str, row: Row) -> None: ...

    def stage_raw(self, key: bytes, value: bytes) -> None:
        """A raw row written with the documents (the figures' marks)."""
        ...


class RowReader(Protocol):
    """Reading committed rows (the gateway's views, ``MemoryStore``)."""

    def rows(self, table: str, key: str, after: str | None = None) -> Iterator[Row]:
        """The rows of ``key`` in ``table`` in ``sort`` order (those sorting after
        ``after`` only, if given)."""


D = TypeVar("D", bound=Doc)


def document(store: DocumentStore, cls: type[D], key: str) -> D:
    """The document ``key`` of ``cls``'s table, or a new one: documents are created on first
    touch."""
    doc = store.get(cls.TABLE, key)
    if doc is None:
        doc = cls(**{cls.KEY: key})
    return doc


# -- the member's record: every feature's part of it ----------------------------------------


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
    title: str  # in the course's first language
    titles: dict[str, str] = {}  # by language (a certificate folded before these were kept: {})
    criteria: dict[str, str] = {}  # what earning it took, by language, where the course said
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


class AssemblyPart(Doc, kw_only=True):
    """Her part in one assembly (issue 24): she was on its roll, whether and how she voted
    (once the voting closed: remote, proxy or in_person; "no" if she did not), and the
    offices she was elected to (each motion's first title). Never her choice."""

    assembly_id: str
    cooperative_id: str
    titles: dict[str, str] = {}
    meeting_on: dt.date
    voted: str | None = None
    offices: list[str] = []


class AccessDoc(Doc, kw_only=True):
    """One of her accesses with a member token (issue 23): live once granted, until revoked
    (by her cooperative, by her, or by her erasure)."""

    access_id: str
    cooperative_id: str  # the cooperative that issued its code
    issued_at: dt.datetime
    granted_at: dt.datetime | None = None
    revoked: bool = False

    @property
    def live(self) -> bool:
        return self.granted_at is not None and not self.revoked


class MemberRecord(Doc, kw_only=True):
    TABLE: ClassVar[str] = "members"
    KEY: ClassVar[str] = "member_id"

    member_id: str
    registered: bool = False
    registered_at: dt.datetime | None = None
    registered_by: str | None = None  # the cooperative that registered her here, if recorded
    erased: bool = False
    personal: Sealed | None = None
    memberships: list[MembershipDoc] = []
    groups: list[GroupRef] = []
    consents: list[ConsentDoc] = []
    enrolments: list[EnrolmentDoc] = []
    certificates: list[CertificateDoc] = []
    exports: list[ExportDoc] = []
    imports: list[ImportDoc] = []
    accesses: list[AccessDoc] = []
    assemblies: list[AssemblyPart] = []
    covers: list[str] = []  # her applications for insurance here (issue 25), oldest first
    placements: list[str] = []  # the job orders offered to her here (issue 26), oldest first


class AccountRef(Row, kw_only=True):
    """One of her accounts (rows ``member_accounts``, key: her member id, in the order they
    were opened): written by the savings feature from the account's own events, so the
    partitions of the savings topic can be folded apart (``gateway.fold.LOCAL_SERVICES``)."""

    TABLE: ClassVar[str] = "member_accounts"

    account_id: str


def accounts_of(views: RowReader, member_id: str) -> list[str]:
    """Her accounts' ids, in the order they were opened."""
    return [ref.account_id for ref in views.rows("member_accounts", member_id)]


# -- her timeline ---------------------------------------------------------------------------


class HistoryItem(Row, kw_only=True):
    """One line of her timeline: the event as it was written (its wire type and payload,
    its sealed fields emptied: ``gateway.fold.NOTHING_SEALED``), worded only when a query
    asks (``gateway.fold.entry``). Key: her member id; sort: ``history_sort``."""

    TABLE: ClassVar[str] = "timeline"

    at: dt.datetime
    subject: str
    wire: str  # the event's wire type (coop.savings.FundsDeposited.v1)
    data: bytes  # its payload, as written
    actor: str | None = None  # who sent its command (``schemas.envelope``); None: not recorded


def history_sort(at: dt.datetime, subject: str, sequence: int) -> str:
    """Her timeline in time order, then by aggregate and its order: the ISO form of a UTC
    time sorts as the time does (a whole second, with no fraction written, sorts before any
    fraction of it: "+" comes before ".")."""
    if at.utcoffset():
        at = at.astimezone(dt.UTC)
    return f"{at.isoformat()}/{subject}/{sequence:010d}"
