"""Relations between persons on the staff side: recorded on the person's page or their own, listed on both cases
(the other way round on the other person's), saved only over the version that was read, withdrawn instead of
deleted, cited like any claim.

Each test goes through HTTP and checks the answer and the database.
"""

import html

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cases.models import PublicationState, Relation, RelationKind
from sources.models import Citation

from .factories import (
    admin_form_data,
    make_person,
    make_relation,
    make_source,
    make_staff,
    signed_in,
)

pytestmark = pytest.mark.django_db

STALE = "Someone else saved this relation between persons while you were editing it"
# The person page's inline of the relations recorded on the case (Relation.person's related name).
ROWS = "relations_from"


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def text(response) -> str:
    return html.unescape(response.content.decode())


def errors(response) -> str:
    """Every error the change form shows: the form's, its fields' and its inlines'."""
    assert response.status_code == 200
    found = [str(e) for field_errors in response.context["adminform"].form.errors.values() for e in field_errors]
    for inline in response.context["inline_admin_formsets"]:
        found += [str(error) for error in inline.formset.non_form_errors()]
        found += [str(error) for row in inline.formset.errors for errors in row.values() for error in errors]
    return html.unescape(" ".join(found))


def inlines(page, prefix: str) -> list:
    return [inline for inline in page.context["inline_admin_formsets"] if inline.formset.prefix == prefix]


def person_url(person) -> str:
    return reverse("admin:cases_person_change", args=[person.pk])


def on_person_page(client, person, **changes):
    url = person_url(person)
    return client.post(url, admin_form_data(client.get(url), **changes))


@pytest.fixture
def parent_and_child():
    return make_person(name="Kim Parent"), make_person(name="Kim Child")


# --- On the person's page ----------------------------------------------------------------------------------------


def test_a_caseworker_records_a_relation_on_the_persons_page(caseworker_client, parent_and_child):
    parent, child = parent_and_child

    response = on_person_page(
        caseworker_client,
        parent,
        **{
            f"{ROWS}-0-kind": RelationKind.PARENT,
            f"{ROWS}-0-other": str(child.pk),
            f"{ROWS}-0-confidence": "likely",
            f"{ROWS}-0-note": "The mother, from the family's letter.",
        },
    )

    assert response.status_code == 302, errors(response)
    relation = Relation.objects.get()
    assert (relation.person, relation.kind, relation.other) == (parent, "parent", child)
    assert (relation.confidence, relation.is_public, relation.recorded_by.username) == ("likely", False, "caseworker")
    history = relation.history.get()
    assert (history.history_user.username, history.history_change_reason) == ("caseworker", "Added in admin")


def test_the_persons_page_reads_a_relation_as_a_sentence(caseworker_client, parent_and_child):
    page = caseworker_client.get(person_url(parent_and_child[0]))

    assert "People connected to this case" in text(page)
    assert "This person's relation to the other" in text(page)


def test_the_other_persons_page_lists_the_relation_the_other_way_round(caseworker_client, parent_and_child):
    parent, child = parent_and_child
    make_relation(parent, RelationKind.PARENT, child)

    child_page = caseworker_client.get(person_url(child))
    parent_page = caseworker_client.get(person_url(parent))

    [seen_from_child] = inlines(child_page, "relations_to")
    [row] = list(seen_from_child)
    shown = {field.field["name"]: field.contents() for fieldset in row for line in fieldset for field in line}
    assert shown["as_seen_here"] == "Child"
    assert f'<a href="{person_url(parent)}">' in shown["of_person"]
    # Recorded on the parent's case: read there as it was recorded, and not repeated as seen from the other side.
    [recorded] = inlines(parent_page, ROWS)
    assert [form.instance.kind for form in recorded.formset.initial_forms] == ["parent"]
    [other_side] = inlines(parent_page, "relations_to")
    assert not list(other_side)


def test_a_relation_of_a_person_to_themselves_is_refused(caseworker_client, parent_and_child):
    parent, _child = parent_and_child

    response = on_person_page(
        caseworker_client, parent, **{f"{ROWS}-0-kind": RelationKind.SIBLING, f"{ROWS}-0-other": str(parent.pk)}
    )

    assert "A relation is between two different persons." in errors(response)
    assert not Relation.objects.exists()


def test_a_relation_already_recorded_from_the_other_side_is_refused(caseworker_client, parent_and_child):
    parent, child = parent_and_child
    make_relation(parent, RelationKind.PARENT, child)

    response = on_person_page(
        caseworker_client, child, **{f"{ROWS}-0-kind": RelationKind.CHILD, f"{ROWS}-0-other": str(parent.pk)}
    )

    assert "This relation is already recorded" in errors(response)
    assert Relation.objects.count() == 1


def test_a_relation_row_saved_from_a_stale_page_is_refused(caseworker, parent_and_child):
    parent, child = parent_and_child
    relation = make_relation(parent, RelationKind.PARENT, child, confidence="possible", is_public=False)
    alice, bob = signed_in(caseworker), signed_in(make_staff("Caseworker", "bob"))
    url = person_url(parent)
    alice_page, bob_page = alice.get(url), bob.get(url)

    first = alice.post(url, admin_form_data(alice_page, **{f"{ROWS}-0-confidence": "confirmed"}))
    assert first.status_code == 302, errors(first)
    response = bob.post(url, admin_form_data(bob_page, **{f"{ROWS}-0-note": "Bob's note."}))

    assert STALE in errors(response)
    relation.refresh_from_db()
    assert (relation.confidence, relation.note, relation.version) == ("confirmed", "", 2)
    assert relation.history.first().history_user.username == "caseworker"


def test_a_relation_row_changed_on_its_own_page_meanwhile_is_not_put_back(caseworker, parent_and_child):
    parent, child = parent_and_child
    relation = make_relation(parent, RelationKind.PARENT, child, confidence="possible", is_public=False)
    alice, bob = signed_in(caseworker), signed_in(make_staff("Caseworker", "bob"))
    person_page = alice.get(person_url(parent))
    relation_url = reverse("admin:cases_relation_change", args=[relation.pk])

    assert bob.post(relation_url, admin_form_data(bob.get(relation_url), confidence="confirmed")).status_code == 302
    response = alice.post(person_url(parent), admin_form_data(person_page, **{f"{ROWS}-0-note": "Alice's note."}))

    assert STALE in errors(response)
    relation.refresh_from_db()
    assert (relation.confidence, relation.note) == ("confirmed", "")


def test_a_relation_stays_between_its_two_persons(caseworker_client, parent_and_child):
    parent, child = parent_and_child
    relation = make_relation(parent, RelationKind.PARENT, child, is_public=False)
    someone_else = make_person(name="Pak Other")

    response = on_person_page(
        caseworker_client, parent, **{f"{ROWS}-0-other": str(someone_else.pk), f"{ROWS}-0-note": "Noted."}
    )

    assert response.status_code == 302, errors(response)
    relation.refresh_from_db()
    assert (relation.other, relation.note) == (child, "Noted.")


def test_a_relation_is_not_deleted_from_the_persons_page(caseworker_client, parent_and_child):
    parent, child = parent_and_child
    relation = make_relation(parent, RelationKind.PARENT, child)

    response = on_person_page(caseworker_client, parent, **{f"{ROWS}-0-DELETE": "on"})

    assert response.status_code == 302
    assert Relation.objects.filter(pk=relation.pk, withdrawn=False).exists()


def test_a_relation_to_a_withdrawn_case_is_refused_to_a_caseworker(caseworker_client, parent_and_child, editor):
    parent, child = parent_and_child
    child.publication_state = PublicationState.WITHDRAWN
    child.save()

    response = on_person_page(
        caseworker_client, parent, **{f"{ROWS}-0-kind": RelationKind.PARENT, f"{ROWS}-0-other": str(child.pk)}
    )

    assert "This case is withdrawn" in errors(response)
    assert not Relation.objects.exists()


# --- Their own pages ---------------------------------------------------------------------------------------------


def add_relation(client, **fields):
    url = reverse("admin:cases_relation_add")
    page = client.get(url)
    return client.post(url, admin_form_data(page, **fields) if page.status_code == 200 else fields)


def test_a_relation_is_recorded_on_its_own_page(caseworker_client, parent_and_child):
    parent, child = parent_and_child

    response = add_relation(
        caseworker_client, person=str(child.pk), kind=RelationKind.DETAINED_TOGETHER, other=str(parent.pk)
    )

    assert response.status_code == 302, errors(response)
    relation = Relation.objects.get()
    assert (relation.person, relation.kind, relation.other, relation.recorded_by.username) == (
        child,
        "detained_together",
        parent,
        "caseworker",
    )


def test_a_relation_to_oneself_is_refused_on_its_own_page(caseworker_client, parent_and_child):
    parent, _child = parent_and_child

    response = add_relation(caseworker_client, person=str(parent.pk), kind=RelationKind.SPOUSE, other=str(parent.pk))

    assert "A relation is between two different persons." in errors(response)
    assert not Relation.objects.exists()


def test_a_relation_saved_from_a_stale_page_is_refused(caseworker, parent_and_child):
    relation = make_relation(parent_and_child[0], RelationKind.PARENT, parent_and_child[1], is_public=False)
    alice, bob = signed_in(caseworker), signed_in(make_staff("Editor", "bob"))
    url = reverse("admin:cases_relation_change", args=[relation.pk])
    alice_page, bob_page = alice.get(url), bob.get(url)

    assert alice.post(url, admin_form_data(alice_page, note="Alice's note.")).status_code == 302
    response = bob.post(url, admin_form_data(bob_page, is_public="on"))

    assert STALE in errors(response)
    relation.refresh_from_db()
    assert (relation.note, relation.is_public) == ("Alice's note.", False)


def test_a_relation_is_withdrawn_with_a_reason_and_never_deleted(caseworker_client, parent_and_child):
    relation = make_relation(parent_and_child[0], RelationKind.PARENT, parent_and_child[1])
    changelist = reverse("admin:cases_relation_changelist")
    selection = {"action": "withdraw_selected", "_selected_action": [str(relation.pk)]}

    assert caseworker_client.post(changelist, selection).status_code == 200
    response = caseworker_client.post(changelist, {**selection, "confirm": "yes", "reason": "Not the same family."})

    assert response.status_code == 302
    relation.refresh_from_db()
    assert (relation.withdrawn, relation.withdrawn_reason) == (True, "Not the same family.")
    assert relation.history.first().history_change_reason == "Not the same family."
    delete = caseworker_client.post(reverse("admin:cases_relation_delete", args=[relation.pk]), {"post": "yes"})
    assert delete.status_code == 403
    assert Relation.objects.filter(pk=relation.pk).exists()


def test_a_withdrawn_relation_can_be_recorded_again(caseworker_client, caseworker, parent_and_child):
    parent, child = parent_and_child
    make_relation(parent, RelationKind.SIBLING, child).withdraw(by=caseworker, reason="Wrong kind.")

    response = add_relation(caseworker_client, person=str(parent.pk), kind=RelationKind.SIBLING, other=str(child.pk))

    assert response.status_code == 302, errors(response)
    assert Relation.objects.active().count() == 1


def test_the_relations_of_a_withdrawn_case_are_an_editors(caseworker_client, editor_client, parent_and_child):
    parent, child = parent_and_child
    relation = make_relation(parent, RelationKind.PARENT, child)
    child.publication_state = PublicationState.WITHDRAWN
    child.save()
    url = reverse("admin:cases_relation_change", args=[relation.pk])

    assert caseworker_client.post(url, admin_form_data(editor_client.get(url), note="No.")).status_code == 403
    assert editor_client.post(url, admin_form_data(editor_client.get(url), note="Yes.")).status_code == 302
    relation.refresh_from_db()
    assert relation.note == "Yes."


def test_a_relations_history_says_who_changed_what(caseworker_client, parent_and_child):
    relation = make_relation(parent_and_child[0], RelationKind.PARENT, parent_and_child[1])
    url = reverse("admin:cases_relation_change", args=[relation.pk])
    assert (
        caseworker_client.post(url, admin_form_data(caseworker_client.get(url), confidence="possible")).status_code
        == 302
    )

    response = caseworker_client.get(reverse("admin:cases_relation_history", args=[relation.pk]))

    assert response.status_code == 200
    assert "Changed in admin: confidence" in text(response)


def test_a_researcher_reads_relations_but_does_not_record_them(researcher_client, parent_and_child):
    relation = make_relation(parent_and_child[0], RelationKind.PARENT, parent_and_child[1])

    assert researcher_client.get(reverse("admin:cases_relation_change", args=[relation.pk])).status_code == 200
    response = add_relation(
        researcher_client, person=str(parent_and_child[1].pk), kind="sibling", other=str(parent_and_child[0].pk)
    )
    assert response.status_code == 403
    assert Relation.objects.count() == 1


# --- Citing a relation -------------------------------------------------------------------------------------------


def test_a_researcher_cites_a_source_for_a_relation(researcher_client, parent_and_child):
    relation = make_relation(parent_and_child[0], RelationKind.PARENT, parent_and_child[1])
    relation_url = reverse("admin:cases_relation_change", args=[relation.pk])
    assert "Cite a source for this relation" in text(researcher_client.get(relation_url))
    url = reverse("admin:sources_citation_add")
    page = researcher_client.get(url, {"relation": relation.pk})
    assert f"The relation between persons: {relation}." in text(page)

    response = researcher_client.post(url, admin_form_data(page, source=str(make_source().pk), locator="p. 4"))

    assert response.status_code == 302
    assert response["Location"] == relation_url
    citation = Citation.objects.get()
    assert (citation.relation, citation.case_person_ids) == (relation, [relation.person_id, relation.other_id])
    assert citation.source.title in text(researcher_client.get(relation_url))


def test_a_source_for_a_relation_of_a_withdrawn_case_is_an_editors_to_cite(researcher_client, parent_and_child):
    parent, child = parent_and_child
    relation = make_relation(parent, RelationKind.PARENT, child)
    child.publication_state = PublicationState.WITHDRAWN
    child.save()

    response = researcher_client.get(reverse("admin:sources_citation_add"), {"relation": relation.pk})

    assert response.status_code == 403
    assert not Citation.objects.exists()


def test_the_persons_page_queries_do_not_grow_with_its_relations(caseworker_client):
    def queries(person) -> int:
        caseworker_client.get(person_url(person))  # per-process caches (content types, permissions)
        with CaptureQueriesContext(connection) as captured:
            assert caseworker_client.get(person_url(person)).status_code == 200
        return len(captured)

    few, many = make_person(name="Kim Few"), make_person(name="Kim Many")
    for person, count in ((few, 1), (many, 20)):
        for n in range(count):
            make_relation(person, RelationKind.DETAINED_TOGETHER, make_person(name=f"Pak {n}"))
            make_relation(make_person(name=f"Choi {n}"), RelationKind.SIBLING, person)

    assert queries(many) == queries(few)
