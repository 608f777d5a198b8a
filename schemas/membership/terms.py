"""What the membership contracts' fields hold: the kinds of cooperative and group, roles,
reasons, consent scopes and grantees, and the personal details that only ever travel sealed
(``PersonalDetails``, the plaintext inside the seal)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import msgspec

from schemas.fields import CountryCode, LanguageTag, PastDay, Text

Languages = Annotated[list[LanguageTag], msgspec.Meta(min_length=1, max_length=20)]


class CooperativeKind(StrEnum):
    """The kinds of cooperative the federation serves (ICA's families, plus training)."""

    SAVINGS_AND_CREDIT = "savings_and_credit"
    WORKER = "worker"
    MULTI_PURPOSE = "multi_purpose"
    INSURANCE = "insurance"
    SERVICES = "services"
    CONSUMER = "consumer"
    PRODUCER = "producer"
    TRAINING = "training"


class GroupKind(StrEnum):
    """The kinds of member group inside a cooperative."""

    SOLIDARITY_GROUP = "solidarity_group"
    SOCIETY = "society"
    WORK_TEAM = "work_team"


class MembershipRole(StrEnum):
    """A member's role in a cooperative."""

    MEMBER = "member"
    WORKER_MEMBER = "worker_member"
    BOARD_MEMBER = "board_member"


class EndReason(StrEnum):
    """Why a membership ended."""

    RETURNED_HOME = "returned_home"
    MOVED = "moved"
    RESIGNED = "resigned"
    DECEASED = "deceased"
    EXPELLED = "expelled"


class ConsentScope(StrEnum):
    """The parts of a member's record that a consent, or a record exported under it, covers."""

    IDENTITY = "identity"
    MEMBERSHIP = "membership"
    SAVINGS = "savings"
    TRAINING = "training"
    GOVERNANCE = "governance"
    INSURANCE = "insurance"
    WORK = "work"  # the placements she worked (issue 26)


class GranteeKind(StrEnum):
    """Whom a consent or an exported record is for: one cooperative, or a whole node."""

    COOPERATIVE = "cooperative"
    NODE = "node"


class Gender(StrEnum):
    """A member's gender, if she states it."""

    FEMALE = "female"
    MALE = "male"
    OTHER = "other"


class PersonalDetails(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True,
                      omit_defaults=True):
    """A member's personal details: the minimum, and no immigration status.
    They only ever travel sealed with her data key: this is the plaintext inside the seal.
    (A field left at its default is not written: details without a residence read as before
    in code that predates it.)"""

    given_names: Text
    family_names: Text
    date_of_birth: PastDay
    nationality: CountryCode
    gender: Gender | None = None
    preferred_languages: Languages
    contact: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    #: the country she lives in now, if she says (she may correct it herself): where she
    #: counts in the assemblies' turnout by country of residence (``docs/governance.md``)
    residence: CountryCode | None = None
