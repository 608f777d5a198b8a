"""The gateway remembers when each command sent under an idempotency key was decided
(``gateway.decided``), as its fold reads the log: an event or a ``CommandRejected`` caused by
a key's command id is noted, by aggregate; nothing else is."""

from __future__ import annotations

import datetime as dt
import uuid

from gateway import decided
from gateway.projections import Projections
from gateway.store import RocksStore
from schemas import REGISTRY
from schemas import savings as s
from schemas.fields import Money
from schemas.runtime import CommandRejected, Error
from schemas.topics import events_topic
from services.runtime.ids import derived_id, new_id
from tests.unit.inmemory_node import Record  # a record as Kafka hands it over

NODE = "es"
TOPIC = events_topic(NODE, "savings")
T = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)
ACCOUNT, OTHER = new_id(), new_id()


def keyed(text: str) -> str:
    """A command id as the gateway makes one of an idempotency key (a UUIDv5)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, text))


def event(contract, command_id: str, time: dt.datetime, sequence: int,
          previous: str | None) -> tuple[str, bytes]:
    event_id = derived_id(command_id, 0, time)
    return event_id, REGISTRY.encode(
        contract, id=event_id, source="/coopbridge/es/savings", subject=ACCOUNT, time=time,
        sequence=sequence, previousid=previous, causationid=command_id)


def test_the_fold_notes_when_a_keyed_command_was_decided_and_nothing_else(tmp_path):
    opened_by, rejected_by, off_chain_by, unkeyed, newer_by, unaddressed_by = (
        keyed("open"), keyed("deposit"), keyed("stray"), new_id(), keyed("newer"),
        keyed("unaddressed"))
    opened_id, opened = event(s.AccountOpened(
        account_id=ACCOUNT, member_id=new_id(), cooperative_id=new_id(),
        product=s.Product.SAVINGS, currency="EUR"), opened_by, T, 1, None)
    _, deposited = event(s.FundsDeposited(
        account_id=ACCOUNT, amount=Money(100, "EUR"), balance=Money(100, "EUR"),
        booked_on=T.date()), unkeyed, T + dt.timedelta(minutes=1), 2, opened_id)
    _, stray = event(s.FundsDeposited(  # a second writer's: off the chain, ignored
        account_id=ACCOUNT, amount=Money(5, "EUR"), balance=Money(105, "EUR"),
        booked_on=T.date()), off_chain_by, T + dt.timedelta(minutes=2), 7, new_id())
    later = T + dt.timedelta(minutes=3)
    rejection = REGISTRY.encode(
        CommandRejected(command_id=rejected_by, command_type="coop.savings.DepositFunds.v2",
                        aggregate_id=ACCOUNT, error=Error(code="AccountClosed", message="x")),
        id=derived_id(rejected_by, 0, later), source="/coopbridge/es/savings",
        subject=ACCOUNT, time=later, causationid=rejected_by)
    _, newer = event(s.FundsDeposited(  # of a version this gateway cannot read yet
        account_id=ACCOUNT, amount=Money(5, "EUR"), balance=Money(105, "EUR"),
        booked_on=T.date()), newer_by, later, 3, new_id())
    newer = newer.replace(b"FundsDeposited.v2", b"FundsDeposited.v99")
    unaddressed = REGISTRY.encode(  # a command that named no aggregate: keyed by its own id
        CommandRejected(command_id=unaddressed_by, command_type="coop.savings.Nothing.v1",
                        aggregate_id=unaddressed_by,
                        error=Error(code="UnsupportedCommand", message="x")),
        id=derived_id(unaddressed_by, 0, later), source="/coopbridge/es/savings",
        subject=unaddressed_by, time=later, causationid=unaddressed_by)
    values = [opened, opened, deposited, stray, rejection, newer, unaddressed]  # 1st read again
    records = [Record(TOPIC, 0, offset, ACCOUNT.encode(), value)
               for offset, value in enumerate(values)]
    store = RocksStore(tmp_path / "store")
    try:
        Projections(NODE, data_dir=tmp_path)._fold(store, records, {})  # noqa: SLF001
        store.commit()
        assert decided.decided_at(store, TOPIC, ACCOUNT, opened_by) == (T, True)
        assert decided.decided_at(store, TOPIC, ACCOUNT, rejected_by) == (later, False)
        # unreadable here, dead-lettered, but its command was decided: noted from its envelope
        assert decided.decided_at(store, TOPIC, ACCOUNT, newer_by) == (later, True)
        assert decided.decided_at(store, TOPIC, ACCOUNT, off_chain_by) is None
        assert decided.decided_at(store, TOPIC, ACCOUNT, unkeyed) is None  # no key: no row
        assert decided.decided_at(store, TOPIC, OTHER, opened_by) is None  # by aggregate
        assert decided.decided_at(store, events_topic(NODE, "training"), ACCOUNT,
                                  opened_by) is None
        assert len(list(store.raw_items(decided.PREFIX))) == 3  # no row for unaddressed_by
    finally:
        store.close()


def test_only_an_id_made_of_a_key_is_keyed():
    assert decided.keyed(keyed("anything"))
    assert not decided.keyed(new_id())
    assert not decided.keyed(derived_id(new_id(), 0, T))
    assert not decided.keyed("acct-1/remittance-9/deliver")  # the courier's ids


def test_a_problem_of_that_code_without_its_fields_is_a_plain_rejection():
    """``IdempotencyKeyExpired`` carries fields only the gateway can give: anything else
    answering that code (a processor, a caller of ``problem``) gets a plain rejection, not a
    resolver that fails building the type without them."""
    from gateway.results import CommandRejected, IdempotencyKeyExpired, problem  # noqa: PLC0415

    made = problem("IdempotencyKeyExpired", "late")
    assert type(made) is CommandRejected and made.code == "IdempotencyKeyExpired"
    assert not isinstance(made, IdempotencyKeyExpired)
