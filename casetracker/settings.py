"""Whereabouts settings, configured from the environment.

Every value comes through one of the small typed helpers below, which stop the
start with a message naming the variable when a value is invalid.
"""

import datetime
import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={value!r} is not a boolean: use 1/0, true/false, yes/no or on/off.")


def env_int(name: str, default: int, minimum: int = 0) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not a whole number.") from None
    if number < minimum:
        raise ImproperlyConfigured(f"{name}={value!r} must be at least {minimum}.")
    return number


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def database_from_url(url: str, variable: str = "DATABASE_URL") -> dict[str, Any]:
    """Parse DATABASE_URL (or ``variable``); only SQLite and PostgreSQL are supported."""
    try:
        config: dict[str, Any] = dict(dj_database_url.parse(url))
    except Exception as error:  # dj-database-url raises several exception types
        raise ImproperlyConfigured(f"{variable}={url!r} cannot be parsed: {error}") from None
    engine = config.get("ENGINE", "")
    if engine == "django.db.backends.sqlite3":
        name = config["NAME"]
        if name != ":memory:" and not Path(name).is_absolute():
            config["NAME"] = str(BASE_DIR / name)
        config["OPTIONS"] = {
            # Writers queue for the lock instead of failing at once, and a
            # transaction takes the write lock when it starts, which avoids
            # "database is locked" when two requests upgrade at the same time.
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;",
            "transaction_mode": "IMMEDIATE",
        }
    elif engine == "django.db.backends.postgresql":
        if not config.get("NAME"):
            raise ImproperlyConfigured(f"{variable}={url!r} names no database.")
        # Opening a PostgreSQL connection costs more than serving a page:
        # keep connections open between requests, checked before reuse.
        config["CONN_MAX_AGE"] = env_int("DATABASE_CONN_MAX_AGE", 60)
        config["CONN_HEALTH_CHECKS"] = True
    else:
        raise ImproperlyConfigured(f"{variable}={url!r}: only sqlite:/// and postgres:// URLs are supported.")
    config["ATOMIC_REQUESTS"] = True
    return config


def caches_from_url(url: str) -> dict[str, dict[str, Any]]:
    """CACHES from CACHE_URL: empty, a cache in each process; a Redis URL, one cache shared by every worker."""
    page_entries = env_int("PUBLIC_PAGE_CACHE_ENTRIES", 2000, minimum=1)
    if not url:
        return {
            "default": {
                "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                "LOCATION": "whereabouts",
                "OPTIONS": {"MAX_ENTRIES": 5000},
            },
            "pages": {
                "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                "LOCATION": "whereabouts-pages",
                "OPTIONS": {"MAX_ENTRIES": page_entries},
            },
        }
    shown = re.sub(r"(//[^/@]*?:)[^/@]*@", r"\1***@", url)  # the password stays out of the message
    parts = urlsplit(url)
    if parts.scheme not in {"redis", "rediss", "unix"} or re.search(r"[\s,;]", url):
        raise ImproperlyConfigured(
            f"CACHE_URL={shown!r}: only one redis://HOST:PORT/DB, rediss://HOST:PORT/DB or "
            "unix:///PATH/TO/redis.sock?db=DB URL is supported."
        )
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port == 0:
        raise ImproperlyConfigured(f"CACHE_URL={shown!r} has a port that is not a number from 1 to 65535.")
    if parts.scheme == "unix":
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        if not parts.path.startswith("/") or parts.hostname:
            raise ImproperlyConfigured(f"CACHE_URL={shown!r} names no socket: use unix:///PATH/TO/redis.sock?db=DB.")
        database, others = query.pop("db", "0"), query
    else:
        if not parts.hostname:
            raise ImproperlyConfigured(f"CACHE_URL={shown!r} names no host: use redis://HOST:PORT/DB.")
        database, others = parts.path.removeprefix("/") or "0", dict(parse_qsl(parts.query, keep_blank_values=True))
    if not database.isdigit():
        raise ImproperlyConfigured(f"CACHE_URL={shown!r}: the database must be a number, as in redis://HOST:6379/0.")
    if others:
        raise ImproperlyConfigured(f"CACHE_URL={shown!r}: options ({', '.join(others)}) are not supported.")
    # Redis down or unreachable costs a request at most a second before public/caching.py computes the page.
    options = {"socket_connect_timeout": 1, "socket_timeout": 1}
    redis = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url, "OPTIONS": options}
    return {"default": {**redis, "KEY_PREFIX": "whereabouts"}, "pages": {**redis, "KEY_PREFIX": "whereabouts-pages"}}


def s3_connection() -> dict[str, Any]:
    """django-storages' S3Storage options for the S3-compatible store that S3_ENDPOINT_URL names (unset: AWS S3),
    in S3_REGION, signed with S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY (unset: boto3's own chain, such as the
    environment or an instance role): everything but the bucket and the folder in it."""
    endpoint = env_str("S3_ENDPOINT_URL").strip()
    if endpoint:
        parts = urlsplit(endpoint)
        try:
            parts.port  # noqa: B018 (raises on a port that is not a number from 0 to 65535)
            valid = parts.scheme in {"http", "https"} and bool(parts.hostname)
        except ValueError:
            valid = False
        if not valid or re.search(r"[@?#\s]", endpoint):
            shown = re.sub(r"//[^/@]*@", "//***@", endpoint)  # credentials go in the S3_* keys, never in a message
            raise ImproperlyConfigured(
                f"S3_ENDPOINT_URL={shown!r} must be the store's http:// or https:// address, such as "
                "http://127.0.0.1:9000 (unset for AWS S3)."
            )
    region = env_str("S3_REGION").strip() or "us-east-1"
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,49}", region):
        raise ImproperlyConfigured(f"S3_REGION={region!r} must be a region name such as us-east-1.")
    key_id, secret = env_str("S3_ACCESS_KEY_ID").strip(), env_str("S3_SECRET_ACCESS_KEY").strip()
    if bool(key_id) != bool(secret):
        raise ImproperlyConfigured(
            "S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY go together: set both, or neither for boto3's own credentials."
        )
    options: dict[str, Any] = {
        "region_name": region,
        "endpoint_url": endpoint or None,
        # Private files: no ACL is sent (the bucket's own, private, applies), a name is never reused (a new
        # file never replaces another), and the only address of a file is a signed one that expires in a
        # minute, which nothing hands out: staff download through their view, the public through /data/.
        # No encryption header: AWS S3 encrypts every object at rest already, and the header makes every
        # upload fail on a MinIO without a key server. Encryption at rest is the bucket's setting.
        "default_acl": None,
        "file_overwrite": False,
        "querystring_auth": True,
        "querystring_expire": 60,
        "custom_domain": None,
        # A file read from the bucket larger than this waits in a temporary file (0600), not in memory.
        "max_memory_size": 16 * 1024 * 1024,
    }
    if endpoint:
        # http://host:9000/bucket/key: a self-hosted store answers at one host name, not one per bucket.
        options["addressing_style"] = "path"
    if key_id:
        options.update(access_key=key_id, secret_key=secret)
    return options


def s3_storage(bucket: str, prefix: str) -> dict[str, Any]:
    """STORAGES["default"] from S3_BUCKET and S3_PREFIX: the folder ``prefix`` of ``bucket`` (s3_connection)."""
    if not re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", bucket) or ".." in bucket:
        raise ImproperlyConfigured(
            f"S3_BUCKET={bucket!r} is not a bucket name: 3 to 63 lowercase letters, digits, dots and hyphens."
        )
    folder = prefix.strip().strip("/")
    if folder and (
        not re.fullmatch(r"[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*", folder) or {".", ".."} & set(folder.split("/"))
    ):
        raise ImproperlyConfigured(
            f"S3_PREFIX={prefix!r} must be a folder inside the bucket, such as whereabouts/production: letters, "
            "digits, '.', '_' and '-', with '/' between folders, and no '.' or '..' folder."
        )
    options = {**s3_connection(), "bucket_name": bucket, "location": folder}
    return {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options}


DEBUG = env_bool("DEBUG", False)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is required when DEBUG is off. Set it to a long random string, "
            "for example the output of: python -c 'import secrets; print(secrets.token_urlsafe(50))'"
        )
    SECRET_KEY = "insecure-local-development-key-only"  # noqa: S105 (DEBUG only)

# Keys being rotated out: still accepted for signatures, never used to sign.
SECRET_KEY_FALLBACKS = env_list("SECRET_KEY_FALLBACKS", [])

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])

CASE_ID_PREFIX = env_str("CASE_ID_PREFIX", "KP")
if not re.fullmatch(r"[A-Z][A-Z0-9]{0,9}", CASE_ID_PREFIX):
    raise ImproperlyConfigured(
        f"CASE_ID_PREFIX={CASE_ID_PREFIX!r} must be 1 to 10 capital letters or digits, starting with a letter."
    )

# Four eyes: an editor may not publish a version they submitted for review,
# unless this is on (for one-person organisations).
if "ALLOW_SELF_PUBLISH" in os.environ:
    raise ImproperlyConfigured("ALLOW_SELF_PUBLISH is now called WORKFLOW_ALLOW_SELF_PUBLISH, like the setting.")
WORKFLOW_ALLOW_SELF_PUBLISH = env_bool("WORKFLOW_ALLOW_SELF_PUBLISH", False)
# A case with no new information for this many days is listed as stale.
STALE_CASE_DAYS = env_int("STALE_CASE_DAYS", 180, minimum=1)
# The dashboard's follow-up of appeals: an appeal waiting for a reply longer than this is overdue; next
# actions due within this many days, and anniversaries of arrests and disappearances this many days ahead.
APPEAL_REPLY_DAYS = env_int("APPEAL_REPLY_DAYS", 90, minimum=1)
APPEAL_ACTION_DAYS = env_int("APPEAL_ACTION_DAYS", 14, minimum=0)
ANNIVERSARY_DAYS = env_int("ANNIVERSARY_DAYS", 30, minimum=0)
# How long a proxy or browser may serve a public page without asking again
# (public/caching.py). 0: it keeps the page but revalidates every time (a
# cheap 304 until the data changes), so a redaction is seen at once. More
# absorbs a bigger spike, but a redacted page may be served that long.
PUBLIC_CACHE_SECONDS = env_int("PUBLIC_CACHE_SECONDS", 0)
# Public pages, counts and search results, under the public data's generation
# (public/caching.py); nothing restricted is ever cached. Unset CACHE_URL: per
# process, PUBLIC_PAGE_CACHE_ENTRIES pages of some 5-50 KB each per worker; a
# Redis URL: shared by every worker and server (the generation stays in the
# database, so a redaction reaches them all at once).
CACHES = caches_from_url(env_str("CACHE_URL").strip())
# Serve /bench/bare, the fixed-string view that make bench compares every page with.
BENCHMARK_VIEW = env_bool("BENCHMARK_VIEW", False)
# Uploaded copies of sources larger than this are refused.
SOURCE_UPLOAD_MAX_BYTES = env_int("SOURCE_UPLOAD_MAX_MB", 25, minimum=1) * 1024 * 1024
# The staff import page: the largest CSV file (a checked file waits for its confirmation in the
# database, exchange.models.ImportPreview, so that any server may take it).
IMPORT_MAX_BYTES = env_int("IMPORT_MAX_MB", 50, minimum=1) * 1024 * 1024

# Web archiving (archive/): every source's URL is fetched by the worker (`make worker`) into a WARC file and a
# copy of its body. The queue is a table in the database (django-tasks with its database backend), so one
# small server needs nothing more than its PostgreSQL (or SQLite under `make run`).
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# Capture a source's page whenever a source is saved with a new URL.
ARCHIVE_ON_SAVE = env_bool("ARCHIVE_ON_SAVE", True)
# A page larger than this, or slower than this in all, is not captured.
ARCHIVE_MAX_BYTES = env_int("ARCHIVE_MAX_MB", 50, minimum=1) * 1024 * 1024
ARCHIVE_TIMEOUT_SECONDS = env_int("ARCHIVE_TIMEOUT_SECONDS", 60, minimum=1)
# Fetch through this proxy: http://HOST:PORT, or socks5h://127.0.0.1:9050 for Tor (the proxy resolves names).
ARCHIVE_PROXY_URL = env_str("ARCHIVE_PROXY_URL").strip()
if ARCHIVE_PROXY_URL and not ARCHIVE_PROXY_URL.startswith(("http://", "https://", "socks5h://")):
    raise ImproperlyConfigured(
        f"ARCHIVE_PROXY_URL={ARCHIVE_PROXY_URL!r}: use http://HOST:PORT, https://HOST:PORT or socks5h://HOST:PORT."
    )
# A failed fetch (timeout, connection refused, server error) is tried again this many times in all, waiting
# ARCHIVE_RETRY_SECONDS, then 4 times longer after each failure.
ARCHIVE_ATTEMPTS = env_int("ARCHIVE_ATTEMPTS", 5, minimum=1)
ARCHIVE_RETRY_SECONDS = env_int("ARCHIVE_RETRY_SECONDS", 60, minimum=0)
# Every cited URL is checked again this often; a dead link or a changed page is listed on the dashboard.
ARCHIVE_CHECK_DAYS = env_int("ARCHIVE_CHECK_DAYS", 7, minimum=1)
# Only the test suite turns this on, to fetch from its own server on 127.0.0.1; never from the environment.
ARCHIVE_ALLOW_LOOPBACK = False

# Who runs the public site, as its "about" page (/about/) tells families: the organisation's name, how to reach
# it (an e-mail address or an https:// address) and its postal address (lines apart by new lines or "\n").
# Unset, the page says plainly that they are not given.
ORGANISATION_NAME = env_str("ORGANISATION_NAME").strip()
ORGANISATION_CONTACT = env_str("ORGANISATION_CONTACT").strip()
ORGANISATION_ADDRESS = env_str("ORGANISATION_ADDRESS").strip().replace("\\n", "\n")
_E_MAIL_OR_HTTPS = r"[^@\s/:]+@[^@\s/:]+\.[^@\s/:]+|https://[^\s<>\"]+"
if ORGANISATION_CONTACT and not re.fullmatch(_E_MAIL_OR_HTTPS, ORGANISATION_CONTACT):
    raise ImproperlyConfigured(
        f"ORGANISATION_CONTACT={ORGANISATION_CONTACT!r} must be an e-mail address or an https:// address: "
        "families are told to write there."
    )

# The public data releases (/data/, public/releases.py). The licence they are published under, by its SPDX
# identifier: one of these, each with its name and the address of its text.
DATA_RELEASE_LICENSES = {
    "CC-BY-4.0": ("Creative Commons Attribution 4.0 International", "https://creativecommons.org/licenses/by/4.0/"),
    "CC-BY-SA-4.0": (
        "Creative Commons Attribution-ShareAlike 4.0 International",
        "https://creativecommons.org/licenses/by-sa/4.0/",
    ),
    "CC0-1.0": ("Creative Commons Zero v1.0 Universal", "https://creativecommons.org/publicdomain/zero/1.0/"),
    "ODbL-1.0": ("Open Data Commons Open Database License 1.0", "https://opendatacommons.org/licenses/odbl/1-0/"),
}
DATA_RELEASE_LICENSE = env_str("DATA_RELEASE_LICENSE", "CC-BY-4.0").strip()
if DATA_RELEASE_LICENSE not in DATA_RELEASE_LICENSES:
    raise ImproperlyConfigured(
        f"DATA_RELEASE_LICENSE={DATA_RELEASE_LICENSE!r} must be one of: {', '.join(DATA_RELEASE_LICENSES)}."
    )
# A new release after every publication, withdrawal and redaction, built when the change commits. A large
# collection turns it off and runs `manage.py build_data_release` at night instead.
DATA_RELEASE_AFTER_PUBLICATION = env_bool("DATA_RELEASE_AFTER_PUBLICATION", True)
# The public site's address (https://…, no trailing slash): the releases' links to the case pages are written
# with it. Unset, they are the pages' paths on the site ("/cases/KP-0001/versions/1/").
DATA_RELEASE_SITE_URL = env_str("DATA_RELEASE_SITE_URL").strip().rstrip("/")
if DATA_RELEASE_SITE_URL and not re.fullmatch(r"https?://[^\s/?#<>\"]+(/[^\s?#<>\"]*)?", DATA_RELEASE_SITE_URL):
    raise ImproperlyConfigured(
        f"DATA_RELEASE_SITE_URL={DATA_RELEASE_SITE_URL!r} must be the public site's address, such as "
        "https://whereabouts.example.org."
    )

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_countries",
    "django_filters",
    "simple_history",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "django_tasks",
    "django_tasks_db",
    "security",
    "cases",
    "sources",
    "linkage",
    "archive",
    "advocacy",
    "workflow",
    "exchange",
    "public",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "security.input.ControlCharacterMiddleware",
    # Before the session: on the way out it sees every cookie set (session, CSRF, messages).
    "security.middleware.PrivateWhenSettingCookieMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "security.middleware.StaffSecurityMiddleware",
    # After the account is known: staff pages in the account's language (public pages: the address's).
    "security.middleware.StaffLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "casetracker.routers.PublicReadsMiddleware",
    # Last, as django-axes asks: it turns a lockout into its response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "casetracker.urls"
# Staff sign in through the admin's login page and start at the dashboard
# (also where a sign-in with an off-site or missing "next" lands).
LOGIN_URL = "admin:login"
LOGIN_REDIRECT_URL = "workflow:dashboard"
WSGI_APPLICATION = "casetracker.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": database_from_url(env_str("DATABASE_URL", "sqlite:///db.sqlite3"))}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Trigram lookups (the indexed % operator) for name search.
    INSTALLED_APPS.append("django.contrib.postgres")
# The few queries of every public page prepared once per connection (workflow.prepared); off for a pooler that
# cannot keep prepared statements (PgBouncer before 1.21 in transaction mode).
DATABASE_PREPARED_STATEMENTS = env_bool("DATABASE_PREPARED_STATEMENTS", True)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and DATABASE_PREPARED_STATEMENTS:
    # Django turns psycopg's statement cache off (None); on, with a threshold never reached, it prepares only what
    # asks for it (the ORM's cursors bind in the client and are never prepared).
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = 2**31 - 1
# A read replica for the public site (casetracker/routers.py): anonymous GETs of public pages read there once it
# has caught up with the primary's publication generation; writes, staff and the generation stay on the primary.
DATABASE_REPLICA_URL = env_str("DATABASE_REPLICA_URL").strip()
if DATABASE_REPLICA_URL:
    if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfigured("DATABASE_REPLICA_URL needs DATABASE_URL on PostgreSQL: SQLite has no replicas.")
    replica = database_from_url(DATABASE_REPLICA_URL, "DATABASE_REPLICA_URL")
    if replica["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfigured(
            f"DATABASE_REPLICA_URL={DATABASE_REPLICA_URL!r}: a read replica must be a postgres:// URL."
        )
    # The request's transaction is the primary's: a replica down must not fail staff pages, or any page.
    replica["ATOMIC_REQUESTS"] = False
    # A replica that does not answer costs a reader 2 seconds once, then is left alone a while (routers.py).
    replica.setdefault("OPTIONS", {}).setdefault("connect_timeout", 2)
    # In tests the replica is the test database itself.
    replica["TEST"] = {"MIRROR": "default"}
    DATABASES["replica"] = replica
    DATABASE_ROUTERS = ["casetracker.routers.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
# English unprefixed; Korean and Japanese under /ko/ and /ja/ (casetracker/urls.py). Each language
# is named in its own script: that is how a reader finds theirs in the switcher.
LANGUAGES = [("en", "English"), ("ko", "한국어"), ("ja", "日本語")]
# The staff pages are written in English and Korean; each account chooses (/staff/language/), else the browser.
STAFF_LANGUAGES = ["en", "ko"]
# Dates in English read "7 October 2014" (Django's English default is "Oct. 7, 2014").
FORMAT_MODULE_PATH = ["casetracker.formats"]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
# Uploaded documents and data releases. Documents can be confidential: they live outside any public URL (there
# is no MEDIA_URL route) and staff fetch them through a view. One server: the local folder MEDIA_ROOT. Several
# servers share one private bucket of an S3-compatible store (AWS S3, MinIO…): S3_BUCKET, in the folder
# S3_PREFIX, the store's address and credentials from the other S3_* variables (s3_connection).
S3_BUCKET = env_str("S3_BUCKET").strip()
# The store's address and credentials also serve `restore --uploads s3://BUCKET[/PREFIX]` (security/backup.py).
S3_CONNECTION = s3_connection()
STORAGES = {
    "default": s3_storage(S3_BUCKET, env_str("S3_PREFIX"))
    if S3_BUCKET
    else {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": env_str("MEDIA_ROOT", str(BASE_DIR / "uploads"))},
    },
    # In production collectstatic writes each file under a name with its hash and a gzipped copy beside
    # it; WhiteNoise sends the smaller one, and lets browsers keep hashed files for good (tests/test_static_weight.py).
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
# Uploaded documents (and the folders made for them) are readable by the
# application's own user only, not by every account on the server.
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700

# A history row is written after the model's own save; both happen in one
# transaction (ATOMIC_REQUESTS and the models' own atomic methods).
SIMPLE_HISTORY_HISTORY_CHANGE_REASON_USE_TEXT_FIELD = True

COUNTRIES_FIRST = ["KP", "KR", "CN", "JP", "RU"]
# The name the documentation of the field uses in every language (북한, 北朝鮮; see docs/glossary.md), not
# django-countries' Korean "조선민주주의인민공화국", the state's own name.
COUNTRIES_OVERRIDE = {"KP": gettext_lazy("North Korea")}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}

# --- Security -------------------------------------------------------------

# Sign-in: django-axes counts failures per username *and* address together, so
# one address cannot lock every user out, and (with TRUSTED_PROXY_COUNT set)
# a proxy does not make every visitor share one counter.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 30, minimum=1))
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "security.clientip.client_ip"
AXES_SENSITIVE_PARAMETERS = ["password", "otp_token", "token"]
# How many reverse proxies in front of the app set X-Forwarded-For (0: none, the header is ignored).
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)

# Two-factor sign-in (TOTP) for every staff account; only a development
# server (DEBUG on) may turn it off.
STAFF_2FA_REQUIRED = env_bool("STAFF_2FA_REQUIRED", True)
if not STAFF_2FA_REQUIRED and not DEBUG:
    raise ImproperlyConfigured("STAFF_2FA_REQUIRED may be turned off only for local development (DEBUG on).")
OTP_TOTP_ISSUER = "Whereabouts"
# The devices' admin (security/admin.py) never shows a secret key; should
# django-otp's own admin come back, it would not show them either.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

# Staff sessions end after STAFF_IDLE_MINUTES without activity and, whatever
# the activity, after STAFF_SESSION_MAX_HOURS.
SESSION_COOKIE_AGE = env_int("STAFF_IDLE_MINUTES", 30, minimum=1) * 60
SESSION_SAVE_EVERY_REQUEST = True
STAFF_SESSION_MAX_HOURS = env_int("STAFF_SESSION_MAX_HOURS", 10, minimum=1)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True

# HTTPS. Behind a proxy that terminates TLS, set SECURE_PROXY_SSL_HEADER=1 and
# make sure the proxy sets X-Forwarded-Proto itself.
HTTPS = env_bool("HTTPS", not DEBUG)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", HTTPS)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", HTTPS)
# The header only allows submitting the domain to the browsers' preload list; submitting is a separate act.
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", HTTPS)
if env_bool("SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# Addresses contain names: never send them to another site.
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# Content Security Policy (django-csp): no inline script or style anywhere.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}
AXES_VERBOSE = False
