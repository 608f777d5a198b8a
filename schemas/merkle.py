"""The Merkle tree of an assembly's roll (issue 24): RFC 6962's Merkle Tree Hash (section
2.1), so anyone holding the membership events can recompute a frozen roll's root with any
RFC 6962 implementation (Certificate Transparency's), and a member can check the proof that
she is on it without trusting us.

A leaf is the member id as UTF-8 (the roll is sorted, each id once); a leaf's hash is
``SHA-256(0x00 || leaf)``, an inner node's ``SHA-256(0x01 || left || right)``, and a tree of
``n`` leaves splits at the largest power of two below ``n``. The empty roll's root is
``SHA-256("")``. Hashes are written in lowercase hex. Pure: no I/O.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence


def leaf_hash(leaf: str) -> bytes:
    return hashlib.sha256(b"\x00" + leaf.encode()).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than ``n`` (n > 1)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def _root(hashes: Sequence[bytes]) -> bytes:
    n = len(hashes)
    if n == 1:
        return hashes[0]
    k = _split(n)
    return node_hash(_root(hashes[:k]), _root(hashes[k:]))


def root(leaves: Sequence[str]) -> str:
    """The Merkle Tree Hash of ``leaves`` (in the order given), in hex."""
    if not leaves:
        return hashlib.sha256(b"").hexdigest()
    return _root([leaf_hash(leaf) for leaf in leaves]).hex()


def _path(index: int, hashes: Sequence[bytes]) -> list[bytes]:
    n = len(hashes)
    if n == 1:
        return []
    k = _split(n)
    if index < k:
        return [*_path(index, hashes[:k]), _root(hashes[k:])]
    return [*_path(index - k, hashes[k:]), _root(hashes[:k])]


def inclusion_proof(leaves: Sequence[str], index: int) -> list[str]:
    """RFC 6962's audit path of the leaf at ``index`` (section 2.1.1), in hex, leaf first."""
    if not 0 <= index < len(leaves):
        raise IndexError("no such leaf")
    return [h.hex() for h in _path(index, [leaf_hash(leaf) for leaf in leaves])]


def verify_inclusion(leaf: str, index: int, size: int, proof: Sequence[str],
                     expected_root: str) -> bool:
    """Whether ``proof`` shows ``leaf`` at ``index`` of a tree of ``size`` leaves with root
    ``expected_root`` (RFC 9162, section 2.1.3.2)."""
    if not 0 <= index < size:
        return False
    fn, sn = index, size - 1
    r = leaf_hash(leaf)
    for hex_hash in proof:
        p = bytes.fromhex(hex_hash)
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            r = node_hash(p, r)
            if fn % 2 == 0:
                while fn % 2 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r.hex() == expected_root
