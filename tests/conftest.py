"""Shared fixtures and small ``make_*`` helpers for test data."""

import itertools

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import caches
from django.db import connection

from cases.history import save_with_history
from cases.models import Confidence, NameVariant, Person, Status
from cases.partial_dates import PartialDate
from sources.models import Citation, Source

_counter = itertools.count(1)

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs PostgreSQL (set DATABASE_URL=postgres://…)"
)


def make_user(username: str | None = None, **fields):
    username = username or f"user{next(_counter)}"
    return get_user_model().objects.create_user(username=username, password="a-long-test-password", **fields)


def make_person(*, by=None, reason: str = "test data", **fields) -> Person:
    fields.setdefault("name", f"Test Person {next(_counter)}")
    person = Person(**fields)
    save_with_history(person, by=by, reason=reason)
    return person


def make_variant(person: Person, name: str, *, is_public: bool = True, **fields) -> NameVariant:
    variant = NameVariant(person=person, name=name, is_public=is_public, **fields)
    save_with_history(variant, by=None, reason="test data")
    return variant


def make_event(person: Person, status: str = Status.DETAINED, date: str | None = None, *, by=None, **fields):
    fields.setdefault("confidence", Confidence.CONFIRMED)
    return person.record_status(
        status, by=by, reason="test data", date=PartialDate.parse(date) if date else None, **fields
    )


def make_source(*, by=None, **fields) -> Source:
    fields.setdefault("title", f"Source {next(_counter)}")
    fields.setdefault("is_restricted", False)
    source = Source(**fields)
    save_with_history(source, by=by, reason="test data")
    return source


def make_citation(source: Source, *, by=None, **fields) -> Citation:
    citation = Citation(source=source, **fields)
    save_with_history(citation, by=by, reason="test data")
    return citation


@pytest.fixture
def user(db):
    return make_user("caseworker")


@pytest.fixture(autouse=True)
def _second_factor_checked_separately(settings):
    # Most tests sign staff in with force_login and test what they may do;
    # tests/test_two_factor.py turns the two-factor requirement back on and
    # proves that an unverified session reaches no staff page.
    settings.STAFF_2FA_REQUIRED = False


@pytest.fixture(autouse=True)
def _empty_cache():
    # The public pages cache counts under the public data's generation
    # (public/caching.py); a rolled-back test starts the generation again,
    # so each test starts with an empty cache, as a new process does.
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


def _form_values(form) -> dict:
    data = {}
    for name in form.fields:
        value = form[name].value()
        if value is None or value is False:
            continue
        if value is True:
            data[form.add_prefix(name)] = "on"
        elif isinstance(value, list | tuple):
            data[form.add_prefix(name)] = [str(item) for item in value]
        else:
            data[form.add_prefix(name)] = str(value)
    return data


def admin_form_data(response, **changes) -> dict:
    """What a browser would post back from an admin add/change page, with ``changes`` applied."""
    data = _form_values(response.context["adminform"].form)
    inlines = response.context.get("inline_admin_formsets", [])
    for inline in inlines:
        formset = inline.formset
        data.update(_form_values(formset.management_form))
        for form in formset.forms:
            data.update(_form_values(form))
    data.update(changes)
    return data


def publish_case(person: Person, *, by=None) -> Person:
    """Take ``person`` through review to publication, as the seed loader does (system user)."""
    from workflow.services import publish, submit_for_review

    if not person.publication_basis:
        person.publication_basis = "already_public"
        save_with_history(person, by=None, reason="test data")
    submit_for_review(person, by=by)
    publish(person, by=None)
    person.refresh_from_db()
    return person
