"""Two-factor staff sign-in: no staff page without a checked TOTP code, enrolment once, reset by deletion."""

import base64
import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice, default_key

from cases.models import PublicationState
from security.models import AuditEvent

from .factories import make_person, make_source, make_staff, make_superuser, make_user

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
TWO_FACTOR_URL = "/staff/2fa/"
PASSWORD = "a-long-test-password"  # what conftest.make_user gives every user


@pytest.fixture(autouse=True)
def _two_factor_required(settings):
    settings.STAFF_2FA_REQUIRED = True
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def staff(db):
    return make_superuser("staffer")


def code(device: TOTPDevice, drift: int = 0) -> str:
    """The code the authenticator app shows now (``drift`` steps of 30 s later)."""
    return f"{totp(device.bin_key, drift=drift):06d}"


def wrong_code(device: TOTPDevice) -> str:
    valid = {code(device, drift) for drift in range(-2, 3)}
    return next(candidate for candidate in ("000000", "111111", "222222") if candidate not in valid)


def shows_qr(page: str) -> bool:
    # The admin's own layout has SVG icons: the QR code is the SVG in the "qr" block.
    return re.search(r'<div class="qr">\s*(<\?xml[^>]*>\s*)?<svg', page) is not None


def device_of(user) -> TOTPDevice:
    return TOTPDevice.objects.get(user=user)


def two_factor_redirect(path: str) -> str:
    return f"{TWO_FACTOR_URL}?next={quote(path, safe='')}"


def is_verified(client) -> bool:
    return "otp_device_id" in client.session


def signed_in_with_password(user) -> Client:
    """A browser past the password, not yet past the code.

    It has made one public request already: the very first request of a
    session is tested on its own (test_an_unverified_staff_session_reaches_no_staff_url).
    """
    client = Client()
    client.force_login(user)
    client.get("/")
    return client


def verified_client(user) -> Client:
    """A browser signed in as ``user`` who has enrolled and just passed the check."""
    client = Client()
    client.force_login(user)
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)
    token = code(device)
    response = client.post(TWO_FACTOR_URL, {"token": token, "next": "/staff/"})
    assert response.status_code == 302, response.content
    assert is_verified(client)
    client.token_used = token
    return client


# --- No staff page without the check -----------------------------------------------------

STAFF_URLS = ["admin index", "admin list", "dashboard", "document download", "workflow POST", "import page"]


def _staff_urls():
    person = make_person(name="Kim Two-Factor")
    source = make_source(title="A source", document=ContentFile(b"%PDF-1.4 confidential testimony", name="t.pdf"))
    return person, {
        "admin index": ("get", "/admin/"),
        "admin list": ("get", "/admin/cases/person/"),
        "dashboard": ("get", "/staff/"),
        "document download": ("get", f"/staff/sources/{source.pk}/document"),
        "workflow POST": ("post", f"/admin/cases/person/{person.pk}/workflow/submit/"),
        "import page": ("get", "/staff/import/"),
    }


def _assert_refused(client, method, url, person):
    response = getattr(client, method)(url)
    if response.streaming:  # served after all: read it to the end, which closes the file
        b"".join(response.streaming_content)
    assert response.status_code == 302
    assert response["Location"] == two_factor_redirect(url)
    person.refresh_from_db()
    assert person.publication_state == PublicationState.DRAFT  # the POST did nothing
    assert not AuditEvent.objects.filter(action="document_downloaded").exists()


@pytest.mark.parametrize("which", STAFF_URLS)
def test_an_unverified_staff_session_reaches_no_staff_url(client, staff, upload_storage, which):
    """The very first request of a signed-in, unverified session, as right after the password."""
    person, urls = _staff_urls()
    method, url = urls[which]
    client.force_login(staff)
    _assert_refused(client, method, url, person)
    # ...and neither does the next request.
    _assert_refused(client, method, url, person)


@pytest.mark.parametrize("which", STAFF_URLS)
def test_an_unverified_staff_session_that_made_an_earlier_request_reaches_no_staff_url(
    client, staff, upload_storage, which
):
    person, urls = _staff_urls()
    method, url = urls[which]
    client.force_login(staff)
    assert client.get("/").status_code == 200  # any earlier request, here a public page
    _assert_refused(client, method, url, person)


def test_right_after_the_password_the_first_staff_page_asks_for_the_code(staff):
    """Through the real login form: the password alone must not open even one staff page."""
    client = Client()
    response = client.post("/admin/login/", {"username": "staffer", "password": PASSWORD, "next": "/admin/"})
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"] == two_factor_redirect("/admin/")


def test_an_unverified_session_keeps_its_query_string_in_next(staff):
    client = signed_in_with_password(staff)
    response = client.get("/admin/cases/person/?q=kim")
    assert response["Location"] == two_factor_redirect("/admin/cases/person/?q=kim")


def test_the_public_site_needs_no_second_factor(client, staff):
    client.force_login(staff)
    assert client.get("/").status_code == 200
    assert client.get("/cases/").status_code == 200


def test_the_login_and_logout_pages_stay_reachable(client, staff):
    assert client.get("/admin/login/").status_code == 200
    client.force_login(staff)
    assert client.get(TWO_FACTOR_URL).status_code == 200
    response = client.post("/admin/logout/")
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_the_two_factor_page_needs_a_signed_in_user(client):
    response = client.get(TWO_FACTOR_URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    assert not TOTPDevice.objects.exists()


def test_the_two_factor_page_refuses_other_methods(client, staff):
    client.force_login(staff)
    assert client.put(TWO_FACTOR_URL).status_code == 405
    assert client.delete(TWO_FACTOR_URL).status_code == 405


# --- Enrolment --------------------------------------------------------------------------------


def test_enrolment_shows_a_qr_code_and_the_key(client, staff):
    client.force_login(staff)
    response = client.get(f"{TWO_FACTOR_URL}?next=/admin/")
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("no-store") or "no-store" in response["Cache-Control"]
    device = device_of(staff)
    assert device.confirmed is False
    page = response.content.decode()
    assert shows_qr(page)
    assert base64.b32encode(device.bin_key).decode() in page
    # Visiting again shows the same key: the app scanned first still works.
    again = client.get(TWO_FACTOR_URL)
    assert base64.b32encode(device.bin_key).decode() in again.content.decode()
    assert TOTPDevice.objects.filter(user=staff).count() == 1


def test_a_wrong_code_is_refused_and_audited(client, staff):
    client.force_login(staff)
    client.get(TWO_FACTOR_URL)
    device = device_of(staff)

    response = client.post(TWO_FACTOR_URL, {"token": wrong_code(device), "next": "/admin/"})
    assert response.status_code == 200
    assert response.context["form"].errors["token"]
    device.refresh_from_db()
    assert device.confirmed is False
    assert not is_verified(client)
    assert client.get("/admin/").status_code == 302
    failed = AuditEvent.objects.get(action="otp_failed")
    assert failed.actor == staff
    assert not AuditEvent.objects.filter(action__in=["otp_enrolled", "otp_verified"]).exists()


def test_a_right_code_straight_after_a_wrong_one_is_throttled(client, staff):
    client.force_login(staff)
    client.get(TWO_FACTOR_URL)
    device = device_of(staff)
    client.post(TWO_FACTOR_URL, {"token": wrong_code(device)})

    response = client.post(TWO_FACTOR_URL, {"token": code(device)})
    assert response.status_code == 200
    device.refresh_from_db()
    assert device.confirmed is False
    assert not is_verified(client)

    # Once the throttling delay is over, the right code works.
    device.throttle_reset()
    response = client.post(TWO_FACTOR_URL, {"token": code(device), "next": "/admin/"})
    assert response.status_code == 302
    assert is_verified(client)


def test_a_malformed_code_is_refused(client, staff):
    client.force_login(staff)
    client.get(TWO_FACTOR_URL)
    for token in ["", "12345678901", "abcdef"]:
        response = client.post(TWO_FACTOR_URL, {"token": token})
        assert response.status_code == 200
        assert not is_verified(client)
    assert device_of(staff).confirmed is False


def test_the_right_code_confirms_the_device_and_goes_to_next(client, staff):
    client.force_login(staff)
    client.get(f"{TWO_FACTOR_URL}?next=/admin/cases/person/")
    device = device_of(staff)

    response = client.post(TWO_FACTOR_URL, {"token": code(device), "next": "/admin/cases/person/"})
    assert response.status_code == 302
    assert response["Location"] == "/admin/cases/person/"
    device.refresh_from_db()
    assert device.confirmed is True
    assert client.session["otp_device_id"] == device.persistent_id
    assert AuditEvent.objects.filter(action="otp_enrolled", actor=staff, target="staffer").count() == 1
    assert AuditEvent.objects.filter(action="otp_verified", actor=staff).count() == 1

    for url in ["/admin/", "/admin/cases/person/", "/staff/"]:
        assert client.get(url).status_code == 200, url


def test_a_code_with_spaces_is_accepted(client, staff):
    client.force_login(staff)
    client.get(TWO_FACTOR_URL)
    device = device_of(staff)
    token = code(device)
    response = client.post(TWO_FACTOR_URL, {"token": f"{token[:3]} {token[3:]}"})
    assert response.status_code == 302
    assert is_verified(client)


@pytest.mark.parametrize(
    "next_url", ["https://evil.example/", "//evil.example/", "http://evil.example/admin/", "javascript:alert(1)"]
)
def test_an_off_site_next_is_not_followed(client, staff, next_url):
    client.force_login(staff)
    client.get(TWO_FACTOR_URL)
    response = client.post(f"{TWO_FACTOR_URL}?next={quote(next_url)}", {"token": code(device_of(staff))})
    assert response.status_code == 302
    assert response["Location"] == "/staff/"
    assert is_verified(client)


def test_a_verified_session_is_sent_on_from_the_two_factor_page(staff):
    client = verified_client(staff)
    response = client.get(f"{TWO_FACTOR_URL}?next=/admin/")
    assert response.status_code == 302
    assert response["Location"] == "/admin/"


def test_a_second_sign_in_asks_for_the_code_without_a_qr(staff):
    verified_client(staff)  # enrolled, in another browser
    device = device_of(staff)
    key = device.bin_key

    client = signed_in_with_password(staff)
    assert client.get("/admin/")["Location"] == two_factor_redirect("/admin/")
    page = client.get(TWO_FACTOR_URL)
    assert page.status_code == 200
    text = page.content.decode()
    assert not shows_qr(text)
    assert base64.b32encode(key).decode() not in text
    assert key.hex() not in text
    # Visiting the page does not start a second enrolment.
    assert TOTPDevice.objects.filter(user=staff).count() == 1
    device.refresh_from_db()
    assert device.bin_key == key and device.confirmed

    response = client.post(TWO_FACTOR_URL, {"token": code(device, drift=1), "next": "/admin/"})
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    assert AuditEvent.objects.filter(action="otp_enrolled").count() == 0  # verified_client made it confirmed
    assert AuditEvent.objects.filter(action="otp_verified", actor=staff).count() == 2


def test_an_enrolled_user_cannot_enrol_a_new_device(staff):
    verified_client(staff)
    device = device_of(staff)
    client = Client()
    client.force_login(staff)
    # A second attacker-controlled enrolment would need a QR code or a new key: none is offered.
    client.get(TWO_FACTOR_URL)
    client.get(f"{TWO_FACTOR_URL}?enrol=1")
    assert list(TOTPDevice.objects.filter(user=staff)) == [device]
    # A code of some other key does not pass.
    other = TOTPDevice(user=staff, name="other")
    response = client.post(
        TWO_FACTOR_URL, {"token": wrong_code(device) if code(other) == code(device) else code(other)}
    )
    assert response.status_code == 200
    assert not is_verified(client)


def test_a_code_is_not_accepted_twice(staff):
    token = verified_client(staff).token_used
    client = Client()
    client.force_login(staff)
    response = client.post(TWO_FACTOR_URL, {"token": token})
    assert response.status_code == 200
    assert not is_verified(client)


def test_another_users_device_does_not_verify(staff):
    other = make_user("other", is_staff=True)
    other_device = TOTPDevice.objects.create(user=other, name="Authenticator app", confirmed=True)
    client = Client()
    client.force_login(staff)
    client.get(TWO_FACTOR_URL)
    own = device_of(staff)
    while code(other_device) in {code(own, drift) for drift in (-2, -1, 0, 1, 2)}:  # a one-in-a-million tie
        other_device.key = default_key()
        other_device.save()
    response = client.post(TWO_FACTOR_URL, {"token": code(other_device)})
    assert response.status_code == 200
    assert not is_verified(client)


# --- Reset ------------------------------------------------------------------------------------


def test_deleting_the_device_is_audited_and_the_next_sign_in_enrols_again(staff):
    verified_client(staff)
    old = device_of(staff)
    old_key = old.bin_key

    old.delete()
    reset = AuditEvent.objects.get(action="otp_reset")
    assert reset.target == "staffer"
    assert not TOTPDevice.objects.filter(user=staff).exists()

    client = signed_in_with_password(staff)
    assert client.get("/staff/")["Location"] == two_factor_redirect("/staff/")
    page = client.get(TWO_FACTOR_URL).content.decode()
    assert shows_qr(page)
    new = device_of(staff)
    assert new.bin_key != old_key
    assert base64.b32encode(new.bin_key).decode() in page
    response = client.post(TWO_FACTOR_URL, {"token": code(new)})
    assert response.status_code == 302
    assert AuditEvent.objects.filter(action="otp_enrolled").count() == 1


def test_a_superuser_resets_a_device_through_the_admin(staff):
    user = make_user("caseworker1", is_staff=True)
    device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)
    client = verified_client(staff)
    response = client.post(f"/admin/otp_totp/totpdevice/{device.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(pk=device.pk).exists()
    assert AuditEvent.objects.filter(action="otp_reset", target="caseworker1").count() == 1


def test_an_administrator_resets_a_lost_phone_through_the_admin(staff):
    """README: "An Administrator resets a lost phone by deleting the user's device (OTP TOTP → TOTP devices)"."""
    administrator = make_staff("Administrator", "admin1")
    user = make_user("caseworker1", is_staff=True)
    device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)
    client = verified_client(administrator)

    listing = client.get("/admin/otp_totp/totpdevice/")
    assert listing.status_code == 200
    response = client.post(f"/admin/otp_totp/totpdevice/{device.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(pk=device.pk).exists()
    assert AuditEvent.objects.filter(action="otp_reset", target="caseworker1").count() == 1


def test_a_caseworker_cannot_reset_devices(staff):
    caseworker = make_staff("Caseworker", "caseworker2")
    device = TOTPDevice.objects.create(user=staff, name="Authenticator app", confirmed=True)
    client = verified_client(caseworker)
    response = client.post(f"/admin/otp_totp/totpdevice/{device.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    assert TOTPDevice.objects.filter(pk=device.pk).exists()
    assert not AuditEvent.objects.filter(action="otp_reset").exists()


# --- The whole flow through the login form -------------------------------------------------------


def test_the_whole_flow_through_the_login_form(staff):
    client = Client(REMOTE_ADDR="192.0.2.7")
    response = client.post("/admin/login/", {"username": "staffer", "password": PASSWORD, "next": "/admin/"})
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert not is_verified(client)

    # The first staff page after the password is tested on its own above
    # (test_right_after_the_password_the_first_staff_page_asks_for_the_code).
    client.get("/")
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"] == two_factor_redirect("/admin/")

    page = client.get(response["Location"])
    assert page.status_code == 200
    assert shows_qr(page.content.decode())
    device = device_of(staff)

    refused = client.post(TWO_FACTOR_URL, {"token": wrong_code(device), "next": "/admin/"})
    assert refused.status_code == 200
    device.throttle_reset()

    response = client.post(TWO_FACTOR_URL, {"token": code(device), "next": "/admin/"})
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200

    actions = list(AuditEvent.objects.order_by("pk").values_list("action", "ip_address"))
    assert actions == [
        ("login", "192.0.2.7"),
        ("otp_failed", "192.0.2.7"),
        ("otp_enrolled", "192.0.2.7"),
        ("otp_verified", "192.0.2.7"),
    ]

    # Signing out and in again: the code, no QR.
    client.post("/admin/logout/")
    client.post("/admin/login/", {"username": "staffer", "password": PASSWORD, "next": "/staff/"})
    client.get("/")
    assert client.get("/staff/")["Location"] == two_factor_redirect("/staff/")
    page = client.get(two_factor_redirect("/staff/"))
    assert not shows_qr(page.content.decode())
    response = client.post(TWO_FACTOR_URL, {"token": code(device, drift=1), "next": "/staff/"})
    assert response["Location"] == "/staff/"
    assert client.get("/staff/").status_code == 200


def test_a_wrong_password_never_reaches_the_second_factor(staff):
    client = Client()
    response = client.post("/admin/login/", {"username": "staffer", "password": "not-the-password"})
    assert response.status_code == 200
    assert client.get(TWO_FACTOR_URL)["Location"].startswith("/admin/login/")
    assert not TOTPDevice.objects.exists()


# --- The setting cannot be turned off in production ------------------------------------------------


def _check(**env) -> subprocess.CompletedProcess:
    environment = {
        key: value for key, value in os.environ.items() if key not in {"DEBUG", "SECRET_KEY", "STAFF_2FA_REQUIRED"}
    }
    environment.update({"DATABASE_URL": "sqlite:///:memory:", "SECRET_KEY": "x" * 50, **env})
    return subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60
    )


def test_two_factor_cannot_be_turned_off_with_debug_off():
    result = _check(DEBUG="0", STAFF_2FA_REQUIRED="0")
    assert result.returncode != 0
    assert "STAFF_2FA_REQUIRED may be turned off only for local development" in result.stderr


def test_two_factor_can_be_turned_off_for_local_development():
    assert _check(DEBUG="1", STAFF_2FA_REQUIRED="0").returncode == 0


def test_two_factor_is_on_by_default():
    result = _check(DEBUG="0")
    assert result.returncode == 0, result.stderr
