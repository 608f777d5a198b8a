"""GraphiQL offline: a development-mode gateway's ``/graphql`` in Debian's Chromium with every
other origin cut off. The page must load everything it needs from the gateway itself (no
CDN), under its Content-Security-Policy, and answer a query typed into it and a
subscription (graphql-transport-ws): the federation's activity, whose first window ends
within ``ACTIVITY_WINDOW`` seconds (its counts null: it began before the subscription)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import httpx
import pytest

from gateway.auth import Role, issue_token
from gateway.figures.subscriptions import ACTIVITY_WINDOW
from services.runtime.ids import new_id
from tests.e2e.conftest import running_node
from tests.e2e.test_dashboard_browser import CHROMIUM_ARGS, browser, node_home  # noqa: F401

pytestmark = pytest.mark.kafka

REGISTERED = ("mutation($i: RegisterCooperativeInput!) { registerCooperative(input: $i) "
              "{ __typename ... on CommandAccepted { visible } ... on Problem { code } } }")


@pytest.fixture(scope="module")
def development_node(kafka_bootstrap, tmp_path_factory):
    """A node in development mode: its membership service and its gateway."""
    with running_node(kafka_bootstrap, tmp_path_factory.mktemp("graphiql"), "development",
                      services=("membership",)) as node:
        yield node


def register_cooperative(url: str, token: str, node: str, name: str) -> None:
    answer = httpx.post(url, headers={"authorization": f"Bearer {token}"}, timeout=60, json={
        "query": REGISTERED, "variables": {"i": {
            "cooperativeId": new_id(), "name": name, "country": "ES",
            "kind": "SAVINGS_AND_CREDIT", "languages": ["es"], "node": node,
            "currency": "EUR", "sharePrice": {"amount": "25.00", "currency": "EUR"}}}}).json()
    assert answer["data"]["registerCooperative"] == {"__typename": "CommandAccepted",
                                                      "visible": True}, answer


def test_graphiql_runs_a_query_and_a_subscription_with_every_other_origin_cut_off(
        development_node, browser):  # noqa: F811 (the fixture imported above)
    node, url, env = development_node
    with node_home(env):
        admin = issue_token(node, Role.NODE_ADMIN)
    register_cooperative(url, admin, node, "Ahorro Solidario Madrid")
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(url))
    sockets = origin.replace("http", "ws", 1)

    context = browser.new_context(viewport={"width": 1360, "height": 900}, locale="en-GB",
                                  service_workers="block")
    requested, blocked, problems, violations = [], [], [], []
    context.route(lambda u: not u.startswith(origin + "/"),
                  lambda route: (blocked.append(route.request.url), route.abort()))
    context.route_web_socket(lambda u: not u.startswith(sockets + "/"),
                             lambda ws: (blocked.append(ws.url), ws.close()))
    page = context.new_page()
    page.on("request", lambda r: requested.append(r.url))
    frames: list[str] = []  # what the page sent over its websockets
    page.on("websocket", lambda ws: (requested.append(ws.url),
                                     ws.on("framesent", lambda f: frames.append(str(f)))))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.expose_function("reportViolation", lambda text: violations.append(text))
    page.add_init_script("document.addEventListener('securitypolicyviolation', e => "
                         "window.reportViolation(e.violatedDirective + ' ' + e.blockedURI))")
    try:
        page.goto(f"{url}#token={admin}")
        # the schema came over introspection (development mode): the docs list its types
        page.get_by_role("button", name="Show Documentation Explorer").click()
        page.get_by_text("FederationStats", exact=True).wait_for(timeout=60_000)
        assert "token" not in page.url  # moved into the headers editor, out of the address
        page.get_by_text("Headers", exact=True).click()
        assert f"Bearer {admin}" in editor_text(page, ".graphiql-editor-tool")

        type_query(page, '{ cooperatives(country: "ES") { name kind')
        assert squeezed(editor_text(page, ".graphiql-query-editor")) == squeezed(
            '{ cooperatives(country: "ES") { name kind } }')  # brackets closed by GraphiQL
        page.keyboard.press("Control+Enter")
        for _ in range(150):
            if "Ahorro Solidario Madrid" in response_text(page, wait_ms=200):
                break
        assert '"kind": "savings_and_credit"' in response_text(page), response_text(page)

        type_query(page, 'subscription { federationActivity(country: "ES") { country endedAt')
        page.keyboard.press("Control+Enter")
        for _ in range(150):  # graphql-transport-ws: connection_init, then subscribe
            if any('"subscribe"' in frame for frame in frames):
                break
            page.wait_for_timeout(200)
        assert any('"connection_init"' in f and f"Bearer {admin}" in f for f in frames)
        # a window ends at the next whole multiple of ACTIVITY_WINDOW seconds
        for _ in range(int(ACTIVITY_WINDOW) + 15):
            if '"endedAt"' in response_text(page, wait_ms=1000):
                break
        assert '"country": "ES"' in response_text(page), response_text(page)
        assert re.search(r'"endedAt": "\d{4}-\d\d-\d\dT', response_text(page))
    finally:
        context.close()
    assert blocked == [], blocked  # nothing asked for anything outside the gateway
    assert requested and all(u.startswith((origin + "/", sockets + "/")) for u in requested)
    assert any(u.startswith(sockets + "/graphql") for u in requested)  # the subscription
    assert violations == [], violations
    assert problems == [], problems


def type_query(page, text: str) -> None:
    """Types into the query editor as a person would (GraphiQL closes brackets itself)."""
    page.locator(".graphiql-query-editor .CodeMirror").click()
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    page.keyboard.type(text, delay=5)
    page.keyboard.press("Escape")  # closes the completion list, if open
    page.wait_for_timeout(500)  # GraphiQL reads the operations a moment after the last key


def editor_text(page, selector: str) -> str:
    """The text of every editor under ``selector`` (CodeMirror's own, not what is drawn)."""
    return page.eval_on_selector_all(f"{selector} .CodeMirror",
                                     "es => es.map(e => e.CodeMirror.getValue()).join('\\n')")


def response_text(page, wait_ms: int = 0) -> str:
    if wait_ms:
        page.wait_for_timeout(wait_ms)
    return editor_text(page, ".graphiql-response")


def squeezed(text: str) -> str:
    return re.sub(r"\s+", "", text)
