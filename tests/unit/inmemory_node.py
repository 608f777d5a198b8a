"""A whole node in memory for schema tests: the real deciders, evolvers, lookups and read
models, with no Kafka. ``LocalCommands.send`` runs each command through the runtime's command
core (``services.runtime.core.handle``), as the Kafka processor does, one partition per
service, with fakes for what lies around it: the log and the lookups live in memory, an
accepted event is projected at once into a ``MemoryStore`` that checks, event by event, what
``gateway.fold.LOCAL_SERVICES`` promises (``LocalityWatch``), dead letters are kept in a list.
``LocalKeys`` seals and opens with in-memory keys.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass

from gateway import decided
from gateway.figures.kept import DIRTY
from gateway.fold import LOCAL_SERVICES, MemoryStore, project
from gateway.listeners import Listeners
from schemas import REGISTRY
from schemas import runtime as runtime_contracts
from schemas.envelope import source_for
from schemas.rejections import REJECTION_CODES
from schemas.topics import commands_topic, events_topic
from services.membership.app import membership_hooks
from services.membership.domain import MEMBERSHIP
from services.runtime.client import Reply, command_bytes
from services.governance.domain import GOVERNANCE
from services.insurance.domain import INSURANCE
from services.placement.app import placement_hooks
from services.placement.domain import PLACEMENT
from services.runtime.core import CommandCore, Hooks, handle
from services.runtime.datakeys import DataKey, MemberErased, seal, unseal
from services.runtime.deadletter import DeadLetter
from services.runtime.ids import new_id
from services.runtime.log import PartitionLog
from services.savings.domain import SAVINGS
from services.savings.rates import load_rates
from services.training.domain import TRAINING

NODE = "es"


class LocalityWatch(MemoryStore):
    """A ``MemoryStore`` whose ``fold`` checks what lets ``coopbridge replay --workers`` fold
    the partitions of a local service apart (``gateway.fold.LOCAL_SERVICES``): no key an
    event of a local service reads or writes is read or written by another aggregate's
    event, local or not (but the figures' marks: see ``stage_raw``). Raises ``AssertionError`` at the first event that breaks it."""

    def __init__(self) -> None:
        super().__init__()
        self.current: tuple[str, str] | None = None  # (service, subject) being folded
        self.touched_by: dict[tuple, set[tuple[str, str]]] = {}
        self.local_owner: dict[tuple, tuple[str, str]] = {}
        self.local_events = 0

    def fold(self, message) -> list[str]:
        self.current = (type(message.payload).contract_service, message.envelope.subject)
        self.local_events += self.current[0] in LOCAL_SERVICES
        try:
            return project(self, message)
        finally:
            self.current = None

    def _touch(self, key: tuple, how: str) -> None:
        who = self.current
        if who is None:  # read outside a fold: a query's
            return
        touchers = self.touched_by.setdefault(key, set())
        owner = self.local_owner.get(key)
        if (who[0] in LOCAL_SERVICES and touchers - {who}) or owner not in (None, who):
            raise AssertionError(f"the event of {who} {how} {key}, which "
                                 f"{sorted(touchers | {owner} - {None, who})} also touch")
        touchers.add(who)
        if who[0] in LOCAL_SERVICES:
            self.local_owner[key] = who

    def get(self, table, key):
        self._touch((table, key), "read")
        return super().get(table, key)

    def put(self, table, key, doc) -> None:
        self._touch((table, key), "wrote")
        super().put(table, key, doc)

    def row(self, table, key, sort):
        self._touch((table, key, sort), "read")
        return super().row(table, key, sort)

    def put_row(self, table, key, sort, row) -> None:
        self._touch((table, key, sort), "wrote")
        super().put_row(table, key, sort, row)

    def stage_raw(self, key, value) -> None:
        # the figures' marks (``gateway.figures.kept.mark``) are the exception: every event
        # that touches her may mark her, local or not, but a mark is an idempotent insert of
        # one same empty value that no fold reads or deletes (only the figures' follower,
        # which a rebuild does not run), so parts that each hold it merge into what one fold
        # writes. Any other raw row is checked as a document is.
        if not (key.startswith(DIRTY) and value == b""):
            self._touch(("raw", key), "wrote")
        super().stage_raw(key, value)

    def raw(self, key):
        assert self.current is None, "no fold reads a raw row: a part could not see it"
        return super().raw(key)


class LocalViews:
    """The views in memory; their subscribers' listeners are the gateway's own (``listeners``:
    give it smaller caps to test them)."""

    def __init__(self, listeners: Listeners | None = None) -> None:
        self.store = LocalityWatch()
        self.listeners = listeners or Listeners()
        self.stats = {"applied": 0}  # as the projections count them: events applied

    def listen(self, caller, member=None):
        return self.listeners.listen(caller, member)

    def unlisten(self, listener) -> None:
        self.listeners.unlisten(listener)

    def get(self, table, key):
        return self.store.get(table, key)

    def rows(self, table, key, after=None):
        return self.store.rows(table, key, after)

    async def wait_for(self, refs, timeout=10.0) -> bool:
        return True  # everything is applied synchronously

    def decided_at(self, topic, aggregate_id, command_id):
        # ``LocalCommands`` writes every node's log under ``NODE``'s topics, whatever node id
        # the gateway's context names (a federation test runs two of them)
        service = topic.split(".")[1]
        return decided.decided_at(self.store, events_topic(NODE, service), aggregate_id,
                                  command_id)


class LocalKeys:
    """Data keys in memory, with ``DataKeys``' surface."""

    def __init__(self, keys: dict[str, DataKey] | None = None,
                 erased: set[str] | None = None) -> None:
        self.keys: dict[str, DataKey] = {} if keys is None else keys
        self.erased: set[str] = set() if erased is None else erased

    def sharing(self) -> LocalKeys:
        """Another holder of the same keys: the service's, as each process of a node holds
        its own ``DataKeys`` over the node's one datakeys topic."""
        return LocalKeys(self.keys, self.erased)

    async def seal(self, member_id, plaintext):
        if member_id in self.erased:  # as DataKeys: no new key for an erased member
            raise MemberErased(member_id)
        key = self.keys.setdefault(member_id, DataKey(member_id, new_id(), bytes(range(32))))
        return seal(key, plaintext)

    async def open(self, member_id, sealed):
        key = self.keys.get(member_id)
        return None if key is None else unseal(key, sealed)

    async def destroy(self, member_id) -> int:
        self.erased.add(member_id)
        return 0 if self.keys.pop(member_id, None) is None else 1

    def gone(self, member_id) -> bool:
        return member_id in self.erased and member_id not in self.keys


@dataclass(frozen=True)
class Record:
    """A command as the core reads it from its topic."""

    topic: str
    partition: int
    offset: int
    key: bytes
    value: bytes


#: The codes any command may get: the runtime's, and a replay's NotDone (not a rejection).
DECLARED = REJECTION_CODES.of(runtime_contracts.SERVICE) | {"NotDone"}


class LocalCommands:
    """A node with one partition per service and no broker: each command is decided by the
    command core, and what it writes is applied at once, in order."""

    def __init__(self, views: LocalViews, keys: LocalKeys,
                 clock=lambda: dt.datetime(2026, 11, 15, 10, 0, tzinfo=dt.UTC)):
        self.views, self.keys, self.clock = views, keys, clock
        references = {"savings": {"rates": load_rates()}}
        self.cores = {d.name: CommandCore(d, NODE, references.get(d.name))
                      for d in (MEMBERSHIP, SAVINGS, TRAINING, GOVERNANCE, INSURANCE,
                                PLACEMENT)}
        # logs that keep every outcome, unlike the processors' (COOPBRIDGE_FORGET_OUTCOMES):
        # these tests move the node's clock back and forth across months (a repayment on
        # its day), which a log that forgets by its own clock refuses; the tests of
        # forgetting turn it on (``forget``)
        self.logs = {name: PartitionLog(core.service) for name, core in self.cores.items()}
        # the membership service's checks and effects, with keys of its own (a bench node
        # passes the real DataKeys)
        own_keys = keys.sharing() if isinstance(keys, LocalKeys) else keys
        self.hooks = {"membership": membership_hooks(own_keys),
                      "placement": placement_hooks(own_keys)}
        self.letters: list[DeadLetter] = []
        #: whether a decider's bug is this test's subject (else it is raised, not answered)
        self.bugs_expected = False
        self._offsets = itertools.count()
        self._source = source_for(NODE, "client")

    async def send(self, command, aggregate_id=None, *, command_id=None, correlation_id=None,
                   timeout=30, replay_of=None, time=None, actor=None):
        service = command.contract_service
        command_id = command_id or new_id()
        aggregate_id = aggregate_id or REGISTRY.key_of(command)
        now = self.clock()
        record = Record(commands_topic(NODE, service), 0, next(self._offsets),
                        aggregate_id.encode(),
                        command_bytes(command, aggregate_id, command_id, self._source,
                                      correlation_id, time or now, replay_of, actor))
        core = self.cores[service]
        plan = await handle(core, self.logs[service], record, now,
                            self.hooks.get(service, Hooks()))
        if plan.bug is not None and not self.bugs_expected:
            raise plan.bug  # a decider's bug fails the test, as it would have before the core
        if plan.letter is not None:
            self.letters.append(plan.letter)
        if plan.write is not None:  # logged: when, for a retry under the same key
            decided.note(self.views.store, events_topic(NODE, service),
                         REGISTRY.decode(plan.write).envelope)
        if plan.stream_key is not None:  # accepted: its event is the log's, and the views'
            self._written(service, REGISTRY.decode(plan.write))
        raw = core.reply(plan)
        reply = Reply(REGISTRY.decode(raw, kind="reply").payload, raw)
        error = getattr(reply.payload, "error", None)
        if error is not None and error.code not in DECLARED | REJECTION_CODES.of(service):
            raise AssertionError(f"{service} answered a code it does not declare: {error.code}")
        return reply

    def _written(self, service: str, message) -> None:
        for core in self.cores.values():
            core.lookups.apply(service, message)
        touched = self.views.store.fold(message)
        self.views.stats["applied"] += 1
        self.views.listeners.publish([(list(touched), message)])
