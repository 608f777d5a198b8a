"""The GraphQL types every feature uses: money, and the ``id`` fields of the types that have
one; and the rule for small counts.

Money is shown as a decimal string in major units (``"125.50"``) with its ISO 4217 code, and
as a string of minor units: GraphQL's ``Int`` is 32-bit, too small for a federation's sums.
"""

from __future__ import annotations

import strawberry

from schemas.fields import Money as MoneyValue
from schemas.money import major_text


def own_id(attribute: str, what: str, more: str = ""):
    """The ``id`` field of a type whose own identifier was first published as ``attribute``
    (``memberId``, ``cooperativeId`` …): clients expect ``id``; the old name stays, deprecated."""
    def resolve(self) -> strawberry.ID:
        return getattr(self, attribute)
    return strawberry.field(resolver=resolve,
                            description=f"the {what}'s id (a UUID){more}")


def use_id():
    """The deprecation of a type's first, longer name for its own id."""
    return strawberry.field(deprecation_reason="Use `id`: the same value.")


@strawberry.type(description="An amount of money in one currency, written two ways")
class Money:
    amount: str = strawberry.field(description="decimal, in major units: \"125.50\"")
    currency: str = strawberry.field(description="an ISO 4217 currency code (EUR)")
    minor_units: str = strawberry.field(
        description="integer minor units, as a string (\"12550\"): exact, and no limit of "
                    "GraphQL's 32-bit Int")

    @classmethod
    def from_value(cls, money: MoneyValue | None) -> Money | None:
        if money is None:
            return None
        return cls(amount=major_text(money.amount, money.currency), currency=money.currency,
                   minor_units=str(money.amount))


#: Counts under this are shown to the cooperative's own people only (they could point at one).
SMALL = 5


def shown_count(value: int, insider: bool) -> int | None:
    """A count as the caller may see it: an outsider sees none under ``SMALL`` but 0."""
    return value if insider or value >= SMALL or value == 0 else None
