import ipaddress
import logging

from django.conf import settings
from django.http import HttpRequest

from .models import AccessEvent, AccessLogEntry, Outcome

security_logger = logging.getLogger("collab_hub.security")


def _address(value: str | None) -> str | None:
    """`value` as a normalised IP address, or None when it is not one."""
    if not value:
        return None
    try:
        return str(ipaddress.ip_address(value.strip().strip("[]")))
    except ValueError:
        return None


def client_address(request: HttpRequest | None) -> str | None:
    """The address of the person's machine: the one helper behind the lockout (django-axes), the log-in
    throttle, the access log and the security log.

    Behind TRUSTED_PROXY_HOPS reverse proxies, REMOTE_ADDR is the nearest proxy's address and each
    proxy appends the address it received the request from to X-Forwarded-For, so the client is the
    entry that many places from the end. Entries further left were written by the client itself and
    are never believed. With no trusted hops the header is ignored altogether (anyone can send it)."""
    if request is None:
        return None
    remote = _address(request.META.get("REMOTE_ADDR"))
    hops = settings.TRUSTED_PROXY_HOPS
    if hops <= 0:
        return remote
    chain = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    chain = [part for part in chain if part]
    if not chain:
        return remote  # not through the proxies (a health check on the host itself, say)
    # Fewer entries than hops: the request entered the chain past its first proxy; the oldest entry
    # is then the furthest machine a trusted proxy saw.
    return _address(chain[-min(hops, len(chain))]) or remote


def access_log_write(
    *,
    user,
    event: AccessEvent | str,
    outcome: Outcome | str = Outcome.ALLOWED,
    request: HttpRequest | None = None,
    role: str = "",
    on_behalf_of: str = "",
    patient_id: int | None = None,
    object_type: str = "",
    object_id: int | None = None,
    purpose: str = "",
    consent_id: int | None = None,
    reason: str = "",
    needs_review: bool = False,
) -> AccessLogEntry:
    """Append one row to the access log. Raises when it cannot be written: callers fail closed."""
    authenticated = user is not None and getattr(user, "is_authenticated", False)
    return AccessLogEntry.objects.create(
        event=event,
        outcome=outcome,
        user=user if authenticated else None,
        user_name=(user.get_full_name() or user.get_username()) if authenticated else "",
        role=role[:100],
        on_behalf_of=on_behalf_of[:200],
        patient_id=patient_id,
        object_type=object_type,
        object_id=object_id,
        purpose=purpose[:100],
        consent_id=consent_id,
        client_address=client_address(request),
        reason=reason[:500],
        needs_review=needs_review,
    )


def security_event(request: HttpRequest | None, kind: str, *, user=None, username: str = "", actor=None):
    """One row in the security log and one line in the `collab_hub.security` logger. `actor` is who
    did it when that is not `user` (an admin resetting someone's two-step log-in)."""
    from .models import SecurityEvent

    authenticated = user is not None and getattr(user, "is_authenticated", False)
    name = (user.get_username() if authenticated else username or "")[:150]
    event = SecurityEvent.objects.create(
        kind=kind,
        user=user if authenticated else None,
        username=name,
        actor=actor,
        client_address=client_address(request),
        path=(request.path[:200] if request is not None else ""),
    )
    security_logger.info(
        "security %s user=%s by=%s address=%s path=%s",
        kind,
        name,
        actor.get_username() if actor is not None else "-",
        event.client_address or "-",
        event.path or "-",
    )
    return event
