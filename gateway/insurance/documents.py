"""The insurance feature's documents (pure): the products of this node's insurance
cooperatives and the policies they issued.

* ``products``  product id -> ``ProductView``: its terms as offered, and whether withdrawn;
* ``policies``  policy id -> ``PolicyView``: the terms it keeps, its premiums, its lapse, its
  claim and what the claim has paid. Nothing personal: member and account ids, digests;
* ``insurance_catalogue``  "products" -> ``Catalogue``: every product offered here, in the
  order offered (a node's insurers offer a few: one document);
* ``covers``  cover id -> ``CoverView``: her application at her host node, the insurer's
  answer, and whether her death was notified (her beneficiaries stay sealed).
"""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

import msgspec

from gateway.documents import Doc
from schemas import insurance as i
from schemas.fields import Money


class ProductView(Doc, kw_only=True):
    """A product, and its figures kept as its policies' events are folded (never a scan):
    how many policies were issued, lapsed, claimed; premiums collected and benefits paid out
    (net of payments returned), in minor units of its currency; and the policies in force by
    the day their term ends (in force on a day: not lapsed, not claimed, ending after it)."""

    TABLE: ClassVar[str] = "products"
    KEY: ClassVar[str] = "product_id"

    product_id: str
    offered: i.ProductOffered | None = None
    withdrawn: bool = False
    issued: int = 0
    lapsed: int = 0
    claims: int = 0  # opened and not withdrawn
    approved: int = 0
    rejected: int = 0
    premiums: int = 0
    paid: int = 0
    ending: dict[str, int] = {}  # ISO day a term ends -> policies in force ending then


class EvidenceDoc(msgspec.Struct, kw_only=True, gc=False):
    kind: str
    sha256: str
    attached_at: dt.datetime


class ClaimDoc(msgspec.Struct, kw_only=True, gc=False):
    claim_id: str
    died_on: dt.date
    notified_by: str
    opened_at: dt.datetime
    evidence: list[EvidenceDoc] = []
    assessment: i.ClaimAssessed | None = None
    #: "open", "approved" or "rejected"
    status: str = "open"
    reasons: list[str] = []  # a rejection's
    decided_at: dt.datetime | None = None
    payments: list[i.Payment] = []
    total: Money | None = None
    released: list[int] = []  # the numbers of the payments released, in order
    released_total: Money | None = None
    credited: list[int] = []  # ... and credited to their accounts
    credited_total: Money | None = None
    returned: list[int] = []  # ... and refused by their accounts


class PolicyView(Doc, kw_only=True):
    TABLE: ClassVar[str] = "policies"
    KEY: ClassVar[str] = "policy_id"

    policy_id: str
    issued: i.PolicyIssued | None = None
    ends_on: dt.date | None = None
    periods_paid: int = 0
    paid_through: dt.date | None = None
    lapsed: i.PolicyLapsed | None = None
    claim: ClaimDoc | None = None


class CoverView(Doc, kw_only=True):
    """Her application at her host node and what came of it."""

    TABLE: ClassVar[str] = "covers"
    KEY: ClassVar[str] = "cover_id"

    cover_id: str
    applied: i.CoverApplied | None = None
    terms: i.PolicyTerms | None = None
    refused: str | None = None  # the insurer's rejection code
    death: i.DeathNotified | None = None
    #: whether the insurer opened the claim her death was notified for (None: no answer yet)
    claim_opened: bool | None = None
    periods_paid: int = 0  # by her standing instruction

    @property
    def status(self) -> str:
        """applied (no answer yet), issued, refused, or claimed (her death notified)."""
        return ("claimed" if self.death is not None else "issued" if self.terms is not None
                else "refused" if self.refused is not None else "applied")


class Catalogue(Doc, kw_only=True):
    """Every product this node's insurers offered, in the order offered."""

    TABLE: ClassVar[str] = "insurance_catalogue"
    KEY: ClassVar[str] = "name"
    KEYED: ClassVar[str] = "products"  # its one key

    name: str
    products: list[str] = []
