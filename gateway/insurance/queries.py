"""The insurance feature's queries (issue 25): a product (its public terms, for any
signed-in caller: a catalogue), a policy (for the insurer's own staff and admins, and
the node admin: for anyone else it does not exist), and a product's figures (the insurer's
people in full, federation analysts with small cells suppressed)."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from gateway.access import SignedIn
from gateway.context import GatewayContext
from gateway.insurance.documents import Catalogue
from gateway.insurance.types import (
    InsuranceFigures,
    InsurancePolicy,
    InsuranceProduct,
    figures_for,
)


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


@strawberry.field(permission_classes=[SignedIn], description=(
    "A product's figures (policies in force, claims, premiums, benefits paid, loss ratio): "
    "for the insurer's own people and the node admin in full, for federation analysts with "
    "small cells suppressed; null for anyone else, or an unknown product"))
def insurance_figures(info: Info[GatewayContext, None],
                      product_id: Annotated[strawberry.ID, strawberry.argument(
                          description="the product's id")]) -> InsuranceFigures | None:
    doc = info.context.views.get("products", product_id)
    return None if doc is None else figures_for(info.context, doc)


@strawberry.field(permission_classes=[SignedIn], description=(
    "Every insurance product of this node's insurance cooperatives, in the order offered "
    "(withdrawn ones too, marked): a catalogue for any signed-in caller; each product's "
    "figures read as insuranceFigures does"))
def insurance_products(info: Info[GatewayContext, None]) -> list[InsuranceProduct]:
    views = info.context.views
    catalogue = views.get(Catalogue.TABLE, Catalogue.KEYED)
    docs = (views.get("products", product) for product in (catalogue.products
                                                            if catalogue else ()))
    return [InsuranceProduct.from_doc(doc) for doc in docs
            if doc is not None and doc.offered is not None]


#: The queries this feature adds to the schema.
QUERIES = {"insuranceProduct": insurance_product, "insurancePolicy": insurance_policy,
           "insuranceFigures": insurance_figures, "insuranceProducts": insurance_products}
