"""The gateway's ASGI application: ``/graphql`` (HTTP and graphql-transport-ws; in development
mode, GraphiQL for a browser), ``/health``, Prometheus ``/metrics`` and the node's public keys
at ``/.well-known/jwks.json`` (and each one as a JWK at ``/keys/<its thumbprint URI>``, the
``kid`` of the credentials it signs); the pages ``/dashboard`` (the federation's figures) and
``/record`` (a member's printable record) with their files at ``/static/{path}``
(``gateway/pages.py``; each page's route is its feature's); for the node's operator,
``POST /admin/checkpoint`` (a node-admin token) takes a checkpoint of the projections' store
(``gateway.checkpoints``; ``coopbridge checkpoint`` calls it). Served by uvicorn
(``coopbridge gateway``).

On start it opens the node's data keys, a command client and the projections (a new
replica's from the newest checkpoint of its node), and answers only once the projections have
caught up with the log as it stood; then it takes a checkpoint every
``COOPBRIDGE_CHECKPOINT_EVERY``. Reads
``{node}.{membership,savings,training}.events``, ``{node}.replies``, ``{node}.datakeys``;
writes ``{node}.*.commands`` and ``{node}.datakeys`` (sealing new members' details).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import re

import msgspec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from graphql import GraphQLError, OperationType, get_operation_ast, parse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)

from gateway.access import AUTHENTICATION_REQUIRED
from gateway.auth import Role, bearer_of_connection, caller_from_header
from gateway.checkpoints import on_schedule
from gateway.context import GatewayContext
from gateway.figures import dashboard
from gateway.governance import sealing as ballot_keys
from gateway.listeners import TooManySubscriptions
from gateway.member_access import page as member_page
from gateway.member_access.liveness import live
from gateway.member_access.sockets import sockets_of
from gateway.pages import graphiql_page, static_file
from gateway.projections import Projections
from gateway.records import printable
from gateway.records.status_lists import signed_status_list
from gateway.schema import build_schema
from services import config
from services.runtime import clock as clocks
from services.runtime.client import CommandClient
from services.runtime.datakeys import DataKeys
from services.runtime.keys import (
    KEYS_PATH,
    THUMBPRINT_URN,
    jwks,
    key_url,
    public_jwk,
    thumbprint,
)

log = logging.getLogger(__name__)


#: What a query or mutation sent over the socket is told.
SUBSCRIPTIONS_ONLY = ("this socket carries subscriptions only: send queries and mutations as "
                      "HTTP POST, each with its bearer token")
#: Subscriptions one socket carries at once (strawberry's default is 100): a page or an app
#: follows a few members or countries per screen. The caps per token (across its sockets)
#: and per gateway are in ``gateway.listeners``.
MAX_SUBSCRIPTIONS_PER_SOCKET = 20


class SocketHandler(BaseGraphQLTransportWSHandler):
    """graphql-transport-ws as the gateway speaks it: subscriptions only, at most
    ``MAX_SUBSCRIPTIONS_PER_SOCKET`` at a time. A socket's context is built once, when it
    opens; a query or mutation run in it would keep the caller and the clock of that moment
    (an expired token still accepted), so they are refused here and go over HTTP, where every
    request is judged anew."""

    async def handle_subscribe(self, message) -> None:
        payload = message.get("payload") if isinstance(message, dict) else None
        try:
            document = parse(payload["query"])
            operation = get_operation_ast(document, payload.get("operationName"))
        except (GraphQLError, KeyError, TypeError):
            operation = None  # strawberry answers what it cannot parse
        if operation is not None and operation.operation is not OperationType.SUBSCRIPTION:
            await self.send_message({"id": message["id"], "type": "error",
                                     "payload": [{"message": SUBSCRIPTIONS_ONLY}]})
            return
        if (self.connection_acknowledged and message["id"] not in self.operations
                and len(self.operations) >= self.max_subscriptions_per_connection):
            # strawberry would refuse it too, saying less ("Subscription limit reached")
            error = TooManySubscriptions(
                f"at most {self.max_subscriptions_per_connection} subscriptions at a time per "
                "socket: end one before you start another")
            await self.send_message({"id": message["id"], "type": "error",
                                     "payload": [error.formatted]})
            return
        await super().handle_subscribe(message)

    async def handle_connection_init(self, message) -> None:
        """Once acknowledged, the socket closes (4403) when its token expires, even if no
        event came to end its subscriptions before; a member's also when her access is
        revoked or she is erased (``gateway.member_access.sockets``)."""
        await super().handle_connection_init(message)
        caller = self.view.socket_caller(self.context) if self.connection_acknowledged else None
        if caller is not None and caller.expires_at is not None:
            self._expiry = asyncio.create_task(self._close_at(caller.expires_at))
        if caller is not None and caller.role is Role.MEMBER:  # closed when her access ends
            self._door = sockets_of(self.view.state.projections).opened(caller, self._revoked)

    async def _revoked(self) -> None:
        await self.websocket.close(code=4403, reason="the access was revoked")

    async def _close_at(self, moment: dt.datetime) -> None:
        await asyncio.sleep(max(0.0, (moment - dt.datetime.now(dt.UTC)).total_seconds()))
        with contextlib.suppress(Exception):  # closed by the client meanwhile
            await self.websocket.close(code=4403, reason="the token expired")

    async def shutdown(self) -> None:
        expiry = getattr(self, "_expiry", None)
        if expiry is not None:
            expiry.cancel()
        door = getattr(self, "_door", None)
        if door is not None:
            sockets_of(self.view.state.projections).closed(door)
        await super().shutdown()


class GatewayGraphQL(GraphQL):
    """Strawberry's ASGI app with coopbridge's per-request context, and answers written by
    msgspec (a whole record is thousands of values: docs/gateway-notes.md; text, not bytes,
    so that websocket frames stay text frames). Its sockets speak
    graphql-transport-ws only (``SocketHandler``), each carrying at most
    ``MAX_SUBSCRIPTIONS_PER_SOCKET`` subscriptions."""

    graphql_transport_ws_handler_class = SocketHandler

    def __init__(self, state, **kwargs):
        super().__init__(subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
                         max_subscriptions_per_connection=MAX_SUBSCRIPTIONS_PER_SOCKET, **kwargs)
        self.state = state

    async def render_graphql_ide(self, request) -> Response:
        """Development mode's GraphiQL: coopbridge's own page and files (``gateway/pages.py``),
        not strawberry's, which loads React and GraphiQL from a CDN."""
        return await graphiql_page(request)

    def encode_json(self, data: object) -> str:
        return msgspec.json.encode(data).decode()

    def socket_caller(self, context: GatewayContext):
        """Who opened a socket: the upgrade request's token, or the ``connection_init``
        payload's (``None`` when neither is valid now)."""
        return live(caller_from_header(self.state.node, context.request.headers.get(
            "authorization")) or caller_from_header(
            self.state.node, bearer_of_connection(context.connection_params)),
            self.state.projections)

    async def on_ws_connect(self, context: GatewayContext):
        """graphql-transport-ws ``connection_init``: without a valid token (in the payload or
        the upgrade request) the socket is closed with 4403 Forbidden, never left to end
        each subscription silently."""
        if self.socket_caller(context) is None:
            raise ConnectionRejectionError({"message": AUTHENTICATION_REQUIRED})
        return await super().on_ws_connect(context)

    async def get_context(self, request, response=None) -> GatewayContext:
        authorization = request.headers.get("authorization")
        return GatewayContext(
            node=self.state.node,
            caller=live(caller_from_header(self.state.node, authorization),
                        self.state.projections),
            views=self.state.projections, keys=self.state.keys, commands=self.state.client,
            request=request, response=response)


#: Larger requests are refused with 413 before anything parses them.
MAX_BODY_BYTES = 256 * 1024


class BodyLimit:
    """ASGI middleware: a request body over ``MAX_BODY_BYTES`` gets 413, declared or not."""

    def __init__(self, app, limit: int = MAX_BODY_BYTES):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers") or ()).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            return await self._too_large(send)
        seen = 0

        async def counted():
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise _TooLarge
            return message

        try:
            return await self.app(scope, counted, send)
        except _TooLarge:
            return await self._too_large(send)

    async def _too_large(self, send):
        body = b'{"errors": [{"message": "the request is too large"}]}'
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass


class _Metrics:
    def __init__(self, state):
        self.state = state

    def collect(self):
        stats = getattr(self.state.projections, "stats", {}) if self.state.projections else {}
        applied = CounterMetricFamily("coopbridge_projection_events",
                                      "events the projections handled", labels=["outcome"])
        for outcome, value in sorted(stats.items()):
            applied.add_metric([outcome], value)
        yield applied
        up = GaugeMetricFamily("coopbridge_gateway_ready", "1 once the views caught up")
        up.add_metric([], 1.0 if self.state.ready else 0.0)
        yield up


async def _cancelled(task: asyncio.Task) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


class _State:
    def __init__(self, node: str, bootstrap: str):
        self.node, self.bootstrap = node, bootstrap
        self.keys = self.client = self.projections = None
        self.ready = False


def create_app(node: str | None = None, bootstrap: str | None = None,
               development: bool | None = None) -> Starlette:
    node = node or config.node_id()
    bootstrap = bootstrap or config.bootstrap_servers()
    development = config.development_mode() if development is None else development
    state = _State(node, bootstrap)
    graphql = GatewayGraphQL(state, schema=build_schema(development),
                             graphql_ide="graphiql" if development else None,
                             allow_queries_via_get=False)
    registry = CollectorRegistry()
    registry.register(_Metrics(state))

    @contextlib.asynccontextmanager
    async def lifespan(app):
        async with contextlib.AsyncExitStack() as stack:
            state.keys = await stack.enter_async_context(DataKeys(node, bootstrap))
            state.client = await stack.enter_async_context(
                CommandClient(node, bootstrap, source="gateway"))
            every = config.checkpoint_every_s()
            state.projections = await stack.enter_async_context(Projections(node, bootstrap))
            await state.projections.ready()
            # the figures' follower: each batch's marked members settled after it
            await stack.enter_async_context(state.projections.figures.following(state.keys))
            if every is not None:
                schedule = asyncio.create_task(on_schedule(
                    every, state.projections.checkpoints,
                    state.projections.checkpoint_if_moved))
                stack.push_async_callback(_cancelled, schedule)
            # ballot keys destroyed once their assembly's challenge period is over (issue 24)
            sealing = asyncio.create_task(ballot_keys.on_schedule(
                state.projections, state.keys, state.client))
            stack.push_async_callback(_cancelled, sealing)
            state.ready = True
            log.info("gateway of node %s ready", node)
            yield
            state.ready = False

    async def health(request: Request) -> JSONResponse:
        body = {"status": "ok" if state.ready else "starting", "node": node}
        return JSONResponse(body, status_code=200 if state.ready else 503)

    def public_key():
        return Ed25519PrivateKey.from_private_bytes(config.signing_key(node)).public_key()

    async def published_keys(request: Request) -> JSONResponse:
        """The node's public keys (JWKS): what anyone needs to verify what it signs. Each
        key's ``kid`` is the one its credentials carry, so that a library finds it by kid."""
        return JSONResponse(jwks(public_key(), base_url=config.public_url()),
                            headers={"cache-control": "public, max-age=300"})

    async def published_key(request: Request) -> Response:
        """One public key as a JWK, at the URL a credential's ``kid`` names (Open Badges 3.0:
        a URI that dereferences to the key); any other key: 404."""
        key = public_key()
        if request.path_params["kid"] != THUMBPRINT_URN + thumbprint(key):
            return Response(status_code=404)
        return JSONResponse(public_jwk(key, kid=key_url(config.public_url(), key)),
                            media_type="application/jwk+json",
                            headers={"cache-control": "public, max-age=300"})

    async def status_list(request: Request) -> Response:
        """A revocation status list (BitstringStatusListCredential, vc+jwt, signed): public,
        like the JWKS, so that anyone can check a record or certificate offline later."""
        list_id = request.path_params["list_id"]
        if not state.ready or not _UUID.match(list_id):
            return Response(status_code=404 if state.ready else 503)
        token = signed_status_list(node, list_id, state.projections,
                                   clocks.now())  # the services' clock, as GraphQL's
        return Response(token, media_type="application/vc+jwt",
                        headers={"cache-control": "public, max-age=60"})

    async def take_checkpoint(request: Request) -> JSONResponse:
        """A checkpoint of this replica's store, now (the node's operator only)."""
        caller = caller_from_header(node, request.headers.get("authorization"))
        if caller is None or not caller.is_node_admin:
            return JSONResponse({"error": AUTHENTICATION_REQUIRED if caller is None else
                                 "only the node's operator takes checkpoints"},
                                status_code=401 if caller is None else 403)
        own = config.gateway_replica()  # as the projections read it
        asked = request.query_params.get("replica")
        if asked is not None and asked != own:  # a checkpoint is one replica's store
            return JSONResponse({"error": f"this gateway is replica {own!r}, not the one "
                                          "asked for", "replica": own}, status_code=409)
        if not state.ready:
            return JSONResponse({"error": "the gateway is not ready yet"}, status_code=503)
        made = await state.projections.checkpoint()
        return JSONResponse(made.summary())

    async def metrics(request: Request) -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return Starlette(routes=[
        Route("/graphql", graphql, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", graphql),
        Route("/health", health),
        Route("/.well-known/jwks.json", published_keys),
        Route(KEYS_PATH + "{kid}", published_key),
        Route("/credentials/status/{list_id}", status_list),
        Route("/metrics", metrics),
        Route("/admin/checkpoint", take_checkpoint, methods=["POST"]),
        *dashboard.ROUTES,
        *printable.ROUTES,
        *member_page.ROUTES,
        Route("/static/{path:path}", static_file, methods=["GET", "HEAD"]),
    ], lifespan=lifespan, middleware=[Middleware(BodyLimit)])
