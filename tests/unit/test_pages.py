"""The gateway's pages and their files, through the real routes (no broker: the app's
lifespan is not started): content types, cache headers, the Content-Security-Policy, and no
file outside ``gateway/static``."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest

from gateway.app import create_app
from gateway.pages import STATIC, static_path

CHART = "/static/vendor/chart.js-4.6.1/chart.umd.min.js"


class Client:
    """The app in process, over ASGI (its lifespan, which needs Kafka, is not started)."""

    def __init__(self, development: bool = False):
        self.app = create_app(node="es", bootstrap="127.0.0.1:9", development=development)

    def get(self, path: str, headers: dict | None = None) -> httpx.Response:
        async def call():
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app),
                                         base_url="http://testserver") as http:
                return await http.get(path, headers=headers)
        return asyncio.run(call())


@pytest.fixture(scope="module")
def client() -> Client:
    return Client()


@pytest.mark.parametrize("path", ["/dashboard", "/record", "/me"])
def test_a_page_is_html_with_a_strict_policy_and_no_inline_script(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    policy = response.headers["content-security-policy"]
    assert "script-src 'self';" in policy and "style-src 'self';" in policy
    assert "connect-src 'self' ws://testserver;" in policy
    assert "'unsafe-inline'" not in policy and "frame-ancestors 'none'" in policy
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-cache"
    html = response.text
    # every script is a file of this origin; no inline script, handler or style attribute
    assert re.findall(r"<script(?![^>]*\bsrc=\"/static/)", html) == []
    assert not re.search(r"\son[a-z]+=", html) and " style=" not in html
    for src in re.findall(r'(?:src|href)="(/static/[^"]+)"', html):
        assert client.get(src).status_code == 200, src


def test_files_have_their_content_types_and_cache_headers(client):
    js = client.get("/static/dashboard.js")
    assert js.headers["content-type"] == "text/javascript; charset=utf-8"
    assert js.headers["cache-control"] == "public, max-age=300, must-revalidate"
    assert client.get("/static/pages.css").headers["content-type"] == "text/css; charset=utf-8"
    chart = client.get(CHART)
    assert chart.status_code == 200 and chart.content.startswith(b"/*!\n * Chart.js v4.6.1")
    assert chart.headers["cache-control"] == "public, max-age=31536000, immutable"
    again = client.get(CHART, headers={"if-none-match": chart.headers["etag"]})
    assert again.status_code == 304 and again.content == b""


@pytest.mark.parametrize("path", [
    "/static/../app.py", "/static/%2e%2e/app.py", "/static/..%2fapp.py", "/static/.hidden.js",
    "/static/vendor/../../pages.py", "/static/missing.js", "/static/pages.py",
    "/static/vendor", "/static/a\\b.js", "/static/", "/static//etc/passwd"])
def test_nothing_outside_the_static_folder_is_served(client, path):
    assert client.get(path).status_code == 404


@pytest.mark.parametrize("page", ["graphiql.html", "dashboard.html", "record.html"])
def test_a_page_is_served_at_its_own_path_only_never_as_a_static_file(client, page):
    """GraphiQL's page is development mode's only; as a file it would be served anywhere."""
    assert client.get(f"/static/{page}").status_code == 404
    assert Client(development=True).get(f"/static/{page}").status_code == 404


def test_a_symlink_out_of_the_folder_is_refused(tmp_path, monkeypatch):
    outside = tmp_path / "secret.js"
    outside.write_text("secret")
    link = STATIC / "link-for-test.js"
    link.symlink_to(outside)
    try:
        assert static_path("link-for-test.js") is None
    finally:
        link.unlink()
    assert static_path("dashboard.js") == STATIC / "dashboard.js"


def test_a_hostile_host_header_stays_out_of_the_policy(client):
    response = client.get("/dashboard", headers={"host": "evil.example; script-src *"})
    assert "evil" not in response.headers["content-security-policy"]


def contrast(colour: str, ground: str = "#ffffff") -> float:
    """WCAG 2.1's contrast ratio of two #rrggbb colours."""
    def luminance(hex_colour: str) -> float:
        channels = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
        r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b
    light, dark = sorted((luminance(colour), luminance(ground)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_chart_colours_and_form_field_borders_keep_3_to_1_on_white():
    """WCAG 1.4.11 (non-text contrast), which axe-core does not check: every series colour of
    the dashboard's charts and the border of its form fields against the white cards."""
    script = (STATIC / "dashboard.js").read_text()
    palette = re.findall(r"#[0-9A-Fa-f]{6}", re.search(r"var PALETTE = \[([^\]]*)\]", script)[1])
    assert len(palette) >= 5
    css = (STATIC / "pages.css").read_text()
    edge = re.search(r"^input, select, textarea \{[^}]*border: 1px solid ([^;]+);", css, re.M)[1]
    if edge.startswith("var("):
        edge = re.search(rf"{edge[4:-1]}: (#[0-9a-fA-F]{{6}})", css)[1]
    low = {colour: round(contrast(colour), 2) for colour in (*palette, edge)
           if contrast(colour) < 3}
    assert low == {}


def test_graphiql_is_our_page_from_our_files_in_development_only(client):
    development = Client(development=True)
    response = development.get("/graphql", headers={"accept": "text/html"})
    assert response.status_code == 200 and "GraphiQL" in response.text
    policy = response.headers["content-security-policy"]
    dashboard = client.get("/dashboard").headers["content-security-policy"]
    # the dashboard's policy plus fonts from data: URLs (GraphiQL's stylesheet embeds them)
    assert policy.replace("font-src data:; ", "") == dashboard
    html = response.text
    assert re.findall(r"<script(?![^>]*\bsrc=\"/static/)", html) == []
    assert not re.search(r"\son[a-z]+=", html) and " style=" not in html
    assert "//" not in html  # no address of another origin, not even protocol-relative
    files = re.findall(r'(?:src|href)="(/static/[^"]+)"', html)
    assert "/static/vendor/graphiql-3.8.3/graphiql.min.js" in files
    for src in files:
        assert development.get(src).status_code == 200, src
    css = development.get("/static/vendor/graphiql-3.8.3/graphiql.min.css").text
    assert "url(data:font/woff2" in css  # why the relaxation exists; drop it when this goes
    assert client.get("/graphql", headers={"accept": "text/html"}).status_code == 404


def test_her_pages_words_come_in_her_language_before_she_is_signed_in(client):
    """/i18n/{lang}.json: the words /me shows before any token, in the catalogue that serves
    the language best (auto: Accept-Language), with the direction to write them in."""
    ecuador = client.get("/i18n/es-EC.json").json()
    assert (ecuador["language"], ecuador["direction"]) == ("es", "ltr")
    assert ecuador["words"]["open"] == "Abrir mi historial"
    arabic = client.get("/i18n/auto.json", headers={"accept-language": "qu, ar;q=0.8"}).json()
    assert (arabic["language"], arabic["direction"]) == ("ar", "rtl")
    unknown = client.get("/i18n/not%20a%20tag.json").json()
    assert unknown["language"] == "en" and unknown["words"]["open"] == "Open my record"
