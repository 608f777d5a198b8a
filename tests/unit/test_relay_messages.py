"""Messages between nodes: a signed transfer opens at the node it is for, from the peer that
signed it, and every forgery is refused with its reason before anything is decoded."""

from __future__ import annotations

import base64
import datetime as dt
import json

import jwt
import msgspec
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from joserfc import jws
from joserfc.jwk import OKPKey

from schemas import REGISTRY
from schemas.federation import SavingsTransferAnswered, SavingsTransferSent
from schemas.fields import Money
from schemas.savings import FundsDeposited
from services.config import Peer
from services.relay.messages import (
    MessageRefused,
    Refusal,
    addressee,
    node_urn,
    open_message,
    sign_message,
)
from services.runtime.keys import jwks, kid_of

HOST = Ed25519PrivateKey.generate()  # node "es", where Rosa saved
HOME = Ed25519PrivateKey.generate()  # node "ec", where she goes back
STRANGER = Ed25519PrivateKey.generate()
AT_HOME = {"es": Peer("es", "http://127.0.0.1:8000", jwks(HOST.public_key()))}
AT_HOST = {"ec": Peer("ec", "http://127.0.0.1:8001", jwks(HOME.public_key()))}
TIME = dt.datetime(2031, 6, 1, 9, 30, tzinfo=dt.UTC)
TRANSFER = "0192d3c4-0000-7000-8000-0000000000a1"
ROSA = "0192d3c4-0000-7000-8000-0000000000b1"
ROSAS_ACCOUNT = "0192d3c4-0000-7000-8000-0000000000c1"
HOME_ACCOUNT = "0192d3c4-0000-7000-8000-0000000000c2"
MESSAGE_ID = "0192d3c4-0000-7000-8000-0000000000d1"

SENT = SavingsTransferSent(transfer_id=TRANSFER, member_id=ROSA, from_node="es",
                           from_account_id=ROSAS_ACCOUNT, to="ec", to_account_id=HOME_ACCOUNT,
                           amount=Money(21684, "USD"))


def signed(payload=SENT, *, node="es", to="ec", key=HOST) -> bytes:
    return sign_message(payload, node=node, to=to, key=key, message_id=MESSAGE_ID, time=TIME)


def refusal(raw, *, node="ec", peers=AT_HOME) -> Refusal:
    with pytest.raises(MessageRefused) as refused:
        open_message(raw, node=node, peers=peers)
    return refused.value.reason


def test_the_home_node_opens_a_transfer_the_host_node_signed():
    sender, (envelope, payload) = open_message(signed(), node="ec", peers=AT_HOME)
    assert sender == "es" and payload == SENT
    assert (envelope.id, envelope.subject, envelope.time) == (MESSAGE_ID, TRANSFER, TIME)
    assert envelope.type == "coop.federation.SavingsTransferSent.v1"


def test_the_answer_goes_back_from_home_to_host():
    answer = SavingsTransferAnswered(transfer_id=TRANSFER, from_node="ec",
                                     from_account_id=ROSAS_ACCOUNT, to="es", accepted=False,
                                     code="UnknownAccount")
    sender, message = open_message(signed(answer, node="ec", to="es", key=HOME), node="es",
                                   peers=AT_HOST)
    assert sender == "ec" and message.payload == answer


def test_a_message_is_a_standard_jws_that_any_jose_library_verifies():
    raw = signed()
    header = jwt.get_unverified_header(raw.decode())
    assert header == {"alg": "EdDSA", "typ": "coop-message+jwt", "kid": kid_of(HOST)}
    [jwk] = jwks(HOST.public_key())["keys"]
    verified = jws.deserialize_compact(raw.decode(), OKPKey.import_key(jwk), algorithms=["EdDSA"])
    claims = json.loads(verified.payload)
    assert claims["iss"] == node_urn("es") and claims["aud"] == node_urn("ec")
    assert claims["jti"] == MESSAGE_ID and claims["iat"] == int(TIME.timestamp())
    assert claims["event"]["subject"] == TRANSFER


def test_signing_the_same_event_again_gives_the_same_bytes():
    assert signed() == signed()


def test_a_flipped_byte_breaks_the_signature():
    raw = bytearray(signed())
    payload_start = raw.index(b".") + 1
    raw[payload_start + 40] ^= 0x01  # inside the base64url payload: still parses, or not
    assert refusal(bytes(raw)) in (Refusal.BAD_SIGNATURE, Refusal.NOT_A_JWS)
    raw = bytearray(signed())
    raw[-5] = ord("A") if raw[-5] != ord("A") else ord("B")  # inside the signature
    assert refusal(bytes(raw)) is Refusal.BAD_SIGNATURE


def test_a_changed_amount_with_the_old_signature_is_refused():
    header, payload, signature = signed().split(b".")
    claims = json.loads(base64.urlsafe_b64decode(payload + b"=" * (-len(payload) % 4)))
    claims["event"]["data"]["amount"]["amount"] = 9_999_999
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=")
    assert refusal(b".".join([header, forged, signature])) is Refusal.BAD_SIGNATURE


def test_a_key_the_peer_never_published_is_refused_even_with_the_peers_name():
    assert refusal(signed(key=STRANGER)) is Refusal.BAD_SIGNATURE


def test_a_peer_cannot_sign_for_another_peer():
    both = {**AT_HOME, "pe": Peer("pe", "http://127.0.0.1:8002", jwks(STRANGER.public_key()))}
    lying = sign_message(SENT, node="es", to="ec", key=STRANGER)  # pe's key, es's name
    assert refusal(lying, peers=both) is Refusal.BAD_SIGNATURE


def test_a_message_for_another_node_is_refused_and_its_addressee_is_readable():
    raw = signed(SENT, to="pe")
    assert addressee(raw) == "pe"
    assert refusal(raw) is Refusal.WRONG_AUDIENCE


def test_an_unknown_sender_is_refused():
    assert refusal(signed(node="zz", key=STRANGER)) is Refusal.UNKNOWN_SENDER
    assert refusal(signed(), peers={}) is Refusal.UNKNOWN_SENDER


@pytest.mark.parametrize("garbage", [None, b"", b"hello", b"{\"iss\": \"x\"}", b"a.b.c",
                                     "é.é.é".encode(), b"x" * 2_000_000])
def test_garbage_is_not_a_jws(garbage):
    assert refusal(garbage) is Refusal.NOT_A_JWS
    assert addressee(garbage) is None


def test_a_token_of_another_type_is_not_a_message():
    credential = jwt.encode({"iss": node_urn("es"), "aud": node_urn("ec")}, HOST,
                            algorithm="EdDSA", headers={"typ": "vc+jwt", "kid": kid_of(HOST)})
    assert refusal(credential.encode()) is Refusal.NOT_A_JWS


def _signed_claims(claims: dict, key=HOST) -> bytes:
    return jwt.encode(claims, key, algorithm="EdDSA",
                      headers={"typ": "coop-message+jwt", "kid": kid_of(key)}).encode()


def _claims_of(raw: bytes) -> dict:
    return jwt.decode(raw.decode(), options={"verify_signature": False})


def test_a_signed_event_that_is_not_a_federation_contract_is_undecodable():
    claims = _claims_of(signed())
    claims["event"]["data"]["amount"] = 12.5  # a float is never money
    assert refusal(_signed_claims(claims)) is Refusal.UNDECODABLE_EVENT
    claims["event"] = "not an object"
    assert refusal(_signed_claims(claims)) is Refusal.UNDECODABLE_EVENT
    deposit = FundsDeposited(account_id=ROSAS_ACCOUNT, amount=Money(100, "EUR"),
                             balance=Money(100, "EUR"))
    claims["event"] = json.loads(REGISTRY.encode(
        deposit, id=MESSAGE_ID, source="/coopbridge/es/savings", subject=ROSAS_ACCOUNT,
        time=TIME))
    assert refusal(_signed_claims(claims)) is Refusal.UNDECODABLE_EVENT


def test_claims_that_disagree_with_the_event_are_refused():
    claims = _claims_of(signed())
    claims["jti"] = "0192d3c4-0000-7000-8000-0000000000ff"
    assert refusal(_signed_claims(claims)) is Refusal.INCONSISTENT
    del claims["jti"]
    assert refusal(_signed_claims(claims)) is Refusal.INCONSISTENT
    pretending = msgspec.structs.replace(SENT, from_node="pe")
    assert refusal(signed(pretending)) is Refusal.INCONSISTENT  # es signs as pe
    misrouted = msgspec.structs.replace(SENT, to="pe")
    assert refusal(signed(misrouted)) is Refusal.INCONSISTENT  # aud says ec, the event pe
