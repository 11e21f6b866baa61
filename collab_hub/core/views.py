from django.contrib.auth.decorators import login_not_required
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .health import run_checks


@login_not_required
@never_cache
@require_GET
def health(request):
    components = run_checks()
    down = sorted(name for name, state in components.items() if not state["ok"])
    body = {"status": "ok" if not down else "down", "down": down, "components": components}
    return JsonResponse(body, status=200 if not down else 503)


def home(request):
    return render(request, "core/home.html")
