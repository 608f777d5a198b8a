"""The demo's catalogue: the federation it knows. Eight countries (their names, languages and
payout currencies), fourteen cooperatives (host cooperatives at the first node, home
cooperatives at the others) with their courses and groups, and the numbers that shape the
crowd so that the federation's figures show every cooperative. Pure data; no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

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


def esco(isco: str) -> tuple[str, str]:
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
                         120, 12, skills=(esco("5322"),)),
                  _language("es-ES", "B1", "Español B1", 80, 12)), learners=0.45),
    Coop("murcia", "Formación y Empleo Cooperativa de Murcia", "ES", "TRAINING", "EUR", 10,
         ("es", "ar", "fr"), (("MA", 50), ("EC", 25), ("SN", 25)), 45, 12, shares=1,
         savings=False,
         courses=(_language("es-ES", "A2", "Español A2", 60, 8),
                  Course("forklift", "VOCATIONAL", (("es", "Carretillero/a"),), 40, 4,
                         skills=(esco("8344"),)),
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
                         32, 4, skills=(esco("9333"),)))),
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
                         skills=(esco("9112"),)))),
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
                         40, 4, skills=(esco("8111"),)),
                  Course("mercury-free", "VOCATIONAL", (("es", "Beneficio de oro sin mercurio"),),
                         32, 4, skills=(esco("8112"),))), learners=0.4),
    Coop("cuenca", "Cooperativa de Retornados Emprende Cuenca", "EC", "WORKER", "USD", 20,
         ("es", "en"), (("EC", 100),), 45, 8, shares=3, role="WORKER_MEMBER", loans=0.2,
         deposit=(10, 150, 5), groups=("Taller de carpintería", "Turismo comunitario"),
         group_kind="WORK_TEAM", everyone_in_a_group=True,
         courses=(_start_up(("es", "Plan de negocio")),
                  Course("community-guide", "VOCATIONAL", (("es", "Guía de turismo comunitario"),),
                         60, 8, skills=(esco("5113"),))), learners=0.5),
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
                         40, 5, skills=(esco("7514"),)),
                  _language("ar-MA", "A2", "محو الأمية الوظيفية", 100, 12))),
    Coop("jerez", "Caja Popular Raíces de Jerez", "MX", "SAVINGS_AND_CREDIT", "MXN", 250,
         ("es",), (("MX", 100),), 55, 16, loans=0.2, deposit=(200, 3000, 50),
         loan=(5_000, 50_000, 1_000), groups=("Grupo solidario El Cargadero",),
         courses=(_start_up(("es", "Emprende en tu comunidad")),)),
    Coop("louga", "Mutuelle d'Épargne et de Crédit des Émigrés de Louga", "SN",
         "SAVINGS_AND_CREDIT", "XOF", 5000, ("fr", "wo"), (("SN", 100),), 40, 10, loans=0.15,
         deposit=(5_000, 60_000, 1_000), loan=(100_000, 1_000_000, 50_000),
         courses=(Course("poultry", "VOCATIONAL", (("fr", "Aviculture moderne"),), 40, 5,
                         skills=(esco("6122"),)),
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
