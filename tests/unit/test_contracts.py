"""The event contracts: envelope, every type's round trip, each class of bad input, upcasting,
and the committed JSON Schema files (no broker)."""

from __future__ import annotations

import datetime as dt
import json

import jsonschema
import msgspec
import pytest
from msgspec import inspect as mi

from schemas import REGISTRY, ContractError, membership
from schemas.fields import Money, earliest_day, latest_day
from schemas.jsonschemas import FOLDER, render
from schemas.registry import Contract, Reason, Registry
from tests.unit.contract_samples import sample

MEMBER = "0192d3c4-0000-7000-8000-00000000a05a"
COOP = "0192d3c4-0000-7000-8000-0000000c0e5b"
COMMAND_ID = "0192d3c4-0000-7000-8000-000000000c01"
MARCH = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)
ALL_TYPES = sorted(REGISTRY.types().items())
NEWEST_TYPES = [(t, cls) for t, cls in ALL_TYPES if REGISTRY.is_newest(cls)]
OLD_TYPES = [(t, cls) for t, cls in ALL_TYPES if not REGISTRY.is_newest(cls)]


def rosa_joins() -> membership.MembershipStarted:
    return membership.MembershipStarted(
        member_id=MEMBER,
        cooperative_id=COOP,
        role=membership.MembershipRole.MEMBER,
        started_on=dt.date(2019, 5, 6),
        share_capital_required=Money(5000, "EUR"),
    )


def encoded(payload=None, **overrides) -> bytes:
    attributes = dict(
        id="0192d3c4-0000-7000-8000-0000000e0001", source="/coopbridge/es/membership",
        subject=MEMBER, time=MARCH, sequence=2, causationid=COMMAND_ID,
        correlationid=COMMAND_ID,
    )
    attributes.update(overrides)
    return REGISTRY.encode(payload or rosa_joins(), **attributes)


def written(payload) -> bytes:
    """The bytes of a message with this payload: an old version as an older producer wrote it
    (this one may write only the newest)."""
    if REGISTRY.is_newest(type(payload)):
        return encoded(payload, subject=COOP)
    return as_written(payload.wire_type, msgspec.to_builtins(payload))


def tampered(**changes) -> bytes:
    """An encoded message with envelope attributes (or ``data``) replaced or removed."""
    obj = json.loads(encoded())
    for key, value in changes.items():
        if value is None:
            obj.pop(key)
        else:
            obj[key] = value
    return json.dumps(obj).encode()


# -- the envelope ---------------------------------------------------------------------------


def test_an_event_travels_as_a_cloudevent_in_structured_json():
    obj = json.loads(encoded())
    assert obj["specversion"] == "1.0"
    assert obj["type"] == "coop.membership.MembershipStarted.v2"  # the newest version
    assert obj["source"] == "/coopbridge/es/membership"
    assert obj["subject"] == obj["partitionkey"] == MEMBER
    assert obj["time"] == "2026-03-01T09:00:00Z"
    assert obj["sequence"] == 2 and obj["causationid"] == COMMAND_ID
    assert obj["data"]["share_capital_required"] == {"amount": 5000, "currency": "EUR"}


def test_absent_extensions_are_omitted_not_null():
    obj = json.loads(encoded(membership.EraseMember(member_id=MEMBER), sequence=None,
                             causationid=None, correlationid=None))
    assert "sequence" not in obj and "causationid" not in obj and "correlationid" not in obj
    assert None not in obj.values()


def test_encoding_is_deterministic_so_a_retry_writes_the_same_bytes():
    assert encoded() == encoded()


def test_time_is_written_in_utc_whatever_zone_it_was_given_in():
    quito = dt.timezone(dt.timedelta(hours=-5))
    obj = json.loads(encoded(time=dt.datetime(2026, 3, 1, 4, 0, tzinfo=quito)))
    assert obj["time"] == "2026-03-01T09:00:00Z"


def test_a_naive_time_is_refused_when_encoding():
    with pytest.raises(ValueError, match="timezone"):
        encoded(time=dt.datetime(2026, 3, 1, 9, 0))


def test_unknown_extension_attributes_are_tolerated_on_read():
    message = REGISTRY.decode(tampered(traceparent="00-abc-def-01"))
    assert message.payload == rosa_joins()


def test_producers_write_only_registered_contracts():
    class Stray(Contract, frozen=True):
        member_id: str

    with pytest.raises(TypeError, match="not a registered contract"):
        REGISTRY.encode(Stray(member_id=MEMBER), id="x", source="s", subject="s", time=MARCH)


# -- round trips of every type --------------------------------------------------------------


@pytest.mark.parametrize("wire_type,cls", NEWEST_TYPES, ids=[t for t, _ in NEWEST_TYPES])
def test_every_contract_round_trips_field_by_field(wire_type, cls):
    payload = sample(cls)
    message = REGISTRY.decode(encoded(payload, subject=COOP))
    assert message.payload == payload
    assert message.wire_type == wire_type
    assert message.envelope.type == wire_type


@pytest.mark.parametrize("wire_type,cls", OLD_TYPES, ids=[t for t, _ in OLD_TYPES])
def test_every_old_version_is_read_as_the_newest_keeping_its_fields(wire_type, cls):
    payload = sample(cls)
    message = REGISTRY.decode(written(payload))
    assert REGISTRY.is_newest(type(message.payload))
    assert message.payload.contract_name == cls.contract_name
    assert message.envelope.type == wire_type  # the record as written
    newest = msgspec.to_builtins({name: getattr(message.payload, name)
                                  for name in cls.__struct_fields__})
    assert kept(msgspec.to_builtins(msgspec.structs.asdict(payload)), newest)


def kept(old, new) -> bool:
    """Every value of ``old`` is in ``new`` as it was, however deep (a nested struct of a
    newer version may add fields of its own: a course title's criteria)."""
    if isinstance(old, dict):
        return isinstance(new, dict) and all(k in new and kept(v, new[k]) for k, v in old.items())
    if isinstance(old, list):
        return isinstance(new, list) and len(old) == len(new) and all(
            kept(a, b) for a, b in zip(old, new, strict=True))
    return old == new


@pytest.mark.parametrize("wire_type,cls", ALL_TYPES, ids=[t for t, _ in ALL_TYPES])
def test_every_contract_is_described_by_its_committed_json_schema(wire_type, cls):
    schema = json.loads((FOLDER / f"{wire_type}.json").read_text())
    jsonschema.validate(json.loads(msgspec.json.encode(sample(cls))), schema)
    envelope = json.loads((FOLDER / "envelope.json").read_text())
    jsonschema.validate(json.loads(written(sample(cls))), envelope)


def test_the_committed_json_schema_files_match_the_types():
    wanted = render()
    committed = {p.name: p.read_text() for p in FOLDER.glob("*.json")}
    stale = sorted(set(committed) - set(wanted))
    missing = sorted(set(wanted) - set(committed))
    changed = sorted(n for n in set(wanted) & set(committed) if wanted[n] != committed[n])
    assert (stale, missing, changed) == ([], [], []), (
        "schemas/jsonschema drifted from the types: run `python -m schemas.jsonschemas`"
    )


def test_every_field_of_every_contract_says_what_it_means_in_its_json_schema():
    undescribed = sorted(
        f"{name}.{field}" for text in render().values()
        for name, definition in json.loads(text).get("$defs", {}).items()
        if name != "Envelope"
        for field, schema in definition.get("properties", {}).items()
        if not schema.get("description"))
    assert undescribed == []


def test_every_old_version_can_be_upcast_to_the_newest():
    assert REGISTRY.missing_upcasters() == []


# -- bad input: one error type, a reason code, and what is wrong ----------------------------


def reason_of(raw: bytes, **kwargs) -> ContractError:
    with pytest.raises(ContractError) as caught:
        REGISTRY.decode(raw, **kwargs)
    return caught.value


def test_bytes_that_are_not_json_are_refused():
    error = reason_of(b"\x00\xffnot json")
    assert error.reason is Reason.INVALID_JSON


def test_json_that_is_not_an_envelope_is_refused_naming_the_missing_attribute():
    error = reason_of(tampered(specversion=None))
    assert error.reason is Reason.INVALID_ENVELOPE
    assert "specversion" in error.detail


def test_a_malformed_wire_type_is_refused():
    error = reason_of(tampered(type="MembershipStarted"))
    assert error.reason is Reason.INVALID_ENVELOPE and "$.type" in error.detail


def test_an_unknown_type_is_refused_and_named():
    error = reason_of(tampered(type="coop.membership.MemberTeleported.v1"))
    assert error.reason is Reason.UNKNOWN_TYPE
    assert error.wire_type == "coop.membership.MemberTeleported.v1"


def test_a_future_version_is_refused_with_advice_to_upgrade():
    error = reason_of(tampered(type="coop.membership.MembershipStarted.v7"))
    assert error.reason is Reason.FUTURE_VERSION
    assert "upgrade" in error.detail


def test_a_missing_field_is_refused_naming_it():
    data = msgspec.to_builtins(rosa_joins())
    del data["cooperative_id"]
    error = reason_of(tampered(data=data))
    assert error.reason is Reason.INVALID_DATA
    assert "cooperative_id" in error.detail


def test_money_as_a_float_is_refused_naming_the_field():
    data = msgspec.to_builtins(rosa_joins())
    data["share_capital_required"]["amount"] = 50.00
    error = reason_of(tampered(data=data))
    assert error.reason is Reason.INVALID_DATA
    assert "$.data.share_capital_required.amount" in error.detail and "float" in error.detail


def test_a_field_with_a_wrong_code_is_refused():
    data = msgspec.to_builtins(rosa_joins())
    data["share_capital_required"]["currency"] = "euro"
    assert reason_of(tampered(data=data)).reason is Reason.INVALID_DATA


def test_an_unknown_field_is_refused_naming_it():
    data = msgspec.to_builtins(rosa_joins())
    data["immigration_status"] = "irregular"
    error = reason_of(tampered(data=data))
    assert error.reason is Reason.INVALID_DATA and "immigration_status" in error.detail


def test_error_details_never_repeat_the_values_they_refused():
    data = msgspec.to_builtins(rosa_joins())
    data["role"] = "Rosa Quispe"
    error = reason_of(tampered(data=data))
    assert error.reason is Reason.INVALID_DATA and "$.data.role" in error.detail
    assert "Rosa" not in str(error)


def test_an_event_where_a_command_is_expected_is_refused():
    error = reason_of(encoded(), kind="command")
    assert error.reason is Reason.UNEXPECTED_KIND


def test_an_oversized_message_is_refused_before_parsing():
    assert reason_of(b" " * 2_000_000).reason is Reason.TOO_LARGE


def test_a_naive_time_in_the_envelope_is_refused():
    error = reason_of(tampered(time="2026-03-01T09:00:00"))
    assert error.reason is Reason.INVALID_ENVELOPE and "timezone" in error.detail


# -- upcasting ------------------------------------------------------------------------------


def history_registry():
    """A registry where a contract has changed twice: a single language became a list,
    then share capital gained its currency."""
    registry = Registry()

    @registry.event("demo", "CooperativeOpened", 1)
    class OpenedV1(Contract, frozen=True, kw_only=True):
        name: str
        language: str
        share_capital_cents: int

    @registry.event("demo", "CooperativeOpened", 2)
    class OpenedV2(Contract, frozen=True, kw_only=True):
        name: str
        languages: list[str]
        share_capital_cents: int

    @registry.event("demo", "CooperativeOpened", 3)
    class OpenedV3(Contract, frozen=True, kw_only=True):
        name: str
        languages: list[str]
        share_capital: Money

    @registry.upcaster(OpenedV1, OpenedV2)
    def v1_to_v2(old: OpenedV1) -> OpenedV2:
        return OpenedV2(name=old.name, languages=[old.language],
                        share_capital_cents=old.share_capital_cents)

    @registry.upcaster(OpenedV2, OpenedV3)
    def v2_to_v3(old: OpenedV2) -> OpenedV3:
        return OpenedV3(name=old.name, languages=old.languages,
                        share_capital=Money(old.share_capital_cents, "EUR"))

    return registry, OpenedV1, OpenedV3


def as_written(wire_type: str, data: dict) -> bytes:
    return json.dumps({
        "specversion": "1.0", "id": "e1", "source": "/coopbridge/es/demo", "type": wire_type,
        "subject": COOP, "time": "2021-01-01T00:00:00Z", "partitionkey": COOP, "data": data,
    }).encode()


def test_an_old_version_is_read_as_the_newest_through_every_upcaster():
    registry, _, newest = history_registry()
    raw = as_written("coop.demo.CooperativeOpened.v1",
                     {"name": "Ahorro Andino", "language": "es", "share_capital_cents": 5000})
    message = registry.decode(raw)
    assert message.payload == newest(name="Ahorro Andino", languages=["es"],
                                     share_capital=Money(5000, "EUR"))
    assert message.envelope.type == "coop.demo.CooperativeOpened.v1"  # the record is unchanged
    assert message.wire_type == "coop.demo.CooperativeOpened.v3"


def test_producers_may_not_write_an_old_version():
    registry, oldest, _ = history_registry()
    with pytest.raises(TypeError, match="newest"):
        registry.encode(oldest(name="x", language="es", share_capital_cents=1),
                        id="x", source="s", subject="s", time=MARCH)


def test_a_version_without_an_upcaster_is_reported():
    registry = Registry()

    @registry.event("demo", "Thing", 1)
    class ThingV1(Contract, frozen=True):
        a: int

    @registry.event("demo", "Thing", 2)
    class ThingV2(Contract, frozen=True):
        a: int

    assert registry.missing_upcasters() == ["coop.demo.Thing.v1"]
    with pytest.raises(ContractError) as caught:
        registry.decode(as_written("coop.demo.Thing.v1", {"a": 1}))
    assert caught.value.reason is Reason.UNKNOWN_TYPE


def test_an_upcaster_must_go_exactly_one_version_up():
    registry, oldest, newest = history_registry()
    with pytest.raises(ValueError, match="one version up"):
        registry.upcaster(oldest, newest)


def test_a_field_may_not_shadow_what_the_registry_sets_on_the_class():
    registry = Registry()
    with pytest.raises(ValueError, match="reserved"):
        @registry.event("demo", "Odd", 1)
        class Odd(Contract, frozen=True):
            contract_kind: str


def test_fields_named_like_common_words_keep_their_values():
    payload = sample(membership.RegisterCooperative)
    decoded = REGISTRY.decode(encoded(payload, subject=COOP)).payload
    assert decoded.kind is membership.CooperativeKind.SAVINGS_AND_CREDIT
    assert decoded.name == payload.name


def test_a_wire_type_cannot_be_registered_twice():
    registry, _, _ = history_registry()
    with pytest.raises(ValueError, match="twice"):
        @registry.event("demo", "CooperativeOpened", 1)
        class Again(Contract, frozen=True):
            a: int


def test_a_missing_value_is_refused_like_bad_bytes():
    assert reason_of(None).reason is Reason.INVALID_JSON


# -- days on which something happened ---------------------------------------------------------

#: The only days a command may date ahead of today: they name a plan, not a fact.
PLANNED_DAYS = {("OfferCourse", "starts_on"), ("OfferCourse", "ends_on"),
                ("OfferCourseV1", "starts_on"), ("OfferCourseV1", "ends_on"),
                ("DisburseLoan", "first_due_on"),
                # an assembly's meeting and record date lie ahead when it is convened
                ("ConveneAssembly", "meeting_on"), ("ConveneAssembly", "record_date"),
                # an imported record's assembly whose roll was frozen before its meeting
                ("ImportRecord", "history.assemblies[].meeting_on"),
                ("ImportRecordV3", "history.assemblies[].meeting_on"),
                # a policy may start on a day ahead (issue 25)
                ("IssuePolicy", "starts_on"), ("ApplyForPolicy", "starts_on"),
                # ... and the policy its insurer issued, as the relay brings it back
                ("RecordPolicyAnswer", "terms.starts_on"), ("RecordPolicyAnswer", "terms.ends_on")}


def _dates(info, path=""):
    """(path, is a PastDay) of every date anywhere in a type."""
    match info:
        case mi.Metadata():
            if isinstance(info.type, mi.DateType):
                yield path, bool((info.extra or {}).get("happened"))
            else:
                yield from _dates(info.type, path)
        case mi.DateType():
            yield path, False
        case mi.StructType():
            for f in info.fields:
                yield from _dates(f.type, f"{path}.{f.name}" if path else f.name)
        case mi.ListType():
            yield from _dates(info.item_type, f"{path}[]")
        case mi.UnionType():
            for option in info.types:
                yield from _dates(option, path)


def test_every_day_a_command_carries_has_come_unless_it_names_a_plan():
    """A new contract cannot forget it: each date in a command (and in the sealed personal
    details) is a ``PastDay``, which the runtime refuses when it lies ahead, or a declared
    plan."""
    commands = [cls for cls in REGISTRY.types().values() if cls.contract_kind == "command"]
    found = {(cls.__name__, path): past for cls in [*commands, membership.PersonalDetails]
             for path, past in _dates(mi.type_info(cls))}
    assert set(PLANNED_DAYS) <= set(found)
    assert {key for key, past in found.items() if not past} == PLANNED_DAYS
    assert ("PersonalDetails", "date_of_birth") in found
    assert ("ImportRecord", "history.memberships[].ended_on") in found


def test_a_plans_day_is_ahead_until_it_began_in_the_latest_time_zone():
    assert earliest_day(dt.datetime(2026, 12, 6, 11, 59, tzinfo=dt.UTC)) == dt.date(2026, 12, 5)
    assert earliest_day(dt.datetime(2026, 12, 6, 12, 0, tzinfo=dt.UTC)) == dt.date(2026, 12, 6)


def test_a_day_has_come_once_it_began_in_the_earliest_time_zone():
    assert latest_day(dt.datetime(2026, 12, 6, 9, 59, tzinfo=dt.UTC)) == dt.date(2026, 12, 6)
    assert latest_day(dt.datetime(2026, 12, 6, 10, 0, tzinfo=dt.UTC)) == dt.date(2026, 12, 7)
    manila = dt.timezone(dt.timedelta(hours=8))  # any zone: the same instant, the same answer
    assert latest_day(dt.datetime(2026, 12, 7, 1, 0, tzinfo=manila)) == dt.date(2026, 12, 7)


# -- the field that keys a command's aggregate ----------------------------------------------


def test_every_command_declares_the_field_that_holds_its_aggregates_id():
    commands = [cls for cls in REGISTRY.types().values() if cls.contract_kind == "command"]
    assert commands and all(cls.contract_key in cls.__struct_fields__ for cls in commands)
    assert {cls.contract_key for cls in REGISTRY.types().values()
            if cls.contract_kind != "command"} == {None}
    assert REGISTRY.key_of(sample(membership.AssignMemberToGroup)) == \
        sample(membership.AssignMemberToGroup).cooperative_id  # her id is not its key


def test_a_command_key_must_be_one_of_its_fields_and_an_event_has_none():
    registry = Registry()
    with pytest.raises(ValueError, match="none of its fields"):
        @registry.command("demo", "OpenThing", key="thing_id")
        class OpenThing(Contract, frozen=True):
            other_id: str
    with pytest.raises(TypeError, match="no key"):
        REGISTRY.key_of(rosa_joins())
