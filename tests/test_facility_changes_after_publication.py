"""Changes after publication that must reach every public surface at once: sources behind relations and facilities,
who may change a source a public facility cites, what a facilities file may make public, and precise coordinates."""

import io
import json
import re

import pytest
from django.core.cache import caches
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from cases.history import save_with_history
from cases.models import Facility, FacilityName

from .factories import (
    admin_form_data,
    make_authority,
    make_citation,
    make_facility,
    make_publishable_case,
    make_relation,
    make_source,
    make_staff,
    publish_case,
    signed_in,
)

pytestmark = pytest.mark.django_db


def test_a_source_restricted_after_publication_leaves_the_relation_it_backs_and_its_source_page(client):
    secret = make_source(is_restricted=False, title="SENTINEL-RELATION-SOURCE", publisher="Informant X")
    mother, son = make_publishable_case(name="Kim Mother"), make_publishable_case(name="Kim Son")
    make_relation(mother, "parent", son, source=secret)
    publish_case(mother)
    publish_case(son)
    assert "SENTINEL-RELATION-SOURCE" in client.get(f"/cases/{son.case_id}/").content.decode()
    assert list(secret.published_cases()) == [mother, son] or set(secret.published_cases()) == {mother, son}
    secret.is_restricted = True
    save_with_history(secret, by=None, reason="confidential after all")
    for url in (f"/cases/{son.case_id}/", f"/api/cases/{son.case_id}/", f"/cases/{mother.case_id}/"):
        assert "SENTINEL-RELATION-SOURCE" not in client.get(url).content.decode(), url
    assert client.get(f"/sources/{secret.pk}/").status_code == 404


@pytest.mark.parametrize("change", ["restrict the source", "withdraw the citation"])
def test_a_facility_page_is_never_served_from_the_cache_after_its_source_leaves(client, change):
    source = make_source(is_restricted=False, title="SENTINEL-FACILITY-SOURCE")
    camp = make_facility()
    citation = make_citation(source, facility=camp, locator="p. 1")
    url = f"/facilities/{camp.pk}/"
    first = client.get(url)
    assert "SENTINEL-FACILITY-SOURCE" in first.content.decode()
    if change == "restrict the source":
        source.is_restricted = True
        save_with_history(source, by=None, reason="confidential")
    else:
        citation.withdraw(by=None, reason="misread")
    assert "SENTINEL-FACILITY-SOURCE" not in client.get(url).content.decode()
    assert client.get(url, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 200


def test_only_an_editor_changes_a_source_that_a_public_facility_cites():
    secret = make_source(title="SENTINEL-INTERVIEW", publisher="Interviews", is_restricted=True)
    camp = make_facility()
    make_citation(secret, facility=camp, excerpt="SENTINEL-EXCERPT")
    url = f"/admin/sources/source/{secret.pk}/change/"
    editor = signed_in(make_staff("Editor"))
    data = admin_form_data(editor.get(url))
    data.pop("is_restricted", None)
    researcher = signed_in(make_staff("Researcher"))
    assert "SENTINEL-INTERVIEW" in researcher.get(url).content.decode()  # read, not changed
    assert researcher.post(url, data).status_code == 403
    secret.refresh_from_db()
    assert secret.is_restricted
    caches["pages"].clear()
    assert "SENTINEL-EXCERPT" not in Client().get(f"/facilities/{camp.pk}/").content.decode()
    assert editor.post(url, data).status_code == 302
    secret.refresh_from_db()
    assert not secret.is_restricted


def _load(tmp_path, data) -> tuple[str, str]:
    """("loaded" or "refused", what the command said)."""
    path = tmp_path / "places.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("import_facilities", str(path), stdout=out, stderr=err)
    except CommandError as error:
        return "refused", f"{error}\n{out.getvalue()}\n{err.getvalue()}"
    return "loaded", out.getvalue()


def test_a_facilities_file_makes_public_only_what_it_says_with_true(tmp_path):
    outcome, message = _load(tmp_path, {"facilities": [{"name": "Camp X", "is_public": "false"}]})
    assert outcome == "refused" and "is_public" in message
    assert not Facility.objects.exists()
    outcome, _ = _load(
        tmp_path,
        {"facilities": [{"name": "Camp X", "other_names": [{"name": "SENTINEL-CODENAME", "note": "informant"}]}]},
    )
    assert outcome == "loaded"
    assert not Facility.objects.get().is_public
    assert not FacilityName.objects.get(name="SENTINEL-CODENAME").is_public


@pytest.mark.parametrize(
    "entry",
    [
        {"name": "Camp X", "other_names": 5},
        {"name": "Camp X", "other_names": [{"name": None}]},
        {"name": "Camp X", "citations": 5},
        {"name": "Camp X", "opened_on": 1990},
        {"name": "Camp X", "withdrawn": "yes"},
        {"name": "Camp X", "kind": ["kwanliso"]},
    ],
)
def test_a_facilities_file_of_the_wrong_shape_is_refused_with_where(tmp_path, entry):
    outcome, message = _load(tmp_path, {"facilities": [entry]})
    assert outcome == "refused" and "facilities[0]" in message
    assert not Facility.objects.exists()


@pytest.mark.parametrize("value", ["²", "٣", "99999999999999999999999", "-1", "1e3"])
def test_a_citation_of_a_claim_named_by_garbage_is_a_page_not_an_error(value):
    editor = signed_in(make_staff("Editor"))
    for claim in ("facility", "relation", "person", "status_event"):
        assert editor.get(f"/admin/sources/citation/add/?{claim}={value}").status_code in (200, 302, 403, 404)


def test_region_coordinates_are_public_only_to_a_tenth_of_a_degree(tmp_path):
    make_facility("Camp R", latitude="39.76543", longitude="127.01234", precision="region")
    make_facility("Camp A", latitude="39.76543", longitude="127.01234", precision="approximate")
    make_facility("Camp E", latitude="39.76543", longitude="127.01234", precision="exact")
    path = tmp_path / "public.json"
    with path.open("w") as out:
        call_command("export_cases", "--public-only", "--format", "json", stdout=out)
    facilities = {f["name"]: (f["latitude"], f["longitude"]) for f in json.loads(path.read_text())["facilities"]}
    assert facilities == {"Camp A": (39.77, 127.01), "Camp E": (39.76543, 127.01234), "Camp R": (39.8, 127.0)}
    assert "39.765" not in Client().get("/facilities/").content.decode()


def _queries(client, url: str) -> int:
    for cache in ("default", "pages"):
        caches[cache].clear()
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_the_depth_of_the_bodies_above_an_authority_adds_no_query(client):
    top = make_authority("Top body")
    make_facility("Camp 0", authority=top)
    publish_case(make_publishable_case(name="Kim A"))
    before = _queries(client, "/cases/"), _queries(client, "/facilities/")
    for index in range(5):
        body = top
        for depth in range(4):
            body = make_authority(f"Unit {index}-{depth}", parent=body)
        make_facility(f"Camp {index + 1}", authority=body)
    assert (_queries(client, "/cases/"), _queries(client, "/facilities/")) == before


def test_a_name_taken_off_a_case_is_taken_off_the_cases_related_to_it(client):
    mother, son = make_publishable_case(name="Kim Mother"), make_publishable_case(name="Kim Son")
    make_relation(mother, "parent", son, source=make_source(is_restricted=False, title="Public report"))
    publish_case(mother)
    publish_case(son)
    publish_case(mother)
    assert "Kim Son" in client.get(f"/cases/{mother.case_id}/").content.decode()
    son.refresh_from_db()
    son.name, son.descriptor = "", "Teenage boy, detained 2019"
    save_with_history(son, by=None, reason="the family asked for the name to go")
    publish_case(son)
    page = client.get(f"/cases/{mother.case_id}/").content.decode()
    assert "Kim Son" not in page and "Teenage boy, detained 2019" in page


def test_a_facility_renamed_or_a_confidence_lowered_reads_so_on_the_cases_at_once(client):
    from cases.models import Responsibility

    camp, mss = make_facility("Camp 15 (informant designation)"), make_authority()
    person = make_publishable_case(name="Lee One")
    event = person.status_events.get()
    event.correct(by=None, reason="the camp is known", facility=camp)
    held = Responsibility.objects.create(status_event=event, authority=mss, confidence="confirmed")
    publish_case(person)
    camp.name = "Yodok political prison camp"
    save_with_history(camp, by=None, reason="the designation came from an informant")
    held.confidence = "possible"
    save_with_history(held, by=None, reason="one witness only")
    page = client.get(f"/cases/{person.case_id}/").content.decode()
    export = b"".join(client.get("/export/cases.csv").streaming_content).decode()
    assert "informant designation" not in page + export
    assert "Yodok political prison camp" in page
    assert re.search(r"Ministry of State Security(<[^>]+>)* \(confidence: Possible\)", page)
    assert "(confidence: Confirmed)" not in page
