"""Another page of a list already shown is its rows and pagination written into the list's frame (public.frames):
exactly the page the templates give, in every language, order, filter and search; made again when the public data
changes; never used for an address it could not give exactly."""

from unittest import mock

import pytest
from django.core.cache import caches

from cases.models import Status
from public import frames
from workflow.services import withdraw

from .factories import make_citation, make_event, make_person, make_source, publish_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def listed():
    """Sixty published cases (three pages of the list; two of those in one status), some found by one name."""
    source = make_source()
    people = []
    for n in range(60):
        person = make_person(name=f"{'Kim Cheol-ok' if n % 5 == 0 else 'Pak Su'} {n}", nationality="KP")
        status = Status.DETAINED if n % 2 else Status.DISAPPEARED
        make_citation(source, status_event=make_event(person, status, str(1990 + n % 30), is_public=True))
        people.append(publish_case(person))
    return people


def whole(client, url: str) -> bytes:
    """The page as the templates render it, without a frame (and not from the page cache, where frames are kept
    too)."""
    caches["pages"].clear()
    with mock.patch("public.views.framed", lambda *args: None):
        response = client.get(url)
    assert response.status_code == 200, url
    return response.content


def rendered_frames():
    """Counts the frames rendered (each is a rendering of the list's template)."""
    return mock.patch.object(frames, "render_to_string", wraps=frames.render_to_string)


@pytest.mark.parametrize(
    "address",
    [
        "/cases/?page={}",
        "/cases/?sort=date&page={}",
        "/cases/?page={}&status=detained",
        "/cases/?status=detained&nationality=KP&sort=updated&page={}&ignored=1",
        "/ko/cases/?page={}",
        "/ja/cases/?sort=name&page={}",
    ],
)
def test_each_page_written_into_the_frame_is_the_page_the_templates_give(client, listed, address):
    caches["pages"].clear()
    with rendered_frames() as rendering:
        pages = []
        for number in (2, 1):
            response = client.get(address.format(number))
            assert response.status_code == 200
            pages.append(response.content)
    assert rendering.call_count == 1  # one frame for both pages
    for number, content in zip((2, 1), pages, strict=True):
        assert content == whole(client, address.format(number)), number
        assert f"page={number}".encode() in content  # the page's own address, in the other languages' links


def test_a_search_s_other_pages_are_written_into_its_frame(client, listed):
    for n in range(60, 90):  # more than a page of the name searched for
        person = make_person(name=f"Kim Cheol-ok {n}")
        make_citation(make_source(), status_event=make_event(person, Status.ARRESTED, "2001", is_public=True))
        publish_case(person)
    caches["pages"].clear()
    with rendered_frames() as rendering:
        first = client.get("/cases/?q=kim+cheol-ok&page=1").content
        second = client.get("/cases/?q=kim+cheol-ok&page=2").content
    assert rendering.call_count == 1
    assert first == whole(client, "/cases/?q=kim+cheol-ok&page=1")
    assert second == whole(client, "/cases/?q=kim+cheol-ok&page=2")


def test_a_change_of_the_public_data_makes_a_new_frame(client, listed):
    assert listed[0].name.encode() in client.get("/cases/?page=1").content  # first by name
    assert b"60 cases" in client.get("/cases/?page=2").content
    withdraw(listed[0], by=None, reason="The family asked for it to be removed.")
    page = client.get("/cases/?page=1").content
    assert b"59 cases" in page
    assert listed[0].name.encode() not in page
    assert page == whole(client, "/cases/?page=1")


def test_a_frame_is_kept_for_its_own_host(client, listed, settings):
    # The other languages' links are absolute: a page asked for under another name of the site links there.
    settings.ALLOWED_HOSTS = ["testserver", "mirror.example.org"]
    client.get("/cases/?page=2")
    mirrored = client.get("/cases/?page=3", HTTP_HOST="mirror.example.org").content
    assert b"http://mirror.example.org/ko/cases/?page=3" in mirrored
    assert b"testserver" not in mirrored


@pytest.mark.parametrize(
    "query",
    [
        "page=2&page=3",  # written twice: the last counts, as the paginator reads it
        "page=%32",  # escaped
        "page=２",  # digits of another script
        f"page=2&q={frames.NUMBER}",  # the mark itself
        "page=2&q=%EF%B7%90rows%EF%B7%90",
    ],
)
def test_an_address_a_frame_could_not_give_exactly_is_rendered_whole(client, listed, query):
    caches["pages"].clear()
    with rendered_frames() as rendering:
        response = client.get(f"/cases/?{query}")
    assert rendering.call_count == 0
    if response.status_code == 200:
        assert response.content == whole(client, f"/cases/?{query}")
