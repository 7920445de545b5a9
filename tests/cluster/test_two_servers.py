"""Two app servers behind nginx, one PostgreSQL primary with a streaming replica, Redis and an S3 store.

Runs against the cluster that `make cluster-test` starts (deploy/cluster.py), over HTTP like a
browser, and skips when there is none. Each step begins on one app server and continues on the
other: nothing a request needs may live in one server's memory or on its disk.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import struct
import subprocess
import sys
import time
import uuid
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import psycopg
import pytest
import requests

STATE = Path(__file__).resolve().parents[2] / ".cluster" / "cluster.json"

pytestmark = pytest.mark.skipif(
    not os.environ.get("WHEREABOUTS_CLUSTER") or not STATE.exists(),
    reason="needs the loopback cluster: make cluster-test",
)


@pytest.fixture(scope="module")
def cluster() -> dict:
    return json.loads(STATE.read_text())


class Forms(HTMLParser):
    """Every form of a page, with the fields a browser would send back."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[tuple[str, dict[str, list[str]]]] = []
        self.fields: dict[str, list[str]] | None = None
        self._select: str | None = None
        self._first_option: str | None = None
        self._selected = False
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attributes: list) -> None:
        attrs = {name: value or "" for name, value in attributes}
        if tag == "form":
            self.fields = {}
            self.forms.append((attrs.get("action", ""), self.fields))
        if self.fields is None:
            return
        name = attrs.get("name")
        if tag == "input" and name and "disabled" not in attrs:
            kind = attrs.get("type", "text")
            if kind in {"checkbox", "radio"}:
                if "checked" in attrs:
                    self.fields.setdefault(name, []).append(attrs.get("value", "on"))
            elif kind not in {"submit", "button", "file", "image", "reset"}:
                self.fields.setdefault(name, []).append(attrs.get("value", ""))
        elif tag == "select" and name:
            self._select, self._first_option, self._selected = name, None, False
        elif tag == "option" and self._select:
            value = attrs.get("value", "")
            if self._first_option is None:
                self._first_option = value
            if "selected" in attrs:
                self.fields.setdefault(self._select, []).append(value)
                self._selected = True
        elif tag == "textarea" and name:
            self._textarea = name
            self.fields[name] = [""]

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.fields = None
        elif tag == "select" and self._select and self.fields is not None:
            if not self._selected and self._first_option is not None:
                self.fields[self._select] = [self._first_option]
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea and self.fields is not None:
            typed = self.fields[self._textarea][-1]
            self.fields[self._textarea][-1] = typed + (data if typed else data.removeprefix("\n"))


def form_of(page: requests.Response, action_contains: str = "", **changes: str) -> dict:
    """The page's form whose action contains ``action_contains`` (else its largest), with ``changes``."""
    parser = Forms()
    parser.feed(page.text)
    candidates = [fields for action, fields in parser.forms if action_contains in action]
    assert candidates, f"no form on {page.url}"
    fields = max(candidates, key=len)
    data = {name: values if len(values) > 1 else values[0] for name, values in fields.items()}
    data.update(changes)
    return data


def totp(secret: str, at: float | None = None) -> str:
    """RFC 6238, as an authenticator app computes it."""
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    counter = struct.pack(">Q", int((time.time() if at is None else at) // 30))
    digest = hmac.new(key, counter, hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    return f"{(struct.unpack('>I', digest[offset : offset + 4])[0] & 0x7FFFFFFF) % 1_000_000:06d}"


def fetch(url: str, **options) -> requests.Response:
    """A reader with no session: what a family or a crawler sends."""
    return requests.get(url, timeout=30, **options)


def text(response: requests.Response) -> str:
    return unescape(response.text)


def problems(page: requests.Response) -> str:
    """What an admin page says is wrong, for an assertion's message."""
    said = re.findall(r'<(?:p|ul) class="(?:errornote|errorlist[^"]*)"[^>]*>(.*?)</(?:p|ul)>', page.text, re.S)
    return f"{page.status_code} {page.url}: " + " | ".join(re.sub(r"<[^>]+>", " ", item).strip() for item in said)


def one(url: str, query: str, *parameters) -> tuple:
    with psycopg.connect(url) as connection:
        row = connection.execute(query, parameters).fetchone()
    assert row is not None, query
    return row


NEW_EDITOR = """
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
user = get_user_model().objects.create_user(USERNAME, password=PASSWORD, is_staff=True)
user.groups.add(Group.objects.get(name="Editor"))
"""


@pytest.fixture(scope="module")
def staff(cluster) -> requests.Session:
    """A new editor signed in on server A, whose two-factor set-up is finished on server B."""
    a, b = cluster["servers"]["a"], cluster["servers"]["b"]
    username, password = f"editor-{uuid.uuid4().hex[:6]}", uuid.uuid4().hex
    script = f"USERNAME, PASSWORD = {username!r}, {password!r}\n{NEW_EDITOR}"
    subprocess.run(  # noqa: S603 (this interpreter, the project's manage.py)
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", script],
        cwd=STATE.parents[1],
        env=cluster["environment"],
        check=True,
    )
    session = requests.Session()
    login = session.get(f"{a}/admin/login/?next=/staff/")
    signed_in = session.post(
        f"{a}/admin/login/?next=/staff/", data=form_of(login, username=username, password=password)
    )
    session.username = username  # type: ignore[attr-defined]
    assert "/2fa/" in signed_in.url, signed_in.url
    # The session, and the device being enrolled in it, are in the database: server B carries on.
    enrolment = session.get(signed_in.url.replace(a, b))
    secret = re.search(r"<code>([A-Z2-7]{16,})</code>", enrolment.text)
    assert secret, "the two-factor set-up page on server B shows no key"
    verified = session.post(enrolment.url, data=form_of(enrolment, token=totp(secret.group(1))))
    assert verified.status_code == 200 and verified.url.endswith("/staff/"), verified.url
    assert session.get(f"{a}/staff/", allow_redirects=False).status_code == 200
    return session


def test_signed_in_on_one_server_signed_in_on_the_other(cluster, staff):
    for server in cluster["servers"].values():
        page = staff.get(f"{server}/staff/", allow_redirects=False)
        assert page.status_code == 200
        assert staff.username in page.text


def test_an_import_previewed_on_one_server_is_confirmed_on_the_other(cluster, staff):
    a, b = cluster["servers"]["a"], cluster["servers"]["b"]
    name = f"Cluster Test {uuid.uuid4().hex[:8]}"
    csv = f"name,nationality,summary,status,status_date\n{name},KP,Imported on two servers.,arrested,2020-05\n"
    page = staff.get(f"{a}/staff/import/")
    preview = staff.post(
        f"{a}/staff/import/",
        data=form_of(page, "/staff/import/"),
        files={"file": ("cluster.csv", csv.encode(), "text/csv")},
    )
    assert preview.status_code == 200, problems(preview)
    assert "nothing has been imported yet" in text(preview)
    done = staff.post(f"{b}/staff/import/confirm/", data=form_of(preview, "confirm"))
    assert done.status_code == 200, problems(done)
    assert "expired" not in text(done)
    (count,) = one(cluster["primary"], "select count(*) from cases_person where name = %s", name)
    assert count == 1


def test_a_document_uploaded_on_one_server_is_downloaded_from_the_other(cluster, staff):
    a, b = cluster["servers"]["a"], cluster["servers"]["b"]
    title = f"Cluster report {uuid.uuid4().hex[:8]}"
    content = b"%PDF-1.4\n% a report uploaded on server A\n" + uuid.uuid4().hex.encode() + b"\n%%EOF\n"
    page = staff.get(f"{a}/admin/sources/source/add/")
    saved = staff.post(
        f"{a}/admin/sources/source/add/",
        data=form_of(page, "", title=title, _save="Save"),
        files={"document": ("report.pdf", content, "application/pdf")},
    )
    assert saved.status_code == 200 and "/add/" not in saved.url, problems(saved)
    (source_id,) = one(cluster["primary"], "select id from sources_source where title = %s", title)
    download = staff.get(f"{b}/staff/sources/{source_id}/document")
    assert download.status_code == 200
    assert download.content == content
    # In the shared store, not on either server's disk.
    environment = cluster["environment"]
    import boto3

    s3 = boto3.client(
        "s3",
        endpoint_url=environment["S3_ENDPOINT_URL"],
        region_name=environment["S3_REGION"],
        aws_access_key_id=environment["S3_ACCESS_KEY_ID"],
        aws_secret_access_key=environment["S3_SECRET_ACCESS_KEY"],
    )
    (stored_name,) = one(cluster["primary"], "select document from sources_source where id = %s", source_id)
    keys = [item["Key"] for item in s3.list_objects_v2(Bucket=environment["S3_BUCKET"]).get("Contents", [])]
    assert any(key.endswith(stored_name) for key in keys)


def test_the_same_page_has_the_same_etag_on_every_server_and_revalidates_across_them(cluster):
    a, b = cluster["servers"]["a"], cluster["servers"]["b"]
    (case_id,) = one(cluster["primary"], "select case_id from cases_person where name = 'Kim Kook-ki'")
    for path in (f"/cases/{case_id}/", "/cases/", "/ko/cases/", f"/api/cases/{case_id}/"):
        first, second = fetch(f"{a}{path}"), fetch(f"{b}{path}")
        assert first.status_code == second.status_code == 200, path
        assert first.headers["ETag"] and first.headers["ETag"] == second.headers["ETag"], path
        again = fetch(f"{b}{path}", headers={"If-None-Match": first.headers["ETag"]})
        assert again.status_code == 304, path
        through = fetch(f"{cluster['url']}{path}", headers={"If-None-Match": first.headers["ETag"]})
        assert through.status_code == 304, path


def test_a_conflicting_edit_across_servers_is_refused(cluster, staff):
    a, b = cluster["servers"]["a"], cluster["servers"]["b"]
    (person_id,) = one(cluster["primary"], "select id from cases_person where name = 'Choi Chun-gil'")
    url = f"/admin/cases/person/{person_id}/change/"
    on_a, on_b = staff.get(f"{a}{url}"), staff.get(f"{b}{url}")
    first = staff.post(f"{a}{url}", data=form_of(on_a, "", religion="Saved on server A"))
    assert first.status_code == 200 and "/change/" not in first.url, problems(first)
    second = staff.post(f"{b}{url}", data=form_of(on_b, "", religion="Saved on server B"))
    assert "Someone else saved this person while you were editing it" in text(second)
    (religion,) = one(cluster["primary"], "select religion from cases_person where id = %s", person_id)
    assert religion == "Saved on server A"


def test_a_redaction_on_one_server_is_served_by_the_other_at_once_whatever_the_replica(cluster, staff):
    """The case page is cached in Redis and the replica's replay is paused: server B must still not show the name."""
    a, b = cluster["servers"]["a"], cluster["servers"]["b"]
    person_id, case_id, name = one(
        cluster["primary"],
        "select id, case_id, name from cases_person where not reprisal_risk and name <> ''"
        " and id in (select person_id from workflow_publishedversion) order by id limit 1",
    )
    surfaces = [f"/cases/{case_id}/", f"/api/cases/{case_id}/", f"/cases/?q={name}", f"/ko/cases/{case_id}/"]
    for path in surfaces:
        assert f"/cases/{case_id}/" in text(fetch(f"{b}{path}")), path

    with psycopg.connect(cluster["replica"], autocommit=True) as replica:
        replica.execute("select pg_wal_replay_pause()")
        try:
            url = f"/admin/cases/person/{person_id}/change/"
            page = staff.get(f"{a}{url}")
            flagged = staff.post(f"{a}{url}", data=form_of(page, "", reprisal_risk="on", pseudonym="Missionary B"))
            assert flagged.status_code == 200 and "/change/" not in flagged.url, problems(flagged)
            # The replica has not seen the redaction: it still holds the name.
            (on_replica,) = one(cluster["replica"], "select reprisal_risk from cases_person where id = %s", person_id)
            assert on_replica is False
            for server in (b, cluster["url"]):
                for path in surfaces:
                    served = text(fetch(f"{server}{path}"))
                    if "?q=" in path:  # the search says what was typed, and finds nothing under that name
                        assert f"/cases/{case_id}/" not in served, (server, path)
                        continue
                    assert name not in served, (server, path)
                    assert "Missionary B" in served, (server, path)
        finally:
            replica.execute("select pg_wal_replay_resume()")


def test_public_pages_are_read_from_the_replica_once_it_has_caught_up(cluster):
    (target,) = one(cluster["primary"], "select pg_current_wal_lsn()::text")
    deadline = time.monotonic() + 30
    while not one(cluster["replica"], "select pg_last_wal_replay_lsn() >= %s::pg_lsn", target)[0]:
        assert time.monotonic() < deadline, "the replica did not catch up within 30 s"
        time.sleep(0.2)
    b = cluster["servers"]["b"]
    for attempt in range(5):  # two workers: each reads a search nobody made before
        assert fetch(f"{b}/cases/?q=replica-{uuid.uuid4().hex[:8]}-{attempt}").status_code == 200
    with psycopg.connect(cluster["replica"]) as replica:
        last = [
            query
            for (query,) in replica.execute(
                "select query from pg_stat_activity where backend_type = 'client backend' and pid <> pg_backend_pid()"
            )
        ]
    # The app servers' connections to the replica ran more than the generation check: the pages' own reads.
    assert any(query and "workflow_publicgeneration" not in query for query in last), last
