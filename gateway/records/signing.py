"""This node's keys as its records use them: signing a credential with the node key, and the
trust list of issuers (this node and its peers) a credential is checked against. Everything
this node signs names its key by the key's URL at this gateway (``/keys/…``, served by
``gateway/app.py``).
"""

from __future__ import annotations

from gateway.records import credentials as vc
from services import config
from services.runtime.keys import jwks, key_url, signing_key


def sign(node: str, claims: dict) -> str:
    """A credential signed with the node's key, its ``kid`` the key's URL at this gateway."""
    key = signing_key(node)
    return vc.sign_credential(claims, key, kid=key_url(config.public_url(), key.public_key()))


def trusted(node: str) -> dict[str, dict]:
    """Issuer id -> JWKS: this node and its peers."""
    listed = {vc.node_issuer(p.node): p.jwks for p in config.peers(node).values()}
    listed[vc.node_issuer(node)] = jwks(signing_key(node).public_key())
    return listed
