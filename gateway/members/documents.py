"""The members feature's own documents (pure): the cooperatives of this node, their member
groups, and the index of cooperatives by country. (The member's record itself is shared:
``gateway.documents``.)

* ``cooperatives``  cooperative id -> ``CooperativeView`` (details, groups, member ids)
* ``countries``     ISO country code -> ``CountryIndex`` (its cooperatives); ``ALL_COUNTRIES``
  lists every country with a cooperative
"""

from __future__ import annotations

from typing import ClassVar

from gateway.documents import Doc
from schemas.fields import Money


class GroupDoc(Doc, kw_only=True):
    group_id: str
    name: str
    kind: str
    members: list[str] = []


class CooperativeView(Doc, kw_only=True):
    TABLE: ClassVar[str] = "cooperatives"
    KEY: ClassVar[str] = "cooperative_id"

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


class CountryIndex(Doc, kw_only=True):
    TABLE: ClassVar[str] = "countries"
    KEY: ClassVar[str] = "country"

    country: str
    cooperatives: list[str] = []


#: The key of the one ``countries`` document that lists every country with a cooperative.
ALL_COUNTRIES = "*"
