"""A change and its history row are written together or not at all."""

import pytest
from django.urls import reverse

from cases.models import Person, Status, StatusEvent

from .factories import admin_form_data, make_event, make_person, make_user

pytestmark = pytest.mark.django_db


class HistoryFailure(Exception):
    pass


def fail_history_for(monkeypatch, model) -> None:
    def refuse(*args, **kwargs):
        raise HistoryFailure("history table unavailable")

    monkeypatch.setattr(model.history.model, "save", refuse)


def test_failing_event_history_leaves_no_event_and_no_status_change(monkeypatch):
    person = make_person()
    make_event(person, Status.ARRESTED, "2014")
    fail_history_for(monkeypatch, StatusEvent)
    with pytest.raises(HistoryFailure):
        person.record_status(Status.RELEASED, by=None, reason="test")
    monkeypatch.undo()
    person.refresh_from_db()
    assert person.current_status == Status.ARRESTED
    assert StatusEvent.objects.count() == 1
    assert StatusEvent.history.count() == 1


def test_failing_person_history_also_undoes_the_event(monkeypatch):
    person = make_person()
    fail_history_for(monkeypatch, Person)
    with pytest.raises(HistoryFailure):
        person.record_status(Status.ARRESTED, by=None, reason="test")
    monkeypatch.undo()
    person.refresh_from_db()
    assert person.current_status == ""
    assert not StatusEvent.objects.exists()
    assert not StatusEvent.history.exists()


def test_failing_history_during_a_request_leaves_nothing_behind(client, monkeypatch):
    admin = make_user("admin", is_staff=True, is_superuser=True)
    client.force_login(admin)
    page = client.get(reverse("admin:cases_person_add"))
    fail_history_for(monkeypatch, Person)
    with pytest.raises(HistoryFailure):
        client.post(reverse("admin:cases_person_add"), admin_form_data(page, name="Kim Test"))
    monkeypatch.undo()
    assert not Person.objects.exists()
    assert not Person.history.exists()
