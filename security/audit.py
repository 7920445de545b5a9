"""Record a security event. Callers pass facts, never secrets: no passwords, tokens or keys."""

from django.http import HttpRequest
from simple_history.models import HistoricalRecords

from .clientip import client_ip
from .models import AuditEvent

# Keys whose values are never stored, whoever passes them.
_SECRET_KEYS = {"password", "password1", "password2", "token", "otp_token", "key", "secret", "csrfmiddlewaretoken"}


def record(action: str, *, request: HttpRequest | None = None, actor=None, username: str = "", target="", **details):
    # Signals and services are called without the request: the one being served, if any, says who and from where.
    request = request or getattr(HistoricalRecords.context, "request", None)
    if actor is None and request is not None and getattr(request, "user", None) and request.user.is_authenticated:
        actor = request.user
    clean = {key: value for key, value in details.items() if key.lower() not in _SECRET_KEYS}
    return AuditEvent.objects.create(
        action=action,
        actor=actor,
        username=username or (actor.get_username() if actor is not None else ""),
        ip_address=(client_ip(request) or None) if request is not None else None,
        target=str(target)[:200],
        details=clean,
    )
