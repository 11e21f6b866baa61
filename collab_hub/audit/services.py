import ipaddress
import logging
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest

from .models import AccessEvent, AccessLogEntry, Outcome

security_logger = logging.getLogger("collab_hub.security")


def _address(value: str | None) -> str | None:
    """`value` as a normalised IP address, or None when it is not one. Accepts what proxies write:
    `203.0.113.9`, `203.0.113.9:4711`, `2001:db8::1`, `[2001:db8::1]:443`; an IPv4 address mapped into
    IPv6 counts as the IPv4 address."""
    if not value:
        return None
    value = value.strip()
    if value.startswith("["):  # [v6] or [v6]:port
        value = value[1 : value.find("]")] if "]" in value else value
    elif value.count(":") == 1:  # v4:port
        value = value.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return str(address)


def _trusted_proxy(address: str | None) -> bool:
    if address is None:
        return False
    ip = ipaddress.ip_address(address)
    return any(ip in network for network in settings.TRUSTED_PROXY_NETWORKS)


def client_address(request: HttpRequest | None) -> str | None:
    """The address of the person's machine: the one helper behind the lockout (django-axes), the log-in
    throttle, the access log and the security log.

    Behind TRUSTED_PROXY_HOPS reverse proxies, REMOTE_ADDR is the nearest proxy's address and each
    proxy appends the address it received the request from to X-Forwarded-For. Walking from the right,
    each hop is believed only while the machine that wrote it is a trusted proxy
    (TRUSTED_PROXY_ADDRESSES): entries the client wrote itself, or a request that reached gunicorn
    without passing the proxies, claim nothing. With no trusted hops the header is ignored altogether."""
    if request is None:
        return None
    peer = _address(request.META.get("REMOTE_ADDR"))
    hops = settings.TRUSTED_PROXY_HOPS
    chain = [part for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    for _hop in range(hops):
        if not chain or not _trusted_proxy(peer):
            return peer
        written = chain.pop()
        parsed = _address(written)
        if parsed is None:
            security_logger.warning("unreadable X-Forwarded-For entry %r from proxy %s", written[:60], peer)
            return None
        peer = parsed
    return peer


@dataclass(frozen=True)
class AuditContext:
    """Where an action comes from, for the access log, without the HTTP request: services, Celery tasks
    and the demo seeding act through the same rules as a view. A view builds it once per request."""

    client_address: str | None = None
    on_behalf_of: str = ""

    @classmethod
    def from_request(cls, request: HttpRequest) -> "AuditContext":
        return cls(client_address=client_address(request))


def access_log_write(
    *,
    user,
    event: AccessEvent | str,
    outcome: Outcome | str = Outcome.ALLOWED,
    request: HttpRequest | None = None,
    audit: AuditContext | None = None,
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
    """Append one row to the access log. Raises when it cannot be written: callers fail closed.
    The client address comes from `request` or, for callers without one, from `audit`."""
    authenticated = user is not None and getattr(user, "is_authenticated", False)
    if audit is None and request is not None:
        audit = AuditContext.from_request(request)
    audit = audit or AuditContext()
    return AccessLogEntry.objects.create(
        event=event,
        outcome=outcome,
        user=user if authenticated else None,
        user_name=(user.get_full_name() or user.get_username()) if authenticated else "",
        role=role[:100],
        on_behalf_of=(on_behalf_of or audit.on_behalf_of)[:200],
        patient_id=patient_id,
        object_type=object_type,
        object_id=object_id,
        purpose=purpose[:100],
        consent_id=consent_id,
        client_address=audit.client_address,
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
