"""The GraphQL schema and its guards against abuse.

* depth (10), tokens (2,000) and aliases (30) are limited; the depth rule is built once and
  added with the parser and validation caches (building it per request defeats the cache);
* a query cost limit (``CostLimiter``): every field costs 1, a list multiplies its subtree by
  its ``first`` (or 20), and a document over 5,000 is refused before it runs;
* introspection only in development mode (``COOPBRIDGE_ENV``);
* unexpected errors are masked; expected ones are part of the schema (``MutationResult``).
"""

from __future__ import annotations

from graphql import FieldNode, FragmentSpreadNode, GraphQLError, InlineFragmentNode, IntValueNode
from graphql.validation import ValidationRule
from strawberry import Schema
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    ValidationCache,
)
from strawberry.extensions.query_depth_limiter import create_validator

from gateway.mutations import mutation_type
from gateway.queries import BadRequest, Query
from gateway.subscriptions import Subscription
from services import config

MAX_DEPTH = 10
MAX_TOKENS = 2_000
MAX_ALIASES = 30
MAX_COST = 5_000
DEFAULT_PAGE = 20


class CostLimiter(ValidationRule):
    """Refuses a document whose estimated cost exceeds ``MAX_COST``. Fragments are expanded,
    so a cost cannot hide behind spreads."""

    def enter_operation_definition(self, node, *_):
        fragments = {f.name.value: f for f in self.context.document.definitions
                     if f.kind == "fragment_definition"}
        cost = self._cost(node.selection_set, fragments, depth=0)
        if cost > MAX_COST:
            self.report_error(GraphQLError(
                f"the query is too expensive ({cost} > {MAX_COST}); ask for fewer items",
                node))

    def _cost(self, selection_set, fragments, depth: int) -> int:
        if selection_set is None or depth > MAX_DEPTH * 2:
            return 0
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                multiplier = 1
                for argument in selection.arguments or ():
                    if argument.name.value == "first":
                        multiplier = (int(argument.value.value)
                                      if isinstance(argument.value, IntValueNode)
                                      else DEFAULT_PAGE)
                inner = self._cost(selection.selection_set, fragments, depth + 1)
                total += 1 + max(multiplier, 1) * inner
            elif isinstance(selection, InlineFragmentNode):
                total += self._cost(selection.selection_set, fragments, depth + 1)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = fragments.get(selection.name.value)
                if fragment is not None:
                    total += self._cost(fragment.selection_set, fragments, depth + 1)
        return total


#: Built once: a rule class made per request would defeat the validation cache.
RULES = [create_validator(max_depth=MAX_DEPTH, should_ignore=None), CostLimiter]


def should_mask(error: GraphQLError) -> bool:
    """Mask what a resolver raised unexpectedly; keep the caller's own mistakes readable
    (syntax, validation, limits, and ``BadRequest``)."""
    original = error.original_error
    return original is not None and not isinstance(original, BadRequest | GraphQLError)


def build_schema(development: bool | None = None) -> Schema:
    development = config.development_mode() if development is None else development
    extensions = [
        lambda: ParserCache(maxsize=256),  # the caches live at module level
        lambda: ValidationCache(maxsize=256),
        lambda: AddValidationRules(RULES),
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        lambda: MaxAliasesLimiter(max_alias_count=MAX_ALIASES),
        lambda: MaskErrors(should_mask_error=should_mask),
    ]
    if not development:
        extensions.append(DisableIntrospection)
    return Schema(query=Query, mutation=mutation_type(), subscription=Subscription,
                  extensions=extensions)
