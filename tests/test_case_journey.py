"""A case from nothing to published through the admin alone, as its users would do it."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from cases.models import Person, PublicationState, Status
from sources.models import Citation, Source
from workflow.models import PublishedVersion

from .factories import admin_form_data, make_staff, signed_in

pytestmark = pytest.mark.django_db


def submit(client, url: str, **changes):
    response = client.post(url, admin_form_data(client.get(url), **changes))
    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    return response


def test_caseworker_researcher_and_editor_take_a_case_to_publication(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}},
    }
    caseworker_user = make_staff("Caseworker")
    caseworker = signed_in(caseworker_user)
    researcher_user = make_staff("Researcher")
    researcher = signed_in(researcher_user)
    editor_user = make_staff("Editor")
    editor = signed_in(editor_user)

    # The researcher adds the source, with an uploaded copy.
    add_source = "/admin/sources/source/add/"
    page = researcher.get(add_source)
    data = admin_form_data(page, title="Report on detentions", kind="ngo", publisher="An NGO", published_on="2015-06")
    data.pop("is_restricted", None)  # public: the researcher unticks "restricted"
    data["document"] = SimpleUploadedFile("report.pdf", b"%PDF-1.4 report", content_type="application/pdf")
    assert researcher.post(add_source, data).status_code == 302
    source = Source.objects.get()
    assert not source.is_restricted and source.content_type == "application/pdf"

    # The caseworker creates the person with a Hangul name and two spellings.
    submit(
        caseworker,
        "/admin/cases/person/add/",
        name="Kim Yong-chol",
        family_name_native="김",
        given_name_native="영철",
        summary="Detained after being returned from China.",
        publication_basis="already_public",
        **{
            "variants-0-name": "Kim Yong-chul",
            "variants-0-is_public": "on",
            "variants-TOTAL_FORMS": "1",
        },
    )
    person = Person.objects.get()
    assert person.name_native == "김영철"

    # The caseworker records the arrest, citing the source with a locator.
    url = f"/admin/cases/statusevent/add/?person={person.pk}"
    page = caseworker.get(url)
    data = admin_form_data(
        page,
        status=Status.ARRESTED,
        date="2015-03",
        place="Onsong",
        description="Arrested at the border.",
        confidence="likely",
        is_public="on",
        **{"citations-0-source": str(source.pk), "citations-0-locator": "p. 12"},
    )
    assert caseworker.post(url, data).status_code == 302
    person.refresh_from_db()
    assert person.current_status == Status.ARRESTED
    assert Citation.objects.get().status_event.person == person

    # The caseworker submits for review; the editor publishes.
    assert caseworker.post(f"/admin/cases/person/{person.pk}/workflow/submit/").status_code == 302
    assert editor.post(f"/admin/cases/person/{person.pk}/workflow/publish/").status_code == 302
    person.refresh_from_db()
    assert person.publication_state == PublicationState.PUBLISHED
    assert PublishedVersion.objects.current().get(person=person).published_by == editor_user

    # A visitor finds the person under another spelling and reads the sourced timeline.
    visitor = Client()
    results = visitor.get("/cases/", {"q": "Gim Yeong-cheol"}).context["cases"]
    assert [case.case_id for case in results] == [person.case_id]
    html = visitor.get(f"/cases/{person.case_id}/").content.decode()
    assert "Arrested at the border." in html and "Report on detentions" in html and "p. 12" in html

    # The researcher restricts the source: the visitor's next look no longer shows it.
    page = researcher.get(f"/admin/sources/source/{source.pk}/change/")
    assert (
        researcher.post(
            f"/admin/sources/source/{source.pk}/change/",
            # A published case cites it: the restriction needs a reason.
            admin_form_data(page, is_restricted="on", restriction_reason="The NGO withdrew the report."),
        ).status_code
        == 302
    )
    html = visitor.get(f"/cases/{person.case_id}/").content.decode()
    assert "Report on detentions" not in html
    # The arrest rested on that source alone: it leaves the public page (no unsourced fact is shown).
    assert "Arrested at the border." not in html

    # Every step is in the history, with who did it.
    authors = {record.history_user for record in person.history.all()}
    assert {caseworker_user, editor_user} <= authors
    assert source.history.filter(history_user=researcher_user).count() >= 2
