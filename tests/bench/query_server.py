"""The gateway as the bench runs it: ``gateway.app.create_app`` under uvicorn, plus two
baselines of the record query served by the same process, the same app and the same context.

``python -m tests.bench.query_server --port N`` (node, broker and keys from the environment,
as ``coopbridge gateway``; access log off, warnings only, so that no request writes a line).

* ``POST /graphql``: the real gateway, untouched (strawberry's ASGI view, its extensions).
* ``POST /bench/graphql-core``: the same schema (``schema._schema``, so the same resolvers and
  the same strawberry field wrappers) executed by plain graphql-core: the document parsed and
  validated once per distinct text (strawberry caches both too), then ``graphql.execute`` per
  request with the context the real view builds (``get_context``: the bearer token verified,
  the projections, the data keys), the result written by the view's own ``encode_json``.
  No strawberry view, no extensions.
* ``GET /bench/json/member/{id}?history=100``: no GraphQL at all. The same access check
  (``visible_member``), the same read-model documents read the same way (the member's record,
  each account, the history), her personal details opened with the same data keys, the first
  ``history`` timeline entries she may be shown, written with ``msgspec.json``.
"""

from __future__ import annotations

import argparse
import itertools
import logging
import types

import graphql
import msgspec
import uvicorn
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gateway.app import GatewayGraphQL, create_app
from gateway.documents import accounts_of
from gateway.fold import entry
from gateway.members.member import entry_visible, visible_member
from schemas import membership as m


def gateway_view(app) -> GatewayGraphQL:
    return next(route.endpoint for route in app.routes
                if isinstance(getattr(route, "endpoint", None), GatewayGraphQL))


def with_baselines(app):
    """``app`` with the two baseline routes added (see the module docstring)."""
    view = gateway_view(app)
    schema = view.schema._schema
    documents: dict[str, graphql.DocumentNode] = {}

    def document(source: str) -> graphql.DocumentNode:
        found = documents.get(source)
        if found is None:
            found = graphql.parse(source)
            errors = graphql.validate(schema, found)
            if errors:
                raise ValueError(errors[0].message)
            documents[source] = found
        return found

    async def graphql_core(request: Request) -> Response:
        body = await request.json()
        context = await view.get_context(request)
        result = graphql.execute(schema, document(body["query"]), context_value=context,
                                 variable_values=body.get("variables"))
        if graphql.pyutils.is_awaitable(result):
            result = await result
        return Response(view.encode_json(result.formatted), media_type="application/json")

    async def json_member(request: Request) -> Response:
        context = await view.get_context(request)
        member_id = request.path_params["member_id"]
        member = visible_member(types.SimpleNamespace(context=context), member_id)
        if member is None:
            return JSONResponse({"member": None})
        record, scopes = member.record, member.scopes
        identity = None
        if "identity" in scopes and not record.erased and record.personal is not None:
            plaintext = await context.keys.open(member_id, record.personal)
            if plaintext is not None:
                identity = msgspec.json.decode(plaintext, type=m.PersonalDetails)
        views = context.views
        accounts = []
        if "savings" in scopes:
            accounts = [{"account": doc,
                         "remittances": list(views.rows("remittances", account_id)),
                         "transfers": list(views.rows("transfers", account_id))}
                        for account_id in accounts_of(views, member_id)
                        if (doc := views.get("accounts", account_id)) is not None]
        entries = []
        if "membership" in scopes:
            wanted = int(request.query_params.get("history", "100"))
            visible = (x for x in map(entry, views.rows("timeline", member_id))
                       if entry_visible(member, x.service, x.type))
            entries = [{"at": x.at, "service": x.service, "type": x.type,
                        "summary": x.summary} for x in itertools.islice(visible, wanted)]
        body = {"member": msgspec.structs.replace(record, personal=None),
                "identity": identity, "accounts": accounts, "history": entries}
        return Response(msgspec.json.encode(body), media_type="application/json")

    app.router.routes.extend([
        Route("/bench/graphql-core", graphql_core, methods=["POST"]),
        Route("/bench/json/member/{member_id}", json_member, methods=["GET"]),
    ])
    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.query_server")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("gateway").setLevel(logging.INFO)
    uvicorn.run(with_baselines(create_app()), host="127.0.0.1", port=args.port,
                log_level="warning", access_log=False, lifespan="on")


if __name__ == "__main__":
    main()
