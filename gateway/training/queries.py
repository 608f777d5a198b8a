"""The training feature's query: a course of this node (``course``), its public facts; its
small counts only for the offering cooperative's own people.
"""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from gateway.access import SignedIn
from gateway.context import GatewayContext
from gateway.training.types import Course


@strawberry.field(permission_classes=[SignedIn], description=(
    "A course (public facts), for any signed-in caller; its counts under 5 only for the "
    "offering cooperative's own staff and admins; null if unknown"))
def course(info: Info[GatewayContext, None],
           id: Annotated[strawberry.ID, strawberry.argument(
               description="the course's id")]) -> Course | None:
    doc = info.context.views.get("courses", id)
    if doc is None or not doc.offered:
        return None
    return Course.from_doc(doc, insider=info.context.caller.of_cooperative(doc.cooperative_id))


#: The queries this feature adds to the schema.
QUERIES = {"course": course}
