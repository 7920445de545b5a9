"""The plain admin: every model editable, status changes through the one path, nothing deleted."""

import pytest
from django.urls import reverse

from cases.models import Person, Status, StatusEvent
from sources.models import Source

from .factories import admin_form_data, make_event, make_person, make_source, make_user

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "model",
    ["cases/person", "cases/statusevent", "cases/category", "sources/source", "sources/citation"],
)
def test_every_model_has_an_admin_list_and_add_page(admin_client, model):
    make_source()
    make_event(make_person())
    assert admin_client.get(f"/admin/{model}/").status_code == 200
    assert admin_client.get(f"/admin/{model}/add/").status_code == 200


def test_anonymous_visitor_is_sent_to_login(client):
    response = client.get("/admin/cases/person/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_adding_a_person_with_variants_writes_history_with_user_and_reason(admin_client):
    page = admin_client.get(reverse("admin:cases_person_add"))
    response = admin_client.post(
        reverse("admin:cases_person_add"),
        admin_form_data(
            page,
            **{
                "name": "Kim Kook-ki",
                "family_name_native": "김",
                "given_name_native": "국기",
                "birth_date": "1954~",
                "variants-0-name": "Kim Kook-kie",
                "variants-0-kind": "romanization",
            },
        ),
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    person = Person.objects.get()
    assert person.case_id == "KP-0001"
    assert str(person.birth_date) == "1954~"
    assert person.variants.get().name == "Kim Kook-kie"
    history = person.history.get()
    assert history.history_user.username == "admin"
    assert history.history_change_reason == "Added in admin"
    assert person.variants.get().history.get().history_user.username == "admin"


def test_malformed_birth_date_is_a_form_error_not_a_crash(admin_client):
    page = admin_client.get(reverse("admin:cases_person_add"))
    response = admin_client.post(
        reverse("admin:cases_person_add"), admin_form_data(page, name="Kim Test", birth_date="2014-02-30")
    )
    assert response.status_code == 200
    assert "not a real day" in response.content.decode()
    assert not Person.objects.exists()


def test_adding_a_status_event_in_the_admin_updates_the_person(admin_client):
    person = make_person()
    url = reverse("admin:cases_statusevent_add")
    page = admin_client.get(url, {"person": person.pk})
    response = admin_client.post(
        url, admin_form_data(page, status=Status.ARRESTED, date="2014-10", confidence="likely")
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    person.refresh_from_db()
    assert person.current_status == Status.ARRESTED
    assert str(person.status_since) == "2014-10"
    event = StatusEvent.objects.get()
    assert event.recorded_by.username == "admin"


def test_correcting_a_status_event_in_the_admin_recomputes_the_person(admin_client):
    person = make_person()
    make_event(person, Status.ARRESTED, "2014")
    later = make_event(person, Status.RELEASED, "2016")
    url = reverse("admin:cases_statusevent_change", args=[later.pk])
    response = admin_client.post(url, admin_form_data(admin_client.get(url), date="2012"))
    assert response.status_code == 302, response.context["adminform"].form.errors
    person.refresh_from_db()
    assert person.current_status == Status.ARRESTED
    assert later.history.first().history_change_reason == "Corrected in admin: date"


def test_admin_offers_no_delete_for_evidential_records(admin_client):
    source = make_source()
    response = admin_client.post(reverse("admin:sources_source_delete", args=[source.pk]), {"post": "yes"})
    assert response.status_code == 403
    assert Source.objects.filter(pk=source.pk).exists()


def test_staff_accounts_are_deactivated_not_deleted(admin_client):
    from django.contrib.auth.models import User

    former = make_user("former-caseworker", is_staff=True)
    make_person(by=former)
    assert admin_client.post(reverse("admin:auth_user_delete", args=[former.pk]), {"post": "yes"}).status_code == 403
    response = admin_client.post(
        reverse("admin:auth_user_changelist"), {"action": "deactivate_selected", "_selected_action": [former.pk]}
    )
    assert response.status_code == 302
    former.refresh_from_db()
    assert not former.is_active
    assert User.objects.filter(pk=former.pk).exists()
    assert Person.history.filter(history_user=former).exists()


def test_a_deactivated_user_is_signed_out_at_the_next_request(client):
    user = make_user("leaving", is_staff=True, is_superuser=True)
    client.force_login(user)
    assert client.get("/admin/").status_code == 200
    user.is_active = False
    user.save()
    assert client.get("/admin/").status_code == 302
