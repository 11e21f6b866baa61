import json

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from . import selectors
from .filters import PeopleFilter, ServiceFilter
from .hsds import social_map_as_hsds
from .models import Membership, Organisation, Service, Team
from .services import can_maintain_service, service_mark_checked

User = get_user_model()
PAGE_SIZE = 20


def _filtered_page(request, filterset, template: str, partial: str, extra: dict | None = None):
    page = Paginator(filterset.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"filter": filterset, "page": page, "query": query.urlencode(), **(extra or {})}
    return render(request, partial if request.htmx else template, context)


@require_safe
def people_list(request):
    filterset = PeopleFilter(request.GET or None, queryset=selectors.people_directory())
    return _filtered_page(request, filterset, "teams/people_list.html", "teams/_people_results.html")


@require_safe
def person_detail(request, pk: int):
    person = get_object_or_404(selectors.people_directory(), pk=pk)
    today = timezone.localdate()
    context = {
        "person": person,
        "hours": selectors.upcoming_hours(person_ids=[person.pk], after=today, per_hour=2)[:6],
        "absence": person.absences.filter(starts_on__lte=today, ends_on__gte=today).first(),
        "contact_for": person.contact_for.select_related("practice", "team").order_by("practice__name"),
        "deputy_for": person.deputy_for.select_related("practice", "team", "contact").order_by(
            "practice__name"
        ),
    }
    return render(request, "teams/person_detail.html", context)


@require_safe
def organisation_detail(request, pk: int):
    organisation = get_object_or_404(Organisation.objects.select_related("area", "contact_person"), pk=pk)
    today = timezone.localdate()
    teams = organisation.teams.prefetch_related("memberships__user__profile").order_by("name")
    contacts = []
    if organisation.is_primary_care:
        named = list(
            selectors._named_contacts().filter(practice=organisation).order_by("team__name", "life_domain")
        )
        contacts = selectors.resolve_named_contacts(named, on=today)
    context = {
        "organisation": organisation,
        "teams": teams,
        "contacts": contacts,
        "hours": selectors.upcoming_hours(location_ids=[organisation.pk], after=today, per_hour=2)[:8],
        "services": organisation.services.order_by("name"),
    }
    return render(request, "teams/organisation_detail.html", context)


@require_safe
def team_detail(request, pk: int):
    team = get_object_or_404(Team.objects.select_related("organisation"), pk=pk)
    today = timezone.localdate()
    named = list(selectors._named_contacts().filter(team=team).order_by("practice__name", "life_domain"))
    is_coordinator = (
        request.user.is_staff
        or team.memberships.filter(user=request.user, role=Membership.Role.COORDINATOR).exists()
    )
    context = {
        "team": team,
        "memberships": team.memberships.select_related("user__profile").order_by("user__last_name"),
        "contacts": selectors.resolve_named_contacts(named, on=today),
        "areas": team.areas.all(),
        "is_coordinator": is_coordinator,
        "gaps": selectors.practices_without_contact(team=team) if is_coordinator else [],
    }
    return render(request, "teams/team_detail.html", context)


@require_safe
def social_map(request):
    filterset = ServiceFilter(request.GET or None, queryset=selectors.social_map())
    return _filtered_page(
        request,
        filterset,
        "teams/social_map.html",
        "teams/_service_results.html",
        {"today": timezone.localdate()},
    )


@require_safe
def service_detail(request, pk: int):
    service = get_object_or_404(selectors.social_map(), pk=pk)
    context = {
        "service": service,
        "is_stale": service.is_stale(today=timezone.localdate()),
        "can_maintain": can_maintain_service(user=request.user, service=service),
    }
    return render(request, "teams/service_detail.html", context)


@require_POST
def service_checked(request, pk: int):
    service = get_object_or_404(Service.objects.select_related("organisation"), pk=pk)
    service_mark_checked(service=service, by=request.user)
    messages.success(request, _("Marked as checked today. Thank you for keeping the social map up to date."))
    return redirect("teams:service_detail", pk=service.pk)


@staff_member_required
def hsds_export(request):
    body = json.dumps(social_map_as_hsds(), ensure_ascii=False, indent=2)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="social-map-hsds-{timezone.localdate():%Y%m%d}.json"'
    )
    return response
