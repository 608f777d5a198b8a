"""The demo's plan: everything ``coopbridge demo`` will send, in rounds (cooperatives; groups
and courses; members joining; a year of activity with Rosa's story), drawn from
``random.Random(seed)`` in a fixed order before anything is sent, with an idempotency key
per call from the seed. Pure: the same seed, members, nodes and day give the same plan.
What it contains, and why, is told in docs/demo.md."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from deploy.demo.calls import Call, Chain, Kind, Plan, Round, Session, money
from deploy.demo.catalogue import COOPERATIVES, HOST_SHARE, MIN_MEMBERS, Coop, Course, esco
from deploy.demo.crowd import CrowdDrafter
from schemas.money import exponent


def plan(seed: int, members: int, nodes: list[str], today: dt.date | None = None) -> Plan:
    """Everything the demo will send, drawn from ``random.Random(seed)`` in a fixed order."""
    if not nodes:
        raise ValueError("name at least one node")
    return _Planner(seed, members, nodes, today or dt.datetime.now(dt.UTC).date()).build()


class _Planner(CrowdDrafter):
    """The whole plan: its rounds, the course sessions, Rosa's story."""

    def build(self) -> Plan:
        cooperatives = Round("cooperatives", [[self.node_admin(
            self.root, f"cooperative/{c.key}", self.node_of[c.key], "registerCooperative", {
                "cooperativeId": self.ids[c.key], "name": c.name, "country": c.country,
                "kind": c.kind, "languages": list(c.languages), "node": self.node_of[c.key],
                "currency": c.currency,
                "sharePrice": money(c.share_price * 10 ** exponent(c.currency), c.currency)})]
            for c in COOPERATIVES])
        setting_up = Round("groups and courses", [[self.admin(
            self.root, f"group/{c.key}/{name}", c, "createMemberGroup", {
                "cooperativeId": self.ids[c.key], "groupId": group_id, "name": name,
                "kind": c.group_kind})] for c in COOPERATIVES
            for group_id, name in self.groups[c.key]])
        rosa_offers, rosa, rosa_ids = self.rosa()
        setting_up.chains += [[offer] for offer in rosa_offers]
        sessions = self.sessions()
        joining, living = Round("members join"), Round("a year of activity", [rosa])
        host_count = int((HOST_SHARE * self.members).to_integral_value())
        number = 0
        for host in (False, True):  # home first: a host member may remit to a relative there
            coops = [c for c in COOPERATIVES if c.host == host]
            counts = _shares(host_count if host else self.members - host_count,
                             [c.weight for c in coops])
            cohorts = [(coop, kind, size) for coop, count in zip(coops, counts)
                       for kind, people in _kinds(coop, count)
                       for size in _shares(people, [1] * max(1, min(12, people // MIN_MEMBERS)))]
            self.rng.shuffle(cohorts)
            for i, (coop, kind, size) in enumerate(cohorts):
                month = i * 12 // len(cohorts)  # cohorts spread over the year, from its start
                for _ in range(size):
                    opening, activity = self.member(number, coop, month, sessions, kind)
                    joining.chains.append(opening)
                    living.chains.append(activity)
                    number += 1
        for session in sessions:  # the capacity is known once everyone chose
            if session.enrolled:
                setting_up.chains.append([self.offer(
                    self.crowd, f"course/{session.id}", session.coop, session.id, session.course,
                    session.starts, session.ends,
                    session.enrolled + self.rng.randint(0, 8))])
        return Plan(self.seed, self.members, self.nodes, self.today,
                    {c.key: (self.ids[c.key], self.node_of[c.key]) for c in COOPERATIVES},
                    self.people, [cooperatives, setting_up, joining, living], rosa_ids)

    def sessions(self) -> list[Session]:
        """Each course of each cooperative starts every three months; only sessions that
        have ended by today are planned (completions and certificates are in the past)."""
        sessions = []
        for coop in COOPERATIVES:
            for course in coop.courses:
                for month in range(self.rng.randint(0, 2), 12, 3):
                    starts = self.months[month] + dt.timedelta(days=self.rng.randint(0, 6))
                    ends = starts + dt.timedelta(days=course.weeks * 7 - 3)
                    if ends <= self.today:
                        sessions.append(Session(
                            self.id(self.crowd, f"course/{coop.key}/{course.key}/{month}"),
                            coop, course, starts, ends))
        return sessions

    # -- Rosa

    def rosa(self) -> tuple[list[Call], Chain, dict[str, str]]:
        """Her story as the federation end-to-end test tells it, dated in the past year."""
        ns, rng = self.root, self.rng
        madrid, quito = self.coops["madrid"], self.coops["quito"]
        ids = {name: self.id(ns, f"rosa/{name}") for name in (
            "member", "shares", "savings", "loan", "spanish", "guide", "spanish-certificate",
            "guide-certificate", "remittance", "consent", "home-savings", "transfer")}
        rosa = ids["member"]
        spanish_starts = self.day(3)
        spanish_ends = spanish_starts + dt.timedelta(days=116)
        guide_starts = spanish_ends + dt.timedelta(days=rng.randint(10, 20))
        guide_ends = min(guide_starts + dt.timedelta(days=67), self.today)
        offers = [
            self.offer(ns, "rosa/spanish", madrid, ids["spanish"],
                       Course("es-B1", "LANGUAGE", (("es", "Español B1"),), 80, 17, "es-ES", "B1"),
                       spanish_starts, spanish_ends, 20),
            self.offer(ns, "rosa/guide", madrid, ids["guide"],
                       Course("guide", "VOCATIONAL", (("es", "Guía de turismo"),), 120, 10,
                              skills=(esco("5113"),)), guide_starts, guide_ends, 15)]
        story: Chain = [
            self.node_admin(ns, "rosa/register", self.host_node, "registerMember", {
                "memberId": rosa, "cooperativeId": self.ids["madrid"], "personal": {
                    "givenNames": "Rosa", "familyNames": "Quispe", "dateOfBirth": "1988-04-17",
                    "nationality": "EC", "preferredLanguages": ["es-EC"], "gender": "FEMALE"}}),
            self.staff(ns, "rosa/join", madrid, "startMembership", {
                "memberId": rosa, "cooperativeId": self.ids["madrid"],
                "startedOn": "2019-05-06",
                "shareCapitalRequired": {"amount": "50.00", "currency": "EUR"}}),
            self.open(ns, "rosa/open-shares", madrid, ids["shares"], rosa, "SHARE_CAPITAL"),
            self.staff(ns, "rosa/shares", madrid, "purchaseShares",
                       {"accountId": ids["shares"], "shares": 2}),
            self.open(ns, "rosa/open-savings", madrid, ids["savings"], rosa, "SAVINGS")]
        last = None
        for n, month in enumerate(range(5, 11)):  # six months of saving
            last = self.day(month, not_before=last)
            story.append(self.staff(ns, f"rosa/deposit/{n}", madrid, "depositFunds", self.booked(
                {"accountId": ids["savings"], "amount": {"amount": "150.00", "currency": "EUR"}},
                last)))
        story += [
            self.staff(ns, "rosa/remittance", madrid, "sendRemittance", self.booked({
                "accountId": ids["savings"], "remittanceId": ids["remittance"],
                "amount": {"amount": "200.00", "currency": "EUR"},
                "to": {"payout": {"country": "EC", "currency": "USD",
                                  "recipient": {"fullName": "Elvira"}}}},
                self.day(10, not_before=last))),
            self.open(ns, "rosa/open-loan", madrid, ids["loan"], rosa, "LOAN"),
            *self.loan(ns, "rosa/loan", madrid, ids["loan"], 1200_00, "0.12", 12,
                       self.today + dt.timedelta(days=rng.randint(1, 10)), paid_off=True),
            self.staff(ns, "rosa/enrol-spanish", madrid, "enrolLearner",
                       {"courseId": ids["spanish"], "memberId": rosa}),
            self.staff(ns, "rosa/complete-spanish", madrid, "completeCourse", {
                "courseId": ids["spanish"], "memberId": rosa, "result": "PASSED", "score": 84,
                "levelAttained": "B1", "completedOn": spanish_ends.isoformat()}),
            self.staff(ns, "rosa/certify-spanish", madrid, "issueCertificate", {
                "courseId": ids["spanish"], "memberId": rosa,
                "certificateId": ids["spanish-certificate"],
                "issuedOn": (spanish_ends + dt.timedelta(days=4)).isoformat()}),
            self.staff(ns, "rosa/enrol-guide", madrid, "enrolLearner",
                       {"courseId": ids["guide"], "memberId": rosa}),
            self.staff(ns, "rosa/complete-guide", madrid, "completeCourse", {
                "courseId": ids["guide"], "memberId": rosa, "result": "PASSED", "score": 91,
                "completedOn": guide_ends.isoformat()}),
            self.staff(ns, "rosa/certify-guide", madrid, "issueCertificate", {
                "courseId": ids["guide"], "memberId": rosa,
                "certificateId": ids["guide-certificate"], "issuedOn": guide_ends.isoformat()}),
            self.node_admin(ns, "rosa/consent", self.host_node, "grantConsent", {
                "memberId": rosa, "consentId": ids["consent"], "granteeKind": "COOPERATIVE",
                "grantee": self.ids["quito"],
                "scopes": ["IDENTITY", "MEMBERSHIP", "SAVINGS", "TRAINING"], "join": True,
                "expiresAt": f"{self.today.year + 2}-01-01T00:00:00Z"})]
        self.people[self.host_node] += 1
        home_node = self.node_of["quito"]
        if home_node == self.host_node:
            return offers, story, {}
        home_on = self.today  # a record admits her from the day it was issued (today) on
        story += [
            self.staff(ns, "rosa/export", madrid, "exportRecord", {
                "memberId": rosa, "recipient": {"cooperative": self.ids["quito"]}},
                keep="credential"),
            self.staff(ns, "rosa/import", quito, "importRecord", {
                "cooperativeId": self.ids["quito"], "startedOn": home_on.isoformat(),
                "shareCapitalRequired": {"amount": "10.00", "currency": "USD"}},
                needs="credential"),
            self.open(ns, "rosa/open-home-savings", quito, ids["home-savings"], rosa, "SAVINGS"),
            self.staff(ns, "rosa/transfer", madrid, "transferSavingsHome", {
                "accountId": ids["savings"], "transferId": ids["transfer"],
                "amount": {"amount": "300.00", "currency": "EUR"}, "toNode": home_node,
                "toAccountId": ids["home-savings"], "toCurrency": "USD"}),
            self.staff(ns, "rosa/leave", madrid, "endMembership", {
                "memberId": rosa, "cooperativeId": self.ids["madrid"],
                "reason": "RETURNED_HOME", "endedOn": self.today.isoformat()})]
        self.people[home_node] += 1
        return offers, story, {"member": rosa, "savings": ids["savings"],
                               "transfer": ids["transfer"], "cooperative": self.ids["madrid"],
                               "node": self.host_node}


def _kinds(coop: Coop, count: int) -> list[tuple[Kind, int]]:
    """Who a cooperative's ``count`` members are: how many of each kind (nationality and
    gender, as its mix and its share of women say; 2 % other, 3 % unstated), each kind taken
    by ``MIN_MEMBERS`` people or more, the commonest kinds first: those with at least half
    that many by their share, and always one."""
    weights = {(nationality, gender): share * part for nationality, share in coop.mix
               for gender, part in (("FEMALE", 95 * coop.women),
                                    ("MALE", 95 * (100 - coop.women)), ("OTHER", 200),
                                    (None, 300)) if share * part}
    ranked = sorted(weights, key=lambda kind: (-weights[kind], kind[0], kind[1] or ""))
    total = sum(weights.values())
    fit = [kind for kind in ranked if count * weights[kind] * 2 >= total * MIN_MEMBERS]
    chosen = ranked[:max(1, min(len(fit), count // MIN_MEMBERS))]
    return list(zip(chosen, _shares(count, [weights[kind] for kind in chosen])))


def _shares(total: int, weights: list[int]) -> list[int]:
    """``total`` split by ``weights`` (largest remainders), each at least ``MIN_MEMBERS``
    when there are enough people for that."""
    floor = min(MIN_MEMBERS, total // len(weights))
    rest = total - floor * len(weights)
    exact = [Decimal(rest * w) / sum(weights) for w in weights]
    counts = [int(x) for x in exact]
    by_remainder = sorted(range(len(weights)), key=lambda i: (counts[i] - exact[i], i))
    for i in by_remainder[:rest - sum(counts)]:
        counts[i] += 1
    return [floor + c for c in counts]
