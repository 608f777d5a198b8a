"""The relay of a node: the only path between nodes.

One consumer group (``{node}.federation.relay``) reads

* the node's own ``{node}.savings.events``: each ``SavingsSentHome`` on its account's chain
  becomes a signed ``SavingsTransferSent`` to the home node, produced to
  ``{node}.federation`` (keyed by the transfer id). An event off its chain (a stale writer's,
  ignored by every fold) never leaves the node.
* each trusted peer's ``{peer}.federation`` (the trust list, ``services.config.peers``).
  A message addressed to another node is skipped; one for us is opened
  (``messages.open_message``: signature against that peer's keys only, read through
  ``runtime.reading`` like every record) or dead-lettered with the reason, and the stream
  goes on. Then

  - ``SavingsTransferSent``: ``ReceiveSavingsTransfer`` to our savings service, of the
    transfer's time (so that one read again more than a week later, when the savings log no
    longer remembers its outcome, is refused, ``CommandOutOfTime``, and answered declined:
    never credited after a decline), then a signed ``SavingsTransferAnswered`` back
    (``TransferAlreadyReceived`` counts as credited);
  - ``SavingsTransferAnswered``: ``ConfirmSavingsTransfer`` or ``RefundSavingsTransfer``
    (``TransferSettled`` means it was done before).
  - ``PremiumSent`` (issue 25): ``CollectPremium`` to our insurance service, of the premium's
    time like a transfer, then a signed ``PremiumAnswered`` back (``PremiumAlreadyPaid``
    counts as collected: this very payment was collected before; a period another payment
    paid is refused, ``PeriodPaidBefore``, and goes back);
  - ``PremiumAnswered``: ``ConfirmPremium`` or ``RefundPremium`` to our savings service
    (``TransferSettled`` means it was settled before).

  - ``PolicyApplication`` (issue 25): ``IssuePolicy`` to our insurance service (at the
    time it is read, not the message's: an application or a death notice that travelled
    over a week is still decided, once, since a policy issued and a claim opened leave a
    trace that answers a repeat, ``PolicyAlreadyIssued``, ``ClaimAlreadyOpen``); a refusal
    is answered at once (``PolicyApplicationAnswered``, not accepted, with the code), an
    issued policy by its own ``PolicyIssued`` event (with its terms, below);
  - ``PolicyApplicationAnswered``: ``RecordPolicyAnswer`` to her cover, from the sender (her
    cover takes an answer from her insurer's node only);
  - ``ClaimNotice``: ``OpenClaim`` (notified by the sender, relayed: the policy takes it
    from her host node only), then a signed
    ``ClaimNoticeAnswered`` (``ClaimAlreadyOpen`` counts as open: her death is claimed);
  - ``ClaimNoticeAnswered``: ``RecordDeathAnswer`` to her cover (``CoverAnswered``: before).

  Our own ``PremiumPaid`` events leave as ``PremiumSent``, like ``SavingsSentHome``; from our
  ``{node}.insurance.events``, her ``CoverApplied`` leaves as ``PolicyApplication``, her
  ``DeathNotified`` as ``ClaimNotice``, and a ``PolicyIssued`` for another node's
  application as its ``PolicyApplicationAnswered``. A message for this very node (her host
  node is the insurer's too) is not signed or written: the same steps are taken here.

Every command to savings has a fixed id, derived from the peer, the transfer and the step
(``receive``, ``settle``), and is sent again under the same id until a reply comes (the
savings service may be down), so each step happens once however often it is asked. A
record's offset is committed only after its work, and its answer, are acknowledged; a crash
repeats at most the records in flight, and repeats are harmless. Each partition is worked in
its own task while the consumer keeps polling, so one transfer waiting for a reply holds up
only its own partition. A peer's topic that does not exist yet is picked up when it appears
(a pattern subscription); the relay creates nothing in other namespaces.

``stop`` (SIGTERM) lets each partition finish the record in hand (a command still without a
reply is given up after its current try, uncommitted), commits, and returns.

Reads ``{node}.savings.events``, ``{node}.insurance.events``, ``{peer}.federation``,
``{node}.replies``; writes
``{node}.federation``, ``{node}.savings.commands``, ``{node}.insurance.commands``,
``{node}.deadletter``. Logs transfer ids,
node ids and counts, nothing about members or amounts.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
from collections import Counter

from aiokafka import ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from schemas import REGISTRY, Message
from schemas import insurance as i
from schemas import savings as s
from schemas.federation import (
    SERVICE,
    ClaimNotice,
    ClaimNoticeAnswered,
    PolicyApplication,
    PolicyApplicationAnswered,
    PremiumAnswered,
    PremiumSent,
    SavingsTransferAnswered,
    SavingsTransferSent,
    subject_of,
)
from schemas.fields import Money
from schemas.registry import Contract
from schemas.topics import check_node, events_topic, federation_group, federation_topic
from services import config
from services.config import Peer
from services.relay.messages import addressee, open_message, sign_message
from services.runtime import clock as clocks
from services.runtime import kafka_clients
from services.runtime.aggregate import Chain
from services.runtime.client import CommandClient, Reply
from services.runtime.deadletter import publish
from services.runtime.host import WithoutDataKeys
from services.runtime.ids import derived_id
from services.runtime.keys import signing_key
from services.runtime.reading import Unreadable, read, read_log

log = logging.getLogger(__name__)

#: The time in command ids of transfer steps: fixed, so that the id depends on the step alone.
STEP_EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
#: Rejections that mean the step was already done under another command id.
ALREADY_RECEIVED = "TransferAlreadyReceived"
ALREADY_SETTLED = "TransferSettled"
#: ... for a premium at the insurer's node: this very payment was collected before.
PREMIUM_DONE = "PremiumAlreadyPaid"
#: ... for her cover at her host node: the answer was recorded before.
COVER_DONE = "CoverAnswered"
#: At the insurer's node: the policy was issued before (its event answers the application).
POLICY_DONE = "PolicyAlreadyIssued"
#: ... a claim is open on the policy: her death is being claimed.
CLAIM_OPEN = "ClaimAlreadyOpen"


def cover_step_id(peer: str, cover_id: str, step: str) -> str:
    """The command id of one step about her cover with ``peer`` (``issue``, ``answer``,
    ``claim``, ``claimed``): fixed, like a transfer's."""
    return derived_id(f"{SERVICE}/{peer}/cover/{cover_id}/{step}", 0, STEP_EPOCH)


def step_id(peer: str, from_account_id: str, transfer_id: str, step: str) -> str:
    """The command id of one step of a transfer with ``peer``: the same whatever time or
    message it comes from, so a repeated step is answered from the savings log. A transfer
    id is unique per sending account, so the account is part of it."""
    return derived_id(f"{SERVICE}/{peer}/{from_account_id}/{transfer_id}/{step}", 0,
                      STEP_EPOCH)


class _Interrupted(Exception):
    """Stopping or losing the partition while a command waited: leave the record uncommitted."""


class Relay:
    """Carries a node's transfers to its peers and theirs to it; ``run`` until ``stop``."""

    name = SERVICE

    def __init__(self, node: str, bootstrap: str | None = None, *,
                 peers: dict[str, Peer] | None = None, key: Ed25519PrivateKey | None = None,
                 attempt_timeout: float = 10.0):
        self.node = check_node(node)
        self.bootstrap = bootstrap or config.bootstrap_servers()
        self.peers = config.peers(node) if peers is None else dict(peers)
        self.key = key or signing_key(node)
        self.attempt_timeout = attempt_timeout
        self.own_events = {events_topic(node, "savings"), events_topic(node, "insurance")}
        self.outbox = federation_topic(node)
        self.channels = {federation_topic(peer): peer for peer in self.peers}
        self.counts: Counter[str] = Counter()
        self.ready = asyncio.Event()  # set once the group gave this relay its partitions
        self._client = CommandClient(node, self.bootstrap, source=SERVICE)
        self._chains: dict[TopicPartition, _OwnEvents] = {}
        self._workers: dict[TopicPartition, asyncio.Task] = {}
        self._revoking: set[TopicPartition] = set()
        self._failure: BaseException | None = None
        self._stopping = asyncio.Event()

    # -- life ------------------------------------------------------------------------------

    async def run(self) -> None:
        """Relay until ``stop()``; raises on an infrastructure failure (nothing committed
        for the records in flight)."""
        session_ms = int(config.session_timeout_s() * 1000)
        self._consumer = kafka_clients.reader(
            self.bootstrap, group_id=federation_group(self.node),
            session_timeout_ms=session_ms, heartbeat_interval_ms=max(500, session_ms // 10),
            rebalance_timeout_ms=max(60_000, session_ms * 2), max_poll_interval_ms=300_000,
            metadata_max_age_ms=5_000)  # how soon a peer's new topic is noticed
        self._producer = kafka_clients.producer(self.bootstrap)
        try:
            await self._client.start()
            await self._producer.start()
            await self._consumer.start()
            self._consumer.subscribe(pattern=self._pattern(), listener=_Listener(self))
            log.info("federation relay of node %s: %d trusted peer(s) %s", self.node,
                     len(self.peers), ", ".join(sorted(self.peers)) or "-")
            while not self._stopping.is_set():
                batches = await self._consumer.getmany(timeout_ms=200, max_records=100)
                self._raise_failure()
                for tp, records in batches.items():
                    if tp in self._workers or tp in self._revoking:
                        self._consumer.seek(tp, records[0].offset)  # fetched before the pause
                        continue
                    self._consumer.pause(tp)
                    task = asyncio.create_task(self._work(tp, records),
                                               name=f"relay-{tp.topic}-{tp.partition}")
                    self._workers[tp] = task
                    task.add_done_callback(self._finished)
            await asyncio.gather(*self._workers.values(), return_exceptions=True)
            self._raise_failure()
        finally:
            for task in self._workers.values():
                task.cancel()
            await asyncio.gather(*self._workers.values(), return_exceptions=True)
            await self._close()
            log.info("federation relay of node %s stopped: %s", self.node,
                     ", ".join(f"{k} {v}" for k, v in sorted(self.counts.items())) or "idle")

    def stop(self) -> None:
        """Finish the record in hand on each partition, commit it, and leave the group."""
        self._stopping.set()

    def _pattern(self) -> str:
        names = [*sorted(self.own_events), *sorted(self.channels)]
        return "^(?:" + "|".join(re.escape(name) for name in names) + ")$"

    def _finished(self, task: asyncio.Task) -> None:
        if not task.cancelled() and task.exception() is not None and self._failure is None:
            self._failure = task.exception()

    def _raise_failure(self) -> None:
        if self._failure is not None:
            raise self._failure

    async def _close(self) -> None:
        await kafka_clients.close(self._consumer, self._producer, self._client)

    # -- one partition ---------------------------------------------------------------------

    async def _work(self, tp: TopicPartition, records: list) -> None:
        """Handle ``records`` of one (paused) partition in order, committing each after its
        work; then let the partition flow again from the first record not done."""
        done = 0
        try:
            own = tp.topic in self.own_events
            chains = await self._own_chains(tp, records[0].offset) if own else None
            for record in records:
                if self._stopping.is_set() or tp in self._revoking:
                    break
                if own:
                    message = chains.read(record)
                    if message is not None:
                        await self._send_home(tp, message)
                    chains.passed(record, message)
                else:
                    await self._take(tp, self.channels[tp.topic], record)
                await self._consumer.commit({tp: record.offset + 1})
                done += 1
        except _Interrupted:
            pass
        except (CommitFailedError, IllegalStateError):
            log.info("%s[%d] moved to another relay; it repeats what was not committed",
                     tp.topic, tp.partition)
        finally:
            self._workers.pop(tp, None)
            if tp in self._consumer.assignment():
                if done < len(records):
                    self._consumer.seek(tp, records[done].offset)
                self._consumer.resume(tp)

    async def _own_chains(self, tp: TopicPartition, until: int) -> _OwnEvents:
        """The chains of the aggregates of one partition of our savings events, folded up to
        ``until`` (what was relayed before), continuing what this process already knows."""
        chains = self._chains.get(tp)
        if chains is None or chains.next_offset > until:
            chains = self._chains[tp] = _OwnEvents()
        if chains.next_offset == until:
            return chains
        reader = kafka_clients.reader(self.bootstrap)
        await reader.start()
        try:
            reader.assign([tp])
            reader.seek(tp, chains.next_offset)
            while await reader.position(tp) < until:
                batches = await reader.getmany(tp, timeout_ms=500, max_records=5000)
                for record in batches.get(tp, []):
                    if record.offset < until:
                        chains.passed(record, chains.read(record))
        finally:
            await reader.stop()
        chains.next_offset = until
        return chains

    # -- our transfers out -----------------------------------------------------------------

    async def _send_home(self, tp: TopicPartition, message: Message) -> None:
        envelope, event = message
        sent = self._outgoing(envelope, event)
        if sent is None:
            return
        about = subject_of(sent)
        if sent.to == self.node:  # her host node is the insurer's too: the same steps, here
            self.counts["kept here"] += 1
            await self._deliver(tp, self.node, Message(envelope, sent))
            return
        raw = sign_message(sent, node=self.node, to=sent.to, key=self.key,
                           message_id=derived_id(f"{SERVICE}/{envelope.id}", 0, envelope.time),
                           time=envelope.time, causation_id=envelope.id)
        await kafka_clients.acknowledged(self._producer, self.outbox, raw, key=about.encode())
        self.counts["sent"] += 1
        log.info("%s %s sent to node %s", type(sent).__name__, about, sent.to)
        if sent.to not in self.peers:
            log.warning("%s %s: node %s is not in the trust list, so its answer will not "
                        "be read until it is", type(sent).__name__, about, sent.to)

    def _outgoing(self, envelope, event: Contract) -> Contract | None:
        """The message one of our events sends to another node, if any."""
        match event:
            case s.SavingsSentHome():
                return SavingsTransferSent(
                    transfer_id=event.transfer_id, member_id=event.member_id,
                    from_node=self.node, from_account_id=event.account_id, to=event.to_node,
                    to_account_id=event.to_account_id, amount=event.received)
            case s.PremiumPaid():
                return PremiumSent(
                    transfer_id=event.premium_id, member_id=event.member_id,
                    policy_id=event.policy_id, period=event.period, from_node=self.node,
                    from_account_id=event.account_id, to=event.to_node, premium=event.premium,
                    paid_at=envelope.time)
            case i.CoverApplied():
                return PolicyApplication(
                    cover_id=event.cover_id, policy_id=event.policy_id,
                    product_id=event.product_id, currency=event.currency,
                    member_id=event.member_id,
                    from_node=self.node, to=event.insurer_node, starts_on=event.starts_on,
                    age=event.age, average_remittance=event.average_remittance,
                    requested_benefit=event.requested_benefit, payees=list(event.payees))
            case i.DeathNotified():
                return ClaimNotice(
                    cover_id=event.cover_id, policy_id=event.policy_id,
                    claim_id=event.claim_id, member_id=event.member_id,
                    died_on=event.died_on, from_node=self.node, to=event.insurer_node)
            case i.PolicyIssued() if event.application_id is not None:
                return PolicyApplicationAnswered(
                    cover_id=event.application_id, policy_id=event.policy_id,
                    from_node=self.node, to=event.from_node, accepted=True,
                    terms=i.PolicyTerms(
                        policy_id=event.policy_id, starts_on=event.starts_on,
                        ends_on=event.ends_on, premium=event.premium,
                        premium_months=event.premium_months, grace_days=event.grace_days,
                        waiting_days=event.waiting_days,
                        repatriation_limit=event.repatriation_limit,
                        monthly_benefit=event.monthly_benefit,
                        benefit_months=event.benefit_months))
        return None

    # -- peers' messages -------------------------------------------------------------------

    async def _take(self, tp: TopicPartition, peer: str, record) -> None:
        """One record of a peer's federation topic."""
        to = addressee(record.value)
        if to is not None and to != self.node:
            self.counts["for other nodes"] += 1  # unverified, so it only ever skips
            return
        opened = read(record, opener=lambda raw: open_message(
            raw, node=self.node, peers={peer: self.peers[peer]}))
        if isinstance(opened, Unreadable):
            await publish(self._producer, opened.letter(self.node))
            self.counts["refused"] += 1
            log.warning("refused a message on %s[%d] at offset %d: %s", record.topic,
                        record.partition, record.offset, opened.reason)
            return
        await self._deliver(tp, *opened)

    async def _deliver(self, tp: TopicPartition, sender: str, message: Message) -> None:
        """Act on one message from ``sender`` (verified, or one of ours kept here)."""
        match message.payload:
            case SavingsTransferSent() as sent:
                await self._credit(tp, sender, message, sent)
            case SavingsTransferAnswered() as answer:
                await self._settle(tp, sender, answer)
            case PremiumSent() as sent:
                await self._collect(tp, sender, message, sent)
            case PremiumAnswered() as answer:
                await self._settle_premium(tp, sender, answer)
            case PolicyApplication() as application:
                await self._issue(tp, sender, message, application)
            case PolicyApplicationAnswered() as answer:
                await self._record_policy(tp, sender, answer)
            case ClaimNotice() as notice:
                await self._open_claim(tp, sender, message, notice)
            case ClaimNoticeAnswered() as answer:
                await self._record_claim(tp, sender, answer)

    async def _credit(self, tp: TopicPartition, sender: str, message: Message,
                      sent: SavingsTransferSent) -> None:
        """Credit a transfer a peer sent us, then answer it."""
        command_id = step_id(sender, sent.from_account_id, sent.transfer_id, "receive")
        reply = await self._ask(tp, s.ReceiveSavingsTransfer(
            account_id=sent.to_account_id, transfer_id=sent.transfer_id,
            member_id=sent.member_id, from_node=sender, from_account_id=sent.from_account_id,
            amount=sent.amount), sent.to_account_id, command_id, sent.transfer_id,
            time=min(message.envelope.time, clocks.now()))
        # the transfer's time (never ahead of ours: a sender whose clock runs fast is not
        # refused), so a message read again over a week later (the group's offsets lost) is
        # refused, CommandOutOfTime, and answered declined, never decided again: a decline
        # leaves no trace in the account to refuse a second credit by
        accepted = reply.accepted or reply.code == ALREADY_RECEIVED
        answer = SavingsTransferAnswered(
            transfer_id=sent.transfer_id, from_node=self.node,
            from_account_id=sent.from_account_id, to=sender, accepted=accepted,
            code=None if accepted else reply.code)
        await self._answer(answer, sender, command_id, reply, message)
        self.counts["credited" if accepted else "declined"] += 1
        log.info("transfer %s from node %s %s", sent.transfer_id, sender,
                 "credited" if accepted else f"declined ({reply.code})")

    async def _answer(self, answer: Contract, sender: str, command_id: str, reply: Reply,
                      message: Message, tp: TopicPartition | None = None) -> None:
        """Sign ``answer`` to ``sender`` at the reply's time (fixed per command id: an answer
        sent again is the same bytes) and write it to our federation topic; an answer to
        ourselves (``tp``: the partition in hand) is acted on here."""
        replied = REGISTRY.decode(reply.raw).envelope
        if sender == self.node and tp is not None:
            await self._deliver(tp, self.node, Message(replied, answer))
            return
        raw = sign_message(answer, node=self.node, to=sender, key=self.key,
                           message_id=derived_id(f"{SERVICE}/{command_id}", 0, replied.time),
                           time=replied.time, causation_id=message.envelope.id)
        await kafka_clients.acknowledged(self._producer, self.outbox, raw,
                                         key=subject_of(answer).encode())

    async def _settle(self, tp: TopicPartition, sender: str,
                      answer: SavingsTransferAnswered) -> None:
        """Mark one of our transfers delivered, or refund it, as the home node answered."""
        command: Contract = (
            s.ConfirmSavingsTransfer(account_id=answer.from_account_id,
                                     transfer_id=answer.transfer_id, by_node=sender)
            if answer.accepted else
            s.RefundSavingsTransfer(account_id=answer.from_account_id,
                                    transfer_id=answer.transfer_id, by_node=sender,
                                    reason=answer.code or "Refused"))
        reply = await self._ask(tp, command, answer.from_account_id,
                                step_id(sender, answer.from_account_id, answer.transfer_id,
                                        "settle"),
                                answer.transfer_id)
        if reply.code == ALREADY_SETTLED:  # an answer read again (the first one settled it)
            self.counts["settled before"] += 1
            log.info("transfer %s was settled before; node %s answered it again",
                     answer.transfer_id, sender)
        elif reply.accepted:
            self.counts["delivered" if answer.accepted else "refunded"] += 1
            log.info("transfer %s %s by node %s", answer.transfer_id,
                     "delivered" if answer.accepted else "refunded", sender)
        else:
            self.counts["answers not applied"] += 1
            log.warning("transfer %s: the answer of node %s was not applied (%s)",
                        answer.transfer_id, sender, reply.code)

    async def _collect(self, tp: TopicPartition, sender: str, message: Message,
                       sent: PremiumSent) -> None:
        """Collect a premium a peer's account paid for a policy of ours, then answer it."""
        command_id = step_id(sender, sent.from_account_id, sent.transfer_id, "collect")
        reply = await self._ask(tp, i.CollectPremium(
            policy_id=sent.policy_id, transfer_id=sent.transfer_id,
            from_account_id=sent.from_account_id, member_id=sent.member_id,
            period=sent.period, amount=sent.premium, from_node=sender, paid_at=sent.paid_at),
            sent.policy_id, command_id,
            sent.transfer_id, time=min(message.envelope.time, clocks.now()))
        accepted = reply.accepted or reply.code == PREMIUM_DONE
        answer = PremiumAnswered(
            transfer_id=sent.transfer_id, policy_id=sent.policy_id, period=sent.period,
            from_node=self.node, from_account_id=sent.from_account_id, to=sender,
            accepted=accepted, code=None if accepted else reply.code)
        await self._answer(answer, sender, command_id, reply, message)
        self.counts["premiums collected" if accepted else "premiums declined"] += 1
        log.info("premium %s from node %s %s", sent.transfer_id, sender,
                 "collected" if accepted else f"declined ({reply.code})")

    async def _settle_premium(self, tp: TopicPartition, sender: str,
                              answer: PremiumAnswered) -> None:
        """Mark a premium of ours delivered, or refund it, as the insurer's node answered."""
        command: Contract = (
            s.ConfirmPremium(account_id=answer.from_account_id, premium_id=answer.transfer_id,
                             by_node=sender)
            if answer.accepted else
            s.RefundPremium(account_id=answer.from_account_id, premium_id=answer.transfer_id,
                            by_node=sender, reason=answer.code or "Refused"))
        reply = await self._ask(tp, command, answer.from_account_id,
                                step_id(sender, answer.from_account_id, answer.transfer_id,
                                        "settle"),
                                answer.transfer_id)
        if reply.accepted:
            self.counts["premiums delivered" if answer.accepted else "premiums refunded"] += 1
        elif reply.code == ALREADY_SETTLED:
            self.counts["settled before"] += 1
        else:
            self.counts["answers not applied"] += 1
            log.warning("premium %s: the answer of node %s was not applied (%s)",
                        answer.transfer_id, sender, reply.code)

    async def _issue(self, tp: TopicPartition, sender: str, message: Message,
                     application: PolicyApplication) -> None:
        """Issue the policy a peer's member applied for; answer a refusal at once (an issued
        policy is answered by its own event, with its terms: ``_outgoing``)."""
        command_id = cover_step_id(sender, application.cover_id, "issue")
        average = application.average_remittance or Money(0, application.currency)  # none
        reply = await self._ask(tp, i.IssuePolicy(
            policy_id=application.policy_id, product_id=application.product_id,
            member_id=application.member_id, from_node=sender,
            starts_on=application.starts_on, age=application.age,
            average_remittance=average, requested_benefit=application.requested_benefit,
            payees=list(application.payees), application_id=application.cover_id),
            application.policy_id, command_id, application.cover_id)
        if reply.accepted or reply.code == POLICY_DONE:
            self.counts["policies issued"] += reply.accepted
            log.info("cover %s of node %s: policy issued", application.cover_id, sender)
            return
        answer = PolicyApplicationAnswered(
            cover_id=application.cover_id, policy_id=application.policy_id,
            from_node=self.node, to=sender, accepted=False, code=reply.code)
        await self._answer(answer, sender, command_id, reply, message, tp)
        self.counts["applications refused"] += 1
        log.info("cover %s of node %s: refused (%s)", application.cover_id, sender, reply.code)

    async def _record_policy(self, tp: TopicPartition, sender: str,
                             answer: PolicyApplicationAnswered) -> None:
        """Record at her cover what the insurer's node answered her application."""
        reply = await self._ask(tp, i.RecordPolicyAnswer(
            cover_id=answer.cover_id, from_node=sender, accepted=answer.accepted,
            code=answer.code, terms=answer.terms), answer.cover_id,
            cover_step_id(sender, answer.cover_id, "answer"), answer.cover_id)
        self._counted("cover answers", reply, answer.cover_id, sender)

    async def _open_claim(self, tp: TopicPartition, sender: str, message: Message,
                          notice: ClaimNotice) -> None:
        """Open the claim for the death a peer notified, then answer whether it is open."""
        command_id = cover_step_id(sender, notice.cover_id, "claim")
        reply = await self._ask(tp, i.OpenClaim(
            policy_id=notice.policy_id, claim_id=notice.claim_id, died_on=notice.died_on,
            notified_by=sender, relayed=True), notice.policy_id, command_id, notice.cover_id)
        accepted = reply.accepted or reply.code == CLAIM_OPEN  # her death is being claimed
        answer = ClaimNoticeAnswered(
            cover_id=notice.cover_id, policy_id=notice.policy_id, from_node=self.node,
            to=sender, accepted=accepted, code=None if reply.accepted else reply.code)
        await self._answer(answer, sender, command_id, reply, message, tp)
        self.counts["claims opened" if reply.accepted else "claim notices answered"] += 1
        log.info("cover %s of node %s: claim %s", notice.cover_id, sender,
                 "opened" if reply.accepted else f"not opened ({reply.code})")

    async def _record_claim(self, tp: TopicPartition, sender: str,
                            answer: ClaimNoticeAnswered) -> None:
        reply = await self._ask(tp, i.RecordDeathAnswer(
            cover_id=answer.cover_id, from_node=sender, accepted=answer.accepted,
            code=answer.code),
            answer.cover_id, cover_step_id(sender, answer.cover_id, "claimed"),
            answer.cover_id)
        self._counted("claim answers", reply, answer.cover_id, sender)

    def _counted(self, what: str, reply: Reply, cover_id: str, sender: str) -> None:
        if reply.accepted:
            self.counts[f"{what} recorded"] += 1
        elif reply.code == COVER_DONE:  # an answer read again
            self.counts["settled before"] += 1
        else:
            self.counts["answers not applied"] += 1
            log.warning("cover %s: the answer of node %s was not applied (%s)", cover_id,
                        sender, reply.code)

    async def _ask(self, tp: TopicPartition, command: Contract, aggregate_id: str,
                   command_id: str, transfer_id: str, time: dt.datetime | None = None) -> Reply:
        """Send ``command`` (of ``time``, default now) to our savings (or insurance) service
        until it replies, always under ``command_id``; give up (uncommitted) only when stopping or
        losing ``tp``."""
        tries = 0
        while True:
            try:
                return await self._client.send(command, aggregate_id, command_id=command_id,
                                               correlation_id=transfer_id,
                                               timeout=self.attempt_timeout, time=time)
            except TimeoutError:
                tries += 1
                if tries == 1 or tries % 10 == 0:
                    log.warning("transfer %s: no reply from the savings service after %d "
                                "tries; asking again under the same command id",
                                transfer_id, tries)
                if self._stopping.is_set() or tp in self._revoking:
                    raise _Interrupted from None

    # -- rebalancing -----------------------------------------------------------------------

    async def _revoked(self, partitions: set[TopicPartition]) -> None:
        """Let the workers of the partitions going away finish their record (and commit)."""
        self._revoking |= partitions
        try:
            workers = [self._workers[tp] for tp in partitions if tp in self._workers]
            await asyncio.gather(*workers, return_exceptions=True)
        finally:
            self._revoking -= partitions


class _OwnEvents:
    """Where each account's chain of our savings events stands, for one partition."""

    def __init__(self) -> None:
        self.chains: dict[str, Chain] = {}
        self.next_offset = 0

    def read(self, record) -> Message | None:
        """The event of ``record`` if it continues its aggregate's chain, else ``None``.
        A newer contract version than this relay reads stops it (it might be a transfer)."""
        message = read_log(record)
        if message is None:
            return None
        envelope = message.envelope
        if envelope.sequence is None:
            return None  # a rejection: no fact
        chain = self.chains.get(envelope.subject, Chain())
        if not chain.continues(envelope.sequence, envelope.previousid):
            if isinstance(message.payload, s.SavingsSentHome | s.PremiumPaid
                          | i.CoverApplied | i.DeathNotified | i.PolicyIssued):
                log.warning("event %s is off its aggregate's chain (a stale writer's); "
                            "it is not sent", envelope.id)
            return None
        return message

    def passed(self, record, message: Message | None) -> None:
        """``record`` is done: move the chains (when ``read`` found it on one) past it."""
        if message is not None:
            envelope = message.envelope
            self.chains.setdefault(envelope.subject, Chain()).extend(envelope.sequence,
                                                                     envelope.id)
        self.next_offset = record.offset + 1


class _Listener(ConsumerRebalanceListener):
    def __init__(self, relay: Relay):
        self.relay = relay

    async def on_partitions_revoked(self, revoked) -> None:
        await self.relay._revoked(set(revoked))  # noqa: SLF001

    async def on_partitions_assigned(self, assigned) -> None:
        log.info("federation relay of node %s: %d partition(s) assigned", self.relay.node,
                 len(assigned))
        self.relay.ready.set()


def node_relay(node: str, bootstrap: str | None = None) -> Relay:
    """The relay of ``node`` with its trust list and signing key from the configuration."""
    return Relay(node, bootstrap)


#: How a relay process is run: never with members' data keys, with the signing key.
RELAY_SERVICE = WithoutDataKeys(node_relay, keys=(config.SIGNING_KEY,))
