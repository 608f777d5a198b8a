"""Revocation status lists: this node's, signed and served (``/credentials/status/{list}``,
``gateway/app.py``), and a peer's, fetched from the peer's gateway as the trust list names
it and checked with the peer's keys; ``verify`` runs every check of a credential with its
issuer's list. Reads the ``statuslists`` documents; fetches over HTTPS.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import logging
import re
import ssl

import httpx

from gateway.context import GatewayContext
from gateway.records import credentials as vc
from gateway.records import verification
from gateway.records.signing import sign, trusted
from services import config

log = logging.getLogger(__name__)

#: Status lists are short-lived copies: a verifier refetches after this.
STATUS_LIST_TTL = dt.timedelta(minutes=10)
#: How long a verifier keeps a peer's status list before fetching it again.
STATUS_CACHE = dt.timedelta(minutes=1)
#: How far apart two nodes' clocks may be for a fresh status list to be valid at once.
CLOCK_SKEW = dt.timedelta(minutes=5)
STATUS_PATH = "/credentials/status/"


def status_list_url(node_url: str, list_id: str) -> str:
    return f"{node_url}{STATUS_PATH}{list_id}"


def signed_status_list(node: str, list_id: str, views, now: dt.datetime) -> str | None:
    listed = views.get("statuslists", list_id)
    revoked = listed.revoked if listed is not None else []
    claims = vc.status_list_credential(  # valid from a little earlier: clocks differ
        node=node, list_url=status_list_url(config.public_url(), list_id),
        revoked_indices=revoked, valid_from=now - CLOCK_SKEW, valid_until=now + STATUS_LIST_TTL)
    return sign(node, claims)


async def verify(context: GatewayContext, token: str) -> verification.Verification:
    """Every check, with the issuer's status list fetched from where the trust list says,
    and only for a credential whose signature a trusted issuer's key verifies: an unsigned
    one never makes this gateway fetch anything."""
    trust = trusted(context.node)
    first = verification.verify_credential(token, trust, context.now)
    if first.credential is None or first.checks.get("signature") is not None:
        return first
    claims = first.credential
    issuer = vc.issuer_of(claims) or ""
    entries = claims.get("credentialStatus")
    entries = entries if isinstance(entries, list) else [entries] if entries else []
    lists: dict[str, dict | None] = {}
    for entry in entries[:2]:
        url = entry.get("statusListCredential") if isinstance(entry, dict) else None
        if isinstance(url, str) and url not in lists:
            lists[url] = await _status_list(context, issuer, url, trust)
    return verification.verify_credential(token, trust, context.now, status=lists.get)


#: Status lists already fetched and verified: url -> (claims, until when they may be used).
_LISTS: dict[str, tuple[dict, dt.datetime]] = {}
_LIST_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


async def _status_list(context: GatewayContext, issuer: str, url: str,
                       trust: dict) -> dict | None:
    """A status list's verified claims. Only ``<issuer's gateway>/credentials/status/<uuid>``
    is ever fetched, the gateway being the one the trust list names for the issuer: a
    credential cannot make this gateway fetch anything else."""
    node = issuer.removeprefix("urn:coopbridge:node:")
    own = issuer == vc.node_issuer(context.node)
    peer = None if own else config.peers(context.node).get(node)
    base = config.public_url() if own else (peer.gateway_url if peer else None)
    if base is None or not url.startswith(base + STATUS_PATH):
        return None
    list_id = url[len(base + STATUS_PATH):]
    if not _LIST_ID.match(list_id):
        return None
    if own:
        return verification.verify_status_list(signed_status_list(context.node, list_id, context.views,
                                                        context.now), trust, context.now)
    cached = _LISTS.get(url)
    if cached is not None and cached[1] > context.now:
        return cached[0]
    token = await fetch_status_list(url)
    if token is None:
        log.warning("status list of node %s unreachable", node)
        return None
    claims = verification.verify_status_list(token, trust, context.now)
    if claims is not None:
        until = vc.date_of(claims.get("validUntil")) or context.now
        _LISTS[url] = (claims, min(until, context.now + STATUS_CACHE))
        if len(_LISTS) > 10_000:
            _LISTS.pop(next(iter(_LISTS)))
    return claims


#: The most a status list may weigh: ours is about 1.5 KB signed (131,072 bits, gzipped), and
#: about 30 KB with half its bits set at random (the most gzip can be left with); reading
#: stops here, whatever the peer sends or declares.
MAX_STATUS_LIST_BYTES = 64 * 1024
#: One deadline for the whole fetch: connecting, TLS, the headers and the body together. A
#: verification waits no longer for a slow or trickling peer (its revocation is then not
#: checked, and the record not valid).
STATUS_FETCH_S = 5.0


@functools.cache
def _peer_tls(ca_file: str | None) -> ssl.SSLContext:
    """Whom a peer's gateway may be: whom httpx trusts by default (the public certificate
    authorities), and the federation's own authority if ``COOPBRIDGE_PEER_CA`` names one."""
    context = httpx.create_ssl_context()
    if ca_file:
        context.load_verify_locations(cafile=ca_file)
    return context


def _refused(response: httpx.Response) -> str | None:
    """Why a status list's headers already rule it out, or None."""
    if response.status_code != 200:
        return f"status {response.status_code}"
    if response.headers.get("content-encoding", "identity") != "identity":
        return "compressed"  # the cap counts what is kept, not what it would expand to
    declared = response.headers.get("content-length", "0")
    if not declared.isdigit() or int(declared) > MAX_STATUS_LIST_BYTES:
        return "too large"
    return None


async def fetch_status_list(url: str) -> str | None:
    """GET a peer's status list (a vc+jwt), or None: unreachable, not 200, compressed, over
    ``MAX_STATUS_LIST_BYTES`` (stopped reading there, the rest never read), or not all there
    within ``STATUS_FETCH_S``."""
    ca_file = config.peer_ca()
    try:
        async with asyncio.timeout(STATUS_FETCH_S), httpx.AsyncClient(
                timeout=STATUS_FETCH_S, follow_redirects=False,
                verify=_peer_tls(str(ca_file) if ca_file else None),
                headers={"accept-encoding": "identity"}) as client, client.stream(
                "GET", url) as response:
            refused = _refused(response)
            body = bytearray()
            if refused is None:
                async for chunk in response.aiter_raw():
                    body += chunk
                    if len(body) > MAX_STATUS_LIST_BYTES:
                        refused = "too large"
                        break
    except (httpx.HTTPError, httpx.InvalidURL, OSError, TimeoutError) as exc:
        refused = type(exc).__name__
    if refused is not None:
        log.warning("status list %s not fetched: %s", url, refused)
        return None
    return body.decode("utf-8", errors="replace").strip()
