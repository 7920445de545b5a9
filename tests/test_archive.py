"""Captures of sources' pages: asked for on save and on demand, made by the worker, retried, checked again.

Every fetch goes to the tests' own server on 127.0.0.1 (tests/webserver.py),
which only ``ARCHIVE_ALLOW_LOOPBACK`` lets through; the fetcher's own rules
(addresses, limits, the WARC) are tested in tests/test_archive_fetch.py.
"""

import hashlib
import io

import pytest
from django.core.management import call_command
from django.urls import reverse
from django_tasks_db.models import DBTaskResult
from warcio.archiveiterator import ArchiveIterator

from archive.jobs import request_capture, request_check, schedule_link_checks, sources_due_a_check
from archive.models import ArchiveJob, Capture, JobKind, JobState, LinkCheck, LinkOutcome
from cases.models import Status
from sources.files import StoredFileDamaged
from sources.models import Source

from .factories import admin_form_data, make_citation, make_event, make_person, make_source, make_staff, restore_roles
from .webserver import PAGE, PDF

pytestmark = [pytest.mark.usefixtures("upload_storage")]


@pytest.fixture(autouse=True)
def _fetch_from_the_test_server(settings):
    settings.ARCHIVE_ALLOW_LOOPBACK = True
    settings.ARCHIVE_RETRY_SECONDS = 0  # a retry is due at once, so one batch of the worker sees it
    settings.ARCHIVE_TIMEOUT_SECONDS = 2


@pytest.fixture(autouse=True)
def _roles(request):
    """The roles' groups, which a transactional test before this one may have flushed with the data."""
    if request.node.get_closest_marker("django_db") is not None:
        restore_roles()


def work() -> None:
    """The worker, as `make worker` runs it, until the queue has nothing ready."""
    call_command("archive_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read(stored) -> bytes:
    with stored.storage.open(stored.name, "rb") as handle:
        return handle.read()


@pytest.mark.django_db(transaction=True)
def test_a_source_saved_by_a_researcher_is_captured_by_the_worker(client, web_server):
    researcher = make_staff("Researcher")
    client.force_login(researcher)
    add = reverse("admin:sources_source_add")
    data = admin_form_data(client.get(add), title="Report on the camp", url=web_server.url("/page.html"))
    response = client.post(add, data)
    assert response.status_code == 302, response.context and response.context.get("errors")
    source = Source.objects.get(title="Report on the camp")
    job = ArchiveJob.objects.get(source=source)
    assert (job.kind, job.state, job.requested_by) == (JobKind.CAPTURE, JobState.QUEUED, researcher)
    assert DBTaskResult.objects.filter(status="READY").exists()

    work()

    job.refresh_from_db()
    assert (job.state, job.attempts, job.last_error) == (JobState.DONE, 1, "")
    capture = Capture.objects.get(source=source)
    assert job.capture == capture
    assert capture.http_status == 200
    assert capture.final_url == web_server.url("/page.html")
    assert capture.content_type == "text/html"
    assert capture.requested_by == researcher
    assert capture.tool.startswith("Whereabouts")
    body, warc = read(capture.body), read(capture.warc)
    assert body == PAGE and capture.body_sha256 == sha256(PAGE) and capture.body_size == len(PAGE)
    assert capture.warc_sha256 == sha256(warc) and capture.warc_size == len(warc)
    records = list(ArchiveIterator(io.BytesIO(warc)))
    responses = [record for record in records if record.rec_type == "response"]
    assert [record.rec_headers.get_header("WARC-Target-URI") for record in responses] == [capture.final_url]
    assert capture.history.count() == 1  # a new record, with its history


@pytest.mark.django_db(transaction=True)
def test_a_failing_page_is_retried_until_it_answers(web_server):
    web_server.set_flaky(2)  # two 503s, then the page
    source = make_source(url=web_server.url("/flaky"))
    work()
    job = ArchiveJob.objects.get(source=source)
    # A 503 is a server error worth another try; the page that finally came is kept, once.
    assert (job.state, job.attempts) == (JobState.DONE, 3)
    assert Capture.objects.filter(source=source).count() == 1
    assert web_server.hits["/flaky"] == 3


@pytest.mark.django_db(transaction=True)
def test_a_page_that_never_answers_fails_after_the_last_attempt_with_the_reason(settings, web_server):
    settings.ARCHIVE_ATTEMPTS = 2
    settings.ARCHIVE_TIMEOUT_SECONDS = 1
    source = make_source(url=web_server.url("/slow"))
    work()
    job = ArchiveJob.objects.get(source=source)
    assert (job.state, job.attempts) == (JobState.FAILED, 2)
    assert "did not arrive within 1 second" in job.last_error
    assert not Capture.objects.filter(source=source).exists()


@pytest.mark.django_db(transaction=True)
def test_retries_wait_longer_each_time(settings, web_server):
    settings.ARCHIVE_RETRY_SECONDS = 60
    web_server.set_flaky(5, drop=True)
    source = make_source(url=web_server.url("/flaky"))
    work()  # one attempt; the next is due in a minute, so the batch ends
    job = ArchiveJob.objects.get(source=source)
    assert (job.state, job.attempts) == (JobState.QUEUED, 1)
    assert 55 <= (job.next_attempt_at - job.updated_at).total_seconds() <= 61
    assert job.last_error
    job.attempts = 3
    assert job.retry_delay().total_seconds() == 60 * 16


@pytest.mark.django_db(transaction=True)
def test_a_private_address_is_refused_at_once_without_retrying(settings, web_server):
    settings.ARCHIVE_ALLOW_LOOPBACK = False
    source = make_source(url=web_server.url("/page.html"))
    work()
    job = ArchiveJob.objects.get(source=source)
    assert (job.state, job.attempts) == (JobState.FAILED, 1)
    assert "not an address on the public internet" in job.last_error
    assert web_server.hits["/page.html"] == 0
    assert not Capture.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_404_is_captured_as_what_the_server_said(web_server):
    source = make_source(url=web_server.url("/missing"))
    work()
    capture = Capture.objects.get(source=source)
    assert capture.http_status == 404
    assert not capture.is_complete
    assert not Capture.objects.complete().filter(pk=capture.pk).exists()


@pytest.mark.django_db
def test_saving_without_changing_the_url_asks_no_new_capture(web_server):
    source = make_source(url=web_server.url("/page.html"))
    assert ArchiveJob.objects.filter(source=source).count() == 1
    ArchiveJob.objects.update(state=JobState.DONE)
    source = Source.objects.get(pk=source.pk)
    source.title = "Retitled"
    source.save()
    assert ArchiveJob.objects.filter(source=source).count() == 1
    source.url = web_server.url("/doc.pdf")
    source.save()
    assert ArchiveJob.objects.filter(source=source).count() == 2
    # A capture already waiting is not asked twice.
    assert request_capture(source) is None
    assert make_source(url="").archive_jobs.count() == 0


@pytest.mark.django_db(transaction=True)
def test_link_check_records_a_changed_page_and_captures_it_again(client, web_server):
    source = make_source(url=web_server.url("/changing"))
    person = make_person(name="Kim Chol-su")
    make_citation(source, status_event=make_event(person, Status.DETAINED, "2019"))
    work()
    first = Capture.objects.get(source=source)

    request_check(source)
    work()
    unchanged = LinkCheck.objects.get(source=source)
    assert (unchanged.outcome, unchanged.capture, unchanged.body_sha256) == (LinkOutcome.ALIVE, None, first.body_sha256)

    web_server.set("/changing", b"<html><body>Second version, edited</body></html>")
    request_check(source)
    work()
    changed = LinkCheck.objects.order_by("-checked_at", "-pk").first()
    assert changed.outcome == LinkOutcome.CHANGED
    assert changed.previous_sha256 == first.body_sha256
    assert changed.body_sha256 == sha256(b"<html><body>Second version, edited</body></html>")
    assert changed.capture is not None and changed.capture != first
    assert Capture.objects.filter(source=source).count() == 2  # the first capture is kept, never overwritten
    assert read(first.body) == b"<html><body>First version</body></html>"

    editor = make_staff("Editor")
    client.force_login(editor)
    page = client.get(reverse("workflow:dashboard")).content.decode()
    assert "Dead or changed sources (1)" in page
    assert reverse("admin:sources_source_change", args=[source.pk]) in page
    assert person.case_id in page


@pytest.mark.django_db(transaction=True)
def test_a_dead_link_is_listed_on_the_dashboard(client, web_server):
    source = make_source(title="Vanished report", url=web_server.url("/changing"))
    make_citation(source, person=make_person(name="Ri Yong-ho"))
    work()
    web_server.set("/changing", b"gone", status=410)
    request_check(source)
    work()
    check = LinkCheck.objects.get(source=source)
    assert (check.outcome, check.http_status) == (LinkOutcome.DEAD, 410)
    client.force_login(make_staff("Researcher"))
    page = client.get(reverse("workflow:dashboard")).content.decode()
    assert "Vanished report" in page and "HTTP 410" in page


@pytest.mark.django_db(transaction=True)
def test_an_unreachable_link_is_recorded_after_its_attempts(settings, web_server):
    settings.ARCHIVE_ATTEMPTS = 1
    source = make_source(url=web_server.url("/page.html"))
    make_citation(source, person=make_person())
    work()
    web_server.set_flaky(3, drop=True)
    source.url = web_server.url("/flaky")
    Source.objects.filter(pk=source.pk).update(url=source.url)  # a new address, without asking a capture
    request_check(source)
    work()
    check = LinkCheck.objects.get(source=source)
    assert check.outcome == LinkOutcome.UNREACHABLE and "interrupted" in check.detail
    assert list(LinkCheck.objects.troubled()) == [check]


@pytest.mark.django_db
def test_the_round_asks_a_check_of_cited_sources_not_checked_lately(settings, web_server):
    settings.ARCHIVE_ON_SAVE = False
    cited = make_source(url=web_server.url("/page.html"))
    make_citation(cited, person=make_person())
    make_source(url=web_server.url("/doc.pdf"))  # cited by nothing
    checked = make_source(url=web_server.url("/changing"))
    make_citation(checked, person=make_person())
    LinkCheck.objects.create(source=checked, url=checked.url, outcome=LinkOutcome.ALIVE)
    assert schedule_link_checks.call() == 1
    assert list(ArchiveJob.objects.values_list("source", "kind")) == [(cited.pk, JobKind.CHECK)]
    # Asked once: the next round does not ask again while the check waits.
    schedule_link_checks.call()
    assert ArchiveJob.objects.count() == 1
    # The round puts itself back on the queue, an hour later.
    assert DBTaskResult.objects.filter(task_path="archive.jobs.schedule_link_checks", status="READY").count() == 2
    from django.utils import timezone

    assert not sources_due_a_check(timezone.now()).exists()


@pytest.mark.django_db(transaction=True)
def test_the_command_captures_every_source_not_yet_captured(settings, web_server, capsys):
    settings.ARCHIVE_ON_SAVE = False
    pages = [make_source(url=web_server.url(path)) for path in ("/page.html", "/doc.pdf", "/missing")]
    make_source(url="")
    refused = make_source(url="http://10.1.2.3/report")
    call_command("archive_sources", "--quiet")
    out, err = capsys.readouterr()
    assert "4 source(s) with a URL: 3 captured, 0 left to the worker, 1 failed." in out
    assert f"Source {refused.pk}" in err and "not an address on the public internet" in err
    assert {capture.source_id for capture in Capture.objects.all()} == {source.pk for source in pages}
    assert Capture.objects.get(source=pages[1]).body_sha256 == sha256(PDF)
    # Again: nothing new to capture, unless every source is asked again.
    call_command("archive_sources", "--quiet")
    assert Capture.objects.count() == 3
    call_command("archive_sources", "--quiet", "--all")
    assert Capture.objects.count() == 6
    call_command("archive_sources", "--quiet", "--queue")
    assert ArchiveJob.objects.filter(state=JobState.QUEUED, source=refused).count() == 1


@pytest.mark.django_db(transaction=True)
def test_staff_download_a_capture_as_an_attachment_checked_against_its_hash(client, web_server):
    source = make_source(url=web_server.url("/page.html"))
    work()
    capture = Capture.objects.get(source=source)
    client.force_login(make_staff("Researcher"))
    copy = client.get(reverse("archive:download", args=[capture.pk, "copy"]))
    assert copy.status_code == 200
    assert b"".join(copy.streaming_content) == PAGE
    assert copy["Content-Disposition"].startswith("attachment;")
    assert copy["Content-Security-Policy"] == "sandbox; default-src 'none'"
    assert copy["X-Content-Type-Options"] == "nosniff"
    warc = client.get(reverse("archive:download", args=[capture.pk, "warc"]))
    assert warc["Content-Type"] == "application/warc"
    assert sha256(b"".join(warc.streaming_content)) == capture.warc_sha256
    assert client.get(reverse("archive:download", args=[capture.pk, "other"])).status_code == 404
    # A damaged copy is refused, and said to be damaged.
    with capture.body.storage.open(capture.body.name, "wb") as handle:
        handle.write(PAGE[:-1] + b"!")
    refused = client.get(reverse("archive:download", args=[capture.pk, "copy"]))
    assert refused.status_code == 409 and b"may be damaged" in refused.content


@pytest.mark.django_db
def test_only_those_allowed_download_captures_or_ask_for_one(client, web_server):
    source = make_source(url=web_server.url("/page.html"))
    capture_url = reverse("archive:download", args=[1, "copy"])
    assert client.get(capture_url).status_code == 302  # to the sign-in page
    client.force_login(make_staff("Caseworker"))
    assert client.get(capture_url).status_code == 403
    assert client.post(reverse("archive:capture_now", args=[source.pk])).status_code == 403
    client.force_login(make_staff("Researcher"))
    jobs = ArchiveJob.objects.count()
    asking = client.get(reverse("archive:capture_now", args=[source.pk]))
    assert asking.status_code == 200 and source.url in asking.content.decode()
    assert ArchiveJob.objects.count() == jobs  # the page asks; only its button does
    ArchiveJob.objects.update(state=JobState.DONE)
    response = client.post(reverse("archive:capture_now", args=[source.pk]))
    assert response.status_code == 302
    assert ArchiveJob.objects.filter(source=source, state=JobState.QUEUED).count() == 1
    page = client.get(reverse("admin:sources_source_change", args=[source.pk])).content.decode()
    assert "A capture is waiting for the worker." in page
    assert reverse("archive:capture_now", args=[source.pk]) in page


@pytest.mark.django_db(transaction=True)
def test_a_job_left_running_by_a_worker_that_stopped_is_run_again(settings, web_server):
    settings.ARCHIVE_ON_SAVE = False
    source = make_source(url=web_server.url("/page.html"))
    job = ArchiveJob.objects.create(source=source, state=JobState.RUNNING, attempts=1)
    ArchiveJob.objects.filter(pk=job.pk).update(updated_at=job.updated_at.replace(year=2020))
    work()
    job.refresh_from_db()
    assert (job.state, job.attempts) == (JobState.DONE, 2)
    assert Capture.objects.filter(source=source).count() == 1


@pytest.mark.django_db
def test_jobs_and_link_checks_are_listed_for_staff_and_never_written_by_hand(client, settings):
    settings.ARCHIVE_ON_SAVE = False
    source = make_source(url="https://example.org/report")
    ArchiveJob.objects.create(source=source, state=JobState.FAILED, attempts=5, last_error="The name was not found")
    LinkCheck.objects.create(source=source, url=source.url, outcome=LinkOutcome.DEAD, http_status=404)
    client.force_login(make_staff("Researcher"))
    jobs = client.get(reverse("admin:archive_archivejob_changelist"))
    assert jobs.status_code == 200 and "The name was not found" in jobs.content.decode()
    assert client.get(reverse("admin:archive_linkcheck_changelist")).status_code == 200
    assert client.get(reverse("admin:archive_archivejob_add")).status_code == 403
    assert client.get(reverse("admin:archive_capture_add")).status_code == 403


@pytest.mark.django_db
def test_an_import_asks_a_capture_of_each_new_source_with_a_url(tmp_path, web_server):
    path = tmp_path / "cases.csv"
    path.write_text(
        "name,status,status_date,source_title,source_url\n"
        f"Kim Ok-sun,arrested,2019-03,Report on Onsong,{web_server.url('/page.html')}\n"
        "Pak Chol,detained,2020,A report with no address,\n",
        encoding="utf-8",
    )
    call_command("import_cases", str(path), "--no-progress", stdout=io.StringIO())
    with_url = Source.objects.get(title="Report on Onsong")
    assert list(ArchiveJob.objects.values_list("source", "kind", "state")) == [
        (with_url.pk, JobKind.CAPTURE, JobState.QUEUED)
    ]
    assert DBTaskResult.objects.filter(task_path="archive.jobs.run_job").count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_capture_that_does_not_read_back_whole_is_not_recorded(monkeypatch, web_server):
    import archive.jobs

    def lost(stored, size, sha256):
        raise StoredFileDamaged(stored.name, sha256, "")  # a store that did not keep it whole

    monkeypatch.setattr(archive.jobs, "checked_copy", lost)
    source = make_source(url=web_server.url("/page.html"))
    with pytest.raises(StoredFileDamaged, match="does not match its recorded SHA-256"):
        archive.jobs.run_job.call(ArchiveJob.objects.get(source=source).pk)
    job = ArchiveJob.objects.get(source=source)
    assert job.state == JobState.FAILED and "could not be stored" in job.last_error
    assert not Capture.objects.exists()


@pytest.mark.django_db
def test_a_capture_page_shows_its_record_and_its_files(client, settings):
    from .factories import make_capture

    settings.ARCHIVE_ON_SAVE = False
    capture = make_capture(make_source(url="https://example.org/report"))
    for role in ("Researcher", "Editor"):
        client.force_login(make_staff(role, username=role.lower()))
        page = client.get(reverse("admin:archive_capture_change", args=[capture.pk]))
        assert page.status_code == 200
        text = page.content.decode()
        assert capture.body_sha256 in text and reverse("archive:download", args=[capture.pk, "warc"]) in text
    source_page = client.get(reverse("admin:sources_source_change", args=[capture.source_id])).content.decode()
    assert reverse("archive:download", args=[capture.pk, "copy"]) in source_page


@pytest.mark.django_db
def test_a_job_that_stopped_its_worker_too_often_fails_instead_of_running_again(settings):
    from archive.jobs import interrupted_after, recover_interrupted

    settings.ARCHIVE_ON_SAVE = False
    source = make_source(url="https://example.org/report")
    job = ArchiveJob.objects.create(source=source, state=JobState.RUNNING, attempts=settings.ARCHIVE_ATTEMPTS)
    ArchiveJob.objects.filter(pk=job.pk).update(updated_at=job.updated_at.replace(year=2020))
    assert recover_interrupted(interrupted_after()) == 0
    job.refresh_from_db()
    assert job.state == JobState.FAILED and "worker stopped" in job.last_error
    # Failed, it no longer stands in the way of a new capture.
    assert request_capture(source) is not None


@pytest.mark.django_db
def test_a_capture_asked_by_someone_goes_before_the_rounds_link_checks(settings):
    settings.ARCHIVE_ON_SAVE = False
    source = make_source(url="https://example.org/report")
    request_check(source)
    request_capture(source)
    priorities = dict(DBTaskResult.objects.values_list("args_kwargs__args__0", "priority"))
    capture, check = (ArchiveJob.objects.get(kind=kind).pk for kind in (JobKind.CAPTURE, JobKind.CHECK))
    assert priorities[capture] > priorities[check]


@pytest.mark.django_db(transaction=True)
def test_the_command_runs_a_capture_already_waiting_on_the_queue(web_server):
    source = make_source(url=web_server.url("/page.html"))  # its save asked a capture
    waiting = ArchiveJob.objects.get(source=source)
    call_command("archive_sources", "--quiet", stdout=io.StringIO())
    waiting.refresh_from_db()
    assert waiting.state == JobState.DONE and Capture.objects.filter(source=source).count() == 1
    assert ArchiveJob.objects.filter(source=source).count() == 1
    work()  # the queue's task finds it done
    assert Capture.objects.filter(source=source).count() == 1
