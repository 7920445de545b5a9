"""Nothing evidential is deleted or rewritten behind the history's back; the one hard delete is an audited purge."""

import ast
import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from cases.history import EvidentialRecordDeletion
from cases.models import Category, NameVariant, Person, StatusEvent
from security.models import AuditEvent
from sources.models import Citation, Source
from workflow.models import PublishedName, PublishedSource, PublishedVersion

from .factories import (
    admin_form_data,
    make_citation,
    make_event,
    make_person,
    make_source,
    make_staff,
    make_user,
    make_variant,
    publish_case,
)

ROOT = Path(__file__).resolve().parent.parent

# --- The static scan ---------------------------------------------------------------------------------

# The models and their querysets refuse a delete (EvidentialModel.delete, EvidentialQuerySet.delete in
# cases/history.py; tested below). What they cannot refuse is a write that skips save(), and so the
# history row and the version check: ``.update()``, ``.bulk_update()`` or a ``._raw_delete()`` on a
# queryset of an evidential model. The scan reads the code as Python and flags each such call reached
# through the model's manager (``Person.objects.filter(...).update(...)``), or made by the model's own
# queryset on itself, outside the functions listed here with the reason they may.
EVIDENTIAL_MODELS = {"Person", "StatusEvent", "Source", "Citation"}
EVIDENTIAL_QUERYSETS = {
    "EvidentialQuerySet",
    "PersonQuerySet",
    "StatusEventQuerySet",
    "SourceQuerySet",
    "CitationQuerySet",
}
MANAGERS = {"objects", "_base_manager", "_default_manager"}
WRITES = {"update", "delete", "_raw_delete", "bulk_update"}

ALLOWED: dict[tuple[str, str], str] = {
    ("cases/history.py", "EvidentialQuerySet.purge"): "the purge itself: the purged rows and their history",
    ("workflow/management/commands/purge_case.py", "Command.handle"): "the audited purge, the one hard delete",
    ("cases/bulk.py", "BulkWriter.update"): "the bulk writer: raises `version` and writes the history rows itself",
}


def project_files() -> list[Path]:
    files = []
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT).parts
        if parts[0] == "tests" or "migrations" in parts or any(part.startswith(".") for part in parts):
            continue
        files.append(path)
    return files


def _receiver_root(node: ast.expr) -> tuple[ast.expr, list[str]]:
    """The name a chain of calls and attributes starts from, and the attributes on the way (last first)."""
    attributes = []
    while isinstance(node, ast.Call | ast.Attribute):
        if isinstance(node, ast.Attribute):
            attributes.append(node.attr)
            node = node.value
        else:
            node = node.func
    return node, attributes


class _EvidentialWrites(ast.NodeVisitor):
    def __init__(self) -> None:
        self.scope: list[str] = []
        self.queryset_class: list[bool] = []
        self.found: list[tuple[str, str]] = []

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        bases = {base.id for base in node.bases if isinstance(base, ast.Name)}
        self.scope.append(node.name)
        self.queryset_class.append(bool(bases & EVIDENTIAL_QUERYSETS) or node.name in EVIDENTIAL_QUERYSETS)
        self.generic_visit(node)
        self.queryset_class.pop()
        self.scope.pop()

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self.scope.append(node.name)
        self.generic_visit(node)
        self.scope.pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Call(self, node: ast.Call) -> None:
        function = node.func
        if isinstance(function, ast.Attribute) and function.attr in WRITES:
            root, attributes = _receiver_root(function.value)
            through_a_manager = (
                isinstance(root, ast.Name)
                and root.id in EVIDENTIAL_MODELS
                and bool(attributes)
                and attributes[-1] in MANAGERS
            )
            on_its_own_queryset = (
                isinstance(root, ast.Name) and root.id == "self" and self.queryset_class and self.queryset_class[-1]
            )
            if through_a_manager or on_its_own_queryset:
                self.found.append((".".join(self.scope) or "<module>", function.attr))
        self.generic_visit(node)


def writes_in(source: str) -> list[tuple[str, str]]:
    """(function, method) of each write that skips save() on an evidential model's queryset in ``source``."""
    visitor = _EvidentialWrites()
    visitor.visit(ast.parse(source))
    return visitor.found


def scan() -> list[tuple[str, str, str]]:
    return [
        (path.relative_to(ROOT).as_posix(), function, method)
        for path in project_files()
        for function, method in writes_in(path.read_text(encoding="utf-8"))
    ]


def test_the_scanner_finds_writes_on_evidential_querysets_only():
    source = (
        "def rename():\n    Person.objects.filter(pk=1).update(name='x')\n"
        "def drop():\n    Citation._base_manager.all().delete()\n"
        "def fast():\n    Source.objects.bulk_update(objs, ['title'])\n"
        "class Writer:\n    def raw(self):\n        (StatusEvent.objects\n            .filter(pk=1)\n"
        "            ._raw_delete(using))\n"
        "class PersonQuerySet(EvidentialQuerySet):\n    def clear(self):\n        return self.update(summary='')\n"
        "def harmless():\n    record.update(status=1)\n    bar.update(1)\n    digest.update(b'')\n"
        "    Category.objects.filter(pk=1).update(name='y')\n    Person.history.filter(pk=1).delete()\n"
        "    # Person.objects.update(name='z') in a comment\n    text = 'Person.objects.all().delete()'\n"
        "    Person.objects.filter(pk=1).purge()\n"
    )
    assert writes_in(source) == [
        ("rename", "update"),
        ("drop", "delete"),
        ("fast", "bulk_update"),
        ("Writer.raw", "_raw_delete"),
        ("PersonQuerySet.clear", "update"),
    ]


def test_the_scan_covers_the_project_but_not_tests_migrations_or_the_virtualenv():
    files = {path.relative_to(ROOT).as_posix() for path in project_files()}
    assert {"cases/models.py", "workflow/services.py", "workflow/management/commands/purge_case.py"} <= files
    assert not any(name.startswith(("tests/", ".venv/")) or "/migrations/" in name for name in files)


def test_no_evidential_record_is_written_around_save_outside_the_purge_and_the_bulk_writer():
    unlisted = sorted(
        f"{path}: {function}() calls .{method}()"
        for path, function, method in scan()
        if (path, function) not in ALLOWED
    )
    assert unlisted == [], (
        "A delete or bulk write on an evidential model's queryset bypasses the history and the version check. "
        "Use save_with_history()/withdraw(), the BulkWriter, or the purge:\n" + "\n".join(unlisted)
    )


def test_each_allowed_function_exists_and_has_a_reason():
    for (path, function), reason in ALLOWED.items():
        assert reason.strip()
        tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
        names = {
            f"{parent.name}.{child.name}"
            for parent in ast.walk(tree)
            if isinstance(parent, ast.ClassDef)
            for child in parent.body
            if isinstance(child, ast.FunctionDef)
        }
        names |= {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
        assert function in names, f"{path} has no {function}(): update the allow list"


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
    user = make_staff("Administrator", "chief")
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
    make_staff("Editor", "editor")
    make_staff("Caseworker", "caseworker")
    make_staff("Administrator", "retired", is_active=False)
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
        "relations": 0,
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
