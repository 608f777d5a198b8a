"""A course's title in the reader's language (issue 23): her ``lang`` argument, else her
``Accept-Language``; a region of her language is her language; a course only in Spanish asked
for in Quechua reads in Spanish, marked as a fallback; a certificate keeps every title."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

from gateway.context import GatewayContext
from gateway.documents import MemberRecord
from gateway.training.fold import fold
from schemas import training as t
from services.runtime.ids import new_id
from tests.unit.inmemory_node import NODE
from tests.unit.test_gateway_schema import (  # noqa: F401 (node: a fixture)
    ADMIN,
    MADRID_ADMIN,
    SCHEMA,
    SPANISH_COURSE,
    node,
)

TITLE = "query($id: ID!, $lang: [String!]) { course(id: $id) { localizedTitle(lang: $lang) " \
        "{ text language fallback } } }"
BOOKKEEPING = [{"language": "es-ES", "title": "Contabilidad cooperativa"},
               {"language": "en", "title": "Cooperative bookkeeping"}]


async def title(node, course: str, lang=None, accept_language: str | None = None) -> dict:  # noqa: F811
    request = SimpleNamespace(headers={"accept-language": accept_language}
                              if accept_language else {})
    context = GatewayContext(node=NODE, caller=ADMIN, views=node.views, keys=node.keys,
                             commands=node.commands, now=node.now, request=request)
    result = await SCHEMA.execute(TITLE, variable_values={"id": course, "lang": lang},
                                  context_value=context)
    assert result.errors is None, result.errors
    return result.data["course"]["localizedTitle"]


async def offered(node, titles) -> str:  # noqa: F811
    course = new_id()
    answer = await node.mutate("offerCourse", {**SPANISH_COURSE, "courseId": course,
                                               "titles": titles}, MADRID_ADMIN)
    assert answer["__typename"] == "CommandAccepted", answer
    return course


async def test_the_title_in_her_language_by_accept_language_or_by_argument(node):  # noqa: F811
    course = await offered(node, BOOKKEEPING)
    spanish = {"text": "Contabilidad cooperativa", "language": "es-ES", "fallback": False}
    english = {"text": "Cooperative bookkeeping", "language": "en", "fallback": False}
    assert await title(node, course, accept_language="es-EC,en;q=0.5") == spanish
    assert await title(node, course, accept_language="it-IT,en-GB;q=0.8") == english
    assert await title(node, course, lang=["en"], accept_language="es-EC") == english


async def test_a_course_only_in_spanish_asked_in_quechua_is_spanish_marked(node):  # noqa: F811
    course = await offered(node, [{"language": "es", "title": "Ahorro y crédito"}])
    assert await title(node, course, lang=["qu"]) == {
        "text": "Ahorro y crédito", "language": "es", "fallback": True}
    assert (await title(node, course))["fallback"] is True  # no language asked at all


def test_a_certificate_keeps_every_title_by_language():
    class Store(dict):
        def get(self, table, key):
            return super().get((table, key))

        def put(self, table, key, doc):
            self[(table, key)] = doc

    store, member = Store(), new_id()
    issued = t.CertificateIssued(
        certificate_id=new_id(), course_id=new_id(), member_id=member,
        cooperative_id=new_id(), kind=t.CourseKind.VOCATIONAL,
        titles=[t.Title(language="es-ES", title="Contabilidad"),
                t.Title(language="en", title="Bookkeeping"),
                t.Title(language="es-ES", title="Contabilidad (2)")],
        skills=[t.IscoOccupation(code="3313")], hours=40, score=80,
        course_started_on=dt.date(2026, 9, 1), completed_on=dt.date(2026, 11, 1), issued_on=dt.date(2026, 11, 2))
    fold(store, issued, None)  # the envelope plays no part in it
    [certificate] = store[("members", member)].certificates
    assert certificate.title == "Contabilidad"
    assert certificate.titles == {"es-ES": "Contabilidad", "en": "Bookkeeping"}
    assert isinstance(store[("members", member)], MemberRecord)
