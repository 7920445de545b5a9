"""Following up two cases through the admin alone, as its users would: the briefing's appeal for Kim
Jeong-wook, a WGEID submission for Kim Cheol-ok, the reply that does not come, the dashboard, the public line."""

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from advocacy.models import Appeal, AppealState
from cases.models import Status
from workflow.models import PublishedVersion

from .factories import admin_form_data, make_citation, make_event, make_person, make_source, make_staff, signed_in

pytestmark = pytest.mark.django_db


def days_ago(days: int) -> str:
    return (timezone.localdate() - datetime.timedelta(days=days)).isoformat()


def saved(response):
    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    return response


def test_a_caseworker_follows_up_two_cases_and_an_editor_publishes_the_public_line(settings):
    settings.APPEAL_REPLY_DAYS = 90
    caseworker_user, editor_user = make_staff("Caseworker"), make_staff("Editor")
    caseworker, editor = signed_in(caseworker_user), signed_in(editor_user)
    briefing = make_source(title="North Korea briefing", publisher="CSW")
    missionary = make_person(name="Kim Jeong-wook", publication_basis="already_public")
    refugee = make_person(name="Kim Cheol-ok", publication_basis="already_public")
    repatriation = make_event(refugee, Status.FORCIBLY_REPATRIATED, "2019-05", is_public=True)
    make_citation(briefing, status_event=repatriation)
    add_url = reverse("admin:advocacy_appeal_add")

    # The briefing's recommendation for Kim Jeong-wook, recorded from his page and marked sent (its date unknown).
    page = caseworker.get(add_url, {"persons": missionary.pk})
    saved(
        caseworker.post(
            add_url,
            admin_form_data(
                page,
                kind="briefing_recommendation",
                addressee="government",
                country="KP",
                request="Clarify the fate and whereabouts of missionaries Kim Jeong-wook, Kim Kook-kie and "
                "Choi-Chun-gil.",
                documents=[str(briefing.pk)],
            ),
        )
    )
    recommendation = Appeal.objects.get(persons=missionary)
    caseworker.post(reverse("admin:advocacy_appeal_step", args=[recommendation.pk, "sent"]), {"on": ""})
    recommendation.refresh_from_db()
    assert recommendation.state == AppealState.SENT and recommendation.sent_on is None
    assert list(recommendation.documents.all()) == [briefing]

    # A WGEID submission for Kim Cheol-ok: the printable form says what is missing, and sending waits for it.
    page = caseworker.get(add_url, {"persons": refugee.pk})
    saved(caseworker.post(add_url, admin_form_data(page, kind="wgeid_standard", addressee="wgeid")))
    submission = Appeal.objects.get(persons=refugee)
    form_url = reverse("advocacy:wgeid_submission", args=[submission.pk, refugee.pk])
    form = caseworker.get(form_url).content.decode()
    assert "the forces believed responsible" in form and "the place of the arrest or disappearance" in form
    step = reverse("admin:advocacy_appeal_step", args=[submission.pk, "sent"])
    refused = caseworker.post(step, {"on": days_ago(200)}, follow=True).content.decode()
    assert "lacks" in refused
    submission.refresh_from_db()
    assert submission.state == AppealState.DRAFTED

    repatriation.correct(by=caseworker_user, reason="The family's account", place="Tumen, Jilin province")
    change_url = reverse("admin:advocacy_appeal_change", args=[submission.pk])
    saved(
        caseworker.post(
            change_url,
            admin_form_data(
                caseworker.get(change_url),
                forces_responsible="Ministry of State Security",
                steps_by_family="Her brother wrote to the Chinese and North Korean authorities; no answer.",
                family_consent_by="Her brother",
                family_consent_on=days_ago(230),
                next_action="Ask the Working Group whether the government replied",
                next_action_due=(timezone.localdate() + datetime.timedelta(days=3)).isoformat(),
                is_public="on",
            ),
        )
    )
    assert "Missing before this can be sent" not in caseworker.get(form_url).content.decode()
    caseworker.post(step, {"on": days_ago(200), "reason": "Submitted by e-mail"})
    caseworker.post(reverse("admin:advocacy_appeal_step", args=[submission.pk, "transmitted"]), {"on": days_ago(150)})
    submission.refresh_from_db()
    assert submission.state == AppealState.TRANSMITTED

    # The government does not reply: the dashboard says so, with the next action.
    dashboard = caseworker.get(reverse("workflow:dashboard")).content.decode()
    overdue = dashboard.split('id="overdue-heading"')[1].split("</section>")[0]
    assert "Kim Cheol-ok" in overdue and "150 days" in overdue
    assert "Kim Jeong-wook" in overdue  # sent on a date nobody recorded
    assert "Ask the Working Group whether the government replied" in dashboard

    # The case goes to review; an editor publishes it, and the public line says what the public may know.
    caseworker.post(reverse("admin:cases_person_workflow", args=[refugee.pk, "submit"]))
    editor.post(reverse("admin:cases_person_workflow", args=[refugee.pk, "publish"]))
    version = PublishedVersion.objects.get(person=refugee, is_current=True)
    assert [line["kind"] for line in version.record["appeals"]] == ["wgeid_standard"]

    public = Client().get(reverse("public:case_detail", args=[refugee.case_id]))
    text = public.content.decode()
    assert "Raised with the UN Working Group on Enforced or Involuntary Disappearances (WGEID)" in text
    assert "government reply: none" in text
    for restricted in ("Ministry of State Security", "Her brother", "Ask the Working Group"):
        assert restricted not in text
