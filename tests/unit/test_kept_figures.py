"""The figures kept as events arrive (``gateway.figures.kept``, issue 20) against the full scan
of every member (``gateway.figures.scan``), on the in-memory node:

* a random world folded both ways (cooperatives in two countries, members in one or two of
  them, groups joined and left, deposits and remittances over months, refunds, courses and
  certificates, records brought home, memberships ended, erasures, corrected details) gives
  the same atoms in every cooperative, the same members in their safe atoms, and the same
  answer to every question, at every step;
* an erasure withdraws her from every figure at once: no row of hers is left;
* marks written with a batch survive a crash before the follower ran (RocksDB);
* and every figures test of ``test_gateway_schema`` runs again here on kept figures (those
  that count the seals a scan opens are the scan's own).
"""

from __future__ import annotations

import datetime as dt
import inspect
import random

import msgspec
import pytest

from gateway.auth import Caller, Role
from gateway.figures import kept as kept_figures
from gateway.figures.disclosure import Question
from gateway.figures.kept import CLASS, COMPACT, DIRTY, KEPT, KeptFigures
from gateway.figures.scan import scan
from gateway.figures.types import answer_of
from gateway.fold import project
from gateway.store import RocksStore
from schemas import membership as m
from schemas import savings as s
from schemas.fields import Money as MoneyValue
from services.runtime.ids import new_id
from tests.unit import inmemory_node
from tests.unit import test_gateway_schema as schema_tests
from tests.unit.test_gateway_schema import (  # noqa: F401 - the figures tests, run again
    AHORRO,
    ANDINA,
    NOW,
    Node,
    cooperative,
    figures_of_this_moment,
)

#: The figures tests of ``test_gateway_schema`` that hold whatever computes the figures (the
#: others count the seals a scan opens: kept figures open one member's when she changes).
AGAIN = [name for name in (
    "test_aggregates_show_big_cells_and_suppress_small_ones",
    "test_aggregates_are_for_analysts_and_forget_the_erased",
    "test_grouping_by_month_gives_a_time_series_of_flows",
    "test_money_booked_last_month_counts_in_last_months_cell",
    "test_a_refunded_remittance_leaves_the_month_it_was_booked_in",
    "test_stats_for_one_gender_keep_the_small_cell_rule",
    "test_members_who_returned_home_and_records_brought_home_are_counted",
    "test_active_members_are_the_memberships_started_and_not_ended_today",
    "test_figures_by_group_for_analysts_and_the_cooperatives_own_admins",
    "test_a_period_counts_only_the_people_behind_its_figures",
    "test_all_members_minus_the_women_does_not_give_the_one_mans_savings",
    "test_a_cooperative_minus_its_groups_does_not_give_the_member_in_no_group",
    "test_two_groups_sharing_one_member_do_not_give_her_away",
    "test_a_group_minus_a_group_nested_in_it_does_not_give_the_one_outside",
    "test_each_cooperatives_groups_are_cells_of_their_own",
    "test_a_longer_period_minus_a_shorter_one_does_not_give_one_months_flows",
    "test_a_country_minus_its_cooperatives_does_not_give_a_small_cooperative",
    "test_the_figures_keep_a_bounded_number_of_answers",
    "test_the_live_feed_counts_only_the_members_in_a_safe_atom",
    "test_the_live_feed_counts_no_event_of_a_month_in_which_she_is_hidden",
)]


def keeping(node: Node) -> Node:
    """``node`` with figures kept, as the gateway keeps them."""
    node.views.figures = KeptFigures(node.views.store, node.views)
    return node


@pytest.fixture
async def node() -> Node:
    node = keeping(Node())
    for args in ((AHORRO, "Ahorro Solidario Madrid", "ES", "EUR", "25.00"),
                 (ANDINA, "Cooperativa Andina", "EC", "USD", "10.00")):
        assert (await node.mutate("registerCooperative", cooperative(*args)))["__typename"] == \
            "CommandAccepted"
    return node


@pytest.mark.parametrize("name", AGAIN)
async def test_the_figures_tests_hold_on_kept_figures(name, node, monkeypatch):
    test = getattr(schema_tests, name)
    marks = test.pytestmark if hasattr(test, "pytestmark") else []
    params = [mark for mark in marks if mark.name == "parametrize"]
    if params:  # none of these is parametrized today; say so if one becomes
        pytest.fail(f"{name} is parametrized: run it here with its parameters")
    wanted = inspect.signature(test).parameters
    await test(node, **({"monkeypatch": monkeypatch} if "monkeypatch" in wanted else {}))
    assert node.views.figures.settled  # the answers came from kept figures


# -- a random world, both ways ----------------------------------------------------------------

SEVILLA = new_id()
COOPERATIVES = {AHORRO: ("ES", "EUR"), SEVILLA: ("ES", "EUR"), ANDINA: ("EC", "USD")}
MONTHS = ("2026-06", "2026-07", "2026-08", "2026-09", "2026-10", "2026-11")
NATIONALITIES = ("EC", "PE", "CO")
GENDERS = ("FEMALE", "MALE", None)


def staff(cooperative_id: str) -> Caller:
    return Caller("staff", Role.STAFF, cooperative_id)


def admin(cooperative_id: str) -> Caller:
    return Caller("jefa", Role.ADMIN, cooperative_id)


def details(rng: random.Random, crowded: bool = False) -> dict:
    """Her details: of any nationality and gender, or, ``crowded``, mostly Ecuadorian women
    (so that many atoms are safe and the months are summed across)."""
    few = crowded and rng.random() < 0.9
    gender = "FEMALE" if few else rng.choice(GENDERS)
    found = {"givenNames": "Rosa", "familyNames": "Quispe", "dateOfBirth": "1988-04-17",
             "nationality": "EC" if few else rng.choice(NATIONALITIES),
             "preferredLanguages": ["es-EC"]}
    return {**found, "gender": gender} if gender else found


class World:
    """A node's random life, step by step (``seed``), through its mutations and commands."""

    def __init__(self, node: Node, seed: int):
        self.node, self.rng = node, random.Random(seed)
        self.crowded = seed % 2 == 1
        self.members: dict[str, list[str]] = {}  # member -> her cooperatives
        self.accounts: dict[str, tuple[str, str, str]] = {}  # account -> member, coop, currency
        self.groups: dict[str, list[str]] = {c: [] for c in COOPERATIVES}
        self.courses: dict[str, str] = {}  # course -> cooperative
        self.remittances: list[tuple[str, str]] = []
        self.erased: set[str] = set()

    async def ok(self, name: str, input: dict, caller: Caller) -> None:
        result = await self.node.mutate(name, input, caller)
        assert result["__typename"] == "CommandAccepted", (name, input, result)

    async def send(self, command, key: str) -> None:
        reply = await self.node.commands.send(command, key)
        assert reply.payload.accepted, (command, reply.payload)

    async def found(self) -> None:
        await self.ok("registerCooperative", cooperative(
            SEVILLA, "Cooperativa Sevilla", "ES", "EUR", "20.00"), inmemory_node_admin())
        for cooperative_id in COOPERATIVES:
            for _ in range(3):
                group = new_id()
                await self.ok("createMemberGroup", {
                    "cooperativeId": cooperative_id, "groupId": group, "name": "g",
                    "kind": self.rng.choice(("SOLIDARITY_GROUP", "SOCIETY"))},
                    admin(cooperative_id))
                self.groups[cooperative_id].append(group)
            course = new_id()
            await self.ok("offerCourse", {**schema_tests.SPANISH_COURSE, "courseId": course,
                                          "cooperativeId": cooperative_id},
                          admin(cooperative_id))
            self.courses[course] = cooperative_id

    def alive(self) -> list[str]:
        return [x for x in self.members if x not in self.erased]

    async def join(self, count: int) -> None:
        rng = self.rng
        for _ in range(count):
            member, home = new_id(), rng.choice(list(COOPERATIVES))
            await self.ok("registerMember", {
                "memberId": member, "personal": details(rng, self.crowded)}, staff(home))
            self.members[member] = []
            await self.start(member, home)
            if rng.random() < 0.2:  # a member of two cooperatives
                await self.start(member, rng.choice([c for c in COOPERATIVES if c != home]))

    async def start(self, member: str, cooperative_id: str) -> None:
        country, currency = COOPERATIVES[cooperative_id]
        await self.send(m.StartMembership(
            member_id=member, cooperative_id=cooperative_id,
            started_on=dt.date(2025 + self.rng.randrange(2), 1 + self.rng.randrange(10), 6),
            share_capital_required=MoneyValue(1000, currency)), member)
        self.members[member].append(cooperative_id)
        account = new_id()
        await self.ok("openAccount", {"accountId": account, "memberId": member,
                                      "cooperativeId": cooperative_id, "product": "SAVINGS",
                                      "currency": currency}, staff(cooperative_id))
        self.accounts[account] = (member, cooperative_id, currency)

    async def live(self, steps: int) -> None:
        rng = self.rng
        for _ in range(steps):
            roll = rng.random()
            account = rng.choice(list(self.accounts))
            member, cooperative_id, currency = self.accounts[account]
            if member in self.erased or not self.active(member, cooperative_id):
                continue
            month = rng.choice(MONTHS)
            booked = f"{month}-{rng.choice(('03', '10', '14'))}"
            if roll < 0.45:
                await self.ok("depositFunds", {"accountId": account, "bookedOn": booked,
                                               "amount": {"amount": str(rng.randrange(5, 900)),
                                                          "currency": currency}},
                              staff(cooperative_id))
            elif roll < 0.6 and COOPERATIVES[cooperative_id][0] == "ES":
                balance = self.node.views.get("accounts", account).balance.amount
                if balance < 10_000:
                    continue
                remittance = new_id()
                await self.ok("sendRemittance", {
                    "accountId": account, "remittanceId": remittance, "bookedOn": booked,
                    "amount": {"amount": "50.00", "currency": "EUR"},
                    "to": {"payout": {"country": "EC", "currency": "USD",
                                      "recipient": {"fullName": "Elvira"}}}},
                    staff(cooperative_id))
                self.remittances.append((account, remittance))
            elif roll < 0.65 and self.remittances:
                account, remittance = self.remittances.pop(rng.randrange(len(self.remittances)))
                if self.accounts[account][0] not in self.erased:
                    await self.send(s.RefundRemittance(account_id=account,
                                                       remittance_id=remittance,
                                                       reason="no payout partner"), account)
            elif roll < 0.78:
                group = rng.choice(self.groups[cooperative_id])
                record = self.node.views.get("members", member)
                inside = any(g.group_id == group for g in record.groups)
                if not any(x.cooperative_id == cooperative_id and x.ended_on is None
                           for x in record.memberships):
                    continue
                await self.ok("removeMemberFromGroup" if inside else "assignMemberToGroup",
                              {"cooperativeId": cooperative_id, "groupId": group,
                               "memberId": member}, admin(cooperative_id))
            elif roll < 0.85:
                await self.course(member, cooperative_id)
            elif roll < 0.88:
                await self.send(m.ImportRecord(
                    member_id=member, credential_id=new_id(), issuer_node="ec",
                    issued_at=NOW - dt.timedelta(days=1), digest="d" * 43,
                    history=m.ImportedHistory()), member)
            elif roll < 0.92:
                record = self.node.views.get("members", member)
                if any(x.cooperative_id == cooperative_id and x.ended_on is None
                       for x in record.memberships):
                    await self.ok("endMembership", {
                        "memberId": member, "cooperativeId": cooperative_id,
                        "reason": rng.choice(("RETURNED_HOME", "MOVED")),
                        "endedOn": rng.choice(("2026-11-10", "2026-11-15"))},
                        staff(cooperative_id))
            elif roll < 0.95:
                await self.ok("correctMemberDetails", {
                    "memberId": member, "personal": details(rng, self.crowded)},
                    staff(cooperative_id))

    def active(self, member: str, cooperative_id: str) -> bool:
        record = self.node.views.get("members", member)
        return any(x.cooperative_id == cooperative_id and x.ended_on is None
                   for x in record.memberships)

    async def course(self, member: str, cooperative_id: str) -> None:
        course = next(c for c, x in self.courses.items() if x == cooperative_id)
        record = self.node.views.get("members", member)
        if any(e.course_id == course for e in record.enrolments):
            return
        active = any(x.cooperative_id == cooperative_id and x.ended_on is None
                     for x in record.memberships)
        if not active:
            return
        await self.ok("enrolLearner", {"courseId": course, "memberId": member},
                      staff(cooperative_id))
        passed = self.rng.random() < 0.8
        await self.ok("completeCourse", {
            "courseId": course, "memberId": member, "result": "PASSED" if passed else "FAILED",
            "score": 84 if passed else 20, **({"levelAttained": "B1"} if passed else {}),
            "completedOn": "2026-06-26"}, staff(cooperative_id))
        if passed:
            await self.ok("issueCertificate", {
                "courseId": course, "memberId": member, "certificateId": new_id(),
                "issuedOn": self.rng.choice(("2026-06-30", "2026-07-02"))},
                staff(cooperative_id))

    async def erase(self, count: int) -> None:
        for member in self.rng.sample(self.alive(), count):
            await self.send(m.EraseMember(member_id=member), member)
            self.erased.add(member)


def inmemory_node_admin() -> Caller:
    return schema_tests.ADMIN


QUESTIONS = [Question(group_by=g, **f) for g in ("cooperative", "country", "corridor", "gender",
                                                  "month", "group")
             for f in ({}, {"country": "ES"}, {"cooperative_id": SEVILLA},
                       {"from_month": "2026-08", "to_month": "2026-10"},
                       {"gender": "female"}, {"from_month": "2026-11"})
             if not (g == "group" and "gender" in f)]


def canonical(atoms) -> dict:
    """An atom's figures, whoever holds them (member ids or classes)."""
    found = {}
    for atom in atoms.atoms:
        t = atom.tally
        found[(atom.corridor, atom.gender, atom.group, atom.month)] = (
            atom.published, t.people, t.joined, t.left, t.active, t.returned_home,
            len(t.arrivals), dict(t.deposits), dict(t.balances), t.sent, dict(t.volume),
            round(t.fee_sum, 18), t.fee_count, dict(t.courses), dict(t.levels), t.certificates)
    return found


async def assert_kept_equal_scanned(node: Node, members: list[str]) -> None:
    views, kept, today = node.views, node.views.figures, NOW.date()
    await kept.settle(node.keys)
    assert not kept.pending
    scanned, held = [], []
    for cooperative_id in COOPERATIVES:
        full = await scan(views, node.keys, cooperative_id, today, nothing)
        mine = await kept.atoms(cooperative_id, today)
        assert canonical(mine) == canonical(full), cooperative_id
        for slot in full.seen_in.keys() | mine.seen_in.keys():
            for attribute in ("safe_in", "seen_in"):
                theirs = getattr(full, attribute).get(slot, frozenset())
                ours = getattr(mine, attribute).get(slot, frozenset())
                assert {x for x in members if x in theirs} == {
                    x for x, who in zip(members, mine.who(members, slot), strict=True)
                    if who in ours}, (cooperative_id, slot, attribute)
        scanned.append(full)
        held.append(mine)
    for question in QUESTIONS:
        assert answer_of(held, question) == answer_of(scanned, question), question
    for day in (dt.date(2026, 11, 12), dt.date(2025, 6, 1)):  # stocks of other days too
        for cooperative_id in COOPERATIVES:
            assert canonical(await kept.atoms(cooperative_id, day)) == canonical(
                await scan(views, node.keys, cooperative_id, day, nothing)), day


@pytest.mark.parametrize("seed", range(6))
async def test_kept_figures_are_the_scans_through_a_nodes_life(node, seed):
    world = World(node, seed)
    await world.found()
    await world.join(45)
    await assert_kept_equal_scanned(node, list(world.members))
    await world.live(250)
    await assert_kept_equal_scanned(node, list(world.members))
    await world.erase(4)
    await world.live(100)
    await world.join(5)
    await assert_kept_equal_scanned(node, list(world.members))
    rows = node.views.store.raw_rows
    for member in world.erased:  # gone from every figure: no row names her
        assert not [k for k in rows if member.encode() in k and k.startswith(b"figures/")]


async def test_an_erasure_withdraws_her_from_every_figure_at_once(node):
    members = [(await schema_tests.rosa_joins(node))["rosa"] for _ in range(6)]
    kept = node.views.figures
    await kept.settle(node.keys)
    rosa = members[0]
    assert [k for k in node.views.store.raw_rows if k.startswith(KEPT + rosa.encode())]
    before = (await schema_tests.stats_cells(node, groupBy="COUNTRY"))["ES"]
    assert before["members"] == 6
    erased = await node.mutate("eraseMember", {"memberId": rosa}, schema_tests.MADRID_ADMIN)
    assert erased["__typename"] == "CommandAccepted"
    assert rosa in kept.pending  # marked with the batch that erased her
    after = (await schema_tests.stats_cells(node, groupBy="COUNTRY"))["ES"]
    assert after["members"] == 5  # the next answer, whatever was kept before
    assert after["savingsBalance"] == [{"amount": "6252.50"}]  # five of 1,250.50
    rows = node.views.store.raw_rows
    assert not [k for k in rows if k.startswith(b"figures/") and rosa.encode() in k]
    classes = [msgspec.msgpack.decode(v, type=kept_figures.Part)
               for k, v in rows.items() if k.startswith(CLASS)]
    assert sum(part.count for part in classes) == 5


async def test_an_erased_members_rows_are_compacted_even_after_a_crash(node):
    """Her withdrawn rows are compacted off the disk after the batch that withdraws them; a
    gateway that dies in between compacts them when it starts following again."""
    rosa = (await schema_tests.rosa_joins(node))["rosa"]
    for _ in range(4):
        await schema_tests.rosa_joins(node)
    kept = node.views.figures
    await kept.settle(node.keys)
    store = node.views.store
    compacted: list[bytes] = []

    def dies(prefix: bytes) -> None:
        raise OSError("the gateway dies before RocksDB compacts")

    store.compact = dies
    await node.mutate("eraseMember", {"memberId": rosa}, schema_tests.MADRID_ADMIN)
    with pytest.raises(OSError):
        await kept.settle(node.keys)
    assert not [k for k in store.raw_rows if k.startswith(KEPT + rosa.encode())]  # withdrawn
    assert [k for k in store.raw_rows if k.startswith(COMPACT)]  # the compaction owed

    store.compact = compacted.append
    again = KeptFigures(store, node.views)  # the gateway starts again
    async with again.following(node.keys):
        pass
    assert KEPT + rosa.encode() + b"/" in compacted
    assert not [k for k in store.raw_rows if k.startswith(COMPACT)]


async def test_marks_written_with_a_batch_survive_a_crash_before_the_follower(
        tmp_path, monkeypatch):
    """Every event is folded into a RocksDB store too, committed batch by batch but for the
    cooperatives' registrations; the store is closed before any figure is settled (a
    crash), opened again: the marks are there, and are settled. Then the registrations come
    (another partition may come that late: her corridor is written with her cooperative's
    country, so its members are marked again), and the figures are the scan's."""
    applied = []

    def recording(store, message):
        applied.append(message)
        return project(store, message)

    monkeypatch.setattr(inmemory_node, "project", recording)
    node = keeping(Node())
    for args in ((AHORRO, "Ahorro Solidario Madrid", "ES", "EUR", "25.00"),
                 (ANDINA, "Cooperativa Andina", "EC", "USD", "10.00")):
        assert (await node.mutate("registerCooperative", cooperative(*args)))["__typename"] == \
            "CommandAccepted"
    world = World(node, seed=7)
    await world.found()
    await world.join(20)
    await world.live(80)
    await world.erase(2)
    late = [x for x in applied if isinstance(x[1], m.CooperativeRegistered)]
    store = RocksStore(tmp_path / "store")
    early = [x for x in applied if x not in late]
    for start in range(0, len(early), 25):
        for message in early[start:start + 25]:
            project(store, message)
        store.commit()
    store.close()  # the gateway dies: nothing settled

    store = RocksStore(tmp_path / "store")
    try:
        views = RocksViews(store)
        kept = KeptFigures(store, views)
        marked = set(kept.pending)
        assert marked == set(world.members)  # each member's last batch marked her
        assert {k[len(DIRTY):].decode() for k, _ in store.raw_items(DIRTY)} == marked
        await kept.settle(node.keys)
        assert not kept.pending and not list(store.raw_items(DIRTY))
        for message in late:  # their cooperatives are registered after they were settled
            project(store, message)
        store.commit()
        assert kept.pending
        await kept.settle(node.keys)
        for cooperative_id in COOPERATIVES:
            atoms = await kept.atoms(cooperative_id, NOW.date())
            assert all(atom.corridor[:2] in ("ES", "EC") for atom in atoms.atoms
                       if atom.corridor)
            assert canonical(atoms) == canonical(
                await scan(views, node.keys, cooperative_id, NOW.date(), nothing))
        done, before = len(applied), set(world.erased)
        await world.erase(1)  # erased once settled: withdrawn, then compacted
        [erased] = world.erased - before
        assert list(store.raw_items(KEPT + erased.encode()))
        for message in applied[done:]:
            project(store, message)
        store.commit()
        await kept.settle(node.keys)
        assert not [k for k, _ in store.raw_items(b"figures/") if erased.encode() in k]
        assert not list(store.raw_items(COMPACT))  # and compacted (else still owed)
    finally:
        store.close()


async def nothing() -> None:
    return None


class RocksViews:
    """A RocksDB store read as views (committed documents)."""

    def __init__(self, store: RocksStore):
        self.store, self.stats = store, {"applied": 0}

    def get(self, table, key):
        return self.store.read(table, key)

    def rows(self, table, key, after=None):
        return self.store.rows(table, key, after)


@pytest.mark.parametrize("seed", [1, 3, 5])
async def test_atoms_answer_for_the_moment_they_were_made(seed):
    """Atoms kept for later (the answers' cache keeps them for a minute) answer as of when
    they were made, however the figures move meanwhile: a cell's people and its sums are
    of one moment, or the small-cell rule could show four people as five."""
    node = keeping(Node())
    for args in ((AHORRO, "Ahorro Solidario Madrid", "ES", "EUR", "25.00"),
                 (ANDINA, "Cooperativa Andina", "EC", "USD", "10.00")):
        await node.mutate("registerCooperative", cooperative(*args))
    world = World(node, seed)
    await world.found()
    await world.join(40)
    await world.live(200)
    kept = node.views.figures
    await kept.settle(node.keys)
    today = NOW.date()
    at_once = [await kept.atoms(c, today) for c in COOPERATIVES]
    kept_for_later = [await kept.atoms(c, today) for c in COOPERATIVES]
    expected = {q: answer_of(at_once, q) for q in QUESTIONS}
    await world.join(15)
    await world.live(100)
    await kept.settle(node.keys)
    assert {q: answer_of(kept_for_later, q) for q in QUESTIONS} == expected
    assert {q: answer_of([await kept.atoms(c, today) for c in COOPERATIVES], q)
            for q in QUESTIONS} != expected  # the figures did move
