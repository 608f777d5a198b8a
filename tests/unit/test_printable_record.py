"""The printable member record's signed summary (``printableRecord``) on an in-memory node:
only her own cooperatives get it, it verifies offline with the node's JWKS alone, it carries
no identity field, it fits a readable QR code, and the QR code is the credential."""

from __future__ import annotations

import base64
import contextlib
import json
import re

import pytest
import segno

from gateway.records import credentials as vc
from gateway.records import printable, verification
from gateway.auth import Caller, Role
from services.runtime.ids import new_id
from services.runtime.keys import jwks, signing_key
from tests.unit.test_gateway_schema import (
    ADMIN,
    AHORRO,
    ANALYST,
    ANDINA,
    MADRID_ADMIN,
    MADRID_STAFF,
    NOW,
    QUITO_STAFF,
    ROSA_DETAILS,
    Node,
    cooperative,
    rosa_joins,
)

PRINTABLE = """query($id: ID!) { printableRecord(memberId: $id) {
    credential qrSvg verifyUrl } }"""


@pytest.fixture
async def node(tmp_path, monkeypatch) -> Node:
    monkeypatch.setenv("COOPBRIDGE_HOME", str(tmp_path))  # the node's development keys
    monkeypatch.delenv("COOPBRIDGE_SIGNING_KEY", raising=False)
    monkeypatch.setenv("COOPBRIDGE_PUBLIC_URL", "http://es.example:8000")
    node = Node()
    for args in ((AHORRO, "Ahorro Solidario Madrid", "ES", "EUR", "25.00"),
                 (ANDINA, "Cooperativa Andina", "EC", "USD", "10.00")):
        assert (await node.mutate("registerCooperative", cooperative(*args)))["__typename"] == \
            "CommandAccepted"
    return node


def certified(rosa: str, offer: dict, result: dict) -> list[tuple[str, dict, Caller]]:
    """The steps that take Rosa through a new course of Ahorro's to its certificate: ``offer``
    the course's fields but its ids, ``result`` her result's but who, when and "passed"."""
    course = new_id()
    return [
        ("offerCourse", {"courseId": course, "cooperativeId": AHORRO, **offer}, MADRID_ADMIN),
        ("enrolLearner", {"courseId": course, "memberId": rosa}, MADRID_STAFF),
        ("completeCourse", {"courseId": course, "memberId": rosa, "result": "PASSED",
                            "completedOn": "2026-06-26", **result}, MADRID_STAFF),
        ("issueCertificate", {"courseId": course, "memberId": rosa,
                              "certificateId": new_id(), "issuedOn": "2026-06-30"},
         MADRID_STAFF),
    ]


async def take_steps(node: Node, steps: list[tuple[str, dict, Caller]]) -> None:
    for name, input, caller in steps:
        paid = input.get("paidOn")  # a repayment is recorded once it was paid
        with node.on(paid) if paid else contextlib.nullcontext():
            result = await node.mutate(name, input, caller)
        assert result["__typename"] == "CommandAccepted", (name, result)


async def rosas_history(node: Node, certificates: int = 1) -> str:
    """Rosa with savings, a loan repaid once (late) and ``certificates`` language certificates."""
    ids = await rosa_joins(node)
    rosa, loan = ids["rosa"], new_id()
    steps = [
        ("openAccount", {"accountId": loan, "memberId": rosa, "cooperativeId": AHORRO,
                         "product": "LOAN", "currency": "EUR"}, MADRID_STAFF),
        ("disburseLoan", {"accountId": loan, "principal": {"amount": "1200", "currency": "EUR"},
                          "annualRate": "0.12", "termMonths": 12, "firstDueOn": "2027-01-05"},
         MADRID_ADMIN),
        ("recordRepayment", {"accountId": loan, "amount": {"amount": "106.62", "currency": "EUR"},
                             "paidOn": "2027-01-20"}, MADRID_STAFF),
    ]
    for n in range(certificates):
        title = "Español B1" if n == 0 else f"Curso de guía turístico, módulo {n}"
        steps += certified(rosa, {
            "kind": "LANGUAGE", "titles": [{"language": "es", "title": title}],
            "languageTaught": "es-ES", "targetLevel": "B1", "hours": 80,
            "startsOn": "2026-03-02", "endsOn": "2026-06-26", "capacity": 20},
            {"score": 84, "levelAttained": "B1"})
    await take_steps(node, steps)
    return rosa


def payload(token: str) -> dict:
    body = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


def node_trust() -> dict[str, dict]:
    """What an offline verifier holds: the node's JWKS, fetched once."""
    return {vc.node_issuer("es"): jwks(signing_key("es").public_key())}


def dark_modules(svg: str) -> set[tuple[int, int]]:
    """The dark modules an SVG of segno's draws: its one path is rows of horizontal runs
    (``M``/``m`` move, ``h`` draws), each half a module below the row's top edge."""
    [path] = re.findall(r' d="([^"]+)"', svg)
    x = y = 0.0
    dark = set()
    for command, a, b in re.findall(r"([Mmh])(-?[\d.]+)(?:\s+(-?[\d.]+))?", path):
        if command == "M":
            x, y = float(a), float(b)
        elif command == "m":
            x, y = x + float(a), y + float(b)
        else:
            length = int(float(a))
            dark.update((int(x) + i, int(y)) for i in range(length))
            x += length
    return dark


async def test_her_cooperative_gets_a_signed_summary_that_verifies_offline(node):
    rosa = await rosas_history(node)
    record = (await node.ok(PRINTABLE, MADRID_STAFF, id=rosa))["printableRecord"]
    token = record["credential"]
    checked = verification.verify_credential(token, node_trust(), NOW)
    assert checked.valid, checked.checks
    claims = payload(token)
    assert claims["type"] == ["VerifiableCredential", printable.SUMMARY_TYPE]
    assert claims["issuer"] == "urn:coopbridge:node:es"
    assert claims["validFrom"] == "2026-11-15T10:00:00Z"
    assert claims["validUntil"] == "2027-11-15T10:00:00Z"
    assert claims["credentialSubject"] == {
        "id": f"urn:coopbridge:member:{rosa}",
        "memberships": [{"cooperative": "Ahorro Solidario Madrid", "country": "ES",
                         "from": "2019-05-06"}],
        "loans": [{"repaidOnTime": 0, "repaidLate": 1, "closed": False}],
        "certificates": [{"title": "Español B1", "level": "B1"}]}
    assert record["verifyUrl"] == "http://es.example:8000/.well-known/jwks.json"
    # the node admin gets it too
    assert (await node.ok(PRINTABLE, ADMIN, id=rosa))["printableRecord"] is not None


async def test_the_summary_holds_no_identity_and_fits_a_readable_qr_code(node):
    rosa = await rosas_history(node)
    token = (await node.ok(PRINTABLE, MADRID_STAFF, id=rosa))["printableRecord"]["credential"]
    text = json.dumps(payload(token), ensure_ascii=False)
    for value in ROSA_DETAILS.values():
        for part in ([value] if isinstance(value, str) else value):
            assert len(part) <= 2 or part not in text  # "EC" is also a country code
    assert "identity" not in text and "nationality" not in text
    assert len(token.encode()) <= printable.MAX_SUMMARY_BYTES
    print(f"summary credential: {len(token.encode())} bytes")


async def test_the_qr_code_is_the_credential(node):
    rosa = await rosas_history(node)
    record = (await node.ok(PRINTABLE, MADRID_STAFF, id=rosa))["printableRecord"]
    svg = record["qrSvg"]
    assert svg.startswith('<svg xmlns="http://www.w3.org/2000/svg" viewBox=')
    assert svg.endswith("</svg>")
    assert "<script" not in svg
    # no QR decoder is at hand in pure Python: the SVG's modules must be exactly those of
    # the QR code (version and mask as segno chooses them) of the credential's bytes
    code = segno.make(record["credential"], error="m", boost_error=False, micro=False)
    assert code.error == "M"
    expected = {(x + 4, y + 4) for y, row in enumerate(code.matrix)
                for x, bit in enumerate(row) if bit}
    assert dark_modules(svg) == expected


async def test_another_cooperative_an_analyst_and_a_stranger_get_null(node):
    rosa = await rosas_history(node)
    for caller in (QUITO_STAFF, ANALYST, Caller("x", Role.ADMIN, ANDINA)):
        assert (await node.ok(PRINTABLE, caller, id=rosa))["printableRecord"] is None
    assert await node.anonymous(PRINTABLE, id=rosa) == {"printableRecord": None}
    assert (await node.ok(PRINTABLE, MADRID_STAFF, id=new_id()))["printableRecord"] is None


async def test_an_erased_member_has_no_printable_record(node):
    rosa = await rosas_history(node)
    erased = await node.mutate("eraseMember", {"memberId": rosa}, MADRID_ADMIN)
    assert erased["__typename"] == "CommandAccepted"
    assert (await node.ok(PRINTABLE, MADRID_STAFF, id=rosa))["printableRecord"] is None


async def test_a_record_too_long_for_a_qr_code_is_cut_to_counts(node, monkeypatch):
    rosa = await rosas_history(node, certificates=3)
    monkeypatch.setattr(printable, "MAX_SUMMARY_BYTES", 700)
    token = (await node.ok(PRINTABLE, MADRID_STAFF, id=rosa))["printableRecord"]["credential"]
    assert verification.verify_credential(token, node_trust(), NOW).valid
    assert payload(token)["credentialSubject"] == {
        "id": f"urn:coopbridge:member:{rosa}",
        "memberships": {"count": 1, "countries": ["ES"], "since": "2019-05-06"},
        "loans": {"count": 1, "repaidOnTime": 0, "repaidLate": 1},
        "certificates": {"count": 3, "levels": ["B1"]}}
