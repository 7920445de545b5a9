"""Small ``make_*`` helpers for test data, each with keyword defaults.

Users get one password (``PASSWORD``); a staff user's username is their role's
name in lower case unless a test names them.
"""

import itertools

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client

from cases.history import save_with_history
from cases.models import Confidence, NameVariant, Person, PublicationBasis, Status
from cases.partial_dates import PartialDate
from sources.models import Citation, Source

PASSWORD = "a-long-test-password"

_counter = itertools.count(1)


def make_user(username: str | None = None, **fields):
    username = username or f"user{next(_counter)}"
    return get_user_model().objects.create_user(username=username, password=PASSWORD, **fields)


def make_staff(role: str | None, username: str | None = None, **fields):
    """A staff user in exactly the group ``role`` ("Caseworker", "Editor"…), or in none when ``role`` is None."""
    user = make_user(username or (role.lower() if role else None), is_staff=True, **fields)
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user


def make_superuser(username: str = "admin", **fields):
    return make_user(username, is_staff=True, is_superuser=True, **fields)


def signed_in(user, **defaults) -> Client:
    """A new browser with ``user`` signed in (``defaults`` as for ``Client``, e.g. ``REMOTE_ADDR``)."""
    client = Client(**defaults)
    client.force_login(user)
    return client


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


def make_capture(source: Source, body: bytes = b"<html><body>Captured</body></html>", **fields):
    """A capture of ``source``'s page as the worker keeps one (archive.jobs.keep), with its files in the storage."""
    import hashlib

    from django.core.files.base import ContentFile
    from django.utils import timezone

    from archive.models import Capture

    warc = fields.pop("warc_bytes", b"WARC/1.1\r\n" + body)
    fields.setdefault("requested_url", source.url or "https://example.org/page")
    fields.setdefault("final_url", fields["requested_url"])
    fields.setdefault("http_status", 200)
    fields.setdefault("content_type", "text/html")
    fields.setdefault("captured_at", timezone.now())
    fields.setdefault("tool", "Whereabouts/test")
    capture = Capture(
        source=source,
        body_sha256=hashlib.sha256(body).hexdigest(),
        body_size=len(body),
        warc_sha256=hashlib.sha256(warc).hexdigest(),
        warc_size=len(warc),
        **fields,
    )
    capture.body.save("capture", ContentFile(body), save=False)
    capture.warc.save("capture.warc.gz", ContentFile(warc), save=False)
    save_with_history(capture, by=None, reason="test data")
    return capture


def make_citation(source: Source, *, by=None, **fields) -> Citation:
    citation = Citation(source=source, **fields)
    save_with_history(citation, by=by, reason="test data")
    return citation


def make_publishable_case(*, date: str = "2019-05", locator: str = "", source=None, **fields) -> Person:
    """A draft case with nothing stopping publication: a basis, and a public source behind its public event."""
    fields.setdefault("publication_basis", PublicationBasis.ALREADY_PUBLIC)
    person = make_person(**fields)
    event = make_event(person, Status.DETAINED, date, is_public=True)
    make_citation(source or make_source(), status_event=event, locator=locator)
    return person


def make_appeal(*persons: Person, by=None, sent: str | None = None, **fields):
    """An appeal for ``persons``: a letter to the government of North Korea unless said otherwise.

    ``sent``: a partial date ("2016-03"); the appeal is then sent on it through
    its one path (:meth:`advocacy.models.Appeal.advance`), else it stays drafted.
    """
    from advocacy.models import Appeal, AppealState

    fields.setdefault("kind", "letter")
    fields.setdefault("addressee", "government")
    if fields["addressee"] in ("government", "embassy", "parliament"):
        fields.setdefault("country", "KP")
    appeal = Appeal(created_by=by, **fields)
    appeal.full_clean()
    save_with_history(appeal, by=by, reason="test data")
    appeal.persons.set(persons)
    if sent is not None:
        appeal.advance(AppealState.SENT, by=by, on=PartialDate.parse(sent), reason="test data")
        appeal.refresh_from_db()
    return appeal


def make_authority(name: str = "Ministry of State Security", *, by=None, **fields):
    """A public authority unless said otherwise."""
    from cases.models import Authority

    fields.setdefault("is_public", True)
    authority = Authority(name=name, **fields)
    authority.full_clean()
    save_with_history(authority, by=by, reason="test data")
    return authority


def make_facility(name: str = "Yodok political prison camp", *, by=None, variants=(), **fields):
    """A public political prison camp with approximate coordinates unless said otherwise; ``variants``: other
    public spellings."""
    from cases.models import Facility, FacilityName

    fields.setdefault("kind", "kwanliso")
    fields.setdefault("is_public", True)
    if "latitude" not in fields:
        fields.update(latitude="39.75", longitude="127.05", precision=fields.get("precision", "approximate"))
    facility = Facility(name=name, **fields)
    facility.full_clean()
    save_with_history(facility, by=by, reason="test data")
    for variant in variants:
        FacilityName.objects.create(facility=facility, name=variant, is_public=True)
    return facility


def make_relation(person: Person, kind: str, other: Person, *, by=None, source=None, **fields):
    """A relation "``person`` is the ``kind`` of ``other``", public unless said otherwise; cited by ``source``
    (a public source) when given."""
    from cases.models import Relation

    fields.setdefault("is_public", True)
    fields.setdefault("confidence", Confidence.CONFIRMED)
    relation = Relation(person=person, kind=kind, other=other, recorded_by=by, **fields)
    relation.full_clean()
    save_with_history(relation, by=by, reason="test data")
    if source is not None:
        make_citation(source, relation=relation, by=by)
    return relation


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


# The kinds of visitor the permission tests sign in as: a staff user in exactly one role's group, named after
# it, a staff user in no group, or nobody.
VISITOR_ROLES = {
    "caseworker": "Caseworker",
    "researcher": "Researcher",
    "editor": "Editor",
    "administrator": "Administrator",
    "staff-without-group": None,
}
VISITORS = [*VISITOR_ROLES, "anonymous"]


def sign_in_as(client, visitor: str):
    """Sign ``client`` in as the staff user of ``visitor`` (one of ``VISITORS``); ``None`` for "anonymous"."""
    if visitor == "anonymous":
        return None
    user = make_staff(VISITOR_ROLES[visitor], visitor)
    client.force_login(user)
    return user


def make_case_in_review(**fields) -> Person:
    """A publishable case submitted for review by a caseworker ("submitter"): any editor may publish it."""
    from workflow.services import submit_for_review

    person = make_publishable_case(locator="p. 3", **fields)
    submit_for_review(person, by=make_staff("Caseworker", "submitter"))
    person.refresh_from_db()
    return person


def restore_roles() -> None:
    """The roles' groups and permissions, when a transactional test before this one flushed them with the data
    (a flush sends no post-migrate signal): for a test that runs on committed data itself."""
    from django.apps import apps
    from django.contrib.auth.management import create_permissions
    from django.contrib.auth.models import Permission
    from django.contrib.contenttypes.management import create_contenttypes

    from workflow.roles import ROLES

    if Group.objects.exists():
        return
    for app_config in apps.get_app_configs():
        create_contenttypes(app_config, verbosity=0)
        create_permissions(app_config, verbosity=0)
    for name, permissions in ROLES.items():
        group, created = Group.objects.get_or_create(name=name)
        if created:
            for permission in permissions:
                app_label, codename = permission.split(".")
                group.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
