"""What the governance service's events do to the documents (pure: no I/O), and how each
reads in her timeline.

Reads (through ``gateway.fold``) ``{node}.governance.events``; writes the ``assemblies``
documents. Which ballots count is what the events say (each names the receipts it sets
aside), so this fold counts exactly what the service counts.
"""

from __future__ import annotations

from gateway.documents import AssemblyPart, DocumentStore, MemberRecord, document
from gateway.governance.documents import (
    AssemblyRef,
    AssemblyView,
    BallotDoc,
    BallotKeysView,
    BylawsView,
    ref_sort,
)
from schemas import governance as g
from schemas.envelope import Envelope
from schemas.registry import Contract


def _aside(view: AssemblyView, receipts: list[str]) -> None:
    for receipt in receipts:
        if receipt in view.ballots:
            view.ballots[receipt].counted = False


_RANK = {"proxy": 0, "remote": 1, "in_person": 2}


def _part(store: DocumentStore, view: AssemblyView, member_id: str, change) -> None:
    """Change her part in this assembly (made on first touch) in her record."""
    member = document(store, MemberRecord, member_id)
    part = next((p for p in member.assemblies if p.assembly_id == view.assembly_id), None)
    if part is None:
        convened = view.convened
        part = AssemblyPart(assembly_id=view.assembly_id,
                            cooperative_id=convened.cooperative_id,
                            titles=dict(convened.titles), meeting_on=convened.meeting_on)
        member.assemblies.append(part)
    change(part)
    store.put(MemberRecord.TABLE, member_id, member)


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
            store.put_row(AssemblyRef.TABLE, event.cooperative_id,
                          ref_sort(event.meeting_on, event.assembly_id),
                          AssemblyRef(assembly_id=event.assembly_id))
        case g.MotionAdded():
            view.motions.append(event)
        case g.RollFrozen():
            view.roll, view.roll_root = list(event.members), event.root
            for member_id in event.members:
                _part(store, view, member_id, lambda part: None)
            # (no timeline row: the event holds the whole roll, up to 20,000 other members'
            # ids, which no one's timeline should copy; the close says she was on it)
        case g.ProxyGranted():
            view.proxies[event.member_id] = event.holder_id
        case g.ProxyRevoked():
            view.proxies.pop(event.member_id, None)
            _aside(view, event.set_aside)
        case g.MemberCheckedIn():
            view.checked_in.append(event.member_id)
            _aside(view, event.set_aside)
            touched = [event.member_id]  # she sees it at once if someone else did it
        case g.BallotCast():
            _aside(view, event.set_aside)
            view.ballots[event.receipt] = BallotDoc(
                motion_id=event.motion_id, member_id=event.member_id,
                channel=event.channel.value, ballot=event.ballot, event_id=envelope.id)
            # (no timeline row: who voted, and when, is for after the close)
        case g.PollClosed():
            view.closed = event
            how: dict[str, str] = {}
            for ballot in view.counted().values():  # in person, else herself, else proxy
                if _RANK[ballot.channel] > _RANK.get(how.get(ballot.member_id, ""), -1):
                    how[ballot.member_id] = ballot.channel
            for member_id in view.roll:
                _part(store, view, member_id,
                      lambda part, m=member_id: setattr(part, "voted", how.get(m, "no")))
            touched = list(view.roll)
        case g.ResultCertified():
            view.result = event
            keys = document(store, BallotKeysView, BallotKeysView.ALL)
            keys.due[event.assembly_id] = event.challenge_ends_at
            store.put(BallotKeysView.TABLE, BallotKeysView.ALL, keys)
            titles = {m.motion_id: m for m in view.motions}
            for result in event.results:
                motion = titles[result.motion_id]
                standing = {o.option_id: o.member_id for o in motion.options if o.member_id}
                for option in result.elected:
                    if (option in standing and motion.kind is g.MotionKind.ELECTION
                            and standing[option] in view.roll):
                        office = next(iter(motion.titles.values()))
                        _part(store, view, standing[option],
                              lambda part, o=office: part.offices.append(o))
                        touched.append(standing[option])
        case g.BallotKeyDestroyed():
            view.key_destroyed_at = event.destroyed_at
            keys = document(store, BallotKeysView, BallotKeysView.ALL)
            if event.assembly_id not in keys.recorded:
                keys.recorded.append(event.assembly_id)
            store.put(BallotKeysView.TABLE, BallotKeysView.ALL, keys)
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
    """Her timeline's line for one of this feature's events (never her choice)."""
    match event:
        case g.MemberCheckedIn():
            return (f"was checked in at the meeting of assembly {event.assembly_id}: she votes "
                    "there, on paper; her remote and proxy ballots no longer count")
        case g.PollClosed():
            return f"the voting of assembly {event.assembly_id}, on whose roll she was, closed"
        case g.ResultCertified():
            return f"was elected at assembly {event.assembly_id}"
    return None
