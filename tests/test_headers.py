"""Security headers on every kind of response, no caching of staff pages, HTTPS, cookies, the deploy check."""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.test import Client

from .factories import make_citation, make_event, make_person, make_source, make_staff, make_user, publish_case

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def upload_storage(settings, tmp_path):
    location = tmp_path / "uploads"
    location.mkdir()
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(location)}},
    }
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return location


@pytest.fixture
def case(db):
    person = make_person(name="Kim Header-test", summary="Detained in 2019.")
    event = make_event(person, date="2019-05", is_public=True)
    make_citation(make_source(title="UN report on headers"), status_event=event)
    return publish_case(person)


@pytest.fixture
def document(db):
    return make_source(title="Testimony", document=ContentFile(b"%PDF-1.4 confidential", name="t.pdf"))


def _csp_directives(header: str) -> dict[str, list[str]]:
    directives = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0]] = words[1:]
    return directives


def assert_security_headers(response) -> None:
    csp = response["Content-Security-Policy"]
    directives = _csp_directives(csp)
    assert "'unsafe-inline'" not in csp
    assert "'unsafe-eval'" not in csp
    if "script-src" in directives:
        assert directives["script-src"] == ["'self'"]
    else:  # a stricter policy: no script at all
        assert directives["default-src"] == ["'none'"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def assert_no_inline_code(response) -> None:
    """What the policy would block: a page relying on it would break in the browser."""
    html = response.content.decode()
    inline_scripts = [tag for tag in re.findall(r"<script\b[^>]*>", html) if "src=" not in tag]
    assert inline_scripts == []
    assert re.search(r"<[^>]+\sstyle\s*=", html) is None
    assert re.search(r"<[^>]+\son[a-z]+\s*=", html) is None  # onclick= and the like
    assert "<style" not in html


# --- Headers on every kind of response -------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/", 200),
        ("/cases/", 200),
        ("/cases/{case_id}/", 200),
        ("/cases/KP-9999/", 404),
        ("/cases/?status=nonsense", 400),
        ("/sources/", 200),
        ("/api/cases/", 200),
        ("/api/cases/?year_from=abc", 400),
        ("/export/cases.csv", 200),
        ("/feed/", 200),
    ],
)
def test_public_responses_carry_the_security_headers(client, case, url, status):
    response = client.get(url.format(case_id=case.case_id))
    assert response.status_code == status
    assert_security_headers(response)
    assert "no-store" not in response.get("Cache-Control", "")


def test_the_health_check_carries_the_headers(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert_security_headers(response)


@pytest.mark.parametrize("url", ["/", "/cases/", "/cases/{case_id}/", "/cases/KP-9999/", "/cases/?status=nonsense"])
def test_public_pages_have_no_inline_script_or_style(client, case, url):
    assert_no_inline_code(client.get(url.format(case_id=case.case_id)))


def test_a_bad_request_page_carries_the_headers(client, db):
    response = client.get("/cases/?year_from=notayear&sort=sideways")
    assert response.status_code == 400
    assert_security_headers(response)


def test_a_lockout_response_carries_the_headers(db):
    for _ in range(5):
        response = Client().post("/admin/login/", {"username": "someone", "password": "wrong-password-1"})
    assert response.status_code == 429
    assert_security_headers(response)
    assert "no-store" in response["Cache-Control"]


def test_the_wrong_method_carries_the_headers(client, db):
    response = client.post("/cases/")
    assert response.status_code == 405
    assert_security_headers(response)


@pytest.mark.parametrize(
    "url",
    ["/admin/", "/admin/cases/person/", "/admin/cases/person/add/", "/admin/sources/source/", "/staff/"],
)
def test_staff_pages_carry_the_headers_and_are_never_cached(admin_client, case, url):
    response = admin_client.get(url)
    assert response.status_code == 200
    assert_security_headers(response)
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]


@pytest.mark.parametrize("url", ["/admin/login/", "/staff/2fa/"])
def test_sign_in_pages_are_never_cached(client, db, url):
    client.force_login(make_user("someone", is_staff=True))
    client.get("/")
    response = client.get(url)
    assert response.status_code in (200, 302)
    assert "no-store" in response["Cache-Control"]
    assert_security_headers(response)


def test_the_two_factor_page_has_no_inline_script_or_style(client, settings, db):
    settings.STAFF_2FA_REQUIRED = True
    client.force_login(make_user("someone", is_staff=True))
    response = client.get("/staff/2fa/")
    assert response.status_code == 200
    assert_no_inline_code(response)


def test_an_anonymous_visit_to_a_staff_page_is_not_cached_either(client, db):
    response = client.get("/admin/cases/person/")
    assert response.status_code == 302
    assert "no-store" in response["Cache-Control"]


def test_a_staff_document_download_carries_the_headers(admin_client, document):
    response = admin_client.get(f"/staff/sources/{document.pk}/document")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"%PDF-1.4 confidential"  # read to the end: closes the file
    assert response["Content-Disposition"].startswith("attachment")
    assert_security_headers(response)
    assert "sandbox" in response["Content-Security-Policy"]
    assert "no-store" in response["Cache-Control"]


def test_a_refused_download_is_not_cached_either(client, document):
    caseworker = make_staff("Caseworker", "caseworker")
    client.force_login(caseworker)
    response = client.get(f"/staff/sources/{document.pk}/document")
    assert response.status_code == 403
    assert "no-store" in response["Cache-Control"]
    assert_security_headers(response)


@pytest.mark.parametrize(
    "url", ["/", "/cases/", "/cases/{case_id}/", "/api/cases/", "/export/cases.csv", "/feed/", "/sources/"]
)
def test_public_responses_are_not_marked_no_store_even_for_staff(admin_client, case, url):
    response = admin_client.get(url.format(case_id=case.case_id))
    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")


# --- HTTPS -----------------------------------------------------------------------------------


def test_with_ssl_redirect_http_goes_to_https(client, settings, db):
    settings.SECURE_SSL_REDIRECT = True
    response = client.get("/cases/?q=kim")
    assert response.status_code == 301
    assert response["Location"] == "https://testserver/cases/?q=kim"
    admin = client.get("/admin/login/")
    assert admin.status_code == 301
    assert admin["Location"] == "https://testserver/admin/login/"
    # A form posted over http is not accepted either.
    posted = client.post("/admin/login/", {"username": "x", "password": "y"})
    assert posted.status_code == 301


def test_with_ssl_redirect_the_health_check_stays_on_http(client, settings, db):
    settings.SECURE_SSL_REDIRECT = True
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok\n"


def test_with_ssl_redirect_https_is_served(client, settings, db):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/cases/", secure=True).status_code == 200


def test_behind_a_tls_proxy_the_forwarded_proto_counts(client, settings, db):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    assert client.get("/cases/", HTTP_X_FORWARDED_PROTO="https").status_code == 200
    assert client.get("/cases/", HTTP_X_FORWARDED_PROTO="http").status_code == 301


def test_without_ssl_redirect_http_is_served(client, settings, db):
    settings.SECURE_SSL_REDIRECT = False
    assert client.get("/cases/").status_code == 200


def test_hsts_on_https_responses(client, settings, db):
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_HSTS_PRELOAD = True
    response = client.get("/", secure=True)
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    # Never on plain http, where a browser ignores it anyway.
    assert "Strict-Transport-Security" not in client.get("/")


def test_no_hsts_when_not_configured(client, settings, db):
    settings.SECURE_HSTS_SECONDS = 0
    assert "Strict-Transport-Security" not in client.get("/", secure=True)


# --- Cookies ------------------------------------------------------------------------------------


def _sign_in(client) -> object:
    make_user("cookie-user", is_staff=True)
    response = client.post("/admin/login/", {"username": "cookie-user", "password": "a-long-test-password"})
    assert response.status_code == 302
    return response


def test_the_session_cookie_is_http_only_and_lax(client, db):
    cookie = _sign_in(client).cookies["sessionid"]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"


def test_the_csrf_cookie_is_http_only(client, db):
    response = client.get("/admin/login/")
    assert response.cookies["csrftoken"]["httponly"] is True


def test_with_https_on_the_cookies_are_secure(client, settings, db):
    settings.SESSION_COOKIE_SECURE = True
    settings.CSRF_COOKIE_SECURE = True
    assert client.get("/admin/login/", secure=True).cookies["csrftoken"]["secure"] is True
    cookie = _sign_in(client).cookies["sessionid"]
    assert cookie["secure"] is True
    assert cookie["httponly"] is True


def test_with_https_off_the_cookies_are_not_marked_secure(client, settings, db):
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    assert not _sign_in(client).cookies["sessionid"]["secure"]


# --- The deploy check ----------------------------------------------------------------------------


def _deploy_check(**env) -> subprocess.CompletedProcess:
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SECURE_", "SESSION_", "CSRF_")) and key not in {"DEBUG", "SECRET_KEY", "HTTPS"}
    }
    environment.update(
        {
            "DATABASE_URL": "sqlite:///:memory:",
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "cases.example.org",
            **env,
        }
    )
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_deploy_check_passes_with_the_production_defaults():
    result = _deploy_check()
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_the_deploy_check_fails_without_https():
    result = _deploy_check(HTTPS="0")
    assert result.returncode != 0
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in result.stderr


def test_the_deploy_check_fails_with_a_short_secret_key():
    result = _deploy_check(SECRET_KEY="short")
    assert result.returncode != 0
    assert "security.W009" in result.stderr
