"""Which URLs and addresses the server may fetch (for ``sources.fetch``).

Anyone who can cite a source can make the server fetch a URL, so it fetches:

* only ``http`` and ``https`` URLs with a host and no user name or password
  (:func:`parse`, which also splits the URL into what the connection needs);
* only public addresses (:func:`checked_address`). The host name is resolved here
  (``socket.getaddrinfo``) and refused unless *every* address it has is on the
  public internet (:func:`is_public_address`): no loopback, private, link-local
  (169.254.169.254, the cloud metadata service), shared (100.64.0.0/10),
  multicast, reserved or unspecified address, nor those hidden in an IPv4-mapped,
  6to4 or NAT64 IPv6 address. ``sources.fetch`` then connects to the checked
  address itself (not to the name), so a second DNS answer cannot swap in a
  private address between the check and the connection. Each redirect's target
  is checked again in the same way, before anything is sent to it. (Name
  resolution keeps the system resolver's own time limits: it is not cut by the
  fetch's ``timeout``.)
* only on the web's ports, 80 and 443 (another port on a public address is
  often a service never meant to face the internet);
* ``allow_loopback`` (for the tests' local server only) lets loopback addresses
  (127.0.0.0/8, ::1, ``localhost``) and any port through, and nothing else that
  is not public.

Through an ``http://`` or ``https://`` proxy (:func:`proxy_scheme`) all of the
above still holds: the name is resolved and checked here, and the proxy, which
reaches whatever its own network does, is asked for the name only once it is
found public. A ``socks5h://`` proxy (Tor, for sensitive fetches) resolves names
itself, so that the lookup does not leave from the organisation's address: then
a URL whose host is an address (in any spelling ``inet_aton`` accepts, such as
``2130706433``) must still be a public one, and the names ``localhost`` and
``*.localhost`` are refused; any other name is the proxy's to resolve (Tor
reaches only the public internet).
"""

from __future__ import annotations

import ipaddress
import re
import socket
from dataclasses import dataclass
from urllib.parse import quote, urlsplit, urlunsplit

from django.utils.translation import gettext as _

from sources.fetch_errors import FetchFailed, FetchRefused

# NAT64 prefixes: the well-known one carries an IPv4 address in its last 32 bits; the local-use one
# leads wherever the local translator says, so it is never public.
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.IPv6Network("64:ff9b:1::/48")
# The host spellings that inet_aton reads as an IPv4 address ("127.1", "0x7f.0.0.1", "2130706433").
_NUMERIC_HOST = re.compile(r"[0-9a-fx.]+", re.IGNORECASE)
# A host name once IDNA-encoded (an IPv6 address, in brackets in the URL, is checked apart).
_HOST_NAME = re.compile(r"[a-z0-9_-]+(\.[a-z0-9_-]+)*\.?")
PROXY_SCHEMES = ("http", "https", "socks5h")


@dataclass(frozen=True)
class Target:
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


def parse(url: str) -> Target:
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
    return Target(
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


# The ports fetched: the web's own. Another port on a public address is often a service the internet was never
# meant to reach (a database, an admin panel); only the tests' own server (allow_loopback) has another.
WEB_PORTS = frozenset({80, 443})


def checked_address(target: Target, *, allow_loopback: bool, proxied: bool, proxy_resolves: bool = False) -> str:
    """The address to connect to ('' through a proxy), once every address of the host has been found public.

    Through an HTTP proxy the name is still resolved and checked here (such a proxy reaches whatever its own
    network does, loopback and metadata addresses included); only a proxy that resolves names itself to reach
    the internet (``socks5h``, Tor) is left to do so, with the checks of the URL's own text above.
    """
    not_public = FetchRefused(
        _("%(host)s is not an address on the public internet, so it is not fetched.") % {"host": target.host}
    )
    if _is_localhost(target.host) and not allow_loopback:
        raise not_public
    literal = _literal_address(target.host)
    if literal is not None and not is_public_address(str(literal), allow_loopback=allow_loopback):
        raise not_public
    if target.port not in WEB_PORTS and not allow_loopback:
        raise FetchRefused(
            _("Only web addresses on the web's ports (80 and 443) are fetched, not %(url)s.") % {"url": target.url}
        )
    if proxied and proxy_resolves:
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
    return "" if proxied else addresses[0]


def proxy_scheme(proxy_url: str) -> str:
    """The proxy URL's scheme, lower-case; FetchRefused unless it is one of PROXY_SCHEMES."""
    scheme = urlsplit(proxy_url).scheme.lower()
    if scheme not in PROXY_SCHEMES:
        raise FetchRefused(_("The archive proxy must be an http://, https:// or socks5h:// address."))
    return scheme
