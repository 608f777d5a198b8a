"""The members feature's own documents (pure): the cooperatives of this node, their member
groups, and the index of cooperatives by country. (The member's record itself is shared:
``gateway.documents``.)

* ``cooperatives``  cooperative id -> ``CooperativeView`` (details, groups, counts)
* rows ``coop_members``  cooperative id -> ``CoopMember``: everyone who ever joined, in
  joining order (``member_sort``)
* ``countries``     ISO country code -> ``CountryIndex`` (its cooperatives); ``ALL_COUNTRIES``
  lists every country with a cooperative
"""

from __future__ import annotations

from typing import ClassVar

from gateway.documents import Doc, Row
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
    names: dict[str, str] = {}  # its name in its languages, where it has several
    groups: list[GroupDoc] = []
    joined: int = 0  # everyone who ever joined (rows ``coop_members``)
    active_members: int = 0


class CoopMember(Row, kw_only=True):
    TABLE: ClassVar[str] = "coop_members"

    member_id: str


def member_sort(ordinal: int) -> str:
    """The ``coop_members`` row of a cooperative's ``ordinal``-th member (0: the first)."""
    return f"{ordinal:010d}"


class CountryIndex(Doc, kw_only=True):
    TABLE: ClassVar[str] = "countries"
    KEY: ClassVar[str] = "country"

    country: str
    cooperatives: list[str] = []


#: The key of the one ``countries`` document that lists every country with a cooperative.
ALL_COUNTRIES = "*"
