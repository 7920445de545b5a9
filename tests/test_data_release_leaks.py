"""No data release ever holds a restricted value, and none keeps what the public site no longer shows.

The sentinel of tests/test_public_leaks.py is planted everywhere restricted;
a release is built after every publication along the way (each holds what
was public then, some of it restricted since), and one at the end. Every
file left in the storage, every member of every zip and every /data/
address in every language must be free of the sentinel.
"""

import csv
import html
import io
import re
import zipfile
from pathlib import Path

import pytest
from django.core.files.storage import default_storage

from public.releases import build_release
from workflow import services
from workflow.models import DataRelease

from .test_public_leaks import SENTINEL, plant_everything

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def storage(settings, tmp_path):
    """Releases written to a folder of the test's own."""
    location = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {**settings.STORAGES["default"], "OPTIONS": {"location": str(location)}},
    }
    return location


def assert_clean(text: str, where: str) -> None:
    assert SENTINEL.lower() not in text.lower(), f"{where} holds a restricted value"
    assert "비밀" not in text, f"{where} holds the Hangul name of a case under reprisal risk"


def contents(content: bytes, where: str) -> dict[str, str]:
    """A file's text by where it is, a zip's members each apart."""
    if content.startswith(b"PK"):
        with zipfile.ZipFile(io.BytesIO(content)) as bundle:
            return {f"{where}!{name}": bundle.read(name).decode("utf-8") for name in bundle.namelist()}
    return {where: content.decode("utf-8")}


@pytest.fixture
def planted(monkeypatch, django_capture_on_commit_callbacks):
    """Everything planted, a release built after each publication on the way, and one at the end."""
    real = services.publish

    def publish_then_release(*args, **kwargs):
        version = real(*args, **kwargs)
        build_release()
        return version

    monkeypatch.setattr(services, "publish", publish_then_release)
    with django_capture_on_commit_callbacks(execute=True):  # the withdrawn releases' files deleted
        planted = plant_everything()
    monkeypatch.setattr(services, "publish", real)
    return planted, build_release()


def test_no_file_in_the_storage_holds_a_restricted_value(planted, storage):
    (person, *_), last = planted
    # Restricted after they were built, the releases that held what left the public site are withdrawn and their
    # files gone; those built before any of it (the seed's cases alone) stay, with the last.
    withdrawn = DataRelease.objects.exclude(withdrawn_at=None)
    available = DataRelease.objects.available()
    assert withdrawn.count() >= 5 and last in available
    # Beside the releases, the captures of sources' pages (tests/test_public_leaks.py plants a sentinel in one):
    # files for staff only, never served to the public (archive).
    files = [path for path in Path(storage).rglob("*") if path.is_file() and path.parent.name != "captures"]
    assert {path.parent.name for path in files} == {str(release.number) for release in available}
    assert len(files) == sum(len(release.files) for release in available)
    for path in files:
        for where, text in contents(path.read_bytes(), str(path)).items():
            assert_clean(text, where)
    # What is public is there.
    with default_storage.open(last.file("cases.csv")["path"]) as handle:
        cases = {row["case_id"]: row for row in csv.DictReader(io.TextIOWrapper(handle, encoding="utf-8"))}
    assert cases[person.case_id]["name"] == "Park Yong-su"
    assert "Mr A" in {row["name"] for row in cases.values()}
    with default_storage.open(last.file("events.csv")["path"]) as handle:
        assert "Yodok political prison camp" in handle.read().decode()


@pytest.mark.parametrize("prefix", ["", "/ko", "/ja"], ids=["English", "Korean", "Japanese"])
def test_no_data_address_shows_a_restricted_value(client, planted, prefix):
    _, last = planted
    seen, queue = set(), [f"{prefix}/data/", f"{prefix}/data/latest/latest.zip"]
    queue += [f"{prefix}/data/{number}/{entry['name']}" for number in range(1, last.number + 1) for entry in last.files]
    statuses = {}
    while queue:
        address = queue.pop(0)
        if address in seen:
            continue
        seen.add(address)
        response = client.get(address, follow=True)
        body = b"".join(response.streaming_content) if response.streaming else response.content
        statuses[address] = response.status_code
        assert response.status_code < 500, address
        for where, text in contents(body, address).items():
            assert_clean(text, where)
        if "html" in response.get("Content-Type", ""):
            for href in re.findall(r'href="([^"]+)"', body.decode()):
                href = html.unescape(href)
                if href.startswith(f"{prefix}/data/"):
                    queue.append(href)
    # The files of the releases not withdrawn are served; the withdrawn ones' give 404 like any unknown address.
    for release in DataRelease.objects.all():
        expected = 404 if release.withdrawn_at else 200
        assert statuses[f"{prefix}/data/{release.number}/cases.csv"] == expected, release
    assert len(seen) > len(last.files) * last.number
