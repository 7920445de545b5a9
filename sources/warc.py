"""The WARC file of a fetch (for ``sources.fetch``): a warcinfo record, then each exchange as a request
record and a response record, gzipped, in the WARC 1.1 format.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import IO

import urllib3
from warcio.statusandheaders import StatusAndHeaders
from warcio.timeutils import datetime_to_iso_date
from warcio.warcwriter import WARCWriter

from sources.addresses import Target

# The file is read back in pieces of this size to hash it.
_PIECE = 64 * 1024


def new_writer(file: IO[bytes], *, software: str, user_agent: str, requested_url: str) -> WARCWriter:
    """A writer of a gzipped WARC 1.1 file into ``file``, its warcinfo record written first."""
    writer = WARCWriter(file, gzip=True, warc_version="1.1")
    info = {
        "software": software,
        "format": "WARC File Format 1.1",
        "conformsTo": "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
        "http-header-user-agent": user_agent,
        "requested-url": requested_url,
    }
    writer.write_record(writer.create_warcinfo_record("", info))
    return writer


def write_exchange(
    writer: WARCWriter,
    target: Target,
    ip: str,
    request_headers: dict[str, str],
    response: urllib3.BaseHTTPResponse,
    raw: IO[bytes],
    raw_size: int,
    when: datetime,
) -> None:
    """One hop as a request record and a response record; warcio computes the digests.

    ``raw`` holds the response's body as it came (``raw_size`` bytes), ``ip`` the address it came from
    ('' through a proxy).
    """
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


def rewind(file: IO[bytes]) -> tuple[str, int]:
    """The file's SHA-256 and size, leaving it positioned at 0."""
    file.seek(0)
    digest = hashlib.sha256()
    size = 0
    for piece in iter(lambda: file.read(_PIECE), b""):
        digest.update(piece)
        size += len(piece)
    file.seek(0)
    return digest.hexdigest(), size
