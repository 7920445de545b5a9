"""Sign-in protection: lockout per username and address, client address, staff session limits, passwords."""

import time

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client, RequestFactory

from security.clientip import client_ip
from security.models import AuditEvent

from .factories import make_user

pytestmark = pytest.mark.django_db

LOGIN_URL = "/admin/login/"
PASSWORD = "a-long-test-password"  # what conftest.make_user gives every user


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Each sign-in attempt hashes a password: a cheap hasher keeps dozens of attempts fast.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def alice(db):
    return make_user("alice", is_staff=True, is_superuser=True)


@pytest.fixture
def bob(db):
    return make_user("bob", is_staff=True, is_superuser=True)


def sign_in(username: str, password: str, *, ip: str = "10.0.0.1", forwarded: str | None = None, client=None):
    """POST the admin login form from ``ip`` (and an X-Forwarded-For header), in a fresh browser by default."""
    client = client or Client()
    extra = {"REMOTE_ADDR": ip}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return client.post(LOGIN_URL, {"username": username, "password": password, "next": "/admin/"}, **extra)


def signed_in(response) -> bool:
    return response.status_code == 302 and "_auth_user_id" in response.client.session


def fail(username: str, times: int, **kwargs) -> list[int]:
    return [sign_in(username, "wrong-password-123", **kwargs).status_code for _ in range(times)]


# --- Lockout per username and address --------------------------------------------------


def test_the_right_password_signs_in(alice):
    response = sign_in("alice", PASSWORD)
    assert signed_in(response)
    assert response["Location"] == "/admin/"


def test_five_failures_lock_the_username_at_that_address_even_with_the_right_password(alice):
    statuses = fail("alice", 4)
    assert statuses == [200, 200, 200, 200]  # the form again, with its error
    assert not AuditEvent.objects.filter(action="lockout").exists()

    fifth = sign_in("alice", "wrong-password-123")
    assert fifth.status_code == 429  # the fifth failure reaches the limit
    assert AuditEvent.objects.filter(action="lockout", username="alice", ip_address="10.0.0.1").count() == 1

    sixth = sign_in("alice", PASSWORD)
    assert sixth.status_code == 429
    assert not signed_in(sixth)
    assert "_auth_user_id" not in sixth.client.session
    assert not AuditEvent.objects.filter(action="login").exists()
    # The refused attempt is audited as a failure while locked out.
    assert AuditEvent.objects.filter(action="login_failed", username="alice").count() == 6
    assert AuditEvent.objects.filter(action="lockout", username="alice").count() == 2


def test_another_user_from_the_same_address_still_signs_in(alice, bob):
    fail("alice", 5, ip="10.0.0.1")
    assert sign_in("alice", PASSWORD, ip="10.0.0.1").status_code == 429

    response = sign_in("bob", PASSWORD, ip="10.0.0.1")
    assert signed_in(response)
    assert AuditEvent.objects.filter(action="login", actor=bob, ip_address="10.0.0.1").count() == 1


def test_the_same_user_from_another_address_still_signs_in(alice):
    fail("alice", 5, ip="10.0.0.1")
    assert sign_in("alice", PASSWORD, ip="10.0.0.1").status_code == 429

    response = sign_in("alice", PASSWORD, ip="10.0.0.2")
    assert signed_in(response)
    # ...and the first address stays locked out.
    assert sign_in("alice", PASSWORD, ip="10.0.0.1").status_code == 429


def test_failures_of_unknown_usernames_are_counted_too(db):
    assert fail("nobody", 5)[-1] == 429
    assert AuditEvent.objects.filter(action="lockout", username="nobody").count() == 1


def test_a_success_before_the_limit_resets_the_count(alice):
    fail("alice", 4)
    assert signed_in(sign_in("alice", PASSWORD))
    # AXES_RESET_ON_SUCCESS: four more failures do not lock.
    assert fail("alice", 4) == [200, 200, 200, 200]
    assert signed_in(sign_in("alice", PASSWORD))


def test_clients_behind_one_trusted_proxy_have_their_own_counters(settings, alice):
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = "10.0.0.1"
    assert fail("alice", 5, ip=proxy, forwarded="203.0.113.5")[-1] == 429
    assert sign_in("alice", PASSWORD, ip=proxy, forwarded="203.0.113.5").status_code == 429

    other_client = sign_in("alice", PASSWORD, ip=proxy, forwarded="203.0.113.6")
    assert signed_in(other_client)
    assert AuditEvent.objects.filter(action="login", ip_address="203.0.113.6").count() == 1
    lockouts = AuditEvent.objects.filter(action="lockout")
    assert set(lockouts.values_list("ip_address", flat=True)) == {"203.0.113.5"}


def test_behind_a_proxy_a_forged_left_entry_does_not_escape_the_lockout(settings, alice):
    settings.TRUSTED_PROXY_COUNT = 1
    fail("alice", 5, ip="10.0.0.1", forwarded="203.0.113.5")
    # The client writes its own X-Forwarded-For; the proxy appends the real address.
    forged = sign_in("alice", PASSWORD, ip="10.0.0.1", forwarded="198.51.100.77, 203.0.113.5")
    assert forged.status_code == 429


def test_without_a_trusted_proxy_a_forged_forwarded_for_does_not_change_the_address(settings, alice):
    settings.TRUSTED_PROXY_COUNT = 0
    fail("alice", 5, ip="10.0.0.1", forwarded="203.0.113.5")
    forged = sign_in("alice", PASSWORD, ip="10.0.0.1", forwarded="203.0.113.99")
    assert forged.status_code == 429
    assert set(AuditEvent.objects.filter(action="login_failed").values_list("ip_address", flat=True)) == {"10.0.0.1"}


# --- security.clientip.client_ip ------------------------------------------------------------


@pytest.mark.parametrize(
    ("count", "remote", "forwarded", "expected"),
    [
        (0, "10.0.0.1", None, "10.0.0.1"),
        (0, "10.0.0.1", "203.0.113.5", "10.0.0.1"),  # no proxy: the header is the client's own word
        (1, "10.0.0.1", None, "10.0.0.1"),  # a proxy that sent no header: the proxy's address
        (1, "10.0.0.1", "203.0.113.5", "203.0.113.5"),
        (1, "10.0.0.1", "198.51.100.1, 203.0.113.5", "203.0.113.5"),  # the forged left entry is ignored
        (1, "10.0.0.1", " 203.0.113.5 ", "203.0.113.5"),
        (2, "10.0.0.1", "198.51.100.1, 203.0.113.5, 10.0.0.9", "203.0.113.5"),
        (2, "10.0.0.1", "203.0.113.5", "10.0.0.1"),  # fewer entries than proxies: not trusted
        (1, "10.0.0.1", "", "10.0.0.1"),
        (1, "10.0.0.1", " , ", "10.0.0.1"),
        (1, "::1", "2001:db8::5", "2001:db8::5"),
    ],
)
def test_client_ip(settings, count, remote, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = count
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    assert client_ip(RequestFactory().get("/", **extra)) == expected


# --- Staff session limits ----------------------------------------------------------------------


def test_idle_timeout_settings():
    assert django_settings.SESSION_COOKIE_AGE == 30 * 60
    assert django_settings.SESSION_SAVE_EVERY_REQUEST is True
    assert django_settings.STAFF_SESSION_MAX_HOURS == 10
    assert django_settings.SESSION_COOKIE_HTTPONLY is True


def test_every_staff_request_renews_the_idle_timeout(client, alice):
    client.force_login(alice)
    response = client.get("/admin/")
    assert response.status_code == 200
    cookie = response.cookies[django_settings.SESSION_COOKIE_NAME]
    assert int(cookie["max-age"]) == 30 * 60


def test_an_idle_session_past_its_age_is_signed_out(client, alice):
    client.force_login(alice)
    session = client.session
    session.set_expiry(-1)  # already expired: what 30 idle minutes leave behind
    session.save()
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def _age_the_session(client, hours: float) -> None:
    session = client.session
    session["staff_session_started"] = time.time() - hours * 3600
    session.save()


def test_a_staff_session_ends_after_the_absolute_limit_whatever_the_activity(client, alice):
    client.force_login(alice)
    assert client.get("/admin/").status_code == 200
    _age_the_session(client, django_settings.STAFF_SESSION_MAX_HOURS + 0.1)

    response = client.get("/admin/cases/person/")
    assert response.status_code == 302
    assert response["Location"] == "/admin/login/?next=%2Fadmin%2Fcases%2Fperson%2F"
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.filter(action="logout", actor=alice).count() == 1
    # Signed out for good: the next request is anonymous too.
    again = client.get("/admin/")
    assert again.status_code == 302
    assert again["Location"].startswith("/admin/login/")


def test_a_staff_session_younger_than_the_limit_goes_on(client, alice):
    client.force_login(alice)
    client.get("/admin/")
    _age_the_session(client, django_settings.STAFF_SESSION_MAX_HOURS - 0.1)
    assert client.get("/admin/cases/person/").status_code == 200
    assert "_auth_user_id" in client.session


def test_the_absolute_limit_follows_the_setting(client, settings, alice):
    settings.STAFF_SESSION_MAX_HOURS = 1
    client.force_login(alice)
    client.get("/admin/")
    _age_the_session(client, 1.5)
    assert client.get("/staff/").status_code == 302
    assert "_auth_user_id" not in client.session


def test_the_session_start_is_recorded_at_the_first_staff_request(client, alice):
    client.force_login(alice)
    before = time.time()
    client.get("/admin/")
    started = client.session["staff_session_started"]
    assert before - 1 <= started <= time.time() + 1


# --- Passwords ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "password",
    [
        "short-1",  # under 12 characters
        "password1234",  # common
        "qwerty123456",  # common
        "839203948572639",  # only digits
    ],
)
def test_weak_passwords_are_refused(password):
    with pytest.raises(ValidationError):
        validate_password(password)


def test_a_password_like_the_username_is_refused(db):
    user = make_user("kimcheolok")
    with pytest.raises(ValidationError):
        validate_password("kimcheolok12", user=user)


def test_a_long_uncommon_password_is_accepted(db):
    assert validate_password("Tr0ub4dor&3-horse-battery", user=make_user("someone")) is None


def test_the_admin_password_change_form_refuses_a_short_password(client, alice):
    client.force_login(alice)
    response = client.post(
        "/admin/password_change/",
        {"old_password": PASSWORD, "new_password1": "short-1", "new_password2": "short-1"},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["new_password2"]
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)


# --- Deactivated accounts ----------------------------------------------------------------------


def test_a_deactivated_users_session_stops_working(client, alice):
    client.force_login(alice)
    assert client.get("/admin/cases/person/").status_code == 200

    alice.is_active = False
    alice.save()

    response = client.get("/admin/cases/person/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    assert client.get("/staff/").status_code == 302


def test_a_deactivated_user_cannot_sign_in(alice):
    alice.is_active = False
    alice.save()
    response = sign_in("alice", PASSWORD)
    assert response.status_code == 200
    assert "_auth_user_id" not in response.client.session
