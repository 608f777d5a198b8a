"""What the governance service's events do to the documents (pure: no I/O), and how each
reads in her timeline.

Reads (through ``gateway.fold``) ``{node}.governance.events``; writes the ``assemblies``
documents. Which ballots count is what the events say (each names the receipts it sets
aside), so this fold counts exactly what the service counts.
"""

from __future__ import annotations

from gateway.documents import DocumentStore, document
from gateway.governance.documents import AssemblyView, BallotDoc, BylawsView
from schemas import governance as g
from schemas.envelope import Envelope
from schemas.registry import Contract


def _aside(view: AssemblyView, receipts: list[str]) -> None:
    for receipt in receipts:
        if receipt in view.ballots:
            view.ballots[receipt].counted = False


def fold(store: DocumentStore, event: Contract, envelope: Envelope) -> list[str]:
    """Apply one event; returns the member ids whose record changed."""
    if isinstance(event, g.BylawsSet):
        store.put(BylawsView.TABLE, event.cooperative_id,
                  BylawsView(cooperative_id=event.cooperative_id, current=event))
        return []
    view = document(store, AssemblyView, event.assembly_id)
    touched: list[str] = []
    match event:
        case g.AssemblyConvened():
            view.convened = event
        case g.MotionAdded():
            view.motions.append(event)
        case g.RollFrozen():
            view.roll, view.roll_root = list(event.members), event.root
        case g.ProxyGranted():
            view.proxies[event.member_id] = event.holder_id
        case g.ProxyRevoked():
            view.proxies.pop(event.member_id, None)
            _aside(view, event.set_aside)
        case g.MemberCheckedIn():
            view.checked_in.append(event.member_id)
            _aside(view, event.set_aside)
        case g.BallotCast():
            _aside(view, event.set_aside)
            view.ballots[event.receipt] = BallotDoc(
                motion_id=event.motion_id, member_id=event.member_id,
                channel=event.channel.value, ballot=event.ballot, event_id=envelope.id)
        case g.PollClosed():
            view.closed = event
        case g.ResultCertified():
            view.result = event
        case g.BallotKeyDestroyed():
            view.key_destroyed_at = event.destroyed_at
            for ballot in view.ballots.values():  # noise now: not kept
                ballot.ballot = None
    store.put(AssemblyView.TABLE, event.assembly_id, view)
    return touched


#: The events this feature folds.
FOLDS = dict.fromkeys((
    g.BylawsSet, g.AssemblyConvened, g.MotionAdded, g.RollFrozen, g.ProxyGranted, g.ProxyRevoked,
    g.MemberCheckedIn, g.BallotCast, g.PollClosed, g.ResultCertified, g.BallotKeyDestroyed),
    fold)


def summary(event: Contract) -> str | None:
    """Her timeline's line for one of this feature's events (none yet touch her record)."""
    return None
