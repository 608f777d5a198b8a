"""How the gateway serves its pages and their files: a page's HTML at its own path (``page``;
the federation dashboard ``/dashboard`` is ``gateway.figures.dashboard``'s, the printable
member record ``/record`` ``gateway.records.printable``'s), and ``/static/{path}`` (files
under ``gateway/static`` only).

The pages are static: everything they show comes from ``/graphql`` with the caller's bearer
token, which the page reads from the URL fragment (``#token=…``, never sent to the server)
or a paste box and keeps in ``sessionStorage``. A strict Content-Security-Policy allows
scripts, styles and connections to this origin only (and its websocket, for the live
updates), no inline script, no framing. Pages are revalidated on every load, the pages' own
files after five minutes (ETag), vendored libraries (whose folder names their version) are
kept a year.

In development mode ``GET /graphql`` from a browser is GraphiQL (``graphiql_page``): React,
ReactDOM and GraphiQL vendored, under the same policy plus one relaxation, on that page
only: ``font-src data:``, because GraphiQL's stylesheet embeds its fonts as ``data:`` URLs
and Chromium fetches every one of them when the stylesheet loads, used or not (34 refusals on
each load otherwise). Its dialogs' scroll lock (a ``<style>`` element GraphiQL's dialog
library writes) stays refused: a page that fills the window has nothing to scroll.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response

STATIC = Path(__file__).resolve().parent / "static"

#: The only files served, by extension, and their content types.
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".txt": "text/plain; charset=utf-8",
    ".md": "text/plain; charset=utf-8",
}
_SEGMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_HOST = re.compile(r"^[A-Za-z0-9.-]{1,253}(:[0-9]{1,5})?$|^\[[0-9A-Fa-f:.]{2,45}\](:[0-9]{1,5})?$")

#: path -> (mtime_ns, size, etag, body): files are small and few.
_CACHE: dict[Path, tuple[int, int, str, bytes]] = {}


#: GraphiQL's one relaxation of the policy (see above): fonts from ``data:`` URLs.
GRAPHIQL_FONTS = "font-src data:; "


def security_headers(request: Request, relaxation: str = "") -> dict[str, str]:
    """What every page and file is sent with. ``connect-src`` names this origin's websocket
    explicitly (older browsers do not count ``ws:`` as ``'self'``); a Host header that is not
    a plain host name is left out rather than copied into the policy. ``relaxation`` is
    GraphiQL's (``GRAPHIQL_FONTS``), for its page only."""
    host = request.headers.get("host", "")
    sockets = ""
    if _HOST.match(host):
        scheme = "wss" if request.url.scheme == "https" else "ws"
        sockets = f" {scheme}://{host}"
    policy = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
              f"{relaxation}connect-src 'self'{sockets}; base-uri 'none'; form-action 'none'; "
              "frame-ancestors 'none'")
    return {"content-security-policy": policy, "x-content-type-options": "nosniff",
            "referrer-policy": "no-referrer", "x-frame-options": "DENY",
            "cross-origin-opener-policy": "same-origin"}


def _read(path: Path) -> tuple[str, bytes] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    cached = _CACHE.get(path)
    if cached is None or cached[:2] != (stat.st_mtime_ns, stat.st_size):
        body = path.read_bytes()
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        cached = _CACHE[path] = (stat.st_mtime_ns, stat.st_size, etag, body)
    return cached[2], cached[3]


def _file(request: Request, path: Path, cache_control: str, relaxation: str = "") -> Response:
    found = _read(path)
    if found is None:
        return Response("not found", status_code=404, media_type="text/plain")
    etag, body = found
    headers = {**security_headers(request, relaxation), "cache-control": cache_control,
               "etag": etag}
    if etag in [t.strip() for t in request.headers.get("if-none-match", "").split(",")]:
        return Response(status_code=304, headers=headers)
    return Response(body if request.method != "HEAD" else b"", headers=headers,
                    media_type=CONTENT_TYPES[path.suffix])


def static_path(relative: str) -> Path | None:
    """The file under ``STATIC`` a request names, or None: every segment is a plain name
    (no ``..``, no hidden file, no backslash or encoded separator), the extension is one
    ``CONTENT_TYPES`` lists, and the resolved path stays inside ``STATIC`` (no symlink out)."""
    segments = relative.split("/")
    if not segments or len(segments) > 4 or not all(_SEGMENT.match(s) for s in segments):
        return None
    path = STATIC.joinpath(*segments)
    if path.suffix not in CONTENT_TYPES:
        return None
    try:
        resolved = path.resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    if not resolved.is_relative_to(STATIC) or not resolved.is_file():
        return None
    return resolved


async def static_file(request: Request) -> Response:
    """A page's file (script, style, image, vendored library). The pages themselves are served
    only at their own paths, under their own rules (GraphiQL only in development mode)."""
    path = static_path(request.path_params["path"])
    if path is None or path.suffix == ".html":
        return Response("not found", status_code=404, media_type="text/plain",
                        headers=security_headers(request))
    vendored = path.relative_to(STATIC).parts[0] == "vendor"
    return _file(request, path, "public, max-age=31536000, immutable" if vendored
                 else "public, max-age=300, must-revalidate")


async def graphiql_page(request: Request) -> Response:
    """GraphiQL (``GET /graphql`` from a browser, development mode only)."""
    return _file(request, STATIC / "graphiql.html", "no-cache", GRAPHIQL_FONTS)


def page(file_name: str):
    """The endpoint of a page whose HTML is ``gateway/static/<file_name>`` (its data comes
    from ``/graphql``), revalidated on every load."""
    async def serve(request: Request) -> Response:
        return _file(request, STATIC / file_name, "no-cache")
    return serve
