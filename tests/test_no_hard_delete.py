"""Nothing evidential is deleted or rewritten behind the history's back; the one hard delete is an audited purge."""

import io
import tokenize
from collections import Counter
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.db import connection

from cases.history import EvidentialRecordDeletion
from cases.models import Category, NameVariant, Person, StatusEvent
from security.models import AuditEvent
from sources.models import Citation, Source
from workflow.models import PublishedName, PublishedSource, PublishedVersion

from .conftest import (
    admin_form_data,
    make_citation,
    make_event,
    make_person,
    make_source,
    make_user,
    make_variant,
    publish_case,
)

ROOT = Path(__file__).resolve().parent.parent

# --- The static scan ---------------------------------------------------------------------------------

# Calls that delete rows or write them without the model's save() (so without a history row or the
# version check): ``.update(``, ``.delete(``, ``._raw_delete(``, ``.purge(`` and ``.bulk_update(`` /
# ``.bulk_create(``. Each one in the project's code is listed here, with why it is allowed. A line
# that is not listed fails the test: look at what it writes, then list it with its reason.
ALLOWED: dict[tuple[str, str], str] = {
    # The purge, the one hard delete (audited, Administrators only).
    ("cases/history.py", "result = super().delete()"): "EvidentialQuerySet.purge(): the purge's own delete",
    ("cases/history.py", "self.model.history.filter(id__in=pks).delete()"): "purge(): removes the purged rows' history",
    (
        "workflow/management/commands/purge_case.py",
        'Citation.objects.filter(pk__in=list(citations.values_list("pk", flat=True))).purge()',
    ): "purge_case: the case's citations",
    ("workflow/management/commands/purge_case.py", "versions.delete()"): "purge_case: the case's published versions",
    (
        "workflow/management/commands/purge_case.py",
        "PublishedVersion.history.filter(id__in=version_ids).delete()",
    ): "purge_case: their history",
    (
        "workflow/management/commands/purge_case.py",
        "NameVariant.objects.filter(person=person).delete()",
    ): "purge_case: the case's name variants",
    (
        "workflow/management/commands/purge_case.py",
        "NameVariant.history.filter(person_id=person.pk).delete()",
    ): "purge_case: their history",
    ("workflow/management/commands/purge_case.py", "events.purge()"): "purge_case: the case's status events",
    (
        "workflow/management/commands/purge_case.py",
        "m2m_history.objects.filter(person_id=person.pk).delete()",
    ): "purge_case: the history of the person's categories",
    (
        "workflow/management/commands/purge_case.py",
        "Person.objects.filter(pk=person.pk).purge()",
    ): "purge_case: the person",
    (
        "workflow/management/commands/purge_case.py",
        "entries.delete()",
    ): "purge_case: the admin's log of the case's records (it holds their names)",
    # The public search index: derived rows, rebuilt from the published record each time.
    ("workflow/snapshots.py", "version.names.all().delete()"): "PublishedName index rows, rebuilt by reindex()",
    ("workflow/snapshots.py", "version.cited_sources.all().delete()"): "PublishedSource index rows, rebuilt",
    ("workflow/snapshots.py", "PublishedName.objects.bulk_create(name_rows)"): "PublishedName index rows",
    ("workflow/snapshots.py", "PublishedSource.objects.bulk_create(source_rows)"): "PublishedSource index rows",
    # The bulk writer (import, demo data), which writes the history rows itself.
    (
        "cases/bulk.py",
        "model.objects.bulk_update(objs, field_names, batch_size=BATCH_SIZE)",
    ): "BulkWriter.update(): its callers raise `version` and write the history rows (history())",
    (
        "cases/bulk.py",
        "model.objects.bulk_create(objs, batch_size=BATCH_SIZE)",
    ): "BulkWriter.insert(): new rows, with their history rows written by history()",
    (
        "cases/bulk.py",
        "snapshot.objects.bulk_create(",
    ): "BulkWriter.history(): the history rows of the persons' categories (simple-history's m2m snapshot)",
    (
        "exchange/importer.py",
        "self.update(Person, updated, sorted(fields))",
    ): "import: edited persons through BulkWriter.update(), with `version` raised and history rows written",
    # A counter, not a record: the public data's generation (caching keys and ETags).
    (
        "workflow/models.py",
        'if not cls.objects.filter(pk=1).update(generation=F("generation") + 1, changed_at=now):',
    ): "PublicGeneration.advance(): raises the cache generation; holds no evidence",
    # Not database calls at all: dict.update, set.update, hashlib digests, progress bars.
    ("exchange/importer.py", "bar.update(1)"): "tqdm progress bar",
    ("exchange/importer.py", "bar.update(len(chunk))"): "tqdm progress bar",
    (
        "exchange/importer.py",
        "fields.update(column for item in edited.values() for column in item.edited)",
    ): "set.update",
    ("exchange/importer.py", "fields.update(DERIVED_STATUS_FIELDS)"): "set.update",
    ("security/backup.py", "digest.update(row.encode())"): "hashlib",
    ("security/backup.py", 'digest.update(b"\\n")'): "hashlib",
    ("security/views.py", "context.update("): "dict.update (template context)",
    ("sources/admin.py", "digest.update(chunk)"): "hashlib",
    ("sources/models.py", "options.update("): "dict.update (image save options)",
    ("sources/models.py", "digest.update(chunk)"): "hashlib",
    ("workflow/admin.py", "extra_context.update("): "dict.update (template context)",
    (
        "workflow/snapshots.py",
        "record.update(status=status, status_since=_date(since), last_confirmed=_date(last_confirmed))",
    ): "dict.update (the published record JSON)",
    ("workflow/snapshots.py", "record.update("): "dict.update (the published record JSON)",
}

DOTTED_CALLS = {"update", "delete", "_raw_delete", "purge", "bulk_update", "bulk_create"}


def project_files() -> list[Path]:
    files = []
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT).parts
        if parts[0] == "tests" or "migrations" in parts or any(part.startswith(".") for part in parts):
            continue
        files.append(path)
    return files


def calls_in(source: str) -> list[tuple[int, str]]:
    """(line number, method) of every ``.name(`` call in the code, ignoring comments and strings."""
    skipped = {tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT}
    tokens = [token for token in tokenize.generate_tokens(io.StringIO(source).readline) if token.type not in skipped]
    found = []
    for before, token, after in zip(tokens, tokens[1:], tokens[2:], strict=False):
        if (
            token.type == tokenize.NAME
            and token.string in DOTTED_CALLS
            and before.string == "."
            and after.string == "("
        ):
            found.append((token.start[0], token.string))
    return found


def scan() -> Counter:
    hits: Counter = Counter()
    for path in project_files():
        source = path.read_text(encoding="utf-8")
        lines = source.splitlines()
        for number, _name in calls_in(source):
            hits[(path.relative_to(ROOT).as_posix(), lines[number - 1].strip())] += 1
    return hits


def test_the_scanner_finds_every_kind_of_call():
    source = (
        "qs.update(a=1)\nqs.delete()\nqs._raw_delete(using)\nqs.purge()\n"
        "Model.objects.bulk_update(objs, ['a'])\nModel.objects.bulk_create(\n    objs\n)\n"
        "# qs.delete() in a comment\ntext = 'qs.delete()'\ndef delete(self):\n    pass\nupdate(x)\n"
        "(Person.objects\n    .filter(pk=1)\n    .delete())\n"
    )
    assert calls_in(source) == [
        (1, "update"),
        (2, "delete"),
        (3, "_raw_delete"),
        (4, "purge"),
        (5, "bulk_update"),
        (6, "bulk_create"),
        (16, "delete"),
    ]


def test_the_scan_covers_the_project_but_not_tests_migrations_or_the_virtualenv():
    files = {path.relative_to(ROOT).as_posix() for path in project_files()}
    assert {"cases/models.py", "workflow/services.py", "workflow/management/commands/purge_case.py"} <= files
    assert not any(name.startswith(("tests/", ".venv/")) or "/migrations/" in name for name in files)


def test_every_delete_or_bulk_write_in_the_code_is_on_the_allow_list():
    unlisted = sorted(f"{path}: {line}" for path, line in scan() if (path, line) not in ALLOWED)
    assert unlisted == [], (
        "New delete/update/bulk write calls: each can bypass the history or delete evidence. "
        "Use save_with_history()/withdraw(), or add the line to ALLOWED with the reason:\n" + "\n".join(unlisted)
    )


def test_the_allow_list_gives_a_reason_for_each_entry():
    assert all(reason.strip() for reason in ALLOWED.values())


# --- The models refuse a delete -------------------------------------------------------------------------


@pytest.mark.django_db
def test_evidential_records_refuse_a_delete():
    person = make_person(name="Kim Undeletable")
    event = make_event(person)
    source = make_source()
    citation = make_citation(source, status_event=event)
    for record in (person, event, source, citation):
        with pytest.raises(EvidentialRecordDeletion):
            record.delete()
        with pytest.raises(EvidentialRecordDeletion):
            type(record).objects.filter(pk=record.pk).delete()
        assert type(record).objects.filter(pk=record.pk).exists()


# --- The purge -----------------------------------------------------------------------------------------

NAME = "Kim Purgeable-Zeta"


@pytest.fixture
def administrator(db):
    user = make_user("chief", is_staff=True)
    user.groups.add(Group.objects.get(name="Administrator"))
    return user


@pytest.fixture
def doomed(db):
    """A published case with everything a case has, and a kept neighbour citing the same source."""
    category = Category.objects.create(name="Purge test category", slug="purge-test")
    person = make_person(name=NAME, family_name_native="김", given_name_native="퍼지", summary="Taken in 2019.")
    person.categories.add(category)
    make_variant(person, "Kim Purgeable-Zeeta")
    make_variant(person, "Purgeable Zeta private spelling", is_public=False)
    source = make_source(title="UN report (kept)")
    event = make_event(person, date="2019-04", is_public=True, place="Pyongyang")
    make_citation(source, status_event=event, locator="para. 12")
    make_citation(source, person=person, excerpt="Kim Purgeable-Zeta was seen")
    later = make_event(person, "released", date="2021-01", is_public=False)
    later.correct(by=None, reason="typo", description="corrected")
    publish_case(person)
    person.refresh_from_db()

    neighbour = make_person(name="Choi Kept-Case")
    kept_event = make_event(neighbour, date="2018", is_public=True)
    make_citation(source, status_event=kept_event)
    publish_case(neighbour)
    return person, source, neighbour


def purge(case_id: str, **options) -> str:
    out = io.StringIO()
    call_command("purge_case", case_id, stdout=out, **options)
    return out.getvalue()


def counts() -> dict[str, int]:
    models = [Person, StatusEvent, Citation, NameVariant, PublishedVersion, PublishedName, PublishedSource, Source]
    result = {model.__name__: model.objects.count() for model in models}
    result.update({f"history {model.__name__}": model.history.count() for model in models if hasattr(model, "history")})
    return result


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"reason": "family request", "by": "chief"}, "--confirm"),
        ({"reason": "family request", "by": "chief", "confirm": "KP-9999"}, "--confirm must repeat the case ID"),
        ({"reason": "family request", "by": "chief", "confirm": "kp-0001"}, "--confirm must repeat the case ID"),
        ({"reason": "   ", "by": "chief", "confirm": "{case_id}"}, "reason"),
        ({"confirm": "{case_id}", "by": "chief"}, "--reason"),
        ({"reason": "family request", "confirm": "{case_id}"}, "--by"),
        ({"reason": "family request", "by": "editor", "confirm": "{case_id}"}, "not an active Administrator"),
        ({"reason": "family request", "by": "caseworker", "confirm": "{case_id}"}, "not an active Administrator"),
        ({"reason": "family request", "by": "retired", "confirm": "{case_id}"}, "not an active Administrator"),
        ({"reason": "family request", "by": "nobody", "confirm": "{case_id}"}, "not an active Administrator"),
    ],
)
def test_the_purge_is_refused(administrator, doomed, options, message):
    person = doomed[0]
    editor = make_user("editor", is_staff=True)
    editor.groups.add(Group.objects.get(name="Editor"))
    caseworker = make_user("caseworker", is_staff=True)
    caseworker.groups.add(Group.objects.get(name="Caseworker"))
    retired = make_user("retired", is_staff=True, is_active=False)
    retired.groups.add(Group.objects.get(name="Administrator"))
    before = counts()
    options = {key: value.format(case_id=person.case_id) for key, value in options.items()}

    with pytest.raises(CommandError, match=message):
        purge(person.case_id, **options)
    assert counts() == before
    assert Person.objects.filter(pk=person.pk).exists()
    assert not AuditEvent.objects.filter(action="purged").exists()


@pytest.mark.django_db
def test_purging_an_unknown_case_is_refused(administrator):
    with pytest.raises(CommandError, match="No case KP-0404"):
        purge("KP-0404", reason="x", confirm="KP-0404", by="chief")
    assert not AuditEvent.objects.filter(action="purged").exists()


@pytest.mark.django_db
def test_a_superuser_may_purge(doomed):
    make_user("root", is_staff=True, is_superuser=True)
    purge(doomed[0].case_id, reason="family request", confirm=doomed[0].case_id, by="root")
    assert not Person.objects.filter(pk=doomed[0].pk).exists()


def _database_text() -> str:
    """Every row of every table, as text."""
    rows = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608 (names from the catalogue)
            rows.extend(f"{table}: {row!r}" for row in cursor.fetchall())
    return "\n".join(rows)


@pytest.mark.django_db
def test_an_administrators_purge_removes_the_case_and_its_history_and_keeps_the_sources(administrator, doomed):
    person, source, neighbour = doomed
    pk, case_id = person.pk, person.case_id
    event_ids = list(StatusEvent.objects.filter(person=person).values_list("pk", flat=True))
    version_ids = list(PublishedVersion.objects.filter(person=person).values_list("pk", flat=True))
    citation_ids = list(Citation.objects.filter(person=person).values_list("pk", flat=True)) + list(
        Citation.objects.filter(status_event__in=event_ids).values_list("pk", flat=True)
    )
    assert len(event_ids) == 2 and len(version_ids) == 1 and len(citation_ids) == 2
    neighbour_before = (
        StatusEvent.objects.filter(person=neighbour).count(),
        Citation.objects.filter(status_event__person=neighbour).count(),
        PublishedVersion.objects.filter(person=neighbour).count(),
        PublishedName.objects.filter(version__person=neighbour).count(),
    )
    source_history = source.history.count()

    output = purge(case_id, reason="the family asked", confirm=case_id, by="chief")
    assert case_id in output

    assert not Person.objects.filter(pk=pk).exists()
    assert not Person.history.filter(id=pk).exists()
    assert not StatusEvent.objects.filter(pk__in=event_ids).exists()
    assert not StatusEvent.history.filter(id__in=event_ids).exists()
    assert not Citation.objects.filter(pk__in=citation_ids).exists()
    assert not Citation.history.filter(id__in=citation_ids).exists()
    assert not NameVariant.objects.filter(person_id=pk).exists()
    assert not NameVariant.history.filter(person_id=pk).exists()
    assert not PublishedVersion.objects.filter(pk__in=version_ids).exists()
    assert not PublishedVersion.history.filter(id__in=version_ids).exists()
    assert not PublishedName.objects.filter(version_id__in=version_ids).exists()
    assert not PublishedSource.objects.filter(version_id__in=version_ids).exists()

    # The source stays, with its history, and so does the neighbour's case.
    source.refresh_from_db()
    assert source.history.count() == source_history
    assert (
        StatusEvent.objects.filter(person=neighbour).count(),
        Citation.objects.filter(status_event__person=neighbour).count(),
        PublishedVersion.objects.filter(person=neighbour).count(),
        PublishedName.objects.filter(version__person=neighbour).count(),
    ) == neighbour_before
    assert Category.objects.filter(slug="purge-test").exists()

    purged = AuditEvent.objects.get(action="purged")
    assert (purged.actor, purged.target) == (administrator, case_id)
    assert purged.details == {
        "reason": "the family asked",
        "citations": 2,
        "status_events": 2,
        "published_versions": 1,
    }
    assert AuditEvent.objects.filter(action="purged").count() == 1


@pytest.mark.django_db
def test_the_purge_removes_the_history_of_the_persons_categories(administrator, doomed):
    """Person.history tracks the categories in its own table (HistoricalPerson_categories)."""
    person = doomed[0]
    snapshots = Person.history.model.categories.model.objects
    assert snapshots.filter(person_id=person.pk).exists()
    purge(person.case_id, reason="the family asked", confirm=person.case_id, by="chief")
    leftover = list(snapshots.filter(person_id=person.pk).values("history_id", "person_id", "category_id"))
    assert leftover == []


@pytest.mark.django_db
def test_no_trace_of_the_purged_persons_name_is_left_anywhere(administrator, doomed):
    person = doomed[0]
    assert "purgeable" in _database_text().lower()
    purge(person.case_id, reason="the family asked", confirm=person.case_id, by="chief")
    text = _database_text().lower()
    for trace in ("purgeable", "퍼지", "pyongyang"):
        assert trace not in text, [line for line in text.splitlines() if trace in line][:5]


@pytest.mark.django_db
def test_a_case_edited_in_the_admin_leaves_no_trace_in_the_admin_log_or_a_dump_after_its_purge(administrator, client):
    staff = make_user("root", is_staff=True, is_superuser=True)
    client.force_login(staff)
    source = make_source(title="Kept report")
    add = client.get("/admin/cases/person/add/")
    data = admin_form_data(add, name="Kim Adminlogged-Name", **{"variants-0-name": "Gim Adminlogged-Spelling"})
    assert client.post("/admin/cases/person/add/", data).status_code == 302
    person = Person.objects.get(name="Kim Adminlogged-Name")
    event_page = client.get(f"/admin/cases/statusevent/add/?person={person.pk}")
    event_data = admin_form_data(
        event_page,
        person=str(person.pk),
        status="detained",
        place="Adminlogged-Place",
        **{"citations-0-source": str(source.pk), "citations-0-locator": "Adminlogged-Locator"},
    )
    assert client.post("/admin/cases/statusevent/add/", event_data).status_code == 302
    change = f"/admin/cases/person/{person.pk}/change/"
    assert client.post(change, admin_form_data(client.get(change), summary="Adminlogged summary")).status_code == 302
    dump = io.StringIO()
    call_command("dumpdata", stdout=dump)
    assert "Adminlogged" in dump.getvalue()
    assert "Adminlogged" in client.get("/admin/").content.decode()  # "Recent actions"

    purge(person.case_id, reason="the family asked", confirm=person.case_id, by="chief")

    dump = io.StringIO()
    call_command("dumpdata", stdout=dump)
    assert "adminlogged" not in dump.getvalue().lower()
    assert "adminlogged" not in _database_text().lower()
    assert "Adminlogged" not in client.get("/admin/").content.decode()
    assert Source.objects.filter(pk=source.pk).exists()


@pytest.mark.django_db
def test_the_purge_audit_event_holds_no_personal_data(administrator, doomed):
    person = doomed[0]
    purge(person.case_id, reason="the family asked", confirm=person.case_id, by="chief")
    event = AuditEvent.objects.get(action="purged")
    text = " ".join(str(value) for value in AuditEvent.objects.filter(pk=event.pk).values().get().values()).lower()
    for trace in ("purgeable", "zeta", "kim", "퍼지"):
        assert trace not in text


@pytest.mark.django_db
def test_a_purged_case_id_is_never_reused(administrator, doomed):
    person = doomed[0]
    neighbour = doomed[2]
    purge(person.case_id, reason="the family asked", confirm=person.case_id, by="chief")
    newcomer = make_person(name="Pak Newcomer")
    assert newcomer.case_id not in {person.case_id, neighbour.case_id}
    assert int(newcomer.case_id.split("-")[1]) > max(int(p.case_id.split("-")[1]) for p in (person, neighbour))


@pytest.mark.django_db
def test_purging_the_latest_case_does_not_free_its_number(administrator):
    first = make_person(name="Kim First")
    last = make_person(name="Kim Latest")
    purge(last.case_id, reason="the family asked", confirm=last.case_id, by="chief")
    newcomer = make_person(name="Kim Newcomer")
    assert newcomer.case_id != last.case_id
    assert int(newcomer.case_id.split("-")[1]) == int(last.case_id.split("-")[1]) + 1
    assert Person.objects.filter(pk=first.pk).exists()


@pytest.mark.django_db
def test_a_case_can_be_purged_twice_only_once(administrator, doomed):
    person = doomed[0]
    purge(person.case_id, reason="the family asked", confirm=person.case_id, by="chief")
    with pytest.raises(CommandError, match="No case"):
        purge(person.case_id, reason="again", confirm=person.case_id, by="chief")
    assert AuditEvent.objects.filter(action="purged").count() == 1
