"""Wire type -> typed definition, upcasting, and the single path for decoding and encoding.

A contract is a frozen ``msgspec.Struct`` registered under ``coop.<service>.<Name>.v<N>`` with
``@REGISTRY.event(...)`` or ``@REGISTRY.command(..., key="account_id")``: a command names the
field that holds the id of the aggregate it acts on (``key_of``), which is its Kafka key,
its subject and so its partition, for every sender and the processor alike. A published
version never changes meaning: a new version is a new struct plus an
``@REGISTRY.upcaster(Old, New)`` function, and ``decode`` always hands out the newest version.
Producers may only ``encode`` the newest.

Everything that can be wrong with incoming bytes raises one error, ``ContractError``, whose
``reason`` is a stable code (see ``Reason``) and whose ``detail`` says what exactly is wrong
without repeating the values it saw (personal data must never reach logs or dead letters).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from enum import StrEnum
from typing import Any, ClassVar, Literal, NamedTuple, TypeVar

import msgspec

from schemas.envelope import WIRE_TYPE_PATTERN, Envelope

#: Messages larger than this are refused before parsing (the broker's default limit is ~1 MiB).
MAX_MESSAGE_BYTES = 1_048_576

Kind = Literal["command", "event", "reply"]


class Reason(StrEnum):
    """Why bytes were refused; the dead-letter topic records this code."""

    TOO_LARGE = "too_large"
    INVALID_JSON = "invalid_json"
    INVALID_ENVELOPE = "invalid_envelope"
    UNKNOWN_TYPE = "unknown_type"
    FUTURE_VERSION = "future_version"
    UNEXPECTED_KIND = "unexpected_kind"
    INVALID_DATA = "invalid_data"


class ContractError(ValueError):
    """Bytes that are not a valid coopbridge message; ``reason`` is a ``Reason`` code."""

    def __init__(self, reason: Reason, detail: str, wire_type: str | None = None):
        self.reason = reason
        self.detail = detail
        self.wire_type = wire_type
        where = f" ({wire_type})" if wire_type else ""
        super().__init__(f"{reason.value}{where}: {detail}")


class Contract(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Base of every command and event payload. The class variables are set on registration."""

    wire_type: ClassVar[str]
    contract_service: ClassVar[str]
    contract_name: ClassVar[str]
    contract_version: ClassVar[int]
    contract_kind: ClassVar[Kind]
    #: A command's: the field holding the id of the aggregate it acts on (None otherwise).
    contract_key: ClassVar[str | None]


_CLASS_VARIABLES = frozenset(
    ("wire_type", "contract_service", "contract_name", "contract_version", "contract_kind",
     "contract_key")
)


def fields_of(contract: msgspec.Struct) -> dict[str, Any]:
    """A contract's fields as keyword arguments (to build the event a command leads to)."""
    return {name: getattr(contract, name) for name in contract.__struct_fields__}


class Message(NamedTuple):
    """A decoded message: its envelope as written and its payload upcast to the newest version."""

    envelope: Envelope
    payload: Contract

    @property
    def wire_type(self) -> str:
        """The wire type of the payload as handed out (the newest version)."""
        return self.payload.wire_type


C = TypeVar("C", bound=type[Contract])
_ENUM_VALUE = re.compile(r"Invalid enum value .*? - at")


def _without_values(text: str) -> str:
    """msgspec quotes the offending value for enums; drop it, it may be personal data."""
    return _ENUM_VALUE.sub("Invalid enum value - at", text)


class Registry:
    """The contracts one process knows, by wire type."""

    def __init__(self) -> None:
        self._types: dict[str, type[Contract]] = {}
        self._newest: dict[tuple[str, str], int] = {}
        self._upcasters: dict[str, Callable[[Any], Contract]] = {}

    # -- declaring ---------------------------------------------------------------------------

    def event(self, service: str, name: str, version: int = 1) -> Callable[[C], C]:
        """Class decorator: register an event payload as ``coop.<service>.<name>.v<version>``."""
        return self._register("event", service, name, version)

    def command(self, service: str, name: str, version: int = 1, *,
                key: str) -> Callable[[C], C]:
        """Class decorator: register a command payload as ``coop.<service>.<name>.v<version>``
        whose field ``key`` holds the id of the aggregate it acts on."""
        return self._register("command", service, name, version, key)

    def reply(self, service: str, name: str, version: int = 1) -> Callable[[C], C]:
        """Class decorator: register a reply payload as ``coop.<service>.<name>.v<version>``."""
        return self._register("reply", service, name, version)

    def _register(self, kind: Kind, service: str, name: str, version: int,
                  key: str | None = None) -> Callable[[C], C]:
        def decorate(cls: C) -> C:
            wire_type = f"coop.{service}.{name}.v{version}"
            if not re.match(WIRE_TYPE_PATTERN, wire_type):
                raise ValueError(f"not a wire type: {wire_type}")
            if wire_type in self._types:
                raise ValueError(f"{wire_type} is registered twice")
            if clash := _CLASS_VARIABLES & set(cls.__struct_fields__):
                raise ValueError(f"{wire_type}: field names reserved by Contract: {sorted(clash)}")
            if key is not None and key not in cls.__struct_fields__:
                raise ValueError(f"{wire_type}: its key {key!r} is none of its fields")
            cls.wire_type, cls.contract_service, cls.contract_name = wire_type, service, name
            cls.contract_version, cls.contract_kind, cls.contract_key = version, kind, key
            self._types[wire_type] = cls
            self._newest[(service, name)] = max(version, self._newest.get((service, name), 0))
            return cls

        return decorate

    def upcaster(self, old: type[Contract], new: type[Contract]) -> Callable:
        """Function decorator: ``fn(old_payload) -> new_payload`` for one version step."""
        if (old.contract_service, old.contract_name, old.contract_version + 1) != (
            new.contract_service, new.contract_name, new.contract_version
        ):
            raise ValueError(f"an upcaster goes one version up: {old.wire_type} -> {new.wire_type}")

        def decorate(fn: Callable[[Any], Contract]) -> Callable[[Any], Contract]:
            self._upcasters[old.wire_type] = fn
            return fn

        return decorate

    # -- reading the registry ----------------------------------------------------------------

    def types(self) -> dict[str, type[Contract]]:
        """Every registered wire type, old versions included."""
        return dict(self._types)

    def is_newest(self, cls: type[Contract]) -> bool:
        return self._newest[(cls.contract_service, cls.contract_name)] == cls.contract_version

    def key_of(self, command: Contract) -> str:
        """The id of the aggregate ``command`` acts on: the value of its declared key."""
        key = type(command).contract_key
        if key is None:
            raise TypeError(f"{type(command).__name__} is no command: it has no key")
        return getattr(command, key)

    def missing_upcasters(self) -> list[str]:
        """Old versions that cannot be read because no upcaster leads on from them."""
        return sorted(
            wt for wt, cls in self._types.items()
            if not self.is_newest(cls) and wt not in self._upcasters
        )

    # -- decoding ----------------------------------------------------------------------------

    def decode(self, raw: bytes, kind: Kind | None = None) -> Message:
        """Bytes -> ``Message`` with the newest payload version, or ``ContractError``."""
        if not isinstance(raw, bytes | bytearray | memoryview):
            raise ContractError(Reason.INVALID_JSON, "no value (a tombstone?)")
        if len(raw) > MAX_MESSAGE_BYTES:
            raise ContractError(Reason.TOO_LARGE, f"{len(raw)} bytes > {MAX_MESSAGE_BYTES}")
        try:
            envelope = msgspec.json.decode(raw, type=Envelope)
        except msgspec.ValidationError as exc:
            raise ContractError(Reason.INVALID_ENVELOPE, _without_values(str(exc))) from None
        except msgspec.DecodeError as exc:
            raise ContractError(Reason.INVALID_JSON, str(exc)) from None
        cls = self._type_of(envelope.type)
        if kind is not None and cls.contract_kind != kind:
            raise ContractError(
                Reason.UNEXPECTED_KIND, f"expected a {kind}, got a {cls.contract_kind}",
                envelope.type,
            )
        return Message(envelope, self._payload(cls, envelope.type, envelope.data))

    def contract(self, wire_type: str) -> type[Contract]:
        """The contract of ``wire_type`` (any registered version), or ``ContractError``."""
        return self._type_of(wire_type)

    def decode_payload(self, wire_type: str, data: bytes) -> Contract:
        """The payload ``data`` written as ``wire_type`` (an envelope's ``data``, kept apart
        from it), upcast to the newest version, or ``ContractError``."""
        return self._payload(self._type_of(wire_type), wire_type, data)

    def _payload(self, cls: type[Contract], wire_type: str, data: bytes) -> Contract:
        try:
            payload = msgspec.json.decode(data, type=cls)
        except msgspec.ValidationError as exc:
            raise ContractError(
                Reason.INVALID_DATA, _without_values(str(exc)).replace("`$", "`$.data"),
                wire_type,
            ) from None
        except msgspec.DecodeError as exc:
            raise ContractError(Reason.INVALID_JSON, str(exc), wire_type) from None
        return self._upcast(payload)

    def _type_of(self, wire_type: str) -> type[Contract]:
        cls = self._types.get(wire_type)
        if cls is not None:
            return cls
        service, name, version = re.match(WIRE_TYPE_PATTERN, wire_type).groups()
        newest = self._newest.get((service, name))
        if newest is not None and int(version) > newest:
            raise ContractError(
                Reason.FUTURE_VERSION,
                f"version {version} is newer than the newest known, {newest}; upgrade this reader",
                wire_type,
            )
        raise ContractError(Reason.UNKNOWN_TYPE, "no contract has this wire type", wire_type)

    def _upcast(self, payload: Contract) -> Contract:
        while not self.is_newest(type(payload)):
            upcast = self._upcasters.get(payload.wire_type)
            if upcast is None:
                raise ContractError(
                    Reason.UNKNOWN_TYPE, "no upcaster to the newest version", payload.wire_type
                )
            payload = upcast(payload)
        return payload

    # -- encoding ----------------------------------------------------------------------------

    def envelope(
        self,
        payload: Contract,
        *,
        id: str,
        source: str,
        subject: str,
        time: dt.datetime,
        sequence: int | None = None,
        previousid: str | None = None,
        causationid: str | None = None,
        correlationid: str | None = None,
        partitionkey: str | None = None,
        replayof: str | None = None,
        actor: str | None = None,
    ) -> Envelope:
        """Wrap the newest version of a payload in its envelope (the key defaults to subject)."""
        cls = type(payload)
        if self._types.get(getattr(cls, "wire_type", "")) is not cls:
            raise TypeError(f"{cls.__name__} is not a registered contract")
        if not self.is_newest(cls):
            raise TypeError(f"{cls.wire_type} is not the newest version; producers write the newest")
        if time.tzinfo is None:
            raise ValueError("time must be timezone-aware")
        return Envelope(
            specversion="1.0",
            id=id,
            source=source,
            type=cls.wire_type,
            subject=subject,
            time=time.astimezone(dt.UTC),
            sequence=sequence,
            previousid=previousid,
            causationid=causationid,
            correlationid=correlationid,
            partitionkey=partitionkey or subject,
            replayof=replayof,
            actor=actor,
            data=msgspec.Raw(msgspec.json.encode(payload)),
        )

    def encode(self, payload: Contract, **attributes: Any) -> bytes:
        """The bytes of ``envelope(payload, **attributes)``: deterministic for equal inputs."""
        return msgspec.json.encode(self.envelope(payload, **attributes))


#: The process-wide registry; importing ``schemas`` fills it.
REGISTRY = Registry()
