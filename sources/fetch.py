"""Fetch one web page safely and keep what came back as a WARC file.

``fetch(url, max_bytes=..., timeout=...)`` answers a :class:`Fetched`: the final
response's body as a separate copy and a gzipped WARC file holding every
exchange (each redirect and the final response, each as a request record and a
response record), both in temporary files, with their SHA-256. A 404 is a page
like any other (``status`` says so); only a fetch that could not be made, or must
not be, raises a :class:`FetchError`: :class:`FetchRefused` (never worth
retrying) or :class:`FetchFailed` (transient, worth retrying later).

What the server fetches, since anyone who can cite a source can make it fetch a URL:

* only ``http`` and ``https`` URLs with a host and no user name or password;
* only public addresses. The host name is resolved here (``socket.getaddrinfo``)
  and refused unless *every* address it has is on the public internet: no
  loopback, private, link-local (169.254.169.254, the cloud metadata service),
  shared (100.64.0.0/10), multicast, reserved or unspecified address, nor those
  hidden in an IPv4-mapped, 6to4 or NAT64 IPv6 address. The connection then goes
  to the checked address itself, with the name only in the Host header and the
  TLS server name (certificates are verified against the system's store), so a
  second DNS answer cannot swap in a private address between the check and the
  connection. Each redirect's target is checked again in the same way, before
  anything is sent to it. (Name resolution keeps the system resolver's own time
  limits: it is not cut by ``timeout``.)
* ``allow_loopback`` (for the tests' local server only) lets loopback addresses
  (127.0.0.0/8, ::1, ``localhost``) through, and nothing else that is not public;
* within limits: ``timeout`` is the deadline of the whole fetch (connections,
  redirects and every read, enforced by a watchdog that cuts the connection, so
  a server dripping bytes cannot hold it); a body above ``max_bytes``, declared
  or as it streams (before and after undoing gzip or deflate), is refused and
  nothing is kept; at most ``max_redirects`` redirects are followed.

Through a proxy (``proxy_url``: ``http://``, ``https://`` or ``socks5h://``, e.g.
Tor for sensitive fetches) the proxy resolves names and picks the address, so
the address check above cannot be made here: a URL whose host is an address
(in any spelling ``inet_aton`` accepts, such as ``2130706433``) must still be a
public one, and the names ``localhost`` and ``*.localhost`` are refused; any other
name is the proxy's to resolve, and to keep off private networks. ``socks5h``
needs the PySocks package, which is not among the project's requirements.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
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
from urllib.parse import quote, urljoin, urlsplit, urlunsplit

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
from warcio.statusandheaders import StatusAndHeaders
from warcio.timeutils import datetime_to_iso_date
from warcio.warcwriter import WARCWriter

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# Bodies are read, decoded and written in pieces of this size; files this small stay in memory.
_PIECE = 64 * 1024
_IN_MEMORY = 1024 * 1024
# NAT64 prefixes: the well-known one carries an IPv4 address in its last 32 bits; the local-use one
# leads wherever the local translator says, so it is never public.
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.IPv6Network("64:ff9b:1::/48")
# The host spellings that inet_aton reads as an IPv4 address ("127.1", "0x7f.0.0.1", "2130706433").
_NUMERIC_HOST = re.compile(r"[0-9a-fx.]+", re.IGNORECASE)
# A host name once IDNA-encoded (an IPv6 address, in brackets in the URL, is checked apart).
_HOST_NAME = re.compile(r"[a-z0-9_-]+(\.[a-z0-9_-]+)*\.?")
_PROXY_SCHEMES = ("http", "https", "socks5h")

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


class FetchError(Exception):
    """A page that was not fetched; ``str(error)`` is a sentence for staff, in their language."""

    retry: bool = False


class FetchRefused(FetchError):
    """Never fetched, and never will be: not http(s), not a public address, too large, too many redirects."""

    retry = False


class FetchFailed(FetchError):
    """The fetch did not succeed this time (too slow, no connection, no DNS answer, TLS failure): retry later."""

    retry = True


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


@dataclass(frozen=True)
class _Target:
    """One URL to request, checked for form, split into what the connection needs."""

    url: str  # normalised: lower-case scheme and host, default port left out, no fragment
    scheme: str
    host: str  # lower-case, ASCII (IDNA), without brackets
    port: int
    path: str  # the request target: path and query, percent-encoded

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"


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
            writer = WARCWriter(warc, gzip=True, warc_version="1.1")
            info = {
                "software": TOOL,
                "format": "WARC File Format 1.1",
                "conformsTo": "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
                "http-header-user-agent": user_agent,
                "requested-url": url,
            }
            writer.write_record(writer.create_warcinfo_record("", info))
            headers = {
                "User-Agent": user_agent,
                "Accept": "text/html,application/xhtml+xml,*/*;q=0.8",
                "Accept-Encoding": "gzip, deflate",
            }
            redirects: list[str] = []
            current = url
            while True:
                try:
                    target = _parse(current)
                    ip = _checked_address(target, allow_loopback=allow_loopback, proxied=proxy is not None)
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
                    _refuse_declared_size(response, max_bytes)
                    exchanged_at = datetime.now(UTC)
                    with tempfile.SpooledTemporaryFile(max_size=_IN_MEMORY) as raw:
                        raw_size, body_size, body_sha256 = _read_body(
                            response, deadline, max_bytes, raw, None if is_redirect else body
                        )
                        _write_exchange(writer, target, ip, request_headers, response, raw, raw_size, exchanged_at)
                if not is_redirect:
                    break
                redirects.append(target.url)
                current = urljoin(target.url, location.strip())
        warc_sha256, warc_size = _rewind(warc)
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


def _parse(url: str) -> _Target:
    """The URL split and normalised; FetchRefused unless it is an http(s) URL with a host and no user info."""
    invalid = FetchRefused(_("This web address is not valid: %(url)s") % {"url": url})
    if any(ord(character) < 32 or ord(character) == 127 for character in url.strip()):
        raise invalid
    try:
        parts = urlsplit(url.strip())
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https"):
            raise FetchRefused(
                _("Only web addresses starting with http:// or https:// are fetched, not %(url)s.") % {"url": url}
            )
        if "@" in parts.netloc:
            raise FetchRefused(_("Web addresses with a user name or password are not fetched: %(url)s") % {"url": url})
        hostname = parts.hostname or ""
        port = parts.port or (443 if scheme == "https" else 80)
        host = hostname if ":" in hostname else hostname.encode("idna").decode("ascii").lower()
    except (ValueError, UnicodeError):
        raise invalid from None
    if not (_HOST_NAME.fullmatch(host) or (":" in host and _literal_address(host))):
        raise invalid
    # Only characters that are not allowed in a URL are percent-encoded; existing escapes stay as they are.
    safe = "/%:@!$&'()*+,;=-._~?[]"
    path = quote(parts.path or "/", safe=safe)
    query = quote(parts.query, safe=safe)
    netloc = f"[{host}]" if ":" in host else host
    if parts.port and parts.port != (443 if scheme == "https" else 80):
        netloc = f"{netloc}:{port}"
    return _Target(
        url=urlunsplit((scheme, netloc, path, query, "")),
        scheme=scheme,
        host=host,
        port=port,
        path=f"{path}?{query}" if query else path,
    )


def _literal_address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address a host names literally, in any spelling a resolver would accept; None for a name."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if _NUMERIC_HOST.fullmatch(host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host.rstrip(".")))
        except OSError:
            return None
    return None


def is_public_address(address: str, *, allow_loopback: bool = False) -> bool:
    """True if ``address`` (an IP address) is on the public internet, or is loopback and that is allowed."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if allow_loopback and ip.is_loopback:
        return True
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in _NAT64_LOCAL or ip.is_site_local:
            return False
        # An IPv6 form that carries an IPv4 address leads to that address: judge that one.
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            return is_public_address(str(embedded))
    return ip.is_global and not (
        ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast or ip.is_reserved or ip.is_unspecified
    )


def _is_localhost(host: str) -> bool:
    host = host.rstrip(".")
    return host == "localhost" or host.endswith(".localhost")


def _checked_address(target: _Target, *, allow_loopback: bool, proxied: bool) -> str:
    """The address to connect to ('' through a proxy), once every address of the host has been found public."""
    not_public = FetchRefused(
        _("%(host)s is not an address on the public internet, so it is not fetched.") % {"host": target.host}
    )
    if _is_localhost(target.host) and not allow_loopback:
        raise not_public
    literal = _literal_address(target.host)
    if literal is not None and not is_public_address(str(literal), allow_loopback=allow_loopback):
        raise not_public
    if proxied:
        return ""
    try:
        answers = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise FetchFailed(_("The name %(host)s could not be found (DNS).") % {"host": target.host}) from error
    addresses = [str(answer[4][0]) for answer in answers]
    if not addresses:
        raise FetchFailed(_("The name %(host)s could not be found (DNS).") % {"host": target.host})
    for address in addresses:
        if not is_public_address(address, allow_loopback=allow_loopback):
            raise FetchRefused(
                _("%(host)s leads to %(address)s, which is not on the public internet, so it is not fetched.")
                % {"host": target.host, "address": address}
            )
    return addresses[0]


def _proxy_manager(proxy_url: str) -> urllib3.PoolManager | None:
    if not proxy_url:
        return None
    scheme = urlsplit(proxy_url).scheme.lower()
    if scheme not in _PROXY_SCHEMES:
        raise FetchRefused(_("The archive proxy must be an http://, https:// or socks5h:// address."))
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
    target: _Target,
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


def _refuse_declared_size(response: urllib3.BaseHTTPResponse, max_bytes: int) -> None:
    try:
        declared = int(response.headers.get("Content-Length", ""))
    except ValueError:
        return
    if declared > max_bytes:
        raise _too_large(max_bytes)


def _read_body(
    response: urllib3.BaseHTTPResponse,
    deadline: _Deadline,
    max_bytes: int,
    raw: IO[bytes],
    body: IO[bytes] | None,
) -> tuple[int, int, str]:
    """Copy the body as it came (into ``raw``) and decoded (into ``body``, if given), within the limits.

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
        if raw_size > max_bytes:
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


def _write_exchange(
    writer: WARCWriter,
    target: _Target,
    ip: str,
    request_headers: dict[str, str],
    response: urllib3.BaseHTTPResponse,
    raw: IO[bytes],
    raw_size: int,
    when: datetime,
) -> None:
    """One hop as a request record and a response record; warcio computes the digests."""
    warc_headers = {"WARC-Date": datetime_to_iso_date(when.replace(tzinfo=None), use_micros=True)}
    if ip:
        warc_headers["WARC-IP-Address"] = ip
    request = writer.create_warc_record(
        target.url,
        "request",
        http_headers=StatusAndHeaders(
            f"GET {target.path} HTTP/1.1", list(request_headers.items()), is_http_request=True
        ),
        warc_headers_dict=dict(warc_headers),
    )
    # The payload is kept with its Content-Encoding (as on the wire) but without its chunked framing, which
    # http.client has removed: the Transfer-Encoding header would no longer be true of it.
    headers = [(name, value) for name, value in response.headers.items() if name.lower() != "transfer-encoding"]
    protocol = "HTTP/1.0" if response.version == 10 else "HTTP/1.1"
    raw.seek(0)
    record = writer.create_warc_record(
        target.url,
        "response",
        payload=raw,
        length=raw_size,
        http_headers=StatusAndHeaders(f"{response.status} {response.reason or ''}".strip(), headers, protocol=protocol),
        warc_headers_dict=dict(warc_headers),
    )
    writer.write_request_response_pair(request, record)


def _rewind(file: IO[bytes]) -> tuple[str, int]:
    """The file's SHA-256 and size, leaving it positioned at 0."""
    file.seek(0)
    digest = hashlib.sha256()
    size = 0
    for piece in iter(lambda: file.read(_PIECE), b""):
        digest.update(piece)
        size += len(piece)
    file.seek(0)
    return digest.hexdigest(), size


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
