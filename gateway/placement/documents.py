"""The placement feature's documents (pure).

* ``job_orders``  job order id -> ``JobOrderView``: the job as posted, every offer of it and
  its answer, the placement, the wages settled and credited, how it ended, her rating and her
  grievances (sealed with her data key);
* ``employers``  employer id -> ``EmployerView``: who (sealed with the employer's own data
  key), their job orders, and their ratings as counted (shown from ``RATINGS_SHOWN`` on);
* ``wage_floors``  cooperative id -> ``WageFloorsView``: its floors by ISCO-08 group;
* rows ``coop_job_orders``  cooperative id -> ``CoopJobOrder``: its job orders, in the order
  posted;
* her ``MemberRecord.placements``: the job orders offered to her, oldest first (the work her
  portable record shows is theirs that ended).
"""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

import msgspec

from gateway.documents import Doc, Row
from schemas import placement as p
from schemas.fields import Money

#: An employer's rating is shown once this many workers rated them.
RATINGS_SHOWN = 5


class OfferDoc(msgspec.Struct, kw_only=True, gc=False):
    """One offer of the job and what became of it."""

    member_id: str
    offered_at: dt.datetime
    expires_at: dt.datetime
    #: "open", "accepted" (her calendar booked it), "confirmed", "declined", "released"
    #: (accepted, but the job order could not confirm it: ``code``), or "withdrawn"
    outcome: str = "open"
    accepted_at: dt.datetime | None = None
    decline_reason: str | None = None
    code: str | None = None


class JobOrderView(Doc, kw_only=True):
    TABLE: ClassVar[str] = "job_orders"
    KEY: ClassVar[str] = "job_order_id"

    job_order_id: str
    posted: p.JobOrderPosted | None = None
    offers: list[OfferDoc] = []
    withdrawn: p.JobOrderWithdrawn | None = None
    placement: p.PlacementConfirmed | None = None
    account_id: str | None = None  # where her wages go now
    settlements: list[p.WagesSettled] = []
    paid: list[str] = []  # settlement ids credited to her
    returned: list[str] = []  # ... refused by her account, not yet credited again
    paid_total: Money | None = None
    ended: p.PlacementEnded | None = None
    stars: int | None = None
    grievances: list[p.GrievanceFiled] = []

    #: her calendar's events that came before the offer they answer (its topic's partition
    #: was folded first): (member, "accepted" or a release's code, when she accepted)
    early: list[tuple[str, str, dt.datetime]] = []

    def offer_to(self, member_id: str) -> OfferDoc | None:
        """Her latest offer of this job, if any."""
        return next((o for o in reversed(self.offers) if o.member_id == member_id), None)

    @property
    def worked_minutes(self) -> int:
        """The minutes of the settlements credited to her."""
        return sum(x.minutes for x in self.settlements if x.settlement_id in self.paid)

    def status(self, now: dt.datetime) -> str:
        """open, offered (an offer awaits its answer, or an acceptance its confirmation),
        filled (placed), ended or withdrawn."""
        if self.withdrawn is not None:
            return "withdrawn"
        if self.ended is not None:
            return "ended"
        if self.placement is not None:
            return "filled"
        return "offered" if any(o.outcome == "accepted" or (o.outcome == "open"
                                                            and now < o.expires_at)
                                for o in self.offers) else "open"


class EmployerView(Doc, kw_only=True):
    TABLE: ClassVar[str] = "employers"
    KEY: ClassVar[str] = "employer_id"

    employer_id: str
    registered: p.EmployerRegistered | None = None
    erased: bool = False
    job_orders: list[str] = []
    stars: list[int] = []  # each rating, in the order they came

    @property
    def rating(self) -> tuple[int, int] | None:
        """(stars summed, ratings) of the first whole batches of ``RATINGS_SHOWN`` ratings:
        None before the first batch, and unchanged until the next one is whole, so the
        employer never learns one worker's stars from the change."""
        shown = len(self.stars) // RATINGS_SHOWN * RATINGS_SHOWN
        return (sum(self.stars[:shown]), shown) if shown else None


class WageFloorsView(Doc, kw_only=True):
    TABLE: ClassVar[str] = "wage_floors"
    KEY: ClassVar[str] = "cooperative_id"

    cooperative_id: str
    floors: dict[str, Money] = {}  # ISCO-08 group -> hourly floor
    set_at: dict[str, dt.datetime] = {}


class CoopJobOrder(Row, kw_only=True):
    """One of a cooperative's job orders (rows ``coop_job_orders``, key: the cooperative's
    id, sort: when posted and its id)."""

    TABLE: ClassVar[str] = "coop_job_orders"

    job_order_id: str


def job_order_sort(posted: p.JobOrderPosted) -> str:
    return f"{posted.posted_at.isoformat()}|{posted.job_order_id}"
