"""Browser tests: Playwright for Python driving Debian's Chromium against the live server.

Nothing here downloads a browser: Playwright's wheel brings its driver, and
the browser is the system's ``/usr/bin/chromium`` (``apt-get install
chromium``; CI's ``.ci/run`` installs it when it is missing). Without
Chromium or without the ``playwright`` package the whole directory is
skipped, reported once with the reason, and the rest of the suite runs as
usual. (A ``pytest.skip(allow_module_level=True)`` here would do for
``pytest tests`` but crash ``pytest tests/browser``, where this file is
loaded before collection starts.)

The app is served by pytest-django's ``live_server`` on loopback, with the
static files; every test that uses it is transactional, so the browser (in
the server's threads) and the test (in this thread) see the same rows.
"""

import base64
import importlib.util
import os
import re
import sys
import tempfile
import threading
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Group

from cases.models import Person, Status
from sources.models import Source
from tests.conftest import (
    make_authority,
    make_citation,
    make_event,
    make_facility,
    make_person,
    make_relation,
    make_source,
    make_user,
    make_variant,
    publish_case,
)
from workflow.models import PublishedSource

CHROMIUM = Path("/usr/bin/chromium")


def _why_no_browser_tests() -> str:
    if not CHROMIUM.exists():
        return f"Chromium not found at {CHROMIUM}: browser tests skipped (apt-get install chromium)"
    if importlib.util.find_spec("playwright") is None:
        return "The playwright package is not installed: browser tests skipped (pip install -r requirements-dev.txt)"
    return ""


SKIP_REASON = _why_no_browser_tests()
if SKIP_REASON:
    # The test modules are not even imported (they need Playwright): this
    # file's collector stands in for them and reports the skip, once.
    collect_ignore_glob = ["test_*.py"]
else:
    from playwright.sync_api import expect, sync_playwright


class _SkippedBrowserTests(pytest.File):
    def collect(self):
        pytest.skip(SKIP_REASON)


def pytest_collect_file(file_path, parent):
    if SKIP_REASON and file_path == Path(__file__):
        return _SkippedBrowserTests.from_parent(parent, path=file_path)
    return None


CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "a-long-test-password"  # the one make_user() sets
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
SCREENSHOT_DIR = Path(os.environ.get("SCREENSHOT_DIR") or Path(tempfile.gettempdir()) / "whereabouts-screenshots")

# Every live-server test: transactional (the server's threads must see the
# test's rows), and the migrated rows (the role groups, the permissions) are
# restored before each test, because a transactional test empties the tables
# when it ends.
browser_db = pytest.mark.django_db(transaction=True, serialized_rollback=True)

_screenshots: list[Path] = []

# Pages and assertions wait up to 15 s (Playwright's default for assertions
# is 5 s): CI runs the suite in two processes on a busy machine.
TIMEOUT_MS = 15_000
if not SKIP_REASON:
    expect.set_options(timeout=TIMEOUT_MS)


@pytest.fixture(scope="session")
def live_server(django_db_setup):
    """pytest-django's live server on loopback, started with the test settings for static files.

    pytest-django's own ``live_server`` starts before the per-test settings
    of ``tests/conftest.py`` apply; WhiteNoise would then look for the files
    of ``collectstatic`` and warn (an error here) that there are none. This
    one starts with the source files served as the tests serve them. Like
    pytest-django's, it runs until the end of the session, after every
    browser has closed its connections to it.
    """
    from django.test import override_settings
    from pytest_django.live_server_helper import LiveServer

    with override_settings(WHITENOISE_AUTOREFRESH=True, WHITENOISE_USE_FINDERS=True):
        server = LiveServer(os.environ.get("DJANGO_LIVE_TEST_SERVER_ADDRESS") or "localhost")
    if server.thread.connections_override:
        # An in-memory SQLite database is one connection, which every request
        # thread of the server shares: let one request use it at a time (as
        # a browser sends several at once), or their transactions interleave.
        server.thread.httpd.set_app(OneRequestAtATime(server.thread.httpd.get_app()))
    yield server
    server.stop()


class OneRequestAtATime:
    """Runs ``app`` for one request at a time, until its response is sent and closed; static files at any time."""

    def __init__(self, app):
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        if environ["PATH_INFO"].startswith(settings.STATIC_URL):
            return self.app(environ, start_response)  # files only, no database
        self.lock.acquire()
        try:
            response = self.app(environ, start_response)
        except BaseException:
            self.lock.release()
            raise
        return _ReleasedOnClose(response, self.lock)


class _ReleasedOnClose:
    def __init__(self, response, lock):
        self.response, self.lock = response, lock

    def __iter__(self):
        return iter(self.response)

    def close(self):
        try:
            if hasattr(self.response, "close"):
                self.response.close()
        finally:
            self.lock.release()


@pytest.fixture(scope="module")
def browser():
    """One Chromium per test module, with Django's async-safety check off while it runs.

    Playwright's sync API runs an asyncio event loop in this thread (in a
    greenlet) from start to stop. Django sees that running loop and refuses
    every ORM call from this thread with SynchronousOnlyOperation, although
    the calls are made synchronously, between two browser actions, never
    from inside the loop. DJANGO_ALLOW_ASYNC_UNSAFE turns that check off, for
    exactly as long as Playwright runs: the module's tests, and no other.
    """
    from django.db import connections

    if SKIP_REASON:  # a test module named on the command line
        pytest.skip(SKIP_REASON)
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    thread_connections = {alias: connections[alias] for alias in connections}
    playwright = sync_playwright().start()
    # With an event loop running, Django keeps this thread's connections in
    # a context variable instead of the thread's storage, and would open a
    # second connection per database for the test's own queries: one that
    # pytest-django does not manage (no rollback data, never closed, and a
    # second SQLite connection racing the live server's). Keep using the
    # thread's connections, as a test without a browser does.
    for alias, connection in thread_connections.items():
        setattr(connections._connections, alias, connection)
    try:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
    finally:
        playwright.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.failed_in_call = report.failed
    return report


@pytest.fixture
def new_page(request, browser, live_server):
    """``new_page(**context_options)``: a page in a fresh browser context (its own cookies), on the live server."""
    contexts = []

    def open_page(**options):
        options.setdefault("viewport", DESKTOP)
        context = browser.new_context(base_url=live_server.url, **options)
        context.set_default_timeout(TIMEOUT_MS)
        # Chromium asks every site for /favicon.ico (the app redirects it to the icon the
        # pages link); not asking keeps the pages' request lists to what the tests do.
        context.route("**/favicon.ico", lambda route: route.abort())
        contexts.append(context)
        page = context.new_page()
        # A script or style blocked by the CSP, a failed request or a script
        # error is a defect a visitor would meet: collect them for the tests.
        page.problems = []
        page.on(
            "console",
            lambda message: (
                message.type == "error"
                and not message.text.startswith("Failed to load resource")
                and page.problems.append(message.text)
            ),
        )
        page.on(
            "response",
            lambda response: (
                response.status >= 400
                and response.request.resource_type != "document"
                and page.problems.append(f"{response.status} {response.url}")
            ),
        )
        page.on("pageerror", lambda error: page.problems.append(str(error)))
        return page

    yield open_page
    for number, context in enumerate(contexts, start=1):
        if getattr(request.node, "failed_in_call", False):
            # What the browser showed when the test failed, to look at.
            for page in context.pages:
                screenshot(page, f"failed-{request.node.name}-{number}")
                print(f"Failed at {page.url}; problems seen: {page.problems}")
        context.close()


@pytest.fixture
def page(new_page):
    return new_page()


@pytest.fixture(autouse=True)
def _quick_password_hashing(settings):
    # Each sign-in hashes the password: the production hasher's deliberate
    # slowness would add seconds per test and prove nothing here.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def staff_user(username: str, role: str):
    user = make_user(username, is_staff=True, first_name=username.title())
    user.groups.add(Group.objects.get(name=role))
    return user


def totp_code(bin_key: bytes) -> str:
    from django_otp.oath import totp

    return f"{totp(bin_key):06d}"


# The words of the sign-in pages in each staff language (Korean: the project's catalogue
# locale/ko/LC_MESSAGES/django.po and Django's own admin and auth catalogues).
SIGN_IN_WORDS = {
    "en": {
        "Username": "Username",
        "Password": "Password",
        "Log in": "Log in",
        "Set up two-factor sign-in": "Set up two-factor sign-in",
        "Two-factor check": "Two-factor check",
        "Code from your authenticator app": "Code from your authenticator app",
        "Continue": "Continue",
    },
    "ko": {
        "Username": "사용자 이름",
        "Password": "비밀번호",
        "Log in": "로그인",
        "Set up two-factor sign-in": "2단계 인증 설정",
        "Two-factor check": "2단계 인증 확인",
        "Code from your authenticator app": "인증 앱에 표시된 코드",
        "Continue": "계속",
    },
}


def sign_in(page, username: str, *, next_url: str = "/admin/", language: str = "en", login_language: str = ""):
    """Sign in through the admin's login form; then through the two-factor check when it is required.

    A user with a confirmed device types the code; a user without one enrols
    as a person would, reading the key shown under the QR code into an
    "authenticator" (here: django-otp's TOTP function) and typing its code.
    ``login_language`` is the language of the login form (the browser's:
    nobody is signed in yet; ``language`` when not given), ``language`` that
    of the pages after the password (the account's choice, else the browser's).
    """
    from django_otp.plugins.otp_totp.models import TOTPDevice

    login, after = SIGN_IN_WORDS[login_language or language], SIGN_IN_WORDS[language]
    page.goto(f"/admin/login/?next={next_url}")
    expect(page.locator("html")).to_have_attribute("lang", login_language or language)
    page.get_by_label(login["Username"]).fill(username)
    page.get_by_label(login["Password"]).fill(PASSWORD)
    page.get_by_role("button", name=login["Log in"]).click()
    page.wait_for_url(lambda url: "/admin/login/" not in url)
    if settings.STAFF_2FA_REQUIRED:
        # The password alone opens no staff page: the next one is the code check.
        assert "/staff/2fa/" in page.url, (
            f"After the password the browser is at {page.url}, not at the two-factor check: "
            "the password alone opened a staff page"
        )
        expect(page.locator("html")).to_have_attribute("lang", language)
        enrol, check = after["Set up two-factor sign-in"], after["Two-factor check"]
        heading = page.get_by_role("heading", level=1)
        expect(heading).to_have_text(re.compile(f"^({re.escape(enrol)}|{re.escape(check)})$"))
        if heading.inner_text() == enrol:
            key = base64.b32decode(page.locator("code").inner_text().strip())
        else:
            key = TOTPDevice.objects.get(user__username=username, confirmed=True).bin_key
        page.get_by_label(after["Code from your authenticator app"]).fill(totp_code(key))
        page.get_by_role("button", name=after["Continue"]).click()
    page.wait_for_url(f"**{next_url}")


def screenshot(page, name: str) -> Path:
    """A full-page screenshot in the folder printed at the end of the run."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOT_DIR / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    _screenshots.append(path)
    return path


def _screenshot_note() -> str:
    return f"Screenshots written to {SCREENSHOT_DIR}: {', '.join(sorted({path.name for path in _screenshots}))}"


def pytest_terminal_summary(terminalreporter):
    if _screenshots:
        terminalreporter.write_sep("-", "browser screenshots")
        terminalreporter.write_line(_screenshot_note())


def pytest_sessionfinish(session):
    # Under pytest-xdist the tests run in worker processes, whose summaries
    # nobody sees: a worker says it on the terminal it shares with the main one.
    if not _screenshots or not hasattr(session.config, "workerinput"):
        return
    capture = session.config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled():
        sys.stderr.write(f"\n[{session.config.workerinput['workerid']}] {_screenshot_note()}\n")
        sys.stderr.flush()


def choose_autocomplete(page, field: str, typed: str, option: str) -> None:
    """Pick ``option`` in the admin's autocomplete (select2) ``field`` by typing ``typed``, as a person would."""
    row = page.locator(f".field-{field}")
    row.locator(".select2-selection").click()
    page.locator(".select2-container--open .select2-search__field").fill(typed)
    page.locator(".select2-results__option", has_text=option).first.click()
    expect(row.locator(".select2-selection__rendered")).to_contain_text(option)


@pytest.fixture
def seed(db):
    """The six published cases of the North Korea briefing and their sources."""
    import io

    from django.core.management import call_command

    call_command("load_seed", stdout=io.StringIO())


@pytest.fixture
def editor_page(new_page):
    """A page signed in as an Editor (two-factor sign-in is off by default in the tests)."""
    staff_user("editor", "Editor")
    page = new_page()
    sign_in(page, "editor", next_url="/staff/")
    return page


def a_case_with_a_timeline() -> str:
    """A published case with dated events, numbered citations and a Hangul name: the case page at its fullest."""
    person = make_person(
        name="Pak Sun-hui",
        family_name_native="박",
        given_name_native="순희",
        summary="A teacher from Hyesan, arrested after her forced return from China.",
    )
    make_variant(person, "Park Soon-hee")
    report = make_source(title="Annual report on detentions", publisher="A human rights NGO", published_on="2021-06")
    testimony = make_source(title="Interview with a former cellmate", publisher="Documentation team")
    for status, date, place, description, source, locator in [
        (Status.FORCIBLY_REPATRIATED, "2019-02", "Sinuiju", "Returned by the Chinese police.", report, "p. 12"),
        (Status.ARRESTED, "2019-03", "Hyesan", "Arrested at her home.", testimony, "00:14:10"),
        (Status.SENTENCED, "2019-11~", "", "Reportedly sentenced to 7 years.", report, "p. 13"),
        (Status.PRISON_CAMP, "2020", "Kaechon", "Seen in Kyohwaso No. 1.", testimony, "00:31:05"),
    ]:
        event = make_event(person, status, date, is_public=True, place=place, description=description)
        make_citation(source, status_event=event, locator=locator)
    return publish_case(person).case_id


def a_case_with_facilities() -> tuple[str, int]:
    """A published case held at two facilities (one known exactly, one by its region), with the authorities
    believed responsible and a published relative: the case page's map and connections, and a facility page
    with its sources. Returns the case ID and the facility known exactly (made once: both lists of pages ask)."""
    from cases.models import Facility, Responsibility

    made = Facility.objects.filter(name="Onsong holding centre").first()
    if made is not None:
        return Person.objects.get(name="Ri Chol-su").case_id, made.pk
    bureau = make_authority("North Hamgyong Provincial Security Bureau", name_ko="함경북도 보위국")
    onsong = make_facility(
        "Onsong holding centre",
        kind="jipkyulso",
        name_ko="온성 집결소",
        authority=bureau,
        latitude="42.957",
        longitude="129.993",
        precision="exact",
        description="A holding centre near the border with China.",
    )
    camp = make_facility("A camp in South Hamgyong", latitude="40.0", longitude="127.6", precision="region")
    report = make_source(title="Report on holding centres", publisher="A human rights NGO", published_on="2020")
    make_citation(report, facility=onsong, locator="p. 3", excerpt="Returnees are held here first.")
    person = make_person(name="Ri Chol-su", family_name_native="리", given_name_native="철수")
    for status, date, facility in (
        (Status.FORCIBLY_REPATRIATED, "2019-02", onsong),
        (Status.DETAINED, "2019-05", camp),
    ):
        event = make_event(person, status, date, is_public=True, facility=facility)
        make_citation(report, status_event=event, locator="p. 4")
        Responsibility.objects.create(status_event=event, authority=bureau, confidence="likely")
    brother = make_person(name="Ri Chol-min")
    make_citation(report, status_event=make_event(brother, Status.DETAINED, "2019", is_public=True), locator="p. 5")
    make_relation(brother, "sibling", person, source=report)
    publish_case(brother)
    return publish_case(person).case_id, onsong.pk


# The pages the accessibility and HTML-validity checks read: every kind of public page, on the seed data.
def public_pages() -> dict[str, tuple[str, int]]:
    """Name: (address, expected status) of every kind of public page, on the seed data."""
    source = Source.objects.get(pk=PublishedSource.objects.values_list("source_id", flat=True).first())
    held, facility = a_case_with_facilities()
    person = Person.objects.get(case_id="KP-0003")
    version = person.published_versions.get(is_current=True)
    return {
        "home": ("/", 200),
        "list": ("/cases/", 200),
        "search-results": ("/cases/?q=Kim+Kook-kie", 200),
        "no-results": ("/cases/?q=Nobody+At-all", 200),
        "filtered": ("/cases/?fate=outstanding&category=missionary&sort=name&colour=blue", 200),
        "bad-filter": ("/cases/?year_from=1700", 400),
        "case": (f"/cases/{person.case_id}/", 200),
        "case-with-timeline": (f"/cases/{a_case_with_a_timeline()}/", 200),
        "version": (f"/cases/{person.case_id}/versions/{version.number}/", 200),
        "sources": ("/sources/", 200),
        "source": (f"/sources/{source.pk}/", 200),
        "not-found": ("/cases/KP-9999/", 404),
        "case-with-facilities": (f"/cases/{held}/", 200),
        "facilities": ("/facilities/", 200),
        "facility-search": ("/facilities/?q=Yodeok", 200),
        "facility": (f"/facilities/{facility}/", 200),
        "facility-not-found": ("/facilities/999999/", 404),
        "statistics": ("/statistics/", 200),
        "statistics-filtered": ("/statistics/?nationality=KP&status=disappeared&facility_kind=kwanliso", 200),
        "statistics-bad-filter": ("/statistics/?year_from=1700", 400),
        "api": ("/api/", 200),
        "data-releases": ("/data/", 200),
    }


def translated_pages() -> dict[str, tuple[str, int]]:
    """The public pages in Korean and Japanese, named with their language first."""
    case_id = Person.objects.get(name="Kim Jeong-wook").case_id
    timeline = a_case_with_a_timeline()
    held, facility = a_case_with_facilities()
    return {
        "ko-home": ("/ko/", 200),
        "ko-list": ("/ko/cases/", 200),
        "ko-hangul-search": ("/ko/cases/?q=김정욱", 200),
        "ko-no-results": ("/ko/cases/?q=없는+사람", 200),
        "ko-filtered": ("/ko/cases/?fate=outstanding&category=missionary&sort=name&colour=blue", 200),
        "ko-bad-filter": ("/ko/cases/?year_from=1700", 400),
        "ko-case": (f"/ko/cases/{case_id}/", 200),
        "ko-case-with-timeline": (f"/ko/cases/{timeline}/", 200),
        "ko-version": (f"/ko/cases/{case_id}/versions/1/", 200),
        "ko-sources": ("/ko/sources/", 200),
        "ko-not-found": ("/ko/cases/KP-9999/", 404),
        "ko-no-such-page": ("/ko/no-such-page/", 404),
        "ja-home": ("/ja/", 200),
        "ja-list": ("/ja/cases/?q=김정욱", 200),
        "ja-case": (f"/ja/cases/{case_id}/", 200),
        "ja-case-with-timeline": (f"/ja/cases/{timeline}/", 200),
        "ja-sources": ("/ja/sources/", 200),
        "ja-not-found": ("/ja/cases/KP-9999/", 404),
        "ko-facilities": ("/ko/facilities/", 200),
        "ko-facility": (f"/ko/facilities/{facility}/", 200),
        "ko-case-with-facilities": (f"/ko/cases/{held}/", 200),
        "ja-facilities": ("/ja/facilities/?q=온성", 200),
        "ja-facility": (f"/ja/facilities/{facility}/", 200),
        "ko-statistics": ("/ko/statistics/", 200),
        "ja-statistics": ("/ja/statistics/?nationality=KP", 200),
        "ko-api": ("/ko/api/", 200),
        "ja-data-releases": ("/ja/data/", 200),
    }
