"""The governance feature's part of her record: the assemblies she could vote in, whether and
how she voted, the offices she was elected to (``Member.assemblies``). Never her choice."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry
from strawberry.types import Info

from gateway.documents import AssemblyPart
from gateway.i18n.types import LANG, LocalizedText, localized


def _title(root, info: Info, lang: Annotated[
        list[str] | None, strawberry.argument(description=LANG)] = None) -> LocalizedText:
    return localized(root.titles, info, lang)


def title_field(whose: str):
    """A ``title`` in the reader's language, of a type whose ``titles`` hold it by language."""
    return strawberry.field(resolver=_title, description=(
        f"{whose} title in the reader's language when it has it, else in its first language"))


@strawberry.type(description="Her part in one assembly: on its roll, whether and how she "
                             "voted, the offices she was elected to (never her choice)")
class AssemblyParticipation:
    assembly_id: strawberry.ID = strawberry.field(description="the assembly's id")
    cooperative_id: strawberry.ID = strawberry.field(
        description="the cooperative whose assembly it was")
    meeting_on: dt.date = strawberry.field(description="the day of the meeting")
    voted: str | None = strawberry.field(description=(
        "how she voted once the voting closed: remote (herself, from wherever she was), "
        "proxy (her proxy holder for her), in_person, or no; null while it is open"))
    offices: list[str] = strawberry.field(
        description="the offices she was elected to (the election's title)")
    titles: strawberry.Private[dict[str, str]]
    title: LocalizedText = title_field("the assembly's")

    @classmethod
    def from_doc(cls, part: AssemblyPart) -> AssemblyParticipation:
        return cls(assembly_id=part.assembly_id, cooperative_id=part.cooperative_id,
                   meeting_on=part.meeting_on, voted=part.voted, offices=list(part.offices),
                   titles=dict(part.titles))
