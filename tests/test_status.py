"""One path for a status change, and the person's current status derived from it."""

import pytest
from django.core.exceptions import ValidationError

from cases.models import Person, Status, StatusEvent
from cases.partial_dates import PartialDate

from .factories import make_event, make_person, make_user

pytestmark = pytest.mark.django_db


def current(person: Person) -> tuple:
    person.refresh_from_db()
    return (
        person.current_status,
        str(person.status_since) if person.status_since else None,
        str(person.last_confirmed) if person.last_confirmed else None,
    )


def test_new_person_has_no_status():
    assert current(make_person()) == ("", None, None)


def test_recording_a_status_sets_current_status_since_and_last_confirmed():
    person = make_person()
    make_event(person, Status.ARRESTED, "2014-10")
    assert current(person) == (Status.ARRESTED, "2014-10", "2014-10")


def test_events_recorded_out_of_order_are_ordered_by_date():
    person = make_person()
    make_event(person, Status.SENTENCED, "2016")
    make_event(person, Status.ARRESTED, "2014-10-07")
    assert current(person) == (Status.SENTENCED, "2016", "2016")


def test_event_with_unknown_date_never_displaces_a_dated_one():
    person = make_person()
    make_event(person, Status.DETAINED, "2014")
    make_event(person, Status.RELEASED, None)
    assert current(person) == (Status.DETAINED, "2014", "2014")


def test_among_events_with_unknown_dates_the_last_recorded_wins():
    person = make_person()
    make_event(person, Status.FORCIBLY_REPATRIATED, None)
    make_event(person, Status.DISAPPEARED, None)
    assert current(person) == (Status.DISAPPEARED, None, None)


def test_same_first_day_is_decided_by_recording_time_whatever_the_precision():
    person = make_person()
    make_event(person, Status.ARRESTED, "2014-01-01")
    make_event(person, Status.DETAINED, "2014")
    assert current(person)[0] == Status.DETAINED
    make_event(person, Status.SENTENCED, "2014-01")
    assert current(person)[0] == Status.SENTENCED


def test_a_later_confirmation_of_the_same_status_keeps_since_and_moves_last_confirmed():
    person = make_person()
    make_event(person, Status.ARRESTED, "2013")
    make_event(person, Status.DETAINED, "2014-03")
    make_event(person, Status.DETAINED, "2019~")
    assert current(person) == (Status.DETAINED, "2014-03", "2019~")
    make_event(person, Status.RELEASED, "2021-05-02")
    assert current(person) == (Status.RELEASED, "2021-05-02", "2021-05-02")


def test_correcting_an_event_date_recomputes_the_current_status():
    person = make_person()
    make_event(person, Status.ARRESTED, "2014")
    sentenced = make_event(person, Status.SENTENCED, "2016")
    sentenced.correct(by=None, reason="Source says 2012", date=PartialDate(2012))
    assert current(person) == (Status.ARRESTED, "2014", "2014")


def test_correcting_the_status_of_the_latest_event_recomputes():
    person = make_person()
    event = make_event(person, Status.DECEASED_REPORTED, "2020")
    event.correct(by=None, reason="Death confirmed by family", status=Status.DECEASED_CONFIRMED)
    assert current(person)[0] == Status.DECEASED_CONFIRMED
    assert person.is_clarified


def test_withdrawing_an_event_recomputes_and_keeps_the_event():
    person = make_person()
    make_event(person, Status.ARRESTED, "2014")
    mistaken = make_event(person, Status.RELEASED, "2015")
    mistaken.withdraw(by=None, reason="Recorded on the wrong person")
    assert current(person) == (Status.ARRESTED, "2014", "2014")
    mistaken.refresh_from_db()
    assert mistaken.withdrawn and mistaken.withdrawn_reason == "Recorded on the wrong person"
    assert StatusEvent.objects.filter(person=person).count() == 2


def test_withdrawing_the_only_event_clears_the_status():
    person = make_person()
    make_event(person, Status.ARRESTED, "2014").withdraw(by=None, reason="Wrong person")
    assert current(person) == ("", None, None)


def test_withdrawal_without_a_reason_is_refused():
    event = make_event(make_person())
    with pytest.raises(ValueError):
        event.withdraw(by=None, reason="")
    event.refresh_from_db()
    assert not event.withdrawn


def test_unknown_status_is_refused_and_nothing_is_written():
    person = make_person()
    with pytest.raises(ValidationError):
        person.record_status("vanished", by=None, reason="test")
    assert not StatusEvent.objects.exists()
    assert current(person) == ("", None, None)


def test_future_event_date_is_refused():
    person = make_person()
    with pytest.raises(ValidationError) as error:
        person.record_status(Status.ARRESTED, by=None, date=PartialDate(2999))
    assert "future" in str(error.value)
    assert not StatusEvent.objects.exists()


def test_correcting_an_unknown_field_is_refused():
    event = make_event(make_person())
    with pytest.raises(TypeError):
        event.correct(by=None, reason="x", person_id=123)


def test_recording_writes_history_for_the_event_and_the_person_with_user_and_reason():
    caseworker = make_user("caseworker")
    person = make_person()
    event = person.record_status(Status.ARRESTED, by=caseworker, reason="Reported by family")
    event_history = event.history.get()
    assert event_history.history_user == caseworker
    assert event_history.history_change_reason == "Reported by family"
    person_history = person.history.first()
    assert person_history.current_status == Status.ARRESTED
    assert person_history.history_user == caseworker
    assert person_history.history_change_reason == "Reported by family"


def test_recording_without_a_reason_uses_the_status_as_reason():
    person = make_person()
    event = person.record_status(Status.DETAINED, by=None)
    assert event.history.get().history_change_reason == "Recorded status: Detained"


@pytest.mark.parametrize(
    ("status", "clarified"),
    [
        (Status.RELEASED, True),
        (Status.REACHED_SAFETY, True),
        (Status.DECEASED_CONFIRMED, True),
        (Status.DECEASED_REPORTED, False),
        (Status.DISAPPEARED, False),
        (Status.DETAINED, False),
        (Status.UNKNOWN, False),
    ],
)
def test_each_status_is_clarified_or_outstanding(status, clarified):
    person = make_person()
    make_event(person, status, "2020")
    person.refresh_from_db()
    assert person.is_clarified is clarified
