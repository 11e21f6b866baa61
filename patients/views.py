"""Patient pages. Every patient is fetched through `get_patient_for_user`, which logs the access.

The BSN is personal data of the highest sensitivity: it is only ever sent in POST bodies (never a
URL), the views that receive it hide it from error reports (`sensitive_post_parameters`), the
model's repr leaves it out, and it is shown only in the practice's full view.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_POST

from collab_hub.audit.models import AccessEvent
from collab_hub.audit.services import AuditContext, access_log_write
from collab_hub.core.http import local_url
from collab_hub.core.panels import collect
from teams.selectors import care_practices_of

from . import selectors, services
from .forms import ConcernForm, ConsentForm, EmergencyAccessForm, PatientForm, PatientSearchForm
from .models import Patient

PAGE_SIZE = 25
SEARCH_LIMIT = 50


def _apply_form_errors(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


@never_cache
def patient_list(request):
    """My practice's patients. Searching uses POST so names and dates of birth stay out of URLs and logs."""
    form = PatientSearchForm(request.POST or None)
    searched = request.method == "POST" and form.is_valid()
    if searched:
        patients = list(selectors.patient_search(user=request.user, **form.cleaned_data)[: SEARCH_LIMIT + 1])
        page = None
        truncated = len(patients) > SEARCH_LIMIT
        patients = patients[:SEARCH_LIMIT]
    else:
        page = Paginator(selectors.patient_list_for(user=request.user), PAGE_SIZE).get_page(
            request.GET.get("page")
        )
        patients, truncated = list(page), False
    access_log_write(
        user=request.user,
        request=request,
        event=AccessEvent.SEARCH,
        role=selectors.role_of(request.user),
        object_type="patient_list",
        reason=f"{len(patients)} shown: " + ",".join(str(p.pk) for p in patients),
    )
    context = {
        "form": form,
        "patients": patients,
        "page": page,
        "searched": searched,
        "truncated": truncated,
        "can_create": care_practices_of(request.user).exists(),
        "can_break_the_glass": services.may_break_the_glass(request.user),
    }
    return render(request, "patients/patient_list.html", context)


@never_cache
@sensitive_variables("data")
@sensitive_post_parameters("bsn")
def patient_create(request):
    practices = care_practices_of(request.user).order_by("name")
    if not practices:
        raise PermissionDenied
    duplicates = []
    form = PatientForm(
        request.POST or None,
        practices=practices,
        show_duplicate_confirmation=bool(request.POST.get("confirm_shown")),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        practice = data.get("practice") or practices[0]
        duplicates = list(
            selectors.possible_duplicates(
                practice=practice,
                first_name=data["first_name"],
                last_name=data["last_name"],
                date_of_birth=data["date_of_birth"],
            )
        )
        if duplicates and not data.get("confirm_not_duplicate"):
            form = PatientForm(request.POST, practices=practices, show_duplicate_confirmation=True)
            form.is_valid()
        else:
            try:
                patient = services.patient_create(
                    by=request.user, audit=AuditContext.from_request(request), practice=practice, **data
                )
            except ValidationError as error:
                _apply_form_errors(form, error)
            else:
                messages.success(request, _("Patient saved."))
                return redirect("patients:detail", pk=patient.pk)
    return render(
        request, "patients/patient_form.html", {"form": form, "duplicates": duplicates, "creating": True}
    )


def _patient(request, pk: int, **kwargs):
    return selectors.get_patient_for_user(
        user=request.user, pk=pk, audit=AuditContext.from_request(request), **kwargs
    )


def _change_or_view(request) -> AccessEvent:
    return AccessEvent.CHANGE if request.method == "POST" else AccessEvent.VIEW


@never_cache
def patient_detail(request, pk: int):
    access = _patient(request, pk)
    context = {
        "access": access,
        "patient": access.patient,
        "concerns": selectors.concerns_for(access),
        "consents": selectors.consents_for(access),
        "panels": collect("patient_panels", request, access),
    }
    return render(request, "patients/patient_detail.html", context)


@never_cache
@sensitive_variables("data")
@sensitive_post_parameters("bsn")
def patient_edit(request, pk: int):
    access = _patient(request, pk, event=_change_or_view(request), needs="edit")
    form = PatientForm(request.POST or None, instance=access.patient)
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "confirm_not_duplicate"}
        try:
            services.patient_update(
                by=request.user,
                audit=AuditContext.from_request(request),
                patient=Patient.objects.get(pk=pk),
                **data,
            )
        except ValidationError as error:
            _apply_form_errors(form, error)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("patients:detail", pk=pk)
    return render(request, "patients/patient_form.html", {"form": form, "patient": access.patient})


@never_cache
def concern_create(request, pk: int):
    access = _patient(request, pk, event=_change_or_view(request), needs="edit")
    form = ConcernForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.concern_add(
            by=request.user,
            audit=AuditContext.from_request(request),
            patient=access.patient,
            **form.cleaned_data,
        )
        messages.success(request, _("Concern added."))
        return redirect("patients:detail", pk=pk)
    return render(request, "patients/concern_form.html", {"form": form, "patient": access.patient})


@never_cache
def consent_create(request, pk: int):
    """Only the patient's practice records consent (never the recipient for itself)."""
    access = _patient(request, pk, event=_change_or_view(request), purpose="consent", needs="edit")
    form = ConsentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.consent_record(
                by=request.user,
                audit=AuditContext.from_request(request),
                patient=access.patient,
                **form.cleaned_data,
            )
        except ValidationError as error:
            _apply_form_errors(form, error)
        else:
            messages.success(request, _("Consent recorded."))
            # Sending a referral may have sent the GP here first: go back there afterwards.
            next_url = local_url(request, request.POST.get("next"))
            if next_url:
                return HttpResponseRedirect(next_url)
            return redirect("patients:detail", pk=pk)
    return render(
        request,
        "patients/consent_form.html",
        {"form": form, "patient": access.patient, "next": request.GET.get("next", "")},
    )


@require_POST
def consent_withdraw(request, pk: int, consent_pk: int):
    access = _patient(
        request,
        pk,
        event=AccessEvent.CHANGE,
        purpose="consent",
        object_type="consent",
        object_id=consent_pk,
        needs="edit",
    )
    consent = get_object_or_404(access.patient.consents, pk=consent_pk)
    try:
        services.consent_withdraw(by=request.user, audit=AuditContext.from_request(request), consent=consent)
    except ValidationError as error:
        messages.error(request, error.messages[0])
    else:
        messages.success(request, _("Consent withdrawn. From now on nothing is shared on the basis of it."))
    return redirect("patients:detail", pk=pk)


@never_cache
def access_history(request, pk: int):
    access = _patient(request, pk, event=AccessEvent.PRINT, purpose="access history", needs="edit")
    entries = list(selectors.access_history(patient=access.patient)[:500])
    for entry in entries:
        entry.role_label = selectors.role_label(entry.role)
        entry.what, entry.why = selectors.access_in_words(entry)
    return render(request, "patients/access_history.html", {"patient": access.patient, "entries": entries})


@never_cache
def emergency_access(request):
    """Break the glass: find a patient outside your care relationships, with a reason, for 24 hours.
    Only care roles that have it; every lookup is logged, reviewed and counted against a daily limit."""
    if not services.may_break_the_glass(request.user):
        if request.method == "POST":  # an attempt, not a look at the page: refused and logged for review
            services.emergency_access_request(
                by=request.user,
                audit=AuditContext.from_request(request),
                last_name="",
                date_of_birth=None,
                postcode="",
                # Raw text into the log: no NUL (Postgres refuses it), no more than the column takes.
                reason=str(request.POST.get("reason", "")).replace("\x00", "")[:500],
            )
        raise PermissionDenied
    form = EmergencyAccessForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            relation = services.emergency_access_request(
                by=request.user, audit=AuditContext.from_request(request), **form.cleaned_data
            )
        except services.EmergencyAccessRefused as refusal:
            form.add_error(None, str(refusal))
        except ValidationError as error:
            _apply_form_errors(form, error)
        else:
            if relation is not None:
                messages.warning(
                    request,
                    _("Emergency access granted for 24 hours, read only. This access will be reviewed."),
                )
                return redirect("patients:detail", pk=relation.patient_id)
            form.add_error(
                None, _("No single patient matches these details. Check them, or contact the practice.")
            )
    context = {"form": form, "lookups_left": services.emergency_lookups_left(user=request.user)}
    return render(request, "patients/emergency_access.html", context)
