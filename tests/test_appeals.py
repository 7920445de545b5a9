"""An appeal's steps, their refusals, its replies, and a reply turned into a status event (advocacy.models)."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from advocacy.models import Appeal, AppealError, AppealKind, AppealOutcome, AppealReply, AppealState, last_appeals
from cases.history import EvidentialRecordDeletion
from cases.models import Status
from cases.partial_dates import PartialDate
from sources.models import Citation
from tests.factories import make_appeal, make_event, make_person, make_source, make_staff

pytestmark = pytest.mark.django_db


def day(text: str) -> PartialDate:
    return PartialDate.parse(text)


@pytest.fixture
def caseworker_user():
    return make_staff("Caseworker")


def test_an_appeal_goes_from_drafted_to_closed_with_a_date_and_a_history_row_at_each_step(caseworker_user):
    person = make_person(name="Kim Jeong-wook")
    appeal = make_appeal(person, by=caseworker_user)
    assert appeal.state == AppealState.DRAFTED

    appeal.advance(AppealState.SENT, by=caseworker_user, on=day("2016-03-01"), reason="Letter posted")
    appeal.advance(AppealState.ACKNOWLEDGED, by=caseworker_user, on=day("2016-03-20"))
    appeal.advance(AppealState.TRANSMITTED, by=caseworker_user, on=day("2016-04"))
    reply = appeal.record_reply(
        by=caseworker_user, received_on=day("2016-09-12"), says="The person is detained.", from_whom="Government"
    )
    appeal.advance(AppealState.CLOSED, by=caseworker_user, on=day("2017"), outcome=AppealOutcome.CLARIFIED)

    appeal.refresh_from_db()
    assert appeal.state == AppealState.CLOSED and appeal.outcome == AppealOutcome.CLARIFIED
    assert (appeal.sent_on, appeal.acknowledged_on, appeal.transmitted_on, appeal.closed_on) == (
        day("2016-03-01"),
        day("2016-03-20"),
        day("2016-04"),
        day("2017"),
    )
    assert list(appeal.replies.all()) == [reply]
    states = [row.state for row in appeal.history.order_by("history_date", "history_id")]
    steps = [state for i, state in enumerate(states) if i == 0 or states[i - 1] != state]
    assert steps == ["drafted", "sent", "acknowledged", "transmitted", "replied", "closed"]
    sent = appeal.history.filter(state="sent").get()
    assert sent.history_user == caseworker_user and sent.history_change_reason == "Letter posted"
    assert reply.history.get().history_user == caseworker_user
    assert appeal.next_steps() == []


def test_steps_may_be_skipped_a_government_need_not_acknowledge_or_transmit():
    appeal = make_appeal(make_person(), sent="2020-01")
    appeal.advance(AppealState.CLOSED, by=None, on=day("2021"), outcome=AppealOutcome.NO_REPLY)
    appeal.refresh_from_db()
    assert (appeal.state, appeal.outcome) == (AppealState.CLOSED, AppealOutcome.NO_REPLY)


@pytest.mark.parametrize(
    ("start", "step"),
    [
        (AppealState.DRAFTED, AppealState.ACKNOWLEDGED),
        (AppealState.DRAFTED, AppealState.CLOSED),
        (AppealState.SENT, AppealState.SENT),
        (AppealState.SENT, AppealState.DRAFTED),
        (AppealState.TRANSMITTED, AppealState.ACKNOWLEDGED),
        (AppealState.CLOSED, AppealState.SENT),
    ],
)
def test_a_step_out_of_order_is_refused_and_nothing_is_written(start, step):
    appeal = make_appeal(make_person(), sent=None if start == AppealState.DRAFTED else "2020-01")
    if start == AppealState.TRANSMITTED:
        appeal.advance(AppealState.TRANSMITTED, by=None, on=day("2020-02"))
    if start == AppealState.CLOSED:
        appeal.advance(AppealState.CLOSED, by=None, on=day("2020-02"), outcome=AppealOutcome.DISCONTINUED)
    appeal.refresh_from_db()
    before = (appeal.state, appeal.history.count(), appeal.version)

    with pytest.raises(AppealError) as refused:
        appeal.advance(step, by=None, on=day("2020-03"), outcome=AppealOutcome.CLARIFIED)

    assert "cannot become" in refused.value.problems[0]
    appeal.refresh_from_db()
    assert (appeal.state, appeal.history.count(), appeal.version) == before


def test_a_reply_is_recorded_through_its_own_step_not_advance():
    appeal = make_appeal(make_person(), sent="2020-01")
    with pytest.raises(AppealError, match="record the reply"):
        appeal.advance(AppealState.REPLIED, by=None, on=day("2020-02"))


def test_a_date_in_the_future_or_before_the_sending_is_refused():
    appeal = make_appeal(make_person())
    next_year = str(timezone.localdate().year + 1)
    with pytest.raises(AppealError, match="in the future"):
        appeal.advance(AppealState.SENT, by=None, on=PartialDate.parse(next_year, allow_future=True))
    appeal.advance(AppealState.SENT, by=None, on=day("2020-05-10"))
    with pytest.raises(AppealError, match="before the appeal was sent"):
        appeal.advance(AppealState.ACKNOWLEDGED, by=None, on=day("2020-05-01"))
    with pytest.raises(AppealError, match="before the appeal was sent"):
        appeal.record_reply(by=None, received_on=day("2019"), says="Nothing")
    appeal.refresh_from_db()
    assert appeal.state == AppealState.SENT and appeal.acknowledged_on is None and not appeal.replies.exists()


def test_closing_needs_an_outcome_and_no_reply_is_refused_after_a_reply():
    appeal = make_appeal(make_person(), sent="2020-01")
    with pytest.raises(AppealError, match="how the appeal ended"):
        appeal.advance(AppealState.CLOSED, by=None, on=day("2021"))
    appeal.record_reply(by=None, received_on=day("2020-06"), says="No information.")
    with pytest.raises(AppealError, match="had a reply"):
        appeal.advance(AppealState.CLOSED, by=None, on=day("2021"), outcome=AppealOutcome.NO_REPLY)
    appeal.refresh_from_db()
    assert appeal.state == AppealState.REPLIED


def test_a_reply_must_say_something_and_a_second_reply_keeps_the_appeal_replied():
    appeal = make_appeal(make_person(), sent="2020-01")
    with pytest.raises(AppealError, match="what the reply says"):
        appeal.record_reply(by=None, received_on=day("2020-03"), says="  ")
    appeal.record_reply(by=None, received_on=day("2020-03"), says="First")
    appeal.record_reply(by=None, received_on=day("2020-08"), says="Second")
    appeal.refresh_from_db()
    assert appeal.state == AppealState.REPLIED and appeal.replies.count() == 2


def test_an_appeal_concerns_someone_before_it_is_sent():
    appeal = make_appeal()
    with pytest.raises(AppealError, match="which persons"):
        appeal.advance(AppealState.SENT, by=None, on=day("2020"))


def test_a_withdrawn_appeal_takes_no_more_steps_and_is_never_deleted():
    appeal = make_appeal(make_person(), sent="2020-01")
    appeal.withdraw(by=None, reason="Recorded for the wrong family")
    with pytest.raises(AppealError, match="withdrawn"):
        appeal.advance(AppealState.CLOSED, by=None, outcome=AppealOutcome.DISCONTINUED)
    assert appeal.next_steps() == []
    with pytest.raises(EvidentialRecordDeletion):
        appeal.delete()
    with pytest.raises(EvidentialRecordDeletion):
        Appeal.objects.all().delete()
    with pytest.raises(EvidentialRecordDeletion):
        AppealReply.objects.all().delete()
    assert Appeal.objects.filter(pk=appeal.pk, withdrawn=True).exists()


def test_a_government_appeal_names_its_country():
    appeal = Appeal(kind=AppealKind.LETTER, addressee="government")
    with pytest.raises(ValidationError) as refused:
        appeal.full_clean()
    assert "country" in refused.value.message_dict
    Appeal(kind=AppealKind.LETTER, addressee="wgad").full_clean()  # a UN mechanism names none
    with pytest.raises(IntegrityError), transaction.atomic():
        Appeal.objects.create(kind=AppealKind.LETTER, addressee="embassy")


def test_the_database_refuses_a_closed_appeal_without_an_outcome():
    appeal = make_appeal(make_person(), sent="2020-01")
    with pytest.raises(IntegrityError), transaction.atomic():
        Appeal.objects.filter(pk=appeal.pk).update(state=AppealState.CLOSED)
    with pytest.raises(IntegrityError), transaction.atomic():
        Appeal.objects.filter(pk=appeal.pk).update(outcome=AppealOutcome.CLARIFIED)


def test_a_wgeid_submission_lists_what_it_lacks_and_cannot_be_sent_until_complete():
    person = make_person(name="", descriptor="Teenage boy, sentenced January 2024")
    arrest = make_event(person, Status.ARRESTED, "2023")
    appeal = make_appeal(person, kind=AppealKind.WGEID_STANDARD, addressee="wgeid")

    missing = appeal.wgeid_missing()
    assert len(missing) == 6
    assert any("full name" in item for item in missing)
    assert any("month and the year" in item for item in missing)
    assert any("place" in item for item in missing)
    with pytest.raises(AppealError) as refused:
        appeal.advance(AppealState.SENT, by=None, on=day("2024-02"))
    assert len(refused.value.problems) == 6
    appeal.refresh_from_db()
    assert appeal.state == AppealState.DRAFTED

    person.name = "Kim Cheol-ok"
    person.save()
    arrest.correct(by=None, reason="The family's account", date=day("2023-10-09"), place="Tumen, Jilin")
    appeal.forces_responsible = "Ministry of State Security"
    appeal.steps_by_family = "Letters to the Ministry of Foreign Affairs, unanswered."
    appeal.family_consent_by = "Her brother"
    appeal.save()

    assert appeal.wgeid_missing() == []
    appeal.advance(AppealState.SENT, by=None, on=day("2024-02"))
    appeal.refresh_from_db()
    assert appeal.state == AppealState.SENT


def test_a_wgeid_submission_concerns_exactly_one_person():
    appeal = make_appeal(make_person(), make_person(), kind=AppealKind.WGEID_URGENT, addressee="wgeid")
    assert any("exactly one person" in item for item in appeal.wgeid_missing())


def test_a_reply_becomes_a_status_event_citing_its_source_through_the_one_status_path(caseworker_user):
    person = make_person(name="Kim Kook-ki")
    make_event(person, Status.DISAPPEARED, "2014-10")
    letter = make_source(title="Note verbale of the DPRK mission", is_restricted=True)
    appeal = make_appeal(person, sent="2016-03", kind=AppealKind.COMMUNICATION, addressee="wgeid")
    reply = appeal.record_reply(
        by=caseworker_user, received_on=day("2016-09-12"), says="He is detained in Pyongyang.", source=letter
    )

    event = reply.record_status_event(
        person,
        Status.DETAINED,
        by=caseworker_user,
        date=day("2016-09"),
        place="Pyongyang",
        confidence="likely",
        locator="para. 3",
    )

    person.refresh_from_db()
    assert person.current_status == Status.DETAINED and person.last_confirmed == day("2016-09")
    assert list(reply.status_events.all()) == [event]
    citation = Citation.objects.get(status_event=event)
    assert citation.source == letter and citation.locator == "para. 3" and citation.added_by == caseworker_user
    for record in (event.history.get(), citation.history.get(), person.history.latest()):
        assert record.history_user == caseworker_user
        assert record.history_change_reason == f"From the reply of 2016-09-12 to appeal {appeal.pk}"


def test_a_reply_without_a_source_or_about_someone_else_is_not_turned_into_an_event():
    person, stranger = make_person(), make_person()
    appeal = make_appeal(person, sent="2016-03")
    reply = appeal.record_reply(by=None, received_on=day("2016-05"), says="Nothing")
    with pytest.raises(AppealError) as refused:
        reply.record_status_event(stranger, Status.DETAINED, by=None)
    assert len(refused.value.problems) == 2
    assert not person.status_events.exists() and not stranger.status_events.exists()


def test_last_appeal_of_each_person_is_the_latest_sent():
    person, other = make_person(), make_person()
    old = make_appeal(person, other, sent="2015")
    new = make_appeal(person, sent="2019-05")
    make_appeal(person)  # drafted, date unknown: not sent yet
    withdrawn = make_appeal(other, sent="2022")
    withdrawn.withdraw(by=None, reason="duplicate")
    assert last_appeals([person, other]) == {person.pk: new, other.pk: old}


def test_overdue_counts_from_the_transmission_when_there_was_one():
    today = timezone.localdate()
    long_ago = (today - datetime.timedelta(days=200)).isoformat()
    recently = (today - datetime.timedelta(days=10)).isoformat()
    waiting = make_appeal(make_person(), sent=long_ago)
    transmitted = make_appeal(make_person(), sent=long_ago)
    transmitted.advance(AppealState.TRANSMITTED, by=None, on=day(recently))
    unknown = make_appeal(make_person(), sent=None)
    unknown.advance(AppealState.SENT, by=None, on=None)
    make_appeal(make_person())  # drafted: not waiting for anything
    assert set(Appeal.objects.overdue(today, 90)) == {waiting, unknown}
