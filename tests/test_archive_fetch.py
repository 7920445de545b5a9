"""Fetching a cited page (sources/fetch.py): what is kept (the body and a WARC file) and what is refused.

Every fetch goes to the local test server (tests/webserver.py); names that must look public are
given addresses by a monkeypatched ``socket.getaddrinfo``, and ``CONNECT_OVERRIDES`` (the module's
test seam) sends a connection to such an address to the local server, so the address checks run as
they do for real.
"""

import gzip
import hashlib
import socket
import tempfile
import time
from datetime import UTC

import pytest
from warcio.archiveiterator import ArchiveIterator

from sources import fetch as fetch_module
from sources.fetch import Fetched, FetchFailed, FetchRefused, fetch

from .webserver import GZIP_TEXT, PAGE, PAGE_MARKER, PDF, PNG

LIMIT = 100_000
PUBLIC_ADDRESS = "93.184.216.34"


def get(url: str, **options) -> Fetched:
    """A fetch with the test defaults: loopback allowed (the local server), small limits."""
    return fetch(url, **{"max_bytes": LIMIT, "timeout": 5.0, "allow_loopback": True, **options})


def fake_dns(monkeypatch, answers: dict[str, list[str]], failing: tuple[str, ...] = ()) -> None:
    """Names resolved as the test says (as getaddrinfo answers them), others as usual."""
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host in failing:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        if host in answers:
            return [
                (socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, port, 0, 0))
                if ":" in address
                else (socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))
                for address in answers[host]
            ]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(fetch_module.socket, "getaddrinfo", getaddrinfo)


def public_name_for(monkeypatch, web_server, name: str = "news.example") -> None:
    """``name`` resolves to a public address, and a connection to that address reaches the local server."""
    fake_dns(monkeypatch, {name: [PUBLIC_ADDRESS]})
    monkeypatch.setitem(fetch_module.CONNECT_OVERRIDES, (PUBLIC_ADDRESS, 80), ("127.0.0.1", web_server.port))


def warc_records(fetched: Fetched) -> list[dict]:
    """The WARC file's records, read back with warcio, digests checked; the file is left at 0."""
    records = []
    for record in ArchiveIterator(fetched.warc, check_digests="raise"):
        records.append(
            {
                "type": record.rec_type,
                "uri": record.rec_headers.get_header("WARC-Target-URI"),
                "ip": record.rec_headers.get_header("WARC-IP-Address"),
                "warc_headers": record.rec_headers,
                "http": record.http_headers,
                "content": record.content_stream().read(),
            }
        )
        assert record.digest_checker.passed is not False
    fetched.warc.seek(0)
    return records


def exchanges(records: list[dict]) -> list[tuple[str, str]]:
    return [(record["type"], record["uri"]) for record in records if record["type"] != "warcinfo"]


@pytest.fixture
def temp_files(monkeypatch):
    """Every temporary file made during the test (by the fetcher or by warcio), to check they are closed."""
    made = []

    class Tracked(tempfile.SpooledTemporaryFile):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(tempfile, "SpooledTemporaryFile", Tracked)
    return made


# Capture


@pytest.mark.parametrize(
    ("path", "served", "content_type"),
    [("/page.html", PAGE, "text/html"), ("/doc.pdf", PDF, "application/pdf"), ("/image.png", PNG, "image/png")],
)
def test_a_page_is_kept_as_its_body_and_a_readable_warc_file(web_server, path, served, content_type):
    url = web_server.url(path)
    with get(url) as fetched:
        assert fetched.status == 200
        assert fetched.content_type == content_type
        assert fetched.requested_url == fetched.final_url == url
        assert fetched.redirects == []
        assert fetched.ip_address == "127.0.0.1"
        assert fetched.started_at.tzinfo is UTC
        assert fetched.tool.startswith("Whereabouts")
        assert "warcio/1.8.2" in fetched.tool
        body = fetched.body.read()
        assert body == served
        assert fetched.body_size == len(served)
        assert fetched.body_sha256 == hashlib.sha256(served).hexdigest()
        warc = fetched.warc.read()
        assert warc[:2] == b"\x1f\x8b"  # gzipped
        assert fetched.warc_size == len(warc)
        assert fetched.warc_sha256 == hashlib.sha256(warc).hexdigest()
        fetched.warc.seek(0)
        records = warc_records(fetched)
    assert [record["type"] for record in records] == ["warcinfo", "response", "request"]
    assert exchanges(records) == [("response", url), ("request", url)]
    info = records[0]["content"].decode()
    assert f"software: {fetched.tool}" in info
    assert "format: WARC File Format 1.1" in info
    assert url in info
    response, request = records[1], records[2]
    assert response["content"] == served
    assert response["http"].get_statuscode() == "200"
    assert response["http"].get_header("Content-Type").startswith(content_type)
    assert response["ip"] == request["ip"] == "127.0.0.1"
    assert request["http"].protocol == "GET"
    assert request["http"].statusline == f"{path} HTTP/1.1"
    assert request["warc_headers"].get_header("WARC-Concurrent-To") == response["warc_headers"].get_header(
        "WARC-Record-ID"
    )
    assert records[0]["warc_headers"].protocol == "WARC/1.1"
    assert fetched.body.closed and fetched.warc.closed
    # What the server was asked: the fetcher names itself.
    (asked_path, headers), *_ = web_server.requests
    assert asked_path == path
    assert headers["User-Agent"].startswith("Whereabouts")
    assert headers["Host"] == f"127.0.0.1:{web_server.port}"


def test_a_chunked_page_is_kept_without_its_chunked_framing(web_server):
    with get(web_server.url("/chunked.html")) as fetched:
        assert fetched.body.read() == PAGE
        response = warc_records(fetched)[1]
    assert response["content"] == PAGE
    # The payload is kept de-chunked, so the WARC record no longer says it is chunked.
    assert response["http"].get_header("Transfer-Encoding") is None


def test_a_gzip_encoded_body_is_decoded_in_the_copy_and_kept_as_sent_in_the_warc(web_server):
    with get(web_server.url("/gzip")) as fetched:
        assert fetched.body.read() == GZIP_TEXT
        assert fetched.body_sha256 == hashlib.sha256(GZIP_TEXT).hexdigest()
        assert fetched.body_size == len(GZIP_TEXT)
        fetched.warc.seek(0)
        for record in ArchiveIterator(fetched.warc):
            if record.rec_type == "response":
                assert record.http_headers.get_header("Content-Encoding") == "gzip"
                assert gzip.decompress(record.raw_stream.read()) == GZIP_TEXT  # as it came on the wire
        fetched.warc.seek(0)
        assert warc_records(fetched)[1]["content"] == GZIP_TEXT  # and readers decode it
    assert web_server.requests[0][1]["Accept-Encoding"] == "gzip, deflate"


def test_a_redirect_is_followed_and_each_hop_archived(web_server):
    start, page = web_server.url("/redirect"), web_server.url("/page.html")
    with get(start) as fetched:
        assert fetched.requested_url == start
        assert fetched.final_url == page
        assert fetched.redirects == [start]
        assert fetched.status == 200
        assert fetched.body.read() == PAGE
        records = warc_records(fetched)
    assert exchanges(records) == [("response", start), ("request", start), ("response", page), ("request", page)]
    assert records[1]["http"].get_statuscode() == "302"
    assert records[1]["http"].get_header("Location") == "/page.html"
    assert records[3]["content"] == PAGE


def test_a_chain_of_redirects_of_every_kind_is_followed(web_server):
    with get(web_server.url("/redirect-chain")) as fetched:
        assert fetched.final_url == web_server.url("/page.html")
        assert fetched.redirects == [
            web_server.url("/redirect-chain"),
            web_server.url("/redirect-chain/2"),
            web_server.url("/redirect-chain/3"),
            web_server.url("/redirect-chain/page.html?from=chain"),
        ]
        records = warc_records(fetched)
    statuses = [record["http"].get_statuscode() for record in records if record["type"] == "response"]
    assert statuses == ["301", "307", "303", "308", "200"]
    assert len([record for record in records if record["type"] == "request"]) == 5


def test_a_missing_page_is_a_fetched_404_with_its_body(web_server):
    with get(web_server.url("/missing")) as fetched:
        assert fetched.status == 404
        assert fetched.content_type == "text/html"
        assert b"Not found" in fetched.body.read()
        assert warc_records(fetched)[1]["http"].get_statuscode() == "404"


def test_a_changed_page_gives_another_hash(web_server):
    with get(web_server.url("/changing")) as first:
        before = first.body_sha256
    web_server.set("/changing", f"<html><body>Second version {PAGE_MARKER}</body></html>")
    with get(web_server.url("/changing")) as second:
        assert second.body_sha256 != before
        assert PAGE_MARKER.encode() in second.body.read()


def test_a_flaky_server_fails_then_answers(web_server):
    web_server.set_flaky(1)
    with get(web_server.url("/flaky")) as fetched:
        assert fetched.status == 503  # an answer, not an error: the caller decides
    web_server.set_flaky(1, drop=True)
    with pytest.raises(FetchFailed) as failed:
        get(web_server.url("/flaky"))
    assert failed.value.retry is True
    with get(web_server.url("/flaky")) as fetched:
        assert fetched.status == 200
    assert web_server.hits["/flaky"] == 3


# Limits


def test_a_slow_response_fails_at_the_deadline(web_server):
    began = time.monotonic()
    with pytest.raises(FetchFailed) as failed:
        get(web_server.url("/slow"), timeout=1.0)
    elapsed = time.monotonic() - began
    assert 0.9 <= elapsed < 2.0
    assert failed.value.retry is True
    assert "1 second" in str(failed.value)


def test_a_server_dripping_its_headers_is_cut_at_the_deadline(web_server):
    began = time.monotonic()
    with pytest.raises(FetchFailed) as failed:
        get(web_server.url("/slow-headers"), timeout=1.0)
    assert time.monotonic() - began < 2.0
    assert "did not arrive within" in str(failed.value)


@pytest.mark.parametrize("path", ["/big", "/big-declared"])
def test_an_oversized_response_is_refused_and_nothing_kept(web_server, temp_files, path):
    with pytest.raises(FetchRefused) as refused:
        get(web_server.url(path))
    assert refused.value.retry is False
    assert "larger than the limit" in str(refused.value)
    assert temp_files
    assert all(file.closed for file in temp_files)


def test_a_body_at_the_limit_is_kept(web_server):
    web_server.set("/exact", b"x" * LIMIT, content_type="text/plain")
    with get(web_server.url("/exact")) as fetched:
        assert fetched.body_size == LIMIT


def test_a_gzip_body_that_inflates_past_the_limit_is_refused(web_server):
    web_server.set("/bomb", gzip.compress(b"\0" * (LIMIT * 50)), headers={"Content-Encoding": "gzip"})
    with pytest.raises(FetchRefused):
        get(web_server.url("/bomb"))


def test_too_many_redirects_are_refused(web_server):
    with pytest.raises(FetchRefused) as refused:
        get(web_server.url("/redirect-loop"))
    assert "more than 5 times" in str(refused.value)
    assert web_server.hits["/redirect-loop"] == 6  # the first request and five redirects followed
    with pytest.raises(FetchRefused):
        get(web_server.url("/redirect-chain"), max_redirects=3)
    assert web_server.hits["/page.html"] == 0


# Refused addresses


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "127.8.9.10",
        "[::1]",
        "localhost",
        "app.localhost",
        "10.1.2.3",
        "192.168.1.1",
        "172.16.5.4",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",  # noqa: S104 (a URL to refuse, not an address to bind)
        "224.0.0.1",
        "[::ffff:127.0.0.1]",
        "[::ffff:10.0.0.1]",
        "[fe80::1]",
        "[fc00::1]",
        "[2002:7f00:1::]",  # 6to4 of 127.0.0.1
        "[64:ff9b::a9fe:a9fe]",  # NAT64 of 169.254.169.254
        "2130706433",  # 127.0.0.1 as one number
        "0x7f.1",
    ],
)
def test_a_non_public_address_is_refused(web_server, host):
    with pytest.raises(FetchRefused) as refused:
        fetch(f"http://{host}:{web_server.port}/page.html", max_bytes=LIMIT, timeout=2.0)
    assert refused.value.retry is False
    assert "public internet" in str(refused.value)
    assert web_server.hits["/page.html"] == 0


def test_a_name_resolving_to_a_private_address_is_refused(monkeypatch):
    fake_dns(monkeypatch, {"intranet.example": ["10.0.0.7"]})
    with pytest.raises(FetchRefused) as refused:
        fetch("http://intranet.example/", max_bytes=LIMIT, timeout=2.0)
    assert "10.0.0.7" in str(refused.value)


def test_a_name_resolving_to_a_public_and_a_private_address_is_refused(monkeypatch):
    fake_dns(monkeypatch, {"mixed.example": [PUBLIC_ADDRESS, "192.168.0.5"]})
    with pytest.raises(FetchRefused) as refused:
        fetch("http://mixed.example/", max_bytes=LIMIT, timeout=2.0)
    assert "192.168.0.5" in str(refused.value)


def test_a_public_name_is_fetched_from_its_checked_address(monkeypatch, web_server):
    public_name_for(monkeypatch, web_server)
    with fetch("http://news.example/page.html", max_bytes=LIMIT, timeout=5.0) as fetched:
        assert fetched.status == 200
        assert fetched.ip_address == PUBLIC_ADDRESS
        assert fetched.final_url == "http://news.example/page.html"
        assert warc_records(fetched)[1]["ip"] == PUBLIC_ADDRESS
    assert web_server.requests[0][1]["Host"] == "news.example"


def test_https_goes_to_the_checked_address_with_the_certificate_checked_for_the_name(
    monkeypatch,
    https_web_server,
):
    port = https_web_server.port
    fake_dns(monkeypatch, {"news.example": [PUBLIC_ADDRESS], "other.example": [PUBLIC_ADDRESS]})
    monkeypatch.setitem(fetch_module.CONNECT_OVERRIDES, (PUBLIC_ADDRESS, 443), ("127.0.0.1", port))
    with fetch("https://news.example/page.html", max_bytes=LIMIT, timeout=5.0) as fetched:
        assert fetched.status == 200
        assert fetched.body.read() == PAGE
        assert fetched.final_url == "https://news.example/page.html"
    assert https_web_server.requests[0][1]["Host"] == "news.example"
    # The same server under a name its certificate does not bear.
    with pytest.raises(FetchFailed) as failed:
        fetch("https://other.example/page.html", max_bytes=LIMIT, timeout=5.0)
    assert "secure connection" in str(failed.value)
    assert https_web_server.hits["/page.html"] == 1


def test_only_the_webs_ports_are_fetched(monkeypatch, web_server):
    fake_dns(monkeypatch, {"news.example": [PUBLIC_ADDRESS]})
    for url in ("http://news.example:9200/", "https://news.example:8443/", "http://93.184.216.34:22/"):
        with pytest.raises(FetchRefused) as refused:
            fetch(url, max_bytes=LIMIT, timeout=5.0)
        assert "80 and 443" in str(refused.value)
    assert not web_server.hits


def test_a_redirect_to_loopback_is_refused_when_loopback_is_not_allowed(monkeypatch, web_server):
    public_name_for(monkeypatch, web_server)
    with pytest.raises(FetchRefused) as refused:
        fetch("http://news.example/to-loopback", max_bytes=LIMIT, timeout=5.0)
    assert "redirects to" in str(refused.value)
    assert "127.0.0.1" in str(refused.value)
    assert web_server.hits["/to-loopback"] == 1
    assert web_server.hits["/page.html"] == 0  # nothing was asked of the redirect's target


@pytest.mark.parametrize(("path", "address"), [("/to-metadata", "169.254.169.254"), ("/to-private", "10.1.2.3")])
def test_a_redirect_to_a_private_address_is_refused_even_with_loopback_allowed(web_server, path, address):
    with pytest.raises(FetchRefused) as refused:
        get(web_server.url(path), timeout=2.0)
    assert address in str(refused.value)
    assert web_server.hits[path] == 1


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://127.0.0.1/file.txt",
        "javascript:alert(1)",
        "http:///page.html",
        "http://user:secret@127.0.0.1/page.html",
        "http://user@127.0.0.1/page.html",
        "http://127.0.0.1:99999/",
        "http://exa mple.org/",
        "http://bad_host!/",
        "http://[fe80::1%25eth0]/",
        "http://127.0.0.1/\r\nX-Injected: 1",
    ],
)
def test_a_url_that_is_not_plain_http_is_refused(web_server, url):
    with pytest.raises(FetchRefused):
        get(url.replace("127.0.0.1/", f"127.0.0.1:{web_server.port}/"))
    assert sum(web_server.hits.values()) == 0


def test_characters_not_allowed_in_a_path_are_percent_encoded(web_server):
    web_server.set("/a%20page/%C3%A9", PAGE)
    with get(web_server.url("/a page/é?q=a b")) as fetched:
        assert fetched.status == 200
        assert fetched.final_url == web_server.url("/a%20page/%C3%A9?q=a%20b")
    assert web_server.requests[0][0] == "/a%20page/%C3%A9"


def test_a_redirect_to_a_file_url_is_refused(web_server):
    with pytest.raises(FetchRefused) as refused:
        get(web_server.url("/to-file"))
    assert "file:///etc/passwd" in str(refused.value)


# Failures worth retrying


def test_a_closed_port_fails_and_can_be_retried():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(FetchFailed) as failed:
        get(f"http://127.0.0.1:{port}/page.html")
    assert failed.value.retry is True
    assert "could not be reached" in str(failed.value)


def test_a_dns_failure_fails_and_can_be_retried(monkeypatch):
    fake_dns(monkeypatch, {}, failing=("gone.example",))
    with pytest.raises(FetchFailed) as failed:
        fetch("http://gone.example/", max_bytes=LIMIT, timeout=2.0)
    assert failed.value.retry is True
    assert "gone.example" in str(failed.value)


# Proxies


def test_through_a_proxy_literal_private_addresses_and_localhost_are_still_refused(web_server):
    proxy = web_server.url("/")  # never reached: the refusal comes first
    for url in ("http://10.1.2.3/", "http://localhost/", "http://[::1]/", "http://2130706433/"):
        with pytest.raises(FetchRefused):
            fetch(url, max_bytes=LIMIT, timeout=2.0, proxy_url=proxy)
    assert sum(web_server.hits.values()) == 0


def test_a_proxy_of_another_kind_is_refused():
    with pytest.raises(FetchRefused):
        fetch("http://news.example/", max_bytes=LIMIT, timeout=2.0, proxy_url="socks4://127.0.0.1:9050")


def test_a_socks_proxy_without_pysocks_is_refused_clearly(monkeypatch):
    monkeypatch.setattr(fetch_module, "find_spec", lambda name: None)
    with pytest.raises(FetchRefused) as refused:
        fetch("http://news.example/", max_bytes=LIMIT, timeout=2.0, proxy_url="socks5h://127.0.0.1:9050")
    assert "PySocks" in str(refused.value)


def test_an_http_proxy_is_asked_for_the_page(monkeypatch, web_server):
    # The local server plays the proxy: asked for an absolute URL, it answers for the path.
    fake_dns(monkeypatch, {"news.example": [PUBLIC_ADDRESS]})
    with fetch("http://news.example/page.html", max_bytes=LIMIT, timeout=5.0, proxy_url=web_server.url("")) as fetched:
        assert fetched.status == 200
        assert fetched.ip_address == ""
        assert fetched.body.read() == PAGE
        assert warc_records(fetched)[1]["ip"] is None
    assert web_server.requests[0][1]["Host"] == "news.example"


def test_an_http_proxy_is_never_asked_for_a_name_that_leads_to_a_private_address(monkeypatch, web_server):
    # Such a proxy reaches its own network: the name is checked here first, as without a proxy.
    fake_dns(monkeypatch, {"intranet.example": ["10.0.0.7"], "metadata.example": ["169.254.169.254"]})
    for url in ("http://intranet.example/", "http://metadata.example/latest/meta-data/"):
        with pytest.raises(FetchRefused):
            fetch(url, max_bytes=LIMIT, timeout=5.0, proxy_url=web_server.url(""))
    assert not web_server.hits


def test_the_public_address_rule():
    assert fetch_module.is_public_address(PUBLIC_ADDRESS)
    assert fetch_module.is_public_address("2606:4700:4700::1111")
    assert fetch_module.is_public_address("::ffff:93.184.216.34")
    assert not fetch_module.is_public_address("127.0.0.1")
    assert fetch_module.is_public_address("127.0.0.1", allow_loopback=True)
    assert fetch_module.is_public_address("::1", allow_loopback=True)
    assert not fetch_module.is_public_address("10.0.0.1", allow_loopback=True)
    assert not fetch_module.is_public_address("169.254.169.254", allow_loopback=True)
    assert not fetch_module.is_public_address("not an address")


def test_a_redirect_to_a_malformed_address_is_refused(web_server):
    web_server.redirect("/bad-location", "http://[oops/")
    with pytest.raises(FetchRefused) as refused:
        fetch(web_server.url("/bad-location"), max_bytes=LIMIT, timeout=5.0, allow_loopback=True)
    assert "redirects to http://[oops/" in str(refused.value)


def test_the_size_limit_counts_every_hop_of_a_fetch(web_server):
    web_server.set(
        "/heavy-redirect", b"x" * 600, status=302, content_type="text/plain", headers={"Location": "/page.html"}
    )
    with pytest.raises(FetchRefused) as refused:
        fetch(web_server.url("/heavy-redirect"), max_bytes=len(PAGE) + 500, timeout=5.0, allow_loopback=True)
    assert "larger than the limit" in str(refused.value)
    with fetch(web_server.url("/heavy-redirect"), max_bytes=len(PAGE) + 700, timeout=5.0, allow_loopback=True) as ok:
        assert ok.body.read() == PAGE
