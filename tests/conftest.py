"""Shared fixtures and small ``make_*`` helpers for test data."""

import os
import threading
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from django.conf import settings as django_settings
from django.core.cache import caches
from django.db import connection
from django.test import override_settings
from django.utils import translation

from casetracker.settings import caches_from_url

# The helpers live in tests/factories.py; they are named here too for the modules that import them from conftest.
from .factories import (  # noqa: F401
    PASSWORD,
    admin_form_data,
    make_appeal,
    make_authority,
    make_citation,
    make_event,
    make_facility,
    make_person,
    make_publishable_case,
    make_relation,
    make_source,
    make_staff,
    make_superuser,
    make_user,
    make_variant,
    publish_case,
    signed_in,
)

# The tests' own web server (pages to fetch, capture and check), for every module.
from .webserver import https_web_server, web_server  # noqa: F401

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs PostgreSQL (set DATABASE_URL=postgres://…)"
)


def in_thread(target, errors: list) -> threading.Thread:
    """A thread running ``target`` on its own database connection (closed after), its exception kept in
    ``errors`` for the test to fail on: two people's requests at the same moment."""

    def run():
        try:
            target()
        except Exception as error:  # reported to the test, which fails on it
            errors.append(error)
        finally:
            connection.close()

    return threading.Thread(target=run)


@pytest.fixture
def user(db):
    return make_user("caseworker")


# Shared users, one per role (staff, in exactly that group, named after it), and a browser signed in as each.


@pytest.fixture
def caseworker(db):
    return make_staff("Caseworker")


@pytest.fixture
def researcher(db):
    return make_staff("Researcher")


@pytest.fixture
def editor(db):
    return make_staff("Editor")


@pytest.fixture
def administrator(db):
    return make_staff("Administrator")


@pytest.fixture
def admin_user(db):
    """A superuser (replaces pytest-django's, so that every test user has the same password)."""
    return make_superuser("admin")


@pytest.fixture
def caseworker_client(caseworker):
    return signed_in(caseworker)


@pytest.fixture
def researcher_client(researcher):
    return signed_in(researcher)


@pytest.fixture
def editor_client(editor):
    return signed_in(editor)


@pytest.fixture
def administrator_client(administrator):
    return signed_in(administrator)


@pytest.fixture
def admin_client(admin_user):
    return signed_in(admin_user)


@pytest.fixture(autouse=True)
def _second_factor_checked_separately(settings):
    # Most tests sign staff in with force_login and test what they may do;
    # tests/test_two_factor.py turns the two-factor requirement back on and
    # proves that an unverified session reaches no staff page.
    settings.STAFF_2FA_REQUIRED = False


# With DATABASE_REPLICA_URL set, the replica is the test database itself (TEST MIRROR), from which a test's own
# transaction hides what it writes: tests read from the primary, as without a replica, and
# tests/test_replica_router.py turns the router on with a replica that sees their data. The settings of this
# process have read the URL; a command a test starts names its own database.
os.environ.pop("DATABASE_REPLICA_URL", None)


@pytest.fixture(autouse=True)
def _replica_only_where_a_test_asks(settings):
    if "replica" in django_settings.DATABASES:
        settings.DATABASE_ROUTERS = []


@pytest.fixture(autouse=True)
def _english_outside_requests():
    # A request to /ko/ leaves Korean active in its thread (as in a server, where the next request
    # activates its own): code a test calls outside a request starts in the default language.
    translation.activate(django_settings.LANGUAGE_CODE)
    yield
    translation.activate(django_settings.LANGUAGE_CODE)


# The Redis database that tests/test_shared_cache.py uses when CACHE_URL is not set (the worker's number is added).
REDIS_TEST_URL = "redis://127.0.0.1:6379/8"


def redis_cache_url() -> str:
    """CACHE_URL (else REDIS_TEST_URL) with the pytest-xdist worker's number added to its database: Redis's
    clear() empties a whole database, so parallel workers each need one of their own (Redis has 16 by default)."""
    url = os.environ.get("CACHE_URL", "").strip() or REDIS_TEST_URL
    worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
    parts = urlsplit(url)
    if parts.scheme == "unix":
        query = dict(parse_qsl(parts.query))
        query["db"] = str(int(query.get("db", "0")) + worker)
        return parts._replace(query=urlencode(query)).geturl()
    return parts._replace(path=f"/{int(parts.path.removeprefix('/') or 0) + worker}").geturl()


if os.environ.get("CACHE_URL", "").strip():
    # For the whole run, never undone; the settings fixture and override_settings start from it.
    override_settings(CACHES=caches_from_url(redis_cache_url())).enable()


@pytest.fixture
def upload_storage(settings, tmp_path):
    """Uploads go to a temporary folder, never into the project: the folder."""
    location = tmp_path / "uploads"
    location.mkdir()
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(location)}},
    }
    return location


@pytest.fixture(autouse=True)
def _empty_cache():
    # The public pages cache counts under the public data's generation
    # (public/caching.py); a rolled-back test starts the generation again,
    # so each test starts with an empty cache, as a new process does. With CACHE_URL, this empties the
    # worker's Redis database (redis_cache_url).
    for alias in ("default", "pages"):
        caches[alias].clear()
    yield
    for alias in ("default", "pages"):
        caches[alias].clear()


@pytest.fixture(autouse=True)
def _static_files_without_collectstatic(settings):
    # Production serves the hashed files made by collectstatic; tests serve
    # the source files directly so they need no build step.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.WHITENOISE_AUTOREFRESH = True
    settings.WHITENOISE_USE_FINDERS = True
