"""The insurance feature's queries (issue 25): a product (its public terms, for any
signed-in caller: a catalogue), and a policy (for the insurer's own staff and admins, and
the node admin: for anyone else it does not exist)."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from gateway.access import SignedIn
from gateway.context import GatewayContext
from gateway.insurance.types import InsurancePolicy, InsuranceProduct


@strawberry.field(permission_classes=[SignedIn], description=(
    "An insurance product of this node's insurance cooperatives (its public terms); null if "
    "unknown"))
def insurance_product(info: Info[GatewayContext, None],
                      id: Annotated[strawberry.ID, strawberry.argument(
                          description="the product's id")]) -> InsuranceProduct | None:
    doc = info.context.views.get("products", id)
    return None if doc is None or doc.offered is None else InsuranceProduct.from_doc(doc)


@strawberry.field(permission_classes=[SignedIn], description=(
    "A policy this node's insurer issued, with its premiums and its claim: for the insurer's "
    "staff and admins and the node admin; null for anyone else, as for what does not exist"))
def insurance_policy(info: Info[GatewayContext, None],
                     id: Annotated[strawberry.ID, strawberry.argument(
                         description="the policy's id")]) -> InsurancePolicy | None:
    context = info.context
    doc = context.views.get("policies", id)
    if doc is None or doc.issued is None:
        return None
    if not context.caller.of_cooperative(doc.issued.cooperative_id):
        return None
    return InsurancePolicy.from_doc(doc, context.now.date())


#: The queries this feature adds to the schema.
QUERIES = {"insuranceProduct": insurance_product, "insurancePolicy": insurance_policy}
