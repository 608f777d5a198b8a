"""Every event of a service the gateway reads changes its documents through some feature's
fold (``gateway.fold``): a new event cannot arrive in the log without a place in the
gateway."""

from __future__ import annotations

import pytest

from gateway.fold import folds_of
from schemas import REGISTRY
from schemas.topics import SERVICES

EVENTS = sorted((cls for cls in REGISTRY.types().values()
                 if cls.contract_kind == "event" and cls.contract_service in SERVICES
                 and REGISTRY.is_newest(cls)), key=lambda cls: cls.wire_type)


@pytest.mark.parametrize("event", EVENTS, ids=lambda cls: cls.wire_type)
def test_every_event_of_the_gateways_services_is_folded_by_a_feature(event):
    assert folds_of(event), f"no feature of the gateway folds {event.wire_type}"
