"""The governance feature's documents (pure): each assembly of this node's cooperatives.

* ``bylaws``  cooperative id -> ``BylawsView``;
* ``ballot_keys``  one document, ``BallotKeysView``: the keys to destroy, and when;
* ``coop_assemblies`` (rows)  cooperative id, sorted by meeting day -> ``AssemblyRef``: its
  assemblies (``gateway.governance.turnout`` reads them);
* ``assemblies``  assembly id -> ``AssemblyView``: the agenda, the roll, the proxies and
  check-ins, every ballot by its receipt (sealed: this view never holds a choice), the close
  and the certified result. Ballots are dropped when the ballot key is destroyed.
"""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

import msgspec

from gateway.documents import Doc, Row
from schemas import governance as g
from schemas.fields import Sealed


class BallotDoc(msgspec.Struct, kw_only=True, gc=False):
    motion_id: str
    member_id: str
    channel: str
    ballot: Sealed | None
    event_id: str = ""
    counted: bool = True


class AssemblyRef(Row, kw_only=True):
    """One of a cooperative's assemblies (rows ``coop_assemblies``, key: the cooperative's id,
    sort: ``ref_sort``)."""

    TABLE: ClassVar[str] = "coop_assemblies"

    assembly_id: str


def ref_sort(meeting_on: dt.date, assembly_id: str) -> str:
    return f"{meeting_on.isoformat()}/{assembly_id}"


class BylawsView(Doc, kw_only=True):
    """What a cooperative's bylaws say of its assemblies (``SetBylaws``), the latest."""

    TABLE: ClassVar[str] = "bylaws"
    KEY: ClassVar[str] = "cooperative_id"

    cooperative_id: str
    current: g.BylawsSet | None = None


class BallotKeysView(Doc, kw_only=True):
    """The assemblies certified whose ballot key is not known to be gone: when each may be
    destroyed (``due``: the end of its challenge period), and those whose destruction is
    recorded (``recorded``). One document (``ALL``); ``gateway.governance.sealing`` reads it."""

    TABLE: ClassVar[str] = "ballot_keys"
    KEY: ClassVar[str] = "node"
    ALL: ClassVar[str] = "all"

    node: str
    due: dict[str, dt.datetime] = {}
    recorded: list[str] = []


class AssemblyView(Doc, kw_only=True):
    TABLE: ClassVar[str] = "assemblies"
    KEY: ClassVar[str] = "assembly_id"

    assembly_id: str
    convened: g.AssemblyConvened | None = None
    motions: list[g.MotionAdded] = []
    roll: list[str] = []
    roll_root: str | None = None
    proxies: dict[str, str] = {}  # member -> holder
    checked_in: list[str] = []
    ballots: dict[str, BallotDoc] = {}  # receipt -> ballot
    closed: g.PollClosed | None = None
    result: g.ResultCertified | None = None
    key_destroyed_at: dt.datetime | None = None

    def counted(self, motion_id: str | None = None) -> dict[str, BallotDoc]:
        return {receipt: b for receipt, b in self.ballots.items()
                if b.counted and (motion_id is None or b.motion_id == motion_id)}
