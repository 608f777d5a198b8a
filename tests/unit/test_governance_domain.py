"""Every rule of the governance decider, given / when / then (pure, no broker): notice, the
roll from the membership events, the window, one counted ballot per member per motion,
proxies, paper ballots, the tally, quorum and majorities, and the key's destruction."""

from __future__ import annotations

import datetime as dt
import random
import secrets

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas import governance as g
from schemas import membership as m
from schemas import merkle
from schemas.fields import Money, Sealed
from services.governance.domain import (
    ASSEMBLY,
    BYLAWS,
    Memberships,
    apply_to_bylaws,
    apply_to_memberships,
    outcome_of,
    roll_of,
)
from services.runtime.aggregate import Context, Rejected

NOW = dt.datetime(2027, 3, 10, 9, 0, tzinfo=dt.UTC)
COOP = "0192d3c4-0000-7000-8000-0000000c0e5b"
OTHER_COOP = "0192d3c4-0000-7000-8000-0000000c0e5c"
ASSEMBLY_ID = "0192d3c4-0000-7000-8000-0000000a5501"
SURPLUS = "0192d3c4-0000-7000-8000-0000000a5511"
BOARD = "0192d3c4-0000-7000-8000-0000000a5512"


def member(n: int) -> str:
    return f"0192d3c4-0000-7000-8000-{n:012x}"


ROSA, LUIS, ANA, JOINED_LATE, LEFT_EARLY, ERASED = (member(n) for n in range(1, 7))
BYLAWS_SET = g.BylawsSet(cooperative_id=COOP, general_notice_days=14,
                         extraordinary_notice_days=7, max_proxies_per_holder=1,
                         challenge_days=30)


def started(who, on, coop=COOP, share=5000):
    return m.MembershipStarted(member_id=who, cooperative_id=coop, role=m.MembershipRole.MEMBER,
                               started_on=on, share_capital_required=Money(amount=share,
                                                                           currency="EUR"))


MEMBERSHIP_EVENTS = [
    started(ROSA, dt.date(2020, 1, 1)), started(LUIS, dt.date(2021, 5, 1)),
    started(ANA, dt.date(2022, 2, 2)), started(JOINED_LATE, dt.date(2027, 3, 2)),
    started(LEFT_EARLY, dt.date(2019, 1, 1)),
    m.MembershipEnded(member_id=LEFT_EARLY, cooperative_id=COOP, reason=m.EndReason.MOVED,
                      ended_on=dt.date(2026, 12, 31)),
    started(ERASED, dt.date(2020, 1, 1)), m.MemberErased(member_id=ERASED),
    started(member(99), dt.date(2020, 1, 1), coop=OTHER_COOP),
]


def recorded(event) -> dt.datetime:
    """When a membership fact was recorded here: on its day (noon UTC), or on New Year's
    day 2027 for an erasure."""
    day = getattr(event, "started_on", None) or getattr(event, "ended_on", None) \
        or dt.date(2027, 1, 1)
    return dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC)


def context(now=NOW, events=MEMBERSHIP_EVENTS) -> Context:
    memberships = Memberships()
    for event in events:
        apply_to_memberships(memberships, event, recorded(event))
    bylaws: dict = {}
    apply_to_bylaws(bylaws, BYLAWS_SET)
    return Context(now, {"cooperatives": {COOP, OTHER_COOP}, "bylaws": bylaws,
                         "memberships": memberships})


def convene(**changes) -> g.ConveneAssembly:
    fields = dict(assembly_id=ASSEMBLY_ID, cooperative_id=COOP, kind=g.AssemblyKind.GENERAL,
                  titles={"es": "Asamblea general 2027", "en": "General assembly 2027"},
                  meeting_on=dt.date(2027, 3, 24), record_date=dt.date(2027, 3, 1),
                  voting_opens_at=NOW + dt.timedelta(days=1),
                  voting_closes_at=dt.datetime(2027, 3, 24, 20, tzinfo=dt.UTC),
                  quorum_percent=50)
    fields.update(changes)
    return g.ConveneAssembly(**fields)


def motion(motion_id=SURPLUS, **changes) -> g.AddMotion:
    fields = dict(assembly_id=ASSEMBLY_ID, motion_id=motion_id,
                  titles={"es": "Destino del excedente", "en": "The year's surplus"},
                  texts={"en": "20% to the education fund, the rest returned to members"},
                  kind=g.MotionKind.RESOLUTION)
    fields.update(changes)
    return g.AddMotion(**fields)


class Play:
    """An assembly's stream: commands decided and their events applied, as the processor
    does (pure)."""

    def __init__(self, now=NOW, events=MEMBERSHIP_EVENTS):
        self.state = ASSEMBLY.initial()
        self.events: list = []
        self.now = now
        self.membership_events = events

    def __call__(self, command, at=None):
        decided = ASSEMBLY.decision(self.state, command,
                                    context(at or self.now, self.membership_events))
        for event in decided:
            self.state = ASSEMBLY.evolve(self.state, event)
        self.events.extend(decided)
        return decided[0]

    def refused(self, command, code, at=None):
        with pytest.raises(Rejected) as caught:
            self(command, at)
        assert caught.value.code == code, caught.value
        return caught.value


VOTING = NOW + dt.timedelta(days=2)
MEETING = dt.datetime(2027, 3, 24, 10, tzinfo=dt.UTC)  # the day members check in
AFTER = dt.datetime(2027, 3, 25, 9, tzinfo=dt.UTC)


def frozen(*motions, quorum=50, proxies_allowed=True) -> Play:
    play = Play()
    play(convene(quorum_percent=quorum))
    for one in motions or (motion(),):
        play(one)
    play(g.FreezeRoll(assembly_id=ASSEMBLY_ID))
    return play


def sealed(choices=("for",)) -> tuple[Sealed, str]:
    """A ballot as the gateway seals it (here: random bytes; the service never opens one)."""
    ballot = Sealed(kid="k1", iv=secrets.token_bytes(12),
                    ct=secrets.token_bytes(g.SEALED_BALLOT_BYTES))
    return ballot, g.receipt_of(ballot)


def cast(who, motion_id=SURPLUS) -> g.CastBallot:
    ballot, receipt = sealed()
    return g.CastBallot(assembly_id=ASSEMBLY_ID, motion_id=motion_id, member_id=who,
                        ballot=ballot, receipt=receipt)


def by_proxy(who, holder, motion_id=SURPLUS) -> g.CastProxyBallot:
    ballot, receipt = sealed()
    return g.CastProxyBallot(assembly_id=ASSEMBLY_ID, motion_id=motion_id, member_id=who,
                             holder_id=holder, ballot=ballot, receipt=receipt)


def paper(who, motion_id=SURPLUS) -> g.RecordPaperBallot:
    ballot, receipt = sealed()
    return g.RecordPaperBallot(assembly_id=ASSEMBLY_ID, motion_id=motion_id, member_id=who,
                               ballot=ballot, receipt=receipt)


def counted(play: Play, motion_id=SURPLUS) -> dict[str, str]:
    """member -> the receipt that counts, folded from the events alone (as any auditor does)."""
    result: dict[str, str] = {}
    for event in play.events:
        if getattr(event, "motion_id", motion_id) != motion_id and isinstance(event, g.BallotCast):
            continue
        for receipt in getattr(event, "set_aside", []):
            result = {who: r for who, r in result.items() if r != receipt}
        if isinstance(event, g.BallotCast):
            result[event.member_id] = event.receipt
    return result


# -- bylaws and convening -------------------------------------------------------------------


def test_bylaws_are_a_registered_cooperatives():
    set_bylaws = g.SetBylaws(**{f: getattr(BYLAWS_SET, f) for f in BYLAWS_SET.__struct_fields__})
    assert BYLAWS.decision(BYLAWS.initial(), set_bylaws, context()) == [BYLAWS_SET]
    with pytest.raises(Rejected, match="UnknownCooperative"):
        BYLAWS.decision(BYLAWS.initial(), g.SetBylaws(**{
            **{f: getattr(BYLAWS_SET, f) for f in BYLAWS_SET.__struct_fields__},
            "cooperative_id": ROSA}), context())


def test_an_assembly_needs_the_notice_its_bylaws_require():
    play = Play()
    play.refused(convene(meeting_on=dt.date(2027, 3, 23)), "NoticeTooShort")  # 13 days
    play.refused(convene(kind=g.AssemblyKind.EXTRAORDINARY, meeting_on=dt.date(2027, 3, 16)),
                 "NoticeTooShort")  # 6 days
    convened = play(convene(kind=g.AssemblyKind.EXTRAORDINARY, meeting_on=dt.date(2027, 3, 17),
                            voting_closes_at=dt.datetime(2027, 3, 17, 20, tzinfo=dt.UTC)))
    assert (convened.notice_days, convened.max_proxies_per_holder) == (7, 1)
    assert convened.convened_on == NOW.date()
    play.refused(convene(), "AssemblyAlreadyConvened")


def test_convening_checks_the_cooperative_its_bylaws_and_the_window():
    Play().refused(convene(cooperative_id=ROSA), "UnknownCooperative")
    Play().refused(convene(cooperative_id=OTHER_COOP), "NoBylaws")
    Play().refused(convene(record_date=dt.date(2027, 3, 25)), "ValidationError")
    Play().refused(convene(voting_closes_at=NOW + dt.timedelta(days=1)), "ValidationError")
    Play().refused(convene(voting_closes_at=dt.datetime(2027, 3, 26, 1, tzinfo=dt.UTC)),
                   "ValidationError")  # past the day after the meeting
    Play().refused(convene(titles={}), "ValidationError")


def test_motions_of_each_kind_and_the_agenda_freezes_with_the_roll():
    play = Play()
    play(convene())
    resolution = play(motion())
    assert [o.option_id for o in resolution.options] == ["for", "against", "abstain"]
    play.refused(motion(), "MotionAlreadyAdded")
    play.refused(motion(BOARD, kind=g.MotionKind.CHOICE, options=[
        g.Option(option_id="a", labels={"en": "A"})]), "ValidationError")
    election = play(motion(BOARD, kind=g.MotionKind.ELECTION, seats=2, options=[
        g.Option(option_id=f"c{n}", labels={"en": f"C{n}"}, member_id=member(n))
        for n in range(1, 4)]))
    assert (election.max_choices, election.seats) == (2, 2)
    play(g.FreezeRoll(assembly_id=ASSEMBLY_ID))
    play.refused(motion(member(77)), "MotionsFrozen")


# -- the roll -------------------------------------------------------------------------------


def test_the_roll_is_who_was_an_active_member_at_the_record_date_minus_the_erased():
    play = Play()
    play(convene())
    play.refused(g.FreezeRoll(assembly_id=ASSEMBLY_ID), "NoMotions")
    play(motion())
    play.refused(g.FreezeRoll(assembly_id=ASSEMBLY_ID), "RecordDateNotPassed",
                 at=dt.datetime(2027, 3, 1, 23, 59, tzinfo=dt.UTC))
    roll = play(g.FreezeRoll(assembly_id=ASSEMBLY_ID))
    assert roll.members == sorted([ROSA, LUIS, ANA])  # not late, not left, not erased
    assert roll.count == 3 and roll.root == merkle.root(roll.members)
    play.refused(g.FreezeRoll(assembly_id=ASSEMBLY_ID), "RollAlreadyFrozen")


def test_a_membership_ended_on_the_record_date_was_not_active_at_its_end():
    events = [started(ROSA, dt.date(2026, 1, 1)),
              m.MembershipEnded(member_id=ROSA, cooperative_id=COOP, reason=m.EndReason.MOVED,
                                ended_on=dt.date(2027, 3, 1)),
              started(ROSA, dt.date(2027, 3, 1), coop=OTHER_COOP),
              started(LUIS, dt.date(2027, 3, 1))]
    view = Memberships()
    for event in events:
        apply_to_memberships(view, event, recorded(event))
    end = dt.datetime(2027, 3, 2, tzinfo=dt.UTC)
    assert roll_of(view, COOP, dt.date(2027, 3, 1), end, NOW) == [LUIS]
    assert roll_of(view, COOP, dt.date(2027, 2, 28), end, NOW) == [ROSA]


def test_the_roll_is_the_ledger_as_it_stood_at_the_end_of_the_record_date():
    """Facts recorded after the record date, even backdated, change nothing: staff cannot
    shape the roll between the record date and the freeze; an erasure after the freeze
    changes no replay."""
    record_date = dt.date(2027, 3, 1)
    after = dt.datetime(2027, 3, 5, 9, tzinfo=dt.UTC)
    view = Memberships()
    for event, at in (
            (started(ROSA, dt.date(2020, 1, 1)), recorded(started(ROSA, dt.date(2020, 1, 1)))),
            (started(LUIS, dt.date(2020, 1, 1)), recorded(started(LUIS, dt.date(2020, 1, 1)))),
            # a dissenter's membership ended on a day before the record date, days after it
            (m.MembershipEnded(member_id=LUIS, cooperative_id=COOP, reason=m.EndReason.MOVED,
                               ended_on=dt.date(2027, 2, 1)), after),
            # a friend's membership started before the record date, recorded days after it
            (started(ANA, dt.date(2027, 2, 1)), after)):
        apply_to_memberships(view, event, at)
    ledger = dt.datetime(2027, 3, 2, tzinfo=dt.UTC)  # the end of the record date
    assert roll_of(view, COOP, record_date, ledger, after) == sorted([ROSA, LUIS])
    frozen_at = dt.datetime(2027, 3, 6, tzinfo=dt.UTC)
    apply_to_memberships(view, m.MemberErased(member_id=ROSA),
                         dt.datetime(2027, 3, 7, tzinfo=dt.UTC))
    assert roll_of(view, COOP, record_date, ledger, frozen_at) == sorted([ROSA, LUIS])  # replay
    assert roll_of(view, COOP, record_date, ledger,
                   dt.datetime(2027, 3, 8, tzinfo=dt.UTC)) == [LUIS]
    # convened after the record date: the ledger as it stood when it was convened
    assert roll_of(view, COOP, record_date, after, frozen_at) == sorted([ROSA, ANA])


def test_a_candidate_off_the_roll_does_not_block_the_assembly():
    play = Play()
    play(convene())
    play(motion(BOARD, kind=g.MotionKind.ELECTION, options=[
        g.Option(option_id="x", labels={"en": "X"}, member_id=JOINED_LATE)]))
    assert JOINED_LATE not in play(g.FreezeRoll(assembly_id=ASSEMBLY_ID)).members
    # (and no office for her: test_her_record_holds_the_offices_she_was_elected_to…)


def test_the_meeting_day_is_that_day_anywhere_on_earth():
    from services.governance.domain import on_the_day
    day = dt.date(2027, 3, 24)
    quito_evening = dt.datetime(2027, 3, 25, 0, 30, tzinfo=dt.UTC)  # 19:30 in Quito
    manila_morning = dt.datetime(2027, 3, 23, 23, 0, tzinfo=dt.UTC)  # 07:00 in Manila
    assert on_the_day(day, quito_evening) and on_the_day(day, manila_morning)
    assert not on_the_day(day, dt.datetime(2027, 3, 23, 9, 59, tzinfo=dt.UTC))
    assert not on_the_day(day, dt.datetime(2027, 3, 25, 12, 0, tzinfo=dt.UTC))


def test_the_merkle_root_and_proofs_are_rfc_6962s():
    # RFC 6962's empty tree, and the Certificate Transparency test vector of one leaf ""
    assert merkle.root([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert merkle.root([""]) == "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
    leaves = sorted(member(n) for n in range(1, 12))
    for index, leaf in enumerate(leaves):
        proof = merkle.inclusion_proof(leaves, index)
        assert merkle.verify_inclusion(leaf, index, len(leaves), proof, merkle.root(leaves))
        assert not merkle.verify_inclusion(member(50), index, len(leaves), proof,
                                           merkle.root(leaves))


def test_the_root_matches_an_rfc_6962_library_that_is_not_ours():
    pymerkle = pytest.importorskip("pymerkle")
    for size in (1, 2, 3, 5, 8, 13):
        leaves = [member(n) for n in range(size)]
        tree = pymerkle.InmemoryTree(algorithm="sha256")
        for leaf in leaves:
            tree.append_entry(leaf.encode())
        assert tree.get_root().hex() == merkle.root(leaves)


# -- ballots --------------------------------------------------------------------------------


def test_ballots_only_inside_the_window_from_members_on_the_roll():
    play = frozen()
    play.refused(cast(ROSA), "VotingNotOpen")
    play.refused(cast(JOINED_LATE), "NotOnRoll", at=VOTING)
    play.refused(cast(ERASED), "NotOnRoll", at=VOTING)
    play.refused(cast(ROSA, motion_id=BOARD), "UnknownMotion", at=VOTING)
    play(cast(ROSA), at=VOTING)
    play.refused(cast(ROSA), "VotingClosed", at=AFTER)
    bad = cast(LUIS)
    play.refused(g.CastBallot(**{**{f: getattr(bad, f) for f in bad.__struct_fields__},
                                 "receipt": "0" * 64}), "ReceiptMismatch", at=VOTING)


def test_no_ballot_before_the_roll_is_frozen():
    play = Play()
    play(convene(voting_opens_at=NOW))
    play(motion())
    play.refused(cast(ROSA), "RollNotFrozen", at=VOTING)


def test_a_later_ballot_of_hers_replaces_the_earlier():
    play = frozen()
    first = play(cast(ROSA), at=VOTING)
    second = play(cast(ROSA), at=VOTING)
    assert second.set_aside == [first.receipt]
    assert counted(play) == {ROSA: second.receipt}
    again = g.CastBallot(assembly_id=ASSEMBLY_ID, motion_id=SURPLUS, member_id=ROSA,
                         ballot=second.ballot, receipt=second.receipt)
    play.refused(again, "ValidationError", at=VOTING)  # the same sealed ballot twice


def test_proxies_as_the_bylaws_allow_and_her_own_ballot_overrides():
    play = frozen()
    grant = g.GrantProxy(assembly_id=ASSEMBLY_ID, member_id=ROSA, holder_id=LUIS)
    play(grant, at=VOTING)
    play.refused(grant, "ProxyAlreadyGranted", at=VOTING)
    play.refused(g.GrantProxy(assembly_id=ASSEMBLY_ID, member_id=ANA, holder_id=LUIS),
                 "ProxyLimitReached", at=VOTING)  # one per holder
    play.refused(g.GrantProxy(assembly_id=ASSEMBLY_ID, member_id=ANA, holder_id=ANA),
                 "ValidationError", at=VOTING)
    play.refused(g.GrantProxy(assembly_id=ASSEMBLY_ID, member_id=ANA, holder_id=JOINED_LATE),
                 "NotOnRoll", at=VOTING)
    play.refused(by_proxy(ROSA, ANA), "NoProxy", at=VOTING)
    proxied = play(by_proxy(ROSA, LUIS), at=VOTING)
    assert counted(play) == {ROSA: proxied.receipt}
    own = play(cast(ROSA), at=VOTING)
    assert own.set_aside == [proxied.receipt] and counted(play) == {ROSA: own.receipt}
    play.refused(by_proxy(ROSA, LUIS), "MemberVotedHerself", at=VOTING)


def test_a_revoked_proxys_ballots_stop_counting():
    play = frozen()
    play(g.GrantProxy(assembly_id=ASSEMBLY_ID, member_id=ROSA, holder_id=LUIS), at=VOTING)
    proxied = play(by_proxy(ROSA, LUIS), at=VOTING)
    revoked = play(g.RevokeProxy(assembly_id=ASSEMBLY_ID, member_id=ROSA), at=VOTING)
    assert revoked.set_aside == [proxied.receipt] and counted(play) == {}
    play.refused(g.RevokeProxy(assembly_id=ASSEMBLY_ID, member_id=ROSA), "NoProxy", at=VOTING)


def test_bylaws_without_proxies_refuse_them():
    no_proxies = g.BylawsSet(**{**{f: getattr(BYLAWS_SET, f)
                                   for f in BYLAWS_SET.__struct_fields__},
                                "max_proxies_per_holder": 0})
    ctx = context()
    apply_to_bylaws(ctx.lookups["bylaws"], no_proxies)
    state = ASSEMBLY.initial()
    for command in (convene(), motion(), g.FreezeRoll(assembly_id=ASSEMBLY_ID)):
        for event in ASSEMBLY.decision(state, command, ctx):
            state = ASSEMBLY.evolve(state, event)
    # (the bylaws of today allow proxies: the assembly keeps those it was convened under)
    with pytest.raises(Rejected, match="ProxiesNotAllowed"):
        ASSEMBLY.decision(state, g.GrantProxy(assembly_id=ASSEMBLY_ID, member_id=ROSA,
                                              holder_id=LUIS), context(VOTING))


def test_checking_in_sets_her_remote_ballots_aside_and_she_votes_on_paper_once():
    play = frozen()
    remote = play(cast(ROSA), at=VOTING)
    play.refused(paper(ROSA), "NotCheckedIn", at=MEETING)
    play.refused(g.CheckInMember(assembly_id=ASSEMBLY_ID, member_id=ROSA), "NotMeetingDay",
                 at=VOTING)  # not before the meeting: her remote ballot stands
    checked = play(g.CheckInMember(assembly_id=ASSEMBLY_ID, member_id=ROSA), at=MEETING)
    assert checked.set_aside == [remote.receipt] and counted(play) == {}
    play.refused(cast(ROSA), "VotedInPerson", at=MEETING)
    on_paper = play(paper(ROSA), at=MEETING)
    assert on_paper.channel is g.Channel.IN_PERSON and counted(play) == {ROSA: on_paper.receipt}
    play.refused(paper(ROSA), "AlreadyVotedInPerson", at=MEETING)
    play.refused(g.CheckInMember(assembly_id=ASSEMBLY_ID, member_id=ROSA), "AlreadyCheckedIn",
                 at=MEETING)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["cast", "proxy", "check_in", "paper", "revoke",
                                           "grant"]),
                          st.sampled_from([ROSA, LUIS, ANA])), max_size=40))
def test_at_most_one_counted_ballot_per_member_per_motion_whatever_the_order(steps):
    play = frozen()
    def command_of(action: str, who: str):
        other = {ROSA: LUIS, LUIS: ANA, ANA: ROSA}[who]
        match action:
            case "cast":
                return cast(who)
            case "proxy":
                return by_proxy(who, other)
            case "check_in":
                return g.CheckInMember(assembly_id=ASSEMBLY_ID, member_id=who)
            case "paper":
                return paper(who)
            case "revoke":
                return g.RevokeProxy(assembly_id=ASSEMBLY_ID, member_id=who)
        return g.GrantProxy(assembly_id=ASSEMBLY_ID, member_id=who, holder_id=other)

    for action, who in steps:
        command = command_of(action, who)
        try:
            play(command, at=MEETING)
        except Rejected:
            pass
    from_events = counted(play)
    in_state = {who: c.receipt for who, c in play.state.counted.get(SURPLUS, {}).items()}
    assert from_events == in_state  # every fold counts the same ballots
    for who in play.state.checked_in:  # in person, only paper counts
        assert who not in in_state or any(
            e.receipt == in_state[who] and e.channel is g.Channel.IN_PERSON
            for e in play.events if isinstance(e, g.BallotCast))


# -- close, tally, certification, the key ------------------------------------------------------


def tally(play: Play, counts: dict, spoiled=0, motion_id=SURPLUS,
          digest: str | None = None) -> g.CertifyResult:
    ballots = len(play.state.counted.get(motion_id, {}))
    return g.CertifyResult(assembly_id=ASSEMBLY_ID, tallies=[g.MotionTally(
        motion_id=motion_id, counts=counts, ballots=ballots, spoiled=spoiled)],
        receipts_digest=digest or g.receipts_digest(play.state.counted_receipts()))


def test_close_after_the_window_then_certify_a_tally_that_adds_up():
    play = frozen()
    for who in (ROSA, LUIS):
        play(cast(who), at=VOTING)
    play.refused(g.CloseVoting(assembly_id=ASSEMBLY_ID), "VotingStillOpen", at=VOTING)
    play.refused(tally(play, {"for": 2}), "NotClosed", at=AFTER)
    closed = play(g.CloseVoting(assembly_id=ASSEMBLY_ID), at=AFTER)
    assert closed.voters == 2
    assert closed.receipts_digest == g.receipts_digest(counted(play).values())
    play.refused(tally(play, {"for": 3}), "TallyMismatch", at=AFTER)
    play.refused(tally(play, {"for": 1, "maybe": 1}), "TallyMismatch", at=AFTER)
    play.refused(tally(play, {"for": 2}, digest=g.receipts_digest([])), "TallyMismatch",
                 at=AFTER)  # not the ballots published at the close
    result = play(tally(play, {"for": 1, "against": 0}, spoiled=1), at=AFTER)
    assert result.quorum_met  # 2 of 3
    assert result.roll_count == 3 and result.roll_root == merkle.root(sorted([ROSA, LUIS, ANA]))
    assert result.results[0].counts == {"for": 1, "against": 0, "abstain": 0}
    assert result.results[0].outcome is g.Outcome.CARRIED
    assert result.challenge_ends_at == AFTER + dt.timedelta(days=30)
    play.refused(tally(play, {"for": 2}), "AssemblyCertified", at=AFTER)


def test_without_quorum_nothing_carries():
    play = frozen(quorum=70)
    for who in (ROSA, LUIS):  # 2 of 3: 66%
        play(cast(who), at=VOTING)
    play(g.CloseVoting(assembly_id=ASSEMBLY_ID), at=AFTER)
    result = play(tally(play, {"for": 2}), at=AFTER)
    assert not result.quorum_met and result.results[0].outcome is g.Outcome.NO_QUORUM


def test_the_ballot_key_is_destroyed_only_after_the_challenge_period():
    play = frozen()
    play(cast(ROSA), at=VOTING)
    play.refused(g.DestroyBallotKey(assembly_id=ASSEMBLY_ID), "NotCertified", at=AFTER)
    play(g.CloseVoting(assembly_id=ASSEMBLY_ID), at=AFTER)
    play(tally(play, {"for": 1}), at=AFTER)
    play.refused(g.DestroyBallotKey(assembly_id=ASSEMBLY_ID), "ChallengePeriodOpen",
                 at=AFTER + dt.timedelta(days=29))
    later = AFTER + dt.timedelta(days=30)
    assert play(g.DestroyBallotKey(assembly_id=ASSEMBLY_ID), at=later).destroyed_at == later
    play.refused(g.DestroyBallotKey(assembly_id=ASSEMBLY_ID), "KeyAlreadyDestroyed", at=later)


@pytest.mark.parametrize(("majority", "yes", "no", "abstain", "outcome"), [
    (g.Majority.SIMPLE, 5, 4, 9, g.Outcome.CARRIED),
    (g.Majority.SIMPLE, 4, 4, 0, g.Outcome.DEFEATED),  # a tie fails
    (g.Majority.TWO_THIRDS, 6, 3, 0, g.Outcome.CARRIED),
    (g.Majority.TWO_THIRDS, 6, 4, 0, g.Outcome.DEFEATED),
    (g.Majority.UNANIMITY, 7, 0, 3, g.Outcome.CARRIED),  # abstentions do not break it
    (g.Majority.UNANIMITY, 7, 1, 0, g.Outcome.DEFEATED),
    (g.Majority.SIMPLE, 0, 0, 5, g.Outcome.DEFEATED),
])
def test_majorities_of_a_resolution(majority, yes, no, abstain, outcome):
    added = g.MotionAdded(assembly_id=ASSEMBLY_ID, motion_id=SURPLUS, titles={"en": "x"},
                          kind=g.MotionKind.RESOLUTION, majority=majority,
                          options=g.resolution_options(), max_choices=1, seats=1)
    assert outcome_of(added, {"for": yes, "against": no, "abstain": abstain},
                      yes + no + abstain)[0] is outcome


def test_elections_fill_their_seats_and_say_a_tie_at_the_cut():
    options = [g.Option(option_id=c, labels={"en": c}) for c in ("a", "b", "c", "d")]
    added = g.MotionAdded(assembly_id=ASSEMBLY_ID, motion_id=BOARD, titles={"en": "Board"},
                          kind=g.MotionKind.ELECTION, majority=g.Majority.SIMPLE,
                          options=options, max_choices=2, seats=2)
    assert outcome_of(added, {"a": 5, "b": 3, "c": 2, "d": 0}, 6) == (g.Outcome.ELECTED,
                                                                      ["a", "b"])
    assert outcome_of(added, {"a": 5, "b": 3, "c": 3, "d": 0}, 6) == (g.Outcome.TIED, ["a"])
    choice = g.MotionAdded(assembly_id=ASSEMBLY_ID, motion_id=BOARD, titles={"en": "Venue"},
                           kind=g.MotionKind.CHOICE, majority=g.Majority.SIMPLE,
                           options=options, max_choices=1, seats=1)
    assert outcome_of(choice, {"a": 4, "b": 3, "c": 0, "d": 0}, 7) == (g.Outcome.CARRIED, ["a"])
    assert outcome_of(choice, {"a": 3, "b": 2, "c": 2, "d": 0}, 7) == (g.Outcome.DEFEATED, [])
    assert outcome_of(choice, {"a": 3, "b": 3, "c": 1, "d": 0}, 7) == (g.Outcome.TIED, [])


# -- one member, one vote, whatever her shares ------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 40), st.integers(0, 10**9),
                          st.lists(st.sampled_from([0, 1, 2]), min_size=1, max_size=3)),
                min_size=1, max_size=20, unique_by=lambda x: x[0]),
       st.randoms(use_true_random=False))
def test_share_capital_changes_nothing_in_any_tally(holdings, rnd):
    """Random members, each with a random share capital and a few ballots (her last one
    counts), sealed for real, folded by the gateway's fold and opened by its tally, then
    certified by the service: every member counts once, for her last choice, whatever her
    shares; and the same members with other shares give the same result."""
    import asyncio
    from types import SimpleNamespace

    from gateway.fold import MemoryStore, project
    from gateway.governance.documents import AssemblyView
    from gateway.governance.mutations import opened_tally
    from tests.unit.inmemory_node import LocalKeys
    from tests.unit.test_governance_over_graphql import _envelope

    async def run(shares: dict[str, int]) -> g.ResultCertified:
        events = [started(member(n), dt.date(2020, 1, 1), share=shares[member(n)])
                  for n, _, _ in holdings]
        play, keys = Play(events=events), LocalKeys()
        play(convene(quorum_percent=10))
        play(motion())
        play(g.FreezeRoll(assembly_id=ASSEMBLY_ID))
        for n, _, choices in holdings:
            for choice in choices:
                sealed = await keys.seal(g.ballot_key_owner(ASSEMBLY_ID), g.ballot_plaintext(
                    g.BallotContent(assembly_id=ASSEMBLY_ID, motion_id=SURPLUS,
                                    choices=[choice])))
                play(g.CastBallot(assembly_id=ASSEMBLY_ID, motion_id=SURPLUS,
                                  member_id=member(n), ballot=sealed,
                                  receipt=g.receipt_of(sealed)), at=VOTING)
        play(g.CloseVoting(assembly_id=ASSEMBLY_ID), at=AFTER)
        store = MemoryStore()
        for sequence, event in enumerate(play.events, 1):
            project(store, (_envelope(event, sequence), event))
        view = store.get(AssemblyView.TABLE, ASSEMBLY_ID)
        tallies = await opened_tally(SimpleNamespace(keys=keys), view)
        return play(g.CertifyResult(assembly_id=ASSEMBLY_ID, tallies=tallies,
                                    receipts_digest=g.receipts_digest(view.counted())),
                    at=AFTER)

    some = {member(n): share for n, share, _ in holdings}
    other = {who: rnd.randint(0, 10**12) for who in some}
    first, second = asyncio.run(run(some)), asyncio.run(run(other))
    last = [choices[-1] for _, _, choices in holdings]
    expected = {option: last.count(i) for i, option in enumerate(("for", "against", "abstain"))}
    assert first.results[0].counts == expected  # one member, one vote: her last
    assert first.results == second.results and first.voters == second.voters == len(holdings)
    assert first.roll_root == second.roll_root


def test_a_random_assembly_recounts_from_its_events():
    rnd = random.Random(24)
    play = frozen()
    for _ in range(200):
        play(cast(rnd.choice([ROSA, LUIS, ANA])), at=VOTING)
    assert len(counted(play)) == 3
    assert sorted(counted(play).values()) == sorted(play.state.counted_receipts())
