"""``coopbridge demo``: a believable federation, seeded through the public GraphQL API only.

What it creates (all of it from ``random.Random(seed)``, drawn in a fixed order before anything
is sent, so concurrency never changes a draw; every id is a UUIDv5 of the seed and a name):

* **Rosa's story** (``tests/e2e/test_federation_over_http.py``, with its inputs): her Spanish
  savings and credit cooperative at the first node, her shares, monthly savings, a remittance
  home, a small loan repaid, Spanish B1 and tour-guide certificates, her consent to her home
  cooperative; with a second node, her record exported and imported there, her home account,
  her savings sent home and her host membership ended (returned home). One node: up to the
  consent.
* **A synthetic federation** of ``members`` people in 14 cooperatives of 8 countries: host
  cooperatives (Spain, Italy, the United States) at the first node, home cooperatives
  (Ecuador, the Philippines, Morocco, Mexico, Senegal) at the others: savings and credit
  with remittances, a multi-purpose save-and-invest cooperative, a returnees' start-up, worker
  cooperatives, a training cooperative, a miners' cooperative whose members work in
  societies, an argan producers' cooperative. A cooperative's members come in kinds
  (nationality and gender) of at least ``MIN_MEMBERS`` people, who join in cohorts of that
  size spread over the year: the federation's figures count no atom of fewer than 5 people
  (``docs/figures.md``), and even a small demo shows every cooperative.
* **A year of monthly activity** in the 12 calendar months ending with the current one:
  memberships starting, monthly deposits, remittances (a payout at home, or a relative's
  account when her home cooperative is on the same node), some withdrawals, courses (language
  with CEFR targets, vocational with ESCO skills, business start-up) with completions and
  certificates, members leaving (some returned home, and some of those taking their record
  to their home cooperative), a few consents, and loans with their first repayments.

Dates are never ahead of today, with two exceptions the rules impose: a loan's first
instalment falls due after today (the savings service refuses anything else), and a consent
expires in the future.

Every mutation carries an idempotency key derived from the seed, so running the same seed
again sends the same commands under the same keys and gets the logged answers back: nothing
new happens. Cooperatives, their groups and Rosa are named by the seed alone; the members,
their courses and their money by the seed and ``members``, so another ``--members`` adds
another crowd to the same cooperatives.

It shows its progress as a bar on a terminal and as a line every ``PROGRESS_EVERY_S`` in a
log. Ctrl-C (``demo`` itself, or ``up --demo``) stops it at once: the requests in flight are
dropped, and it says how far it got and how to finish (the same command again).

It talks HTTP to the nodes' gateways with tokens it signs itself (same machine, same
``COOPBRIDGE_HOME``): the node admin registers cooperatives and people and records consents
(so that a re-run is authorised even once she has left), the cooperatives' admins create
groups, offer courses and grant loans, their staff do the rest. Names go into GraphQL inputs
only (the gateway seals them); nothing personal is printed.
"""

from __future__ import annotations

import asyncio
import calendar
import datetime as dt
import random
import re
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

import httpx
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from gateway.auth import Role
from schemas import savings as s
from schemas.fields import Money
from schemas.money import exponent, major_text
from services.savings.arithmetic import annuity_schedule
from services.savings.rates import load_rates

#: The ``sub`` of every token the demo signs: its idempotency keys are this caller's.
SUBJECT = "coopbridge-demo"
NAMESPACE = uuid.UUID("5d1e4f0c-8a53-4b7e-9d55-2f0f6a3c7b11")

# ---- SWITCH: booking dates ----------------------------------------------------------------
#: Send ``bookedOn`` with deposits, withdrawals and remittances, so that they fall in the
#: months they belong to. On by itself where the contracts have the field (version 2 of
#: DepositFunds, WithdrawFunds and SendRemittance); set it to False to book everything today.
BOOKED_ON = all("booked_on" in c.__struct_fields__
                for c in (s.DepositFunds, s.WithdrawFunds, s.SendRemittance))
# --------------------------------------------------------------------------------------------


# == the catalogue: countries and cooperatives ==============================================


@dataclass(frozen=True)
class Country:
    women: tuple[str, ...]
    men: tuple[str, ...]
    surnames: tuple[str, ...]
    languages: tuple[str, ...]
    payout: str  # the currency a payout there is made in
    two_surnames: bool = False


COUNTRIES = {
    "EC": Country(("María José", "Gabriela", "Verónica", "Mayra", "Lorena", "Diana", "Mercedes"),
                  ("Luis Alberto", "Jorge", "Édison", "Wilson", "Byron", "Fausto", "Segundo"),
                  ("Guamán", "Chimbo", "Andrade", "Morocho", "Pillajo", "Tenesaca", "Zhunio",
                   "Cando", "Paucar", "Quishpe"), ("es-EC",), "USD", True),
    "CO": Country(("Luz Marina", "Yuliana", "Paola", "Sandra", "Marisol"),
                  ("Jhon Fredy", "Andrés", "Wilmer", "Yeison", "Óscar"),
                  ("Restrepo", "Quintero", "Mosquera", "Cardona", "Ospina", "Valencia"),
                  ("es-CO",), "COP", True),
    "PE": Country(("Flor", "Yesenia", "Rocío", "Milagros"), ("Wálter", "Jhonatan", "Percy", "Ulises"),
                  ("Huamán", "Mamani", "Condori", "Flores", "Apaza", "Ccahuana"),
                  ("es-PE", "qu"), "PEN", True),
    "MA": Country(("Fatima Zahra", "Khadija", "Naima", "Samira", "Hafsa", "Itto"),
                  ("Mohamed", "Youssef", "Abdelkader", "Hicham", "Rachid"),
                  ("El Idrissi", "Benali", "Ouchen", "Aït Lahcen", "Amrani", "Bouzid"),
                  ("ar-MA", "fr-MA"), "MAD"),
    "PH": Country(("Maricel", "Jocelyn", "Lorna", "Rowena", "Analyn", "Grace"),
                  ("Romeo", "Rodel", "Arnel", "Noel", "Jun"),
                  ("Dela Cruz", "Santos", "Reyes", "Bautista", "Villanueva", "Manalo"),
                  ("fil-PH", "en-PH"), "PHP"),
    # no EUR-XOF rate in the demo table: payouts to Senegal are made in euros
    "SN": Country(("Awa", "Fatou", "Khady", "Mame Diarra", "Ndeye"),
                  ("Mamadou", "Modou", "Cheikh", "Ousmane", "Babacar"),
                  ("Diop", "Ndiaye", "Fall", "Sarr", "Gueye", "Mbaye"), ("wo-SN", "fr-SN"), "EUR"),
    "MX": Country(("Guadalupe", "Maricela", "Araceli", "Leticia", "Yesenia"),
                  ("José Luis", "Juan Carlos", "Efraín", "Ramiro", "Martín"),
                  ("Hernández", "García", "Ramírez", "Saucedo", "Escobedo", "Ávila"),
                  ("es-MX",), "MXN", True),
    "GT": Country(("Ixchel", "Marta Lidia", "Rosaura", "Heidy"), ("Édgar", "Mynor", "Selvin", "Byron"),
                  ("Ajú", "Xicará", "Tzul", "Coc", "Pérez", "López"), ("es-GT",), "GTQ", True),
}


@dataclass(frozen=True)
class Course:
    key: str
    kind: str  # CourseKind
    titles: tuple[tuple[str, str], ...]  # (language, title)
    hours: int
    weeks: int
    language: str | None = None  # language courses: the language taught and the CEFR target
    level: str | None = None
    skills: tuple[tuple[str, str], ...] = ()  # ("esco", uri) | ("isco08", code)


def _esco(isco: str) -> tuple[str, str]:
    """ESCO's concept of an ISCO-08 unit group (``http://data.europa.eu/esco/isco/C5113``)."""
    return ("esco", f"http://data.europa.eu/esco/isco/C{isco}")


def _start_up(*titles: tuple[str, str]) -> Course:
    return Course("start-up", "BUSINESS_START_UP", titles, 40, 6, skills=(("isco08", "1420"),))


def _language(language: str, level: str, title: str, hours: int = 60, weeks: int = 10) -> Course:
    return Course(f"{language}-{level}", "LANGUAGE", ((language[:2], title),), hours, weeks,
                  language, level)


@dataclass(frozen=True)
class Coop:
    key: str
    name: str
    country: str
    kind: str  # CooperativeKind
    currency: str
    share_price: int  # major units
    languages: tuple[str, ...]
    mix: tuple[tuple[str, int], ...]  # nationalities and their weights
    women: int  # percent of the members
    weight: int  # its share of the host (or home) crowd
    shares: int = 2  # shares a member buys (the share capital required)
    role: str = "MEMBER"
    savings: bool = True
    remits: float = 0.0  # chance of a remittance in a month
    loans: float = 0.0  # chance that a member takes a loan
    deposit: tuple[int, int, int] = (20, 300, 10)  # major units: low, high, step
    loan: tuple[int, int, int] = (300, 3000, 100)
    groups: tuple[str, ...] = ()
    group_kind: str = "SOLIDARITY_GROUP"
    everyone_in_a_group: bool = False
    courses: tuple[Course, ...] = ()
    learners: float = 0.3  # chance that a member takes one of its courses

    @property
    def host(self) -> bool:
        return self.country in HOST_COUNTRIES


HOST_COUNTRIES = ("ES", "IT", "US")

COOPERATIVES = (
    # -- host countries: the first node
    Coop("madrid", "Ahorro Solidario Madrid", "ES", "SAVINGS_AND_CREDIT", "EUR", 25, ("es",),
         (("EC", 45), ("CO", 25), ("PE", 15), ("MA", 15)), 55, 22, remits=0.55, loans=0.15,
         deposit=(30, 300, 10), groups=("Grupo solidario Usera", "Grupo solidario Carabanchel"),
         courses=(_language("es-ES", "A2", "Español A2"),
                  _start_up(("es", "Emprender al volver")))),
    Coop("barcelona", "Cooperativa de Trabajo Cuidados Dignos Barcelona", "ES", "WORKER", "EUR",
         100, ("es", "ca"), (("EC", 30), ("CO", 20), ("PH", 25), ("MA", 15), ("PE", 10)), 85, 14,
         shares=3, role="WORKER_MEMBER", remits=0.45, loans=0.05, deposit=(20, 200, 10),
         groups=("Equipo Eixample", "Equipo Sants", "Equipo Nou Barris"), group_kind="WORK_TEAM",
         everyone_in_a_group=True,
         courses=(Course("care", "VOCATIONAL", (("es", "Atención sociosanitaria a domicilio"),
                                                ("ca", "Atenció sociosanitària a domicili")),
                         120, 12, skills=(_esco("5322"),)),
                  _language("es-ES", "B1", "Español B1", 80, 12)), learners=0.45),
    Coop("murcia", "Formación y Empleo Cooperativa de Murcia", "ES", "TRAINING", "EUR", 10,
         ("es", "ar", "fr"), (("MA", 50), ("EC", 25), ("SN", 25)), 45, 12, shares=1,
         savings=False,
         courses=(_language("es-ES", "A2", "Español A2", 60, 8),
                  Course("forklift", "VOCATIONAL", (("es", "Carretillero/a"),), 40, 4,
                         skills=(_esco("8344"),)),
                  _start_up(("es", "Emprender en tu país"), ("fr", "Entreprendre chez soi"))),
         learners=0.9),
    Coop("rome", "Cassa Mutua Solidale Bayanihan Roma", "IT", "SAVINGS_AND_CREDIT", "EUR", 25,
         ("it", "en", "fil"), (("PH", 55), ("SN", 20), ("MA", 15), ("EC", 10)), 60, 16,
         remits=0.6, loans=0.15, deposit=(30, 300, 10), groups=("Gruppo solidale Esquilino",),
         courses=(_language("it-IT", "A2", "Italiano A2"),
                  _start_up(("it", "Piano d'impresa per il rientro"),
                            ("en", "A business plan for going home")))),
    Coop("turin", "Cooperativa Sociale Teranga Torino", "IT", "WORKER", "EUR", 50,
         ("it", "fr", "wo"), (("SN", 60), ("MA", 25), ("PH", 15)), 35, 10, shares=4,
         role="WORKER_MEMBER", remits=0.5, loans=0.05, deposit=(20, 200, 10),
         groups=("Squadra logistica", "Squadra pulizie"), group_kind="WORK_TEAM",
         everyone_in_a_group=True,
         courses=(_language("it-IT", "B1", "Italiano B1", 80, 12),
                  Course("logistics", "VOCATIONAL", (("it", "Sicurezza e logistica di magazzino"),),
                         32, 4, skills=(_esco("9333"),)))),
    Coop("los-angeles", "Cooperativa de Ahorro y Crédito Unidos Los Ángeles", "US",
         "SAVINGS_AND_CREDIT", "USD", 50, ("es", "en"), (("MX", 60), ("GT", 25), ("PH", 15)),
         50, 16, shares=1, remits=0.6, loans=0.15, deposit=(40, 400, 10),
         groups=("Grupo solidario Boyle Heights",),
         courses=(_language("en-US", "B1", "English B1", 80, 12),
                  _start_up(("en", "Start a business back home"),
                            ("es", "Emprende en tu tierra")))),
    Coop("denver", "Manos Unidas Cleaning Cooperative", "US", "WORKER", "USD", 100,
         ("en", "es"), (("MX", 60), ("GT", 40)), 80, 10, role="WORKER_MEMBER", remits=0.45,
         loans=0.05, deposit=(30, 250, 10), groups=("Crew North", "Crew South"),
         group_kind="WORK_TEAM", everyone_in_a_group=True,
         courses=(_language("en-US", "A2", "English A2"),
                  Course("green-cleaning", "VOCATIONAL", (("en", "Green cleaning"),), 24, 3,
                         skills=(_esco("9112"),)))),
    # -- home countries: the other nodes
    Coop("quito", "Cooperativa Andina", "EC", "SAVINGS_AND_CREDIT", "USD", 25, ("es",),
         (("EC", 90), ("CO", 10)), 52, 20, loans=0.2, deposit=(10, 150, 5),
         groups=("Grupo solidario La Magdalena", "Grupo solidario Chillogallo"),
         courses=(_start_up(("es", "Emprendimiento para el retorno")),)),
    Coop("zaruma", "Cooperativa Minera Oro Unido de Zaruma", "EC", "PRODUCER", "USD", 50, ("es",),
         (("EC", 100),), 12, 16, loans=0.1, deposit=(10, 120, 5),
         groups=("Sociedad El Tablón", "Sociedad Muluncay", "Sociedad Bella Rica",
                 "Sociedad San Roque"), group_kind="SOCIETY", everyone_in_a_group=True,
         courses=(Course("mine-safety", "VOCATIONAL", (("es", "Seguridad en minería subterránea"),),
                         40, 4, skills=(_esco("8111"),)),
                  Course("mercury-free", "VOCATIONAL", (("es", "Beneficio de oro sin mercurio"),),
                         32, 4, skills=(_esco("8112"),))), learners=0.4),
    Coop("cuenca", "Cooperativa de Retornados Emprende Cuenca", "EC", "WORKER", "USD", 20,
         ("es", "en"), (("EC", 100),), 45, 8, shares=3, role="WORKER_MEMBER", loans=0.2,
         deposit=(10, 150, 5), groups=("Taller de carpintería", "Turismo comunitario"),
         group_kind="WORK_TEAM", everyone_in_a_group=True,
         courses=(_start_up(("es", "Plan de negocio")),
                  Course("community-guide", "VOCATIONAL", (("es", "Guía de turismo comunitario"),),
                         60, 8, skills=(_esco("5113"),))), learners=0.5),
    Coop("laguna", "Bayanihan Multi-Purpose Cooperative", "PH", "MULTI_PURPOSE", "PHP", 500,
         ("fil", "en"), (("PH", 100),), 62, 18, loans=0.2, deposit=(300, 5000, 100),
         loan=(10_000, 100_000, 5_000), groups=("Purok 3 savers", "Purok 5 savers"),
         courses=(_start_up(("fil", "Negosyo sa pagbabalik"),
                            ("en", "Business start-up for returning workers")),)),
    Coop("agadir", "Coopérative Féminine Tifawin pour l'Argan", "MA", "PRODUCER", "MAD", 100,
         ("ar", "zgh", "fr"), (("MA", 100),), 95, 12, loans=0.1, deposit=(50, 1500, 50),
         loan=(2_000, 20_000, 1_000),
         courses=(Course("argan", "VOCATIONAL", (("fr", "Extraction et valorisation de l'argan"),
                                                 ("ar", "استخلاص زيت الأركان وتثمينه")),
                         40, 5, skills=(_esco("7514"),)),
                  _language("ar-MA", "A2", "محو الأمية الوظيفية", 100, 12))),
    Coop("jerez", "Caja Popular Raíces de Jerez", "MX", "SAVINGS_AND_CREDIT", "MXN", 250,
         ("es",), (("MX", 100),), 55, 16, loans=0.2, deposit=(200, 3000, 50),
         loan=(5_000, 50_000, 1_000), groups=("Grupo solidario El Cargadero",),
         courses=(_start_up(("es", "Emprende en tu comunidad")),)),
    Coop("louga", "Mutuelle d'Épargne et de Crédit des Émigrés de Louga", "SN",
         "SAVINGS_AND_CREDIT", "XOF", 5000, ("fr", "wo"), (("SN", 100),), 40, 10, loans=0.15,
         deposit=(5_000, 60_000, 1_000), loan=(100_000, 1_000_000, 50_000),
         courses=(Course("poultry", "VOCATIONAL", (("fr", "Aviculture moderne"),), 40, 5,
                         skills=(_esco("6122"),)),
                  _start_up(("fr", "Créer son entreprise au retour")))),
)

#: Where a returnee takes her record, and where a relative keeps a savings account.
HOME_COOPERATIVE = {"EC": ("cuenca", "quito"), "PH": ("laguna",), "MA": ("agadir",),
                    "MX": ("jerez",), "SN": ("louga",)}

#: Share of the crowd in host cooperatives (the rest is at home).
HOST_SHARE = Decimal("0.6")
#: Fewest host members of the crowd who take their record home (more go, at random), all of
#: one nationality (``RETURNEES_FROM``) to one home cooperative: a record carries no gender, so
#: at home they are an atom of their own (nationality, gender unstated), counted only if five.
MIN_RETURNEES = 5
RETURNEES_FROM = "EC"
#: Fewest members a cooperative gets, and fewest of one nationality and gender in it, who join
#: together (federationStats counts nobody in an atom of fewer than 5 people: a cooperative's
#: members of one nationality and gender, in one month for flows; docs/figures.md).
MIN_MEMBERS = 6


# == the plan ===============================================================================


@dataclass(frozen=True)
class Call:
    """One mutation: where, as whom, what, under which idempotency key. ``keep`` names a
    result field later steps of the chain use, ``needs`` the one this step puts in its input."""

    node: str
    role: Role
    cooperative: str | None
    mutation: str
    input: dict
    key: str
    keep: str | None = None
    needs: str | None = None


Chain = list[Call]  # sent one after the other
#: A member's nationality and gender (None: unstated)
Kind = tuple[str, str | None]


@dataclass
class Round:
    name: str
    chains: list[Chain] = field(default_factory=list)

    @property
    def calls(self) -> int:
        return sum(len(chain) for chain in self.chains)


@dataclass
class Plan:
    seed: int
    members: int
    nodes: list[str]
    today: dt.date
    cooperatives: dict[str, tuple[str, str]]  # key -> (id, node)
    people: Counter  # node -> people planned there (a member who goes home counts twice)
    rounds: list[Round]
    rosa: dict[str, str]  # the ids of Rosa's story that the settling step looks at

    @property
    def calls(self) -> int:
        return sum(r.calls for r in self.rounds)

    def months_label(self) -> str:
        return f"{month_starts(self.today)[0]:%Y-%m} to {self.today:%Y-%m}"


def month_starts(today: dt.date) -> list[dt.date]:
    """The first days of the 12 calendar months ending with today's."""
    year, month = today.year, today.month
    starts = []
    for _ in range(12):
        starts.append(dt.date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return starts[::-1]


def money(minor: int, currency: str) -> dict:
    """GraphQL's MoneyInput: a decimal string in major units, exact."""
    return {"amount": major_text(minor, currency), "currency": currency}


def plan(seed: int, members: int, nodes: list[str], today: dt.date | None = None) -> Plan:
    """Everything the demo will send, drawn from ``random.Random(seed)`` in a fixed order."""
    if not nodes:
        raise ValueError("name at least one node")
    return _Planner(seed, members, nodes, today or dt.datetime.now(dt.UTC).date()).build()


@dataclass
class _Session:
    id: str
    coop: Coop
    course: Course
    starts: dt.date
    ends: dt.date
    enrolled: int = 0


class _Planner:
    def __init__(self, seed: int, members: int, nodes: list[str], today: dt.date):
        self.seed, self.members, self.nodes, self.today = seed, members, list(nodes), today
        self.rng = random.Random(seed)
        self.root = uuid.uuid5(NAMESPACE, f"seed/{seed}")  # cooperatives, groups, Rosa
        self.crowd = uuid.uuid5(self.root, f"members/{members}")  # the rest
        self.months = month_starts(today)
        self.rates = load_rates()
        self.host_node = self.nodes[0]
        homes = self.nodes[1:] or self.nodes
        self.node_of: dict[str, str] = {}
        for i, coop in enumerate(c for c in COOPERATIVES if not c.host):
            self.node_of[coop.key] = homes[i % len(homes)]
        for coop in COOPERATIVES:
            self.node_of.setdefault(coop.key, self.host_node)
        self.coops = {c.key: c for c in COOPERATIVES}
        self.ids = {c.key: self.id(self.root, f"cooperative/{c.key}") for c in COOPERATIVES}
        self.groups = {c.key: [(self.id(self.root, f"group/{c.key}/{name}"), name)
                               for name in c.groups] for c in COOPERATIVES}
        self.people: Counter = Counter()
        self.returnees = 0  # host members of the crowd planned to take their record home
        self.relatives: dict[str, list[str]] = defaultdict(list)  # coop -> savings accounts

    # -- helpers

    @staticmethod
    def id(namespace: uuid.UUID, name: str) -> str:
        return str(uuid.uuid5(namespace, name))

    def call(self, namespace: uuid.UUID, label: str, node: str, role: Role,
             cooperative: str | None, mutation: str, input: dict, **extra) -> Call:
        return Call(node, role, cooperative, mutation, input,
                    self.id(namespace, f"key/{label}"), **extra)

    def staff(self, namespace, label, coop: Coop, mutation, input, **extra) -> Call:
        return self.call(namespace, label, self.node_of[coop.key], Role.STAFF,
                         self.ids[coop.key], mutation, input, **extra)

    def admin(self, namespace, label, coop: Coop, mutation, input) -> Call:
        return self.call(namespace, label, self.node_of[coop.key], Role.ADMIN,
                         self.ids[coop.key], mutation, input)

    def node_admin(self, namespace, label, node: str, mutation, input) -> Call:
        return self.call(namespace, label, node, Role.NODE_ADMIN, None, mutation, input)

    def day(self, month: int, not_before: dt.date | None = None) -> dt.date:
        """A day of month ``month`` (0: eleven months ago, 11: this one), never after today."""
        first = self.months[month]
        day = first.replace(day=self.rng.randint(1, calendar.monthrange(first.year,
                                                                         first.month)[1]))
        if not_before is not None and day < not_before:
            day = not_before
        return min(day, self.today)

    def amount(self, coop: Coop, low_high_step: tuple[int, int, int]) -> int:
        low, high, step = low_high_step
        return self.rng.randrange(low, high + 1, step) * 10 ** exponent(coop.currency)

    def has_rate(self, base: str, quote: str) -> bool:
        return self.rates.quote(base, quote, self.today) is not None

    @staticmethod
    def booked(input: dict, day: dt.date) -> dict:
        return {**input, "bookedOn": day.isoformat()} if BOOKED_ON else input

    # -- the whole plan

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

    def offer(self, namespace, label, coop: Coop, course_id: str, course: Course,
              starts: dt.date, ends: dt.date, capacity: int) -> Call:
        input = {"courseId": course_id, "cooperativeId": self.ids[coop.key], "kind": course.kind,
                 "titles": [{"language": lang, "title": title} for lang, title in course.titles],
                 "hours": course.hours, "startsOn": starts.isoformat(),
                 "endsOn": ends.isoformat(), "capacity": capacity}
        if course.language:
            input |= {"languageTaught": course.language, "targetLevel": course.level}
        else:
            input["skills"] = [{scheme: {"uri" if scheme == "esco" else "code": value}}
                               for scheme, value in course.skills]
        return self.admin(namespace, label, coop, "offerCourse", input)

    def sessions(self) -> list[_Session]:
        """Each course of each cooperative starts every three months; only sessions that
        have ended by today are planned (completions and certificates are in the past)."""
        sessions = []
        for coop in COOPERATIVES:
            for course in coop.courses:
                for month in range(self.rng.randint(0, 2), 12, 3):
                    starts = self.months[month] + dt.timedelta(days=self.rng.randint(0, 6))
                    ends = starts + dt.timedelta(days=course.weeks * 7 - 3)
                    if ends <= self.today:
                        sessions.append(_Session(
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
                              skills=(_esco("5113"),)), guide_starts, guide_ends, 15)]
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

    def open(self, ns, label, coop: Coop, account_id: str, member_id: str, product: str) -> Call:
        return self.staff(ns, label, coop, "openAccount", {
            "accountId": account_id, "memberId": member_id, "cooperativeId": self.ids[coop.key],
            "product": product, "currency": coop.currency})

    def loan(self, ns, label, coop: Coop, account_id: str, principal: int, rate: str,
             months: int, first_due: dt.date, paid_off: bool = False,
             instalments_paid: int = 0) -> list[Call]:
        """Disbursed today (a first instalment falls due after today), then repaid today: the
        first instalment on time, or the whole loan (the rest early)."""
        currency = coop.currency
        schedule = annuity_schedule(Money(principal, currency), rate, months, first_due)
        calls = [self.admin(ns, f"{label}/disburse", coop, "disburseLoan", {
            "accountId": account_id, "principal": money(principal, currency),
            "annualRate": rate, "termMonths": months, "firstDueOn": first_due.isoformat()})]
        payments = ([schedule[0].total.amount, sum(i.total.amount for i in schedule[1:])]
                    if paid_off else [i.total.amount for i in schedule[:instalments_paid]])
        for n, amount in enumerate(payments):
            calls.append(self.staff(ns, f"{label}/repay/{n}", coop, "recordRepayment", {
                "accountId": account_id, "amount": money(amount, currency),
                "paidOn": self.today.isoformat()}))
        return calls

    # -- one member of the crowd

    def member(self, number: int, coop: Coop, month: int, sessions: list[_Session],
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

    def learn(self, ns, at: str, member_id: str, session: _Session, on) -> None:
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


def _weighted(rng: random.Random, pairs) -> str:
    values, weights = zip(*pairs)
    return rng.choices(values, weights)[0]


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


# == sending it =============================================================================

#: What a success looks like, per mutation's result union.
SUCCESS = {"CommandAccepted", "ExportedRecord", "RecordImportedHere"}
#: Rejections that mean "this was done already" (a run without the idempotency keys).
ALREADY = {"AccountAlreadyOpen", "AlreadyAMember", "AlreadyEnrolled", "AlreadyInGroup",
           "AlreadyCompleted", "CertificateAlreadyIssued", "ConsentAlreadyExists",
           "CooperativeAlreadyRegistered", "CourseAlreadyOffered", "DuplicateRemittance",
           "DuplicateTransfer", "GroupAlreadyExists", "LoanAlreadyDisbursed",
           "MemberAlreadyRegistered", "RecordAlreadyImported"}
RETRIES = 6


def document(mutation: str) -> str:
    kept = {"exportRecord": "... on ExportedRecord { credentialId credential }",
            "importRecord": "... on RecordImportedHere { memberId membershipStarted } "
                            "... on RecordNotVerified { code message }"}
    return (f"mutation($input: {mutation[0].upper()}{mutation[1:]}Input!, $key: String) "
            f"{{ {mutation}(input: $input, idempotencyKey: $key) {{ __typename "
            f"{kept.get(mutation, '... on CommandAccepted { visible }')} "
            "... on Problem { code message } ... on ValidationError { field } } }")


@dataclass
class Rejection:
    mutation: str
    code: str
    message: str  # the service's sentence or a redacted GraphQL error: never a value sent


@dataclass
class Outcome:
    sent: Counter = field(default_factory=Counter)  # node -> mutations
    accepted: Counter = field(default_factory=Counter)
    already: Counter = field(default_factory=Counter)
    rejected: list[Rejection] = field(default_factory=list)
    rejected_by_node: Counter = field(default_factory=Counter)
    skipped: int = 0  # steps left out because an earlier one failed
    retries: int = 0
    seconds: float = 0.0
    settled: bool | None = None  # Rosa's savings arrived home (None: not part of this run)
    doing: str = "checking the gateways' tokens"  # the round under way
    done: int = 0  # mutations answered (or skipped)
    cut_short: bool = False  # stopped before the end (Ctrl-C of ``up --demo``)

    @property
    def ok(self) -> bool:
        return not self.rejected and not self.skipped and not self.cut_short


TokenFor = Callable[[str, Role, str | None], str]


class _Sender:
    def __init__(self, gateways: dict[str, str], token_for: TokenFor, concurrency: int,
                 outcome: Outcome, advance: Callable[[], None]):
        self.gateways, self.outcome, self.advance = gateways, outcome, advance
        self.tokens: dict[tuple, str] = {}
        self.token_for = token_for
        self.limits = {node: asyncio.Semaphore(concurrency) for node in gateways}
        self.clients = {node: httpx.AsyncClient(
            base_url=url, timeout=httpx.Timeout(60.0),
            limits=httpx.Limits(max_connections=concurrency,
                                max_keepalive_connections=concurrency))
            for node, url in gateways.items()}

    async def close(self) -> None:
        for client in self.clients.values():
            await client.aclose()

    def token(self, node: str, role: Role, cooperative: str | None) -> str:
        key = (node, role, cooperative)
        if key not in self.tokens:
            self.tokens[key] = self.token_for(node, role, cooperative)
        return self.tokens[key]

    async def post(self, node: str, token: str, query: str, variables: dict) -> dict:
        """One GraphQL request, retried on a dropped connection or a server error."""
        for attempt in range(RETRIES):
            try:
                async with self.limits[node]:
                    response = await self.clients[node].post(
                        "/graphql", json={"query": query, "variables": variables},
                        headers={"Authorization": f"Bearer {token}"})
                if response.status_code < 500:
                    if response.headers.get("content-type", "").startswith("application/json"):
                        return response.json()  # GraphQL errors may come with a 4xx
                    response.raise_for_status()
            except httpx.TransportError:
                if attempt == RETRIES - 1:
                    raise
            self.outcome.retries += 1
            await asyncio.sleep(min(0.5 * 2 ** attempt, 8))
        response.raise_for_status()
        return response.json()

    async def chain(self, chain: Chain) -> None:
        kept: dict[str, str] = {}
        for n, call in enumerate(chain):
            if call.needs and call.needs not in kept:
                self.outcome.skipped += len(chain) - n
                for _ in chain[n:]:
                    self.advance()
                return
            result = await self.send(call, kept.get(call.needs) if call.needs else None)
            if call.keep and result and call.keep in result:
                kept[call.keep] = result[call.keep]
            self.advance()

    async def send(self, call: Call, needed: str | None) -> dict | None:
        """Send one mutation until it has a final answer; counted, never printed with its
        input. ``NotAuthorized`` and ``Unavailable`` are tried again: the gateway's views
        may lag behind the step before (its read-your-writes wait is bounded)."""
        outcome = self.outcome
        outcome.sent[call.node] += 1
        token = self.token(call.node, call.role, call.cooperative)
        input = {**call.input, call.needs: needed} if call.needs else call.input
        variables = {"input": input, "key": call.key}
        for attempt in range(RETRIES):
            body = await self.post(call.node, token, document(call.mutation), variables)
            if body.get("errors"):
                message = "; ".join(_redacted(e.get("message", "")) for e in body["errors"])
                return self.reject(call, "GraphQLError", message)
            result = (body.get("data") or {}).get(call.mutation) or {}
            kind = result.get("__typename", "")
            if kind in SUCCESS:
                outcome.accepted[call.node] += 1
                return result
            if result.get("code") in ALREADY:
                outcome.already[call.node] += 1
                return result
            if kind in ("NotAuthorized", "Unavailable") and attempt < RETRIES - 1:
                outcome.retries += 1
                await asyncio.sleep(min(0.5 * 2 ** attempt, 8))
                continue
            detail = result.get("message", "")
            if result.get("field"):
                detail += f" ({result['field']})"
            return self.reject(call, result.get("code") or kind or "NoAnswer", detail)
        return None

    def reject(self, call: Call, code: str, message: str) -> None:
        self.outcome.rejected.append(Rejection(call.mutation, code, message))
        self.outcome.rejected_by_node[call.node] += 1
        return None

    async def query(self, node: str, token: str, query: str, **variables) -> dict:
        body = await self.post(node, token, query, variables)
        return body.get("data") or {}


def _redacted(message: str) -> str:
    """A GraphQL error without the values it may quote (a name sent in an input)."""
    return re.sub(r"'[^']*'|\"[^\"]*\"", "…", message)[:300]


#: Without a terminal (a log file, a pipe), a progress line this often (seconds).
PROGRESS_EVERY_S = 10.0


async def seed_federation(plan: Plan, gateways: dict[str, str], token_for: TokenFor,
                          concurrency: int = 16, console: Console | None = None,
                          settle_timeout: float = 90.0,
                          stop: threading.Event | None = None) -> Outcome:
    """Send the plan: round after round, the chains of a round side by side (at most
    ``concurrency`` requests at a time per gateway), each chain's steps in order. A bar on a
    terminal, else a line every ``PROGRESS_EVERY_S``. When ``stop`` is set, the requests in
    flight are dropped at once and the outcome says it was cut short."""
    console = console or Console(stderr=True)
    missing = [node for node in plan.nodes if node not in gateways]
    if missing:
        raise ValueError(f"no gateway for node(s) {', '.join(missing)}")
    outcome = Outcome()
    started = time.monotonic()
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("mutations"), TimeElapsedColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=False,
                  disable=not console.is_terminal) as progress:
        task = progress.add_task("seeding", total=plan.calls)

        def advance() -> None:
            outcome.done += 1
            progress.advance(task)

        def doing(what: str) -> None:
            outcome.doing = what
            progress.update(task, description=what)

        sender = _Sender(gateways, token_for, concurrency, outcome, advance)

        async def send_plan() -> None:
            await _check_tokens(sender, plan.nodes)
            for round_ in plan.rounds:
                doing(f"seeding · {round_.name}")
                await asyncio.gather(*(sender.chain(chain) for chain in round_.chains))
            if plan.rosa:
                doing("waiting for Rosa's savings to arrive home")
                outcome.settled = await _settled(sender, plan.rosa, settle_timeout)

        work = asyncio.ensure_future(send_plan())
        helpers = [] if console.is_terminal else [
            asyncio.ensure_future(_progress_lines(console, outcome, plan.calls, started))]
        if stop is not None:
            helpers.append(asyncio.ensure_future(_cancel_when_set(stop, work)))
        try:
            await work
        except asyncio.CancelledError:
            if stop is None or not stop.is_set():
                raise
            outcome.cut_short = True
        finally:
            for helper in helpers:
                helper.cancel()
            await sender.close()
    outcome.seconds = time.monotonic() - started
    return outcome


async def _progress_lines(console: Console, outcome: Outcome, total: int,
                          started: float) -> None:
    while True:
        await asyncio.sleep(PROGRESS_EVERY_S)
        console.print(f"{outcome.doing} · {outcome.done:,} of {total:,} mutations · "
                      f"{time.monotonic() - started:.0f} s")


async def _cancel_when_set(stop: threading.Event, work: asyncio.Future) -> None:
    while not stop.is_set():
        await asyncio.sleep(0.1)
    work.cancel()


async def _check_tokens(sender: _Sender, nodes: list[str]) -> None:
    """Fail early, and once, when a gateway does not take the tokens signed here."""
    for node in nodes:
        token = sender.token(node, Role.NODE_ADMIN, None)
        data = await sender.query(node, token, "{ federationStats { minCell } }")
        if data.get("federationStats") is None:
            raise DemoError(f"the gateway of node {node} ({sender.gateways[node]}) refuses the "
                            "tokens signed here: run the demo where the node's keys are "
                            "(the same COOPBRIDGE_HOME)")


async def _settled(sender: _Sender, rosa: dict[str, str], timeout: float) -> bool:
    """Rosa's transfer home is carried by the relays: wait until the host shows it delivered."""
    token = sender.token(rosa["node"], Role.STAFF, rosa["cooperative"])
    deadline = time.monotonic() + timeout
    query = ("query($id: ID!) { member(id: $id) { accounts { accountId "
             "transfers { transferId status } } } }")
    while True:
        data = await sender.query(rosa["node"], token, query, id=rosa["member"])
        accounts = ((data.get("member") or {}).get("accounts")) or []
        status = next((t["status"] for a in accounts if a["accountId"] == rosa["savings"]
                       for t in a["transfers"] if t["transferId"] == rosa["transfer"]), None)
        if status in ("delivered", "refunded"):
            return status == "delivered"
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(1.0)


class DemoError(Exception):
    """The demo cannot run as asked (a gateway down, tokens refused)."""


# == the CLI's side =========================================================================


async def node_of(url: str) -> str:
    """The node a gateway serves, from its ``/health``."""
    async with httpx.AsyncClient(timeout=10.0) as client:
        try:
            response = await client.get(f"{url}/health")
        except httpx.TransportError as exc:
            raise DemoError(f"no gateway answers at {url}: {exc}") from None
    node = response.json().get("node") if response.status_code in (200, 503) else None
    if response.status_code != 200 or not node:
        raise DemoError(f"the gateway at {url} is not ready (HTTP {response.status_code})")
    return node


def base_url(url: str) -> str:
    return url.rstrip("/").removesuffix("/graphql")


def print_summary(console: Console, plan: Plan, outcome: Outcome, gateways: dict[str, str],
                  analyst_token: Callable[[str], str]) -> None:
    table = Table(title=f"coopbridge demo · seed {plan.seed} · {plan.members} members · "
                        f"{plan.months_label()}")
    for column in ("node", "cooperatives", "members", "mutations sent", "accepted",
                   "already done", "rejected"):
        table.add_column(column, justify="left" if column == "node" else "right")
    nodes = Counter(node for _, node in plan.cooperatives.values())
    for node in plan.nodes:
        table.add_row(node, str(nodes[node]), str(plan.people[node]), str(outcome.sent[node]),
                      str(outcome.accepted[node]), str(outcome.already[node]),
                      str(outcome.rejected_by_node[node]))
    table.add_row("all", str(len(plan.cooperatives)), str(sum(plan.people.values())),
                  str(sum(outcome.sent.values())), str(sum(outcome.accepted.values())),
                  str(sum(outcome.already.values())), str(len(outcome.rejected)),
                  style="bold")
    console.print(table)
    rate = sum(outcome.sent.values()) / outcome.seconds if outcome.seconds else 0
    console.print(f"{outcome.seconds:.1f} s · {rate:.0f} mutations/s · "
                  f"{outcome.retries} retries · booking dates "
                  f"{'sent' if BOOKED_ON else 'off (everything booked today)'}")
    if outcome.settled is not None:
        console.print("Rosa's savings " + ("arrived home" if outcome.settled else
                                           "[yellow]have not arrived home yet[/] (is the "
                                           "federation relay running?)"))
    if outcome.skipped:
        console.print(f"[yellow]{outcome.skipped} steps skipped[/] after an earlier step failed")
    if outcome.rejected:
        codes = Counter((r.mutation, r.code) for r in outcome.rejected)
        for (mutation, code), count in codes.most_common(10):
            example = next(r.message for r in outcome.rejected
                           if (r.mutation, r.code) == (mutation, code))
            console.print(f"[red]rejected[/] {mutation}: {code} ×{count} · {escape(example)}")
    for node in plan.nodes:
        console.print(f"dashboard of node [bold]{node}[/]: "
                      f"{gateways[node]}/dashboard#token={analyst_token(node)}", soft_wrap=True)


def run_demo(nodes: list[str], seed: int = 7, members: int = 3000, urls: tuple[str, ...] = (),
             concurrency: int = 16, console: Console | None = None,
             stop: threading.Event | None = None) -> bool:
    """``coopbridge demo`` (and ``up --demo``): find the gateways, plan, send, print the
    summary. True when every mutation was accepted. ``stop`` (``up``'s Ctrl-C) cuts it
    short: what was left out is said instead of the summary."""
    from gateway.auth import issue_token  # noqa: PLC0415 (reads the nodes' signing keys)
    from services import config  # noqa: PLC0415

    console = console or Console(highlight=False, soft_wrap=True)
    nodes = list(nodes) or ([] if urls else [config.node_id()])
    gateways = asyncio.run(_gateways(nodes, urls, config.gateway_port()))
    the_plan = plan(seed, members, list(gateways))

    def token_for(node: str, role: Role, cooperative: str | None) -> str:
        return issue_token(node, role, cooperative, SUBJECT)

    console.print(f"seeding {len(the_plan.cooperatives)} cooperatives and "
                  f"{sum(the_plan.people.values())} memberships over "
                  f"{', '.join(f'{n} ({u})' for n, u in gateways.items())}: "
                  f"{the_plan.calls} mutations")
    outcome = asyncio.run(seed_federation(the_plan, gateways, token_for, concurrency, console,
                                          stop=stop))
    if outcome.cut_short:
        console.print(
            f"[yellow]demo seeding cut short[/] after {outcome.seconds:.0f} s "
            f"({outcome.doing}): {outcome.done:,} of {the_plan.calls:,} mutations "
            "answered, the rest not sent, and those in flight dropped (each may or may not "
            "have been applied). It is deterministic and idempotent: `coopbridge demo "
            f"--seed {seed} --members {members} "
            + " ".join([f"--node {node}" for node in gateways] + [f"--url {u}" for u in urls])
            + "` (or the next `up --demo`) sends the same commands under the same keys, and "
            "what is done already is answered from the log.")
        return False
    print_summary(console, the_plan, outcome, gateways,
                  lambda node: issue_token(node, Role.ANALYST, None, SUBJECT))
    return outcome.ok


async def _gateways(nodes: list[str], urls: tuple[str, ...],
                    first_port: int) -> dict[str, str]:
    """node -> gateway base URL: the URLs given (their nodes asked from ``/health``), else
    the nodes' local gateways on consecutive ports, as ``coopbridge up`` starts them."""
    if urls:
        bases = [base_url(url) for url in urls]
        served = [await node_of(url) for url in bases]
        if nodes and nodes != served:
            raise DemoError(f"the gateways serve nodes {', '.join(served)}, not "
                            f"{', '.join(nodes)}")
        return dict(zip(served, bases))
    bases = [f"http://127.0.0.1:{first_port + i}" for i in range(len(nodes))]
    for node, url in zip(nodes, bases):
        if await node_of(url) != node:
            raise DemoError(f"the gateway at {url} serves another node than {node}")
    return dict(zip(nodes, bases))
