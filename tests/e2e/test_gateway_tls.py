"""The gateway over HTTPS as an operator runs it: ``coopbridge gateway --ssl-certfile …
--ssl-keyfile …``, a process of its own on the session's broker, with a certificate made here
(``cryptography``). A real TLS handshake; no plain HTTP on its port; and a peer that trusts
the certificate's authority (``COOPBRIDGE_PEER_CA``) fetches its signed status list exactly as
a verifying node does, while a peer that does not trust it gets nothing."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import ssl
import subprocess
import sys
import time

import httpx
import pytest

from deploy.topics import ensure_node_topics
from gateway.records import credentials as vc
from gateway.records import status_lists, verification
from services.runtime.ids import new_id
from tests.e2e.conftest import REPO, free_port
from tests.unit.self_signed import self_signed_certificate

pytestmark = pytest.mark.kafka


async def test_the_gateway_serves_https_and_a_peer_trusting_its_authority_fetches_its_lists(
        kafka_bootstrap, tmp_path, monkeypatch):
    node, port = "t" + os.urandom(4).hex(), free_port()
    ensure_node_topics(node, kafka_bootstrap)
    cert, key = self_signed_certificate(tmp_path)
    env = dict(os.environ, COOPBRIDGE_NODE=node, KAFKA_BOOTSTRAP_SERVERS=kafka_bootstrap,
               COOPBRIDGE_HOME=str(tmp_path / "home"),
               PYTHONPATH=str(REPO))
    for variable in ("COOPBRIDGE_PUBLIC_URL", "COOPBRIDGE_SIGNING_KEY", "COOPBRIDGE_PEER_CA",
                     "COOPBRIDGE_ENV"):  # its development signing key, in its home
        env.pop(variable, None)
    monkeypatch.delenv("COOPBRIDGE_PEER_CA", raising=False)
    base = f"https://127.0.0.1:{port}"
    with open(tmp_path / "gateway.log", "wb") as log:
        gateway = subprocess.Popen(
            [sys.executable, "-m", "deploy.cli", "gateway", "--port", str(port),
             "--ssl-certfile", str(cert), "--ssl-keyfile", str(key)],
            env=env, stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path)
    try:
        trusting = ssl.create_default_context(cafile=str(cert))
        async with httpx.AsyncClient(verify=trusting, timeout=5) as client:
            deadline = time.monotonic() + 90
            while True:  # ready once its views caught up, answered over TLS
                try:
                    if (await client.get(f"{base}/health")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert gateway.poll() is None and time.monotonic() < deadline, (
                    (tmp_path / "gateway.log").read_text()[-3000:])
                await asyncio.sleep(0.5)
            published = (await client.get(f"{base}/.well-known/jwks.json")).json()
        async with httpx.AsyncClient(timeout=5) as plain:  # the same port without TLS
            with pytest.raises(httpx.TransportError):
                await plain.get(f"http://127.0.0.1:{port}/health")

        list_url = f"{base}{status_lists.STATUS_PATH}{new_id()}"
        assert await status_lists.fetch_status_list(list_url) is None  # nobody vouches for it
        monkeypatch.setenv("COOPBRIDGE_PEER_CA", str(cert))
        token = await status_lists.fetch_status_list(list_url)
        assert token is not None
        claims = verification.verify_status_list(token, {vc.node_issuer(node): published},
                                       dt.datetime.now(dt.UTC))
        assert claims is not None, "the list does not verify with the gateway's own keys"
        assert claims["id"] == list_url  # its public address is https unless told otherwise
    finally:
        gateway.terminate()
        try:
            gateway.wait(30)
        except subprocess.TimeoutExpired:
            gateway.kill()
