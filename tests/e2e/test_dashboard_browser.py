"""The dashboard and the printable record in a real browser: Debian's Chromium (never a
downloaded one) driven by Playwright, against a node's real processes on a real broker.

Seeded over GraphQL: two Spanish cooperatives, each with five Ecuadorians and five Moroccans
of one gender (the atoms every figure is summed from: at least five people of one
cooperative, nationality and gender) and one Peruvian, alone in an atom (counted in no
figure: the corridor is merged away); deposits, remittances, courses with certificates,
members who went home; and Barcelona's general assembly, its voting closed, with five
Moroccan women living in Spain and six men living in Ecuador on its roll (the turnout's
atoms: one assembly, country of residence and gender). The page's numbers must be exactly what ``federationStats`` answers
over HTTP, before and after a filter changes, and five new members must show up by themselves
(the live subscription's window, shown once five people were behind it), without the redraw
taking the keyboard focus or a table's scroll position away, and announced as a summary
rather than event by event. axe-core (the copy the ``axe-playwright-python`` package ships, injected by
Playwright, so nothing is fetched) must find no WCAG 2.1 A or AA violation with the figures
loaded and after a live update.

Screenshots go to ``$COOPBRIDGE_SCREENSHOTS`` (``COOPBRIDGE_SCREENSHOTS=docs`` refreshes the
committed ``docs/dashboard.png`` and ``docs/record.png``), else to the test's temporary folder.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from gateway.auth import Role, issue_token
from gateway.figures.subscriptions import ACTIVITY_WINDOW
from services.runtime.ids import new_id
from tests.e2e.conftest import SERVICES, due_soon_paid_today, running_node

pytestmark = pytest.mark.kafka

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
REPO = Path(__file__).resolve().parents[2]
TODAY = dt.date.today()
#: deposits and remittances booked on three days 35 days apart (so in three months), the
#: last of them over a month ago; who returned home left after that
BOOKED = [TODAY - dt.timedelta(days=d) for d in (105, 70, 35)]
RETURNED_ON = (TODAY - dt.timedelta(days=20)).isoformat()
ONE_MONTH = BOOKED[1].strftime("%Y-%m")
LAST_MONTH = BOOKED[2].strftime("%Y-%m")

CELL = ("key suppressed members joined left activeMembers returnedHome arrivedHome remittancesSent "
        "remittanceVolume { amount currency } averageFeePercent savingsBalance { amount currency } "
        "deposits { amount currency } certificates")
STATS = "query($f: StatsFilter) { federationStats(filter: $f) { cells { %s } } }" % CELL
ACCEPTED = ("{ __typename ... on CommandAccepted { visible } "
            "... on Problem { code message } }")
#: axe-core's rules for WCAG 2.0 and 2.1, levels A and AA
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
CONNECTED_DOT = "rgb(61, 220, 132)"


@contextlib.contextmanager
def node_home(env: dict):
    """The node's COOPBRIDGE_HOME while tokens are issued (its signing key lives there)."""
    before = os.environ.get("COOPBRIDGE_HOME")
    os.environ["COOPBRIDGE_HOME"] = env["COOPBRIDGE_HOME"]
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("COOPBRIDGE_HOME", None)
        else:
            os.environ["COOPBRIDGE_HOME"] = before


class Gateway:
    """The node's GraphQL endpoint over plain HTTP (the browser's event loop owns this thread,
    so no asyncio here)."""

    def __init__(self, url: str):
        self.url = url
        self.http = httpx.Client(timeout=60)

    def query(self, token: str, document: str, **variables) -> dict:
        response = self.http.post(self.url, json={"query": document, "variables": variables},
                                  headers={"authorization": f"Bearer {token}"})
        body = response.json()
        assert not body.get("errors"), body["errors"]
        return body["data"]

    def mutate(self, token: str, name: str, input: dict) -> None:
        type_name = name[0].upper() + name[1:] + "Input"
        data = self.query(token, f"mutation($i: {type_name}!) {{ {name}(input: $i) "
                                 f"{ACCEPTED} }}", i=input)
        result = data[name]
        assert result["__typename"] == "CommandAccepted" and result["visible"], (name, result)

    def stats(self, token: str, **filter) -> dict[str, dict]:
        data = self.query(token, STATS, f=filter)
        return {cell["key"]: cell for cell in data["federationStats"]["cells"]}


def person(given: str, family: str, nationality: str, gender: str) -> dict:
    return {"givenNames": given, "familyNames": family, "dateOfBirth": "1990-02-11",
            "nationality": nationality, "gender": gender.upper(),
            "preferredLanguages": ["es" if nationality != "MA" else "ar"],
            **({"residence": LIVES_IN[given]} if given in LIVES_IN else {})}


#: (given names, family names, nationality, gender, which cooperative, joined on): in each
#: cooperative five Ecuadorians and five Moroccans of one gender, and a Peruvian alone. Joins
#: in 2025-03 show for everyone and for women, 2025-09 for everyone and for men, not for
#: women (one Peruvian woman joined then), Peru never.
PEOPLE = [
    ("Rosa", "Quispe", "EC", "female", "madrid", "2025-03-03"),
    ("Carmen", "Tenorio", "EC", "female", "madrid", "2025-03-03"),
    ("Lucía", "Andrade", "EC", "female", "madrid", "2025-03-10"),
    ("Mercedes", "Guamán", "EC", "female", "madrid", "2025-03-10"),
    ("Gladys", "Chicaiza", "EC", "female", "madrid", "2025-03-17"),
    ("Youssef", "Benali", "MA", "male", "madrid", "2025-09-01"),
    ("Karim", "El Idrissi", "MA", "male", "madrid", "2025-09-08"),
    ("Said", "Amrani", "MA", "male", "madrid", "2025-09-08"),
    ("Mehdi", "Berrada", "MA", "male", "madrid", "2025-09-15"),
    ("Rachid", "Ziani", "MA", "male", "madrid", "2025-09-22"),
    ("Ana", "Huamán", "PE", "female", "madrid", "2025-09-22"),
    ("Fatima", "Zahra Alaoui", "MA", "female", "barcelona", "2025-03-03"),
    ("Samira", "Bennani", "MA", "female", "barcelona", "2025-03-10"),
    ("Khadija", "Tahiri", "MA", "female", "barcelona", "2025-03-17"),
    ("Naima", "Chraibi", "MA", "female", "barcelona", "2025-03-17"),
    ("Leila", "Fassi", "MA", "female", "barcelona", "2025-03-24"),
    ("Jorge", "Pillajo", "EC", "male", "barcelona", "2025-09-01"),
    ("Wilson", "Toapanta", "EC", "male", "barcelona", "2025-09-01"),
    ("Segundo", "Cando", "EC", "male", "barcelona", "2025-09-08"),
    ("Byron", "Lema", "EC", "male", "barcelona", "2025-09-15"),
    ("Darwin", "Tipán", "EC", "male", "barcelona", "2025-09-15"),
    ("Luis", "Condori", "PE", "male", "barcelona", "2025-09-29"),
]
#: who went home (their memberships ended, reason returned home), all in one month and one
#: atom (Barcelona's Ecuadorian men)
RETURNING = {"Jorge", "Wilson", "Segundo", "Byron", "Darwin"}
#: who said where they live (the others live in their cooperative's country, or at home
#: once they went home)
LIVES_IN = {"Luis": "EC"}
#: who votes at Barcelona's assembly: on paper, at the meeting
VOTERS = ("Fatima", "Samira", "Khadija", "Jorge", "Luis")
WINDOW = 8  # seconds Barcelona's voting stays open
TURNOUT = """query($f: TurnoutFilter) { assemblyTurnout(filter: $f) { assemblies cells {
  suppressed assemblyId residence gender onRoll voted inPerson turnoutPercent } } }"""
#: five Ecuadorian women who join in Madrid while the page is open
NEWCOMERS = ("Nube", "Killa", "Sisa", "Wayra", "Yaku")


def seed(gateway: Gateway, node: str, env: dict) -> dict:
    madrid, barcelona = new_id(), new_id()
    with node_home(env):
        admin = issue_token(node, Role.NODE_ADMIN)
        staff = {c: issue_token(node, Role.STAFF, c) for c in (madrid, barcelona)}
        boss = issue_token(node, Role.ADMIN, madrid)
        analyst = issue_token(node, Role.ANALYST)
    coops = {"madrid": madrid, "barcelona": barcelona}
    for cid, name, kind in ((madrid, "Ahorro Solidario Madrid", "SAVINGS_AND_CREDIT"),
                            (barcelona, "Cooperativa Treball Barcelona", "WORKER")):
        gateway.mutate(admin, "registerCooperative", {
            "cooperativeId": cid, "name": name, "country": "ES", "kind": kind,
            "languages": ["es"], "node": node, "currency": "EUR",
            "sharePrice": {"amount": "25.00", "currency": "EUR"}})
    spanish, guiding = new_id(), new_id()
    gateway.mutate(boss, "offerCourse", {
        "courseId": spanish, "cooperativeId": madrid, "kind": "LANGUAGE",
        "titles": [{"language": "es", "title": "Español B1"}], "languageTaught": "es-ES",
        "targetLevel": "B1", "hours": 80, "startsOn": "2026-03-02", "endsOn": "2026-06-26",
        "capacity": 30})
    gateway.mutate(boss, "offerCourse", {
        "courseId": guiding, "cooperativeId": madrid, "kind": "VOCATIONAL",
        "titles": [{"language": "es", "title": "Guía turístico"}],
        "skills": [{"isco08": {"code": "5113"}}], "hours": 120, "startsOn": "2026-07-01",
        "endsOn": "2026-10-15", "capacity": 30})
    members: dict[str, str] = {}
    accounts: dict[str, str] = {}

    def life(index: int, given, family, nationality, gender, coop_name, joined):
        member, account = new_id(), new_id()
        members[given], accounts[given] = member, account
        coop = coops[coop_name]
        token = staff[coop]
        gateway.mutate(token, "registerMember", {
            "memberId": member, "personal": person(given, family, nationality, gender)})
        gateway.mutate(token, "startMembership", {
            "memberId": member, "cooperativeId": coop, "startedOn": joined,
            "shareCapitalRequired": {"amount": "50.00", "currency": "EUR"}})
        gateway.mutate(token, "openAccount", {
            "accountId": account, "memberId": member, "cooperativeId": coop,
            "product": "SAVINGS", "currency": "EUR"})
        gateway.mutate(token, "depositFunds", {
            "accountId": account, "bookedOn": (BOOKED[0] - dt.timedelta(days=3)).isoformat(),
            "amount": {"amount": f"{900 + 35 * index}.50", "currency": "EUR"}})
        home = {"EC": "USD", "MA": "MAD", "PE": "PEN"}[nationality]
        for n, day in enumerate(BOOKED):
            gateway.mutate(token, "sendRemittance", {
                "accountId": account, "remittanceId": new_id(), "bookedOn": day.isoformat(),
                "amount": {"amount": f"{(100, 60, 180)[n] + 10 * index}.00", "currency": "EUR"},
                "to": {"payout": {"country": nationality, "currency": home,
                                  "recipient": {"fullName": f"family of {given}"}}}})
        if coop == madrid and nationality == "EC" and gender == "female":
            for step, input in (
                    ("enrolLearner", {"courseId": spanish, "memberId": member}),
                    ("recordAttendance", {"courseId": spanish, "memberId": member,
                                          "hours": 76, "on": "2026-06-20"}),
                    ("completeCourse", {"courseId": spanish, "memberId": member,
                                        "result": "PASSED", "score": 70 + index,
                                        "levelAttained": "A2" if index % 3 == 1 else "B1",
                                        "completedOn": "2026-06-26"}),
                    ("issueCertificate", {"courseId": spanish, "memberId": member,
                                          "certificateId": new_id(),
                                          "issuedOn": "2026-06-30"})):
                gateway.mutate(token, step, input)
        if given in RETURNING:
            gateway.mutate(token, "endMembership", {
                "memberId": member, "cooperativeId": coop, "reason": "RETURNED_HOME",
                "endedOn": RETURNED_ON})

    with ThreadPoolExecutor(6) as pool:  # members in parallel, each one's steps in order
        list(pool.map(lambda args: life(*args), [(i, *p) for i, p in enumerate(PEOPLE)]))
    # Rosa: a loan repaid on time, and a second certificate, for her printed record
    rosa, loan = members["Rosa"], new_id()
    first_due, paid_today = due_soon_paid_today()
    gateway.mutate(staff[madrid], "openAccount", {
        "accountId": loan, "memberId": rosa, "cooperativeId": madrid, "product": "LOAN",
        "currency": "EUR"})
    gateway.mutate(boss, "disburseLoan", {
        "accountId": loan, "principal": {"amount": "1200", "currency": "EUR"},
        "annualRate": "0.12", "termMonths": 12, "firstDueOn": first_due})
    gateway.mutate(staff[madrid], "recordRepayment", {
        "accountId": loan, "amount": {"amount": "106.62", "currency": "EUR"},
        "paidOn": paid_today})
    for step, input in (
            ("enrolLearner", {"courseId": guiding, "memberId": rosa}),
            ("recordAttendance", {"courseId": guiding, "memberId": rosa, "hours": 118,
                                  "on": "2026-10-14"}),
            ("completeCourse", {"courseId": guiding, "memberId": rosa, "result": "PASSED",
                                "score": 91, "completedOn": "2026-10-15"}),
            ("issueCertificate", {"courseId": guiding, "memberId": rosa,
                                  "certificateId": new_id(), "issuedOn": "2026-10-20"})):
        gateway.mutate(staff[madrid], step, input)
    with node_home(env):
        board = issue_token(node, Role.ADMIN, barcelona)
    assembly = hold_assembly(gateway, board, staff[barcelona], barcelona, members)
    products = insure(gateway, node, env, admin, staff[madrid], madrid, members, accounts)
    return {"admin": admin, "analyst": analyst, "staff": staff[madrid], "madrid": madrid,
            "barcelona": barcelona, "members": members, "assembly": assembly,
            "products": products}


PRODUCTS = """{ insuranceProducts { productId name { text } figures { policiesIssued inForce
  lapsed claims approved rejected premiumsCollected { amount currency }
  benefitsPaid { amount currency } lossRatio suppressed } } }"""


def insure(gateway: Gateway, node: str, env: dict, admin: str, staff: str, madrid: str,
           members: dict[str, str], accounts: dict[str, str]) -> list[str]:
    """An insurer of the node with two products: Madrid's five Ecuadorian women take the
    first (their benefit their average remittance, in dollars, as their families received),
    Youssef alone the second (no dollar remittances: he names his benefit); each first
    premium paid at once by their standing instruction (the insurer is at this very node)."""
    insurer, repatriation, basic = new_id(), new_id(), new_id()
    gateway.mutate(admin, "registerCooperative", {
        "cooperativeId": insurer, "name": "Seguros Andinos", "country": "ES",
        "kind": "INSURANCE", "languages": ["es"], "node": node, "currency": "USD",
        "sharePrice": {"amount": "10.00", "currency": "USD"}})
    with node_home(env):
        insurers = issue_token(node, Role.ADMIN, insurer)
    for product, name, premium in ((repatriation, "Repatriación y remesa segura", "12.00"),
                                   (basic, "Repatriación básica", "6.00")):
        gateway.mutate(insurers, "offerProduct", {
            "productId": product, "cooperativeId": insurer,
            "names": [{"language": "es", "text": name}], "currency": "USD",
            "repatriationLimit": {"amount": "4000.00", "currency": "USD"},
            "monthlyBenefitCap": {"amount": "300.00", "currency": "USD"},
            "premium": {"amount": premium, "currency": "USD"}})
    for given, product in (*((g, repatriation) for g in
                             ("Rosa", "Carmen", "Lucía", "Mercedes", "Gladys")),
                           ("Youssef", basic)):
        gateway.mutate(staff, "grantConsent", {
            "memberId": members[given], "consentId": new_id(), "granteeKind": "NODE",
            "grantee": node, "scopes": ["INSURANCE"], "expiresAt": "2031-01-01T00:00:00Z"})
        gateway.mutate(staff, "applyForPolicy", {
            "coverId": new_id(), "memberId": members[given], "cooperativeId": madrid,
            "insurerNode": node, "productId": product, "currency": "USD",
            "accountId": accounts[given], "startsOn": dt.date.today().isoformat(),
            "payees": [{"accountId": accounts[given], "sharePercent": 100}],
            **({"requestedBenefit": {"amount": "150.00", "currency": "USD"}}
               if product == basic else {})})
    deadline = time.monotonic() + 90
    while True:  # issued and the first premiums collected, as the insurer reads its figures
        seen = {p["productId"]: p["figures"] for p in
                gateway.query(insurers, PRODUCTS)["insuranceProducts"]}
        if seen[repatriation]["premiumsCollected"]["amount"] == "60.00" and \
                seen[basic]["premiumsCollected"]["amount"] == "6.00":
            return [repatriation, basic]
        assert time.monotonic() < deadline, seen
        time.sleep(0.5)


def hold_assembly(gateway: Gateway, board: str, staff: str, coop: str,
                  members: dict[str, str]) -> str:
    """Barcelona's general assembly, its record date before its Ecuadorians went home (so
    they are on its roll), five of its members voting on paper; its voting closed."""
    gateway.mutate(board, "setBylaws", {
        "cooperativeId": coop, "generalNoticeDays": 0, "extraordinaryNoticeDays": 0,
        "maxProxiesPerHolder": 1, "challengeDays": 30})
    now = dt.datetime.now(dt.UTC)
    closes = now + dt.timedelta(seconds=WINDOW)
    assembly, motion = new_id(), new_id()
    gateway.mutate(board, "conveneAssembly", {
        "assemblyId": assembly, "cooperativeId": coop, "kind": "GENERAL",
        "titles": [{"language": "es", "text": "Asamblea general"}],
        "meetingOn": now.date().isoformat(),
        "recordDate": (now.date() - dt.timedelta(days=25)).isoformat(),
        "votingOpensAt": now.isoformat(), "votingClosesAt": closes.isoformat(),
        "quorumPercent": 10})
    gateway.mutate(board, "addMotion", {
        "assemblyId": assembly, "motionId": motion, "kind": "RESOLUTION",
        "titles": [{"language": "es", "text": "Cuentas del ejercicio"}]})
    gateway.mutate(staff, "freezeRoll", {"assemblyId": assembly})
    for given in VOTERS:
        gateway.mutate(staff, "checkInMember", {"assemblyId": assembly,
                                                "memberId": members[given]})
        cast = gateway.query(staff, "mutation($i: BallotInput!) { recordPaperBallot(input: $i) "
                                    "{ __typename ... on Problem { code message } } }", i={
            "assemblyId": assembly, "motionId": motion, "memberId": members[given],
            "choices": ["for"]})["recordPaperBallot"]
        assert cast["__typename"] == "BallotAccepted", (given, cast)
    time.sleep(max(0.0, (closes - dt.datetime.now(dt.UTC)).total_seconds()) + 1)
    gateway.mutate(staff, "closeVoting", {"assemblyId": assembly})
    return assembly


@pytest.fixture(scope="module")
def node_processes(kafka_bootstrap, tmp_path_factory):
    """The node's services, governance, insurance and the relay too (her cover is kept at
    this node, her insurer's too), and its gateway, each a process of its own."""
    with running_node(kafka_bootstrap, tmp_path_factory.mktemp("node"),
                      services=(*SERVICES, "governance", "insurance", "federation")) as node:
        yield node


@pytest.fixture(scope="module")
def seeded(node_processes):
    node, url, env = node_processes
    gateway = Gateway(url)
    world = seed(gateway, node, env)
    return {**world, "gateway": gateway, "base": url.removesuffix("/graphql"), "node": node,
            "env": env}


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def shots(tmp_path) -> Path:
    folder = os.environ.get("COOPBRIDGE_SCREENSHOTS")
    path = (REPO / folder if folder and not os.path.isabs(folder) else Path(folder)) \
        if folder else tmp_path
    path.mkdir(parents=True, exist_ok=True)
    return path


def open_page(browser, url: str, graphql=None):
    """A new tab at ``url``; ``graphql`` (a Playwright route handler) may stand between the
    page and ``/graphql``."""
    context = browser.new_context(viewport={"width": 1360, "height": 900}, locale="en-GB",
                                  timezone_id="UTC", device_scale_factor=1)
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    if graphql is not None:
        page.route("**/graphql", graphql)
    page.goto(url)
    return page, problems


def assert_accessible(page, when: str) -> None:
    """axe-core finds no violation of WCAG 2.1 A or AA on the page as it is now."""
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_21_AA},
                                       "resultTypes": ["violations"]})
    assert results.response["passes"], f"{when}: axe-core checked nothing"
    assert results.violations_count == 0, f"{when}: {results.generate_report()}"


def dot_colour(page) -> str:
    return page.eval_on_selector("[data-testid=live-status] .dot",
                                 "dot => getComputedStyle(dot).backgroundColor")


def wait_until_live(page) -> None:
    page.wait_for_selector("[data-testid=live-status][data-live=connected]", timeout=30_000)
    assert dot_colour(page) == CONNECTED_DOT


def tile(page, key: str) -> dict[str, str]:
    """An overview tile: its main figure and the figures beside it (by data-field)."""
    return page.eval_on_selector(f"[data-testid=tile-{key}]", """tile => {
        const found = {value: tile.querySelector('.tile-value').textContent,
                       label: tile.querySelector('.tile-label').textContent};
        for (const f of tile.querySelectorAll('[data-field]')) found[f.dataset.field] = f.textContent;
        return found;
    }""")


def table(page, testid: str) -> dict[str, dict[str, str]]:
    """A chart's table: row key -> field -> the text shown."""
    return page.eval_on_selector(f"[data-testid={testid}]", """table => {
        const rows = {};
        for (const tr of table.querySelectorAll("tbody tr")) {
            const cells = {};
            for (const td of tr.querySelectorAll("[data-field]")) {
                cells[td.dataset.field] = td.textContent;
            }
            rows[tr.dataset.key] = cells;
        }
        return rows;
    }""")


def wait_for_render(page, after: int = 0, country: str = "", cooperative: str = "",
                    since: str = "", until: str = "") -> int:
    """Waits for a drawing newer than ``after`` of the figures for these filters."""
    asked = {"country": country, "cooperative": cooperative, "from": since, "to": until}
    page.wait_for_function("""([n, asked]) => document.body.dataset.state === 'ready'
        && Number(document.body.dataset.renders) > n
        && document.body.dataset.filters === JSON.stringify(asked)""",
                           arg=[after, asked], timeout=60_000)
    return int(page.evaluate("document.body.dataset.renders"))


def money(cells: list[dict] | None) -> str:
    return ", ".join(f"{group(m['amount'])}\u00a0{m['currency']}" for m in cells or []) or "0"


def group(amount: str) -> str:
    whole, _, fraction = amount.partition(".")
    whole = f"{int(whole):,}"
    return f"{whole}.{fraction}" if fraction else whole


def month_label(key: str) -> str:
    return dt.date(int(key[:4]), int(key[5:]), 1).strftime("%b %Y")


def test_the_dashboard_shows_exactly_what_federation_stats_answers(seeded, browser, shots):
    gateway, analyst = seeded["gateway"], seeded["analyst"]
    page, problems = open_page(browser, f"{seeded['base']}/dashboard#token={analyst}")
    renders = wait_for_render(page)
    assert "token" not in page.url  # taken out of the address bar at once

    # corridors: Ecuador and Morocco into Spain are shown, Peru (one person in each
    # cooperative, so in no figure) is merged away
    corridors = gateway.stats(analyst, groupBy="CORRIDOR")
    shown = table(page, "corridors-table")
    assert set(shown) == {"ES-EC", "ES-MA", "*"} == set(corridors)
    for key in ("ES-EC", "ES-MA"):
        cell = corridors[key]
        assert shown[key]["members"] == str(cell["members"])
        assert shown[key]["joined"] == str(cell["joined"])
        assert shown[key]["left"] == str(cell["left"])
        assert shown[key]["sent"] == str(cell["remittancesSent"])
        assert shown[key]["volume"] == money(cell["remittanceVolume"])
    assert (corridors["ES-EC"]["members"], corridors["ES-MA"]["members"]) == (10, 10)
    assert shown["*"]["members"].startswith("fewer than 5")
    assert not re.search(r"\d", shown["*"]["members"].replace("5", ""))

    # Barcelona's assembly: turnout by country of residence and gender, as the gateway says
    turnout = gateway.query(analyst, TURNOUT, f={"groupBy": ["ASSEMBLY", "RESIDENCE",
                                                             "GENDER"]})["assemblyTurnout"]
    cells = {f"{c['assemblyId']}/{c['residence']}/{c['gender']}": c for c in turnout["cells"]}
    assembly = seeded["assembly"]
    assert {k: (c["onRoll"], c["voted"], c["turnoutPercent"]) for k, c in cells.items()} == {
        f"{assembly}/EC/male": (6, 2, "33.3"), f"{assembly}/ES/female": (5, 3, "60.0")}
    rows = table(page, "turnout-table")
    assert set(rows) == set(cells)
    for key, cell in cells.items():
        assert rows[key]["roll"] == str(cell["onRoll"])
        assert rows[key]["voted"] == str(cell["voted"])
        assert rows[key]["inPerson"] == str(cell["inPerson"])
        assert rows[key]["turnout"] == cell["turnoutPercent"] + " %"
        assert rows[key]["assembly"].startswith("Asamblea general")

    # the insurer's products: the five women's policies in full, Youssef's held back
    products = {p["productId"]: p for p in gateway.query(analyst, PRODUCTS)[
        "insuranceProducts"]}
    repatriation, basic = seeded["products"]
    rows = table(page, "insurance-table")
    assert set(rows) == {repatriation, basic}
    five = products[repatriation]["figures"]
    assert (five["policiesIssued"], five["inForce"], five["premiumsCollected"]) == (
        5, 5, {"amount": "60.00", "currency": "USD"})
    assert rows[repatriation]["product"] == "Repatriación y remesa segura"
    alone = products[basic]["figures"]
    assert alone["suppressed"] and alone["policiesIssued"] is None  # one policy
    for product, figures in ((repatriation, five), (basic, alone)):  # as the gateway says
        for field, column in (("policiesIssued", "issued"), ("inForce", "inForce"),
                              ("lapsed", "lapsed"), ("claims", "claims"),
                              ("approved", "approved")):
            value = figures[field]
            assert rows[product][column] == ("not shown" if value is None else str(value))
        for field, column in (("premiumsCollected", "premiums"), ("benefitsPaid", "paid")):
            value = figures[field]
            assert rows[product][column] == ("not shown" if value is None else
                                             f"{group(value['amount'])}\u00a0USD")
    assert rows[repatriation]["lossRatio"] == five["lossRatio"] == "0.0000"
    assert rows[basic]["issued"] == rows[basic]["inForce"] == rows[basic]["premiums"] \
        == rows[basic]["lossRatio"] == "not shown"

    # one month: its remittances, and the month they went home
    months = gateway.stats(analyst, groupBy="MONTH")
    remittances = table(page, "remittances-table")
    month = months[ONE_MONTH]
    assert remittances[ONE_MONTH] == {
        "month": month_label(ONE_MONTH), "sent": str(month["remittancesSent"]),
        "volume": money(month["remittanceVolume"]), "fee": month["averageFeePercent"] + "%"}
    assert month["remittancesSent"] == 20  # not the two Peruvians'
    assert set(remittances) >= {b.strftime("%Y-%m") for b in BOOKED}
    returns = table(page, "returns-table")
    assert returns[RETURNED_ON[:7]]["returned"] == str(months[RETURNED_ON[:7]]["returnedHome"]) == "5"

    # members over time: the women's series shows March 2025 (10 joined), not September
    # (one Peruvian woman)
    growth = table(page, "members-table")
    assert growth["2025-03"]["female"] == "10 (+10, \u22120)"
    assert growth["2025-09"]["female"] == "\u2014"
    assert growth["2025-09"]["male"] == "10 (+10, \u22120)"
    assert growth["2025-09"]["growth"] == "20 (+10, \u22120)"

    # the members tile: members today, with who joined and who left beside them
    places = gateway.stats(analyst, groupBy="COUNTRY")
    assert set(places) == {"ES"}
    members = tile(page, "members")
    assert members["label"] == "Active members today"
    assert members["value"] == str(places["ES"]["activeMembers"]) == "15"  # 20 joined, 5 went home
    assert (members["joined"], members["left"]) == (str(places["ES"]["joined"]),
                                                    str(places["ES"]["left"])) == ("20", "5")

    # every chart is drawn on its canvas (savings: one per currency), and each canvas names
    # its explanation and its table for assistive technology
    for chart in ("corridors", "members", "savings-EUR", "remittances", "training", "cefr",
                  "returns"):
        assert page.evaluate(f"Boolean(Chart.getChart(document.getElementById('{chart}-canvas')))")
    ties = page.eval_on_selector_all("#charts canvas", """canvases => canvases.map(c => {
        const details = document.getElementById(c.getAttribute('aria-details'));
        const table = details && details.querySelector('table');
        const described = (c.getAttribute('aria-describedby') || '').split(' ')
            .map(id => document.getElementById(id));
        return [c.id, c.getAttribute('role'), c.getAttribute('aria-label'),
                table ? table.dataset.testid : null,
                described.every(Boolean) ? described.map(d => d.textContent).join(' ') : ''];
    })""")
    assert {t[0] for t in ties} == {"corridors-canvas", "members-canvas", "savings-EUR-canvas",
                                    "remittances-canvas", "training-canvas", "cefr-canvas",
                                    "returns-canvas"}
    for canvas, role, label, table_id, description in ties:
        assert role == "img" and label.endswith("(figures in the table below)"), canvas
        assert table_id == canvas.split("-")[0] + "-table", canvas
        assert description.strip(), canvas
    wait_until_live(page)
    assert_accessible(page, "with the figures loaded")
    page.screenshot(path=str(shots / "dashboard.png"), full_page=True)

    # a period: one month; every figure follows the filter
    page.fill("[data-testid=filter-from]", LAST_MONTH)
    renders = wait_for_render(page, renders, since=LAST_MONTH)
    page.fill("[data-testid=filter-to]", LAST_MONTH)
    renders = wait_for_render(page, renders, since=LAST_MONTH, until=LAST_MONTH)
    period = gateway.stats(analyst, groupBy="CORRIDOR", fromMonth=LAST_MONTH,
                           toMonth=LAST_MONTH)
    shown = table(page, "corridors-table")
    for key in ("ES-EC", "ES-MA"):
        assert shown[key]["joined"] == str(period[key]["joined"]) == "0"
        assert shown[key]["members"] == str(period[key]["members"])
        assert shown[key]["volume"] == money(period[key]["remittanceVolume"])
        assert shown[key]["volume"] != money(corridors[key]["remittanceVolume"])
    assert set(table(page, "remittances-table")) == {LAST_MONTH}

    # a country, then a cooperative: the savings chart goes by cooperative
    page.click("#filter-reset")
    renders = wait_for_render(page, renders)
    page.select_option("[data-testid=filter-country]", "ES")
    renders = wait_for_render(page, renders, country="ES")
    by_coop = gateway.stats(analyst, groupBy="COOPERATIVE", country="ES")
    savings = table(page, "savings-table")
    assert set(savings) == set(by_coop) == {seeded["madrid"], seeded["barcelona"]}
    for key, cell in by_coop.items():
        assert savings[key]["balance"] == money(cell["savingsBalance"])
        assert savings[key]["members"] == str(cell["members"])
    assert savings[seeded["madrid"]]["place"] == "Ahorro Solidario Madrid"
    page.select_option("[data-testid=filter-cooperative]", seeded["madrid"])
    renders = wait_for_render(page, renders, country="ES", cooperative=seeded["madrid"])
    only = gateway.stats(analyst, groupBy="CORRIDOR", cooperativeId=seeded["madrid"])
    shown = table(page, "corridors-table")
    assert set(shown) == set(only)
    assert all(shown[k]["members"] == str(c["members"]) for k, c in only.items()
               if not c["suppressed"])

    # live: five Ecuadorian women join in Madrid and save; the page redraws by itself
    page.click("#filter-reset")
    renders = wait_for_render(page, renders)
    wait_until_live(page)
    before = int(table(page, "corridors-table")["ES-EC"]["members"])
    active = int(tile(page, "members")["value"])
    words = page.text_content("#live-text")
    assert "new event" not in words
    # on a phone, a keyboard user has scrolled the corridors table sideways to read its
    # figures; a screen reader listens
    page.set_viewport_size({"width": 390, "height": 844})
    region = page.locator("#corridors-numbers .table-scroll")
    region.focus()
    assert region.evaluate("""region => {
        region.scrollLeft = 60;
        window.focusedBefore = document.activeElement;
        window.heard = [];
        const said = document.querySelector('[data-testid=live-announce]');
        new MutationObserver(() => heard.push([Date.now(), said.textContent]))
            .observe(said, {childList: true, characterData: true, subtree: true});
        return region.scrollLeft;
    }""") == 60  # the table is wider than the phone
    events = int(page.evaluate("document.body.dataset.events || '0'"))
    accounts = []
    for given in NEWCOMERS:
        newcomer, account = new_id(), new_id()
        accounts.append(account)
        gateway.mutate(seeded["staff"], "registerMember", {
            "memberId": newcomer, "personal": person(given, "Yupanqui", "EC", "female")})
        gateway.mutate(seeded["staff"], "startMembership", {
            "memberId": newcomer, "cooperativeId": seeded["madrid"],
            "startedOn": TODAY.isoformat(),
            "shareCapitalRequired": {"amount": "50.00", "currency": "EUR"}})
        gateway.mutate(seeded["staff"], "openAccount", {
            "accountId": account, "memberId": newcomer, "cooperativeId": seeded["madrid"],
            "product": "SAVINGS", "currency": "EUR"})
        gateway.mutate(seeded["staff"], "depositFunds", {
            "accountId": account, "amount": {"amount": "10.00", "currency": "EUR"}})
    # a window of the feed shows its counts once five people were behind them: if its end
    # fell among their events, each side had fewer, and they save again
    for _ in range(3):
        try:
            page.wait_for_function("n => Number(document.body.dataset.events) >= n",
                                   arg=events + 5, timeout=(ACTIVITY_WINDOW + 10) * 1000)
            break
        except PlaywrightTimeout:
            for account in accounts:
                gateway.mutate(seeded["staff"], "depositFunds", {
                    "accountId": account, "amount": {"amount": "1.00", "currency": "EUR"}})
    assert int(page.evaluate("document.body.dataset.events || '0'")) >= events + 5
    page.wait_for_function("""n => {
        const row = document.querySelector('[data-testid=corridors-table] tr[data-key="ES-EC"] '
                                            + '[data-field=members]');
        return row && Number(row.textContent) === n;
    }""", arg=before + 5, timeout=30_000)
    page.wait_for_function("""n => Number(document.querySelector(
        '[data-testid=tile-members] .tile-value').textContent) === n""", arg=active + 5,
                           timeout=30_000)
    assert "new event" in page.text_content("#live-text")
    assert page.get_attribute("[data-testid=live-status]", "data-live") == "connected"
    # the redraws left the focus and the scroll position where they were
    assert page.evaluate("document.activeElement === window.focusedBefore")
    assert region.evaluate("region => region.scrollLeft") == 60
    # the screen reader hears a summary, never more often than every ten seconds
    page.wait_for_function("() => heard.some(h => /new event/.test(h[1]))", timeout=30_000)
    heard = page.evaluate("heard")
    assert len(heard) < 5
    assert all(b[0] - a[0] >= 9_500 for a, b in zip(heard, heard[1:], strict=False)), heard
    assert_accessible(page, "after a live update")
    assert not [p for p in problems if "Content Security Policy" in p or "Refused" in p], problems
    assert problems == [], problems


def test_the_printable_record_shows_her_history_and_a_qr_code(seeded, browser, shots):
    rosa = seeded["members"]["Rosa"]
    page, problems = open_page(
        browser, f"{seeded['base']}/record#member={rosa}&lang=en&token={seeded['staff']}")
    page.wait_for_function("() => document.body.dataset.state === 'ready'", timeout=60_000)
    assert "token" not in page.url and rosa in page.url
    assert page.locator("[data-testid=member-name]").text_content() == "Rosa Quispe"
    svg = page.locator("[data-testid=qr-code] svg")
    assert svg.count() == 1 and svg.get_attribute("viewBox")
    assert page.locator("[data-testid=qr-code] svg path").count() >= 1
    certificates = page.locator("[data-testid=certificates-table]").text_content()
    assert "Español B1" in certificates and "Guía turístico" in certificates
    assert "CEFR" in certificates and "ISCO-08 5113" in certificates
    loans = page.locator("[data-testid=loans-table]").text_content()
    assert "1 made: 1 on time, 0 late" in loans
    assert "Ahorro Solidario Madrid" in page.locator("[data-testid=memberships-table]").text_content()
    assert "Ecuador" in page.locator("[data-testid=remittances-table]").text_content()
    page.screenshot(path=str(shots / "record.png"), full_page=True)
    summary = seeded["gateway"].query(seeded["staff"], "query($id: ID!) { printableRecord("
                                      "memberId: $id) { credential } }", id=rosa)
    size = len(summary["printableRecord"]["credential"].encode())
    print(f"QR payload (signed summary): {size} bytes")
    assert size <= 2000
    page.emulate_media(media="print")
    assert not page.locator("[data-testid=print]").is_visible()  # the toolbar is not printed
    assert page.locator("[data-testid=qr-code] svg").is_visible()
    assert problems == [], problems

    # another cooperative's staff sees no record (and the page says so)
    with node_home(seeded["env"]):
        outsider = issue_token(seeded["node"], Role.STAFF, new_id())
    other, _ = open_page(browser, f"{seeded['base']}/record#member={rosa}&token={outsider}")
    other.wait_for_function("() => document.body.dataset.state === 'error'", timeout=30_000)
    assert other.locator("[data-testid=qr-code] svg").count() == 0


def test_without_a_token_in_the_address_the_page_asks_for_one(seeded, browser):
    page, problems = open_page(browser, f"{seeded['base']}/dashboard")
    page.wait_for_selector("[data-testid=token-form]")
    assert page.locator("[data-testid=filters]").is_hidden()
    # nothing is connected yet: the live dot is not green
    assert page.text_content("[data-testid=live-status]") == "Not connected"
    assert dot_colour(page) != CONNECTED_DOT
    page.fill("[data-testid=token-input]", f"Bearer {seeded['admin']}")  # the node admin's
    page.click("[data-testid=token-form] button[type=submit]")
    wait_for_render(page)
    assert table(page, "corridors-table")["ES-EC"]["members"].isdigit()
    assert page.evaluate("sessionStorage.getItem('coopbridge.token')") == seeded["admin"]
    wait_until_live(page)  # green once the subscription is connected
    assert problems == [], problems


def test_money_in_each_currency_is_charted_on_its_own_scale(seeded, browser):
    """XOF millions and euros on one axis would flatten the euros: the page draws a savings
    chart per currency, and gives each currency of remittances its own axis. The gateway's
    answer gains a Senegalese cell saving in XOF and a month of remittances in USD on its way
    to the page (this node's cooperatives all keep euros)."""
    def with_francs(route):
        if "query Dashboard" not in (route.request.post_data or ""):
            route.continue_()
            return
        response = route.fetch()
        body = response.json()
        places = body["data"]["places"]["cells"]
        places.append({**places[0], "key": "SN",
                       "savingsBalance": [{"amount": "12500000", "currency": "XOF"}]})
        month = next(c for c in body["data"]["months"]["cells"] if c["remittancesSent"])
        month["remittanceVolume"].append({"amount": "90000.00", "currency": "USD"})
        route.fulfill(response=response, json=body)

    page, problems = open_page(browser, f"{seeded['base']}/dashboard#token={seeded['analyst']}",
                               graphql=with_francs)
    wait_for_render(page)
    charts = page.eval_on_selector_all("#savings-charts canvas", """canvases => canvases.map(c => {
        const chart = Chart.getChart(c);
        return [c.id, chart.data.labels, chart.data.datasets.length, chart.scales.y.max];
    })""")
    assert [c[:3] for c in charts] == [["savings-EUR-canvas", ["Spain (ES)"], 1],
                                       ["savings-XOF-canvas", ["Senegal (SN)"], 1]]
    assert charts[0][3] < 100_000 <= 12_500_000 <= charts[1][3]  # each on its own scale
    assert table(page, "savings-table")["SN"]["balance"] == "12,500,000\u00a0XOF"
    remittances = page.evaluate("""() => {
        const chart = Chart.getChart(document.getElementById('remittances-canvas'));
        return chart.data.datasets.map(d => [d.label, d.yAxisID, chart.scales[d.yAxisID].max]);
    }""")
    assert [r[:2] for r in remittances] == [["Sent (EUR)", "sent-EUR"], ["Sent (USD)", "sent-USD"],
                                            ["Average fee %", "fee"]]
    assert remittances[0][2] < 90_000 <= remittances[1][2]
    assert problems == [], problems


# -- her own page (issue 23) -----------------------------------------------------------------

ISSUE_CODE = """mutation($input: IssueMemberAccessInput!) { issueMemberAccess(input: $input) {
    __typename ... on MemberAccessCode { code } } }"""
#: (the page's #lang, the languages of her record's columns, the page's dir, its file names)
HER_LANGUAGES = [("es-ES,es-EC", ["es-ES", "es-EC"], "ltr", "es"),
                 ("it-IT,tl", ["it-IT", "tl"], "ltr", "it-tl"),
                 ("ar", ["ar"], "rtl", "ar")]


def her_code(seeded, member: str) -> str:
    issued = seeded["gateway"].query(seeded["staff"], ISSUE_CODE, input={"memberId": member})
    assert issued["issueMemberAccess"]["__typename"] == "MemberAccessCode", issued
    return issued["issueMemberAccess"]["code"]


def fits(page, width: int, when: str) -> None:
    """Nothing runs off a screen ``width`` px wide: no sideways scrolling, no box past it."""
    page.set_viewport_size({"width": width, "height": 800})
    page.wait_for_timeout(100)
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"{when}: {scroll} px wide at {width}"
    outside = page.evaluate("""(width) => [...document.querySelectorAll('body *')]
        .filter(e => e.getClientRects().length && getComputedStyle(e).visibility !== 'hidden')
        .filter(e => { const r = e.getBoundingClientRect(); return r.right > width + 0.5
                       || r.left < -0.5; })
        .filter(e => !e.closest('dialog:not([open])'))
        .map(e => e.tagName + '.' + e.className + ' ' + (e.textContent || '').slice(0, 30))""",
                            width)
    assert outside == [], f"{when}: {outside[:5]}"


def test_her_own_page_in_her_languages_on_a_desktop_and_a_phone(seeded, browser, shots):
    rosa = seeded["members"]["Rosa"]
    expires = (dt.datetime.now(dt.UTC) + dt.timedelta(days=30)).isoformat()
    seeded["gateway"].mutate(seeded["staff"], "grantConsent", {
        "memberId": rosa, "consentId": new_id(), "granteeKind": "COOPERATIVE",
        "grantee": seeded["barcelona"], "scopes": ["MEMBERSHIP"], "expiresAt": expires})
    for lang, columns, direction, name in HER_LANGUAGES:
        page, problems = open_page(browser, f"{seeded['base']}/me#lang={lang}")
        page.wait_for_function("() => document.body.dataset.state === 'code'", timeout=30_000)
        page.fill("[data-testid=code-input]", her_code(seeded, rosa))
        page.click("[data-testid=code-form] button[type=submit]")
        page.wait_for_function("() => document.body.dataset.state === 'ready'", timeout=60_000)
        assert page.evaluate("document.documentElement.dir") == direction
        shown = page.eval_on_selector_all("[data-testid=column]",
                                          "cs => cs.map(c => [c.lang, c.dir])")
        assert [c[0] for c in shown] == columns, shown
        assert [c[1] for c in shown] == ["rtl" if c == "ar" else "ltr" for c in columns]
        assert page.locator("[data-testid=qr-code] svg").count() == 1
        assert page.locator("[data-testid=consent]").count() >= 1
        assert_accessible(page, f"/me in {lang} at 1360 px")
        page.screenshot(path=str(shots / f"member-{name}.png"), full_page=True)
        fits(page, 320, f"/me in {lang}")
        assert_accessible(page, f"/me in {lang} at 320 px")
        page.screenshot(path=str(shots / f"member-{name}-320.png"), full_page=True)
        record, more = open_page(
            browser, f"{seeded['base']}/record#member={rosa}&lang={lang}&token={seeded['staff']}")
        record.wait_for_function("() => document.body.dataset.state === 'ready'",
                                 timeout=60_000)
        assert record.evaluate("document.documentElement.lang") == columns[0]
        assert_accessible(record, f"/record in {lang} at 1360 px")
        record.screenshot(path=str(shots / f"record-{name}.png"), full_page=True)
        fits(record, 320, f"/record in {lang}")
        assert_accessible(record, f"/record in {lang} at 320 px")
        record.screenshot(path=str(shots / f"record-{name}-320.png"), full_page=True)
        assert problems == [] and more == [], (problems, more)
    # the Spanish and the Ecuadorian columns write the same days and amounts each their way
    page, _ = open_page(browser, f"{seeded['base']}/record#member={rosa}&lang=es-ES,es-EC"
                                 f"&token={seeded['staff']}")
    page.wait_for_function("() => document.body.dataset.state === 'ready'", timeout=60_000)
    spain, ecuador = page.eval_on_selector_all(
        "[data-testid=column] [data-testid=savings] td[data-label]:nth-child(3)",
        "cells => cells.map(c => c.textContent)")[:2]
    assert spain != ecuador and "€" in spain and "EUR" in ecuador, (spain, ecuador)


def test_she_revokes_a_consent_in_one_click_and_a_title_she_cannot_read_is_marked(
        seeded, browser):
    rosa = seeded["members"]["Rosa"]
    expires = (dt.datetime.now(dt.UTC) + dt.timedelta(days=30)).isoformat()
    seeded["gateway"].mutate(seeded["staff"], "grantConsent", {
        "memberId": rosa, "consentId": new_id(), "granteeKind": "COOPERATIVE",
        "grantee": seeded["barcelona"], "scopes": ["SAVINGS"], "expiresAt": expires})
    page, problems = open_page(browser, f"{seeded['base']}/me#lang=qu")
    page.wait_for_function("() => document.body.dataset.state === 'code'", timeout=30_000)
    page.fill("[data-testid=code-input]", her_code(seeded, rosa))
    page.click("[data-testid=code-form] button[type=submit]")
    page.wait_for_function("() => document.body.dataset.state === 'ready'", timeout=60_000)
    # Quechua: no catalogue, so the words are English; her course, titled only in Spanish,
    # shows its Spanish title, marked as such
    title = page.locator("[data-testid=certificates-table] td span[lang=es]").first
    assert title.text_content() == "Español B1"
    marked = page.locator("[data-testid=certificates-table] td .fallback").first
    assert marked.text_content().strip() == "(in Spanish)"
    before = page.locator("[data-testid=revoke]").count()
    assert before >= 1
    page.locator("[data-testid=revoke]").first.click()
    assert page.locator("[data-testid=confirm]").is_visible()
    assert_accessible(page, "the confirmation dialog")
    page.click("[data-testid=yes-revoke]")
    page.wait_for_function(f"() => document.querySelectorAll('[data-testid=revoke]').length"
                           f" === {before - 1}", timeout=30_000)
    # signing out: this browser forgets her token (her access stays: a code serves once)
    page.click("[data-testid=sign-out]")
    page.wait_for_function("() => document.body.dataset.state === 'code'", timeout=30_000)
    assert page.evaluate("sessionStorage.getItem('coopbridge.token')") is None
    assert problems == [], problems
