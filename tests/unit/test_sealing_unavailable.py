"""A member's details the gateway cannot seal now (her data key not written in time, the
key topic not followed, a producer failed) are a typed ``Unavailable``, nothing sent; never a
masked error, and never a member registered without her details."""

from __future__ import annotations

import pytest
from aiokafka.errors import OutOfOrderSequenceNumber

from services.runtime.datakeys import KeysUnavailable
from services.runtime.ids import new_id
from tests.unit.test_gateway_schema import MADRID_STAFF, ROSA_DETAILS, node  # noqa: F401


@pytest.mark.parametrize("failure", [TimeoutError, OutOfOrderSequenceNumber, KeysUnavailable])
async def test_details_that_cannot_be_sealed_now_are_unavailable_and_nothing_is_sent(
        node, monkeypatch, failure):  # noqa: F811 (node: the fixture)
    async def seal(member_id, plaintext):
        raise failure()

    monkeypatch.setattr(node.keys, "seal", seal)
    rosa = new_id()
    answer = await node.mutate("registerMember", {"memberId": rosa, "personal": ROSA_DETAILS},
                               MADRID_STAFF)
    assert answer["__typename"] == "Unavailable", answer
    assert "same idempotency key" in answer["message"]
    assert node.views.get("members", rosa) is None  # nothing was sent
