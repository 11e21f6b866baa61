from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from collab_hub.audit.models import AccessEvent
from collab_hub.audit.services import access_log_write

from . import selectors, services
from .exports import export_path
from .forms import ActForm, ActionItemForm, DoLogForm, ExportForm, MeetingForm, PeriodForm, PlanForm
from .measurement_forms import RoundForm
from .models import PHASE_ORDER, ActionItem, Export, Phase
from .selectors import Access


def report_error(request, error: ValidationError) -> None:
    messages.error(request, " ".join(error.messages))


def report_form_errors(request, form) -> None:
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        messages.error(request, f"{label}: {errors[0]}" if label else errors[0])


def project_list(request):
    """The overview of every project the user may see, with headline figures (aggregates only)."""
    return render(request, "evaluations/project_list.html", selectors.projects_overview(user=request.user))


def project_dashboard(request, pk: int):
    """Aggregates only: no patient names or ids anywhere on this page."""
    project = selectors.get_project_for_user(user=request.user, pk=pk)
    try:
        number = int(request.GET.get("cycle", ""))
    except ValueError:
        number = None
    access = selectors.access_to(user=request.user, project=project)
    context = selectors.dashboard(project=project, cycle_number=number)
    context["meeting_form"] = MeetingForm(
        cycles=context["cycles"], initial={"cycle": context["current"].number if context["current"] else ""}
    )
    context["can_record"] = access >= Access.CORE
    context["can_manage"] = access >= Access.MANAGE
    context["can_export"] = selectors.can_export(user=request.user, project=project)
    context["period_form"] = PeriodForm.first(project)
    context["round_form"] = RoundForm()
    context["rounds_chart"] = [
        {
            "label": str(r["round"]),
            "codes": [row["name"] for row in r["rows"]],
            "means": [row["mean"] for row in r["rows"]],
        }
        for r in context["rounds"]
        if r["results"]
    ]
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
            report_error(request, error)
        else:
            messages.success(request, _("Reflection meeting recorded."))
    else:
        report_form_errors(request, form)
    cycle = request.POST.get("cycle", "")
    suffix = f"?cycle={cycle}" if cycle.isascii() and cycle.isdecimal() else ""
    return redirect(reverse("evaluations:dashboard", args=[project.pk]) + suffix)


# --- cycles: Plan, Do, Check, Act -----------------------------------------------------------------


def _cycle(request, pk: int, number: int, needs: Access = Access.READ):
    project = selectors.get_project_for_user(user=request.user, pk=pk, needs=needs)
    cycle = selectors.cycle_of(project, number)
    if cycle is None:
        raise Http404
    return project, cycle


def _cycle_page(request, project, cycle, *, forms=None, status=200):
    access = selectors.access_to(user=request.user, project=project)
    cycles, _current, previous = selectors.periods(project, cycle.number)
    following = next((c for c in cycles if c.number == cycle.number + 1), None)
    forms = forms or {}
    today = timezone.localdate()
    position = PHASE_ORDER.index(cycle.phase)
    following_phase = PHASE_ORDER[position + 1] if cycle.phase != Phase.CLOSED else None
    aggregates = selectors.referral_aggregates(
        project=project, cycles=cycles, current=cycle, previous=previous
    )
    context = {
        "project": project,
        "cycle": cycle,
        "cycles": cycles,
        "following": following,
        "phases": [p for p in PHASE_ORDER if p != Phase.CLOSED],
        "phase_index": position,
        "next_phase": following_phase,
        "next_phase_label": following_phase.label if following_phase else "",
        # No figures while the dates can still change (selectors.dashboard says why).
        "rows": selectors.check_rows(
            cycle=cycle,
            now={} if cycle.phase == Phase.PLAN else aggregates["now"],
            before=aggregates["before"],
            withheld=aggregates.get("withheld_cycles", set()),
        ),
        "previous_label": selectors.previous_label(cycle, previous),
        "cycle_withheld": cycle.number in aggregates.get("withheld_cycles", set()),
        "planning": cycle.phase == Phase.PLAN,
        "shared_ground": aggregates.get("shared_ground", False),
        "do_log": cycle.do_log.select_related("author").order_by("on", "pk"),
        "actions": cycle.action_items.select_related("owner").order_by("status", "due_on"),
        "can_manage": access >= Access.MANAGE,
        "can_take_part": access >= Access.CORE,
        "plan_form": forms.get("plan") or PlanForm.for_cycle(cycle),
        "do_form": forms.get("do") or DoLogForm(initial={"on": today}),
        "act_form": forms.get("act")
        or ActForm(
            initial={"decision": cycle.decision, "rationale": cycle.rationale, "lessons": cycle.lessons}
        ),
        "action_form": forms.get("action") or ActionItemForm(project=project, initial={"cycle": cycle}),
        "next_form": forms.get("next") or PeriodForm.after(cycle),
    }
    return render(request, "evaluations/cycle.html", context, status=status)


def cycle_detail(request, pk: int, number: int):
    project, cycle = _cycle(request, pk, number)
    return _cycle_page(request, project, cycle)


def _back(cycle):
    return redirect("evaluations:cycle", pk=cycle.project_id, number=cycle.number)


@require_POST
def cycle_plan(request, pk: int, number: int):
    project, cycle = _cycle(request, pk, number, needs=Access.MANAGE)
    form = PlanForm(request.POST)
    if not form.is_valid():
        return _cycle_page(request, project, cycle, forms={"plan": form}, status=400)
    data = form.cleaned_data
    try:
        services.cycle_plan_update(
            cycle=cycle,
            by=request.user,
            objective=data["objective"],
            change_to_test=data["change_to_test"],
            measures=data["measures"],
            predictions=form.predictions(),
            starts_on=data["starts_on"],
            ends_on=data["ends_on"],
        )
    except ValidationError as error:
        report_error(request, error)
    else:
        messages.success(request, _("Plan saved."))
    return _back(cycle)


@require_POST
def cycle_do(request, pk: int, number: int):
    project, cycle = _cycle(request, pk, number, needs=Access.CORE)
    form = DoLogForm(request.POST)
    if not form.is_valid():
        return _cycle_page(request, project, cycle, forms={"do": form}, status=400)
    try:
        services.cycle_do_log_add(cycle=cycle, by=request.user, **form.cleaned_data)
    except ValidationError as error:
        report_error(request, error)
    else:
        messages.success(request, _("Added to the do-log."))
    return _back(cycle)


@require_POST
def cycle_act(request, pk: int, number: int):
    project, cycle = _cycle(request, pk, number, needs=Access.MANAGE)
    form = ActForm(request.POST)
    if not form.is_valid():
        return _cycle_page(request, project, cycle, forms={"act": form}, status=400)
    try:
        services.cycle_act_record(cycle=cycle, by=request.user, **form.cleaned_data)
    except ValidationError as error:
        report_error(request, error)
    else:
        messages.success(request, _("Decision saved."))
    return _back(cycle)


@require_POST
def cycle_advance(request, pk: int, number: int):
    cycle = _cycle(request, pk, number, needs=Access.MANAGE)[1]
    try:
        cycle = services.cycle_advance(cycle=cycle, by=request.user)
    except ValidationError as error:
        report_error(request, error)
    else:
        messages.success(
            request, _("The cycle is now in its %(phase)s phase.") % {"phase": cycle.get_phase_display()}
        )
    return _back(cycle)


@require_POST
def cycle_create(request, pk: int):
    """The first cycle of a project, or the next one, seeded from the last cycle's Act."""
    project = selectors.get_project_for_user(user=request.user, pk=pk, needs=Access.MANAGE)
    form = PeriodForm(request.POST)
    last = project.cycles.order_by("-number").first()
    if not form.is_valid():
        report_form_errors(request, form)
        return _back(last) if last else redirect("evaluations:dashboard", pk=project.pk)
    try:
        if last is None:
            cycle = services.cycle_create_first(project=project, by=request.user, **form.cleaned_data)
        else:
            cycle = services.cycle_start_next(cycle=last, by=request.user, **form.cleaned_data)
    except ValidationError as error:
        report_error(request, error)
        return _back(last) if last else redirect("evaluations:dashboard", pk=project.pk)
    messages.success(request, _("Cycle %(n)s planned.") % {"n": cycle.number})
    return _back(cycle)


# --- action items ---------------------------------------------------------------------------------


@require_POST
def action_create(request, pk: int):
    project = selectors.get_project_for_user(user=request.user, pk=pk, needs=Access.CORE)
    form = ActionItemForm(request.POST, project=project)
    if form.is_valid():
        try:
            services.action_item_create(project=project, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            report_error(request, error)
        else:
            messages.success(request, _("Action item added."))
    else:
        report_form_errors(request, form)
    raw = request.POST.get("cycle", "")
    # isdecimal, not isdigit: "²" is a digit that int() refuses.
    cycle = project.cycles.filter(pk=int(raw)).first() if raw.isdecimal() and raw.isascii() else None
    return _back(cycle) if cycle else redirect("evaluations:dashboard", pk=project.pk)


@require_POST
def action_close(request, pk: int, item_id: int):
    project = selectors.get_project_for_user(user=request.user, pk=pk)
    item = get_object_or_404(
        ActionItem.objects.select_related("project", "cycle"), pk=item_id, project=project
    )
    try:
        services.action_item_close(item=item, by=request.user, status=request.POST.get("status", ""))
    except ValidationError as error:
        report_error(request, error)
    else:
        messages.success(request, _("Action item closed."))
    return _back(item.cycle) if item.cycle else redirect("evaluations:dashboard", pk=project.pk)


# --- exports for researchers ----------------------------------------------------------------------


def _exporting(request, pk: int):
    project = selectors.get_project_for_user(user=request.user, pk=pk)
    if not selectors.can_export(user=request.user, project=project):
        raise PermissionDenied
    return project


def exports(request, pk: int):
    project = _exporting(request, pk)
    form = ExportForm(request.POST or None, researcher=selectors.is_researcher(request.user))
    if request.method == "POST":
        if form.is_valid():
            try:
                services.export_request(project=project, by=request.user, **form.cleaned_data)
            except ValidationError as error:
                report_error(request, error)
            else:
                messages.success(
                    request, _("The export is being prepared; it appears below when it is ready.")
                )
                return redirect("evaluations:exports", pk=project.pk)
        else:
            report_form_errors(request, form)
    mine = Export.objects.filter(project=project, requested_by=request.user)[:20]
    return render(request, "evaluations/exports.html", {"project": project, "form": form, "exports": mine})


def export_status(request, pk: int, export_id: int):
    """The progress row of one export; htmx polls it until the export is ready or failed."""
    project = _exporting(request, pk)
    export = get_object_or_404(Export, pk=export_id, project=project, requested_by=request.user)
    return render(request, "evaluations/_export_row.html", {"project": project, "export": export})


@never_cache
def export_download(request, pk: int, export_id: int):
    project = _exporting(request, pk)
    export = get_object_or_404(
        Export, pk=export_id, project=project, requested_by=request.user, state=Export.State.DONE
    )
    path = export_path(export)
    if not path.exists():
        raise Http404
    access_log_write(
        user=request.user,
        request=request,
        event=AccessEvent.EXPORT,
        object_type="export_download",
        object_id=export.pk,
        purpose="research",
        reason=f"project {project.pk}, {export.dataset}, {export.rows_done} rows",
    )
    return FileResponse(
        path.open("rb"),
        as_attachment=True,
        filename=f"{project.pk}-{export.dataset}-{export.created_at:%Y%m%d}.{export.format}",
    )
