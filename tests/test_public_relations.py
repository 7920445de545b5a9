"""People connected to a case, on its public page, in its JSON and its CSV row: only while the relation is public,
both cases are published and neither family faces reprisals (workflow.snapshots.relation_is_public)."""

import csv
import io

import pytest

from cases.history import save_with_history
from workflow.services import withdraw

from .factories import make_person, make_publishable_case, make_relation, make_source, publish_case

pytestmark = pytest.mark.django_db


def related_pair(**relation_fields):
    """Kim Mother, the parent of Kim Son, both published (the mother again once the son is), cited by a public
    source."""
    source = make_source(title="Family testimony, published", publisher="NK Watch")
    mother = make_publishable_case(name="Kim Mother", family_name_native="김", given_name_native="어머니")
    son = make_publishable_case(name="Kim Son")
    relation = make_relation(mother, "parent", son, source=source, confidence="likely", **relation_fields)
    publish_case(mother)
    publish_case(son)
    publish_case(mother)  # now that the son is on the site, the mother's record names him
    return mother, son, relation


def page(client, person, prefix: str = "") -> str:
    response = client.get(f"{prefix}/cases/{person.case_id}/")
    assert response.status_code == 200
    return response.content.decode()


def connections(html: str) -> str:
    """The page's "People connected to this case" section, or "" when it has none."""
    if 'id="connections-heading"' not in html:
        return ""
    start = html.index('id="connections-heading"')
    return html[start : html.index("</section>", start)]


@pytest.mark.parametrize("prefix", ["", "/ko", "/ja"], ids=["English", "Korean", "Japanese"])
def test_each_case_page_lists_the_other_from_its_own_side_linked_with_confidence_and_source(client, prefix):
    mother, son, _relation = related_pair()
    on_son = connections(page(client, son, prefix))
    assert f'<a href="{prefix}/cases/{mother.case_id}/">' in on_son
    assert "Kim Mother" in on_son and "김어머니" in on_son
    assert 'href="#note-' in on_son  # the relation's citation, numbered like every claim
    on_mother = connections(page(client, mother, prefix))
    assert f'<a href="{prefix}/cases/{son.case_id}/">' in on_mother
    if not prefix:
        assert '<span class="connection-kind">Parent:</span>' in on_son
        assert '<span class="connection-kind">Child:</span>' in on_mother
        assert "Confidence: Likely" in on_son
        assert "Family testimony, published" in page(client, son)


def test_the_case_json_and_csv_carry_the_public_relations(client):
    mother, son, relation = related_pair()
    data = client.get(f"/api/cases/{son.case_id}/").json()
    assert data["relations"] == [
        {
            "id": relation.pk,
            "kind": "parent",
            "case_id": mother.case_id,
            "name": "Kim Mother",
            "name_native": "김어머니",
            "confidence": "likely",
            "citations": data["relations"][0]["citations"],
        }
    ]
    assert data["relations"][0]["citations"]
    body = b"".join(client.get("/export/cases.csv").streaming_content).decode("utf-8-sig")
    rows = {row["case_id"]: row for row in csv.DictReader(io.StringIO(body))}
    assert rows[son.case_id]["related_cases"] == mother.case_id
    assert rows[mother.case_id]["related_cases"] == son.case_id


def test_a_relation_not_marked_public_is_nowhere(client):
    mother, son, _relation = related_pair(is_public=False)
    for person in (mother, son):
        assert connections(page(client, person)) == ""
        assert client.get(f"/api/cases/{person.case_id}/").json()["relations"] == []


def test_a_relation_to_an_unpublished_person_is_nowhere_nor_their_name(client):
    source = make_source(title="Published testimony")
    son = make_publishable_case(name="Kim Son")
    unpublished = make_person(name="Unpublished Father")
    make_relation(unpublished, "parent", son, source=source)
    publish_case(son)
    html = page(client, son)
    assert connections(html) == ""
    assert "Unpublished Father" not in html
    assert "Unpublished Father" not in client.get(f"/api/cases/{son.case_id}/").content.decode()


def test_a_relation_to_a_case_at_reprisal_risk_is_nowhere_nor_the_real_name_nor_the_pseudonym(client):
    source = make_source(title="Published testimony")
    son = make_publishable_case(name="Kim Son")
    at_risk = make_publishable_case(name="Real Name Father", reprisal_risk=True, pseudonym="Mr B")
    make_relation(at_risk, "parent", son, source=source)
    publish_case(at_risk)
    publish_case(son)
    for person in (son, at_risk):
        html = page(client, person)
        assert connections(html) == ""
        assert "Real Name Father" not in html
    assert "Mr B" not in page(client, son)
    assert "Kim Son" not in page(client, at_risk)


@pytest.mark.parametrize("change", ["withdrawn", "at risk", "made non-public", "relation withdrawn"])
def test_a_relation_leaves_both_pages_at_once_when_it_stops_being_public(client, change):
    mother, son, relation = related_pair()
    assert connections(page(client, son)) and connections(page(client, mother))
    if change == "withdrawn":
        withdraw(mother, by=None, reason="the family asked")
    elif change == "at risk":
        mother.reprisal_risk, mother.pseudonym = True, "A mother"
        save_with_history(mother, by=None, reason="threats reported")
    elif change == "made non-public":
        relation.is_public = False
        save_with_history(relation, by=None, reason="not sure")
    else:
        relation.withdraw(by=None, reason="recorded in error")
    html = page(client, son)
    assert connections(html) == ""
    assert "Kim Mother" not in html
    # Every version, not only the current one.
    assert "Kim Mother" not in client.get(f"/cases/{son.case_id}/versions/1/").content.decode()
    if change != "withdrawn":
        assert connections(page(client, mother)) == ""


def test_a_relation_cited_only_by_a_restricted_source_is_not_shown(client):
    restricted = make_source(title="Confidential family testimony", is_restricted=True)
    mother = make_publishable_case(name="Kim Mother")
    son = make_publishable_case(name="Kim Son")
    make_relation(mother, "parent", son, source=restricted)
    publish_case(mother)
    publish_case(son)
    html = page(client, son)
    assert connections(html) == ""
    assert "Confidential family testimony" not in html


def test_the_publication_preview_shows_the_connections_as_the_public_page_will(editor_client, client):
    _mother, son, _relation = related_pair()
    preview = editor_client.get(f"/staff/cases/{son.case_id}/preview/")
    assert preview.status_code == 200
    assert connections(preview.content.decode()) == connections(page(client, son))
