"""The synthetic crowd, one member at a time: her registration, membership, accounts and
group (her joining), then her year of deposits, remittances, withdrawals, a course, perhaps a
loan or a consent, and perhaps leaving (some returning home with their record, where they join
their home cooperative and save again). Pure: every draw comes from the plan's seeded
``random.Random``, in a fixed order."""

from __future__ import annotations

import datetime as dt
import random

from deploy.demo.calls import Call, Chain, Drafter, Kind, Session, money
from deploy.demo.catalogue import (
    COUNTRIES,
    HOME_COOPERATIVE,
    MIN_RETURNEES,
    RETURNEES_FROM,
    Coop,
)
from schemas.money import exponent


class CrowdDrafter(Drafter):
    """The drafter, and what it writes for one member of the crowd."""

    def member(self, number: int, coop: Coop, month: int, sessions: list[Session],
               kind: Kind) -> tuple[Chain, Chain]:
        """Her joining (registration, membership, accounts, group) and her year."""
        rng, ns, at = self.rng, self.crowd, f"member/{number}"
        member_id = self.id(ns, at)
        nationality = kind[0]
        person = self.person(kind, coop)
        started = self.day(month)
        role = "BOARD_MEMBER" if rng.random() < 0.04 else coop.role
        price = coop.share_price * 10 ** exponent(coop.currency)
        shares_id, savings_id = self.id(ns, f"{at}/shares"), self.id(ns, f"{at}/savings")
        node = self.node_of[coop.key]
        self.people[node] += 1
        opening: Chain = [
            self.node_admin(ns, f"{at}/register", node, "registerMember",
                            {"memberId": member_id, "cooperativeId": self.ids[coop.key],
                             "personal": person}),
            self.staff(ns, f"{at}/join", coop, "startMembership", {
                "memberId": member_id, "cooperativeId": self.ids[coop.key],
                "startedOn": started.isoformat(),
                "shareCapitalRequired": money(price * coop.shares, coop.currency),
                "role": role}),
            self.open(ns, f"{at}/open-shares", coop, shares_id, member_id, "SHARE_CAPITAL"),
            self.staff(ns, f"{at}/shares", coop, "purchaseShares",
                       {"accountId": shares_id, "shares": coop.shares})]
        if coop.savings:
            opening.append(self.open(ns, f"{at}/open-savings", coop, savings_id, member_id,
                                     "SAVINGS"))
        if self.groups[coop.key] and (coop.everyone_in_a_group or rng.random() < 0.3):
            group_id, _ = rng.choice(self.groups[coop.key])
            opening.append(self.staff(ns, f"{at}/group", coop, "assignMemberToGroup", {
                "cooperativeId": self.ids[coop.key], "groupId": group_id,
                "memberId": member_id}))

        # leaving, decided first so that nothing is planned after it
        # (the first MIN_RETURNEES host members from RETURNEES_FROM who could take a record
        # home do, together: a small demo would otherwise show no arrivals on some days, since
        # what the dice say depends on the calendar)
        elsewhere = [self.coops[k] for k in HOME_COOPERATIVE.get(nationality, ())
                     if self.node_of[k] != node]
        must_return = (coop.host and month <= 9 and self.returnees < MIN_RETURNEES
                       and nationality == RETURNEES_FROM and bool(elsewhere))
        leaves = month <= 9 and (rng.random() < 0.1 or must_return)
        left_on, reason = None, None
        if leaves:
            left_on = self.day(rng.randint(month + 2, 11), not_before=started)
            reason = _weighted(rng, (("RETURNED_HOME", 55), ("MOVED", 25), ("RESIGNED", 20))
                               if coop.host else (("MOVED", 40), ("RESIGNED", 60)))
            reason = "RETURNED_HOME" if must_return else reason
        last_day = left_on or self.today
        dated: list[tuple[dt.date, int, Call]] = []  # (day, rank, call): sorted stably below

        def on(day: dt.date, call: Call, rank: int = 0) -> None:
            dated.append((day, rank, call))

        # a year of money
        balance = 0
        relative = self.relative(nationality, coop)
        if coop.savings:
            payout = COUNTRIES[nationality].payout
            if not self.has_rate(coop.currency, payout):
                payout = coop.currency
            for m in range(month, (self.months.index(last_day.replace(day=1))) + 1):
                days = sorted(min(self.day(m, not_before=started), last_day) for _ in range(3))
                if rng.random() < 0.85:
                    amount = self.amount(coop, coop.deposit)
                    balance += amount
                    on(days[0], self.staff(ns, f"{at}/deposit/{m}", coop, "depositFunds",
                                           self.booked({"accountId": savings_id,
                                                        "amount": money(amount, coop.currency)},
                                                       days[0])))
                if coop.host and rng.random() < coop.remits:
                    amount = self.amount(coop, (50, 400, 10))
                    reserve = amount + amount // 25 + 2 * 10 ** exponent(coop.currency)
                    if reserve <= balance:  # a fee of at most 4 % + 2: never overdrawn
                        balance -= reserve
                        to = ({"account": {"accountId": relative}} if relative else
                              {"payout": {"country": nationality, "currency": payout,
                                          "recipient": {"fullName": self.relative_name(
                                              nationality, person)}}})
                        on(days[1], self.staff(ns, f"{at}/remittance/{m}", coop, "sendRemittance",
                                               self.booked({
                                                   "accountId": savings_id,
                                                   "remittanceId": self.id(ns, f"{at}/remittance/{m}"),
                                                   "amount": money(amount, coop.currency),
                                                   "to": to}, days[1])))
                if balance and rng.random() < 0.08:
                    unit = 10 ** exponent(coop.currency)
                    amount = balance * rng.randint(10, 40) // 100 // unit * unit
                    if amount:
                        balance -= amount
                        on(days[2], self.staff(ns, f"{at}/withdrawal/{m}", coop, "withdrawFunds",
                                               self.booked({"accountId": savings_id,
                                                            "amount": money(amount, coop.currency)},
                                                           days[2])))
        if coop.savings and not leaves and not relative and not coop.host:
            self.relatives[coop.key].append(savings_id)  # may receive a relative's remittances

        # a course
        if coop.courses and rng.random() < coop.learners:
            course = rng.choice(coop.courses)
            open_to_her = [x for x in sessions if x.coop is coop and x.course is course
                           and x.starts >= started and x.ends <= last_day]
            if open_to_her:
                self.learn(ns, at, member_id, rng.choice(open_to_her), on)

        # leaving, and perhaps taking her record home
        if leaves:
            home = self.home_for(nationality, coop) if reason == "RETURNED_HOME" else None
            if must_return:  # drawn, but she goes home whatever it said, with the others
                home = elsewhere[0]
            if home is not None:
                self.returnees += 1
                on(left_on, self.node_admin(ns, f"{at}/consent", node, "grantConsent", {
                    "memberId": member_id, "consentId": self.id(ns, f"{at}/consent"),
                    "granteeKind": "COOPERATIVE", "grantee": self.ids[home.key],
                    "scopes": ["IDENTITY", "MEMBERSHIP", "SAVINGS", "TRAINING"][
                        :4 if rng.random() < 0.7 else 3], "join": True,
                    "expiresAt": f"{self.today.year + 1}-12-31T00:00:00Z"}), 1)
            on(left_on, self.staff(ns, f"{at}/leave", coop, "endMembership", {
                "memberId": member_id, "cooperativeId": self.ids[coop.key], "reason": reason,
                "endedOn": left_on.isoformat()}), 1)
            if balance:
                on(left_on, self.staff(ns, f"{at}/withdraw-all", coop, "withdrawFunds",
                                       self.booked({"accountId": savings_id,
                                                    "amount": money(balance, coop.currency)},
                                                   left_on)), 1)
            on(left_on, self.staff(ns, f"{at}/redeem", coop, "redeemShares",
                                   {"accountId": shares_id}), 1)
            if home is not None:
                self.go_home(ns, at, member_id, coop, home, left_on, on)
        elif coop.loans and rng.random() < coop.loans:
            loan_id = self.id(ns, f"{at}/loan")
            low, high, step = coop.loan
            on(self.today, self.open(ns, f"{at}/open-loan", coop, loan_id, member_id, "LOAN"), 2)
            repaid = rng.random()
            for call in self.loan(ns, f"{at}/loan", coop, loan_id, self.amount(coop, coop.loan),
                                  rng.choice(("0.09", "0.10", "0.12", "0.14", "0.16")),
                                  rng.choice((6, 12, 18, 24)),
                                  self.today + dt.timedelta(days=rng.randint(1, 10)),
                                  paid_off=0.6 <= repaid < 0.75,
                                  instalments_paid=1 if repaid < 0.6 else 0):
                on(self.today, call, 2)
        elif coop.host and rng.random() < 0.03:  # letting her home cooperative see her savings
            home = self.home_for(nationality, coop, any_node=True)
            if home is not None:
                on(self.today, self.node_admin(ns, f"{at}/consent", node, "grantConsent", {
                    "memberId": member_id, "consentId": self.id(ns, f"{at}/consent"),
                    "granteeKind": "COOPERATIVE", "grantee": self.ids[home.key],
                    "scopes": ["MEMBERSHIP", "SAVINGS"],
                    "expiresAt": f"{self.today.year + 1}-12-31T00:00:00Z"}), 2)
        dated.sort(key=lambda entry: (entry[0], entry[1]))
        return opening, [call for _, _, call in dated]

    def person(self, kind: Kind, coop: Coop) -> dict:
        nationality, gender = kind
        rng, country = self.rng, COUNTRIES[nationality]
        given = rng.choice(country.men if gender == "MALE" else country.women if
                           gender == "FEMALE" else country.women + country.men)
        family = rng.choice(country.surnames)
        if country.two_surnames:
            family += " " + rng.choice(country.surnames)
        born = dt.date(self.today.year - rng.randint(19, 62), rng.randint(1, 12),
                       rng.randint(1, 28))
        languages = list(country.languages)
        if coop.languages[0] not in {tag.split("-")[0] for tag in languages} and rng.random() < 0.5:
            languages.append(coop.languages[0])
        person = {"givenNames": given, "familyNames": family, "dateOfBirth": born.isoformat(),
                  "nationality": nationality, "preferredLanguages": languages}
        return person | ({"gender": gender} if gender else {})

    def relative_name(self, nationality: str, person: dict) -> str:
        country = COUNTRIES[nationality]
        return (f"{self.rng.choice(country.women + country.men)} "
                f"{person['familyNames'].split(' ')[0]}")

    def relative(self, nationality: str, coop: Coop) -> str | None:
        """A relative's savings account at her home cooperative, when it is on this node and
        the demo's rate table converts to its currency (one node: the home cooperatives are
        there too)."""
        if not coop.host or not coop.savings or coop.remits == 0:
            return None
        for key in HOME_COOPERATIVE.get(nationality, ()):
            home = self.coops[key]
            if (self.node_of[key] == self.node_of[coop.key] and self.relatives[key]
                    and self.has_rate(coop.currency, home.currency)):
                return self.rng.choice(self.relatives[key]) if self.rng.random() < 0.5 else None
        return None

    def home_for(self, nationality: str, coop: Coop, any_node: bool = False) -> Coop | None:
        """Where a returnee takes her record: a cooperative of her country on another node."""
        if not coop.host:
            return None
        keys = [k for k in HOME_COOPERATIVE.get(nationality, ())
                if any_node or self.node_of[k] != self.node_of[coop.key]]
        if not keys or (not any_node and self.rng.random() < 0.4):
            return None
        return self.coops[keys[0] if len(keys) == 1 or self.rng.random() < 0.7 else keys[1]]

    def learn(self, ns, at: str, member_id: str, session: Session, on) -> None:
        rng, course, coop = self.rng, session.course, session.coop
        session.enrolled += 1
        on(session.starts, self.staff(ns, f"{at}/enrol", coop, "enrolLearner",
                                      {"courseId": session.id, "memberId": member_id}))
        outcome = rng.random()
        share = (10, 30) if outcome < 0.08 else (40, 79) if outcome < 0.2 else (80, 100)
        attended = max(1, course.hours * rng.randint(*share) // 100)
        attended_on = session.starts + dt.timedelta(
            days=rng.randint(0, (session.ends - session.starts).days))
        on(attended_on, self.staff(ns, f"{at}/attend", coop, "recordAttendance", {
            "courseId": session.id, "memberId": member_id, "hours": attended,
            "on": attended_on.isoformat()}))
        if outcome < 0.08:
            on(attended_on, self.staff(ns, f"{at}/withdraw-course", coop, "withdrawLearner", {
                "courseId": session.id, "memberId": member_id,
                "reason": rng.choice(("work shifts changed", "moved to another town",
                                      "family reasons"))}))
            return
        passed = outcome >= 0.2
        completion = {"courseId": session.id, "memberId": member_id,
                      "result": "PASSED" if passed else "FAILED",
                      "score": rng.randint(60, 98) if passed else rng.randint(25, 55),
                      "completedOn": session.ends.isoformat()}
        if passed and course.language:
            levels = ["A1", "A2", "B1", "B2", "C1", "C2"]
            target = levels.index(course.level)
            completion["levelAttained"] = levels[target - 1 if target and rng.random() < 0.2
                                                 else target]
        on(session.ends, self.staff(ns, f"{at}/complete", coop, "completeCourse", completion))
        if passed:
            issued = min(session.ends + dt.timedelta(days=rng.randint(0, 7)), self.today)
            on(issued, self.staff(ns, f"{at}/certificate", coop, "issueCertificate", {
                "courseId": session.id, "memberId": member_id,
                "certificateId": self.id(ns, f"{at}/certificate"),
                "issuedOn": issued.isoformat()}))

    def go_home(self, ns, at: str, member_id: str, coop: Coop, home: Coop, left_on: dt.date,
                on) -> None:
        """Her record goes home with her consent to join her home cooperative, which imports it
        (her membership there starts the day the record is issued, which is today: the demo
        plans a past year but sends it all now), opens her savings account, and she saves."""
        rng = self.rng
        self.people[self.node_of[home.key]] += 1
        home_on = self.today  # a record admits her from the day it was issued (today) on
        on(left_on, self.staff(ns, f"{at}/export", coop, "exportRecord", {
            "memberId": member_id, "recipient": {"cooperative": self.ids[home.key]}},
            keep="credential"), 1)
        on(home_on, self.staff(ns, f"{at}/import", home, "importRecord", {
            "cooperativeId": self.ids[home.key], "startedOn": home_on.isoformat(),
            "shareCapitalRequired": money(home.share_price * home.shares
                                          * 10 ** exponent(home.currency), home.currency)},
            needs="credential"), 1)
        savings_id = self.id(ns, f"{at}/home-savings")
        on(home_on, self.open(ns, f"{at}/open-home-savings", home, savings_id, member_id,
                              "SAVINGS"), 1)
        for m in range(self.months.index(home_on.replace(day=1)), 12):
            day = self.day(m, not_before=home_on)
            if rng.random() < 0.7:
                on(day, self.staff(ns, f"{at}/home-deposit/{m}", home, "depositFunds",
                                   self.booked({"accountId": savings_id, "amount": money(
                                       self.amount(home, home.deposit), home.currency)}, day)), 1)


def _weighted(rng: random.Random, pairs) -> str:
    values, weights = zip(*pairs)
    return rng.choices(values, weights)[0]
