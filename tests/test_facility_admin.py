"""Facilities and authorities on the staff side: recorded by caseworkers, made public and changed when public by
editors only, found in any spelling, withdrawn instead of deleted, saved only over the version that was read; and
the facility and the authorities believed responsible on a status event.

Each test goes through HTTP and checks the answer and the database.
"""

import html

import pytest
from django.urls import reverse

from cases.history import save_with_history
from cases.models import Authority, Facility, FacilityName, Responsibility, Status, StatusEvent
from sources.models import Citation

from .factories import (
    admin_form_data,
    make_authority,
    make_event,
    make_facility,
    make_person,
    make_publishable_case,
    make_source,
    make_staff,
    publish_case,
    signed_in,
)

pytestmark = pytest.mark.django_db

STALE = "Someone else saved this {} while you were editing it"


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def text(response) -> str:
    return html.unescape(response.content.decode())


def errors(response) -> str:
    """Every error the change form shows: the form's, its fields' and its inlines'."""
    assert response.status_code == 200
    form = response.context["adminform"].form
    found = [str(error) for field_errors in form.errors.values() for error in field_errors]
    for inline in response.context["inline_admin_formsets"]:
        found += [str(error) for error in inline.formset.non_form_errors()]
        found += [str(error) for row in inline.formset.errors for errors in row.values() for error in errors]
    return html.unescape(" ".join(found))


def form_data(client, url: str, **changes) -> dict:
    """What the page at ``url`` would post back for this user; just ``changes`` when they cannot see it."""
    page = client.get(url)
    return admin_form_data(page, **changes) if page.status_code == 200 else dict(changes)


def add_facility(client, **fields):
    url = reverse("admin:cases_facility_add")
    return client.post(url, form_data(client, url, **fields))


def change(client, record, **fields):
    url = reverse(f"admin:cases_{record._meta.model_name}_change", args=[record.pk])
    return client.post(url, admin_form_data(client.get(url), **fields))


# --- Recording a facility, and who makes it public ---------------------------------------------------------------


def test_a_caseworker_records_a_facility_not_public_with_its_history(caseworker_client):
    response = add_facility(
        caseworker_client,
        name="Hwasong political prison camp",
        name_ko="화성 정치범수용소",
        kind="kwanliso",
        country="KP",
        province="North Hamgyong",
        latitude="41.23",
        longitude="129.45",
        precision="approximate",
        opened_on="c. 1975",
        internal_notes="From two testimonies.",
        **{"variants-0-name": "Camp 16"},
    )

    assert response.status_code == 302, errors(response)
    facility = Facility.objects.get()
    assert (facility.name_ko, facility.province, str(facility.opened_on)) == (
        "화성 정치범수용소",
        "North Hamgyong",
        "1975~",
    )
    assert not facility.is_public
    assert facility.variants.get().name == "Camp 16"
    history = facility.history.get()
    assert (history.history_user.username, history.history_change_reason) == ("caseworker", "Added in admin")


def test_a_caseworker_cannot_make_a_new_facility_public(caseworker_client):
    page = caseworker_client.get(reverse("admin:cases_facility_add"))
    assert "is_public" not in page.context["adminform"].form.fields

    response = add_facility(caseworker_client, name="Jongori re-education camp", kind="kyohwaso", is_public="on")

    assert response.status_code == 302
    assert not Facility.objects.get().is_public


def test_a_caseworker_changes_a_facility_that_is_not_public_but_cannot_make_it_public(caseworker_client):
    facility = make_facility(is_public=False)

    response = change(caseworker_client, facility, province="South Hamgyong", is_public="on")

    assert response.status_code == 302, errors(response)
    facility.refresh_from_db()
    assert facility.province == "South Hamgyong"
    assert not facility.is_public
    assert facility.history.first().history_change_reason == "Changed in admin: province"


def test_a_caseworker_reads_a_public_facility_but_cannot_change_it(caseworker_client):
    facility = make_facility(description="As the editor published it.")
    url = reverse("admin:cases_facility_change", args=[facility.pk])

    page = caseworker_client.get(url)
    assert page.status_code == 200
    assert not page.context["has_change_permission"]
    assert "only an editor may change it" in text(page)

    response = caseworker_client.post(url, {"name": facility.name, "description": "Unreviewed text."})

    assert response.status_code == 403
    facility.refresh_from_db()
    assert (facility.description, facility.history.count()) == ("As the editor published it.", 1)


def test_a_caseworker_cannot_change_the_other_names_of_a_public_facility(caseworker_client):
    facility = make_facility(variants=["Camp 15"])
    url = reverse("admin:cases_facility_change", args=[facility.pk])
    data = {
        "name": facility.name,
        "kind": facility.kind,
        "expected_version": facility.version,
        "variants-TOTAL_FORMS": "2",
        "variants-INITIAL_FORMS": "1",
        "variants-0-id": str(facility.variants.get().pk),
        "variants-0-facility": str(facility.pk),
        "variants-0-name": "Camp 15",
        "variants-0-DELETE": "on",
        "variants-1-facility": str(facility.pk),
        "variants-1-name": "Unreviewed spelling",
        "variants-1-is_public": "on",
    }

    assert caseworker_client.post(url, data).status_code == 403
    assert list(facility.variants.values_list("name", flat=True)) == ["Camp 15"]


def test_a_caseworkers_other_name_of_a_facility_is_never_public(caseworker_client):
    facility = make_facility(is_public=False)

    response = change(caseworker_client, facility, **{"variants-0-name": "Kaechon", "variants-0-is_public": "on"})

    assert response.status_code == 302, errors(response)
    assert facility.variants.get().name == "Kaechon"
    assert not facility.variants.get().is_public


def test_an_editor_makes_a_facility_public_and_changes_a_public_one(editor_client):
    facility = make_facility(is_public=False, variants=[])

    response = change(
        editor_client, facility, is_public="on", **{"variants-0-name": "Camp 15", "variants-0-is_public": "on"}
    )
    assert response.status_code == 302, errors(response)
    facility.refresh_from_db()
    assert facility.is_public
    assert facility.variants.get().is_public

    response = change(editor_client, facility, description="Reviewed text.")
    assert response.status_code == 302, errors(response)
    facility.refresh_from_db()
    assert facility.description == "Reviewed text."
    assert facility.history.first().history_user.username == "editor"


def test_a_researcher_reads_facilities_and_cannot_add_one(researcher_client):
    make_facility()
    assert researcher_client.get(reverse("admin:cases_facility_changelist")).status_code == 200
    assert add_facility(researcher_client, name="A camp", kind="other").status_code == 403
    assert Facility.objects.count() == 1


# --- Finding a facility ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["Yodok", "Yodeok", "요덕", "yodŏk", "Camp 15", "Hamgyong"])
def test_the_facility_list_finds_a_facility_in_any_spelling(caseworker_client, query):
    yodok = make_facility(name_ko="요덕", province="South Hamgyong", variants=["Camp 15"])
    make_facility("Kaechon re-education camp", kind="kyohwaso", name_ko="개천")

    response = caseworker_client.get(reverse("admin:cases_facility_changelist"), {"q": query})

    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [yodok]


def test_the_facility_list_filters_by_kind_public_and_authority(caseworker_client):
    mss = make_authority()
    yodok = make_facility(authority=mss)
    kaechon = make_facility("Kaechon re-education camp", kind="kyohwaso", is_public=False)
    url = reverse("admin:cases_facility_changelist")

    def listed(**filters):
        return list(caseworker_client.get(url, filters).context["cl"].result_list)

    assert listed(kind__exact="kyohwaso") == [kaechon]
    assert listed(is_public__exact="1") == [yodok]
    assert listed(authority__id__exact=str(mss.pk)) == [yodok]


def test_an_events_facility_is_chosen_among_facilities_not_withdrawn(caseworker_client, caseworker):
    make_facility()
    make_facility("Yodok holding centre", kind="jipkyulso").withdraw(by=caseworker, reason="A duplicate.")

    response = caseworker_client.get(
        "/admin/autocomplete/",
        {"term": "Yodeok", "app_label": "cases", "model_name": "statusevent", "field_name": "facility"},
    )

    assert response.status_code == 200
    assert [item["text"] for item in response.json()["results"]] == ["Yodok political prison camp"]


# --- What a facility's form refuses ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        (
            {"latitude": "39.75", "longitude": "127.05", "precision": ""},
            "precision",
            "Say how precise the coordinates are.",
        ),
        ({"latitude": "39.75", "longitude": "", "precision": "exact"}, "longitude", "Give both the latitude and the"),
        ({"latitude": "", "longitude": "", "precision": "region"}, "precision", "A precision needs coordinates."),
        ({"latitude": "95", "longitude": "127.05", "precision": "exact"}, "latitude", "less than or equal to 90"),
        ({"opened_on": "1990", "closed_on": "1985"}, "closed_on", "A facility cannot close before it opened."),
        ({"opened_on": "2999"}, "opened_on", "is in the future"),
        ({"closed_on": "c. 2999"}, "closed_on", "is in the future"),
        ({"opened_on": "2014-02-30"}, "opened_on", "not a real day"),
    ],
)
def test_a_facility_with_impossible_coordinates_or_dates_is_refused_with_a_message(
    caseworker_client, fields, field, message
):
    response = add_facility(caseworker_client, name="Chongori camp", kind="kyohwaso", **fields)

    assert response.status_code == 200
    assert message in html.unescape(" ".join(response.context["adminform"].form.errors[field]))
    assert not Facility.objects.exists()


def test_two_facilities_cannot_share_a_name(caseworker_client):
    make_facility(is_public=False)

    response = add_facility(caseworker_client, name="Yodok political prison camp", kind="kwanliso")

    assert response.status_code == 200
    assert Facility.objects.count() == 1


@pytest.mark.parametrize("bad", ["\x00", "\x1b"])
def test_a_control_character_in_a_facility_is_a_bad_request_and_nothing_is_saved(caseworker_client, bad):
    facility = make_facility(is_public=False)

    response = change(caseworker_client, facility, name=f"Yodok{bad}camp")
    created = add_facility(caseworker_client, name="Kaechon", kind="kyohwaso", description=f"Text{bad}")

    assert (response.status_code, created.status_code) == (400, 400)
    facility.refresh_from_db()
    assert (facility.name, facility.history.count(), Facility.objects.count()) == ("Yodok political prison camp", 1, 1)


def test_line_breaks_in_a_facilitys_description_are_kept(caseworker_client):
    facility = make_facility(is_public=False)

    assert change(caseworker_client, facility, description="First line.\r\n\tSecond line.").status_code == 302

    facility.refresh_from_db()
    assert facility.description == "First line.\r\n\tSecond line."


# --- Two people, one record --------------------------------------------------------------------------------------


def test_a_facility_saved_from_a_stale_page_is_refused(editor):
    facility = make_facility()
    alice, bob = signed_in(editor), signed_in(make_staff("Editor", "bob"))
    url = reverse("admin:cases_facility_change", args=[facility.pk])
    alice_page, bob_page = alice.get(url), bob.get(url)

    assert alice.post(url, admin_form_data(alice_page, description="Alice's text.")).status_code == 302
    response = bob.post(url, admin_form_data(bob_page, province="North Hamgyong"))

    assert STALE.format("facility") in errors(response)
    facility.refresh_from_db()
    assert (facility.description, facility.province, facility.version) == ("Alice's text.", "", 2)


def test_a_facility_form_without_its_version_is_refused(caseworker_client):
    facility = make_facility(is_public=False)
    url = reverse("admin:cases_facility_change", args=[facility.pk])
    data = admin_form_data(caseworker_client.get(url), province="Changed")
    del data["expected_version"]

    response = caseworker_client.post(url, data)

    assert "sent without the version it was loaded at" in errors(response)
    facility.refresh_from_db()
    assert facility.province == ""


# --- Withdrawn, never deleted; history ---------------------------------------------------------------------------


def test_a_facility_is_withdrawn_with_a_reason_not_deleted(caseworker_client):
    facility = make_facility(is_public=False)
    changelist = reverse("admin:cases_facility_changelist")
    selection = {"action": "withdraw_selected", "_selected_action": [str(facility.pk)]}

    assert "delete_selected" not in caseworker_client.get(changelist).context["action_form"].fields["action"].choices
    confirmation = caseworker_client.post(changelist, selection)
    assert confirmation.status_code == 200
    facility.refresh_from_db()
    assert not facility.withdrawn
    response = caseworker_client.post(changelist, {**selection, "confirm": "yes", "reason": "Recorded twice."})

    assert response.status_code == 302
    facility.refresh_from_db()
    assert (facility.withdrawn, facility.withdrawn_reason) == (True, "Recorded twice.")
    assert facility.history.first().history_change_reason == "Recorded twice."
    delete = caseworker_client.post(reverse("admin:cases_facility_delete", args=[facility.pk]), {"post": "yes"})
    assert delete.status_code == 403
    assert Facility.objects.filter(pk=facility.pk).exists()


def test_a_caseworker_cannot_withdraw_a_public_facility(caseworker_client):
    facility = make_facility()

    caseworker_client.post(
        reverse("admin:cases_facility_changelist"),
        {"action": "withdraw_selected", "_selected_action": [str(facility.pk)], "confirm": "yes", "reason": "No."},
    )

    facility.refresh_from_db()
    assert not facility.withdrawn


def test_a_facilitys_history_says_who_changed_what(caseworker_client):
    facility = make_facility(is_public=False)
    assert change(caseworker_client, facility, county="Yodok County").status_code == 302

    response = caseworker_client.get(reverse("admin:cases_facility_history", args=[facility.pk]))

    assert response.status_code == 200
    assert "Changed in admin: county or city" in text(response)
    assert "caseworker" in text(response)


def test_a_facilitys_page_names_the_published_cases_that_name_it(editor_client):
    camp, mss = make_facility(), make_authority()
    person = make_publishable_case()
    event = person.status_events.get()
    event.facility = camp
    save_with_history(event, by=None, reason="test data")
    Responsibility.objects.create(status_event=event, authority=mss, confidence="likely")
    make_facility("Kaechon re-education camp", kind="kyohwaso")
    publish_case(person)

    for record in (camp, mss):
        page = editor_client.get(reverse(f"admin:cases_{record._meta.model_name}_change", args=[record.pk]))
        assert f'<a href="{reverse("admin:cases_person_change", args=[person.pk])}">{person.case_id}</a>' in text(page)
    other = Facility.objects.get(name="Kaechon re-education camp")
    page = editor_client.get(reverse("admin:cases_facility_change", args=[other.pk]))
    assert person.case_id not in text(page)


# --- Authorities -------------------------------------------------------------------------------------------------


def test_a_caseworker_records_an_authority_under_a_parent_body(caseworker_client):
    ministry = make_authority()
    url = reverse("admin:cases_authority_add")

    response = caseworker_client.post(
        url, admin_form_data(caseworker_client.get(url), name="Bureau 7", parent=str(ministry.pk), is_public="on")
    )

    assert response.status_code == 302, errors(response)
    bureau = Authority.objects.get(name="Bureau 7")
    assert (bureau.parent, bureau.is_public) == (ministry, False)


def test_an_authority_cannot_be_placed_under_one_of_its_units(editor_client):
    ministry = make_authority()
    bureau = make_authority("Bureau 7", parent=ministry)
    section = make_authority("Section 3", parent=bureau)

    response = change(editor_client, ministry, parent=str(section.pk))

    assert "cannot be placed under itself or one of its units" in errors(response)
    ministry.refresh_from_db()
    assert ministry.parent is None


def test_a_caseworker_cannot_change_a_public_authority(caseworker_client):
    ministry = make_authority()
    url = reverse("admin:cases_authority_change", args=[ministry.pk])

    response = caseworker_client.post(url, {"name": "Renamed", "expected_version": ministry.version})

    assert response.status_code == 403
    ministry.refresh_from_db()
    assert ministry.name == "Ministry of State Security"


def test_an_authority_is_found_in_any_spelling_and_withdrawn_ones_are_not_offered(caseworker_client, caseworker):
    make_authority(name_ko="국가보위성")
    make_authority("People's Security", is_public=False).withdraw(by=caseworker, reason="Duplicate.")
    url = reverse("admin:cases_authority_changelist")

    assert [a.name for a in caseworker_client.get(url, {"q": "국가보위성"}).context["cl"].result_list] == [
        "Ministry of State Security"
    ]
    response = caseworker_client.get(
        "/admin/autocomplete/",
        {"term": "s", "app_label": "cases", "model_name": "responsibility", "field_name": "authority"},
    )
    assert [item["text"] for item in response.json()["results"]] == ["Ministry of State Security"]


# --- A status event's facility and the authorities believed responsible -----------------------------------------


def test_a_caseworker_records_a_status_change_at_a_facility_with_the_authorities_responsible(caseworker_client):
    person = make_person()
    camp, ministry = make_facility(), make_authority()
    url = reverse("admin:cases_statusevent_add")
    page = caseworker_client.get(url, {"person": person.pk})

    response = caseworker_client.post(
        url,
        admin_form_data(
            page,
            status=Status.PRISON_CAMP,
            date="2015",
            facility=str(camp.pk),
            confidence="likely",
            **{"responsibilities-0-authority": str(ministry.pk), "responsibilities-0-confidence": "possible"},
        ),
    )

    assert response.status_code == 302, errors(response)
    event = StatusEvent.objects.get()
    assert event.facility == camp
    held = event.responsibilities.get()
    assert (held.authority, held.confidence) == (ministry, "possible")
    assert held.history.get().history_user.username == "caseworker"
    person.refresh_from_db()
    assert person.current_status == Status.PRISON_CAMP


def test_a_withdrawn_facility_is_not_accepted_for_a_new_event(caseworker_client, caseworker):
    person = make_person()
    camp = make_facility()
    camp.withdraw(by=caseworker, reason="Duplicate.")
    url = reverse("admin:cases_statusevent_add")

    response = caseworker_client.post(
        url,
        admin_form_data(
            caseworker_client.get(url, {"person": person.pk}), status=Status.DETAINED, facility=str(camp.pk)
        ),
    )

    assert "Select a valid choice" in errors(response)
    assert not StatusEvent.objects.exists()


def test_an_event_keeps_its_facility_when_the_facility_is_withdrawn_later(caseworker_client, caseworker):
    camp = make_facility()
    event = make_event(make_person(), Status.DETAINED, "2015", facility=camp)
    camp.withdraw(by=caseworker, reason="Duplicate.")

    response = change(caseworker_client, event, place="Yodok")

    assert response.status_code == 302, errors(response)
    event.refresh_from_db()
    assert (event.place, event.facility) == ("Yodok", camp)


@pytest.fixture
def event_held_by():
    event = make_event(make_person(), Status.DETAINED, "2015")
    held = Responsibility.objects.create(status_event=event, authority=make_authority(), confidence="possible")
    return event, held


def test_a_responsibility_row_saved_from_a_stale_page_is_refused(event_held_by, caseworker):
    event, held = event_held_by
    alice, bob = signed_in(caseworker), signed_in(make_staff("Caseworker", "bob"))
    url = reverse("admin:cases_statusevent_change", args=[event.pk])
    alice_page, bob_page = alice.get(url), bob.get(url)

    first = alice.post(url, admin_form_data(alice_page, **{"responsibilities-0-confidence": "likely"}))
    assert first.status_code == 302, errors(first)
    event.refresh_from_db()
    response = bob.post(url, admin_form_data(bob_page, **{"responsibilities-0-confidence": "confirmed"}))

    assert STALE.format("authority believed responsible") in errors(response)
    held.refresh_from_db()
    assert (held.confidence, held.version) == ("likely", 2)
    assert held.history.first().history_user.username == "caseworker"


def test_a_responsibility_row_removed_from_a_stale_page_is_refused(event_held_by, caseworker):
    event, held = event_held_by
    alice, bob = signed_in(caseworker), signed_in(make_staff("Caseworker", "bob"))
    url = reverse("admin:cases_statusevent_change", args=[event.pk])
    alice_page, bob_page = alice.get(url), bob.get(url)

    assert (
        alice.post(url, admin_form_data(alice_page, **{"responsibilities-0-confidence": "likely"})).status_code == 302
    )
    response = bob.post(url, admin_form_data(bob_page, **{"responsibilities-0-DELETE": "on"}))

    assert STALE.format("authority believed responsible") in errors(response)
    assert Responsibility.objects.filter(pk=held.pk, confidence="likely").exists()


def test_a_responsibility_row_is_removed_from_a_current_page_with_its_history(event_held_by, caseworker_client):
    event, held = event_held_by

    response = change(caseworker_client, event, **{"responsibilities-0-DELETE": "on"})

    assert response.status_code == 302, errors(response)
    assert not Responsibility.objects.filter(pk=held.pk).exists()
    removed = Responsibility.history.filter(id=held.pk).latest("history_date")
    assert (removed.history_type, removed.history_change_reason) == ("-", "Deleted in admin")


# --- Citations of a facility -------------------------------------------------------------------------------------


def cite(client, **claim):
    url = reverse("admin:sources_citation_add")
    page = client.get(url, claim)
    if page.status_code != 200:
        return page
    return client.post(url, admin_form_data(page, source=str(make_source().pk), locator="p. 12"))


def test_a_researcher_cites_a_source_about_a_facility_that_is_not_public(researcher_client):
    facility = make_facility(is_public=False)
    page = researcher_client.get(reverse("admin:cases_facility_change", args=[facility.pk]))
    assert "Cite a source about this facility" in text(page)

    response = cite(researcher_client, facility=facility.pk)

    assert response.status_code == 302
    assert response["Location"] == reverse("admin:cases_facility_change", args=[facility.pk])
    citation = Citation.objects.get()
    assert (citation.facility, citation.locator, citation.case_person_ids) == (facility, "p. 12", [])


def test_only_an_editor_cites_a_source_about_a_public_facility(researcher_client, editor_client):
    facility = make_facility()
    assert "Cite a source about this facility" not in text(
        researcher_client.get(reverse("admin:cases_facility_change", args=[facility.pk]))
    )

    assert cite(researcher_client, facility=facility.pk).status_code == 403
    assert not Citation.objects.exists()
    assert cite(editor_client, facility=facility.pk).status_code == 302
    assert Citation.objects.get().facility == facility


def test_a_facilitys_citations_are_listed_on_its_page_and_the_sources(editor_client):
    facility = make_facility()
    assert cite(editor_client, facility=facility.pk).status_code == 302
    citation = Citation.objects.get()

    facility_page = editor_client.get(reverse("admin:cases_facility_change", args=[facility.pk]))
    source_page = editor_client.get(reverse("admin:sources_source_change", args=[citation.source_id]))

    assert citation.source.title in text(facility_page)
    facility_url = reverse("admin:cases_facility_change", args=[facility.pk])
    assert f'<a href="{facility_url}">Yodok political prison camp</a> (about the facility)' in text(source_page)


def test_a_facility_name_is_recorded_once(editor_client):
    facility = make_facility(variants=["Camp 15"])

    response = change(editor_client, facility, **{"variants-1-name": "Camp 15"})

    assert response.status_code == 200
    assert FacilityName.objects.filter(facility=facility).count() == 1
