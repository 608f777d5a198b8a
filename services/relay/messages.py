"""Signed messages between nodes: a CloudEvent inside a compact JWS, sealed and opened here.

A message is the CloudEvent of a ``schemas.federation`` contract, carried as the ``event``
claim of a JWS signed with the sending node's Ed25519 key (EdDSA)::

    header  {"alg": "EdDSA", "typ": "coop-message+jwt", "kid": <RFC 7638 thumbprint>}
    payload {"iss": "urn:coopbridge:node:<from>", "aud": "urn:coopbridge:node:<to>",
             "iat": <the event's time>, "jti": <the event's id>, "event": {CloudEvent}}

Any JOSE library verifies it with the sender's JWKS. ``open_message`` checks, in this order
and before anything is decoded or acted on: that it is such a JWS; that the issuer is a
trusted peer; the signature, against that peer's keys only; that it is addressed to us; then
that the event is a federation contract and agrees with the claims. Every failure is one
``MessageRefused`` with a stable ``reason`` (the dead-letter code) and a detail that never
repeats a value.

Fields of the contracts that name nodes mean the same in both messages: ``from_node`` is the
node that signed it (the ``iss``) and ``to`` the node it is for (the ``aud``). So the answer
to a transfer has ``from_node`` = the home node and ``to`` = the node that sent the money;
``from_account_id`` stays the account the money left.

``iat`` is the event's time, not the moment of signing, and EdDSA is deterministic: signing
the same event again gives the same bytes. Nothing expires and ``jti`` is not remembered:
a replayed message is harmless because every step it causes has a fixed command id.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

import jwt
import msgspec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt.exceptions import (
    InvalidIssuedAtError,
    InvalidIssuerError,
    InvalidJTIError,
    InvalidSubjectError,
)

from schemas import REGISTRY, ContractError, Message
from schemas.envelope import source_for
from schemas.federation import SERVICE, subject_of
from schemas.registry import MAX_MESSAGE_BYTES, Contract
from services.config import Peer
from services.runtime.ids import new_id
from services.runtime.keys import kid_of, public_keys
from services.runtime.reading import Refused

TYPE = "coop-message+jwt"
ALGORITHM = "EdDSA"
NODE_URN = "urn:coopbridge:node:"


class Refusal(StrEnum):
    """Why a message was refused (``coop.dlq.reason`` of its dead letter)."""

    NOT_A_JWS = "not_a_jws"
    UNKNOWN_SENDER = "unknown_sender"
    BAD_SIGNATURE = "bad_signature"
    WRONG_AUDIENCE = "wrong_audience"
    UNDECODABLE_EVENT = "undecodable_event"
    INCONSISTENT = "inconsistent"


class MessageRefused(Refused):
    """A message that is not opened: ``reason`` is a ``Refusal``, ``detail`` says what."""


def node_urn(node: str) -> str:
    """How a node is named in ``iss`` and ``aud``."""
    return NODE_URN + node


def sign_message(payload: Contract, *, node: str, to: str, key: Ed25519PrivateKey,
                 message_id: str | None = None, time: dt.datetime | None = None,
                 causation_id: str | None = None) -> bytes:
    """The compact JWS (ASCII bytes) of ``payload`` from ``node`` to ``to``. Give the id and
    time of the event it stands for to make a re-send byte-identical."""
    time = time or dt.datetime.now(dt.UTC)
    message_id = message_id or new_id()
    transfer_id = subject_of(payload)  # every federation contract is about one thing
    event = REGISTRY.encode(payload, id=message_id, source=source_for(node, SERVICE),
                            subject=transfer_id, time=time, causationid=causation_id,
                            correlationid=transfer_id)
    claims = {"iss": node_urn(node), "aud": node_urn(to), "iat": int(time.timestamp()),
              "jti": message_id, "event": msgspec.json.decode(event)}
    token = jwt.encode(claims, key, algorithm=ALGORITHM,
                       headers={"typ": TYPE, "kid": kid_of(key)})
    return token.encode()


def addressee(raw: bytes | None) -> str | None:
    """The node a message says it is for, read WITHOUT verifying anything (``None`` when it
    cannot be read). Only for skipping other nodes' messages: a lie here can make us skip a
    message, never act on one."""
    try:
        claims = _claims(raw)
    except MessageRefused:
        return None
    audience = claims.get("aud")
    if isinstance(audience, str) and audience.startswith(NODE_URN):
        return audience[len(NODE_URN):]
    return None


def open_message(raw: bytes | None, *, node: str,
                 peers: dict[str, Peer]) -> tuple[str, Message]:
    """Verify a message for ``node`` from one of ``peers``; return the sender's node id and
    the decoded event, or raise ``MessageRefused``."""
    header = _header(raw)
    claims = _claims(raw)
    issuer = claims.get("iss")
    sender = issuer[len(NODE_URN):] if isinstance(issuer, str) and issuer.startswith(
        NODE_URN) else None
    peer = peers.get(sender) if sender else None
    if peer is None:
        raise MessageRefused(Refusal.UNKNOWN_SENDER, "the issuer is not a trusted peer")
    claims = _verified(raw, header, peer)
    if claims.get("aud") != node_urn(node):
        raise MessageRefused(Refusal.WRONG_AUDIENCE, "the message is not addressed to this node")
    message = _event(claims)
    _agrees(message, claims, sender=sender, node=node)
    return sender, message


def _header(raw: bytes | None) -> dict[str, Any]:
    token = _token(raw)
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise MessageRefused(Refusal.NOT_A_JWS, "not a compact JWS") from None
    if header.get("alg") != ALGORITHM or header.get("typ") != TYPE:
        raise MessageRefused(Refusal.NOT_A_JWS, f"the header is not typ {TYPE} with alg EdDSA")
    return header


def _claims(raw: bytes | None) -> dict[str, Any]:
    try:
        claims = jwt.decode(_token(raw), options={"verify_signature": False})
    except jwt.PyJWTError:
        raise MessageRefused(Refusal.NOT_A_JWS, "not a compact JWS with a JSON payload") from None
    return claims


def _token(raw: bytes | None) -> str:
    if not isinstance(raw, bytes | bytearray) or not raw:
        raise MessageRefused(Refusal.NOT_A_JWS, "no value")
    if len(raw) > MAX_MESSAGE_BYTES:
        raise MessageRefused(Refusal.NOT_A_JWS, f"{len(raw)} bytes > {MAX_MESSAGE_BYTES}")
    try:
        return bytes(raw).decode("ascii")
    except UnicodeDecodeError:
        raise MessageRefused(Refusal.NOT_A_JWS, "not ASCII, so not a compact JWS") from None


def _verified(raw: bytes, header: dict[str, Any], peer: Peer) -> dict[str, Any]:
    for key in public_keys(peer.jwks, header.get("kid")):
        try:
            return jwt.decode(_token(raw), key, algorithms=[ALGORITHM], options={
                "verify_aud": False, "verify_iat": False, "verify_exp": False,
                "verify_nbf": False, "require": ["iss", "aud", "iat", "jti"]})
        except jwt.MissingRequiredClaimError as missing:
            raise MessageRefused(Refusal.INCONSISTENT,
                                 f"the claim {missing.claim} is missing") from None
        except (InvalidJTIError, InvalidIssuedAtError, InvalidIssuerError,
                InvalidSubjectError) as bad:  # signed, but a registered claim is malformed
            raise MessageRefused(Refusal.INCONSISTENT, type(bad).__name__) from None
        except jwt.PyJWTError:
            continue
    raise MessageRefused(Refusal.BAD_SIGNATURE,
                         f"the signature does not match the keys of node {peer.node}")


def _event(claims: dict[str, Any]) -> Message:
    event = claims.get("event")
    if not isinstance(event, dict):
        raise MessageRefused(Refusal.UNDECODABLE_EVENT, "the event claim is not a JSON object")
    try:
        message = REGISTRY.decode(msgspec.json.encode(event), kind="event")
    except ContractError as error:
        raise MessageRefused(Refusal.UNDECODABLE_EVENT, str(error)) from None
    if message.payload.contract_service != SERVICE:
        raise MessageRefused(Refusal.UNDECODABLE_EVENT,
                             f"{message.envelope.type} is not a federation message")
    return message


def _agrees(message: Message, claims: dict[str, Any], *, sender: str, node: str) -> None:
    envelope, payload = message
    if claims.get("jti") != envelope.id:
        raise MessageRefused(Refusal.INCONSISTENT, "jti is not the event's id")
    if envelope.subject != subject_of(payload):
        raise MessageRefused(Refusal.INCONSISTENT, "the subject is not what it is about")
    if payload.from_node != sender:
        raise MessageRefused(Refusal.INCONSISTENT, "from_node is not the signing node")
    if payload.to != node:
        raise MessageRefused(Refusal.INCONSISTENT, "to is not the node the message is for")
