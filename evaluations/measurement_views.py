"""Pages for measurement: answer a questionnaire round, open/close rounds, record a ZRM or Positive
Health measurement for a patient, and the effects calculator."""

import csv

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from collab_hub.audit.models import AccessEvent
from collab_hub.audit.services import AuditContext
from patients.selectors import EMERGENCY, get_patient_for_user

from . import measurement_selectors as ms
from . import measurement_services as services
from . import selectors
from .measurement_forms import ActivityForm, AnswerForm, CaseForm, OutcomeForm, RoundForm
from .measurement_models import EffectCase, Instrument, MeasurementRound, RoundInvitation
from .selectors import Access
from .views import report_error, report_form_errors


def questionnaires(request):
    return render(
        request, "evaluations/questionnaires.html", {"invitations": ms.open_invitations(user=request.user)}
    )


def round_answer(request, round_id: int):
    invitation = get_object_or_404(
        RoundInvitation.objects.select_related("round__version__instrument", "round__project"),
        round_id=round_id,
        user=request.user,
    )
    measurement_round = invitation.round
    version = measurement_round.version
    form = AnswerForm(request.POST or None, version=version)
    if request.method == "POST" and form.is_valid():
        try:
            services.response_submit(measurement_round=measurement_round, by=request.user, raw=form.answers())
        except ValidationError as error:
            report_error(request, error)
        else:
            messages.success(request, _("Thank you. Your answers are stored without your name."))
            return redirect("evaluations:questionnaires")
    return render(
        request,
        "evaluations/round_answer.html",
        {"form": form, "round": measurement_round, "invitation": invitation, "version": version},
        status=400 if request.method == "POST" and form.errors else 200,
    )


@require_POST
def round_open(request, pk: int):
    project = selectors.get_project_for_user(user=request.user, pk=pk, needs=Access.MANAGE)
    form = RoundForm(request.POST)
    if form.is_valid():
        try:
            services.round_open(project=project, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            report_error(request, error)
        else:
            messages.success(request, _("The round is open; everyone in the project has been invited."))
    else:
        report_form_errors(request, form)
    return redirect("evaluations:dashboard", pk=project.pk)


@require_POST
def round_close(request, pk: int, round_id: int):
    project = selectors.get_project_for_user(user=request.user, pk=pk, needs=Access.MANAGE)
    measurement_round = get_object_or_404(MeasurementRound, pk=round_id, project=project)
    try:
        services.round_close(measurement_round=measurement_round, by=request.user)
    except ValidationError as error:
        report_error(request, error)
    return redirect("evaluations:dashboard", pk=project.pk)


def outcome_new(request, patient_pk: int, code: str):
    """Record a ZRM or Positive Health measurement (for a patient this person may see)."""
    event = AccessEvent.CREATE if request.method == "POST" else AccessEvent.VIEW
    access = get_patient_for_user(
        user=request.user, pk=patient_pk, audit=AuditContext.from_request(request), event=event
    )
    if access.view == EMERGENCY and request.method == "POST":
        raise PermissionDenied  # emergency access reads, it does not record
    instrument = get_object_or_404(Instrument, code=code, purpose=Instrument.Purpose.PATIENT_OUTCOME)
    version = instrument.current_version()
    if version is None:
        raise Http404
    form = OutcomeForm(request.POST or None, version=version)
    if request.method == "POST" and form.is_valid():
        try:
            services.outcome_record(
                access=access,
                by=request.user,
                version=version,
                measured_on=form.cleaned_data["measured_on"],
                raw=form.answers(),
                self_report=form.cleaned_data["self_report"],
            )
        except ValidationError as error:
            report_error(request, error)
        else:
            messages.success(request, _("Measurement saved."))
            return redirect("patients:detail", pk=access.patient.pk)
    return render(
        request,
        "evaluations/outcome_form.html",
        {"form": form, "patient": access.patient, "instrument": instrument},
        status=400 if request.method == "POST" else 200,
    )


# --- effects calculator ---------------------------------------------------------------------------


def effects(request, pk: int):
    project = selectors.get_project_for_user(user=request.user, pk=pk)
    access = selectors.access_to(user=request.user, project=project)
    cases = list(ms.effect_cases(project=project))
    # One activity form per case, with ids of its own (the labels of one case's form point at its fields).
    case_rows = [
        {"case": case, "totals": ms.case_totals([case]), "form": ActivityForm(auto_id=f"id_case{case.pk}_%s")}
        for case in cases
    ]
    prices = list(case_rows[0]["form"].fields["price"].choices) if case_rows else []
    for row in case_rows[1:]:  # the price list read once, not once per case
        row["form"].fields["price"].choices = prices
    return render(
        request,
        "evaluations/effects.html",
        {
            "project": project,
            "cases": case_rows,
            "totals": ms.case_totals(cases),
            "can_edit": access >= Access.CORE,
            "case_form": CaseForm(),
        },
    )


@require_POST
def effect_case_add(request, pk: int):
    project = selectors.get_project_for_user(user=request.user, pk=pk, needs=Access.CORE)
    form = CaseForm(request.POST)
    if form.is_valid():
        try:
            services.effect_case_add(project=project, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            report_error(request, error)
    else:
        report_form_errors(request, form)
    return redirect("evaluations:effects", pk=project.pk)


@require_POST
def case_activity_add(request, pk: int, case_id: int):
    project = selectors.get_project_for_user(user=request.user, pk=pk, needs=Access.CORE)
    case = get_object_or_404(EffectCase, pk=case_id, project=project)
    form = ActivityForm(request.POST)
    if form.is_valid():
        try:
            services.case_activity_add(case=case, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            report_error(request, error)
    else:
        report_form_errors(request, form)
    return redirect("evaluations:effects", pk=project.pk)


def effects_csv(request, pk: int):
    project = selectors.get_project_for_user(user=request.user, pk=pk)
    if not (
        selectors.can_export(user=request.user, project=project)
        or selectors.access_to(user=request.user, project=project) >= Access.CORE
    ):
        raise PermissionDenied
    from .exports import cell_safe

    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="effects-{project.pk}.csv"'
    writer = csv.writer(response)
    writer.writerow(
        [
            "case",
            "scenario",
            "month",
            "activity",
            "unit",
            "quantity",
            "price",
            "party",
            "year",
            "source",
            "cost",
        ]
    )
    for case in ms.effect_cases(project=project).prefetch_related("activities__price"):
        for a in case.activities.all():
            writer.writerow(
                [
                    cell_safe(v)
                    for v in (
                        case.label,
                        a.scenario,
                        a.month,
                        a.price.name,
                        a.price.unit,
                        a.quantity,
                        a.price.price,
                        a.price.party,
                        a.price.year,
                        a.price.source,
                        a.quantity * a.price.price,
                    )
                ]
            )
    return response
