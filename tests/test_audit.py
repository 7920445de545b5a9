"""The security audit: one event per action, with who, what, when and from where; never a secret."""

import base64
import datetime
import io
import json
import logging

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from security.models import AuditEvent
from workflow import services

from .factories import (
    admin_form_data,
    make_person,
    make_publishable_case,
    make_source,
    make_staff,
    make_user,
    publish_case,
    signed_in,
)

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-test-password"  # what conftest.make_user gives every user
ADDRESS = "192.0.2.44"


@pytest.fixture(autouse=True)
def _setup(settings, tmp_path):
    location = tmp_path / "uploads"
    location.mkdir()
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(location)}},
    }
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def audited_admin(admin_user):
    client = signed_in(admin_user, REMOTE_ADDR=ADDRESS)
    AuditEvent.objects.all().delete()  # force_login's own sign-in event is not what these tests are about
    return client


def only_event(**filters) -> AuditEvent:
    """The one audit event there is, which must match ``filters``."""
    events = list(AuditEvent.objects.all())
    assert len(events) == 1, [(event.action, event.username, event.target) for event in events]
    event = events[0]
    for name, value in filters.items():
        assert getattr(event, name) == value, (name, getattr(event, name), value)
    return event


def assert_recent(event: AuditEvent) -> None:
    assert timezone.now() - datetime.timedelta(minutes=1) <= event.at <= timezone.now()


def sign_in(username: str, password: str, ip: str = ADDRESS, client=None):
    client = client or Client()
    return client.post("/admin/login/", {"username": username, "password": password}, REMOTE_ADDR=ip)


# --- Sign-in events ----------------------------------------------------------------------------


def test_a_login_is_audited(db):
    user = make_user("signer", is_staff=True)
    response = sign_in("signer", PASSWORD)
    assert response.status_code == 302
    event = only_event(action="login", actor=user, username="signer", ip_address=ADDRESS)
    assert_recent(event)


def test_a_failed_login_of_a_known_user_is_audited_with_the_username(db):
    make_user("signer", is_staff=True)
    assert sign_in("signer", "not-the-password").status_code == 200
    event = only_event(action="login_failed", actor=None, username="signer", ip_address=ADDRESS)
    assert_recent(event)


def test_a_failed_login_of_an_unknown_user_keeps_the_typed_username(db):
    assert sign_in("no-such-person", "whatever-password").status_code == 200
    only_event(action="login_failed", actor=None, username="no-such-person", ip_address=ADDRESS)


def test_a_logout_is_audited(db):
    user = make_user("signer", is_staff=True)
    client = Client(REMOTE_ADDR=ADDRESS)
    sign_in("signer", PASSWORD, client=client)
    AuditEvent.objects.all().delete()
    response = client.post("/admin/logout/")
    assert response.status_code == 200
    only_event(action="logout", actor=user, username="signer", ip_address=ADDRESS)


def test_a_logout_without_a_session_records_nothing(db):
    Client().post("/admin/logout/")
    assert not AuditEvent.objects.exists()


def test_a_lockout_is_audited_once(db):
    make_user("signer", is_staff=True)
    for _ in range(5):
        sign_in("signer", "not-the-password")
    lockouts = AuditEvent.objects.filter(action="lockout")
    assert lockouts.count() == 1
    lockout = lockouts.get()
    assert (lockout.username, lockout.ip_address, lockout.actor) == ("signer", ADDRESS, None)
    assert_recent(lockout)
    assert AuditEvent.objects.filter(action="login_failed").count() == 5
    assert AuditEvent.objects.count() == 6


# --- Roles and accounts -------------------------------------------------------------------------


def test_a_role_change_is_audited(db):
    user = make_staff("Editor", "newcomer")
    event = only_event(action="role_changed", target="newcomer")
    assert event.details == {"change": "add", "roles": ["Editor"]}
    assert_recent(event)

    AuditEvent.objects.all().delete()
    user.groups.remove(Group.objects.get(name="Editor"))
    assert only_event(action="role_changed").details == {"change": "remove", "roles": ["Editor"]}

    AuditEvent.objects.all().delete()
    user.groups.add(Group.objects.get(name="Caseworker"))
    user.groups.clear()
    assert AuditEvent.objects.filter(action="role_changed", details__change="clear").count() == 1


def test_adding_a_group_to_a_user_from_the_group_side_is_audited(db):
    user = make_user("newcomer", is_staff=True)
    Group.objects.get(name="Editor").user_set.add(user)
    only_event(action="role_changed", target="newcomer")


def _change_user_in_admin(audited_admin, user, **changes):
    page = audited_admin.get(f"/admin/auth/user/{user.pk}/change/")
    assert page.status_code == 200
    data = admin_form_data(page, **changes)
    joined = user.date_joined
    data.pop("date_joined", None)
    data.update(date_joined_0=f"{joined:%Y-%m-%d}", date_joined_1=f"{joined:%H:%M:%S}")
    data.pop("last_login", None)
    response = audited_admin.post(f"/admin/auth/user/{user.pk}/change/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    return response


def test_a_role_change_in_the_admin_is_audited_once(audited_admin):
    user = make_user("newcomer", is_staff=True)
    _change_user_in_admin(audited_admin, user, groups=[str(Group.objects.get(name="Editor").pk)])
    assert list(user.groups.values_list("name", flat=True)) == ["Editor"]
    event = only_event(action="role_changed", target="newcomer")
    assert event.details == {"change": "add", "roles": ["Editor"]}
    # Who made it and from where: test_an_action_made_in_the_admin_records_who_and_from_where.


def test_an_account_change_is_audited(db):
    user = make_user("leaver", is_staff=True)
    user.is_active = False
    user.save()
    event = only_event(action="account_changed", target="leaver")
    assert event.details == {"is_active": [True, False]}
    assert_recent(event)


def test_saving_an_account_without_such_a_change_records_nothing(db):
    user = make_user("steady", is_staff=True)
    user.first_name = "Steady"
    user.save()
    assert not AuditEvent.objects.exists()


def test_deactivating_in_the_admin_is_audited_once(audited_admin):
    user = make_user("leaver", is_staff=True)
    response = audited_admin.post(
        "/admin/auth/user/", {"action": "deactivate_selected", "_selected_action": [str(user.pk)]}
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.is_active is False
    event = only_event(action="account_changed", target="leaver")
    assert event.details == {"is_active": [True, False]}


def test_making_someone_superuser_in_the_admin_is_audited(audited_admin, admin_user):
    user = make_user("climber", is_staff=True)
    _change_user_in_admin(audited_admin, user, is_superuser="on")
    user.refresh_from_db()
    assert user.is_superuser
    event = only_event(action="account_changed", target="climber")
    assert event.details == {"is_superuser": [False, True]}


# --- Publication --------------------------------------------------------------------------------


def test_publishing_is_audited(db):
    editor = make_user("editor", is_staff=True)
    person = make_publishable_case(date="2020-03", name="Kim Audit-publish")
    services.submit_for_review(person, by=make_user("caseworker", is_staff=True))
    assert not AuditEvent.objects.exists()  # submitting is not a security event
    services.publish(person, by=editor)
    event = only_event(action="published", actor=editor, username="editor", target=f"{person.case_id} v1")
    assert_recent(event)
    assert "Kim" not in json.dumps(event.details)


def test_withdrawing_is_audited(db):
    editor = make_user("editor", is_staff=True)
    person = publish_case(make_publishable_case(date="2020-03", name="Kim Audit-withdraw"))
    AuditEvent.objects.all().delete()
    services.withdraw(person, by=editor, reason="the family asked")
    event = only_event(action="withdrawn", actor=editor, username="editor", target=person.case_id)
    assert event.details == {"reason": "the family asked"}
    assert_recent(event)


def test_a_refused_publication_is_not_audited_as_published(db):
    person = make_person(name="Kim Not-ready")
    with pytest.raises(services.WorkflowError):
        services.publish(person, by=make_user("editor", is_staff=True))
    assert not AuditEvent.objects.exists()


# --- Sources ------------------------------------------------------------------------------------


def _change_source_in_admin(audited_admin, source, **changes):
    page = audited_admin.get(f"/admin/sources/source/{source.pk}/change/")
    data = admin_form_data(page, **changes)
    data.pop("is_restricted", None) if changes.get("is_restricted") is None else None
    data = {key: value for key, value in data.items() if value is not None}
    response = audited_admin.post(f"/admin/sources/source/{source.pk}/change/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    source.refresh_from_db()


def test_restricting_a_source_in_the_admin_is_audited(audited_admin, admin_user):
    source = make_source(title="Testimony of a neighbour", is_restricted=False, publisher="NGO")
    _change_source_in_admin(audited_admin, source, is_restricted="on")
    assert source.is_restricted is True
    event = only_event(action="restriction_changed", target=f"source {source.pk}", actor=admin_user)
    assert event.details == {"restricted": True}
    assert_recent(event)


def test_lifting_a_restriction_in_the_admin_is_audited(audited_admin, admin_user):
    source = make_source(title="Testimony of a neighbour", is_restricted=True, publisher="NGO")
    _change_source_in_admin(audited_admin, source, is_restricted=None)
    assert source.is_restricted is False
    event = only_event(action="restriction_changed", actor=admin_user)
    assert event.details == {"restricted": False}


def test_editing_a_source_without_changing_its_restriction_records_nothing(audited_admin):
    source = make_source(title="A report", is_restricted=False, publisher="NGO")
    _change_source_in_admin(audited_admin, source, title="A report (2nd edition)", is_restricted=None)
    assert source.title == "A report (2nd edition)"
    assert not AuditEvent.objects.exists()


def test_a_document_download_is_audited(audited_admin, admin_user):
    source = make_source(title="Testimony", document=ContentFile(b"%PDF-1.4 testimony", name="t.pdf"))
    response = audited_admin.get(f"/staff/sources/{source.pk}/document")
    assert response.status_code == 200
    b"".join(response.streaming_content)  # read to the end, which closes the file
    event = only_event(action="document_downloaded", actor=admin_user, ip_address=ADDRESS, target=f"source {source.pk}")
    assert_recent(event)


def test_a_refused_download_is_not_audited_as_a_download(client):
    source = make_source(title="Testimony", document=ContentFile(b"%PDF-1.4 testimony", name="t.pdf"))
    caseworker = make_staff("Caseworker", "caseworker")
    client.force_login(caseworker)
    assert client.get(f"/staff/sources/{source.pk}/document").status_code == 403
    assert not AuditEvent.objects.filter(action="document_downloaded").exists()


# --- Backup and purge ----------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_backup_is_audited(tmp_path):
    # transaction=True: the backup reads committed data, as the command does outside any transaction.
    call_command("backup", str(tmp_path / "backup.tar.gz"), stdout=io.StringIO())
    event = only_event(action="backup", target="backup.tar.gz")
    assert_recent(event)


def test_a_purge_is_audited(db):
    administrator = make_staff("Administrator", "chief")
    person = make_person(name="Kim Purge-audit")
    AuditEvent.objects.all().delete()
    call_command(
        "purge_case", person.case_id, reason="family request", confirm=person.case_id, by="chief", stdout=io.StringIO()
    )
    event = only_event(action="purged", actor=administrator, username="chief", target=person.case_id)
    assert event.details["reason"] == "family request"
    assert_recent(event)


# --- From where: actions made in a browser record its address --------------------------------------


def _role_change(audited_admin, admin_user):
    user = make_user("newcomer", is_staff=True)
    _change_user_in_admin(audited_admin, user, groups=[str(Group.objects.get(name="Editor").pk)])
    return "role_changed"


def _account_change(audited_admin, admin_user):
    user = make_user("leaver", is_staff=True)
    audited_admin.post("/admin/auth/user/", {"action": "deactivate_selected", "_selected_action": [str(user.pk)]})
    return "account_changed"


def _restriction_change(audited_admin, admin_user):
    source = make_source(title="Testimony", is_restricted=False, publisher="NGO")
    _change_source_in_admin(audited_admin, source, is_restricted="on")
    return "restriction_changed"


def _publish_button(audited_admin, admin_user, settings):
    settings.WORKFLOW_ALLOW_SELF_PUBLISH = True
    person = make_publishable_case(date="2020-03", name="Kim Button-publish")
    services.submit_for_review(person, by=admin_user)
    AuditEvent.objects.all().delete()
    response = audited_admin.post(f"/admin/cases/person/{person.pk}/workflow/publish/")
    assert response.status_code == 302
    return "published"


def _withdraw_button(audited_admin, admin_user, settings):
    person = publish_case(make_publishable_case(date="2020-03", name="Kim Button-withdraw"))
    AuditEvent.objects.all().delete()
    response = audited_admin.post(f"/admin/cases/person/{person.pk}/workflow/withdraw/", {"reason": "risk"})
    assert response.status_code == 302
    return "withdrawn"


@pytest.mark.parametrize(
    "action",
    [_role_change, _account_change, _restriction_change, _publish_button, _withdraw_button],
    ids=["role change", "account change", "restriction change", "publish button", "withdraw button"],
)
def test_an_action_made_in_the_admin_records_who_and_from_where(audited_admin, admin_user, settings, action):
    arguments = (audited_admin, admin_user, settings) if "button" in action.__name__ else (audited_admin, admin_user)
    expected = action(*arguments)
    event = only_event(action=expected)
    assert (event.actor, event.ip_address) == (admin_user, ADDRESS)


# --- Reading the audit ----------------------------------------------------------------------------


def test_the_audit_can_be_read_in_the_admin_and_not_changed(audited_admin):
    """README: the events are listed under *Security → Audit events*."""
    sign_in("no-such-person", "whatever-password")
    response = audited_admin.get("/admin/security/auditevent/")
    assert response.status_code == 200
    assert "no-such-person" in response.content.decode()
    event = AuditEvent.objects.get(action="login_failed")
    assert audited_admin.get("/admin/security/auditevent/add/").status_code == 403
    delete = audited_admin.post(f"/admin/security/auditevent/{event.pk}/delete/", {"post": "yes"})
    assert delete.status_code == 403
    assert AuditEvent.objects.filter(pk=event.pk).exists()


# --- Never a secret -----------------------------------------------------------------------------------


SECRET_PASSWORD = "Tr0ub4dor&3-SECRET"
WRONG_PASSWORD = "Wr0ng-Tr0ub4dor&3-SECRET"


def _all_text(caplog) -> str:
    rows = [
        *AuditEvent.objects.values(),
        *AccessAttempt.objects.values(),
        *AccessLog.objects.values(),
        *AccessFailureLog.objects.values(),
    ]
    stored = json.dumps(rows, default=str, ensure_ascii=False)
    logged = "\n".join(
        [caplog.text, *(record.getMessage() for record in caplog.records), *(repr(r.args) for r in caplog.records)]
    )
    return stored + "\n" + logged


def test_no_password_key_or_session_key_in_the_audit_or_the_logs(settings, caplog):
    caplog.set_level(logging.DEBUG)
    settings.STAFF_2FA_REQUIRED = True
    user = make_user("careful", is_staff=True)
    user.set_password(SECRET_PASSWORD)
    user.save()

    client = Client(REMOTE_ADDR=ADDRESS)
    assert sign_in("careful", WRONG_PASSWORD, client=client).status_code == 200
    assert sign_in("ghost", SECRET_PASSWORD, client=client).status_code == 200
    assert sign_in("careful", SECRET_PASSWORD, client=client).status_code == 302
    session_keys = {client.session.session_key}

    client.get("/")
    page = client.get("/staff/2fa/")
    assert page.status_code == 200
    device = TOTPDevice.objects.get(user=user)
    key_hex = device.bin_key.hex()
    key_base32 = base64.b32encode(device.bin_key).decode()
    assert key_base32 in page.content.decode()  # shown once, to the user enrolling
    client.post("/staff/2fa/", {"token": "abcdef"})  # a failed check, audited
    device.throttle_reset()
    assert client.post("/staff/2fa/", {"token": f"{totp(device.bin_key):06d}"}).status_code == 302
    session_keys.add(client.session.session_key)
    client.post("/admin/logout/")

    assert {"login", "login_failed", "otp_failed", "otp_enrolled", "otp_verified", "logout"} <= set(
        AuditEvent.objects.values_list("action", flat=True)
    )
    text = _all_text(caplog)
    for secret in [SECRET_PASSWORD, WRONG_PASSWORD, key_hex, key_hex.upper(), key_base32, *session_keys]:
        assert secret not in text, secret
    # The base32 key as some apps group it, in fours.
    assert " ".join(key_base32[i : i + 4] for i in range(0, len(key_base32), 4)) not in text


def test_secret_looking_details_are_dropped_by_record(db):
    from security.audit import record

    event = record(
        "login", username="x", password="p-1", token="t-2", otp_token="o-3", key="k-4", secret="s-5", note="kept"
    )
    assert event.details == {"note": "kept"}
