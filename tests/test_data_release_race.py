"""A data release never keeps a case withdrawn while it was being begun: the release waits for the withdrawal's
transaction (PublicGeneration.lock), then reads the records as they are after it, or is withdrawn with it."""

import datetime
import threading

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from cases.models import Person
from public.releases import build_after_change, build_release
from workflow.models import DataRelease, PublicGeneration
from workflow.services import withdraw

from .conftest import in_thread, postgresql_only
from .factories import make_publishable_case, publish_case


@pytest.fixture(autouse=True)
def storage(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {**settings.STORAGES["default"], "OPTIONS": {"location": str(tmp_path / "media")}},
    }


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_release_begun_during_a_withdrawal_waits_for_it_and_leaves_the_case_out():
    kept = publish_case(make_publishable_case(name="Kim Kept"))
    gone = publish_case(make_publishable_case(name="Lee Withdrawn"))
    withdrawing, finish = threading.Event(), threading.Event()
    built, errors = {}, []

    def editor():
        # The editor's request: the withdrawal is written, the request goes on, then commits.
        with transaction.atomic():
            withdraw(Person.objects.get(pk=gone.pk), by=None, reason="consent withdrawn")
            withdrawing.set()
            finish.wait(10)

    def nightly_build():
        withdrawing.wait(10)
        built["release"] = build_release()

    threads = [in_thread(editor, errors), in_thread(nightly_build, errors)]
    for thread in threads:
        thread.start()
    withdrawing.wait(10)
    threads[1].join(timeout=1)
    waited = threads[1].is_alive()  # the build waits for the withdrawal's transaction
    finish.set()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    assert waited
    release = DataRelease.objects.get(pk=built["release"].pk)
    assert release.withdrawn_at is None and release.built_at is not None
    with default_storage.open(release.file("cases.csv")["path"]) as handle:
        cases = handle.read().decode("utf-8-sig")
    assert kept.case_id in cases and gone.case_id not in cases


@pytest.mark.django_db
def test_a_release_abandoned_half_way_is_marked_failed_and_no_longer_holds_back_a_new_one(settings, tmp_path):
    """A build whose process stopped (a worker killed for its time) leaves an unfinished row and some files: the
    next build marks it failed, deletes its files, and is made."""
    settings.DATA_RELEASE_AFTER_PUBLICATION = True
    publish_case(make_publishable_case(name="Kim Kept"))
    built = build_release()
    stale = DataRelease.objects.create(number=built.number + 1, generation=built.generation + 1, licence="CC-BY-4.0")
    default_storage.save(stale.folder + "cases.csv", ContentFile(b"half"))
    DataRelease.objects.filter(pk=stale.pk).update(created_at=timezone.now() - datetime.timedelta(hours=3))
    PublicGeneration.advance()
    build_after_change()
    stale.refresh_from_db()
    assert stale.withdrawn_reason == DataRelease.Withdrawal.BUILD_FAILED and stale.built_at is None
    assert not default_storage.exists(stale.folder + "cases.csv")
    newest = DataRelease.objects.available().first()
    assert newest.number > stale.number and newest.built_at is not None
    assert DataRelease.objects.listed().values_list("number", flat=True).first() == newest.number
    # A build still within its time is left alone.
    running = DataRelease.objects.create(number=newest.number + 1, licence="CC-BY-4.0")
    build_release()
    running.refresh_from_db()
    assert running.withdrawn_at is None
