"""The pure parts of the runtime: derived ids, the partition fold, sealing personal data."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from schemas import REGISTRY
from schemas import membership as m
from schemas.fields import Sealed
from schemas.runtime import CommandRejected, Error
from services.membership.domain import MEMBERSHIP
from services.runtime.datakeys import DataKey, SealBroken, seal, unseal
from services.runtime.ids import derived_id, new_id
from services.runtime.log import PartitionLog

T = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)
ROSA = "0192d3c4-0000-7000-8000-00000000a05a"
COMMAND = "0192d3c4-0000-7000-8000-000000000c01"


def test_derived_ids_are_deterministic_uuid7s_that_keep_time_order():
    first = derived_id(COMMAND, 0, T)
    assert first == derived_id(COMMAND, 0, T)
    assert first != derived_id(COMMAND, 1, T) != derived_id("another", 0, T)
    parsed = uuid.UUID(first)
    assert parsed.version == 7 and parsed.variant == uuid.RFC_4122
    assert int(first.replace("-", "")[:12], 16) == int(T.timestamp() * 1000)
    assert derived_id(COMMAND, 0, T) < derived_id(COMMAND, 0, T + dt.timedelta(milliseconds=1))


def test_new_ids_are_uuid7():
    assert uuid.UUID(new_id()).version == 7


def record(payload, sequence, command_id, subject=ROSA, previous=None):
    raw = REGISTRY.encode(payload, id=event_id(command_id), source="/coopbridge/es/x",
                          subject=subject, time=T, sequence=sequence, previousid=previous,
                          causationid=command_id)
    return REGISTRY.decode(raw)


def event_id(command_id: str) -> str:
    return derived_id(command_id, 0, T)


SEAL = Sealed(kid="k", iv=bytes(12), ct=bytes(32))


def test_the_fold_applies_only_the_next_sequence_and_remembers_each_commands_events():
    log = PartitionLog(MEMBERSHIP)
    assert log.apply(record(m.MemberRegistered(member_id=ROSA, personal=SEAL), 1, "c1"))
    assert not log.apply(record(m.MemberErased(member_id=ROSA), 1, "c2"))  # duplicate sequence
    assert not log.apply(record(m.MemberErased(member_id=ROSA), 3, "c3",
                                previous=event_id("c1")))  # a gap
    assert log.skipped == 2
    stream = log.streams[("member", ROSA)]
    assert stream.version == 1 and stream.state.registered and not stream.state.erased
    assert [e.sequence for e in log.outcomes["c1"].events] == [1]
    assert "c2" not in log.outcomes and "c3" not in log.outcomes


def test_a_stale_writers_event_and_everything_decided_on_top_of_it_are_ignored():
    """A zombie (A) and the new owner (B) both write sequence 2 after e1; B then writes
    sequence 3 on top of its own. The log keeps A's first: B's two events are off the chain."""
    log = PartitionLog(MEMBERSHIP)
    on_top = m.ConsentRevoked(member_id=ROSA, consent_id=ROSA)
    assert log.apply(record(m.MemberRegistered(member_id=ROSA, personal=SEAL), 1, "c1"))
    assert log.apply(record(m.MemberDetailsCorrected(member_id=ROSA, personal=SEAL), 2, "a2",
                            previous=event_id("c1")))
    assert not log.apply(record(m.MemberErased(member_id=ROSA), 2, "b2",
                                previous=event_id("c1")))
    assert not log.apply(record(on_top, 3, "b3", previous=event_id("b2")))
    stream = log.streams[("member", ROSA)]
    assert stream.version == 2 and not stream.state.erased
    assert "b2" not in log.outcomes and "b3" not in log.outcomes
    assert log.apply(record(m.MemberErased(member_id=ROSA), 3, "c3", previous=event_id("a2")))


def test_a_command_has_the_first_outcome_the_log_gives_it():
    log = PartitionLog(MEMBERSHIP)
    rejection = CommandRejected(command_id="c1", command_type="coop.membership.RegisterMember.v1",
                                aggregate_id=ROSA, error=Error(code="Xx", message="?"))
    assert log.apply(record(rejection, None, "c1"))
    assert not log.apply(record(m.MemberRegistered(member_id=ROSA, personal=SEAL), 1, "c1"))
    assert not log.outcomes["c1"].accepted and log.streams == {}
    assert log.apply(record(m.MemberRegistered(member_id=ROSA, personal=SEAL), 1, "c2"))
    late_rejection = CommandRejected(command_id="c2", command_type="x", aggregate_id=ROSA,
                                     error=Error(code="Xx", message="?"))
    assert not log.apply(record(late_rejection, None, "c2"))
    assert log.outcomes["c2"].accepted


def test_a_rejection_in_the_log_is_the_commands_outcome_and_changes_no_state():
    log = PartitionLog(MEMBERSHIP)
    rejection = CommandRejected(command_id="c9", command_type="coop.membership.EraseMember.v1",
                                aggregate_id=ROSA, error=Error(code="UnknownMember", message="?"))
    assert log.apply(record(rejection, None, "c9"))
    assert log.outcomes["c9"].error.code == "UnknownMember" and not log.outcomes["c9"].accepted
    assert log.streams == {}


KEY = DataKey(ROSA, "kid-1", bytes(range(32)))


def test_a_seal_opens_with_its_members_key_only():
    sealed = seal(KEY, b'{"given_names": "Rosa"}')
    assert b"Rosa" not in sealed.ct
    assert unseal(KEY, sealed) == b'{"given_names": "Rosa"}'
    with pytest.raises(SealBroken):
        unseal(DataKey("0192d3c4-0000-7000-8000-0000000000ff", "kid-1", KEY.key), sealed)
    with pytest.raises(SealBroken):
        unseal(DataKey(ROSA, "kid-1", bytes(32)), sealed)


def test_a_tampered_seal_does_not_open():
    sealed = seal(KEY, b"Rosa")
    flipped = bytes([sealed.ct[0] ^ 1]) + sealed.ct[1:]
    with pytest.raises(SealBroken):
        unseal(KEY, Sealed(kid=sealed.kid, iv=sealed.iv, ct=flipped))
