"""The visitor's address, as seen through the configured number of trusted proxies."""

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or the address the trusted proxies saw.

    With ``TRUSTED_PROXY_COUNT`` = n, the n-th address from the right of
    X-Forwarded-For is the client as the outermost trusted proxy saw it;
    addresses further left were written by the client itself and are not
    trusted. Behind no proxy (n = 0) the header is ignored, so nobody can
    choose their own address, and behind a proxy every client keeps their own
    address instead of sharing the proxy's (one lockout counter each).
    """
    count = settings.TRUSTED_PROXY_COUNT
    remote = request.META.get("REMOTE_ADDR", "")
    if count <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if len(forwarded) < count:
        return remote
    return forwarded[-count]
