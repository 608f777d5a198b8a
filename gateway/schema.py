"""The GraphQL schema, assembled from the features, and its guards against abuse.

``Query``, ``Mutation`` and ``Subscription`` are built here from each feature's
``QUERIES``, ``MUTATIONS`` (with one mutation generated per partner command,
``gateway.commands``, checked by its feature's ``PRECHECKS``) and ``SUBSCRIPTIONS``, their
fields in the order ``schema.graphql`` has always published. The guards:

* depth (10), tokens (2,000) and aliases (30) are limited; the depth and alias rules are
  built once and added with the parser and validation caches: a validation is cached under
  its rule classes, so a rule class made per request (as strawberry's ``MaxAliasesLimiter``
  makes one per extension instance, i.e. per request) would validate every request anew;
* a query cost limit (``CostLimiter``): every field costs 1, a list multiplies its subtree by
  its ``first`` (or 20), a field computed over many members costs its weight (``WEIGHTS``:
  ``federationStats`` and ``assemblyTurnout`` 500, so a document asks for them at most 10
  times), and a document over 5,000 is refused before it runs;
* introspection only in development mode (``COOPBRIDGE_ENV``);
* unexpected errors are masked; expected ones are part of the schema (``MutationResult``).
"""

from __future__ import annotations

import functools
import logging
import re
from collections import OrderedDict

import strawberry
from graphql import FieldNode, FragmentSpreadNode, GraphQLError, InlineFragmentNode, IntValueNode
from graphql.validation import ValidationRule
from strawberry import Schema
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaskErrors,
    MaxTokensLimiter,
    ParserCache,
    SchemaExtension,
)
from strawberry.extensions.max_aliases import create_validator as aliases_rule
from strawberry.extensions.query_depth_limiter import create_validator as depth_rule
from strawberry.schema.schema import validate_document

from gateway.descriptions import describe
from gateway.figures import queries as figures_queries
from gateway.figures import subscriptions as figures_subscriptions
from gateway.figures.cache import OneMomentPerOperation
from gateway.figures.queries import FIGURES_COST
from gateway.commands import make_mutation
from gateway.governance import mutations as governance_mutations
from gateway.governance import queries as governance_queries
from gateway.governance import subscriptions as governance_subscriptions
from gateway.governance import turnout as governance_turnout
from gateway.insurance import applying as insurance_applying
from gateway.insurance import queries as insurance_queries
from gateway.inputs import camel, contract_enums, contract_inputs
from gateway.members import mutations as members_mutations
from gateway.members import queries as members_queries
from gateway.members import subscriptions as members_subscriptions
from gateway.paging import MAX_PAGE, BadRequest
from gateway.placement import queries as placement_queries
from gateway.member_access import mutations as member_access_mutations
from gateway.member_access import me as member_access_me
from gateway.records import mutations as records_mutations
from gateway.records import queries as records_queries
from gateway.savings import mutations as savings_mutations
from gateway.training import queries as training_queries
from schemas import REGISTRY
from schemas import insurance as i
from schemas import membership as m
from schemas import placement as p
from schemas import savings as s
from schemas.registry import Contract
from schemas.topics import SERVICES
from services import config

log = logging.getLogger(__name__)

MAX_DEPTH = 10
MAX_TOKENS = 2_000
MAX_ALIASES = 30
MAX_COST = 5_000
DEFAULT_PAGE = 20
CACHE_SIZE = 256  # documents whose parse and validation are kept
#: What a field costs whatever it selects, when that is more than its selection: the fields
#: whose answer is computed over many members
WEIGHTS = {"federationStats": FIGURES_COST, "assemblyTurnout": FIGURES_COST}


class CostLimiter(ValidationRule):
    """Refuses a document whose estimated cost exceeds ``MAX_COST``, before it runs.

    Every field costs 1; a field with ``first`` multiplies its subtree by it (a variable
    counts as the largest page, ``MAX_PAGE``); a field of ``WEIGHTS`` costs at least its
    weight. Fragments are expanded once each (their cost
    is memoised; a cycle costs the maximum and is refused), and counting stops as soon as
    the limit is passed, so the rule itself can never be made slow."""

    def enter_operation_definition(self, node, *_):
        self._fragments = {f.name.value: f for f in self.context.document.definitions
                           if f.kind == "fragment_definition"}
        self._memo: dict[str, int] = {}
        self._visiting: set[str] = set()
        cost = self._cost(node.selection_set, depth=0)
        if cost > MAX_COST:
            self.report_error(GraphQLError(
                f"the query is too expensive (more than {MAX_COST}); ask for fewer items",
                node))

    def _cost(self, selection_set, depth: int) -> int:
        if selection_set is None:
            return 0
        if depth > MAX_DEPTH * 2:
            return MAX_COST + 1
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                multiplier = 1
                for argument in selection.arguments or ():
                    if argument.name.value == "first":
                        multiplier = (int(argument.value.value)
                                      if isinstance(argument.value, IntValueNode) else MAX_PAGE)
                inner = self._cost(selection.selection_set, depth + 1)
                total += max(1 + max(multiplier, 1) * inner,
                             WEIGHTS.get(selection.name.value, 0))
            elif isinstance(selection, InlineFragmentNode):
                total += self._cost(selection.selection_set, depth + 1)
            elif isinstance(selection, FragmentSpreadNode):
                total += self._fragment_cost(selection.name.value, depth)
            if total > MAX_COST:
                return total
        return total

    def _fragment_cost(self, name: str, depth: int) -> int:
        if name in self._memo:
            return self._memo[name]
        fragment = self._fragments.get(name)
        if fragment is None:
            return 0
        if name in self._visiting:  # a cycle: other rules refuse it, this one must not loop
            return MAX_COST + 1
        self._visiting.add(name)
        cost = self._cost(fragment.selection_set, depth + 1)
        self._visiting.discard(name)
        self._memo[name] = cost
        return cost


#: Built once: a rule class made per request would defeat the validation cache.
RULES = [depth_rule(max_depth=MAX_DEPTH, should_ignore=None), aliases_rule(MAX_ALIASES),
         CostLimiter]


class TextValidationCache(SchemaExtension):
    """strawberry's ``ValidationCache``, but looked up by the query's text rather than by its
    parsed document: graphql-core's nodes hash their whole subtree on every call, so finding
    a large document in that cache costs more than running much of it (docs/gateway-notes.md).
    The text decides the document (``ParserCache`` parses it with fixed options), so the
    text, the schema and the rules decide the errors."""

    _errors: OrderedDict = OrderedDict()  # (schema, text, rules) -> errors, least recent first

    def on_validate(self):
        context = self.execution_context
        if context.query is None:  # nothing to key by: validate as strawberry would
            context.pre_execution_errors = validate_document(
                context.schema._schema, context.graphql_document, context.validation_rules)
            yield
            return
        key = (context.schema._schema, context.query, context.validation_rules)
        errors = self._errors.get(key)
        if errors is None:
            errors = validate_document(context.schema._schema, context.graphql_document,
                                       context.validation_rules)
            self._errors[key] = errors
            if len(self._errors) > CACHE_SIZE:
                self._errors.popitem(last=False)
        else:
            self._errors.move_to_end(key)
        context.pre_execution_errors = errors
        yield


_SUGGESTION = re.compile(r" Did you mean [^?]*\?")


class ProductionErrors(MaskErrors):
    """Production's answers: unexpected errors masked, and no suggestions ("Did you mean
    'eraseMember'?"), which reveal the schema that disabled introspection hides."""

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        return [GraphQLError(_SUGGESTION.sub("", error.message), nodes=error.nodes,
                             source=error.source, positions=error.positions, path=error.path,
                             original_error=error.original_error, extensions=error.extensions)
                if _SUGGESTION.search(error.message) else error
                for error in super()._process_errors(errors)]


def should_mask(error: GraphQLError) -> bool:
    """Mask what a resolver raised unexpectedly; keep the caller's own mistakes readable
    (syntax, validation, limits, and ``BadRequest``)."""
    original = error.original_error
    return original is not None and not isinstance(original, BadRequest | GraphQLError)


class QuietSchema(Schema):
    """A schema whose error log carries no values: GraphQL errors quote what the caller sent
    ("Value cannot represent a Date: …"), and that may be personal data. Only where the error
    happened and what kind it was are logged."""

    def process_errors(self, errors, execution_context=None) -> None:
        for error in errors:
            original = error.original_error
            kind = type(original).__name__ if original is not None else "request error"
            log.warning("GraphQL %s at %s", kind, list(error.path or []) or "document")


# -- the schema's parts, from each feature ---------------------------------------------------


def partner_commands() -> list[type[Contract]]:
    """The commands a partner sends through a mutation generated from the contract, in
    wire-type order: every newest command of the gateway's services, but the courier's and
    the relay's (``savings.INTERNAL_COMMANDS``), the insurance service's schedulers' and the
    relay's (``insurance.INTERNAL_COMMANDS``), the gateway's own (``membership.
    INTERNAL_COMMANDS``) and those with a mutation of their own."""
    return sorted((cls for cls in REGISTRY.types().values()
                   if cls.contract_kind == "command" and cls.contract_service in SERVICES
                   and REGISTRY.is_newest(cls) and cls not in records_mutations.BUILT_HERE
                   and cls not in member_access_mutations.BUILT_HERE
                   and cls not in governance_mutations.BUILT_HERE
                   and not (cls.contract_service == p.SERVICE
                            and cls.contract_name in p.INTERNAL_COMMANDS)
                   and cls.contract_name not in (*s.INTERNAL_COMMANDS, *m.INTERNAL_COMMANDS,
                                                 *i.INTERNAL_COMMANDS)),
                  key=lambda cls: cls.wire_type)


@functools.cache
def query_type() -> type:
    """Every feature's queries, in the order the schema has always listed them."""
    fields = {**figures_queries.QUERIES, **members_queries.QUERIES, **records_queries.QUERIES,
              **training_queries.QUERIES, **member_access_me.QUERIES,
              **governance_queries.QUERIES, **governance_turnout.QUERIES,
              **insurance_queries.QUERIES, **placement_queries.QUERIES}
    return strawberry.type(type("Query", (), fields), description=(
        "Reads, answered from this gateway's views of the log. Every query needs a bearer "
        "token; what a caller may not see reads as null, exactly like what does not exist"))


@functools.cache
def mutation_type() -> type:
    """One generated mutation per partner command (with its feature's precheck), then the
    features' own mutations."""
    prechecks = {**members_mutations.PRECHECKS, **savings_mutations.PRECHECKS}
    fills = {**insurance_applying.FILLS}
    fields = {camel(cls.__name__): make_mutation(cls, prechecks.get(cls), fills.get(cls))
              for cls in partner_commands()}
    return strawberry.type(type("Mutation", (), {**fields, **records_mutations.MUTATIONS,
                                                 **member_access_mutations.MUTATIONS,
                                                 **governance_mutations.MUTATIONS}),
                           description=(
        "Commands: each mutation sends one, waits for the service's answer and returns it. "
        "Every mutation needs a bearer token; send it again with the same idempotencyKey "
        "after a timeout or a lost answer"))


@functools.cache
def subscription_type() -> type:
    """Every feature's subscriptions. The bearer token comes in the ``connection_init``
    payload or the upgrade request's header (``gateway.app`` closes a socket without a valid
    one with 4403); access is checked when each event arrives."""
    fields = {**members_subscriptions.SUBSCRIPTIONS, **figures_subscriptions.SUBSCRIPTIONS,
              **governance_subscriptions.SUBSCRIPTIONS, **placement_queries.SUBSCRIPTIONS}
    return strawberry.type(type("Subscription", (), fields), description=(
        "Live streams over graphql-transport-ws. The bearer token goes in the connection_init "
        "payload ({\"Authorization\": \"Bearer …\"}) or the upgrade request's Authorization "
        "header; a connection without a valid one is closed (4403), and a stream ends when "
        "its token expires. A stream over a cap (per socket, per token, per gateway) gets the "
        "error TOO_MANY_SUBSCRIPTIONS; one that takes its events too slowly ends with "
        "FELL_BEHIND (it missed events: subscribe again)"))


def build_schema(development: bool | None = None) -> Schema:
    development = config.development_mode() if development is None else development
    extensions = [
        lambda: ParserCache(maxsize=CACHE_SIZE),  # the caches live at module level
        TextValidationCache,
        OneMomentPerOperation,
        lambda: AddValidationRules(RULES),
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        (lambda: MaskErrors(should_mask_error=should_mask)) if development
        else (lambda: ProductionErrors(should_mask_error=should_mask)),
    ]
    if not development:
        extensions.append(DisableIntrospection)
    schema = QuietSchema(query=query_type(), mutation=mutation_type(),
                         subscription=subscription_type(),
                         extensions=extensions)
    describe(schema._schema, contract_inputs(), contract_enums())
    return schema


def schema_text(schema: Schema) -> str:
    """The schema as SDL, as ``schema.graphql`` at the repository's root holds it."""
    return schema.as_str().rstrip("\n") + "\n"
