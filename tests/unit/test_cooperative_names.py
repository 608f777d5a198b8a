"""A cooperative's name in its languages (issue 23): registered as a language map (a list of
{language, text} in GraphQL, each language once), read in the reader's language, marked when
it falls back; a cooperative registered with one name, or before names were kept, reads in
its first language."""

from __future__ import annotations

import msgspec

from schemas import REGISTRY
from schemas import membership as m
from services.runtime.ids import new_id
from tests.unit.test_gateway_schema import ADMIN, AHORRO, MADRID_ADMIN, cooperative, node  # noqa: F401

NAME = """query($id: ID!, $lang: [String!]) { cooperative(id: $id) {
    displayName(lang: $lang) { text language fallback } } }"""


async def test_a_cooperative_reads_in_the_readers_language_and_marks_a_fallback(
        node):  # noqa: F811
    cid = new_id()
    data = cooperative(cid, "Coopérative des Travailleurs", "CA", "CAD", "10.00")
    data["names"] = [{"language": "fr", "text": "Coopérative des Travailleurs"},
                     {"language": "en", "text": "Workers' Cooperative"}]
    assert (await node.mutate("registerCooperative", data))["__typename"] == "CommandAccepted"

    async def name(lang):
        return (await node.ok(NAME, ADMIN, id=cid, lang=lang))["cooperative"]["displayName"]

    assert await name(["en-CA"]) == {"text": "Workers' Cooperative", "language": "en",
                                     "fallback": False}
    assert await name(["qu"]) == {"text": "Coopérative des Travailleurs", "language": "fr",
                                  "fallback": True}
    # one name only, as before: its first language's
    assert (await node.ok(NAME, ADMIN, id=AHORRO, lang=["es-EC"]))["cooperative"][
        "displayName"] == {"text": "Ahorro Solidario Madrid", "language": "es",
                           "fallback": False}


async def test_a_language_given_twice_is_refused_and_names_can_be_replaced(
        node):  # noqa: F811
    twice = await node.mutate("updateCooperative", {
        "cooperativeId": AHORRO, "names": [{"language": "es", "text": "A"},
                                           {"language": "es", "text": "B"}]}, MADRID_ADMIN)
    assert (twice["__typename"], twice["field"]) == ("ValidationError", "input.names[1].language")
    bad = await node.mutate("updateCooperative", {
        "cooperativeId": AHORRO, "names": [{"language": "not a tag!", "text": "A"}]},
        MADRID_ADMIN)
    assert bad["__typename"] == "ValidationError"
    replaced = await node.mutate("updateCooperative", {
        "cooperativeId": AHORRO, "names": [{"language": "ca", "text": "Estalvi Solidari"},
                                           {"language": "es", "text": "Ahorro Solidario"}]},
        MADRID_ADMIN)
    assert replaced["__typename"] == "CommandAccepted", replaced
    assert (await node.ok(NAME, ADMIN, id=AHORRO, lang=["ca"]))["cooperative"][
        "displayName"]["text"] == "Estalvi Solidari"


def test_a_version_1_registration_reads_as_version_2_with_no_names():
    old = m.CooperativeRegisteredV1(
        cooperative_id=AHORRO, name="Ahorro", country="ES",
        kind=m.CooperativeKind.SAVINGS_AND_CREDIT, languages=["es"], node="es",
        currency="EUR", share_price=m.Money(amount=2500, currency="EUR"))
    raw = msgspec.json.encode({"specversion": "1.0", "id": "e1", "source": "/x",
                               "type": old.wire_type, "subject": AHORRO, "partitionkey": AHORRO,
                               "time": "2026-03-01T09:00:00Z", "sequence": 1,
                               "data": msgspec.to_builtins(old)})
    payload = REGISTRY.decode(raw).payload
    assert isinstance(payload, m.CooperativeRegistered) and payload.names == {}
    assert payload.name == "Ahorro"
