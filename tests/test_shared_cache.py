"""A cache shared by every worker (CACHE_URL, Redis): read from the URL, never stale after a redaction, and a Redis
that is down costs the cache, not the page."""

import logging
import socket

import pytest
import redis
from django.core.cache import caches
from django.core.exceptions import ImproperlyConfigured

from cases.history import save_with_history
from casetracker.settings import caches_from_url
from workflow.models import PublishedRendering

from .conftest import redis_cache_url
from .factories import make_citation, make_event, make_person, make_source, make_variant, publish_case
from .test_settings import start

REDIS = "django.core.cache.backends.redis.RedisCache"
LOCMEM = "django.core.cache.backends.locmem.LocMemCache"
SPELLING = "Kim Spelling-to-hide"
SOURCE_TITLE = "A report that will be restricted"


# Reading CACHE_URL.


def test_without_cache_url_each_process_keeps_its_own_cache():
    caches_setting = caches_from_url("")
    assert {config["BACKEND"] for config in caches_setting.values()} == {LOCMEM}


@pytest.mark.parametrize(
    "url",
    [
        "redis://127.0.0.1:6379/3",
        "redis://cache.internal",
        "rediss://:a-password@cache.example.org:6380/0",
        "redis://whereabouts:a-password@10.0.0.5:6379/15",
        "unix:///run/redis/redis.sock?db=2",
    ],
)
def test_a_redis_url_gives_both_caches_to_redis_under_their_own_prefixes(url):
    default, pages = caches_from_url(url)["default"], caches_from_url(url)["pages"]
    assert default["BACKEND"] == pages["BACKEND"] == REDIS
    assert default["LOCATION"] == pages["LOCATION"] == url
    assert default["KEY_PREFIX"] != pages["KEY_PREFIX"]


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("memcached://127.0.0.1:11211", "CACHE_URL='memcached://127.0.0.1:11211': only one redis://"),
        ("http://cache.example.org/", "only one redis://HOST:PORT/DB"),
        ("redis://", "CACHE_URL='redis://' names no host"),
        ("redis://:6379/0", "names no host"),
        ("redis://127.0.0.1:port/0", "has a port that is not a number"),
        ("redis://127.0.0.1:70000/0", "has a port that is not a number"),
        ("redis://127.0.0.1:6379/cache", "the database must be a number"),
        ("redis://127.0.0.1:6379/0?ssl_cert_reqs=none", "options (ssl_cert_reqs) are not supported"),
        ("redis://a:6379/0,redis://b:6379/0", "only one redis://"),
        ("unix://run/redis.sock", "names no socket"),
        ("unix:///run/redis.sock?db=first", "the database must be a number"),
    ],
)
def test_an_invalid_cache_url_is_refused_with_a_message_naming_it(url, message):
    with pytest.raises(ImproperlyConfigured) as refused:
        caches_from_url(url)
    assert message in str(refused.value)


def test_the_message_hides_the_password():
    with pytest.raises(ImproperlyConfigured) as refused:
        caches_from_url("redis://whereabouts:s3cret@:6379/0")
    assert "s3cret" not in str(refused.value)
    assert "CACHE_URL='redis://whereabouts:***@:6379/0'" in str(refused.value)


def test_an_invalid_cache_url_stops_the_start():
    result = start(SECRET_KEY="x" * 50, CACHE_URL="memcache://127.0.0.1:11211")
    assert result.returncode != 0
    assert "CACHE_URL='memcache://127.0.0.1:11211': only one redis://" in result.stderr


def test_the_site_starts_with_a_redis_url_even_before_redis_answers():
    assert start(SECRET_KEY="x" * 50, CACHE_URL=f"redis://127.0.0.1:{closed_port()}/0").returncode == 0


# With Redis: the local one (127.0.0.1:6379), a database per test worker (tests/conftest.py redis_cache_url).


def closed_port() -> int:
    """A port nothing listens on (the system gave it out, then it was closed)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def shared_cache(settings):
    """Both caches in Redis, as every worker and server shares them; the Redis client for looking inside."""
    url = redis_cache_url()
    client = redis.Redis.from_url(url, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.ConnectionError:
        if settings.CACHES["default"]["BACKEND"] == REDIS:
            raise  # the run asked for Redis (CACHE_URL): its absence is a failure, not a skip
        pytest.skip(f"needs Redis at {url} (.ci/run starts one)")
    settings.CACHES = caches_from_url(url)
    caches["default"].clear()
    yield client
    caches["default"].clear()
    client.close()


@pytest.fixture
def case(db):
    person = make_person(name="Kim Cheol-ok", family_name_native="김", given_name_native="철옥")
    make_variant(person, SPELLING)
    source = make_source(title=SOURCE_TITLE, is_restricted=False)
    make_citation(source, status_event=make_event(person, date="2019", is_public=True), locator="p. 3")
    return publish_case(person)


def kept(client: redis.Redis, prefix: str, kind: str) -> list[str]:
    return [key.decode() for key in client.scan_iter(f"{prefix}:1:public:{kind}:*")]


def test_pages_counts_and_searches_are_kept_in_redis_for_every_worker(client, shared_cache, case):
    body = client.get("/cases/?q=Kim+Cheol-ok").content.decode()
    assert f"/cases/{case.case_id}/" in body

    [page] = kept(shared_cache, "whereabouts-pages", "page")
    assert kept(shared_cache, "whereabouts", "search")
    assert kept(shared_cache, "whereabouts", "found")  # the results in their order: the search's count too
    assert kept(shared_cache, "whereabouts", "facets")
    # Another worker (a cache of its own, with its own connections) reads the page this one rendered.
    other_worker = caches.create_connection("pages")
    content, content_type, _headers = other_worker.get(page.removeprefix("whereabouts-pages:1:"))
    assert content.decode() == body
    assert content_type.startswith("text/html")


def test_a_redaction_is_served_at_once_from_the_shared_cache(client, shared_cache, case):
    url = f"/cases/{case.case_id}/"
    first = client.get(url).content.decode()
    assert SOURCE_TITLE in first
    assert SPELLING in first
    # The case page is kept in the database (public.rendering), the search's page in Redis.
    assert PublishedRendering.objects.filter(version__person=case).exists()
    assert SPELLING in client.get("/cases/?q=Kim+Spelling-to-hide").content.decode()
    assert kept(shared_cache, "whereabouts-pages", "page")

    source = case.status_events.get().citations.get().source
    source.is_restricted = True
    save_with_history(source, by=None, reason="the author asked us to")
    variant = case.variants.get(name=SPELLING)
    variant.is_public = False
    save_with_history(variant, by=None, reason="reprisal risk for the family")

    again = client.get(url)
    assert again.status_code == 200
    assert SOURCE_TITLE not in again.content.decode()
    assert SPELLING not in again.content.decode()
    assert url not in client.get("/cases/?q=Kim+Spelling-to-hide").content.decode()


PAGES = ["/", "/cases/", "/cases/?q=kim", "/api/cases/", "/api/cases/?q=kim", "/sources/", "/feed/"]


@pytest.fixture
def redis_down(settings):
    """Both caches in a Redis that does not answer (nothing listens on its port)."""
    before = settings.CACHES
    settings.CACHES = caches_from_url(f"redis://127.0.0.1:{closed_port()}/0")
    yield
    settings.CACHES = before  # before conftest's _empty_cache empties the caches


def test_public_pages_are_served_when_redis_is_down(client, redis_down, case, caplog):
    with caplog.at_level(logging.WARNING, logger="public.caching"):
        for url in [*PAGES, f"/cases/{case.case_id}/"]:
            response = client.get(url)
            assert response.status_code == 200, url
    assert f"/cases/{case.case_id}/" in client.get("/cases/?q=kim").content.decode()
    assert '"count": 1' in client.get("/api/cases/").content.decode()
    assert "Cache unavailable, public page computed without it" in caplog.text


def test_a_redaction_is_served_at_once_when_redis_is_down(client, redis_down, case):
    url = f"/cases/{case.case_id}/"
    assert SOURCE_TITLE in client.get(url).content.decode()

    source = case.status_events.get().citations.get().source
    source.is_restricted = True
    save_with_history(source, by=None, reason="the author asked us to")

    assert SOURCE_TITLE not in client.get(url).content.decode()
