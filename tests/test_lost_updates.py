"""No lost updates: an edit made from a stale copy is refused, in the admin and in the model."""

import html
import threading

import pytest
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse

from cases.history import ConcurrentEdit, save_with_history
from cases.models import Person, Status, StatusEvent
from sources.models import Source

from .conftest import postgresql_only
from .factories import admin_form_data, make_event, make_person, make_source, make_staff, make_user

STALE = "Someone else saved this {} while you were editing it"


def logged_in_client(username: str) -> Client:
    client = Client()
    client.force_login(make_user(username, is_staff=True, is_superuser=True))
    return client


def body(response) -> str:
    return html.unescape(response.content.decode())


def assert_refused_as_stale(response, what: str, *, changed_by: str, change: str) -> None:
    assert response.status_code == 200
    text = body(response)
    assert STALE.format(what) in text
    assert "your changes were not saved" in text
    assert "Changed meanwhile:" in text
    meanwhile = text.split("Changed meanwhile:", 1)[1].split("</ul>", 1)[0]
    assert f", {changed_by}: " in meanwhile
    assert change in meanwhile
    errors = response.context["adminform"].form.non_field_errors()
    assert any(STALE.format(what) in error for error in errors)


@pytest.fixture
def alice():
    return logged_in_client("alice")


@pytest.fixture
def bob():
    return logged_in_client("bob")


# --- Two sessions in the admin -------------------------------------------------------


@pytest.mark.django_db
def test_second_save_of_a_person_from_a_stale_page_is_refused(alice, bob):
    person = make_person(name="Kim Kook-ki", summary="Detained since 2014.")
    url = reverse("admin:cases_person_change", args=[person.pk])
    alice_page, bob_page = alice.get(url), bob.get(url)
    assert alice_page.status_code == bob_page.status_code == 200

    first = alice.post(url, admin_form_data(alice_page, summary="Detained in Camp 15 since 2014."))
    assert first.status_code == 302, first.context["adminform"].form.errors
    person.refresh_from_db()
    history_count, version = person.history.count(), person.version

    second = bob.post(url, admin_form_data(bob_page, summary="Released in 2019."))
    assert_refused_as_stale(second, "person", changed_by="alice", change="Detained in Camp 15 since 2014.")
    assert "public summary" in body(second)

    person.refresh_from_db()
    assert person.summary == "Detained in Camp 15 since 2014."
    assert person.version == version
    assert person.history.count() == history_count
    assert person.history.first().history_user.username == "alice"


@pytest.mark.django_db
def test_a_stale_page_is_refused_even_when_it_changes_another_field(alice, bob):
    person = make_person(name="Kim Kook-ki")
    url = reverse("admin:cases_person_change", args=[person.pk])
    alice_page, bob_page = alice.get(url), bob.get(url)
    assert alice.post(url, admin_form_data(alice_page, summary="Alice's summary.")).status_code == 302
    response = bob.post(url, admin_form_data(bob_page, religion="Christian"))
    assert_refused_as_stale(response, "person", changed_by="alice", change="Alice's summary.")
    person.refresh_from_db()
    assert person.summary == "Alice's summary."
    assert person.religion == ""


@pytest.mark.django_db
def test_second_save_of_a_status_event_from_a_stale_page_is_refused(alice, bob):
    person = make_person(name="Kim Kook-ki")
    event = make_event(person, Status.DETAINED, "2014-10", place="Hyesan")
    url = reverse("admin:cases_statusevent_change", args=[event.pk])
    alice_page, bob_page = alice.get(url), bob.get(url)
    assert alice_page.status_code == bob_page.status_code == 200

    first = alice.post(url, admin_form_data(alice_page, place="Hyesan detention centre"))
    assert first.status_code == 302, first.context["adminform"].form.errors
    event.refresh_from_db()
    history_count, version = event.history.count(), event.version
    person_history_count = person.history.count()

    second = bob.post(url, admin_form_data(bob_page, description="Taken from home at night."))
    assert_refused_as_stale(second, "status event", changed_by="alice", change="Hyesan detention centre")

    event.refresh_from_db()
    assert event.place == "Hyesan detention centre"
    assert event.description == ""
    assert event.version == version
    assert event.history.count() == history_count
    assert person.history.count() == person_history_count


@pytest.mark.django_db
def test_a_stale_status_event_correction_does_not_change_the_persons_status(alice, bob):
    person = make_person(name="Kim Kook-ki")
    make_event(person, Status.ARRESTED, "2014")
    event = make_event(person, Status.DETAINED, "2015")
    url = reverse("admin:cases_statusevent_change", args=[event.pk])
    alice_page, bob_page = alice.get(url), bob.get(url)
    assert alice.post(url, admin_form_data(alice_page, place="Camp 15")).status_code == 302
    response = bob.post(url, admin_form_data(bob_page, status=Status.RELEASED))
    assert response.status_code == 200
    event.refresh_from_db()
    person.refresh_from_db()
    assert event.status == Status.DETAINED
    assert person.current_status == Status.DETAINED


@pytest.mark.django_db
def test_second_save_of_a_source_from_a_stale_page_is_refused(alice, bob):
    source = make_source(title="UN COI report", url="https://example.org/coi")
    url = reverse("admin:sources_source_change", args=[source.pk])
    alice_page, bob_page = alice.get(url), bob.get(url)
    assert alice_page.status_code == bob_page.status_code == 200

    first = alice.post(url, admin_form_data(alice_page, title="UN Commission of Inquiry report"))
    assert first.status_code == 302, first.context["adminform"].form.errors
    source.refresh_from_db()
    history_count, version = source.history.count(), source.version

    second = bob.post(url, admin_form_data(bob_page, publisher="OHCHR"))
    assert_refused_as_stale(second, "source", changed_by="alice", change="UN Commission of Inquiry report")

    source.refresh_from_db()
    assert source.title == "UN Commission of Inquiry report"
    assert source.publisher == ""
    assert source.version == version
    assert source.history.count() == history_count


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["person", "statusevent", "source"])
def test_a_change_form_without_expected_version_is_refused(alice, kind):
    person = make_person(name="Kim Kook-ki")
    obj, field, model_path = {
        "person": (person, "summary", "cases/person"),
        "statusevent": (make_event(person, Status.DETAINED, "2014"), "place", "cases/statusevent"),
        "source": (make_source(title="A report", publisher="An NGO"), "title", "sources/source"),
    }[kind]
    url = f"/admin/{model_path}/{obj.pk}/change/"
    data = admin_form_data(alice.get(url), **{field: "Changed without a version"})
    assert "expected_version" in data
    del data["expected_version"]
    history_count, version = obj.history.count(), obj.version

    response = alice.post(url, data)
    assert response.status_code == 200
    assert "sent without the version it was loaded at" in body(response)
    obj.refresh_from_db()
    assert getattr(obj, field) != "Changed without a version"
    assert obj.version == version
    assert obj.history.count() == history_count


@pytest.mark.django_db
def test_a_forged_future_version_is_refused(alice):
    person = make_person(name="Kim Kook-ki")
    url = reverse("admin:cases_person_change", args=[person.pk])
    data = admin_form_data(alice.get(url), summary="Forged.", expected_version=str(person.version + 5))
    response = alice.post(url, data)
    assert response.status_code == 200
    assert STALE.format("person") in body(response)
    person.refresh_from_db()
    assert person.summary == ""


@pytest.mark.django_db
def test_after_reloading_the_second_user_can_save(alice, bob):
    person = make_person(name="Kim Kook-ki")
    url = reverse("admin:cases_person_change", args=[person.pk])
    alice_page, bob_page = alice.get(url), bob.get(url)
    assert alice.post(url, admin_form_data(alice_page, summary="Alice's summary.")).status_code == 302
    assert bob.post(url, admin_form_data(bob_page, summary="Bob's summary.")).status_code == 200

    reloaded = bob.get(url)
    assert "Alice&#x27;s summary." in reloaded.content.decode()
    response = bob.post(url, admin_form_data(reloaded, summary="Bob's summary."))
    assert response.status_code == 302, response.context["adminform"].form.errors
    person.refresh_from_db()
    assert person.summary == "Bob's summary."
    assert person.history.first().history_user.username == "bob"
    # And alice's old page is now stale in turn.
    assert alice.post(url, admin_form_data(alice_page, summary="Alice again.")).status_code == 200
    person.refresh_from_db()
    assert person.summary == "Bob's summary."


@pytest.mark.django_db
def test_the_same_user_in_two_tabs_is_protected_too(alice):
    person = make_person(name="Kim Kook-ki")
    url = reverse("admin:cases_person_change", args=[person.pk])
    first_tab, second_tab = alice.get(url), alice.get(url)
    assert alice.post(url, admin_form_data(first_tab, summary="First tab.")).status_code == 302
    response = alice.post(url, admin_form_data(second_tab, summary="Second tab."))
    assert_refused_as_stale(response, "person", changed_by="alice", change="First tab.")
    person.refresh_from_db()
    assert person.summary == "First tab."


@pytest.mark.django_db
def test_the_change_page_refuses_users_without_change_permission(client):

    researcher = make_staff("Researcher", "researcher")
    client.force_login(researcher)
    person = make_person(name="Kim Kook-ki")
    url = reverse("admin:cases_person_change", args=[person.pk])
    response = client.post(url, {"name": "Changed", "summary": "Changed", "expected_version": person.version})
    assert response.status_code == 403
    person.refresh_from_db()
    assert person.summary == ""


# --- The model ---------------------------------------------------------------------
# ConcurrentEdit is raised inside Model.save(), which marks an enclosing
# transaction for rollback like any error there: a savepoint keeps the test's
# transaction usable.


@pytest.mark.django_db
def test_saving_a_stale_in_memory_copy_raises_concurrent_edit():
    person = make_person(name="Kim Kook-ki")
    first, second = Person.objects.get(pk=person.pk), Person.objects.get(pk=person.pk)
    first.summary = "First change."
    save_with_history(first, by=None, reason="first")
    history_count = person.history.count()

    second.summary = "Second change."
    with pytest.raises(ConcurrentEdit), transaction.atomic():
        save_with_history(second, by=None, reason="second")
    assert second.version == person.version  # unchanged by the failed attempt

    person.refresh_from_db()
    assert person.summary == "First change."
    assert person.version == first.version == second.version + 1
    assert person.history.count() == history_count


@pytest.mark.django_db
def test_a_stale_copy_saving_one_edited_field_raises_too():
    person = make_person(name="Kim Kook-ki")
    stale = Person.objects.get(pk=person.pk)
    person.summary = "First change."
    save_with_history(person, by=None, reason="first")
    stale.religion = "Buddhist"
    with pytest.raises(ConcurrentEdit), transaction.atomic():
        save_with_history(stale, by=None, reason="second", update_fields=["religion"])
    person.refresh_from_db()
    assert person.religion == ""


@pytest.mark.django_db
def test_saving_a_stale_status_event_or_source_raises_concurrent_edit():
    event = make_event(make_person(), Status.DETAINED, "2014")
    source = make_source(title="Report")
    for model, obj, field in [(StatusEvent, event, "place"), (Source, source, "publisher")]:
        first, second = model.objects.get(pk=obj.pk), model.objects.get(pk=obj.pk)
        setattr(first, field, "first")
        save_with_history(first, by=None, reason="first")
        setattr(second, field, "second")
        with pytest.raises(ConcurrentEdit), transaction.atomic():
            save_with_history(second, by=None, reason="second")
        obj.refresh_from_db()
        assert getattr(obj, field) == "first"


@pytest.mark.django_db
def test_recording_a_status_change_does_not_make_an_open_person_form_stale(alice):
    person = make_person(name="Kim Kook-ki")
    url = reverse("admin:cases_person_change", args=[person.pk])
    page = alice.get(url)
    version = person.version

    make_event(person, Status.ARRESTED, "2014-10")  # updates the derived fields
    person.refresh_from_db()
    assert person.current_status == Status.ARRESTED
    assert person.version == version

    response = alice.post(url, admin_form_data(page, summary="Arrested in October 2014."))
    assert response.status_code == 302, response.context["adminform"].form.errors
    person.refresh_from_db()
    assert person.summary == "Arrested in October 2014."
    assert person.current_status == Status.ARRESTED
    assert str(person.status_since) == "2014-10"


@pytest.mark.django_db
def test_recording_a_status_change_does_not_make_an_in_memory_person_stale():
    person = make_person(name="Kim Kook-ki")
    copy = Person.objects.get(pk=person.pk)
    make_event(person, Status.ARRESTED, "2014")
    copy.summary = "Still editable."
    save_with_history(copy, by=None, reason="edit")
    person.refresh_from_db()
    assert person.summary == "Still editable."
    # The edit did not put back the derived fields the copy was loaded with.
    assert person.current_status == Status.ARRESTED
    assert str(person.status_since) == "2014"
    assert str(person.last_confirmed) == "2014"
    # And the history row of the edit records the record as it now is.
    latest = person.history.first()
    assert latest.summary == "Still editable."
    assert latest.current_status == Status.ARRESTED
    assert str(latest.status_since) == "2014"


@pytest.mark.django_db
def test_a_status_change_committed_while_a_person_form_is_saved_is_not_undone(alice, monkeypatch):
    # The admin reads the person, then validates the form (locking the row),
    # then saves. A status change committed by someone else between the read
    # and the lock is simulated by recording it at the start of validation.
    from cases.admin import VersionedModelForm

    person = make_person(name="Kim Kook-ki")
    url = reverse("admin:cases_person_change", args=[person.pk])
    page = alice.get(url)
    original_clean, recorded = VersionedModelForm.clean, []

    def clean_after_a_concurrent_status_change(form):
        if not recorded and isinstance(form.instance, Person):
            recorded.append(make_event(Person.objects.get(pk=person.pk), Status.ARRESTED, "2014-10"))
        return original_clean(form)

    monkeypatch.setattr(VersionedModelForm, "clean", clean_after_a_concurrent_status_change)
    response = alice.post(url, admin_form_data(page, summary="Arrested in October 2014."))
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert recorded
    person.refresh_from_db()
    assert person.summary == "Arrested in October 2014."
    assert person.status_events.count() == 1
    assert person.current_status == Status.ARRESTED
    assert str(person.status_since) == "2014-10"
    latest = person.history.first()
    assert latest.history_user.username == "alice"
    assert latest.current_status == Status.ARRESTED


# --- Truly concurrent requests (PostgreSQL) ------------------------------------------


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_conflicting_saves_one_wins_one_is_refused():
    person = make_person(name="Kim Kook-ki")
    url = reverse("admin:cases_person_change", args=[person.pk])
    clients = {"alice": logged_in_client("alice"), "bob": logged_in_client("bob")}
    summaries = {"alice": "Alice's summary.", "bob": "Bob's summary."}
    data = {name: admin_form_data(client.get(url), summary=summaries[name]) for name, client in clients.items()}
    history_count = person.history.count()
    start = threading.Barrier(2)
    statuses, errors = {}, []

    def post(name):
        try:
            start.wait(10)
            statuses[name] = clients[name].post(url, data[name]).status_code
        except Exception as error:  # reported in the main thread
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=post, args=(name,)) for name in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads)
    assert not errors
    assert sorted(statuses.values()) == [200, 302]

    winner = next(name for name, status in statuses.items() if status == 302)
    person.refresh_from_db()
    assert person.summary == summaries[winner]
    assert person.history.count() == history_count + 1
    assert person.history.first().history_user.username == winner
