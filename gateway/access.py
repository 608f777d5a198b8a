"""Who may see what, and who may do what (pure). Checked on every request, so a revoked
consent bites at once (the whole model, and why: ``docs/access.md``).

* the node admin sees every member; a federation analyst sees no member, only aggregates;
* a cooperative she chose herself (a membership of hers not started under her consent to
  join) sees, in full, a member who is or was one of its own; while she is an active member
  there it also sees her consents and shared records and acts for her;
* any other cooperative, one that admitted her under her consent to join included, sees her
  only through her active consent naming it, and only the scopes it grants (identity,
  membership, savings, training, governance, insurance), and acts for her in nothing.

A denied read and a missing record look the same to a signed-in caller: ``None``.

Commands (``authorized``, by the ``RULES`` table the partner guide prints): staff send their
cooperative's; admins also its settings; the node admin everything; acting for a member
needs her active membership in a cooperative she chose; a cooperative admits her first if it
registered her, else under her consent to join it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from strawberry.permission import BasePermission
from strawberry.types import Info

from gateway.auth import Caller, Role
from gateway.context import GatewayContext
from gateway.documents import ConsentDoc, MemberRecord
from gateway.governance.documents import AssemblyView
from gateway.insurance.staff import staff_ref
from schemas import governance as g
from schemas import insurance as i
from schemas import membership as m
from schemas import placement as p
from schemas import savings as s
from schemas import training as t
from schemas.registry import Contract

#: The scopes of a consent (``schemas.membership.ConsentScope``), in the order it lists them.
SCOPE_ORDER = tuple(scope.value for scope in m.ConsentScope)
SCOPES = frozenset(SCOPE_ORDER)

#: What a query that needs a role answers a caller without a valid token.
AUTHENTICATION_REQUIRED = ("authentication required: send a valid bearer token "
                           "(Authorization: Bearer <token>)")


class SignedIn(BasePermission):
    """Every query needs a caller: one without a valid token gets an error saying so (code
    ``UNAUTHENTICATED``). A signed-in caller denied a read still sees ``null``, exactly as
    for a record that does not exist."""

    message = AUTHENTICATION_REQUIRED
    error_extensions = {"code": "UNAUTHENTICATED"}

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return info.context.caller is not None


def _chosen(caller: Caller, record: MemberRecord, active: bool) -> bool:
    """The caller's cooperative is one she chose herself: it holds (``active``: now) a
    membership of hers that was not started under her consent to join it."""
    return caller.role in (Role.STAFF, Role.ADMIN) and any(
        ms.cooperative_id == caller.cooperative_id and ms.consent_id is None
        and (ms.ended_on is None or not active) for ms in record.memberships)


def herself(caller: Caller | None, record: MemberRecord) -> bool:
    """The caller is the member, with her own member token (issue 23): she sees her whole
    record, and acts for herself in what ``SELF_SERVICE`` lists."""
    return caller is not None and caller.role is Role.MEMBER \
        and caller.member_id == record.member_id


def active_member_of(caller: Caller | None, record: MemberRecord) -> bool:
    """The member is now a member of the caller's cooperative, one she chose herself (or the
    caller is node admin, or she herself): what acting on her behalf (correcting details,
    consents, erasure) requires. A cooperative that admitted her under her consent acts for
    her in nothing. Which commands each of them may send is ``RULES``' and ``SELF_SERVICE``'."""
    if caller is None:
        return False
    return caller.is_node_admin or herself(caller, record) or _chosen(caller, record,
                                                                       active=True)


def own_member(caller: Caller | None, record: MemberRecord) -> bool:
    """The caller's cooperative is, or was, one she chose herself (or the caller is node
    admin, or she herself): it sees her whole record. One that admitted her under her
    consent sees only what her consents allow, like any other."""
    if caller is None:
        return False
    return caller.is_node_admin or herself(caller, record) or _chosen(caller, record,
                                                                       active=False)


def joining_consent(record: MemberRecord, cooperative_id: str | None,
                    now: dt.datetime) -> str | None:
    """Her live, unused consent to join ``cooperative_id``, if she gave one (the newest)."""
    live = [c for c in record.consents
            if c.join and not c.used and not c.revoked and c.expires_at > now
            and c.grantee_kind == "cooperative" and c.grantee == cooperative_id]
    return max(live, key=lambda c: (c.expires_at, c.consent_id)).consent_id if live else None


def admission(caller: Caller, record: MemberRecord, cooperative_id: str | None,
              now: dt.datetime) -> tuple[bool, str | None]:
    """May the caller's cooperative start her membership, and under which consent (None: as
    a cooperative she chose)? Yes, as chosen: a new member it registered, or one who belonged
    to it by her choice before; yes, under consent: with her live, unused consent to join it;
    else no (a member registered by the node's operator, or before registrations were
    recorded, is admitted first by the node admin)."""
    if not record.memberships and record.registered_by is not None \
            and record.registered_by == cooperative_id:
        return True, None
    if any(ms.cooperative_id == cooperative_id and ms.consent_id is None
           for ms in record.memberships):
        return True, None
    consent = joining_consent(record, cooperative_id, now)
    return consent is not None, consent


#: What reading a field of a member's record needs besides seeing her at all: a scope her
#: consent grants (a cooperative she chose holds every scope), ``OWN`` (a cooperative she
#: chose where she is an active member) or ``ALWAYS``. GraphQL field names; the partner guide
#: prints this table.
ALWAYS, OWN = "always", "own"
MEMBER_FIELDS = {
    "id": ALWAYS, "memberId": ALWAYS, "erased": ALWAYS,
    "identity": "identity",
    "memberships": "membership", "groups": "membership", "importedRecords": "membership",
    "accounts": "savings",
    "enrolments": "training", "certificates": "training",
    "assemblies": "governance",
    "insurance": "insurance",
    "placements": "work",
    "consents": OWN, "exportedRecords": OWN, "suggestedBeneficiaries": OWN,
}


def shows(need: str, scopes: frozenset[str], own: bool) -> bool:
    """A field that needs ``need`` shows to a caller holding ``scopes`` (``own``: one of her
    own cooperatives)."""
    return need == ALWAYS or (own if need == OWN else need in scopes)


#: Timeline entries for her own cooperatives (and herself) only: her consents and who read
#: under them, the records she shared, and her own accesses.
OWN_ENTRIES = frozenset({"ConsentGranted", "ConsentRevoked", "RecordExported", "RecordRevoked",
                         "ConsentUsed", "MemberAccessIssued", "MemberAccessGranted",
                         "MemberAccessRevoked"})


#: A placement's wage entries: her money, read under the savings scope (issue 26).
WAGE_ENTRIES = frozenset({"WagesSettled", "WagePaid", "WagePaymentReturned",
                          "WagesRedirected"})


def history_scope(service: str, event_type: str) -> str | None:
    """The scope a timeline entry belongs to; ``None``: her own cooperatives only."""
    if event_type in OWN_ENTRIES:
        return None
    if event_type in WAGE_ENTRIES:  # her money: never shown under the work scope alone
        return "savings"
    return {"savings": "savings", "training": "training",
            "governance": "governance", "insurance": "insurance",
            "placement": "work"}.get(service, "membership")


def visible_scopes(caller: Caller | None, record: MemberRecord,
                   now: dt.datetime) -> frozenset[str]:
    """The scopes of ``record`` that ``caller`` may read right now."""
    if caller is None or caller.role is Role.ANALYST:
        return frozenset()
    if own_member(caller, record):
        return SCOPES
    return consented_scopes(caller, record, now)


def live_consents(caller: Caller, record: MemberRecord, now: dt.datetime) -> list[ConsentDoc]:
    """Her live consents naming the caller's cooperative (whatever else it is to her)."""
    if caller.role not in (Role.STAFF, Role.ADMIN):
        return []
    return [consent for consent in record.consents
            if not consent.revoked and consent.expires_at > now
            and consent.grantee_kind == "cooperative" and consent.grantee == caller.cooperative_id]


def consented_scopes(caller: Caller, record: MemberRecord, now: dt.datetime) -> frozenset[str]:
    """The scopes her live consents grant the caller's cooperative (whatever else it is)."""
    return frozenset(scope for consent in live_consents(caller, record, now)
                     for scope in consent.scopes)


#: What ``whose_figures`` answers a caller who may read no figures (or not these).
NO_FIGURES = (False, None)


def whose_figures(caller: Caller | None, cooperative_id: str | None) -> tuple[bool, str | None]:
    """Whose figures a caller may read (``federationStats``, ``assemblyTurnout``): analysts
    and the node admin any (the cooperative asked, or all: ``None``); a cooperative's admins
    their own cooperative's only; nobody else any. ``(may, the cooperative to answer for)``."""
    if caller is not None and caller.role is Role.ADMIN:
        if cooperative_id not in (None, caller.cooperative_id):
            return NO_FIGURES
        return True, caller.cooperative_id
    if caller is None or caller.role not in (Role.ANALYST, Role.NODE_ADMIN):
        return NO_FIGURES
    return True, cooperative_id


def sees(caller: Caller | None, view: AssemblyView | None) -> bool:
    """Who reads an assembly: its cooperative's staff and admins, the members on its roll
    (with their own tokens), and the node admin; for anyone else it does not exist (its roll's
    size and its counts are the cooperative's and its members' business; once closed, its
    turnout in atoms of at least 5 is the figures', ``gateway.governance.turnout``)."""
    if caller is None or view is None or view.convened is None:
        return False
    if caller.is_node_admin:
        return True
    if caller.role is Role.MEMBER:
        return caller.member_id in view.roll
    return caller.role in (Role.STAFF, Role.ADMIN) \
        and caller.cooperative_id == view.convened.cooperative_id


# -- authorisation --------------------------------------------------------------------------


def cooperative_of(cls: type[Contract], data: dict, context: GatewayContext) -> str | None:
    """The cooperative a command acts for, as far as the gateway's views know."""
    if "cooperative_id" in cls.__struct_fields__:
        return data.get("cooperative_id")
    if "job_order_id" in cls.__struct_fields__:  # the cooperative that posted it (issue 26)
        job = context.views.get("job_orders", str(data.get("job_order_id", "")))
        return job.posted.cooperative_id if job and job.posted else None
    if "employer_id" in cls.__struct_fields__:  # ... whose client the employer is
        employer = context.views.get("employers", str(data.get("employer_id", "")))
        return employer.registered.cooperative_id if employer and employer.registered \
            else None
    if "account_id" in cls.__struct_fields__:
        account = context.views.get("accounts", str(data.get("account_id", "")))
        return account.cooperative_id if account else None
    if "course_id" in cls.__struct_fields__:
        course = context.views.get("courses", str(data.get("course_id", "")))
        return course.cooperative_id if course else None
    if "assembly_id" in cls.__struct_fields__:
        assembly = context.views.get("assemblies", str(data.get("assembly_id", "")))
        return assembly.convened.cooperative_id if assembly and assembly.convened else None
    if "policy_id" in cls.__struct_fields__:  # the insurer's (issue 25)
        policy = context.views.get("policies", str(data.get("policy_id", "")))
        return policy.issued.cooperative_id if policy and policy.issued else None
    if "product_id" in cls.__struct_fields__:
        product = context.views.get("products", str(data.get("product_id", "")))
        return product.offered.cooperative_id if product and product.offered else None
    return None


def _member(data: dict, context: GatewayContext) -> MemberRecord | None:
    return context.views.get("members", str(data.get("member_id", "")))


def _joins(caller: Caller, cls, data: dict, context: GatewayContext) -> bool:
    if not caller.of_cooperative(data.get("cooperative_id")):
        return False
    record = _member(data, context)
    if record is None:
        return False
    cooperative = data.get("cooperative_id")
    if data.get("consent_id") is not None:  # the caller names the consent that admits her
        return data["consent_id"] == joining_consent(record, cooperative, context.now)
    return admission(caller, record, cooperative, context.now)[0]


@dataclass(frozen=True)
class CommandRule:
    """Who may send a command besides the node admin (who may send any): the roles in
    ``who``, when ``allows`` holds; ``when`` says it in words for the partner guide."""

    who: tuple[Role, ...]
    when: str
    allows: Callable[[Caller, type[Contract], dict, GatewayContext], bool]


_STAFF = (Role.STAFF, Role.ADMIN)
FOR_THE_COOPERATIVE = CommandRule(
    _STAFF, "of the cooperative it acts for (the one named, or the account's, the course's, "
    "the assembly's, or the insurer of the policy or product)",
    lambda caller, cls, data, context: caller.of_cooperative(cooperative_of(cls, data, context)))
SETTINGS = CommandRule(
    (Role.ADMIN,), "of the cooperative it acts for: one of its settings",
    FOR_THE_COOPERATIVE.allows)
NODE_ONLY = CommandRule((), "only the node admin: the node's operator registers its "
                        "cooperatives", lambda *_: False)
NEW_MEMBER = CommandRule(
    _STAFF, "of any cooperative of the node, for a member id this node does not know yet; the "
    "registering cooperative (the caller's) is recorded",
    lambda caller, cls, data, context: _member(data, context) is None
    and data.get("cooperative_id") in (None, caller.cooperative_id))
FOR_HER = CommandRule(
    _STAFF, "of a cooperative she chose herself where she is an active member (acting for "
    "her; a cooperative that admitted her under her consent acts for her in nothing)",
    lambda caller, cls, data, context: (record := _member(data, context)) is not None
    and active_member_of(caller, record))
ERASURE = CommandRule((Role.ADMIN,), FOR_HER.when, FOR_HER.allows)
EXPORTER = CommandRule(
    _STAFF, "of a cooperative she chose herself, now or before (she may ask a cooperative she "
    "left for her record; it goes only to a recipient her consent names)",
    lambda caller, cls, data, context: (record := _member(data, context)) is not None
    and own_member(caller, record))
REVOKER = CommandRule(
    _STAFF, "of a cooperative she chose herself where she is an active member",
    lambda caller, cls, data, context: (record := _member(data, context)) is not None
    and active_member_of(caller, record))
IMPORTING = CommandRule(
    _STAFF, "of the cooperative that imports it (at home); for a member already known here, "
    "joining it follows startMembership's rule",
    lambda caller, cls, data, context: caller.of_cooperative(data.get("importing")))
JOINING = CommandRule(
    _STAFF, "of the cooperative she joins: the one that registered her, for her first "
    "membership here; one she chose and belonged to before; or one she consented to join "
    "(the membership is then started under that consent, once)", _joins)

def _enrols(caller: Caller, cls, data: dict, context: GatewayContext) -> bool:
    cooperative = cooperative_of(cls, data, context)
    record = _member(data, context)
    return caller.of_cooperative(cooperative) and record is not None and record.registered \
        and (any(ms.cooperative_id == cooperative and ms.ended_on is None
                 for ms in record.memberships)
             or "training" in consented_scopes(caller, record, context.now))


ENROLMENT = CommandRule(
    _STAFF, "of the course's cooperative, for an active member of it or a member whose "
    "consent names it with the training scope (a member it may not enrol and one that does "
    "not exist get the same answer)", _enrols)

INSURING = CommandRule(
    _STAFF, "of the cooperative named, one she chose herself where she is an active member, "
    "from her account there (her premiums are her money)",
    lambda caller, cls, data, context: caller.of_cooperative(data.get("cooperative_id"))
    and (record := _member(data, context)) is not None and active_member_of(caller, record))

CODE_HOLDER = CommandRule(
    (), "anyone holding the activation code, without a bearer token: the code is the "
    "credential, once, for 15 minutes", lambda caller, cls, data, context: True)

#: The rule of each command a partner may send (``FOR_THE_COOPERATIVE`` for the others).
RULES: dict[type[Contract], CommandRule] = {
    m.RegisterCooperative: NODE_ONLY,
    m.UpdateCooperative: SETTINGS, m.CreateMemberGroup: SETTINGS, t.OfferCourse: SETTINGS,
    t.RevokeCertificate: SETTINGS, s.DisburseLoan: SETTINGS,
    m.RegisterMember: NEW_MEMBER,
    m.CorrectMemberDetails: FOR_HER, m.GrantConsent: FOR_HER, m.RevokeConsent: FOR_HER,
    m.EraseMember: ERASURE,
    m.StartMembership: JOINING,
    m.ExportRecord: EXPORTER, m.RevokeRecord: REVOKER, m.IssueMemberAccess: FOR_HER,
    m.RevokeMemberAccess: FOR_HER,
    m.ImportRecord: IMPORTING,
    t.EnrolLearner: ENROLMENT,
    g.SetBylaws: SETTINGS, g.ConveneAssembly: SETTINGS, g.AddMotion: SETTINGS,
    i.OfferProduct: SETTINGS, i.WithdrawProduct: SETTINGS,
    i.ApplyForPolicy: INSURING,
    p.SetWageFloor: SETTINGS, p.EraseEmployer: SETTINGS,
}


def completed(cls: type[Contract], data: dict, context: GatewayContext) -> dict:
    """The command's input with what the gateway knows and the caller need not say: the
    cooperative registering a new member (the caller's), the consent a membership is
    started under when the cooperative is not one she chose, and who on the staff assesses or
    decides an insurance claim (the caller, always)."""
    caller = context.caller
    if cls is m.RegisterMember and data.get("cooperative_id") is None:
        return {**data, "cooperative_id": caller.cooperative_id}
    if cls in (i.AssessClaim, i.ApproveClaim, i.RejectClaim) and caller is not None:  # who
        # assesses or decides a claim: always the caller (``inputs.GATEWAY_FILLS``)
        return {**data, "by": staff_ref(context.node, caller)}
    if cls is i.OpenClaim:  # a death recorded by the insurer's own people: this node's
        return {**data, "notified_by": context.node}
    if cls is m.StartMembership and data.get("consent_id") is None:
        record = _member(data, context)
        if record is not None:
            _, consent = admission(caller, record, data.get("cooperative_id"), context.now)
            return {**data, "consent_id": consent}
    return data


#: What a member sends for herself with her own member token (issue 23), for her own member
#: id only: her consents, her records (issuing one to a recipient her consent names, and
#: revoking it), her accesses, and her application for insurance (issue 25). Correcting her contact details is ``correctMyContact``'s
#: (names, date of birth and nationality stay with her cooperative's staff).
SELF_SERVICE = frozenset({m.GrantConsent, m.RevokeConsent, m.ExportRecord, m.RevokeRecord,
                          m.RevokeMemberAccess, g.GrantProxy, g.RevokeProxy,
                          i.ApplyForPolicy, p.AcceptOffer, p.DeclineOffer, p.RateEmployer,
                          p.FileGrievance})
#: What only she sends, for herself: nobody acts for her in it, the node admin included (her
#: proxy in an assembly: issue 24; her ballots have mutations of their own; her answer to a
#: job offer, her rating of the employer and her grievance: issue 26).
ONLY_HERSELF = frozenset({g.GrantProxy, g.RevokeProxy, p.AcceptOffer, p.DeclineOffer,
                          p.RateEmployer, p.FileGrievance})
#: What only the cooperative's own people send, not the node admin: checking a member in at
#: the meeting sets her remote ballots aside (issue 24); assessing and deciding a claim are
#: two people's of the insurer, told apart by their tokens (issue 25), which a node token,
#: of no cooperative, would blur; and applying for her insurance, paid from her account (her
#: own cooperative's people, or she herself: ``SELF_SERVICE``).
COOPERATIVE_ONLY = frozenset({g.CheckInMember, i.AssessClaim, i.ApproveClaim, i.RejectClaim,
                              i.ApplyForPolicy})
#: ``SELF_SERVICE`` in words, for the partner guide and each mutation's description.
SELF_IN_WORDS = "the member herself, with her own member token"


def rule_for(cls: type[Contract]) -> CommandRule:
    return RULES.get(cls, FOR_THE_COOPERATIVE)


_ROLES_IN_WORDS = {Role.STAFF: "staff", Role.ADMIN: "admins"}


def who_may_send(cls: type[Contract]) -> str:
    """Who may send ``cls``, in words, from its rule (what its mutation's description says)."""
    if cls in ONLY_HERSELF:
        return f"Who: {SELF_IN_WORDS}; nobody else, the node admin included."
    rule = rule_for(cls)
    if not rule.who:
        return "Who: the node admin only."
    roles = " or ".join(_ROLES_IN_WORDS[role] for role in rule.who)
    herself_too = f"; {SELF_IN_WORDS}" if cls in SELF_SERVICE else ""
    if cls in COOPERATIVE_ONLY:
        return f"Who: {roles} {rule.when}; not the node admin."
    return f"Who: {roles} {rule.when}{herself_too}; and the node admin."


def may_replay(cls: type[Contract], context: GatewayContext) -> bool:
    """May a caller ``authorized`` refuses hear again the answer to a command they sent with
    the same idempotency key? Only in a role that may send it at all: what changed since is
    her state (a membership ended, a consent revoked), never the role."""
    caller = context.caller
    return (caller is not None and caller.role is not Role.ANALYST
            and (caller.role in rule_for(cls).who
                 or (caller.role is Role.MEMBER and cls in SELF_SERVICE)))


def authorized(cls: type[Contract], data: dict, context: GatewayContext) -> bool:
    """May the caller send this command? Decided on the plain input, before anything is
    sealed or sent, so a refused caller leaves no trace (not even a data key)."""
    caller = context.caller
    if caller is None or caller.role is Role.ANALYST:
        return False
    if cls in ONLY_HERSELF:
        return caller.role is Role.MEMBER and data.get("member_id") == caller.member_id
    if cls in COOPERATIVE_ONLY:
        if caller.role is Role.MEMBER:
            return cls in SELF_SERVICE and data.get("member_id") == caller.member_id
        rule = rule_for(cls)
        return caller.role in rule.who and rule.allows(caller, cls, data, context)
    if caller.is_node_admin:
        return True
    if caller.role is Role.MEMBER:  # for herself only, whatever any rule says
        return cls in SELF_SERVICE and data.get("member_id") == caller.member_id
    rule = rule_for(cls)
    return caller.role in rule.who and rule.allows(caller, cls, data, context)
