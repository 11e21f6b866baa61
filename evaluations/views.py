from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from . import selectors, services
from .forms import MeetingForm


def project_list(request):
    return render(
        request, "evaluations/project_list.html", {"projects": selectors.projects_for(user=request.user)}
    )


def project_dashboard(request, pk: int):
    """Aggregates only: no patient names or ids anywhere on this page."""
    project = selectors.get_project_for_user(user=request.user, pk=pk)
    try:
        number = int(request.GET.get("cycle", ""))
    except ValueError:
        number = None
    context = selectors.dashboard(project=project, cycle_number=number)
    context["meeting_form"] = MeetingForm(
        cycles=context["cycles"], initial={"cycle": context["current"].number if context["current"] else ""}
    )
    context["can_record"] = (
        selectors.can_manage(user=request.user, project=project)
        or project.core_team.filter(user=request.user).exists()
    )
    return render(request, "evaluations/dashboard.html", context)


@require_POST
def meeting_create(request, pk: int):
    project = selectors.get_project_for_user(user=request.user, pk=pk)
    form = MeetingForm(request.POST, cycles=list(project.cycles.all()))
    if form.is_valid():
        data = form.cleaned_data
        cycle = selectors.cycle_of(project, int(data["cycle"])) if data["cycle"] else None
        try:
            services.meeting_record(
                project=project,
                by=request.user,
                held_on=data["held_on"],
                kind=data["kind"],
                cycle=cycle,
                minutes=data["minutes"],
                lessons=data["lessons"],
                findings=[(data["finding_kind"], data["finding_category"], data["finding_text"])],
            )
        except ValidationError as error:
            messages.error(request, error.messages[0])
        else:
            messages.success(request, _("Reflection meeting recorded."))
    else:
        for field, errors in form.errors.items():
            messages.error(
                request, f"{form.fields[field].label if field in form.fields else ''}: {errors[0]}"
            )
    suffix = f"?cycle={request.POST.get('cycle')}" if request.POST.get("cycle") else ""
    return redirect(f"/evaluations/{project.pk}/{suffix}")
