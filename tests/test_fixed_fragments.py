"""{% fixed %} (public_records): a part of every page rendered once per language, which cannot depend on the page."""

import pytest
from django.template import TemplateSyntaxError, engines
from django.test import RequestFactory
from django.utils import translation


def render(source: str, context: dict) -> str:
    request = RequestFactory().get("/")
    return engines["django"].from_string("{% load i18n public_records %}" + source).render(context, request)


def test_a_fixed_part_never_shows_the_values_of_the_page_it_is_rendered_for():
    source = "{% fixed %}<p>{{ secret }}{% translate 'Cases' %}</p>{% endfixed %}<p>{{ secret }}</p>"
    with translation.override("en"):
        assert render(source, {"secret": "SENTINEL-1"}) == "<p>Cases</p><p>SENTINEL-1</p>"


def test_a_fixed_part_is_rendered_in_each_language():
    template = engines["django"].from_string(
        "{% load i18n public_records %}{% fixed %}{% translate 'Cases' %} {% url 'public:case_list' %}{% endfixed %}"
    )
    request = RequestFactory().get("/")
    rendered = {}
    for language in ("en", "ko", "ja", "en"):
        with translation.override(language):
            rendered.setdefault(language, set()).add(template.render({}, request))
    assert rendered["en"] == {"Cases /cases/"}
    [korean], [japanese] = rendered["ko"], rendered["ja"]
    assert korean.endswith(" /ko/cases/") and not korean.startswith("Cases")
    assert japanese.endswith(" /ja/cases/") and not japanese.startswith("Cases")


def test_a_fixed_part_cannot_hold_a_block_of_the_page():
    with pytest.raises(TemplateSyntaxError, match="block"):
        engines["django"].from_string(
            "{% load public_records %}{% fixed %}{% block title %}x{% endblock %}{% endfixed %}"
        )
