"""Writes of patient data. Each service logs its access in the same transaction (NEN 7513)."""

from datetime import date, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables

from collab_hub.audit.models import AccessEvent
from collab_hub.audit.services import access_log_write

from .models import PATIENT_FIELDS, CareRelationship, Concern, Consent, Patient
from .selectors import practice_ids_of, role_of

EMERGENCY_ACCESS_DURATION = timedelta(hours=24)


def _log(
    request: HttpRequest,
    event: AccessEvent,
    patient: Patient,
    *,
    object_type: str,
    object_id: int,
    purpose: str = "care",
    consent_id: int | None = None,
    reason: str = "",
    needs_review: bool = False,
) -> None:
    access_log_write(
        user=request.user,
        request=request,
        event=event,
        role=role_of(request.user),
        patient_id=patient.pk,
        object_type=object_type,
        object_id=object_id,
        purpose=purpose,
        consent_id=consent_id,
        reason=reason,
        needs_review=needs_review,
    )


def _save_without_leaking(patient: Patient, **kwargs) -> None:
    """Save, turning a unique-BSN race into a form error: Postgres would quote the BSN in its message."""
    try:
        with transaction.atomic():
            patient.save(**kwargs)
    except IntegrityError as error:
        if "patient_unique_bsn" in str(error):
            raise ValidationError({"bsn": _("Another patient already has this BSN.")}) from None
        raise


@sensitive_variables("data")
@transaction.atomic
def patient_create(*, request: HttpRequest, practice, **data) -> Patient:
    if practice.pk not in practice_ids_of(request.user):
        raise PermissionDenied
    patient = Patient(
        practice=practice, created_by=request.user, **{k: data[k] for k in PATIENT_FIELDS if k in data}
    )
    patient.full_clean()
    _save_without_leaking(patient)
    _log(request, AccessEvent.CREATE, patient, object_type="patient", object_id=patient.pk)
    return patient


@sensitive_variables("data")
@transaction.atomic
def patient_update(*, request: HttpRequest, patient: Patient, **data) -> Patient:
    changed = [k for k in PATIENT_FIELDS if k in data and getattr(patient, k) != data[k]]
    for field in changed:
        setattr(patient, field, data[field])
    patient.full_clean()
    if changed:
        _save_without_leaking(patient, update_fields=changed)
    _log(request, AccessEvent.CHANGE, patient, object_type="patient", object_id=patient.pk)
    return patient


@transaction.atomic
def concern_add(
    *,
    request: HttpRequest,
    patient: Patient,
    domain: str,
    description: str,
    since: date | None = None,
    status: str = Concern.Status.ACTIVE,
) -> Concern:
    concern = Concern(
        patient=patient,
        domain=domain,
        description=description,
        since=since,
        status=status,
        recorded_by=request.user,
    )
    concern.full_clean()
    concern.save()
    _log(request, AccessEvent.CREATE, patient, object_type="concern", object_id=concern.pk)
    return concern


@transaction.atomic
def consent_record(
    *,
    request: HttpRequest,
    patient: Patient,
    purpose: str,
    form: str,
    given_on: date,
    recipient_team=None,
    recipient_organisation=None,
    valid_until: date | None = None,
    note: str = "",
) -> Consent:
    if given_on > timezone.localdate():
        raise ValidationError({"given_on": _("Consent cannot be recorded for a day in the future.")})
    consent = Consent(
        patient=patient,
        purpose=purpose,
        form=form,
        given_on=given_on,
        valid_until=valid_until,
        recipient_team=recipient_team,
        recipient_organisation=recipient_organisation,
        note=note,
        recorded_by=request.user,
    )
    consent.full_clean()
    consent.save()
    _log(
        request,
        AccessEvent.CREATE,
        patient,
        object_type="consent",
        object_id=consent.pk,
        purpose=purpose,
        consent_id=consent.pk,
    )
    return consent


@transaction.atomic
def consent_withdraw(*, request: HttpRequest, consent: Consent) -> Consent:
    """Withdraw at once. A second withdrawal (double click, two people) is refused, not repeated."""
    now = timezone.now()
    updated = Consent.objects.filter(pk=consent.pk, withdrawn_at__isnull=True).update(
        withdrawn_at=now, withdrawn_by=request.user
    )
    if updated != 1:
        raise ValidationError(_("This consent was already withdrawn."))
    consent.refresh_from_db(fields=["withdrawn_at", "withdrawn_by"])
    _log(
        request,
        AccessEvent.CHANGE,
        consent.patient,
        object_type="consent",
        object_id=consent.pk,
        purpose=consent.purpose,
        consent_id=consent.pk,
        reason="withdrawn",
    )
    return consent


@transaction.atomic
def emergency_access_grant(*, request: HttpRequest, patient: Patient, reason: str) -> CareRelationship:
    """Break the glass: 24 hours of access, with a reason, flagged in the access log for review."""
    reason = (reason or "").strip()
    if len(reason) < 10:
        raise ValidationError({"reason": _("Explain in a sentence why you need emergency access.")})
    relation = CareRelationship.objects.create(
        patient=patient,
        user=request.user,
        kind=CareRelationship.Kind.EMERGENCY,
        source=f"emergency:{timezone.now():%Y%m%d%H%M%S}",
        reason=reason,
        ends_at=timezone.now() + EMERGENCY_ACCESS_DURATION,
    )
    _log(
        request,
        AccessEvent.BREAK_GLASS,
        patient,
        object_type="patient",
        object_id=patient.pk,
        purpose="emergency",
        reason=reason,
        needs_review=True,
    )
    return relation


def care_relationship_add(*, patient: Patient, user, kind: str, source: str) -> CareRelationship:
    """Used by higher apps (referrals) to give the people involved in a referral access to the patient."""
    relation, _created = CareRelationship.objects.get_or_create(
        patient=patient, user=user, kind=kind, source=source
    )
    return relation
