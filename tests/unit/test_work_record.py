"""Her work in her portable record (issue 26): under her ``work`` consent, the record she
exports states each placement of hers that ended (the occupation as an ISCO-08 code, the
cooperative that placed her, where, the period, the minutes exactly and as hours, how it
ended), never one still running, another worker's, the employer or the wage; at home it
reads back into ``ImportedWork``, an odd entry left out, never the whole record, and each
language certificate's language with it. An import written as version 3 reads as version 4
with no work and no certificate languages."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from gateway.documents import ImportDoc, MemberRecord
from gateway.fold import MemoryStore
from gateway.members.documents import CooperativeView
from gateway.placement.documents import JobOrderView
from gateway.records import credentials as vc
from gateway.records.sheet import record_sheet
from gateway.records.subject import hours_text, imported_history, record_subject
from schemas import membership as m
from schemas import placement as p
from schemas.fields import Money
from schemas.registry import REGISTRY, ContractError, Reason
from services.runtime.ids import new_id
from tests.unit.test_credential_standards import VC_SCHEMA, expand_safely, schema_errors
from tests.unit.test_gateway_federation import (  # noqa: F401 (federation_pair: a fixture)
    IMPORT,
    QUITO,
    QUITO_STAFF,
    as_node,
    consent,
    export,
    federation_pair,
    import_input,
)
from tests.unit.test_gateway_schema import AHORRO, NOW
from tests.unit.test_printable_record import payload, rosas_history

ROSA, LUCIA = new_id(), new_id()
STARTED, ENDED = dt.date(2026, 3, 2), dt.date(2026, 6, 30)


def job_order(member_id: str, *, ended: bool = True, minutes: int = 9_600,
              reason: p.PlacementEndReason = p.PlacementEndReason.COMPLETED,
              occupation: str = "5152", country: str = "ES",
              cooperative_id: str = AHORRO) -> JobOrderView:
    """A job order of the cooperative's, placed with ``member_id`` and (``ended``) ended."""
    job_order_id = new_id()
    start = dt.datetime.combine(STARTED, dt.time(9), dt.UTC)
    posted = p.JobOrderPosted(
        job_order_id=job_order_id, cooperative_id=cooperative_id, employer_id=new_id(),
        occupation=occupation, country=country, locality="Chamberí",
        shifts=[p.Shift(starts_at=start, ends_at=start + dt.timedelta(hours=8))],
        minutes=480, wage=Money(1_150, "EUR"), margin=Money(140, "EUR"),
        floor=Money(1_100, "EUR"), terms_sha256="ab" * 32, answer_hours=72,
        posted_at=start - dt.timedelta(days=7))
    placement = p.PlacementConfirmed(
        job_order_id=job_order_id, member_id=member_id, account_id=new_id(),
        accepted_at=start - dt.timedelta(days=5), confirmed_at=start - dt.timedelta(days=5))
    end = p.PlacementEnded(
        job_order_id=job_order_id, member_id=member_id, cooperative_id=cooperative_id,
        occupation=occupation, country=country, started_on=STARTED, ended_on=ENDED,
        minutes=minutes, reason=reason,
        ended_at=dt.datetime.combine(ENDED, dt.time(18), dt.UTC)) if ended else None
    settled = p.WagesSettled(  # the minutes, settled and credited to her (what counts)
        job_order_id=job_order_id, settlement_id=new_id(), member_id=member_id,
        account_id=placement.account_id, worked_from=STARTED, worked_to=ENDED,
        minutes=minutes, hourly_wage=posted.wage, wage=Money(1, "EUR"),
        margin=Money(0, "EUR"), employer_paid=Money(1, "EUR"),
        settled_at=dt.datetime.combine(ENDED, dt.time(17), dt.UTC))
    unpaid = p.WagesSettled(  # ... and some not credited yet: not counted
        job_order_id=job_order_id, settlement_id=new_id(), member_id=member_id,
        account_id=placement.account_id, worked_from=ENDED, worked_to=ENDED, minutes=60,
        hourly_wage=posted.wage, wage=Money(1, "EUR"), margin=Money(0, "EUR"),
        employer_paid=Money(1, "EUR"), settled_at=dt.datetime.combine(ENDED, dt.time(18),
                                                                      dt.UTC))
    return JobOrderView(job_order_id=job_order_id, posted=posted, placement=placement,
                        ended=end, settlements=[settled, unpaid],
                        paid=[settled.settlement_id])


def her_views(*jobs: JobOrderView, offered: list[str] | None = None
              ) -> tuple[MemberRecord, MemoryStore]:
    """Rosa's record, with ``jobs`` offered to her (``offered``: their ids), in a store."""
    store = MemoryStore()
    store.put("cooperatives", AHORRO, CooperativeView(
        cooperative_id=AHORRO, registered=True, name="Cuidadoras de Madrid", country="ES"))
    for job in jobs:
        store.put("job_orders", job.job_order_id, job)
    record = MemberRecord(member_id=ROSA, registered=True, placements=(
        offered if offered is not None else [job.job_order_id for job in jobs]))
    store.put("members", ROSA, record)
    return record, store


def subject_of(record: MemberRecord, store: MemoryStore, scopes: set[str]) -> dict:
    return record_subject(record, store, frozenset(scopes), None, {})


# -- what the record says ----------------------------------------------------------------------


def test_under_the_work_scope_her_record_carries_each_placement_of_hers_that_ended():
    done = job_order(ROSA, minutes=9_600)
    early = job_order(ROSA, minutes=450, reason=p.PlacementEndReason.EMPLOYER_ENDED,
                      occupation="5311", country="PT")
    running = job_order(ROSA, ended=False)
    lucias = job_order(LUCIA)  # offered to Rosa first, then placed with Lucía
    record, store = her_views(done, running, lucias, early)
    subject = subject_of(record, store, {"membership", "work"})
    assert subject["work"] == [
        {"jobOrderId": done.job_order_id,
         "occupation": {"isco08": "5152", "framework": "ISCO-08",
                        "concept": "ISCO-08 unit group",
                        "url": "http://data.europa.eu/esco/isco/C5152"},
         "cooperative": {"name": "Cuidadoras de Madrid", "country": "ES"},
         "country": "ES", "startedOn": "2026-03-02", "endedOn": "2026-06-30",
         "minutes": 9_600, "hours": "160", "howEnded": "completed"},
        {"jobOrderId": early.job_order_id,
         "occupation": {"isco08": "5311", "framework": "ISCO-08",
                        "concept": "ISCO-08 unit group",
                        "url": "http://data.europa.eu/esco/isco/C5311"},
         "cooperative": {"name": "Cuidadoras de Madrid", "country": "ES"},
         "country": "PT", "startedOn": "2026-03-02", "endedOn": "2026-06-30",
         "minutes": 450, "hours": "7.5", "howEnded": "employer_ended"}]
    said = json.dumps(subject)  # never who employed her, where exactly, nor her pay
    for never in (done.posted.employer_id, early.posted.employer_id, "Chamberí", "wage",
                  "11.50", "1150", "margin"):
        assert never not in said, never


def test_without_the_work_scope_her_record_says_nothing_of_her_work():
    record, store = her_views(job_order(ROSA))
    for scopes in ({"membership"}, {"identity", "membership", "savings", "training",
                                    "governance", "insurance"}):
        assert "work" not in subject_of(record, store, scopes)
    # and a job order no longer in the views (or never folded) is left out, not an error
    record, store = her_views(job_order(ROSA), offered=[new_id()])
    assert subject_of(record, store, {"membership", "work"})["work"] == []


@pytest.mark.parametrize("minutes,hours", [
    (9_600, "160"), (450, "7.5"), (3, "0.05"), (0, "0"), (60, "1"), (90, "1.5"),
    (7, "0.12"), (1, "0.02"), (527_040, "8784")])
def test_hours_are_a_decimal_string_exact_whenever_the_minutes_allow(minutes, hours):
    assert hours_text(minutes) == hours


def test_a_record_with_work_is_a_valid_credential_every_term_defined():
    record, store = her_views(job_order(ROSA), job_order(ROSA, minutes=7))
    credential = vc.member_record_credential(
        node="es", credential_id=new_id(),
        subject=subject_of(record, store, {"membership", "work"}),
        valid_from=NOW, valid_until=NOW + dt.timedelta(days=30),
        status_list="https://es.example/credentials/status/x", status_index=3)
    assert len(credential["credentialSubject"]["work"]) == 2
    assert schema_errors(VC_SCHEMA, credential) == []
    [expanded] = expand_safely(credential)  # nothing dropped, no relative IRI
    assert "occupation" in json.dumps(expanded)


def test_her_sheet_shows_her_work_and_the_work_her_records_brought_home():
    record, store = her_views(job_order(ROSA, minutes=450,
                                        reason=p.PlacementEndReason.WORKER_LEFT),
                              job_order(ROSA, ended=False))
    record.imports.append(ImportDoc(
        credential_id=new_id(), issuer_node="pt", issued_at=NOW, imported_at=NOW,
        history=m.ImportedHistory(work=[m.ImportedWork(
            occupation="9111", cooperative_name="Limpa Lisboa", country="PT",
            started_on=dt.date(2025, 1, 6), ended_on=dt.date(2025, 12, 19), minutes=61_320,
            how_ended="completed")])))
    [column] = record_sheet(record, store, ["es"], today=dt.date(2026, 11, 15))
    work = next(t for t in column.tables if t.key == "work")
    assert (work.heading, work.numeric[-1]) == ("Trabajo a través de cooperativas", True)
    assert [[cell.text for cell in row] for row in work.rows] == [
        ["ISCO-08 5152", "Cuidadoras de Madrid", "España (ES)", "2 de marzo de 2026",
         "30 de junio de 2026 (se fue)", "7,5"],
        ["ISCO-08 9111", "Limpa Lisboa · del nodo pt", "Portugal (PT)",
         "6 de enero de 2025", "19 de diciembre de 2025 (completado)", "1.022"]]
    [english] = record_sheet(MemberRecord(member_id=LUCIA, registered=True), MemoryStore(),
                             ["en"], today=dt.date(2026, 11, 15))
    nothing = next(t for t in english.tables if t.key == "work")
    assert (nothing.rows, nothing.empty) == ([], "No work through cooperatives.")


# -- what a record brings home -----------------------------------------------------------------


def test_at_home_her_work_and_her_certificates_languages_read_back():
    record, store = her_views(job_order(ROSA, minutes=450,
                                        reason=p.PlacementEndReason.COOPERATIVE_ENDED))
    subject = subject_of(record, store, {"membership", "work"})
    subject["training"] = {"certificates": [
        {"title": "Español B1", "kind": "language", "issuedOn": "2026-06-30",
         "language": "es-es", "level": "B1", "skills": [], "revoked": False},
        {"title": "Cuidados", "kind": "vocational", "issuedOn": "2026-06-30",
         "language": None, "level": None, "skills": ["isco08:5322"], "revoked": False},
        {"title": "Viejo", "kind": "language", "issuedOn": "2026-06-30", "level": "A2",
         "language": "not a language tag!"}]}
    history = imported_history(subject)
    assert history.work == [m.ImportedWork(
        occupation="5152", cooperative_name="Cuidadoras de Madrid", country="ES",
        started_on=STARTED, ended_on=ENDED, minutes=450, how_ended="cooperative_ended")]
    # (the tag in its usual case; none for a vocational course, none when it is malformed)
    assert [c.language for c in history.certificates] == ["es-ES", None, None]


def test_an_odd_work_entry_is_left_out_never_the_whole_record():
    record, store = her_views(job_order(ROSA))
    [good] = subject_of(record, store, {"work"})["work"]
    odd = [
        "not work",
        {**good, "occupation": "5152"},  # a code, not the occupation as records write it
        {**good, "occupation": {"isco08": "51"}},  # not a unit group
        {**good, "minutes": 90.5},
        {**good, "minutes": True},
        {**good, "minutes": -1},
        {**good, "endedOn": "2026-02-01"},  # before it started
        {**good, "startedOn": "spring"},
        {**good, "country": "es"},
        {**good, "cooperative": "Cuidadoras"},
        {key: value for key, value in good.items() if key != "endedOn"},
    ]
    work = imported_history({"work": [*odd, good,
                                      {**good, "howEnded": "Fired!", "country": None,
                                       "cooperative": {"name": "", "country": "ES"}},
                                      {**good, "howEnded": "completed\n"},
                                      {**good, "howEnded": "laid_off"}]}).work
    assert [(w.minutes, w.how_ended, w.country, w.cooperative_name) for w in work] == [
        (9_600, "completed", "ES", "Cuidadoras de Madrid"),
        (9_600, None, None, "unnamed"),  # an ending the contract cannot hold: not said
        (9_600, None, "ES", "Cuidadoras de Madrid"),
        (9_600, "laid_off", "ES", "Cuidadoras de Madrid")]  # a newer peer's, kept as said
    assert len(imported_history({"work": [good] * 300}).work) == 200  # the contract's bound
    assert imported_history({"work": "all of it"}).work == []
    assert imported_history({}).work == []  # a record exported before, or without the scope


# -- the import's versions ---------------------------------------------------------------------


def version_3(newest: m.ImportRecord | m.RecordImported) -> bytes:
    """``newest`` as version 3 wrote it: no work, no certificate's language."""
    doc = json.loads(REGISTRY.encode(newest, id=new_id(), source="/coopbridge/ec/gateway",
                                     subject=newest.member_id, time=NOW))
    doc["type"] = doc["type"].replace(".v4", ".v3")
    history = doc["data"]["history"]
    history.pop("work", None)
    for certificate in history.get("certificates", []):
        certificate.pop("language", None)
    return json.dumps(doc).encode()


def test_an_import_written_as_version_3_reads_as_version_4_with_no_work():
    history = m.ImportedHistory(
        memberships=[m.ImportedMembership(
            cooperative_name="Cuidadoras de Madrid", country="ES",
            role=m.MembershipRole.MEMBER, started_on=dt.date(2019, 5, 6))],
        certificates=[m.ImportedCertificate(title="Español B1", kind="language",
                                            issued_on=dt.date(2026, 6, 30), level="B1",
                                            titles={"es": "Español B1"})],
        assemblies=[m.ImportedAssembly(cooperative_name="Cuidadoras de Madrid",
                                       meeting_on=dt.date(2026, 5, 30), voted="remote")])
    fields = {"member_id": ROSA, "credential_id": new_id(), "issuer_node": "es",
              "issued_at": NOW, "digest": "A" * 43, "history": history}
    for newest, kind in ((m.ImportRecord(**fields), "command"),
                         (m.RecordImported(**fields), "event")):
        old = version_3(newest)
        assert json.loads(old)["type"].endswith(".v3")
        read = REGISTRY.decode(old, kind=kind).payload
        assert type(read) is type(newest)
        assert read.history.work == []
        assert [c.language for c in read.history.certificates] == [None]
        assert read == newest  # every other field as it was written
        # a version 3 that carries what only version 4 has is refused, not read
        doc = json.loads(old)
        doc["data"]["history"]["work"] = []
        with pytest.raises(ContractError, match="work") as refused:
            REGISTRY.decode(json.dumps(doc).encode(), kind=kind)
        assert refused.value.reason is Reason.INVALID_DATA


# -- over GraphQL, from the host to her home ---------------------------------------------------


WORK = """query($id: ID!) { member(id: $id) { importedRecords {
    work { occupation cooperativeName country startedOn endedOn minutes hours howEnded }
    certificates { title language } } } }"""


async def test_her_work_abroad_comes_home_with_her_record(
        federation_pair, monkeypatch):  # noqa: F811 (the fixture imported above)
    es, ec = federation_pair
    rosa = await rosas_history(es)  # her Spanish course's certificate: language es-ES
    done, running = (job_order(rosa, minutes=9_630), job_order(rosa, ended=False))
    lucias = job_order(new_id())
    for job in (done, running, lucias):
        es.views.store.put("job_orders", job.job_order_id, job)
    record = es.views.store.get("members", rosa)
    record.placements = [done.job_order_id, running.job_order_id, lucias.job_order_id]
    es.views.store.put("members", rosa, record)
    # without the work scope, no work
    await consent(es, rosa, ("MEMBERSHIP",))
    without = await export(monkeypatch, es, rosa)
    assert without["__typename"] == "ExportedRecord", without
    assert "work" not in payload(without["credential"])["credentialSubject"]
    # with it, the placement that ended: and at home, it reads back
    await consent(es, rosa, ("IDENTITY", "MEMBERSHIP", "TRAINING", "WORK"))
    exported = await export(monkeypatch, es, rosa,
                            scopes=["identity", "membership", "training", "work"])
    assert exported["__typename"] == "ExportedRecord", exported
    subject = payload(exported["credential"])["credentialSubject"]
    assert "work" in subject["scopes"]
    assert [(w["jobOrderId"], w["minutes"], w["hours"]) for w in subject["work"]] == [
        (done.job_order_id, 9_630, "160.5")]
    with as_node(monkeypatch, ec):
        imported = (await ec.ok(IMPORT, QUITO_STAFF, input=import_input(
            exported["credential"], QUITO)))["importRecord"]
        assert imported["__typename"] == "RecordImportedHere", imported
        data = await ec.ok(WORK, QUITO_STAFF, id=rosa)
    assert data["member"]["importedRecords"] == [{
        "work": [{"occupation": "5152", "cooperativeName": "Ahorro Solidario Madrid",
                  "country": "ES", "startedOn": "2026-03-02", "endedOn": "2026-06-30",
                  "minutes": 9_630, "hours": "160.5", "howEnded": "completed"}],
        "certificates": [{"title": "Español B1", "language": "es-ES"}]}]
