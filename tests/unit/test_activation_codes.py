"""Activation codes (``gateway.member_access.codes``): fresh, read back as people copy them,
and known to the log only by a digest under the node's key."""

from __future__ import annotations

import re

from gateway.member_access.codes import ALPHABET, digest, new_code, normalized
from schemas.membership.records import Digest  # noqa: F401 (the pattern it must match)

KEY, OTHER_KEY = bytes(32), bytes([1]) * 32


def test_a_code_is_three_groups_of_four_from_crockfords_alphabet_and_never_the_same():
    codes = {new_code() for _ in range(1000)}
    assert len(codes) == 1000
    assert all(re.fullmatch(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", c) for c in codes)
    assert set("".join(codes).replace("-", "")) <= set(ALPHABET)


def test_a_code_is_read_back_as_people_copy_it():
    code = "7KQ2-M9XD-40TB"
    for typed in ("7kq2m9xd40tb", " 7KQ2 M9XD 4OTB ", "7KQ2-M9XD-40TB"):
        assert normalized(typed) == "7KQ2M9XD40TB"
        assert digest(typed, KEY) == digest(code, KEY)
    assert normalized("1LI1-0000-0000") == "111100000000"


def test_what_cannot_be_a_code_has_no_digest():
    for typed in ("", "7KQ2-M9XD", "7KQ2-M9XD-40TB-AAAA", "7KQ2-M9XD-40T!", "U" * 12,
                  "x" * 1000, None):
        assert digest(typed, KEY) is None


def test_the_digest_is_keyed_by_the_node_and_fits_the_contract():
    code = new_code()
    mine = digest(code, KEY)
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", mine)
    assert digest(code, OTHER_KEY) != mine
    assert digest(new_code(), KEY) != mine
