"""The governance feature's subscription ``assemblyResults``: an assembly's certified result
the moment it is certified (at once if it is already), then the stream ends. It says nothing
before: no count, no turnout, no sign of a ballot, for anyone, the node admin included. For
whoever reads the assembly (``queries.sees``; anyone else hears nothing); a stream ends when
its token expires. A subscriber that misses events (``FELL_BEHIND``) subscribes again, and hears the
result at once if it came meanwhile.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from typing import Annotated

import strawberry
from strawberry.types import Info

from gateway.context import GatewayContext, caller_of
from gateway.figures.subscriptions import until_expiry
from gateway.governance.documents import AssemblyView
from gateway.access import sees
from gateway.governance.queries import AssemblyResult, assembly_of
from schemas import governance as g

def _certified(context: GatewayContext, caller, assembly_id: str) -> AssemblyResult | None:
    view = context.views.get(AssemblyView.TABLE, assembly_id)
    if not sees(caller, view) or view.result is None:
        return None
    return assembly_of(view, context.node).result


async def assembly_results(info: Info[GatewayContext, None], assembly_id: Annotated[
        strawberry.ID, strawberry.argument(description="the assembly's id")],
        ) -> AsyncGenerator[AssemblyResult, None]:
    context, caller = info.context, caller_of(info.context)
    if caller is None or caller.expired():
        return
    assembly_id = str(assembly_id)
    listener = context.views.listen(caller)
    try:
        result = _certified(context, caller_of(context), assembly_id)
        while result is None:
            try:
                async with asyncio.timeout(until_expiry(caller)):
                    _, (_, event) = await listener.get()
            except TimeoutError:
                return  # its token expired
            if isinstance(event, g.ResultCertified) and event.assembly_id == assembly_id:
                result = _certified(context, caller_of(context), assembly_id)
        yield result
    finally:
        context.views.unlisten(listener)


#: The subscriptions this feature adds to the schema.
SUBSCRIPTIONS = {
    "assembly_results": strawberry.subscription(
        assembly_results, description="An assembly's certified result, once, when it is "
        "certified (at once if it is already); nothing before, for anyone; then the stream "
        "ends"),
}
