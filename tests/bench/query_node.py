"""A node of its own for the ``roundtrip`` and ``query`` sections: topics, secrets, processes.

``BenchNode`` makes a fresh node id on the bench's broker, creates its topics, gives it its own
home (under the bench's work folder) and its own signing and node keys (in the children's
environment, never on disk outside that folder), and starts as separate processes the
services it is asked for and one gateway: ``tests.bench.query_server`` (the real
``gateway.app.create_app`` under uvicorn, plus the two baselines of the query section). It
waits until the gateway answers ``/health`` (its projections caught up), and stops every
process it started, by its own handle, at the end.

``token`` issues bearer tokens with ``gateway.auth.issue_token`` under the node's signing key;
``graphql`` posts one document with httpx and returns the ``data`` (errors raise).
"""

from __future__ import annotations

import base64
import contextlib
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from deploy.node import SERVICES as NODE_SERVICES
from deploy import broker
from deploy.supervisor import wait_until_healthy
from deploy.topics import ensure_node_topics
from gateway.auth import Role, issue_token

GATEWAY_READY_S = 120


@contextlib.contextmanager
def environment(**values: str) -> Iterator[None]:
    """Set environment variables for the duration (this process is shared by every section)."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


class BenchNode:
    """One node: its topics, its services (``services``) and its gateway, each a process."""

    def __init__(self, bootstrap: str, work: Path, services: tuple[str, ...] = ()):
        self.node = "b" + secrets.token_hex(4)
        self.bootstrap = bootstrap
        self.home = work / self.node
        self.services = services
        self.port = broker.free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.signing_key = secrets.token_bytes(32)
        self.node_key = secrets.token_bytes(32)
        self.env = dict(
            os.environ, COOPBRIDGE_NODE=self.node, KAFKA_BOOTSTRAP_SERVERS=bootstrap,
            COOPBRIDGE_HOME=str(self.home), COOPBRIDGE_ENV="production",
            COOPBRIDGE_SIGNING_KEY=base64.urlsafe_b64encode(self.signing_key).decode(),
            COOPBRIDGE_NODE_KEY=base64.urlsafe_b64encode(self.node_key).decode())
        self._processes: list[tuple[str, subprocess.Popen]] = []
        self._logs: list = []

    def create_topics(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        ensure_node_topics(self.node, self.bootstrap)

    def token(self, role: Role, cooperative_id: str | None = None) -> str:
        with environment(COOPBRIDGE_SIGNING_KEY=self.env["COOPBRIDGE_SIGNING_KEY"]):
            return issue_token(self.node, role, cooperative_id, subject="bench")

    def _spawn(self, name: str, command: list[str]) -> None:
        log = open(self.home / f"{name}.log", "wb")
        self._logs.append(log)
        self._processes.append((name, subprocess.Popen(
            command, env=self.env, stdout=log, stderr=subprocess.STDOUT)))

    def start(self) -> None:
        """Start the services, then the gateway, and wait until it is ready."""
        self.home.mkdir(parents=True, exist_ok=True)
        for service in self.services:
            self._spawn(service, [sys.executable, "-m", NODE_SERVICES[service][1]])
        self._spawn("gateway", [sys.executable, "-m", "tests.bench.query_server",
                                "--port", str(self.port)])
        started = time.monotonic()
        if not wait_until_healthy(self.port, timeout=GATEWAY_READY_S,
                                  on_wait=self._check_alive):
            raise RuntimeError(f"the gateway of {self.node} was not ready in "
                               f"{GATEWAY_READY_S} s; see {self.home / 'gateway.log'}")
        self.startup_s = time.monotonic() - started

    def _check_alive(self) -> None:
        for name, process in self._processes:
            if process.poll() is not None:
                raise RuntimeError(f"{name} of {self.node} exited with {process.returncode}; "
                                   f"see {self.home / (name + '.log')}")

    def pids(self) -> dict[str, int]:
        return {name: process.pid for name, process in self._processes}

    def stop(self) -> None:
        for _, process in reversed(self._processes):
            if process.poll() is None:
                process.terminate()
        for _, process in self._processes:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._processes.clear()
        for log in self._logs:
            log.close()
        self._logs.clear()

    def __enter__(self) -> BenchNode:
        self.create_topics()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def client(node: BenchNode, connections: int = 100) -> httpx.AsyncClient:
    """An HTTP/1.1 client with a keep-alive pool, for one node's gateway."""
    return httpx.AsyncClient(base_url=node.url, timeout=60,
                             limits=httpx.Limits(max_connections=connections,
                                                 max_keepalive_connections=connections))


async def graphql(http: httpx.AsyncClient, token: str, document: str, path: str = "/graphql",
                  **variables) -> dict:
    """POST one document; the ``data`` of an answer without errors (else RuntimeError)."""
    response = await http.post(path, json={"query": document, "variables": variables},
                               headers={"authorization": f"Bearer {token}"})
    body = response.json()
    if response.status_code != 200 or body.get("errors"):
        raise RuntimeError(f"{path} answered {response.status_code}: {body.get('errors')}")
    return body["data"]


def mutation(name: str) -> str:
    """The document of one mutation with its ``$input`` (as the end-to-end tests send it)."""
    return (f"mutation($input: {name[0].upper()}{name[1:]}Input!) {{ {name}(input: $input) "
            "{ __typename ... on CommandAccepted { visible } ... on Problem { code message } } }")


async def mutate(http: httpx.AsyncClient, token: str, name: str, input: dict) -> dict:
    """Send one mutation; RuntimeError unless it was accepted and is visible."""
    result = (await graphql(http, token, mutation(name), input=input))[name]
    if result["__typename"] != "CommandAccepted" or not result.get("visible"):
        raise RuntimeError(f"{name} was not accepted: {result}")
    return result
