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

# Anyone may ask whether the hub is up. The checks (the worker ping waits up to a second) run at most
# once per HEALTH_CACHE_SECONDS whoever asks, so polling, or a proxy that makes every caller look
# local, cannot tie up the web workers.
HEALTH_KEY = "health:components"
HEALTH_LOCK_KEY = "health:computing"
# Headers a proxy sets; a loopback request carrying one came from somewhere else.
PROXY_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_FORWARDED", "HTTP_X_REAL_IP")


def _may_see_health_detail(request) -> bool:
    """Per-component detail for callers with the HEALTH_TOKEN, or on this machine itself (loopback and
    no proxy header at all)."""
    token = settings.HEALTH_TOKEN
    given = request.META.get("HTTP_AUTHORIZATION", "")
    if token and given.startswith("Bearer ") and constant_time_compare(given[7:].strip(), token):
        return True
    if any(header in request.META for header in PROXY_HEADERS):
        return False
    address = client_address(request)
    return address is not None and ipaddress.ip_address(address).is_loopback


def _components() -> dict:
    """The component checks, from the cache when fresh; one caller at a time recomputes them (the others
    get the previous answer meanwhile)."""
    try:
        components = cache.get(HEALTH_KEY)
        if components is not None:
            return components
        stale = cache.get(f"{HEALTH_KEY}:stale")
        if not cache.add(HEALTH_LOCK_KEY, 1, timeout=5) and stale is not None:
            return stale
    except Exception:  # the cache is Redis: the checks below say what is down
        return run_checks()
    components = run_checks()
    try:
        cache.set(HEALTH_KEY, components, timeout=settings.HEALTH_CACHE_SECONDS)
        cache.set(f"{HEALTH_KEY}:stale", components, timeout=settings.HEALTH_CACHE_SECONDS * 10)
        cache.delete(HEALTH_LOCK_KEY)
    except Exception:  # noqa: S110 - Redis went away meanwhile; the answer says so next time
        pass
    return components


@login_not_required
@never_cache
@require_GET
def health(request):
    components = _components()
    down = sorted(name for name, state in components.items() if not state["ok"])
    body = {"status": "ok" if not down else "down"}
    if _may_see_health_detail(request):
        body.update({"down": down, "components": components})
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
