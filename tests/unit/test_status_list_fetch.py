"""Fetching a peer's revocation status list: capped, under one deadline, and failing closed.

The peer is a real HTTP/1.1 server started here on a free port (``Peer``), answering as a
hostile or broken gateway would: a body far too large (declared, or not), a body trickled a
byte at a time, or its real signed status list, over plain HTTP or over TLS with a certificate
made here. Nothing of httpx is replaced: ``status_lists.fetch_status_list`` and ``verify`` run
as in the gateway."""

from __future__ import annotations

import asyncio
import datetime as dt
import gzip
import ssl
import time

import pytest

from gateway.records import credentials as vc
from gateway.records import status_lists, verification
from gateway.context import GatewayContext
from services import config
from services.runtime.ids import new_id
from services.runtime.keys import jwks, signing_key
from tests.unit.inmemory_node import LocalViews
from tests.unit.self_signed import self_signed_certificate

HUGE = 200 * 1024 * 1024  # what the review sent: the process grew by 447 MiB reading it
CHUNK = 64 * 1024


class Peer:
    """A peer's gateway: every request gets ``answer(peer, writer)``. ``sent`` counts the body
    bytes it managed to hand to its socket; ``closed`` is set once an answer has ended (done,
    or the client went away)."""

    def __init__(self, answer, tls: ssl.SSLContext | None = None):
        self.answer, self.tls = answer, tls
        self.requests: list[str] = []
        self.sent = 0
        self.closed = asyncio.Event()

    async def __aenter__(self) -> Peer:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=self.tls)
        port = self.server.sockets[0].getsockname()[1]
        self.url = f"{'https' if self.tls else 'http'}://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc) -> None:
        self.server.close()
        await self.server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            self.requests.append(head.decode())  # the request line, then its headers
            await self.answer(self, writer)
        except (ConnectionError, OSError, asyncio.IncompleteReadError):
            pass  # the client hung up: what a refused answer looks like from here
        finally:
            self.closed.set()
            writer.close()

    def status_list_url(self, list_id: str | None = None) -> str:
        return f"{self.url}{status_lists.STATUS_PATH}{list_id or new_id()}"


def huge(declared: bool):
    async def answer(peer: Peer, writer: asyncio.StreamWriter) -> None:
        length = f"content-length: {HUGE}" if declared else "connection: close"
        writer.write(f"HTTP/1.1 200 OK\r\ncontent-type: application/vc+jwt\r\n{length}\r\n\r\n"
                     .encode())
        chunk = b"e" * CHUNK
        while peer.sent < HUGE:
            writer.write(chunk)
            await writer.drain()  # waits while the client does not read
            peer.sent += len(chunk)
    return answer


async def trickle(peer: Peer, writer: asyncio.StreamWriter) -> None:
    """A byte every 0.2 s of a 1,000-byte body: each read well within any read timeout."""
    writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n")
    while peer.sent < 1000:
        writer.write(b"e")
        await writer.drain()
        peer.sent += 1
        await asyncio.sleep(0.2)


def es_gateway(monkeypatch):
    """Node es's gateway: its real signed status list (nothing revoked) for the list asked."""
    async def answer(peer: Peer, writer: asyncio.StreamWriter) -> None:
        list_id = peer.requests[-1].split()[1].rsplit("/", 1)[-1]
        with monkeypatch.context() as inside:
            inside.setenv("COOPBRIDGE_PUBLIC_URL", peer.url)
            body = status_lists.signed_status_list("es", list_id, LocalViews(),
                                                 dt.datetime.now(dt.UTC)).encode()
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/vc+jwt\r\n"
                     b"content-length: %d\r\nconnection: close\r\n\r\n" % len(body) + body)
        await writer.drain()
        peer.sent += len(body)
    return answer


@pytest.fixture
def world(tmp_path, monkeypatch):
    """Node ``ec`` verifying, node ``es`` issuing: their own dev signing keys, no cache."""
    monkeypatch.setenv("COOPBRIDGE_HOME", str(tmp_path))
    for variable in ("COOPBRIDGE_SIGNING_KEY", "COOPBRIDGE_PEERS", "COOPBRIDGE_PEER_CA",
                     "COOPBRIDGE_PUBLIC_URL"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setattr(status_lists, "_LISTS", {})
    return tmp_path


async def verify_at_ec(world, monkeypatch, peer: Peer):
    """A record es issued whose status list is at ``peer``, verified by node ec, whose trust
    list names ``peer`` as es's gateway."""
    config.write_peers(world / "ec.peers.json", [
        config.Peer("es", peer.url, jwks(signing_key("es").public_key()))])
    now = dt.datetime.now(dt.UTC)
    claims = vc.member_record_credential(
        node="es", credential_id=new_id(), subject={"id": f"urn:uuid:{new_id()}"},
        valid_from=now - dt.timedelta(minutes=1), valid_until=now + dt.timedelta(days=1),
        status_list=peer.status_list_url(), status_index=7)
    with monkeypatch.context() as inside:
        inside.setenv("COOPBRIDGE_PUBLIC_URL", peer.url)
        token = vc.sign_credential(claims, signing_key("es"))
    context = GatewayContext(node="ec", caller=None, views=LocalViews(), keys=None,
                             commands=None, now=now)
    return await asyncio.wait_for(status_lists.verify(context, token), 30)


@pytest.mark.parametrize("declared", [False, True], ids=["undeclared", "declared"])
async def test_a_huge_status_list_is_refused_without_being_read(world, declared):
    async with Peer(huge(declared)) as peer:
        assert await asyncio.wait_for(
            status_lists.fetch_status_list(peer.status_list_url()), 30) is None
        await asyncio.wait_for(peer.closed.wait(), 10)  # the client hung up on it
    # what the peer handed to its socket before the client hung up: the cap and the sockets'
    # buffers, not the 200 MiB it meant to send (the bound is the buffers', not ours)
    assert peer.sent < 16 * 1024 * 1024, f"the peer sent {peer.sent:,} bytes"


async def test_a_trickled_status_list_is_cut_at_one_deadline(world):
    async with Peer(trickle) as peer:
        started = time.monotonic()
        assert await asyncio.wait_for(
            status_lists.fetch_status_list(peer.status_list_url()), 30) is None
        took = time.monotonic() - started
        await asyncio.wait_for(peer.closed.wait(), 5)
    assert took < status_lists.STATUS_FETCH_S + 3, f"the fetch took {took:.1f} s"
    assert 0 < peer.sent < 1000  # it was reading, a byte at a time, when it was cut


async def test_a_compressed_status_list_is_refused_unopened(world):
    """A few KiB of gzip open into megabytes: it is asked for uncompressed, and refused
    otherwise, so the cap counts what would be kept."""
    bomb = gzip.compress(b"e" * (32 * 1024 * 1024))

    async def answer(peer: Peer, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-encoding: gzip\r\n"
                     b"content-length: %d\r\n\r\n" % len(bomb) + bomb)
        await writer.drain()
        peer.sent += len(bomb)

    assert len(bomb) < status_lists.MAX_STATUS_LIST_BYTES
    async with Peer(answer) as peer:
        assert await status_lists.fetch_status_list(peer.status_list_url()) is None
    [request] = peer.requests
    assert "\r\naccept-encoding: identity\r\n" in request.lower()


async def test_a_status_list_served_normally_still_verifies(world, monkeypatch):
    async with Peer(es_gateway(monkeypatch)) as peer:
        result = await verify_at_ec(world, monkeypatch, peer)
    assert result.valid, result.checks
    assert result.checks["revocation"] is None
    [request] = peer.requests
    assert request.startswith(f"GET {status_lists.STATUS_PATH}")
    assert peer.sent > 0


async def test_a_record_whose_status_list_is_too_big_is_not_valid(world, monkeypatch):
    async with Peer(huge(declared=False)) as peer:
        result = await verify_at_ec(world, monkeypatch, peer)
    assert not result.valid
    assert result.checks["revocation"] == "the status list could not be checked"
    assert {name for name, reason in result.checks.items() if reason} == {"revocation"}


async def test_a_peer_over_https_is_trusted_through_the_federations_own_authority(
        world, monkeypatch):
    cert, key = self_signed_certificate(world)
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(cert, key)

    async with Peer(es_gateway(monkeypatch), tls) as peer:
        url = peer.status_list_url()
        # a certificate nobody vouches for: refused, nothing asked
        assert await status_lists.fetch_status_list(url) is None
        assert peer.requests == []
        # the federation's own authority: a real TLS handshake, and the list, verified
        monkeypatch.setenv("COOPBRIDGE_PEER_CA", str(cert))
        fetched = await status_lists.fetch_status_list(url)
        trust = {vc.node_issuer("es"): jwks(signing_key("es").public_key())}
        assert fetched and verification.verify_status_list(fetched, trust, dt.datetime.now(dt.UTC))
        assert len(peer.requests) == 1
        # plain HTTP to it gets no list
        assert await status_lists.fetch_status_list(url.replace("https:", "http:")) is None
        result = await verify_at_ec(world, monkeypatch, peer)
    assert result.valid, result.checks

