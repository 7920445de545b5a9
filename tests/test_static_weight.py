"""What the admin's first pages weigh: the static files they load, as collectstatic writes them for production.

Run with ``-s`` to see the figures: the number of requests, and the bytes sent
with and without the compression WhiteNoise serves (``.gz`` beside each file).
"""

import re
from pathlib import Path
from urllib.parse import urljoin

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse

from tests.conftest import make_person

pytestmark = pytest.mark.django_db

PRODUCTION_STORAGE = "whitenoise.storage.CompressedManifestStaticFilesStorage"
ASSET = re.compile(r'<(?:link[^>]+href|script[^>]+src)="(?P<url>[^"]+)"')
CSS_IMPORT = re.compile(r'@import\s+(?:url\()?["\']?(?P<url>[^"\')]+)')


@pytest.fixture(scope="module")
def collected(tmp_path_factory, django_db_blocker):
    """collectstatic with the production storage into a temporary folder: its path and the manifest."""
    root = tmp_path_factory.mktemp("static")
    storages = {**settings.STORAGES, "staticfiles": {"BACKEND": PRODUCTION_STORAGE}}
    with override_settings(STATIC_ROOT=root, STORAGES=storages), django_db_blocker.unblock():
        call_command("collectstatic", "--noinput", verbosity=0)
    return root


def static_files(html: str, root: Path) -> list[str]:
    """The static files a browser fetches for ``html``: its stylesheets and scripts, and what their CSS imports."""
    found: list[str] = []
    queue = [match["url"] for match in ASSET.finditer(html) if match["url"].startswith(settings.STATIC_URL)]
    while queue:
        url = queue.pop(0).split("?")[0]
        name = url.removeprefix(settings.STATIC_URL)
        if name in found:
            continue
        found.append(name)
        if name.endswith(".css"):
            text = (root / name).read_text(encoding="utf-8")
            queue += [urljoin(url, match["url"]) for match in CSS_IMPORT.finditer(text)]
    return found


def weigh(names: list[str], root: Path) -> tuple[int, int]:
    """Bytes sent without and with compression (WhiteNoise sends the .gz when it is smaller)."""
    plain = compressed = 0
    for name in names:
        size = (root / name).stat().st_size
        gzipped = root / f"{name}.gz"
        plain += size
        compressed += min(size, gzipped.stat().st_size) if gzipped.exists() else size
    return plain, compressed


def first_pages(client, admin_client) -> dict[str, str]:
    person = make_person(name="Kim Cheol-ok")
    return {
        "login": client.get(reverse("admin:login")).content.decode(),
        "person change": admin_client.get(reverse("admin:cases_person_change", args=[person.pk])).content.decode(),
    }


def test_the_admins_first_pages_are_served_hashed_and_compressed(client, admin_client, collected):
    storages = {**settings.STORAGES, "staticfiles": {"BACKEND": PRODUCTION_STORAGE}}
    with override_settings(STATIC_ROOT=collected, STORAGES=storages):
        pages = first_pages(client, admin_client)

    total_plain = total_compressed = 0
    every_file: set[str] = set()
    for page, html in pages.items():
        names = static_files(html, collected)
        assert names, page
        for name in names:
            # A hashed name: browsers and proxies may keep it for good (WhiteNoise sends a far-future expiry).
            assert re.search(r"\.[0-9a-f]{12}\.(css|js)$", name), name
            assert (collected / f"{name}.gz").exists(), name
        plain, compressed = weigh(names, collected)
        print(
            f"\n{page}: {len(names)} static requests, {plain / 1024:.0f} KiB uncompressed, "
            f"{compressed / 1024:.0f} KiB compressed"
        )
        total_plain, total_compressed = total_plain + plain, total_compressed + compressed
        every_file |= set(names)
    plain, compressed = weigh(sorted(every_file), collected)
    print(
        f"both pages, each file once: {len(every_file)} static requests, {plain / 1024:.0f} KiB uncompressed, "
        f"{compressed / 1024:.0f} KiB compressed"
    )
    assert compressed < plain / 2
    # The same pages as `make run` serves them (DEBUG: Django's unminified sources, not compressed), for comparison.
    with override_settings(DEBUG=True):
        development = set().union(
            *(static_files(html, collected) for html in first_pages(client, admin_client).values())
        )
    print(
        f"the same under DEBUG: {len(development)} static requests, "
        f"{weigh(sorted(development), collected)[0] / 1024:.0f} KiB"
    )
    # The budget: the person page and the login page together, each file fetched once, well under 200 KiB.
    assert compressed < 200 * 1024


def test_the_production_settings_use_the_compressed_manifest_storage():
    from casetracker import settings as project_settings

    if project_settings.DEBUG:
        pytest.skip("the development settings serve the source files")
    assert project_settings.STORAGES["staticfiles"]["BACKEND"] == PRODUCTION_STORAGE


def test_the_slug_scripts_load_only_where_a_slug_is_filled_from_a_title(admin_client):
    person = make_person(name="Kim Light-page")
    person_page = admin_client.get(reverse("admin:cases_person_change", args=[person.pk])).content.decode()
    category_page = admin_client.get(reverse("admin:cases_category_add")).content.decode()
    for script in ("urlify", "prepopulate.js", "xregexp"):
        assert script not in person_page, script
        assert script in category_page, script
