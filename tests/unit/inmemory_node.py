"""A whole node in memory for schema tests: the real deciders, evolvers, lookups and read
models, with no Kafka. ``LocalCommands.send`` decides like the command processor would and
projects the event into a ``MemoryStore``; ``LocalKeys`` seals and opens with in-memory keys."""

from __future__ import annotations

import datetime as dt

from gateway.listeners import Listeners
from gateway.fold import MemoryStore, project
from schemas import REGISTRY
from schemas.envelope import source_for
from schemas.runtime import CommandReply, Error, EventRef
from services.membership.domain import MEMBERSHIP
from services.runtime.aggregate import Context, Rejected, Stream
from services.runtime.client import Reply
from services.runtime.datakeys import DataKey, MemberErased, seal, unseal
from services.runtime.ids import derived_id, new_id
from services.savings.domain import SAVINGS
from services.savings.rates import load_rates
from services.training.domain import TRAINING

NODE = "es"


class LocalViews:
    """The views in memory; their subscribers' listeners are the gateway's own (``listeners``:
    give it smaller caps to test them)."""

    def __init__(self, listeners: Listeners | None = None) -> None:
        self.store = MemoryStore()
        self.listeners = listeners or Listeners()
        self.stats = {"applied": 0}  # as the projections count them: events applied

    def listen(self, caller, member=None):
        return self.listeners.listen(caller, member)

    def unlisten(self, listener) -> None:
        self.listeners.unlisten(listener)

    def get(self, table, key):
        return self.store.get(table, key)

    async def wait_for(self, refs, timeout=10.0) -> bool:
        return True  # everything is applied synchronously


class LocalKeys:
    def __init__(self) -> None:
        self.keys: dict[str, DataKey] = {}
        self.erased: set[str] = set()

    async def seal(self, member_id, plaintext):
        if member_id in self.erased:  # as DataKeys: no new key for an erased member
            raise MemberErased(member_id)
        key = self.keys.setdefault(member_id, DataKey(member_id, new_id(), bytes(range(32))))
        return seal(key, plaintext)

    async def open(self, member_id, sealed):
        key = self.keys.get(member_id)
        return None if key is None else unseal(key, sealed)

    def destroy(self, member_id) -> None:
        self.keys.pop(member_id, None)
        self.erased.add(member_id)


class LocalCommands:
    """Decide and project at once, in order: a node with one partition and no broker."""

    def __init__(self, views: LocalViews, keys: LocalKeys,
                 clock=lambda: dt.datetime(2026, 11, 15, 10, 0, tzinfo=dt.UTC)):
        self.views, self.keys, self.clock = views, keys, clock
        self.services = {d.name: d for d in (MEMBERSHIP, SAVINGS, TRAINING)}
        self.streams: dict[tuple[str, str], Stream] = {}
        self.lookups = {(d.name, lookup.name): lookup.initial()
                        for d in self.services.values() for lookup in d.lookups}
        self.outcomes: dict[str, CommandReply] = {}
        self.rates = load_rates()

    async def send(self, command, aggregate_id, *, command_id=None, correlation_id=None,
                   timeout=30, replay_of=None):
        command_id = command_id or new_id()
        if replay_of is not None:  # as the processor: by id, for the same aggregate only
            known = self.outcomes.get(replay_of)
            if known is not None and known.aggregate_id == aggregate_id:
                return Reply(known, b"")
            return Reply(CommandReply(command_id=command_id, command_type=command.wire_type,
                                      aggregate_id=command_id, accepted=False,
                                      error=Error(code="NotDone", message="not in the log")),
                         b"")
        if command_id in self.outcomes:
            return Reply(self.outcomes[command_id], b"")
        service = self.services[command.contract_service]
        aggregate = service.for_command(type(command))
        stream = self.streams.setdefault((aggregate.name, aggregate_id),
                                         Stream.new(aggregate, aggregate_id))
        lookups = {"rates": self.rates, **{name: view for (svc, name), view in
                                           self.lookups.items() if svc == service.name}}
        now = self.clock()
        try:
            [event] = aggregate.decision(stream.state, command, Context(now, lookups))
        except Rejected as rejected:
            reply = CommandReply(command_id=command_id, command_type=command.wire_type,
                                 aggregate_id=aggregate_id, accepted=False,
                                 error=Error(code=rejected.code, message=rejected.message))
            self.outcomes[command_id] = reply
            return Reply(reply, b"")
        event_id, sequence = derived_id(command_id, 0, now), stream.version + 1
        envelope = REGISTRY.envelope(event, id=event_id, source=source_for(NODE, service.name),
                                     subject=aggregate_id, time=now, sequence=sequence,
                                     previousid=stream.chain.last_id, causationid=command_id)
        stream.apply(event, sequence, event_id, stream.chain.last_id)
        for d in self.services.values():
            for lookup in d.lookups:
                if (lookup.source or d.name) == service.name:
                    lookup.apply(self.lookups[(d.name, lookup.name)], event)
        if event.contract_name == "MemberErased":
            self.keys.destroy(event.member_id)
        message = REGISTRY.decode(REGISTRY.encode(event, **{k: getattr(envelope, k) for k in (
            "id", "source", "subject", "time", "sequence", "previousid", "causationid")}))
        touched = project(self.views.store, message)
        self.views.stats["applied"] += 1
        self.views.listeners.publish([(list(touched), message)])
        reply = CommandReply(command_id=command_id, command_type=command.wire_type,
                             aggregate_id=aggregate_id, accepted=True,
                             events=[EventRef(id=event_id, type=event.wire_type,
                                              sequence=sequence)])
        self.outcomes[command_id] = reply
        return Reply(reply, b"")
