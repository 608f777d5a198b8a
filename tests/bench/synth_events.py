"""A node's event log, made up fast but real, for the replay and memory benchmarks.

``Synth(node).log(members, activity)`` yields ``(topic, key, value)`` records of the three
events topics and of ``{node}.datakeys``, as the services would have written them over a year
or two of a node's life:

* every value is a CloudEvents envelope of a registered contract (``REGISTRY.encode``, newest
  versions), with ``source``, ``causationid``/``correlationid`` (a command id) and an event id
  derived from it at the event's time (``services.runtime.ids.derived_id``), like the
  processor writes them; ``sequence`` runs 1..n per aggregate and ``previousid`` names the
  aggregate's last event, so every fold applies every event;
* the Kafka key is the aggregate id (member, account, course, cooperative), the partition its
  murmur2 (``produce`` leaves that to ``DefaultPartitioner``, which the command core's
  ``partition_for`` matches);
* personal fields are sealed as ``services.runtime.datakeys`` seals them: one data key per
  member, AES-256-GCM with member id and key id as associated data, the key itself wrapped
  under the node key in a ``{node}.datakeys`` record (so a gateway holding that node key opens
  them); a payout recipient is sealed with the sender's key;
* balances, fees, rates and what arrives follow the savings rules (``services.savings.rates``
  table, ``arithmetic.convert``); a withdrawal or remittance never overdraws.

The mix: a few cooperatives (one per ~1,000 members) each with three courses; members
register, start a membership and open a savings account (a third also buy a share); the rest
is activity, mostly deposits, then withdrawals, remittances home (later delivered) and some
training (enrolment, attendance, completion, certificate). Activity is skewed toward early
members (the oldest member of 50,000 gets ~0.1 % of it), so some records and histories are
long, as real ones are. Deterministic for a seed, apart from the ids (UUIDv7) and seals.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import secrets
from collections import deque
from collections.abc import Iterable, Iterator

import msgspec
from aiokafka.partitioner import murmur2
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.keywrap import aes_key_wrap

from schemas import REGISTRY
from schemas import membership as m
from schemas import savings as s
from schemas import training as t
from schemas.envelope import source_for
from schemas.fields import Money
from schemas.registry import Contract
from schemas.topics import datakeys_topic, events_topic
from services.runtime import kafka_clients
from services.runtime.datakeys import DataKey, KeyRecord, seal
from services.runtime.ids import derived_id, new_id
from services.savings.arithmetic import convert
from services.savings.rates import load_rates

Record = tuple[str, bytes, bytes]  # topic, key, value

GIVEN = ("Rosa", "María", "Ana", "Lucía", "José", "Luis", "Carmen", "Jorge", "Fatima", "Wilson")
FAMILY = ("Quispe", "Guamán", "Torres", "Vera", "Mendoza", "Chicaiza", "Loor", "Cedeño")
SHARE = Money(5000, "EUR")


class _Account:
    __slots__ = ("account_id", "member_id", "key", "balance", "cooperative")

    def __init__(self, account_id: str, member_id: str, key: DataKey, cooperative: int):
        self.account_id, self.member_id, self.key = account_id, member_id, key
        self.balance, self.cooperative = 0, cooperative


class Synth:
    """One node's made-up history (see the module docstring)."""

    def __init__(self, node: str, node_key: bytes | None = None, seed: int = 7,
                 start: dt.datetime = dt.datetime(2026, 1, 5, 8, tzinfo=dt.UTC),
                 pace: int = 60, mixed: bool = False):
        """``pace``: at most this many seconds between two events; ``mixed``: members of
        four nationalities and every gender (else all Ecuadorian, no gender given)."""
        self.node = node
        self.pace, self.mixed = pace, mixed
        self.node_key = node_key or secrets.token_bytes(32)
        self.rng = random.Random(seed)
        self.now = start
        self.topics = {service: events_topic(node, service)
                       for service in ("membership", "savings", "training")}
        self.datakeys = datakeys_topic(node)
        self.sources = {service: source_for(node, service) for service in self.topics}
        self.chains: dict[str, tuple[int, str]] = {}
        self.rates = load_rates()
        self.cooperatives: list[str] = []
        self.courses: list[list[str]] = []  # per cooperative
        self.accounts: list[_Account] = []
        self.member_ids: list[str] = []  # and their cooperative's index in ``joined``
        self.joined: list[int] = []
        self.course_of: dict[str, int] = {}  # course id -> its cooperative's index
        self.counts: dict[str, int] = {}  # events written, by contract name
        self.enrolled: dict[str, int] = {}  # learners, by course id
        self._pending_remittances: deque[tuple[_Account, str]] = deque()
        self._pending_training: deque[tuple[str, str, int]] = deque()  # course, member, stage

    # -- the log

    def log(self, members: int, activity: int,
            cooperatives: int | None = None) -> Iterator[Record]:
        """Cooperatives (``cooperatives``, or one per 1,000 members and at least 3) and their
        courses, then ``members`` members joining among ``activity`` further events (about
        that many: a step never splits a member's registration)."""
        for index in range(cooperatives or max(3, members // 1000)):
            yield from self._cooperative(index)
        joins, acts = members, activity
        while joins or acts > 0:
            # spread the joins over the activity, a new member sooner while few exist
            if joins and (not self.accounts or self.rng.random() * (joins + acts) < joins * 4):
                joins -= 1
                yield from self._member()
            else:
                produced = list(self._activity())
                acts -= len(produced)
                yield from produced

    def _tick(self) -> dt.datetime:
        self.now += dt.timedelta(seconds=self.rng.randint(1, self.pace))
        return self.now

    def _event(self, service: str, aggregate_id: str, event: Contract) -> Record:
        at = self._tick()
        command_id = new_id()
        sequence, previous = self.chains.get(aggregate_id, (0, None))
        event_id = derived_id(command_id, 0, at)
        self.chains[aggregate_id] = (sequence + 1, event_id)
        self.counts[event.contract_name] = self.counts.get(event.contract_name, 0) + 1
        value = REGISTRY.encode(
            event, id=event_id, source=self.sources[service], subject=aggregate_id, time=at,
            sequence=sequence + 1, previousid=previous, causationid=command_id,
            correlationid=command_id)
        return self.topics[service], aggregate_id.encode(), value

    def _data_key(self, member_id: str) -> tuple[DataKey, Record]:
        key = DataKey(member_id, new_id(), AESGCM.generate_key(bit_length=256))
        record = KeyRecord(member_id=member_id, kid=key.kid, wrapped=aes_key_wrap(
            self.node_key, key.key), created=self.now)
        return key, (self.datakeys, f"{member_id}/{key.kid}".encode(),
                     msgspec.json.encode(record))

    # -- steps

    def _cooperative(self, index: int) -> Iterator[Record]:
        cooperative_id = new_id()
        self.cooperatives.append(cooperative_id)
        yield self._event("membership", cooperative_id, m.CooperativeRegistered(
            cooperative_id=cooperative_id, name=f"Cooperativa de ahorro {index + 1}",
            country="ES", kind=m.CooperativeKind.SAVINGS_AND_CREDIT, languages=["es-ES"],
            node=self.node, currency="EUR", share_price=SHARE))
        courses = []
        for kind, title in ((t.CourseKind.LANGUAGE, "Español para el trabajo (B1)"),
                            (t.CourseKind.FINANCIAL_LITERACY, "Finanzas para la familia"),
                            (t.CourseKind.VOCATIONAL, "Guía de turismo")):
            course_id = new_id()
            language = kind is t.CourseKind.LANGUAGE
            yield self._event("training", course_id, t.CourseOffered(
                course_id=course_id, cooperative_id=cooperative_id,
                titles=[t.Title(language="es-ES", title=title)], kind=kind,
                language_taught="es-ES" if language else None,
                target_level=t.Cefr.B1 if language else None,
                skills=[] if language else [t.IscoOccupation(code="5113")],
                hours=60, starts_on=dt.date(2026, 1, 12), ends_on=dt.date(2027, 12, 17),
                capacity=10_000))
            courses.append(course_id)
            self.course_of[course_id] = index
        self.courses.append(courses)

    def _member(self) -> Iterator[Record]:
        rng = self.rng
        member_id = new_id()
        key, key_record = self._data_key(member_id)
        yield key_record
        details = m.PersonalDetails(
            given_names=rng.choice(GIVEN), family_names=f"{rng.choice(FAMILY)} {rng.choice(FAMILY)}",
            date_of_birth=dt.date(1960 + rng.randrange(45), 1 + rng.randrange(12), 1 + rng.randrange(28)),
            nationality=rng.choice(("EC", "PE", "CO", "BO")) if self.mixed else "EC",
            gender=rng.choice((None, *m.Gender)) if self.mixed else None,
            preferred_languages=["es-EC"])
        yield self._event("membership", member_id, m.MemberRegistered(
            member_id=member_id, personal=seal(key, msgspec.json.encode(details))))
        cooperative = rng.randrange(len(self.cooperatives))
        cooperative_id = self.cooperatives[cooperative]
        yield self._event("membership", member_id, m.MembershipStarted(
            member_id=member_id, cooperative_id=cooperative_id, role=m.MembershipRole.MEMBER,
            started_on=self.now.date(), share_capital_required=SHARE))
        self.member_ids.append(member_id)
        self.joined.append(cooperative)
        account = _Account(new_id(), member_id, key, cooperative)
        yield self._event("savings", account.account_id, s.AccountOpened(
            account_id=account.account_id, member_id=member_id, cooperative_id=cooperative_id,
            product=s.Product.SAVINGS, currency="EUR"))
        self.accounts.append(account)
        if rng.random() < 1 / 3:
            shares = new_id()
            yield self._event("savings", shares, s.AccountOpened(
                account_id=shares, member_id=member_id, cooperative_id=cooperative_id,
                product=s.Product.SHARE_CAPITAL, currency="EUR"))
            yield self._event("savings", shares, s.SharesPurchased(
                account_id=shares, shares=1, share_price=SHARE, amount=SHARE, total_shares=1,
                balance=SHARE, required=SHARE))

    def _activity(self) -> Iterator[Record]:
        rng = self.rng
        roll = rng.random()
        if self._pending_remittances and roll < 0.08:
            account, remittance_id = self._pending_remittances.popleft()
            yield self._event("savings", account.account_id, s.RemittanceDelivered(
                account_id=account.account_id, remittance_id=remittance_id))
            return
        if roll < 0.13:
            yield from self._training()
            return
        # older members are busier: the index leans toward the start
        account = self.accounts[int(len(self.accounts) * rng.random() ** 1.5)]
        today = self.now.date()
        if roll < 0.75 or account.balance < 10_000:
            amount = Money(rng.randrange(1_000, 40_000, 100), "EUR")
            account.balance += amount.amount
            yield self._event("savings", account.account_id, s.FundsDeposited(
                account_id=account.account_id, amount=amount,
                balance=Money(account.balance, "EUR"), booked_on=today))
        elif roll < 0.87:
            amount = Money(rng.randrange(500, account.balance // 2, 100), "EUR")
            account.balance -= amount.amount
            yield self._event("savings", account.account_id, s.FundsWithdrawn(
                account_id=account.account_id, amount=amount,
                balance=Money(account.balance, "EUR"), booked_on=today))
        else:
            yield self._remittance(account, today)

    def _remittance(self, account: _Account, today: dt.date) -> Record:
        amount = Money(rng_amount := self.rng.randrange(2_000, account.balance // 2, 500), "EUR")
        quote = self.rates.quote("EUR", "USD", today)
        fee = self.rates.fee("ES-EC", amount)
        account.balance -= rng_amount + fee.amount
        recipient = s.PayoutRecipient(full_name=f"{self.rng.choice(GIVEN)} {self.rng.choice(FAMILY)}")
        remittance_id = new_id()
        self._pending_remittances.append((account, remittance_id))
        return self._event("savings", account.account_id, s.RemittanceSent(
            account_id=account.account_id, remittance_id=remittance_id,
            to=s.Payout(country="EC", currency="USD",
                        recipient=seal(account.key, msgspec.json.encode(recipient))),
            amount=amount, fee=fee, rate=quote.rate, rate_date=quote.date,
            received=convert(amount, quote.rate, "USD"), corridor="ES-EC",
            balance=Money(account.balance, "EUR"), booked_on=today))

    def _training(self) -> Iterator[Record]:
        """Enrol someone, or move an enrolment on: attendance, completion, certificate."""
        rng = self.rng
        if self._pending_training and rng.random() < 0.75:
            course_id, member_id, stage = self._pending_training.popleft()
            cooperative = self.course_of[course_id]
            if stage < 3:
                yield self._event("training", course_id, t.AttendanceRecorded(
                    course_id=course_id, member_id=member_id, hours=20, on=self.now.date(),
                    total_hours=20 * (stage + 1)))
                self._pending_training.append((course_id, member_id, stage + 1))
            elif stage == 3:
                yield self._event("training", course_id, t.CourseCompleted(
                    course_id=course_id, member_id=member_id, result=t.Result.PASSED,
                    score=rng.randrange(60, 100), completed_on=self.now.date(),
                    level_attained=t.Cefr.B1 if course_id == self.courses[cooperative][0] else None,
                    hours_attended=60))
                self._pending_training.append((course_id, member_id, 4))
            else:
                language = course_id == self.courses[cooperative][0]
                yield self._event("training", course_id, t.CertificateIssued(
                    certificate_id=new_id(), course_id=course_id, member_id=member_id,
                    cooperative_id=self.cooperatives[cooperative],
                    kind=t.CourseKind.LANGUAGE if language else t.CourseKind.FINANCIAL_LITERACY,
                    titles=[t.Title(language="es-ES", title="Curso de la cooperativa")],
                    language="es-ES" if language else None,
                    level=t.Cefr.B1 if language else None, hours=60, score=80,
                    course_started_on=dt.date(2026, 1, 12), completed_on=self.now.date(),
                    issued_on=self.now.date()))
            return
        who = rng.randrange(len(self.member_ids))
        course_id = rng.choice(self.courses[self.joined[who]])
        enrolled = self.enrolled.get(course_id, 0)
        if enrolled >= 10_000:
            return
        self.enrolled[course_id] = enrolled + 1
        yield self._event("training", course_id, t.LearnerEnrolled(
            course_id=course_id, member_id=self.member_ids[who], places_left=10_000 - enrolled - 1))
        self._pending_training.append((course_id, self.member_ids[who], 0))


# -- producing --------------------------------------------------------------------------------


async def produce(bootstrap: str, records: Iterable[Record], partitions: int = 4,
                  batch_bytes: int = 1 << 20) -> int:
    """Write ``records`` with a raw producer, one ``BatchBuilder`` per partition filled up to
    ``batch_bytes``, in order per partition, partitioned by murmur2 of the key as the services'
    producers do. Returns the number of records written (acknowledged by all replicas)."""
    producer = kafka_clients.producer(bootstrap, enable_idempotence=False,
                                      max_batch_size=batch_bytes, max_request_size=4 * batch_bytes)
    await producer.start()
    batches: dict[tuple[str, int], object] = {}
    sent: list[asyncio.Future] = []
    count = 0

    async def flush(tp: tuple[str, int]) -> None:
        batch = batches.pop(tp)
        sent.append(await producer.send_batch(batch, tp[0], partition=tp[1]))

    try:
        for i, (topic, key, value) in enumerate(records):
            tp = (topic, (murmur2(key) & 0x7FFFFFFF) % partitions)
            batch = batches.get(tp)
            if batch is None:
                batch = batches[tp] = producer.create_batch()
            if batch.append(key=key, value=value, timestamp=None) is None:
                await flush(tp)
                batch = batches[tp] = producer.create_batch()
                batch.append(key=key, value=value, timestamp=None)
            count += 1
            if i % 2000 == 0:
                await asyncio.sleep(0)  # let the sender run while we generate
                done = [f for f in sent if f.done()]
                for f in done:
                    f.result()
                sent = [f for f in sent if not f.done()]
        for tp in list(batches):
            await flush(tp)
        await asyncio.gather(*sent)
    finally:
        await producer.stop()
    return count
