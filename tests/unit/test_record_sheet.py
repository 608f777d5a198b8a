"""Her record sheet (issue 23): worded from the catalogues and formatted by Babel for each
language's locale, so the two columns of a page say the same thing, each as its readers
write it: days, amounts and counts as CLDR has them, right to left in Arabic, and a course
titled in no language of a column shown in its own, marked."""

from __future__ import annotations

from tests.unit.test_gateway_federation import (  # noqa: F401 (federation_pair: a fixture)
    IMPORT,
    QUITO_STAFF,
    as_node,
    consent,
    export,
    federation_pair,
    import_input,
)
from tests.unit.test_gateway_schema import MADRID_STAFF, Node, rosa_joins
from tests.unit.test_printable_record import (  # noqa: F401 (node: a fixture)
    certified,
    node,
    rosas_history,
    take_steps,
)

SHEET = """query($id: ID!, $languages: [String!]) { printableRecord(memberId: $id) {
  sheet(languages: $languages) { language direction catalogue labels { key text }
    glance { label value }
    tables { key heading empty columns { text numeric }
             rows { cells { text language note } } } }
} }"""


async def sheet(node: Node, rosa: str, languages=None) -> list[dict]:  # noqa: F811
    return (await node.ok(SHEET, MADRID_STAFF, id=rosa, languages=languages))[
        "printableRecord"]["sheet"]


def table(column: dict, key: str) -> dict:
    return next(t for t in column["tables"] if t["key"] == key)


def labels(column: dict) -> dict:
    return {label["key"]: label["text"] for label in column["labels"]}


async def test_each_column_is_worded_and_formatted_for_its_own_locale(node):  # noqa: F811
    rosa = await rosas_history(node)
    spain, ecuador = await sheet(node, rosa, ["es-ES", "es-EC"])
    assert (spain["catalogue"], ecuador["catalogue"]) == ("es", "es")
    assert labels(spain)["title"] == labels(ecuador)["title"] == "Historial de membresía"
    loan_spain, loan_ecuador = (table(c, "loans")["rows"][0]["cells"] for c in (spain, ecuador))
    # the same euros as Spain writes them, and as Ecuador does (no euro sign of its own there)
    assert loan_spain[1]["text"] == "1.200,00\u00a0€"
    assert loan_ecuador[1]["text"] == "EUR1.200,00"
    assert loan_spain[3]["text"] == "1 en total: 0 a tiempo, 1 con retraso"
    started = table(spain, "memberships")["rows"][0]["cells"][3]["text"]
    assert started == "6 de mayo de 2019"
    english, arabic = await sheet(node, rosa, ["en", "ar"])
    assert (english["direction"], arabic["direction"]) == ("ltr", "rtl")
    assert table(english, "memberships")["rows"][0]["cells"][3]["text"] == "May 6, 2019"
    assert table(arabic, "loans")["heading"] != table(english, "loans")["heading"]
    assert table(arabic, "memberships")["rows"][0]["cells"][3]["text"] == "6 مايو 2019"


async def test_by_default_her_cooperatives_language_and_her_own(node):  # noqa: F811
    rosa = await rosas_history(node)
    columns = await sheet(node, rosa)
    assert [c["language"] for c in columns] == ["es", "es-EC"]  # Ahorro's, then Rosa's own


async def test_a_title_in_no_language_of_the_column_shows_in_its_own_marked(
        node):  # noqa: F811
    rosa = await rosas_history(node)
    [quechua] = await sheet(node, rosa, ["qu"])
    assert quechua["catalogue"] == "en"  # no catalogue in Quechua: the words in English
    [title] = [row["cells"][0] for row in table(quechua, "certificates")["rows"]]
    assert title == {"text": "Español B1", "language": "es", "note": "(in Spanish)"}
    [spanish] = await sheet(node, rosa, ["es-EC"])
    assert table(spanish, "certificates")["rows"][0]["cells"][0] == {
        "text": "Español B1", "language": None, "note": None}


async def test_at_home_her_sheet_holds_the_history_her_record_brought(
        federation_pair, monkeypatch):  # noqa: F811
    es, ec = federation_pair
    rosa = (await rosa_joins(es))["rosa"]
    await consent(es, rosa)
    record = await export(monkeypatch, es, rosa)
    with as_node(monkeypatch, ec):
        imported = (await ec.ok(IMPORT, QUITO_STAFF, input=import_input(
            record["credential"])))["importRecord"]
        assert imported["__typename"] == "RecordImportedHere", imported
    again = await export(monkeypatch, es, rosa)  # she brings a newer record from es too
    with as_node(monkeypatch, ec):
        imported = (await ec.ok(IMPORT, QUITO_STAFF, input=import_input(
            again["credential"])))["importRecord"]
        assert imported["__typename"] == "RecordImportedHere", imported
        [column] = (await ec.ok(SHEET, QUITO_STAFF, id=rosa, languages=["es-EC"]))[
            "printableRecord"]["sheet"]
    memberships = [[c["text"] for c in row["cells"]]
                   for row in table(column, "memberships")["rows"]]
    assert memberships[1][:3] == ["Ahorro Solidario Madrid · del nodo es", "España (ES)",
                                  "Miembro"]
    savings = [[c["text"] for c in row["cells"]] for row in table(column, "savings")["rows"]]
    assert ["Ahorro", "del nodo es", "EUR1.250,50", ""] in savings
    assert len(memberships) == 2  # the newest record from es only: nothing counted twice
    glance = {line["label"]: line["value"] for line in column["glance"]}
    assert glance["Cooperativas"].startswith("2 · ")  # at home and abroad


async def test_her_certificates_titles_in_every_language_come_home_with_her(
        federation_pair, monkeypatch):  # noqa: F811
    es, ec = federation_pair
    rosa = (await rosa_joins(es))["rosa"]
    await take_steps(es, certified(rosa, {
        "kind": "LANGUAGE", "titles": [{"language": "es", "title": "Español B1"},
                                       {"language": "en", "title": "Spanish B1"}],
        "languageTaught": "es-ES", "targetLevel": "B1", "hours": 80,
        "startsOn": "2026-03-02", "endsOn": "2026-06-26", "capacity": 20},
        {"score": 84, "levelAttained": "B1"}))
    await consent(es, rosa)
    record = await export(monkeypatch, es, rosa, languages=["es", "en"])
    with as_node(monkeypatch, ec):
        assert (await ec.ok(IMPORT, QUITO_STAFF, input=import_input(record["credential"])))[
            "importRecord"]["__typename"] == "RecordImportedHere"
        data = await ec.ok("""query($id: ID!) { member(id: $id) { importedRecords {
            certificates { title localizedTitle(lang: ["en-GB"]) { text language fallback } }
            } } }""", QUITO_STAFF, id=rosa)
        [column] = (await ec.ok(SHEET, QUITO_STAFF, id=rosa, languages=["en"]))[
            "printableRecord"]["sheet"]
    [certificate] = data["member"]["importedRecords"][0]["certificates"]
    assert certificate == {"title": "Español B1", "localizedTitle": {
        "text": "Spanish B1", "language": "en", "fallback": False}}
    assert table(column, "certificates")["rows"][0]["cells"][0]["text"] == "Spanish B1"
