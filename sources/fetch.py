"""Fetch one web page safely and keep what came back as a WARC file.

``fetch(url, max_bytes=..., timeout=...)`` answers a :class:`Fetched`: the final
response's body as a separate copy and a gzipped WARC file holding every
exchange (each redirect and the final response, each as a request record and a
response record), both in temporary files, with their SHA-256. A 404 is a page
like any other (``status`` says so); only a fetch that could not be made, or must
not be, raises a :class:`FetchError`: :class:`FetchRefused` (never worth
retrying) or :class:`FetchFailed` (transient, worth retrying later).

Which URLs and addresses may be fetched, and why, is ``sources.addresses``' job:
only ``http`` and ``https`` URLs on public addresses (``allow_loopback`` lets the
tests' local server through), each redirect's target checked again before
anything is sent to it. The connection goes to the checked address itself, with
the name only in the Host header and the TLS server name (certificates are
verified against the system's store), so a second DNS answer cannot swap in a
private address between the check and the connection. ``sources.warc`` writes
the WARC file.

Within limits: ``timeout`` is the deadline of the whole fetch (connections,
redirects and every read, enforced by a watchdog that cuts the connection, so a
server dripping bytes cannot hold it); a body above ``max_bytes``, declared or as
it streams (before and after undoing gzip or deflate), is refused and nothing is
kept; at most ``max_redirects`` redirects are followed.

Through a proxy (``proxy_url``: ``http://``, ``https://`` or ``socks5h://``, e.g.
Tor for sensitive fetches) the proxy connects (``sources.addresses`` says what is
still checked here: everything, except that a ``socks5h`` proxy resolves the
names itself). ``socks5h`` uses PySocks, through urllib3's SOCKS support.
"""

from __future__ import annotations

import hashlib
import socket
import tempfile
import threading
import time
import tomllib
import zlib
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from importlib.util import find_spec
from pathlib import Path
from typing import IO, Any
from urllib.parse import urljoin

import urllib3
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from urllib3.exceptions import (
    ConnectTimeoutError,
    HTTPError,
    NameResolutionError,
    NewConnectionError,
    ProxyError,
    ReadTimeoutError,
    SSLError,
)

from sources.addresses import Target, checked_address, is_public_address, parse, proxy_scheme
from sources.fetch_errors import FetchError, FetchFailed, FetchRefused
from sources.warc import new_writer, rewind, write_exchange

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# Bodies are read, decoded and written in pieces of this size; files this small stay in memory.
_PIECE = 64 * 1024
_IN_MEMORY = 1024 * 1024

# Test seam, empty in production: a checked address and port mapped to where the connection really goes,
# so that a test can let a public-looking name (resolved by a monkeypatched getaddrinfo) reach the local test
# server while the address checks run exactly as they do for real.
CONNECT_OVERRIDES: dict[tuple[str, int], tuple[str, int]] = {}


@cache
def project_version() -> str:
    """Whereabouts' version, as pyproject.toml gives it ('' when the file is not deployed)."""
    try:
        with (Path(__file__).resolve().parent.parent / "pyproject.toml").open("rb") as file:
            return str(tomllib.load(file)["project"]["version"])
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return ""


def _package_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "unknown"


_PROJECT = f"Whereabouts/{project_version()}" if project_version() else "Whereabouts"
TOOL = f"{_PROJECT} warcio/{_package_version('warcio')} urllib3/{urllib3.__version__}"
USER_AGENT = f"{_PROJECT} (archiving a cited source)"


@dataclass
class Fetched:
    """What one fetch brought back; ``close()`` (or ``with``) removes the two temporary files."""

    requested_url: str
    final_url: str  # the URL that gave the final response (normalised, without a fragment)
    status: int  # of the final response: a 404 is a fetched page too
    content_type: str  # of the final response, without parameters, lower-case ('' if none)
    redirects: list[str]  # every URL that answered with a redirect, in order (the requested one first)
    ip_address: str  # where the final response came from ('' through a proxy)
    started_at: datetime  # aware, UTC
    body: IO[bytes]  # the final response's body, gzip or deflate undone, positioned at 0
    body_sha256: str
    body_size: int
    warc: IO[bytes]  # the gzipped WARC file, positioned at 0
    warc_sha256: str
    warc_size: int
    tool: str  # the software that made the WARC file, with versions

    def close(self) -> None:
        self.body.close()
        self.warc.close()

    def __enter__(self) -> Fetched:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class _Deadline:
    """The fetch's deadline: a watchdog cuts every connection still open when it passes."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.at = time.monotonic() + timeout
        self.expired = False
        self._connections: list[Any] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(timeout, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> _Deadline:
        self._timer.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._timer.cancel()

    def remaining(self) -> float:
        """Seconds left; raises FetchFailed once none are."""
        left = self.at - time.monotonic()
        if left <= 0 or self.expired:
            raise self.error()
        return left

    def error(self) -> FetchFailed:
        seconds = self.timeout
        return FetchFailed(
            ngettext(
                "The page did not arrive within %(seconds)s second.",
                "The page did not arrive within %(seconds)s seconds.",
                max(1, round(seconds)),
            )
            % {"seconds": f"{seconds:g}"}
        )

    def watch(self, connection: Any) -> None:
        with self._lock:
            self._connections.append(connection)
            expired = self.expired
        if expired:
            self._cut(connection)

    def watched(self, connection_class: type) -> type:
        """A subclass of the urllib3 connection class whose connections this deadline can cut."""
        deadline = self

        class Watched(connection_class):
            def connect(self) -> None:
                deadline.watch(self)
                super().connect()

        return Watched

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            connections = list(self._connections)
        for connection in connections:
            self._cut(connection)

    @staticmethod
    def _cut(connection: Any) -> None:
        # Shutting the socket down wakes a read blocked in the fetching thread; closing it would not.
        sock = getattr(connection, "sock", None)
        if sock is not None:
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class _Decoder:
    """Undoes a gzip or deflate Content-Encoding in bounded pieces (a small body may inflate hugely)."""

    def __init__(self, encoding: str) -> None:
        self.gzip = encoding in ("gzip", "x-gzip")
        self._zlib = self._new(zlib.MAX_WBITS | 16 if self.gzip else zlib.MAX_WBITS)
        self._started = False

    @staticmethod
    def _new(wbits: int) -> Any:
        return zlib.decompressobj(wbits)

    def feed(self, data: bytes) -> Iterator[bytes]:
        while data:
            try:
                piece = self._zlib.decompress(data, _PIECE)
            except zlib.error:
                # "deflate" is sometimes sent without its zlib header (raw deflate), as browsers accept.
                if self.gzip or self._started:
                    raise
                self._zlib = self._new(-zlib.MAX_WBITS)
                piece = self._zlib.decompress(data, _PIECE)
            self._started = True
            yield piece
            data = self._zlib.unconsumed_tail
            if self._zlib.eof:
                rest = self._zlib.unused_data
                # A gzip body may be several members one after the other; anything else after the end is ignored.
                if self.gzip and rest.startswith(b"\x1f\x8b"):
                    self._zlib = self._new(zlib.MAX_WBITS | 16)
                    data = rest
                else:
                    data = b""

    def flush(self) -> bytes:
        return bytes(self._zlib.flush())


def fetch(
    url: str,
    *,
    max_bytes: int,
    timeout: float,
    proxy_url: str = "",
    allow_loopback: bool = False,
    user_agent: str = USER_AGENT,
    max_redirects: int = 5,
) -> Fetched:
    """Fetch ``url`` (following redirects) within the limits and rules of the module docstring."""
    started_at = datetime.now(UTC)
    proxy = _proxy_manager(proxy_url)
    # Handed to the caller open (Fetched.close() closes them), or closed here on any error.
    body = tempfile.SpooledTemporaryFile(max_size=_IN_MEMORY)  # noqa: SIM115
    warc = tempfile.SpooledTemporaryFile(max_size=_IN_MEMORY)  # noqa: SIM115
    try:
        with _Deadline(timeout) as deadline, ExitStack() as closing:
            if proxy is not None:
                closing.callback(proxy.clear)
            writer = new_writer(warc, software=TOOL, user_agent=user_agent, requested_url=url)
            headers = {
                "User-Agent": user_agent,
                "Accept": "text/html,application/xhtml+xml,*/*;q=0.8",
                "Accept-Encoding": "gzip, deflate",
            }
            redirects: list[str] = []
            current = url
            received = 0  # bytes of every hop so far: the limit is the whole fetch's
            while True:
                try:
                    target = parse(current)
                    ip = checked_address(
                        target,
                        allow_loopback=allow_loopback,
                        proxied=proxy is not None,
                        proxy_resolves=proxy_url.lower().startswith("socks5h:"),
                    )
                except FetchRefused as refusal:
                    if not redirects:
                        raise
                    raise FetchRefused(
                        _("The page redirects to %(url)s, which is not fetched: %(reason)s")
                        % {"url": current, "reason": refusal}
                    ) from refusal
                request_headers = {"Host": target.host_header, **headers}
                with _failures(target.host, deadline, proxied=proxy is not None):
                    response = _send(target, ip, request_headers, proxy, deadline, closing)
                    closing.callback(response.close)
                    location = response.headers.get("Location", "")
                    is_redirect = response.status in REDIRECT_STATUSES and bool(location.strip())
                    if is_redirect and len(redirects) >= max_redirects:
                        raise FetchRefused(
                            ngettext(
                                "The page redirects more than %(count)d time, so it was not followed.",
                                "The page redirects more than %(count)d times, so it was not followed.",
                                max_redirects,
                            )
                            % {"count": max_redirects}
                        )
                    _refuse_declared_size(response, max_bytes, received)
                    exchanged_at = datetime.now(UTC)
                    with tempfile.SpooledTemporaryFile(max_size=_IN_MEMORY) as raw:
                        raw_size, body_size, body_sha256 = _read_body(
                            response, deadline, max_bytes, raw, None if is_redirect else body, received
                        )
                        received += raw_size
                        write_exchange(writer, target, ip, request_headers, response, raw, raw_size, exchanged_at)
                if not is_redirect:
                    break
                redirects.append(target.url)
                try:
                    current = urljoin(target.url, location.strip())
                except ValueError:  # "http://[oops": parse() refuses it, as a redirect to an invalid address
                    current = location.strip()
        warc_sha256, warc_size = rewind(warc)
        body.seek(0)
        return Fetched(
            requested_url=url,
            final_url=target.url,
            status=response.status,
            content_type=response.headers.get("Content-Type", "").split(";", 1)[0].strip().lower(),
            redirects=redirects,
            ip_address="" if proxy is not None else ip,
            started_at=started_at,
            body=body,
            body_sha256=body_sha256,
            body_size=body_size,
            warc=warc,
            warc_sha256=warc_sha256,
            warc_size=warc_size,
            tool=TOOL,
        )
    except BaseException:
        body.close()
        warc.close()
        raise


def _proxy_manager(proxy_url: str) -> urllib3.PoolManager | None:
    if not proxy_url:
        return None
    scheme = proxy_scheme(proxy_url)
    if scheme == "socks5h":
        if find_spec("socks") is None:
            raise FetchRefused(
                _("The archive proxy is a SOCKS proxy, which needs the PySocks package; it is not installed.")
            )
        from urllib3.contrib.socks import SOCKSProxyManager

        return SOCKSProxyManager(proxy_url, num_pools=2)
    proxy = urllib3.util.parse_url(proxy_url)
    proxy_headers = urllib3.make_headers(proxy_basic_auth=proxy.auth) if proxy.auth else None
    return urllib3.ProxyManager(proxy_url, num_pools=2, proxy_headers=proxy_headers)


def _send(
    target: Target,
    ip: str,
    headers: dict[str, str],
    proxy: urllib3.PoolManager | None,
    deadline: _Deadline,
    closing: ExitStack,
) -> urllib3.BaseHTTPResponse:
    """Send the request for one hop: to the checked address itself, or through the proxy."""
    remaining = deadline.remaining()
    options: dict[str, Any] = {
        "headers": headers,
        "redirect": False,
        "retries": False,
        "preload_content": False,
        "decode_content": False,
        "timeout": urllib3.Timeout(connect=remaining, read=remaining),
    }
    pool: urllib3.HTTPConnectionPool
    if proxy is not None:
        # The manager keeps this pool and uses it for the request below; its connections must be watched too.
        pool = proxy.connection_from_url(target.url)
        pool.ConnectionCls = deadline.watched(pool.ConnectionCls)
        return proxy.urlopen("GET", target.url, **options)
    host, port = CONNECT_OVERRIDES.get((ip, target.port), (ip, target.port))
    if target.scheme == "https":
        pool = urllib3.HTTPSConnectionPool(
            host,
            port,
            maxsize=1,
            cert_reqs="CERT_REQUIRED",
            server_hostname=target.host,
            assert_hostname=target.host,
        )
    else:
        pool = urllib3.HTTPConnectionPool(host, port, maxsize=1)
    closing.callback(pool.close)
    pool.ConnectionCls = deadline.watched(pool.ConnectionCls)
    return pool.urlopen("GET", target.path, assert_same_host=False, **options)


@contextmanager
def _failures(host: str, deadline: _Deadline, *, proxied: bool) -> Iterator[None]:
    """Network errors as FetchFailed, in a sentence for staff (the original error stays as the cause)."""
    try:
        yield
    except FetchError:
        raise
    except (HTTPError, OSError, zlib.error) as error:
        # NewConnectionError (refused, unreachable) is a ConnectTimeoutError too, for urllib3's history: ask it first.
        if deadline.expired:
            raise deadline.error() from error
        if isinstance(error, ProxyError) or (proxied and isinstance(error, NewConnectionError)):
            message = _("The archive proxy could not be reached, or could not reach %(host)s.")
        elif isinstance(error, NameResolutionError | socket.gaierror):
            message = _("The name %(host)s could not be found (DNS).")
        elif isinstance(error, NewConnectionError | ConnectionRefusedError):
            message = _("The web server at %(host)s could not be reached.")
        elif isinstance(error, ConnectTimeoutError | ReadTimeoutError | TimeoutError):
            raise deadline.error() from error
        elif isinstance(error, SSLError):
            message = _("The secure connection to %(host)s failed (its certificate could not be verified).")
        elif isinstance(error, zlib.error):
            message = _("The page's compressed content could not be decoded.")
        else:
            message = _("The connection to %(host)s was interrupted before the page arrived.")
        raise FetchFailed(message % {"host": host}) from error


def _too_large(max_bytes: int) -> FetchRefused:
    return FetchRefused(
        _("The page is larger than the limit of %(limit)s, so it was not kept.") % {"limit": filesizeformat(max_bytes)}
    )


def _refuse_declared_size(response: urllib3.BaseHTTPResponse, max_bytes: int, already: int) -> None:
    try:
        declared = int(response.headers.get("Content-Length", ""))
    except ValueError:
        return
    if already + declared > max_bytes:
        raise _too_large(max_bytes)


def _read_body(
    response: urllib3.BaseHTTPResponse,
    deadline: _Deadline,
    max_bytes: int,
    raw: IO[bytes],
    body: IO[bytes] | None,
    already: int = 0,
) -> tuple[int, int, str]:
    """Copy the body as it came (into ``raw``) and decoded (into ``body``, if given), within the limits.

    ``max_bytes`` bounds the decoded body and, with the ``already`` received from the redirects before it, what
    the whole fetch receives.

    Answers the raw size, the decoded size and the decoded body's SHA-256. A Content-Encoding other than
    gzip or deflate (never asked for) is not undone.
    """
    encoding = response.headers.get("Content-Encoding", "").strip().lower()
    decoder = _Decoder(encoding) if body is not None and encoding in ("gzip", "x-gzip", "deflate") else None
    digest = hashlib.sha256()
    raw_size = body_size = 0

    def keep(piece: bytes) -> None:
        nonlocal body_size
        body_size += len(piece)
        if body_size > max_bytes:
            raise _too_large(max_bytes)
        digest.update(piece)
        body.write(piece)  # type: ignore[union-attr]

    while True:
        deadline.remaining()  # between pieces: a server sending a byte at a time stops here
        chunk = response.read1(_PIECE, decode_content=False)
        if not chunk:
            break
        raw_size += len(chunk)
        if already + raw_size > max_bytes:
            raise _too_large(max_bytes)
        raw.write(chunk)
        if body is not None:
            for piece in decoder.feed(chunk) if decoder else (chunk,):
                keep(piece)
    # A connection cut by the watchdog can look like the end of a body that had no declared length.
    if deadline.expired:
        raise deadline.error()
    if decoder is not None:
        keep(decoder.flush())
    return raw_size, body_size, digest.hexdigest()


__all__ = [
    "CONNECT_OVERRIDES",
    "TOOL",
    "USER_AGENT",
    "FetchError",
    "FetchFailed",
    "FetchRefused",
    "Fetched",
    "fetch",
    "is_public_address",
]
