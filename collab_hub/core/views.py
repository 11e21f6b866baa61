from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponse, HttpResponseServerError, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .health import run_checks
from .panels import collect


@login_not_required
@never_cache
@require_GET
def health(request):
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
