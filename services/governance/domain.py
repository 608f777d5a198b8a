"""The governance rules, as pure functions: no I/O; the clock and lookups come in through
``Context``.

Two aggregates: the **bylaws** of a cooperative (key ``cooperative_id``) and the
**assembly** (key ``assembly_id``). Everything about one assembly (its agenda, roll, proxies,
check-ins, ballots, close, result, key) has one writer, so "at most one counted ballot per
member per motion" holds under any load: a ballot replaces the one it overrides, and the
event says which receipts it sets aside, so every fold (the gateway's, an auditor's) counts
the same ballots.

Who counts, for one member and one motion: her paper ballot, once she is checked in at the
meeting (her remote and proxy ballots are set aside then); else her own latest remote
ballot; else her proxy holder's latest ballot for her, while the proxy stands. Shares,
balances and roles are nowhere here: one member, one vote.

Lookups: ``cooperatives`` and ``memberships`` (from membership events: each member's
memberships by cooperative, and the erased), ``bylaws`` (this service's own events).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

from schemas import governance as g
from schemas import membership as ms
from schemas import merkle
from schemas.registry import Contract, fields_of
from services.runtime.aggregate import Aggregate, Context, Lookup, Rejected, ServiceDefinition

replace = dataclasses.replace


# -- the bylaws ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bylaws:
    current: g.BylawsSet | None = None


def decide_bylaws(state: Bylaws, command: Contract, context: Context) -> list[Contract]:
    match command:
        case g.SetBylaws():
            if command.cooperative_id not in context.lookups["cooperatives"]:
                raise Rejected("UnknownCooperative", "no cooperative is registered with this id")
            return [g.BylawsSet(**fields_of(command))]
    raise TypeError(f"not a bylaws command: {type(command).__name__}")


def evolve_bylaws(state: Bylaws, event: Contract) -> Bylaws:
    if isinstance(event, g.BylawsSet):
        return Bylaws(current=event)
    raise TypeError(f"not a bylaws event: {type(event).__name__}")


# -- the assembly -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Counted:
    """The ballot that counts for one member on one motion."""

    channel: g.Channel
    receipt: str


@dataclass(frozen=True)
class Assembly:
    convened: g.AssemblyConvened | None = None
    motions: Mapping[str, g.MotionAdded] = field(default_factory=dict)
    roll: frozenset[str] | None = None
    roll_root: str = ""
    proxies: Mapping[str, str] = field(default_factory=dict)  # member -> holder
    checked_in: frozenset[str] = frozenset()
    #: motion id -> member id -> the ballot that counts
    counted: Mapping[str, Mapping[str, Counted]] = field(default_factory=dict)
    receipts: frozenset[str] = frozenset()  # every receipt ever cast here (none twice)
    closed: g.PollClosed | None = None
    certified: g.ResultCertified | None = None
    key_destroyed: bool = False

    def held_by(self, holder: str) -> int:
        return sum(1 for h in self.proxies.values() if h == holder)

    def counted_receipts(self) -> list[str]:
        return [c.receipt for by_member in self.counted.values() for c in by_member.values()]

    def voters(self) -> int:
        return len({member for by_member in self.counted.values() for member in by_member})


def decide(state: Assembly, command: Contract, context: Context) -> list[Contract]:
    now = context.now
    match command:
        case g.ConveneAssembly():
            return [_convene(state, command, context)]
        case g.AddMotion():
            _convened(state)
            if state.roll is not None:
                raise Rejected("MotionsFrozen", "the roll is frozen: the agenda is final")
            if command.motion_id in state.motions:
                raise Rejected("MotionAlreadyAdded", "a motion with this id is on the agenda")
            if len(state.motions) >= g.MAX_MOTIONS:
                raise Rejected("ValidationError", f"an agenda has at most {g.MAX_MOTIONS} motions")
            return [_motion(command)]
        case g.FreezeRoll():
            convened = _convened(state)
            if state.roll is not None:
                raise Rejected("RollAlreadyFrozen", "the roll is frozen already")
            if not state.motions:
                raise Rejected("NoMotions", "the assembly has no motion to vote on")
            if now.date() <= convened.record_date:
                raise Rejected("RecordDateNotPassed", "the record date has not ended yet (UTC)")
            ledger_at = ledger_time(convened)
            members = roll_of(context.lookups["memberships"], convened.cooperative_id,
                              convened.record_date, ledger_at, now)
            if len(members) > g.MAX_ROLL:
                raise Rejected("ValidationError", f"a roll holds at most {g.MAX_ROLL} members: "
                               "hold the vote in sections (member groups)")
            return [g.RollFrozen(assembly_id=command.assembly_id,
                                 record_date=convened.record_date, ledger_at=ledger_at,
                                 as_of=now, members=members,
                                 count=len(members), root=merkle.root(members))]
        case g.GrantProxy():
            convened = _open_for_proxies(state, now)
            _on_roll(state, command.member_id)
            _on_roll(state, command.holder_id)
            if command.member_id == command.holder_id:
                raise Rejected("ValidationError", "a proxy is given to another member")
            if convened.max_proxies_per_holder == 0:
                raise Rejected("ProxiesNotAllowed", "the cooperative's bylaws allow no proxies")
            if command.member_id in state.proxies:
                raise Rejected("ProxyAlreadyGranted", "she has given a proxy: revoke it first")
            if state.held_by(command.holder_id) >= convened.max_proxies_per_holder:
                raise Rejected("ProxyLimitReached", f"one member holds at most "
                               f"{convened.max_proxies_per_holder} proxies")
            return [g.ProxyGranted(**fields_of(command))]
        case g.RevokeProxy():
            _open_for_proxies(state, now)
            holder = state.proxies.get(command.member_id)
            if holder is None:
                raise Rejected("NoProxy", "she has given no proxy for this assembly")
            aside = [by_member[command.member_id].receipt
                     for by_member in state.counted.values()
                     if by_member.get(command.member_id, _NONE).channel is g.Channel.PROXY]
            return [g.ProxyRevoked(assembly_id=command.assembly_id,
                                   member_id=command.member_id, holder_id=holder,
                                   set_aside=aside)]
        case g.CheckInMember():
            convened = _window(state, now)
            if not on_the_day(convened.meeting_on, now):
                raise Rejected("NotMeetingDay", f"members check in on the day of the meeting, "
                               f"{convened.meeting_on}")
            _on_roll(state, command.member_id)
            if command.member_id in state.checked_in:
                raise Rejected("AlreadyCheckedIn", "she is checked in already")
            aside = [by_member[command.member_id].receipt
                     for by_member in state.counted.values() if command.member_id in by_member]
            return [g.MemberCheckedIn(assembly_id=command.assembly_id,
                                      member_id=command.member_id, set_aside=aside)]
        case g.CastBallot() | g.CastProxyBallot() | g.RecordPaperBallot():
            return [_ballot(state, command, now)]
        case g.CloseVoting():
            convened = _convened(state)
            if state.closed is not None:
                raise Rejected("VotingClosed", "the voting is closed already")
            if now < convened.voting_closes_at:
                raise Rejected("VotingStillOpen", "the voting window has not closed yet")
            if state.roll is None:
                raise Rejected("RollNotFrozen", "the roll was never frozen: nobody could vote")
            return [g.PollClosed(assembly_id=command.assembly_id, closed_at=now,
                                 voters=state.voters(),
                                 receipts_digest=g.receipts_digest(state.counted_receipts()))]
        case g.CertifyResult():
            return [_certify(state, command, now)]
        case g.DestroyBallotKey():
            _convened(state)
            if state.certified is None:
                raise Rejected("NotCertified", "the result is not certified yet")
            if state.key_destroyed:
                raise Rejected("KeyAlreadyDestroyed", "the ballot key is destroyed already")
            if now < state.certified.challenge_ends_at:
                raise Rejected("ChallengePeriodOpen", "the result may be challenged until "
                               f"{state.certified.challenge_ends_at:%Y-%m-%d %H:%M} UTC")
            return [g.BallotKeyDestroyed(assembly_id=command.assembly_id, destroyed_at=now)]
    raise TypeError(f"not an assembly command: {type(command).__name__}")


def evolve(state: Assembly, event: Contract) -> Assembly:
    match event:
        case g.AssemblyConvened():
            return Assembly(convened=event)
        case g.MotionAdded():
            return replace(state, motions={**state.motions, event.motion_id: event})
        case g.RollFrozen():
            return replace(state, roll=frozenset(event.members), roll_root=event.root)
        case g.ProxyGranted():
            return replace(state, proxies={**state.proxies, event.member_id: event.holder_id})
        case g.ProxyRevoked():
            proxies = {m: h for m, h in state.proxies.items() if m != event.member_id}
            return replace(state, proxies=proxies,
                           counted=_without(state.counted, event.member_id, event.set_aside))
        case g.MemberCheckedIn():
            return replace(state, checked_in=state.checked_in | {event.member_id},
                           counted=_without(state.counted, event.member_id, event.set_aside))
        case g.BallotCast():
            motion = dict(state.counted.get(event.motion_id, {}))
            motion[event.member_id] = Counted(event.channel, event.receipt)
            return replace(state, counted={**state.counted, event.motion_id: motion},
                           receipts=state.receipts | {event.receipt})
        case g.PollClosed():
            return replace(state, closed=event)
        case g.ResultCertified():
            return replace(state, certified=event)
        case g.BallotKeyDestroyed():
            return replace(state, key_destroyed=True)
    raise TypeError(f"not an assembly event: {type(event).__name__}")


_NONE = Counted(g.Channel.REMOTE, "")


def _without(counted: Mapping[str, Mapping[str, Counted]], member_id: str,
             receipts: list[str]) -> Mapping[str, Mapping[str, Counted]]:
    """``counted`` with her ballots of ``receipts`` set aside."""
    aside = set(receipts)
    return {motion: {m: c for m, c in by_member.items()
                     if not (m == member_id and c.receipt in aside)}
            for motion, by_member in counted.items()}


def _convene(state: Assembly, command: g.ConveneAssembly, context: Context) -> g.AssemblyConvened:
    if state.convened is not None:
        raise Rejected("AssemblyAlreadyConvened", "an assembly with this id is convened")
    if command.cooperative_id not in context.lookups["cooperatives"]:
        raise Rejected("UnknownCooperative", "no cooperative is registered with this id")
    bylaws = context.lookups["bylaws"].get(command.cooperative_id)
    if bylaws is None:
        raise Rejected("NoBylaws", "record the cooperative's bylaws first (setBylaws)")
    if not command.titles:
        raise Rejected("ValidationError", "an assembly has a title in at least one language")
    notice = (bylaws.general_notice_days if command.kind is g.AssemblyKind.GENERAL
              else bylaws.extraordinary_notice_days)
    today = context.now.date()
    if command.meeting_on < today + dt.timedelta(days=notice):
        raise Rejected("NoticeTooShort", f"the bylaws require {notice} days of notice for "
                       f"a {command.kind.value} assembly: meet on "
                       f"{today + dt.timedelta(days=notice)} or later")
    if command.record_date > command.meeting_on:
        raise Rejected("ValidationError", "the record date is no later than the meeting")
    if command.record_date >= command.voting_opens_at.astimezone(dt.UTC).date():
        raise Rejected("ValidationError", "the voting opens after the record date (a ballot "
                       "needs the roll, frozen once the record date has ended)")
    if command.voting_closes_at <= command.voting_opens_at:
        raise Rejected("ValidationError", "the voting window closes after it opens")
    if command.voting_closes_at <= context.now:
        raise Rejected("ValidationError", "the voting window closes in the future")
    if command.voting_closes_at.astimezone(dt.UTC).date() > command.meeting_on + dt.timedelta(1):
        raise Rejected("ValidationError", "the voting closes by the day after the meeting")
    return g.AssemblyConvened(**fields_of(command), convened_on=today,
                              convened_at=context.now, notice_days=notice,
                              max_proxies_per_holder=bylaws.max_proxies_per_holder,
                              challenge_days=bylaws.challenge_days)


def _motion(command: g.AddMotion) -> g.MotionAdded:
    if not command.titles:
        raise Rejected("ValidationError", "a motion has a title in at least one language")
    options = list(command.options)
    if len({o.option_id for o in options}) != len(options):
        raise Rejected("ValidationError", "a motion's options have distinct ids")
    if command.kind is not g.MotionKind.ELECTION and any(o.member_id for o in options):
        raise Rejected("ValidationError", "only an election's options name a member")
    max_choices, seats, majority = command.max_choices, command.seats, command.majority
    match command.kind:
        case g.MotionKind.RESOLUTION:
            standard = g.resolution_options()
            if options and {o.option_id for o in options} != {o.option_id for o in standard}:
                raise Rejected("ValidationError", "a resolution's options are for, against and "
                               "abstain")
            options = options or standard
            max_choices = seats = 1
        case g.MotionKind.CHOICE:
            if len(options) < 2:
                raise Rejected("ValidationError", "a choice has at least two options")
            if max_choices > len(options):
                raise Rejected("ValidationError", "a ballot chooses at most every option")
            seats = 1
        case g.MotionKind.ELECTION:
            if not options:
                raise Rejected("ValidationError", "an election has at least one candidate")
            if seats > len(options):
                raise Rejected("ValidationError", "an election has a candidate for every seat")
            max_choices, majority = seats, g.Majority.SIMPLE
    return g.MotionAdded(assembly_id=command.assembly_id, motion_id=command.motion_id,
                         titles=command.titles, texts=command.texts, kind=command.kind,
                         majority=majority, options=options, max_choices=max_choices,
                         seats=seats)


def on_the_day(day: dt.date, now: dt.datetime) -> bool:
    """Whether ``now`` falls on ``day`` somewhere on Earth (UTC+14 to UTC-12): a meeting's day
    wherever the cooperative meets, without knowing its time zone."""
    start = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC) - dt.timedelta(hours=14)
    return start <= now < start + dt.timedelta(hours=24 + 14 + 12)


def _convened(state: Assembly) -> g.AssemblyConvened:
    if state.convened is None:
        raise Rejected("UnknownAssembly", "no assembly is convened with this id")
    return state.convened


def _window(state: Assembly, now: dt.datetime) -> g.AssemblyConvened:
    convened = _convened(state)
    if state.closed is not None or now >= convened.voting_closes_at:
        raise Rejected("VotingClosed", "the voting window is closed")
    if now < convened.voting_opens_at:
        raise Rejected("VotingNotOpen", f"the voting opens at "
                       f"{convened.voting_opens_at.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC")
    if state.roll is None:
        raise Rejected("RollNotFrozen", "the roll is not frozen yet")
    return convened


def _open_for_proxies(state: Assembly, now: dt.datetime) -> g.AssemblyConvened:
    convened = _convened(state)
    if state.closed is not None or now >= convened.voting_closes_at:
        raise Rejected("VotingClosed", "the voting window is closed")
    if state.roll is None:
        raise Rejected("RollNotFrozen", "the roll is not frozen yet")
    return convened


def _on_roll(state: Assembly, member_id: str) -> None:
    if state.roll is None or member_id not in state.roll:
        raise Rejected("NotOnRoll", "the member is not on this assembly's roll")


def _ballot(state: Assembly, command: g.CastBallot | g.CastProxyBallot | g.RecordPaperBallot,
            now: dt.datetime) -> g.BallotCast:
    _window(state, now)
    if command.motion_id not in state.motions:
        raise Rejected("UnknownMotion", "the assembly has no motion with this id")
    member = command.member_id
    _on_roll(state, member)
    if command.receipt != g.receipt_of(command.ballot):
        raise Rejected("ReceiptMismatch", "the receipt is not the sealed ballot's")
    if len(command.ballot.ct) != g.SEALED_BALLOT_BYTES:  # its length must say nothing
        raise Rejected("ValidationError", f"a sealed ballot has {g.SEALED_BALLOT_BYTES} bytes")
    if command.receipt in state.receipts:
        raise Rejected("ValidationError", "this sealed ballot was cast already")
    current = state.counted.get(command.motion_id, {}).get(member)
    holder = None
    match command:
        case g.CastBallot():
            channel = g.Channel.REMOTE
            if member in state.checked_in:
                raise Rejected("VotedInPerson", "she is checked in: she votes at the meeting")
        case g.CastProxyBallot():
            channel, holder = g.Channel.PROXY, command.holder_id
            if state.proxies.get(member) != holder:
                raise Rejected("NoProxy", "she has given no proxy to this member")
            if member in state.checked_in:
                raise Rejected("VotedInPerson", "she is checked in: she votes at the meeting")
            if current is not None and current.channel is g.Channel.REMOTE:
                raise Rejected("MemberVotedHerself", "she voted herself on this motion")
        case _:
            channel = g.Channel.IN_PERSON
            if member not in state.checked_in:
                raise Rejected("NotCheckedIn", "check her in at the meeting first")
            if current is not None and current.channel is g.Channel.IN_PERSON:
                raise Rejected("AlreadyVotedInPerson", "her paper ballot is recorded already")
    return g.BallotCast(assembly_id=command.assembly_id, motion_id=command.motion_id,
                        member_id=member, channel=channel, ballot=command.ballot,
                        receipt=command.receipt, holder_id=holder,
                        set_aside=[current.receipt] if current is not None else [])


def _certify(state: Assembly, command: g.CertifyResult, now: dt.datetime) -> g.ResultCertified:
    convened = _convened(state)
    if state.closed is None:
        raise Rejected("NotClosed", "close the voting first")
    if state.certified is not None:
        raise Rejected("AssemblyCertified", "the result is certified already")
    if command.receipts_digest != state.closed.receipts_digest:
        raise Rejected("TallyMismatch", "the tally was not of the counted ballots: its "
                       "receipts are not those published at the close")
    tallies = {t.motion_id: t for t in command.tallies}
    if len(tallies) != len(command.tallies) or set(tallies) != set(state.motions):
        raise Rejected("TallyMismatch", "the tally names every motion once, and no other")
    roll_count = len(state.roll or ())
    voters = state.closed.voters
    quorum_met = voters * 100 >= convened.quorum_percent * roll_count
    results = []
    for motion_id, motion in state.motions.items():
        tally = tallies[motion_id]
        _adds_up(motion, tally, len(state.counted.get(motion_id, {})))
        counts = {o.option_id: tally.counts.get(o.option_id, 0) for o in motion.options}
        outcome, elected = outcome_of(motion, counts, tally.ballots - tally.spoiled)
        results.append(g.MotionResult(
            motion_id=motion_id, counts=counts, ballots=tally.ballots, spoiled=tally.spoiled,
            outcome=outcome if quorum_met else g.Outcome.NO_QUORUM,
            elected=elected if quorum_met else []))
    return g.ResultCertified(
        assembly_id=command.assembly_id, certified_at=now, roll_count=roll_count,
        roll_root=state.roll_root, voters=voters, quorum_met=quorum_met,
        receipts_digest=state.closed.receipts_digest, results=results,
        challenge_ends_at=now + dt.timedelta(days=convened.challenge_days))


def _adds_up(motion: g.MotionAdded, tally: g.MotionTally, counted: int) -> None:
    """A motion's tally is of exactly its counted ballots: each valid ballot chose one to
    ``max_choices`` of its options, each spoiled ballot none."""
    known = {o.option_id for o in motion.options}
    chosen = sum(tally.counts.values())
    valid = tally.ballots - tally.spoiled
    if (tally.ballots != counted or set(tally.counts) - known or valid < 0
            or not valid <= chosen <= valid * motion.max_choices):
        raise Rejected("TallyMismatch", f"the tally of motion {motion.motion_id} does not add "
                       f"up to its {counted} counted ballots")


def outcome_of(motion: g.MotionAdded, counts: Mapping[str, int],
               valid: int) -> tuple[g.Outcome, list[str]]:
    """What a motion comes to (the quorum met), from its counts and its valid ballots.

    A resolution: of the ballots for and against (abstentions do not count), more than half
    for (simple; a tie fails), at least two thirds (two thirds), or none against (unanimity),
    and at least one for. A choice: the option most chose, if it has the majority of the valid
    ballots (a shared first place: tied). An election: the ``seats`` candidates most chose,
    with at least one vote each (a tie across the last seat: tied, the seats above it
    elected)."""
    if motion.kind is g.MotionKind.RESOLUTION:
        yes, no = counts.get(g.FOR, 0), counts.get(g.AGAINST, 0)
        return (g.Outcome.CARRIED if yes > 0 and _majority(motion.majority, yes, yes + no)
                else g.Outcome.DEFEATED), []
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    if motion.kind is g.MotionKind.CHOICE:
        (first, top), runner_up = ranked[0], ranked[1][1] if len(ranked) > 1 else -1
        if top == runner_up and top > 0:
            return g.Outcome.TIED, []
        if top > 0 and _majority(motion.majority, top, valid):
            return g.Outcome.CARRIED, [first]
        return g.Outcome.DEFEATED, []
    seats = motion.seats
    chosen = [option for option, n in ranked[:seats] if n > 0]
    if len(ranked) > seats and ranked[seats - 1][1] == ranked[seats][1] > 0:
        cut = ranked[seats][1]
        return g.Outcome.TIED, [option for option, n in ranked[:seats] if n > cut]
    return g.Outcome.ELECTED, chosen


def _majority(rule: g.Majority, part: int, whole: int) -> bool:
    match rule:
        case g.Majority.SIMPLE:
            return 2 * part > whole
        case g.Majority.TWO_THIRDS:
            return 3 * part >= 2 * whole
    return part == whole


# -- the roll, from the membership events -------------------------------------------------------


@dataclass
class Span:
    """One membership: its cooperative, its days, and when its start and end were recorded."""

    cooperative_id: str
    started_on: dt.date
    started_at: dt.datetime
    ended_on: dt.date | None = None
    ended_at: dt.datetime | None = None


@dataclass
class Memberships:
    """Each member's memberships and when each was erased, as the membership events say and
    when they were recorded (a timed lookup)."""

    spans: dict[str, list[Span]] = field(default_factory=dict)
    erased: dict[str, dt.datetime] = field(default_factory=dict)


def apply_to_memberships(view: Memberships, event: Contract, recorded: dt.datetime) -> None:
    match event:
        case ms.MembershipStarted():
            view.spans.setdefault(event.member_id, []).append(
                Span(event.cooperative_id, event.started_on, recorded))
        case ms.MembershipEnded():
            for span in reversed(view.spans.get(event.member_id, [])):
                if span.cooperative_id == event.cooperative_id and span.ended_on is None:
                    span.ended_on, span.ended_at = event.ended_on, recorded
                    break
        case ms.MemberErased():
            view.erased.setdefault(event.member_id, recorded)


def end_of(day: dt.date) -> dt.datetime:
    """The end of a day (UTC): when a record date's ledger is read."""
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)


def ledger_time(convened: g.AssemblyConvened) -> dt.datetime:
    """When the ledger a roll is read from stands: at the end of the record date (UTC), or
    when the assembly was convened if that is later (a record date already past)."""
    return max(end_of(convened.record_date), convened.convened_at)


def roll_of(view: Memberships, cooperative_id: str, record_date: dt.date,
            ledger_at: dt.datetime, as_of: dt.datetime) -> list[str]:
    """The roll: the ledger of memberships as it stood at ``ledger_at``, the members whose
    membership of the cooperative was active at the end of ``record_date`` (started on or
    before it, not ended on or before it), each fact recorded by ``ledger_at`` (a start or an
    end recorded later, even backdated, changes nothing), minus those erased by ``as_of``
    (when it was frozen); sorted. Anyone holding the membership events recomputes it with
    their envelopes' times (``schemas.merkle``)."""
    cutoff = ledger_at

    def active(span: Span) -> bool:
        ended = (span.ended_on is not None and span.ended_at <= cutoff
                 and span.ended_on <= record_date)
        return (span.cooperative_id == cooperative_id and span.started_at <= cutoff
                and span.started_on <= record_date and not ended)

    return sorted(member for member, spans in view.spans.items()
                  if not (member in view.erased and view.erased[member] <= as_of)
                  and any(active(span) for span in spans))


def apply_to_cooperatives(view: set[str], event: Contract) -> None:
    if isinstance(event, ms.CooperativeRegistered):
        view.add(event.cooperative_id)


def apply_to_bylaws(view: dict[str, g.BylawsSet], event: Contract) -> None:
    if isinstance(event, g.BylawsSet):
        view[event.cooperative_id] = event


# -- the service, wired at the bottom ---------------------------------------------------------

BYLAWS = Aggregate(
    name="bylaws", initial=Bylaws, decide=decide_bylaws, evolve=evolve_bylaws,
    commands=(g.SetBylaws,), events=(g.BylawsSet,))

ASSEMBLY = Aggregate(
    name="assembly", initial=Assembly, decide=decide, evolve=evolve,
    commands=(g.ConveneAssembly, g.AddMotion, g.FreezeRoll, g.GrantProxy, g.RevokeProxy,
              g.CheckInMember, g.CastBallot, g.CastProxyBallot, g.RecordPaperBallot,
              g.CloseVoting, g.CertifyResult, g.DestroyBallotKey),
    events=(g.AssemblyConvened, g.MotionAdded, g.RollFrozen, g.ProxyGranted, g.ProxyRevoked,
            g.MemberCheckedIn, g.BallotCast, g.PollClosed, g.ResultCertified,
            g.BallotKeyDestroyed),
)

GOVERNANCE = ServiceDefinition(
    name=g.SERVICE,
    aggregates=(BYLAWS, ASSEMBLY),
    lookups=(
        Lookup("cooperatives", set, apply_to_cooperatives, source="membership"),
        Lookup("memberships", Memberships, apply_to_memberships, source="membership",
               timed=True),
        Lookup("bylaws", dict, apply_to_bylaws),
    ),
)
