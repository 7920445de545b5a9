"""Appeals on the staff side: recorded in the admin, moved by their step buttons, answered, and drawn into the case.

Every step goes through its own URL and the model's one path; a refused step
says why and writes nothing. Each test checks the answer and the database.
"""

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from advocacy.models import Appeal, AppealOutcome, AppealReply, AppealState
from cases.models import Status, StatusEvent
from sources.models import Citation

from .factories import (
    admin_form_data,
    make_appeal,
    make_event,
    make_person,
    make_source,
    make_staff,
    signed_in,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def change_url(appeal: Appeal) -> str:
    return reverse("admin:advocacy_appeal_change", args=[appeal.pk])


def step_url(appeal: Appeal, state: str) -> str:
    return reverse("admin:advocacy_appeal_step", args=[appeal.pk, state])


def reply_url(appeal: Appeal) -> str:
    return reverse("admin:advocacy_appeal_reply", args=[appeal.pk])


def reply_status_url(appeal: Appeal, reply: AppealReply) -> str:
    return reverse("admin:advocacy_appeal_reply_status", args=[appeal.pk, reply.pk])


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def a_reply(appeal: Appeal, *, by=None, source=None, says="The person is alive and held in Camp 15."):
    return appeal.record_reply(
        by=by, received_on=None, says=says, from_whom="Government of the DPRK", source=source or make_source()
    )


def wgeid_ready_person(**fields):
    person = make_person(name="Kim Ready", **fields)
    make_event(person, Status.ARRESTED, "2016-03", place="Hyesan")
    return person


WGEID_ELEMENTS = {
    "forces_responsible": "Ministry of State Security",
    "steps_by_family": "Letters to the provincial security bureau, unanswered.",
    "family_consent_by": "The person's sister",
}


# Recording an appeal


def test_an_appeal_is_recorded_from_the_persons_page(caseworker):
    client = signed_in(caseworker)
    person = make_person(name="Kim Appealed")
    person_page = client.get(reverse("admin:cases_person_change", args=[person.pk])).content.decode()
    add_url = reverse("admin:advocacy_appeal_add")
    assert f'href="{add_url}?persons={person.pk}"' in person_page
    page = client.get(add_url, {"persons": person.pk})
    assert page.status_code == 200
    response = client.post(
        add_url, admin_form_data(page, kind="letter", addressee="government", country="GB", request="Ask about him.")
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    appeal = Appeal.objects.get()
    assert list(appeal.persons.all()) == [person]
    assert appeal.state == AppealState.DRAFTED
    assert appeal.created_by == caseworker
    history = appeal.history.earliest("history_date")
    assert history.history_user == caseworker
    assert history.history_change_reason == "Added in admin"


def test_an_appeal_to_a_government_names_the_country(caseworker):
    client = signed_in(caseworker)
    person = make_person()
    add_url = reverse("admin:advocacy_appeal_add")
    page = client.get(add_url, {"persons": person.pk})
    response = client.post(add_url, admin_form_data(page, kind="letter", addressee="government"))
    assert response.status_code == 200
    assert "Name the country" in response.content.decode()
    assert not Appeal.objects.exists()


def test_state_and_outcome_are_not_form_fields(caseworker):
    appeal = make_appeal(make_person())
    client = signed_in(caseworker)
    page = client.get(change_url(appeal))
    data = admin_form_data(page, state="closed", outcome="clarified", sent_on="2016")
    response = client.post(change_url(appeal), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    appeal.refresh_from_db()
    assert appeal.state == AppealState.DRAFTED
    assert appeal.outcome == ""
    assert appeal.sent_on is None


# The steps, through their buttons


def test_the_panel_offers_the_next_steps_to_those_who_may_take_them(caseworker, researcher):
    appeal = make_appeal(make_person())
    html = signed_in(caseworker).get(change_url(appeal)).content.decode()
    assert f'action="{step_url(appeal, "sent")}"' in html
    assert "Mark as sent" in html
    assert f'action="{step_url(appeal, "acknowledged")}"' not in html
    html = signed_in(researcher).get(change_url(appeal)).content.decode()
    assert "Where the appeal stands: Drafted" in html
    assert "Mark as sent" not in html


def test_a_researcher_is_offered_neither_steps_nor_replies(researcher):
    appeal = make_appeal(make_person(), sent="2016-03")
    reply = a_reply(appeal)
    html = signed_in(researcher).get(change_url(appeal)).content.decode()
    assert "The person is alive and held in Camp 15." in html
    assert "Close the appeal" not in html
    assert f'action="{reply_url(appeal)}"' not in html
    assert reply_status_url(appeal, reply) not in html


def test_an_appeal_goes_through_each_step_by_its_buttons(caseworker):
    client = signed_in(caseworker)
    person = make_person()
    appeal = make_appeal(person, kind="urgent_appeal", addressee="wgad")

    response = client.post(step_url(appeal, "sent"), {"on": "2016-03-01", "reason": "Sent by e-mail"})
    assert response.status_code == 302
    assert response["Location"] == change_url(appeal)
    assert messages_of(response) == ["The appeal is now “Sent”."]
    appeal.refresh_from_db()
    assert appeal.state == AppealState.SENT
    assert str(appeal.sent_on) == "2016-03-01"
    latest = appeal.history.latest("history_date")
    assert latest.history_user == caseworker
    assert latest.history_change_reason == "Sent by e-mail"

    client.post(step_url(appeal, "acknowledged"), {"on": "2016-04"})
    appeal.refresh_from_db()
    assert appeal.state == AppealState.ACKNOWLEDGED
    assert str(appeal.acknowledged_on) == "2016-04"
    assert appeal.history.latest("history_date").history_change_reason == "Appeal: Acknowledged"

    client.post(step_url(appeal, "transmitted"), {"on": "2016-05"})
    appeal.refresh_from_db()
    assert appeal.state == AppealState.TRANSMITTED

    source = make_source(title="Reply of the DPRK")
    response = client.post(
        reply_url(appeal), {"received_on": "2016-09", "from_whom": "DPRK", "source": source.pk, "says": "Alive."}
    )
    assert response.status_code == 302
    appeal.refresh_from_db()
    assert appeal.state == AppealState.REPLIED

    response = client.post(step_url(appeal, "closed"), {"on": "2017", "outcome": "clarified"})
    assert response.status_code == 302
    appeal.refresh_from_db()
    assert appeal.state == AppealState.CLOSED
    assert appeal.outcome == AppealOutcome.CLARIFIED
    assert str(appeal.closed_on) == "2017"
    html = client.get(change_url(appeal)).content.decode()
    assert "Where the appeal stands: Closed" in html
    assert "Mark as" not in html


def test_sending_a_wgeid_appeal_with_missing_elements_is_refused(caseworker):
    client = signed_in(caseworker)
    appeal = make_appeal(make_person(name="Kim Incomplete"), kind="wgeid_standard", addressee="wgeid")
    page = client.get(change_url(appeal)).content.decode()
    assert "Missing before this can be sent:" in page
    assert "the forces believed responsible" in page
    versions = appeal.history.count()
    response = client.post(step_url(appeal, "sent"), {"on": "2016-03"})
    assert response.status_code == 302
    [message] = messages_of(response)
    assert message.startswith("Not done:")
    assert "The WGEID submission lacks: the forces believed responsible." in message
    assert "the place of the arrest or disappearance" in message
    appeal.refresh_from_db()
    assert appeal.state == AppealState.DRAFTED
    assert appeal.sent_on is None
    assert appeal.history.count() == versions


def test_a_step_out_of_order_is_refused(caseworker):
    appeal = make_appeal(make_person())
    response = signed_in(caseworker).post(step_url(appeal, "acknowledged"), {"on": "2016-04"})
    assert response.status_code == 302
    assert "An appeal that is “Drafted” cannot become “Acknowledged”." in messages_of(response)[0]
    appeal.refresh_from_db()
    assert appeal.state == AppealState.DRAFTED
    assert appeal.acknowledged_on is None


def test_a_step_in_the_future_is_refused(caseworker):
    appeal = make_appeal(make_person())
    next_year = str(timezone.localdate().year + 1)
    response = signed_in(caseworker).post(step_url(appeal, "sent"), {"on": next_year})
    assert f"“{next_year}” is in the future." in messages_of(response)[0]
    appeal.refresh_from_db()
    assert appeal.state == AppealState.DRAFTED


def test_a_date_that_is_not_a_date_is_refused(caseworker):
    appeal = make_appeal(make_person())
    response = signed_in(caseworker).post(step_url(appeal, "sent"), {"on": "2016-02-30"})
    assert "not a real day" in messages_of(response)[0]
    appeal.refresh_from_db()
    assert appeal.state == AppealState.DRAFTED


def test_closing_as_no_reply_after_a_reply_is_refused(caseworker):
    appeal = make_appeal(make_person(), sent="2016-03")
    a_reply(appeal)
    response = signed_in(caseworker).post(step_url(appeal, "closed"), {"on": "2017", "outcome": "no_reply"})
    assert "This appeal had a reply: close it as clarified or discontinued." in messages_of(response)[0]
    appeal.refresh_from_db()
    assert appeal.state == AppealState.REPLIED
    assert appeal.outcome == ""


def test_closing_without_an_outcome_is_refused(caseworker):
    appeal = make_appeal(make_person(), sent="2016-03")
    response = signed_in(caseworker).post(step_url(appeal, "closed"), {"on": "2017"})
    assert messages_of(response)[0].startswith("Not done:")
    appeal.refresh_from_db()
    assert appeal.state == AppealState.SENT


def test_a_reply_is_not_a_step_button(caseworker):
    appeal = make_appeal(make_person(), sent="2016-03")
    response = signed_in(caseworker).post(step_url(appeal, "replied"), {})
    assert response.status_code == 404
    appeal.refresh_from_db()
    assert appeal.state == AppealState.SENT


def test_a_step_url_refuses_get(caseworker):
    appeal = make_appeal(make_person())
    assert signed_in(caseworker).get(step_url(appeal, "sent")).status_code == 405
    appeal.refresh_from_db()
    assert appeal.state == AppealState.DRAFTED


def test_a_researcher_reads_an_appeal_but_takes_no_step(researcher):
    appeal = make_appeal(make_person(), sent="2016-03")
    reply = a_reply(appeal)
    client = signed_in(researcher)
    assert client.get(change_url(appeal)).status_code == 200
    assert client.post(step_url(appeal, "closed"), {"outcome": "clarified"}).status_code == 403
    assert client.post(reply_url(appeal), {"says": "Something."}).status_code == 403
    status_url = reply_status_url(appeal, reply)
    person = appeal.persons.get()
    assert client.post(status_url, {"person": person.pk, "status": "released"}).status_code == 403
    appeal.refresh_from_db()
    assert appeal.state == AppealState.REPLIED
    assert appeal.replies.count() == 1
    assert not StatusEvent.objects.filter(person=person).exists()


@pytest.mark.parametrize("role", [None, "Administrator"])
def test_those_who_may_not_read_appeals_get_the_answer_of_a_missing_one(role):
    appeal = make_appeal(make_person())
    client = signed_in(make_staff(role, "outsider"))
    assert client.post(step_url(appeal, "sent"), {"on": "2016"}).status_code == 404
    assert client.post(reply_url(appeal), {"says": "Something."}).status_code == 404
    assert client.post(step_url(Appeal(pk=appeal.pk + 1), "sent"), {"on": "2016"}).status_code == 404
    appeal.refresh_from_db()
    assert appeal.state == AppealState.DRAFTED


def test_a_missing_appeal_is_a_404(caseworker):
    client = signed_in(caseworker)
    assert client.post("/admin/advocacy/appeal/999999/step/sent/", {"on": "2016"}).status_code == 404
    assert client.post("/admin/advocacy/appeal/not-a-number/reply/", {"says": "x"}).status_code == 404


def test_anonymous_visitors_are_sent_to_login_and_nothing_is_written(client):
    appeal = make_appeal(make_person())
    for url in (step_url(appeal, "sent"), reply_url(appeal), change_url(appeal)):
        response = client.post(url, {"on": "2016", "says": "x"})
        assert response.status_code == 302
        assert "/admin/login/" in response["Location"]
    appeal.refresh_from_db()
    assert appeal.state == AppealState.DRAFTED
    assert not appeal.replies.exists()


# Replies


def test_a_reply_is_recorded_through_its_form(caseworker):
    client = signed_in(caseworker)
    appeal = make_appeal(make_person(), sent="2016-03")
    source = make_source(title="Note verbale of the DPRK mission")
    page = client.get(change_url(appeal)).content.decode()
    assert f'action="{reply_url(appeal)}"' in page
    response = client.post(
        reply_url(appeal),
        {
            "received_on": "2016-09-12",
            "from_whom": "Permanent Mission of the DPRK",
            "source": source.pk,
            "says": "No such person was ever detained.",
            "reason": "Reply received by post",
        },
    )
    assert response.status_code == 302
    assert messages_of(response) == ["The reply was recorded."]
    reply = AppealReply.objects.get()
    assert reply.appeal == appeal
    assert str(reply.received_on) == "2016-09-12"
    assert reply.source == source
    assert reply.recorded_by == caseworker
    assert reply.history.get().history_change_reason == "Reply received by post"
    appeal.refresh_from_db()
    assert appeal.state == AppealState.REPLIED
    page = client.get(change_url(appeal)).content.decode()
    assert "No such person was ever detained." in page
    assert "Permanent Mission of the DPRK" in page


def test_a_refused_reply_is_shown_again_with_what_was_typed(caseworker):
    client = signed_in(caseworker)
    appeal = make_appeal(make_person(), sent="2016-03")
    next_year = str(timezone.localdate().year + 1)
    response = client.post(reply_url(appeal), {"received_on": next_year, "says": "A long answer typed by hand."})
    assert response.status_code == 200
    html = response.content.decode()
    assert f"“{next_year}” is in the future." in html
    assert "A long answer typed by hand." in html
    assert not AppealReply.objects.exists()
    appeal.refresh_from_db()
    assert appeal.state == AppealState.SENT


def test_a_drafted_appeal_takes_no_reply(caseworker):
    appeal = make_appeal(make_person())
    client = signed_in(caseworker)
    assert f'action="{reply_url(appeal)}"' not in client.get(change_url(appeal)).content.decode()
    response = client.post(reply_url(appeal), {"says": "Too early."})
    assert response.status_code == 200
    assert "cannot become" in response.content.decode()
    assert not AppealReply.objects.exists()


def test_a_reply_becomes_a_status_event_of_the_person(caseworker):
    client = signed_in(caseworker)
    person = make_person(name="Kim Found")
    make_event(person, Status.DISAPPEARED, "2016-03")
    other = make_person(name="Lee Other")
    appeal = make_appeal(person, other, sent="2016-04")
    source = make_source(title="Reply of the DPRK")
    reply = a_reply(appeal, source=source)

    page = client.get(change_url(appeal)).content.decode()
    link = f"{reply_status_url(appeal, reply)}?person={person.pk}"
    assert f'href="{link}"' in page
    assert "Record what it says of" in page
    form_page = client.get(link)
    assert form_page.status_code == 200
    assert form_page.context["form"]["person"].value() == str(person.pk)

    response = client.post(
        reply_status_url(appeal, reply),
        {
            "person": person.pk,
            "status": Status.DETAINED,
            "date": "2016-08",
            "place": "Kwanliso 15",
            "confidence": "likely",
            "locator": "para. 3",
            "excerpt": "held in Camp 15",
            "reason": "From the government's reply",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:cases_person_change", args=[person.pk])
    assert "recorded from the reply" in messages_of(response)[0]
    person.refresh_from_db()
    assert person.current_status == Status.DETAINED
    event = StatusEvent.objects.get(person=person, status=Status.DETAINED)
    assert event.place == "Kwanliso 15"
    assert event.recorded_by == caseworker
    citation = Citation.objects.get(status_event=event)
    assert citation.source == source
    assert citation.locator == "para. 3"
    assert list(reply.status_events.all()) == [event]
    assert event.history.get().history_user == caseworker
    assert event.history.get().history_change_reason == "From the government's reply"
    assert person.history.latest("history_date").history_change_reason == "From the government's reply"
    assert citation.history.get().history_user == caseworker
    assert not StatusEvent.objects.filter(person=other).exists()


def test_a_reply_says_nothing_of_a_person_the_appeal_does_not_concern(caseworker):
    appeal = make_appeal(make_person(), sent="2016-04")
    reply = a_reply(appeal)
    stranger = make_person(name="Park Stranger")
    response = signed_in(caseworker).post(
        reply_status_url(appeal, reply), {"person": stranger.pk, "status": Status.RELEASED, "confidence": "likely"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["person"]
    assert not StatusEvent.objects.exists()
    stranger.refresh_from_db()
    assert stranger.current_status == ""


def test_a_reply_without_a_source_gives_no_status_event(caseworker):
    person = make_person()
    appeal = make_appeal(person, sent="2016-04")
    reply = appeal.record_reply(by=None, received_on=None, says="By telephone.", source=None)
    client = signed_in(caseworker)
    assert reply_status_url(appeal, reply) not in client.get(change_url(appeal)).content.decode()
    response = client.post(
        reply_status_url(appeal, reply), {"person": person.pk, "status": Status.RELEASED, "confidence": "likely"}
    )
    assert response.status_code == 200
    assert "The reply has no source" in response.content.decode()
    assert not StatusEvent.objects.exists()


def test_a_reply_given_its_source_on_its_page_can_then_become_a_status_event(caseworker):
    person = make_person()
    appeal = make_appeal(person, sent="2016-04")
    reply = appeal.record_reply(by=None, received_on=None, says="By telephone.", source=None)
    source = make_source(title="Notes of the telephone call")
    client = signed_in(caseworker)
    url = reverse("admin:advocacy_appealreply_change", args=[reply.pk])
    response = client.post(url, admin_form_data(client.get(url), source=source.pk))
    assert response.status_code == 302, response.context["adminform"].form.errors
    reply.refresh_from_db()
    assert reply.source == source
    assert reply.history.latest("history_date").history_change_reason == "Changed in admin: source"
    assert f"{reply_status_url(appeal, reply)}?person={person.pk}" in client.get(change_url(appeal)).content.decode()


def test_a_reply_of_another_appeal_is_a_404(caseworker):
    appeal = make_appeal(make_person(), sent="2016-04")
    elsewhere = make_appeal(make_person(), sent="2016-04")
    reply = a_reply(elsewhere)
    url = reverse("admin:advocacy_appeal_reply_status", args=[appeal.pk, reply.pk])
    assert signed_in(caseworker).get(url).status_code == 404


# Withdrawal, and the reply's own page


def test_an_appeal_is_withdrawn_with_a_reason_not_deleted(caseworker):
    appeal = make_appeal(make_person())
    client = signed_in(caseworker)
    changelist = reverse("admin:advocacy_appeal_changelist")
    data = {"action": "withdraw_selected", "_selected_action": [appeal.pk]}
    assert client.post(changelist, data).status_code == 200  # the confirmation page
    response = client.post(changelist, {**data, "confirm": "yes", "reason": "Recorded twice"})
    assert response.status_code == 302
    appeal.refresh_from_db()
    assert appeal.withdrawn
    assert appeal.withdrawn_reason == "Recorded twice"
    assert appeal.history.latest("history_date").history_user == caseworker
    assert "Mark as sent" not in client.get(change_url(appeal)).content.decode()
    response = client.post(step_url(appeal, "sent"), {"on": "2016"})
    assert "This appeal was withdrawn" in messages_of(response)[0]
    appeal.refresh_from_db()
    assert appeal.state == AppealState.DRAFTED


def test_the_appeal_list_and_the_reply_page_open(caseworker):
    appeal = make_appeal(make_person(name="Kim Listed"), our_reference="OUR-7", sent="2016-04")
    reply = a_reply(appeal)
    client = signed_in(caseworker)
    response = client.get(reverse("admin:advocacy_appeal_changelist"), {"q": "Kim Listed"})
    assert response.status_code == 200
    assert appeal.persons.get().case_id in response.content.decode()
    assert client.get(reverse("admin:advocacy_appealreply_change", args=[reply.pk])).status_code == 200
    assert client.get(reverse("admin:advocacy_appealreply_add")).status_code == 403


# The person's page


def test_the_persons_page_shows_the_last_appeal_and_every_appeal(caseworker):
    person = make_person(name="Kim Followed")
    first = make_appeal(person, sent="2015-01")
    last = make_appeal(person, kind="urgent_appeal", addressee="sr_dprk", sent="2016-03", next_action="Chase")
    make_appeal(person, withdrawn=True, withdrawn_reason="A mistake")
    html = signed_in(caseworker).get(reverse("admin:cases_person_change", args=[person.pk])).content.decode()
    assert "Last appeal" in html
    assert "Urgent appeal" in html
    assert "March 2016" in html
    assert "Chase" in html
    assert f'href="{change_url(first)}"' in html
    assert f'href="{change_url(last)}"' in html
    assert "Every appeal (2)" in html
    assert "Record an appeal for this person" in html


def test_a_researcher_reads_the_appeals_but_records_none(researcher):
    person = make_person()
    make_appeal(person)
    html = signed_in(researcher).get(reverse("admin:cases_person_change", args=[person.pk])).content.decode()
    assert "Appeals" in html
    assert "Record an appeal for this person" not in html


# Query budgets


def queries_of(client, url: str) -> int:
    client.get(url)  # the first request fills per-process caches (content types, permissions)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_persons_page_runs_as_many_queries_with_many_appeals(caseworker, django_assert_max_num_queries):
    client = signed_in(caseworker)
    few, many = make_person(), make_person()
    make_appeal(few, sent="2016-01")
    for year in range(2010, 2016):
        make_appeal(many, make_person(), sent=str(year), next_action="Chase")
    budget = queries_of(client, reverse("admin:cases_person_change", args=[few.pk]))
    with django_assert_max_num_queries(budget):
        assert client.get(reverse("admin:cases_person_change", args=[many.pk])).status_code == 200


def test_the_appeal_page_runs_as_many_queries_with_many_persons_and_replies(caseworker, django_assert_max_num_queries):
    client = signed_in(caseworker)
    small = make_appeal(make_person(), sent="2016-01")
    large = make_appeal(*[make_person() for _ in range(6)], sent="2016-01")
    small.documents.set([make_source()])
    large.documents.set([make_source() for _ in range(3)])
    for appeal, count in ((small, 1), (large, 6)):
        for _ in range(count):
            reply = a_reply(appeal)
            reply.record_status_event(appeal.persons.first(), Status.DETAINED, by=None)
    budget = queries_of(client, change_url(small))
    with django_assert_max_num_queries(budget):
        assert client.get(change_url(large)).status_code == 200
