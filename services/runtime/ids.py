"""Identifiers: new time-ordered ids, and event ids derived from the command that caused them.

An event id is a UUIDv7 whose 48-bit timestamp is the event's time and whose 74 "random" bits
come from a hash of the command id and the event's index in the command's result. The same
command, decided at the same time, yields the same ids: a retry writes the same bytes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid

import uuid_utils


def new_id() -> str:
    """A new time-ordered UUIDv7, as a lowercase string."""
    return str(uuid_utils.uuid7())


def derived_id(source_id: str, index: int, time: dt.datetime) -> str:
    """A UUIDv7 for the ``index``-th record caused by ``source_id`` at ``time`` (deterministic)."""
    millis = int(time.timestamp() * 1000) & ((1 << 48) - 1)
    digest = int.from_bytes(hashlib.sha256(f"{source_id}/{index}".encode()).digest()[:10], "big")
    rand_a = digest >> 68  # 12 bits
    rand_b = digest & ((1 << 62) - 1)  # 62 bits
    value = (millis << 80) | (0x7 << 76) | (rand_a << 64) | (0b10 << 62) | rand_b
    return str(uuid.UUID(int=value))
