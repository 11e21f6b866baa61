import ipaddress

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.cache import cache
from django.http import HttpResponse, HttpResponseServerError, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.utils.crypto import constant_time_compare
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from collab_hub.audit.services import client_address

from .health import run_checks
from .panels import collect

# Anyone may ask whether the hub is up; the answer is computed at most once per HEALTH_CACHE_SECONDS
# (the worker ping waits up to a second), so a monitor polling often cannot tie up the web workers.
HEALTH_STATUS_KEY = "health:status"
HEALTH_LOCK_KEY = "health:computing"
# Headers a proxy sets; a loopback request carrying one came from somewhere else.
PROXY_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_FORWARDED", "HTTP_X_REAL_IP")


def _may_see_health_detail(request) -> bool:
    """Per-component detail for callers on this machine or with the HEALTH_TOKEN."""
    token = settings.HEALTH_TOKEN
    given = request.META.get("HTTP_AUTHORIZATION", "")
    if token and given.startswith("Bearer ") and constant_time_compare(given[7:].strip(), token):
        return True
    if settings.TRUSTED_PROXY_HOPS == 0 and any(header in request.META for header in PROXY_HEADERS):
        return False
    address = client_address(request)
    return address is not None and ipaddress.ip_address(address).is_loopback


def _overall_status() -> str:
    """'ok' or 'down', from the cache when it is fresh; one caller at a time recomputes it."""
    try:
        status = cache.get(HEALTH_STATUS_KEY)
        if status is not None:
            return status
        computing_elsewhere = not cache.add(HEALTH_LOCK_KEY, 1, timeout=5)
        stale = cache.get(f"{HEALTH_STATUS_KEY}:stale")
        if computing_elsewhere and stale is not None:
            return stale
    except Exception:  # the cache is Redis: when it is down, so is the hub
        return "down"
    status = "ok" if all(state["ok"] for state in run_checks().values()) else "down"
    try:
        cache.set(HEALTH_STATUS_KEY, status, timeout=settings.HEALTH_CACHE_SECONDS)
        cache.set(f"{HEALTH_STATUS_KEY}:stale", status, timeout=settings.HEALTH_CACHE_SECONDS * 10)
        cache.delete(HEALTH_LOCK_KEY)
    except Exception:  # noqa: S110 - reported as down by the checks themselves
        pass
    return status


@login_not_required
@never_cache
@require_GET
def health(request):
    if not _may_see_health_detail(request):
        status = _overall_status()
        return JsonResponse({"status": status}, status=200 if status == "ok" else 503)
    components = run_checks()
    down = sorted(name for name, state in components.items() if not state["ok"])
    body = {"status": "ok" if not down else "down", "down": down, "components": components}
    return JsonResponse(body, status=200 if not down else 503)


def ping(request):
    """The benchmarks' reference: a login-required page through the same middleware, doing nothing."""
    return HttpResponse("ok", content_type="text/plain")


def home(request):
    """The home page is built from panels that each domain app offers (an app's `home.panels`)."""
    return render(request, "core/home.html", {"panels": collect("home", request)})


# --- error pages: our layout, no stack traces, no data ----------------------------------------------


def bad_request(request, exception=None):
    return render(request, "400.html", status=400)


def permission_denied(request, exception=None):
    from collab_hub.audit.models import SecurityEvent
    from collab_hub.audit.services import security_event

    security_event(request, SecurityEvent.Kind.PERMISSION_DENIED, user=getattr(request, "user", None))
    return render(request, "403.html", status=403)


def page_not_found(request, exception=None):
    return render(request, "404.html", status=404)


def server_error(request):
    """Rendered without the request context: whatever broke (the database, say) is not touched again."""
    return HttpResponseServerError(loader.get_template("500.html").render())
