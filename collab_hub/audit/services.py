import logging

from django.http import HttpRequest

from .models import AccessEvent, AccessLogEntry, Outcome

security_logger = logging.getLogger("collab_hub.security")


def client_address(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


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


def security_event(request: HttpRequest | None, kind: str, *, user=None, username: str = ""):
    """One row in the security log and one line in the `collab_hub.security` logger."""
    from .models import SecurityEvent

    authenticated = user is not None and getattr(user, "is_authenticated", False)
    name = (user.get_username() if authenticated else username or "")[:150]
    event = SecurityEvent.objects.create(
        kind=kind,
        user=user if authenticated else None,
        username=name,
        client_address=client_address(request),
        path=(request.path[:200] if request is not None else ""),
    )
    security_logger.info(
        "security %s user=%s address=%s path=%s", kind, name, event.client_address or "-", event.path or "-"
    )
    return event
