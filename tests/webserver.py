"""A web server on 127.0.0.1 for the tests that fetch pages: never the network.

Use the fixture by importing it into a test module::

    from .webserver import web_server  # noqa: F401 (fixture)

``web_server.url("/page.html")`` is a page's address. Routes are planted with
``web_server.set(path, body, status=..., content_type=..., headers=...)`` (a
route set by a test replaces a built-in one); ``web_server.hits[path]`` counts
the requests for a path and ``web_server.requests`` keeps each one's path and
headers. Built-in routes:

* ``/page.html`` (HTML containing ``PAGE_MARKER``), ``/doc.pdf``, ``/image.png``,
  ``/chunked.html`` (the page, sent with ``Transfer-Encoding: chunked``),
  ``/gzip`` (``GZIP_TEXT``, gzip-encoded), ``/missing`` (404 with an HTML body),
  ``/changing`` (a body for the test to change with ``set``);
* ``/redirect`` (302 to /page.html), ``/redirect-chain`` (three redirects, then
  /page.html), ``/redirect-loop`` (to itself), ``/to-loopback``,
  ``/to-metadata``, ``/to-private``, ``/to-file`` (302 to
  http://127.0.0.1:<port>/page.html, http://169.254.169.254/latest/meta-data/,
  http://10.1.2.3/ and file:///etc/passwd);
* ``/slow``: a byte every 0.2 s for ``slow_seconds`` (5 s); ``/slow-headers``:
  the same, but inside a header line; ``/big``:
  ``big_size`` bytes (2 MiB), chunked, without Content-Length;
  ``/big-declared``: a Content-Length of 50 MB and a few bytes;
* ``/flaky``: 503 (or, after ``set_flaky(n, drop=True)``, a dropped
  connection) for the next ``n`` requests, then the page.
"""

from __future__ import annotations

import gzip
import shutil
import ssl
import struct
import subprocess
import sys
import threading
import time
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest

PAGE_MARKER = "whereabouts-test-page-7c1e"
PAGE = (
    "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>A cited page</title></head>"
    f"<body><h1>Detained on 3 March</h1><p>{PAGE_MARKER}</p><p>Ünïcödé text.</p></body></html>"
).encode()
MISSING_PAGE = b"<!DOCTYPE html><html><body><h1>Not found</h1><p>No such page.</p></body></html>"
GZIP_TEXT = ("A compressed statement, repeated. " * 200).encode()


def _pdf() -> bytes:
    """A small, well-formed one-page PDF (header, objects, cross-reference table, trailer)."""
    stream = b"BT /F1 18 Tf 72 720 Td (Statement of the family) Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def _png() -> bytes:
    """A 2×2 RGB PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\xc0\x20\x20" * 2 for _ in range(2))
    header = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


PDF = _pdf()
PNG = _png()


@dataclass
class Route:
    body: bytes
    status: int = 200
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    chunked: bool = False


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        # A client that hangs up early (a fetch refusing a body past its limit) is expected, not an error.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class WebServer:
    """The running server, its routes and what it was asked."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.scheme = "https" if tls else "http"
        self.routes: dict[str, Route] = {}
        self.hits: Counter[str] = Counter()
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.slow_seconds = 5.0
        self.big_size = 2 * 1024 * 1024
        self.flaky_failures = 0
        self.flaky_drop = False
        self.lock = threading.Lock()
        self.httpd = _Server(("127.0.0.1", 0), _Handler)
        self.httpd.web = self  # type: ignore[attr-defined]
        if tls is not None:
            # The handshake happens in the request's thread, so a client that refuses the certificate holds up no one.
            self.httpd.socket = tls.wrap_socket(self.httpd.socket, server_side=True, do_handshake_on_connect=False)
        self.port = self.httpd.server_address[1]
        self._plant_defaults()

    def url(self, path: str) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}{path}"

    def set(
        self,
        path: str,
        body: bytes | str,
        *,
        status: int = 200,
        content_type: str = "text/html; charset=utf-8",
        headers: dict[str, str] | None = None,
        chunked: bool = False,
    ) -> None:
        """Serve ``body`` at ``path`` (replacing what was there)."""
        with self.lock:
            self.routes[path] = Route(
                body.encode() if isinstance(body, str) else body, status, content_type, dict(headers or {}), chunked
            )

    def redirect(self, path: str, location: str, status: int = 302) -> None:
        self.set(path, b"", status=status, content_type="text/plain", headers={"Location": location})

    def set_flaky(self, failures: int, *, drop: bool = False) -> None:
        """Fail the next ``failures`` requests to /flaky: with a 503, or by dropping the connection."""
        with self.lock:
            self.flaky_failures = failures
            self.flaky_drop = drop

    def _plant_defaults(self) -> None:
        self.set("/page.html", PAGE)
        self.set("/chunked.html", PAGE, chunked=True)
        self.set("/doc.pdf", PDF, content_type="application/pdf")
        self.set("/image.png", PNG, content_type="image/png")
        self.set("/missing", MISSING_PAGE, status=404)
        self.set("/changing", b"<html><body>First version</body></html>")
        self.set("/gzip", gzip.compress(GZIP_TEXT), content_type="text/plain", headers={"Content-Encoding": "gzip"})
        self.redirect("/redirect", "/page.html")
        self.redirect("/redirect-chain", "/redirect-chain/2", status=301)
        self.redirect("/redirect-chain/2", self.url("/redirect-chain/3"), status=307)
        self.redirect("/redirect-chain/3", "page.html?from=chain", status=303)
        self.redirect("/redirect-chain/page.html", "/page.html", status=308)
        self.redirect("/redirect-loop", "/redirect-loop")
        self.redirect("/to-loopback", self.url("/page.html"))
        self.redirect("/to-metadata", "http://169.254.169.254/latest/meta-data/")
        self.redirect("/to-private", "http://10.1.2.3/")
        self.redirect("/to-file", "file:///etc/passwd")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: ThreadingHTTPServer

    @property
    def web(self) -> WebServer:
        return self.server.web  # type: ignore[attr-defined]

    def log_message(self, format: str, *args: object) -> None:  # the tests' output stays quiet
        pass

    def do_GET(self) -> None:
        path = urlsplit(self.path).path  # an absolute URL when the server plays a proxy
        with self.web.lock:
            self.web.hits[path] += 1
            self.web.requests.append((path, dict(self.headers.items())))
            route = self.web.routes.get(path)
            flaky_failure = path == "/flaky" and self.web.flaky_failures > 0
            if flaky_failure:
                self.web.flaky_failures -= 1
        if route is not None:
            self._send(route)
        elif path == "/slow":
            self._slow()
        elif path == "/slow-headers":
            self._slow_headers()
        elif path == "/big":
            self._big()
        elif path == "/big-declared":
            self._head(200, "application/octet-stream", {"Content-Length": str(50_000_000), "Connection": "close"})
            self.wfile.write(b"x" * 1024)
            self.close_connection = True
        elif path == "/flaky" and flaky_failure and self.web.flaky_drop:
            self.close_connection = True  # no answer at all: the connection closes
        elif path == "/flaky" and flaky_failure:
            self._send(Route(b"<html><body>Try again later</body></html>", status=503))
        elif path == "/flaky":
            self._send(Route(PAGE))
        else:
            self._send(Route(MISSING_PAGE, status=404))

    def _head(self, status: int, content_type: str, headers: dict[str, str]) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()

    def _send(self, route: Route) -> None:
        if route.chunked:
            self._head(route.status, route.content_type, {**route.headers, "Transfer-Encoding": "chunked"})
            self._write_chunks(route.body[i : i + 100] for i in range(0, len(route.body), 100))
        else:
            self._head(route.status, route.content_type, {**route.headers, "Content-Length": str(len(route.body))})
            self.wfile.write(route.body)

    def _write_chunks(self, pieces: Iterator[bytes]) -> None:
        for piece in pieces:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")

    def _slow(self) -> None:
        self._head(200, "text/plain", {"Connection": "close"})
        self.close_connection = True
        end = time.monotonic() + self.web.slow_seconds
        try:
            while time.monotonic() < end:
                self.wfile.write(b".")
                self.wfile.flush()
                time.sleep(0.2)
        except OSError:  # the client gave up, as it should
            pass

    def _slow_headers(self) -> None:
        self.close_connection = True
        try:
            self.wfile.write(b"HTTP/1.1 200 OK\r\nX-Drip: ")
            end = time.monotonic() + self.web.slow_seconds
            while time.monotonic() < end:
                self.wfile.write(b"a")
                self.wfile.flush()
                time.sleep(0.2)
        except OSError:
            pass

    def _big(self) -> None:
        self._head(200, "application/octet-stream", {"Transfer-Encoding": "chunked"})
        piece = b"B" * 65536
        try:
            self._write_chunks(piece for _ in range(self.web.big_size // len(piece)))
        except OSError:  # the client stopped reading at its limit
            self.close_connection = True


@pytest.fixture
def web_server() -> Iterator[WebServer]:
    yield from _running(WebServer())


@pytest.fixture
def https_web_server(tmp_path, monkeypatch) -> Iterator[WebServer]:
    """The same server over TLS, with a self-signed certificate for ``news.example`` that this process trusts
    (through SSL_CERT_FILE, which the default certificate store reads): a page there is only fetched if the
    certificate is checked against that name. Needs the openssl command."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("needs the openssl command")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(  # noqa: S603 (a fixed command)
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=news.example",
         "-addext", "subjectAltName=DNS:news.example", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert, key)
    yield from _running(WebServer(tls))


def _running(server: WebServer) -> Iterator[WebServer]:
    thread = threading.Thread(target=server.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.httpd.shutdown()
        server.httpd.server_close()
        thread.join(timeout=5)
