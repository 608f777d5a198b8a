"""Which language a reader gets (``gateway.i18n.languages``): her ``lang`` argument, else her
``Accept-Language``; from a language map, her language or a region of it, else the language
it was written in, marked as a fallback."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from gateway.i18n.languages import Localized, canonical, pick, preferences

COURSE = {"es-ES": "Contabilidad cooperativa", "en": "Cooperative bookkeeping"}


def test_accept_language_is_read_by_weight_and_q_0_means_not_this_one():
    assert preferences("it-IT,tl;q=0.9,en;q=0.5") == ["it-IT", "tl", "en"]
    assert preferences("en;q=0.2, es-ec;q=0.8, fr;q=0") == ["es-EC", "en"]
    assert preferences("ar, en") == ["ar", "en"]  # ties keep the header's order


def test_a_lang_argument_wins_over_the_header():
    assert preferences("en", lang="es-EC") == ["es-EC"]
    assert preferences("en", lang=["it-IT", "tl"]) == ["it-IT", "tl"]


def test_garbage_in_a_header_is_left_out_never_an_error():
    assert preferences("*, ;q=1, x_y, es;q=abc, fr;q=2, pt") == ["pt"]
    assert preferences(None) == [] and preferences("") == []


@given(st.text(max_size=300))
def test_any_header_gives_well_formed_tags(header):
    for tag in preferences(header):
        assert canonical(tag) == tag


def test_a_region_of_her_language_is_her_language():
    assert pick(COURSE, ["es-EC"]) == Localized("Contabilidad cooperativa", "es-ES", False)
    assert pick({"es": "Ahorro"}, ["es-EC"]) == Localized("Ahorro", "es", False)


def test_a_course_only_in_spanish_asked_in_quechua_is_spanish_marked_as_a_fallback():
    assert pick({"es": "Ahorro"}, ["qu"]) == Localized("Ahorro", "es", True)


def test_her_first_language_goes_before_her_second():
    assert pick(COURSE, ["en-GB", "es"]).language == "en"
    assert pick(COURSE, ["tl", "en"]) == Localized("Cooperative bookkeeping", "en", False)


def test_tags_compare_whatever_their_case():
    assert pick({"ES-es": "x"}, ["es-ES"]) == Localized("x", "ES-es", False)
    assert canonical("zh-hant-tw") == "zh-Hant-TW"
    assert canonical("en_GB") is None and canonical("") is None


def test_an_empty_map_has_no_text():
    assert pick({}, ["es"]) is None


def test_another_region_of_her_first_language_goes_before_her_second_language():
    assert pick(COURSE, ["es-EC", "en"]).language == "es-ES"
