"""Contracts of the governance service: bylaws, assemblies, motions, the roll, ballots,
proxies, the tally and its certification (issue 24).

Two aggregates:

* the **bylaws** of a cooperative (key ``cooperative_id``): the notice an assembly needs, how
  many proxies one member may hold, how long a result may be challenged;
* the **assembly** (key ``assembly_id``): everything about one assembly has one writer, so
  "one counted ballot per member per motion" holds under any load.

One member, one vote: nothing here knows a share, a balance or a role; the roll is derived
from the membership events (the members whose membership of the cooperative was active at
the end of the record date, minus the erased), frozen once, published as a count and an RFC
6962 Merkle root (``schemas.merkle``). A ballot travels sealed with the assembly's ballot key
(AES-256-GCM; the gateway seals it before it reaches Kafka), its receipt is the SHA-256 of
the seal (``receipt_of``); after the challenge period the key is destroyed and nobody can link
a member to her choice again. The events hold member ids, never personal fields.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from enum import StrEnum
from typing import Annotated

import msgspec

from schemas.fields import Id, LanguageMap, LanguageTag, Sealed, UtcDateTime
from schemas.registry import REGISTRY, Contract
from schemas.rejections import declare_rejections

SERVICE = "governance"
command = REGISTRY.command
event = REGISTRY.event

#: The codes the governance service rejects a command with (besides the runtime's).
REJECTIONS = declare_rejections(SERVICE, {
    "AlreadyCheckedIn": "she is checked in at the meeting already",
    "AlreadyVotedInPerson": "her paper ballot on this motion is recorded already",
    "AssemblyAlreadyConvened": "an assembly with this id is convened",
    "AssemblyCertified": "the assembly's result is certified: nothing changes it now",
    "KeyAlreadyDestroyed": "the assembly's ballot key is destroyed already",
    "ChallengePeriodOpen": "the result may still be challenged: its ballot key is kept",
    "MemberVotedHerself": "she voted herself on this motion: her own ballot overrides a proxy's",
    "MotionAlreadyAdded": "a motion with this id is on the agenda",
    "MotionsFrozen": "the roll is frozen: the agenda is final",
    "NoBylaws": "the cooperative has recorded no bylaws for its assemblies",
    "NoProxy": "she has given no proxy to this member for this assembly",
    "NoMotions": "the assembly has no motion to vote on",
    "NotCheckedIn": "she is not checked in at the meeting",
    "NotClosed": "the voting is not closed yet",
    "NotCertified": "the assembly's result is not certified yet",
    "NotMeetingDay": "members check in on the day of the meeting",
    "NotOnRoll": "she is not on the assembly's roll",
    "NoticeTooShort": "the meeting is sooner than the notice the bylaws require",
    "ProxiesNotAllowed": "the cooperative's bylaws allow no proxies",
    "ProxyAlreadyGranted": "she has given a proxy for this assembly: revoke it first",
    "ProxyLimitReached": "the proxy holder holds as many proxies as the bylaws allow",
    "ReceiptMismatch": "the receipt is not the SHA-256 of the sealed ballot",
    "RollAlreadyFrozen": "the roll is frozen already",
    "RollNotFrozen": "the roll is not frozen yet",
    "RecordDateNotPassed": "the record date has not ended yet: the roll cannot be frozen",
    "TallyMismatch": "the tally does not add up to the ballots counted",
    "UnknownAssembly": "no assembly is convened with this id",
    "UnknownCooperative": "no cooperative is registered with this id",
    "UnknownMotion": "the assembly has no motion with this id",
    "VotedInPerson": "she voted in person at the meeting: remote and proxy ballots no longer count",
    "VotingClosed": "the voting window is closed",
    "VotingNotOpen": "the voting window has not opened yet",
    "VotingStillOpen": "the voting window has not closed yet",
}, release=6)

#: The most members one roll holds: its member ids travel in one event (1 MiB). A larger
#: cooperative votes in sections (member groups), as large cooperatives' bylaws provide.
MAX_ROLL = 20_000
#: The most motions on one agenda, and options on one motion.
MAX_MOTIONS = 50
MAX_OPTIONS = 50

Days = Annotated[int, msgspec.Meta(ge=0, le=365)]
OptionId = Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$",
                                       description="an option's id within its motion")]
Percent = Annotated[int, msgspec.Meta(ge=0, le=100)]
Hex256 = Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{64}$")]
MotionText = Annotated[dict[LanguageTag, Annotated[str, msgspec.Meta(min_length=1,
                                                                     max_length=4000)]],
                       msgspec.Meta(max_length=20)]


class AssemblyKind(StrEnum):
    """The kinds of assembly."""

    GENERAL = "general"
    EXTRAORDINARY = "extraordinary"


class MotionKind(StrEnum):
    """What a motion asks."""

    RESOLUTION = "resolution"
    CHOICE = "choice"
    ELECTION = "election"


class Majority(StrEnum):
    """What carries a motion, of the ballots that are not abstentions."""

    SIMPLE = "simple"
    TWO_THIRDS = "two_thirds"
    UNANIMITY = "unanimity"


class Channel(StrEnum):
    """How a ballot came."""

    REMOTE = "remote"
    PROXY = "proxy"
    IN_PERSON = "in_person"


class Outcome(StrEnum):
    """What a motion came to."""

    CARRIED = "carried"
    DEFEATED = "defeated"
    NO_QUORUM = "no_quorum"
    TIED = "tied"
    ELECTED = "elected"


#: A resolution's options, always these three: abstentions count towards the quorum, not
#: the majority.
FOR, AGAINST, ABSTAIN = "for", "against", "abstain"


class Option(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One option of a motion: its id, its label by language, and, in an election, the member
    standing (her record shows the office if she is elected)."""

    option_id: OptionId
    labels: LanguageMap
    member_id: Id | None = None


class MotionTally(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The opened ballots of one motion: how many chose each option (a ballot may choose
    several in a choice or an election), and how many were spoiled (did not open, or named no
    valid option)."""

    motion_id: Id
    counts: Annotated[dict[OptionId, Annotated[int, msgspec.Meta(ge=0)]],
                      msgspec.Meta(max_length=MAX_OPTIONS)]
    ballots: Annotated[int, msgspec.Meta(ge=0)]
    spoiled: Annotated[int, msgspec.Meta(ge=0)] = 0


class MotionResult(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One motion's certified result."""

    motion_id: Id
    counts: dict[OptionId, int]
    ballots: int
    spoiled: int
    outcome: Outcome
    elected: list[OptionId] = []


# -- the bylaws -----------------------------------------------------------------------------


@command(SERVICE, "SetBylaws", key="cooperative_id")
class SetBylaws(Contract, frozen=True, kw_only=True):
    """Record what the cooperative's bylaws say of its assemblies: the days of notice a general
    and an extraordinary assembly need, how many proxies one member may hold (0: none), and
    the days a certified result may be challenged before its ballot key is destroyed (0: once
    it is certified). The
    cooperative is registered (else UnknownCooperative). Assemblies convened before keep the
    bylaws they were convened under."""

    cooperative_id: Id
    general_notice_days: Days
    extraordinary_notice_days: Days
    max_proxies_per_holder: Annotated[int, msgspec.Meta(ge=0, le=20)]
    challenge_days: Annotated[int, msgspec.Meta(ge=0, le=365)]


@event(SERVICE, "BylawsSet")
class BylawsSet(Contract, frozen=True, kw_only=True):
    cooperative_id: Id
    general_notice_days: Days
    extraordinary_notice_days: Days
    max_proxies_per_holder: Annotated[int, msgspec.Meta(ge=0, le=20)]
    challenge_days: Annotated[int, msgspec.Meta(ge=0, le=365)]


# -- the assembly ---------------------------------------------------------------------------


@command(SERVICE, "ConveneAssembly", key="assembly_id")
class ConveneAssembly(Contract, frozen=True, kw_only=True):
    """Convene an assembly: its kind, title, meeting day, record date, voting window (it may
    open days before the meeting, for members abroad) and quorum (a share of the roll).
    The cooperative is registered (else UnknownCooperative) and has bylaws (else NoBylaws);
    the meeting is at least the bylaws' notice away (else NoticeTooShort); the record date is
    no later than the meeting and before the window opens, the window closes after it opens,
    in the future, and no later than the day after the meeting (else ValidationError); the id
    is new (else AssemblyAlreadyConvened)."""

    assembly_id: Id
    cooperative_id: Id
    kind: AssemblyKind
    titles: LanguageMap
    meeting_on: dt.date
    record_date: dt.date
    voting_opens_at: UtcDateTime
    voting_closes_at: UtcDateTime
    quorum_percent: Percent


@event(SERVICE, "AssemblyConvened")
class AssemblyConvened(Contract, frozen=True, kw_only=True):
    assembly_id: Id
    cooperative_id: Id
    kind: AssemblyKind
    titles: LanguageMap
    meeting_on: dt.date
    record_date: dt.date
    voting_opens_at: UtcDateTime
    voting_closes_at: UtcDateTime
    quorum_percent: Percent
    convened_on: dt.date
    convened_at: UtcDateTime
    notice_days: Days
    max_proxies_per_holder: Annotated[int, msgspec.Meta(ge=0, le=20)]
    challenge_days: Annotated[int, msgspec.Meta(ge=0, le=365)]


@command(SERVICE, "AddMotion", key="assembly_id")
class AddMotion(Contract, frozen=True, kw_only=True):
    """Put a motion on the agenda: its title and text by language, its kind and what carries
    it. A resolution's options are for, against and abstain (given or not); a choice names its
    options and how many a ballot may choose; an election names its candidates (each may name
    the member standing) and its seats, and a ballot chooses up to that many. The assembly
    exists (else UnknownAssembly), its roll is not frozen (else MotionsFrozen: ballots
    need a frozen roll, so the agenda is final before anyone votes), the motion id is new (else MotionAlreadyAdded); options have distinct ids
    (else ValidationError)."""

    assembly_id: Id
    motion_id: Id
    titles: LanguageMap
    texts: MotionText = {}
    kind: MotionKind
    majority: Majority = Majority.SIMPLE
    options: Annotated[list[Option], msgspec.Meta(max_length=MAX_OPTIONS)] = []
    max_choices: Annotated[int, msgspec.Meta(ge=1, le=MAX_OPTIONS)] = 1
    seats: Annotated[int, msgspec.Meta(ge=1, le=MAX_OPTIONS)] = 1


@event(SERVICE, "MotionAdded")
class MotionAdded(Contract, frozen=True, kw_only=True):
    assembly_id: Id
    motion_id: Id
    titles: LanguageMap
    texts: MotionText = {}
    kind: MotionKind
    majority: Majority
    options: Annotated[list[Option], msgspec.Meta(max_length=MAX_OPTIONS)]
    max_choices: Annotated[int, msgspec.Meta(ge=1, le=MAX_OPTIONS)]
    seats: Annotated[int, msgspec.Meta(ge=1, le=MAX_OPTIONS)]


@command(SERVICE, "FreezeRoll", key="assembly_id")
class FreezeRoll(Contract, frozen=True, kw_only=True):
    """Freeze the roll: the members whose membership of the cooperative was active at the end
    of the record date (UTC), by the membership events recorded by then, or by the convening
    if that came later (a start or an end recorded after, even backdated, changes nothing),
    minus those erased by now. Once. The assembly exists (else UnknownAssembly) and has a
    motion (else NoMotions), the record date has ended (else RecordDateNotPassed), the roll is
    not frozen yet (else RollAlreadyFrozen) and holds at most 20,000 members (else
    ValidationError: vote in sections). A candidate an election names who is not on the roll
    may still be chosen, but no office goes into her record."""

    assembly_id: Id


@event(SERVICE, "RollFrozen")
class RollFrozen(Contract, frozen=True, kw_only=True):
    assembly_id: Id
    record_date: dt.date
    ledger_at: UtcDateTime
    as_of: UtcDateTime
    members: Annotated[list[Id], msgspec.Meta(max_length=MAX_ROLL)]
    count: Annotated[int, msgspec.Meta(ge=0, le=MAX_ROLL)]
    root: Hex256


@command(SERVICE, "GrantProxy", key="assembly_id")
class GrantProxy(Contract, frozen=True, kw_only=True):
    """She lets another member on the roll vote for her in this assembly (her own ballot, or
    her vote in person, still overrides it). The roll is frozen (else RollNotFrozen), both are
    on it (else NotOnRoll) and are two (else ValidationError), the bylaws allow proxies (else
    ProxiesNotAllowed), she has none (else ProxyAlreadyGranted), the holder holds fewer than
    the bylaws allow (else ProxyLimitReached), and the voting is not closed (else
    VotingClosed)."""

    assembly_id: Id
    member_id: Id
    holder_id: Id


@event(SERVICE, "ProxyGranted")
class ProxyGranted(Contract, frozen=True, kw_only=True):
    assembly_id: Id
    member_id: Id
    holder_id: Id


@command(SERVICE, "RevokeProxy", key="assembly_id")
class RevokeProxy(Contract, frozen=True, kw_only=True):
    """She takes back her proxy: ballots her holder cast for her stop counting. She has one
    (else NoProxy) and the voting is not closed (else VotingClosed)."""

    assembly_id: Id
    member_id: Id


@event(SERVICE, "ProxyRevoked")
class ProxyRevoked(Contract, frozen=True, kw_only=True):
    assembly_id: Id
    member_id: Id
    holder_id: Id
    set_aside: list[Hex256] = []


class _Ballot(Contract, frozen=True, kw_only=True):
    assembly_id: Id
    motion_id: Id
    member_id: Id
    ballot: Sealed
    receipt: Hex256


@command(SERVICE, "CastBallot", key="assembly_id")
class CastBallot(_Ballot, frozen=True, kw_only=True):
    """Her ballot on one motion, sealed with the assembly's ballot key, from wherever she is; a
    later one replaces it until the window closes. The assembly and motion exist (else
    UnknownAssembly, UnknownMotion), the roll is frozen (else RollNotFrozen) and she is on it
    (else NotOnRoll), the window is open (else VotingNotOpen, VotingClosed), she has not voted
    in person (else VotedInPerson), and the receipt is the seal's (else ReceiptMismatch)."""


@command(SERVICE, "CastProxyBallot", key="assembly_id")
class CastProxyBallot(_Ballot, frozen=True, kw_only=True):
    """A ballot a proxy holder casts for the member who gave her the proxy (``member_id``);
    as CastBallot, and she holds that member's proxy (else NoProxy), and the member has not
    voted herself on this motion (else MemberVotedHerself)."""

    holder_id: Id


@command(SERVICE, "CheckInMember", key="assembly_id")
class CheckInMember(Contract, frozen=True, kw_only=True):
    """She is at the meeting: from now on she votes in person, and her remote ballots and
    her proxy's stop counting (her timeline says so at once). On the meeting day only (that day
    anywhere on Earth, UTC+14 to UTC-12, else NotMeetingDay); she is on the roll (else
    NotOnRoll), not checked in (else AlreadyCheckedIn), and the window is open (else
    VotingNotOpen, VotingClosed)."""

    assembly_id: Id
    member_id: Id


@event(SERVICE, "MemberCheckedIn")
class MemberCheckedIn(Contract, frozen=True, kw_only=True):
    assembly_id: Id
    member_id: Id
    set_aside: list[Hex256] = []


@command(SERVICE, "RecordPaperBallot", key="assembly_id")
class RecordPaperBallot(_Ballot, frozen=True, kw_only=True):
    """Her paper ballot at the meeting, sealed at the polling station: nobody who records it
    sees her choice again. She is checked in (else NotCheckedIn), has no paper ballot on this
    motion (else AlreadyVotedInPerson), and the window is open."""


@event(SERVICE, "BallotCast")
class BallotCast(Contract, frozen=True, kw_only=True):
    assembly_id: Id
    motion_id: Id
    member_id: Id
    channel: Channel
    ballot: Sealed
    receipt: Hex256
    holder_id: Id | None = None
    set_aside: list[Hex256] = []


@command(SERVICE, "CloseVoting", key="assembly_id")
class CloseVoting(Contract, frozen=True, kw_only=True):
    """Close the voting once its window has closed (else VotingStillOpen): from now on the
    counted ballots and their receipts are published, and the tally may be certified."""

    assembly_id: Id


@event(SERVICE, "PollClosed")
class PollClosed(Contract, frozen=True, kw_only=True):
    assembly_id: Id
    closed_at: UtcDateTime
    voters: Annotated[int, msgspec.Meta(ge=0)]
    receipts_digest: Hex256


@command(SERVICE, "CertifyResult", key="assembly_id")
class CertifyResult(Contract, frozen=True, kw_only=True):
    """Certify the tally of the counted ballots, opened after the close: the voting is closed
    (else NotClosed), not certified (else AssemblyCertified), the ballots opened are those
    published at the close (their receipts' digest: else TallyMismatch) and every motion's
    tally adds up to its counted ballots (else TallyMismatch). The service applies the quorum and each
    motion's majority itself."""

    assembly_id: Id
    tallies: Annotated[list[MotionTally], msgspec.Meta(max_length=MAX_MOTIONS)]
    receipts_digest: Hex256


@event(SERVICE, "ResultCertified")
class ResultCertified(Contract, frozen=True, kw_only=True):
    assembly_id: Id
    certified_at: UtcDateTime
    roll_count: int
    roll_root: Hex256
    voters: int
    quorum_met: bool
    receipts_digest: Hex256
    results: list[MotionResult]
    challenge_ends_at: UtcDateTime


@command(SERVICE, "DestroyBallotKey", key="assembly_id")
class DestroyBallotKey(Contract, frozen=True, kw_only=True):
    """Destroy the assembly's ballot key once the challenge period is over (else
    ChallengePeriodOpen; NotCertified before certification): from then on no ballot opens,
    and nobody can link a member to her choice. Once (else KeyAlreadyDestroyed)."""

    assembly_id: Id


@event(SERVICE, "BallotKeyDestroyed")
class BallotKeyDestroyed(Contract, frozen=True, kw_only=True):
    assembly_id: Id
    destroyed_at: UtcDateTime


# -- pure helpers both sides use --------------------------------------------------------------

#: A ballot's plaintext is always this many bytes (JSON, padded with spaces), so the length of
#: its seal says nothing of the choice: every sealed ballot is ``SEALED_BALLOT_BYTES`` long
#: (the plaintext and AES-GCM's 16-byte tag), and the service refuses any other.
BALLOT_PLAINTEXT_BYTES = 512
SEALED_BALLOT_BYTES = BALLOT_PLAINTEXT_BYTES + 16


class BallotContent(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """What a sealed ballot holds: the assembly and motion it is for (a seal moved to another
    motion opens as spoiled) and the positions of the options chosen in the motion's list."""

    assembly_id: str
    motion_id: str
    choices: list[int]


def ballot_plaintext(content: BallotContent) -> bytes:
    """The bytes a ballot seals: its JSON, padded with spaces to ``BALLOT_PLAINTEXT_BYTES``."""
    raw = msgspec.json.encode(content)
    if len(raw) > BALLOT_PLAINTEXT_BYTES:
        raise ValueError("a ballot's content is too long")
    return raw.ljust(BALLOT_PLAINTEXT_BYTES, b" ")


def ballot_content(plaintext: bytes) -> BallotContent:
    """A ballot's content from its opened plaintext (``msgspec`` errors if it is not one)."""
    return msgspec.json.decode(plaintext.rstrip(b" "), type=BallotContent)



def ballot_key_owner(assembly_id: str) -> str:
    """Whose data key seals an assembly's ballots (``services.runtime.datakeys``): never a
    member's id, so destroying it erases nobody."""
    return f"ballots:{assembly_id}"


def receipt_of(ballot: Sealed) -> str:
    """A ballot's receipt: the SHA-256 of its seal (key id, nonce, ciphertext), in hex."""
    return hashlib.sha256(b"coopbridge-ballot/1|" + ballot.kid.encode() + b"|" + ballot.iv
                          + ballot.ct).hexdigest()


def receipts_digest(receipts: Iterable[str]) -> str:
    """The hash of a list of receipts: SHA-256 of the sorted receipts, one per line."""
    return hashlib.sha256("".join(f"{r}\n" for r in sorted(receipts)).encode()).hexdigest()


def resolution_options() -> list[Option]:
    return [Option(option_id=FOR, labels={"en": "For"}),
            Option(option_id=AGAINST, labels={"en": "Against"}),
            Option(option_id=ABSTAIN, labels={"en": "Abstain"})]
