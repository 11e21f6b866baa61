from django.contrib.auth.decorators import login_not_required
from django.http import JsonResponse
from django.shortcuts import render
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


def home(request):
    """The home page is built from panels that each domain app offers (an app's `home.panels`)."""
    return render(request, "core/home.html", {"panels": collect("home", request)})
