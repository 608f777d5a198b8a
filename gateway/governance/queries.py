"""The governance feature's queries: ``assembly`` (for its cooperative's people, the members
on its roll and the node admin: its agenda, the roll's count and root; its receipts and
turnout only after the close; its result, and the result signed as a credential, only once
certified), ``rollProof`` (her proof that she is on the roll) and
``ballotReceipt`` (is this ballot recorded, does it count).

Before the close nothing about the ballots is readable, by anyone, the node admin included:
no count, no turnout, no receipt list (a receipt she holds is looked up alone).
"""

from __future__ import annotations

import datetime as dt
import typing
from typing import Annotated

import strawberry
from strawberry.types import Info

from gateway.access import SignedIn, sees
from gateway.auth import Role
from gateway.context import GatewayContext
from gateway.governance.documents import AssemblyView
from gateway.governance.types import title_field
from gateway.i18n.types import LANG, LocalizedText, localized
from gateway.records import credentials as vc
from gateway.records.signing import sign
from schemas import merkle

RESULT_TYPE = "AssemblyResultCredential"


@strawberry.type(description="One option of a motion")
class MotionOption:
    id: strawberry.ID = strawberry.field(description="the option's id within its motion")
    labels: strawberry.Private[dict[str, str]]
    member_id: typing.Optional[strawberry.ID] = strawberry.field(
        description="the member standing, in an election")

    @strawberry.field(description="the option's label in the reader's language when it has "
                                  "it, else in its first language, marked as a fallback")
    def label(self, info: Info, lang: Annotated[
            list[str] | None, strawberry.argument(description=LANG)] = None) -> LocalizedText:
        return localized(self.labels, info, lang)


@strawberry.type(description="A motion on an assembly's agenda")
class Motion:
    id: strawberry.ID = strawberry.field(description="the motion's id")
    kind: str = strawberry.field(description="resolution, choice or election")
    majority: str = strawberry.field(description="simple, two_thirds or unanimity")
    max_choices: int
    seats: int
    options: list[MotionOption]
    titles: strawberry.Private[dict[str, str]]
    texts: strawberry.Private[dict[str, str]]
    title: LocalizedText = title_field("the motion's")

    @strawberry.field(description="the motion's full text in the reader's language when it "
                                  "has it; null when it has none")
    def text(self, info: Info, lang: Annotated[
            list[str] | None, strawberry.argument(description=LANG)] = None
             ) -> LocalizedText | None:
        return localized(self.texts, info, lang) if self.texts else None


@strawberry.type(description="The frozen roll: how many, and the RFC 6962 Merkle root of "
                             "their sorted member ids")
class Roll:
    count: int = strawberry.field(description="how many members are on the roll")
    root: str = strawberry.field(description="the RFC 6962 Merkle root of the roll, in hex")
    record_date: dt.date


@strawberry.type(description="One motion's certified result")
class MotionOutcome:
    motion_id: strawberry.ID
    counts: strawberry.scalars.JSON = strawberry.field(
        description="how many ballots chose each option (option id -> count)")
    ballots: int
    spoiled: int
    outcome: str = strawberry.field(
        description="carried, defeated, no_quorum, tied or elected")
    elected: list[str] = strawberry.field(
        description="the options elected, or a choice's winner")


@strawberry.type(description="The certified result: one vote per member, shares never weigh")
class AssemblyResult:
    certified_at: dt.datetime
    roll_count: int
    roll_root: str
    voters: int
    turnout_percent: float = strawberry.field(
        description="voters as a share of the roll (a figure for people, never money)")
    quorum_met: bool
    receipts_digest: str
    challenge_ends_at: dt.datetime
    motions: list[MotionOutcome] = strawberry.field(description="each motion's result")
    credential: str = strawberry.field(
        description="the result as a Verifiable Credential 2.0 signed by this node (vc+jwt): "
                    "counts, roll root and the hash of the receipts; verify it with the node's "
                    "JWKS (/.well-known/jwks.json)")


@strawberry.type(description="An assembly of a cooperative of this node")
class Assembly:
    id: strawberry.ID = strawberry.field(description="the assembly's id")
    cooperative_id: strawberry.ID
    kind: str = strawberry.field(description="general or extraordinary")
    meeting_on: dt.date
    record_date: dt.date
    voting_opens_at: dt.datetime
    voting_closes_at: dt.datetime
    quorum_percent: int
    notice_days: int
    max_proxies_per_holder: int
    challenge_days: int
    status: str = strawberry.field(description=(
        "convened, roll_frozen, closed, certified, or sealed (the ballot key destroyed)"))
    motions: list[Motion] = strawberry.field(description="the agenda, in order")
    roll: Roll | None = strawberry.field(description="null until the roll is frozen")
    voters: int | None = strawberry.field(
        description="how many on the roll voted: null until the voting is closed")
    receipts: list[str] | None = strawberry.field(
        description="the receipts of the counted ballots, sorted: null until the voting is "
                    "closed")
    result: AssemblyResult | None = strawberry.field(description="null until certified")
    titles: strawberry.Private[dict[str, str]]
    title: LocalizedText = title_field("the assembly's")


def status_of(view: AssemblyView) -> str:
    if view.key_destroyed_at is not None:
        return "sealed"
    if view.result is not None:
        return "certified"
    if view.closed is not None:
        return "closed"
    return "roll_frozen" if view.roll_root is not None else "convened"


def result_credential(node: str, view: AssemblyView) -> dict:
    """The certified result as a Verifiable Credential 2.0 (unsigned): counts, roll root and
    receipts hash; nothing about any member."""
    result, convened = view.result, view.convened
    return {
        "@context": [vc.CONTEXT, vc.UNDEFINED_TERMS_CONTEXT],
        "id": f"urn:uuid:{view.assembly_id}",
        "type": ["VerifiableCredential", RESULT_TYPE],
        "issuer": vc.node_issuer(node),
        "validFrom": vc._timestamp(result.certified_at),
        "credentialSubject": {
            "id": f"urn:uuid:{view.assembly_id}",
            "cooperative": f"urn:uuid:{convened.cooperative_id}",
            "kind": convened.kind.value, "meetingOn": convened.meeting_on.isoformat(),
            "recordDate": convened.record_date.isoformat(),
            "rollCount": result.roll_count, "rollRoot": result.roll_root,
            "voters": result.voters, "quorumPercent": convened.quorum_percent,
            "quorumMet": result.quorum_met, "receiptsDigest": result.receipts_digest,
            "motions": [{"id": f"urn:uuid:{r.motion_id}", "counts": dict(r.counts),
                         "ballots": r.ballots, "spoiled": r.spoiled,
                         "outcome": r.outcome.value, "elected": list(r.elected)}
                        for r in result.results],
        },
    }


def assembly_of(view: AssemblyView, node: str) -> Assembly:
    convened = view.convened
    closed = view.closed is not None
    result = None
    if view.result is not None:
        r = view.result
        result = AssemblyResult(
            certified_at=r.certified_at, roll_count=r.roll_count, roll_root=r.roll_root,
            voters=r.voters, quorum_met=r.quorum_met, receipts_digest=r.receipts_digest,
            turnout_percent=round(100 * r.voters / r.roll_count, 1) if r.roll_count else 0.0,
            challenge_ends_at=r.challenge_ends_at,
            motions=[MotionOutcome(motion_id=m.motion_id, counts=dict(m.counts),
                                   ballots=m.ballots, spoiled=m.spoiled,
                                   outcome=m.outcome.value, elected=list(m.elected))
                     for m in r.results],
            credential=sign(node, result_credential(node, view)))
    return Assembly(
        id=view.assembly_id, cooperative_id=convened.cooperative_id, kind=convened.kind.value,
        titles=dict(convened.titles), meeting_on=convened.meeting_on,
        record_date=convened.record_date, voting_opens_at=convened.voting_opens_at,
        voting_closes_at=convened.voting_closes_at, quorum_percent=convened.quorum_percent,
        notice_days=convened.notice_days,
        max_proxies_per_holder=convened.max_proxies_per_holder,
        challenge_days=convened.challenge_days, status=status_of(view),
        motions=[Motion(id=m.motion_id, kind=m.kind.value, majority=m.majority.value,
                        max_choices=m.max_choices, seats=m.seats, titles=dict(m.titles),
                        texts=dict(m.texts), options=[
                            MotionOption(id=o.option_id, labels=dict(o.labels),
                                         member_id=o.member_id) for o in m.options])
                 for m in view.motions],
        roll=Roll(count=len(view.roll), root=view.roll_root, record_date=convened.record_date)
        if view.roll_root is not None else None,
        voters=view.closed.voters if closed else None,
        receipts=sorted(view.counted()) if closed else None,
        result=result)


@strawberry.field(permission_classes=[SignedIn], description=(
    "An assembly, for its cooperative's staff and admins, the members on its roll and the "
    "node admin: nothing about its ballots until the voting is closed; null if unknown or "
    "not theirs"))
def assembly(info: Info[GatewayContext, None],
             id: Annotated[strawberry.ID, strawberry.argument(
                 description="the assembly's id")]) -> Assembly | None:
    view = info.context.views.get(AssemblyView.TABLE, str(id))
    if not sees(info.context.caller, view):
        return None
    return assembly_of(view, info.context.node)


@strawberry.type(description="Her proof that she is on the roll: an RFC 6962 audit path")
class RollProof:
    member_id: strawberry.ID
    index: int = strawberry.field(description="her leaf's position in the sorted roll")
    size: int = strawberry.field(description="how many members the roll holds")
    root: str = strawberry.field(description="the roll's RFC 6962 Merkle root, in hex")
    path: list[str] = strawberry.field(description="the audit path, leaf first, in hex")


@strawberry.field(permission_classes=[SignedIn], description=(
    "Her proof that she is on an assembly's roll (RFC 6962 inclusion proof): for herself, "
    "with her member token, the assembly's cooperative's staff, or the node admin; null if "
    "she is not on it"))
def roll_proof(info: Info[GatewayContext, None], assembly_id: strawberry.ID,
               member_id: strawberry.ID) -> RollProof | None:
    caller = info.context.caller
    view = info.context.views.get(AssemblyView.TABLE, str(assembly_id))
    if view is None or view.convened is None or view.roll_root is None:
        return None
    if not (caller.is_node_admin
            or (caller.role is Role.MEMBER and caller.member_id == str(member_id))
            or (caller.role in (Role.STAFF, Role.ADMIN)
                and caller.cooperative_id == view.convened.cooperative_id)):
        return None
    try:
        index = view.roll.index(str(member_id))
    except ValueError:
        return None
    return RollProof(member_id=member_id, index=index, size=len(view.roll), root=view.roll_root,
                     path=merkle.inclusion_proof(view.roll, index))


@strawberry.type(description="A ballot, found by its receipt")
class BallotReceipt:
    receipt: str
    motion_id: strawberry.ID
    counted: bool = strawberry.field(
        description="whether it counts now (false: a later ballot, her check-in or a revoked "
                    "proxy set it aside)")


@strawberry.field(permission_classes=[SignedIn], description=(
    "A ballot by its receipt, for whoever reads the assembly and holds the receipt: "
    "recorded, and whether it counts; null if no ballot of this assembly has it"))
def ballot_receipt(info: Info[GatewayContext, None], assembly_id: strawberry.ID,
                   receipt: str) -> BallotReceipt | None:
    view = info.context.views.get(AssemblyView.TABLE, str(assembly_id))
    ballot = view.ballots.get(receipt.lower()) if sees(info.context.caller, view) else None
    if ballot is None:
        return None
    return BallotReceipt(receipt=receipt.lower(), motion_id=ballot.motion_id,
                         counted=ballot.counted)


#: The queries this feature adds to the schema.
QUERIES = {"assembly": assembly, "rollProof": roll_proof, "ballotReceipt": ballot_receipt}

