"""Writes of patient data. Each service logs its access in the same transaction (NEN 7513).

Services take the acting user (`by`) and an audit context instead of the HTTP request, so the demo
seeding, Celery tasks and the views all go through the same rules.
"""

from datetime import date, datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.dispatch import Signal
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables

from collab_hub.audit.models import AccessEvent, AccessLogEntry, Outcome
from collab_hub.audit.services import AuditContext, access_log_write

from .models import PATIENT_FIELDS, CareRelationship, Concern, Consent, Patient
from .selectors import EMERGENCY_DISCIPLINES, practice_ids_of, role_of

EMERGENCY_ACCESS_DURATION = timedelta(hours=24)
EMERGENCY_LOOKUP_WINDOW = timedelta(hours=24)

# Sent inside the withdrawal's transaction, after the care relationships it covered have ended, so that
# higher apps (referrals) close what was shared on its basis in the same transaction.
consent_withdrawn = Signal()  # kwargs: consent, by, audit, at


def _log(
    by,
    audit: AuditContext | None,
    event: AccessEvent,
    patient: Patient,
    *,
    object_type: str,
    object_id: int | None,
    purpose: str = "care",
    consent_id: int | None = None,
    reason: str = "",
    needs_review: bool = False,
    outcome: str = Outcome.ALLOWED,
) -> None:
    access_log_write(
        user=by,
        audit=audit,
        event=event,
        outcome=outcome,
        role=role_of(by),
        patient_id=patient.pk if patient is not None else None,
        object_type=object_type,
        object_id=object_id,
        purpose=purpose,
        consent_id=consent_id,
        reason=reason,
        needs_review=needs_review,
    )


def _require_practice(by, patient: Patient) -> None:
    """Only the patient's own practice changes the record and records or withdraws consent: never the
    recipient of a consent for itself, never emergency access."""
    if patient.practice_id not in practice_ids_of(by):
        raise PermissionDenied


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
def patient_create(*, by, practice, audit: AuditContext | None = None, **data) -> Patient:
    if practice.pk not in practice_ids_of(by):
        raise PermissionDenied
    patient = Patient(practice=practice, created_by=by, **{k: data[k] for k in PATIENT_FIELDS if k in data})
    patient.full_clean()
    _save_without_leaking(patient)
    _log(by, audit, AccessEvent.CREATE, patient, object_type="patient", object_id=patient.pk)
    return patient


@sensitive_variables("data")
@transaction.atomic
def patient_update(*, by, patient: Patient, audit: AuditContext | None = None, **data) -> Patient:
    _require_practice(by, patient)
    changed = [k for k in PATIENT_FIELDS if k in data and getattr(patient, k) != data[k]]
    for field in changed:
        setattr(patient, field, data[field])
    patient.full_clean()
    if changed:
        _save_without_leaking(patient, update_fields=changed)
    _log(by, audit, AccessEvent.CHANGE, patient, object_type="patient", object_id=patient.pk)
    return patient


@transaction.atomic
def concern_add(
    *,
    by,
    patient: Patient,
    domain: str,
    description: str,
    since: date | None = None,
    status: str = Concern.Status.ACTIVE,
    audit: AuditContext | None = None,
) -> Concern:
    _require_practice(by, patient)
    concern = Concern(
        patient=patient, domain=domain, description=description, since=since, status=status, recorded_by=by
    )
    concern.full_clean()
    concern.save()
    _log(by, audit, AccessEvent.CREATE, patient, object_type="concern", object_id=concern.pk)
    return concern


@transaction.atomic
def consent_record(
    *,
    by,
    patient: Patient,
    purpose: str,
    form: str,
    given_on: date,
    recipient_team=None,
    recipient_organisation=None,
    valid_until: date | None = None,
    note: str = "",
    audit: AuditContext | None = None,
) -> Consent:
    """Record what the patient agreed to. Only their practice records it."""
    _require_practice(by, patient)
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
        recorded_by=by,
    )
    consent.full_clean()
    consent.save()
    _log(
        by,
        audit,
        AccessEvent.CREATE,
        patient,
        object_type="consent",
        object_id=consent.pk,
        purpose=purpose,
        consent_id=consent.pk,
    )
    return consent


@transaction.atomic
def consent_withdraw(
    *, by, consent: Consent, audit: AuditContext | None = None, at: datetime | None = None
) -> Consent:
    """Withdraw at once: the care relationships given on its basis end now, and whatever was shared on
    it is closed (referrals listen to `consent_withdrawn`). A second withdrawal is refused."""
    _require_practice(by, consent.patient)
    at = at or timezone.now()
    # The UPDATE takes the row lock a concurrent sharing service holds FOR SHARE: whichever commits first
    # wins, and a share that waited sees the withdrawal (patients.selectors.consent_for_use).
    updated = Consent.objects.filter(pk=consent.pk, withdrawn_at__isnull=True).update(
        withdrawn_at=at, withdrawn_by=by
    )
    if updated != 1:
        raise ValidationError(_("This consent was already withdrawn."))
    consent.refresh_from_db(fields=["withdrawn_at", "withdrawn_by"])
    # Higher apps first: they lock the referrals that rested on the consent before any relationship row is
    # touched, in the order every referral step takes them (referral, then relationships): no deadlock.
    consent_withdrawn.send(sender=Consent, consent=consent, by=by, audit=audit, at=at)
    care_relationships_end(
        relationships=CareRelationship.objects.filter(consent=consent),
        at=at,
        reason=CareRelationship.Ended.CONSENT_WITHDRAWN,
    )
    _log(
        by,
        audit,
        AccessEvent.CHANGE,
        consent.patient,
        object_type="consent",
        object_id=consent.pk,
        purpose=consent.purpose,
        consent_id=consent.pk,
        reason="withdrawn",
    )
    return consent


# --- emergency access ("break the glass") ------------------------------------------------------------


# An attempt the role or the daily limit refused: logged for review, not counted as a lookup.
REFUSED_LOOKUP = "patient_lookup_refused"


class EmergencyAccessRefused(PermissionDenied):
    def __init__(self, message: str, *, code: str):
        super().__init__(message)
        self.code = code


def emergency_lookups_left(*, user) -> int:
    """Lookups `user` may still make in the last 24 hours (EMERGENCY_LOOKUPS_PER_DAY): each one, found or
    not, is a row in the access log."""
    since = timezone.now() - EMERGENCY_LOOKUP_WINDOW
    used = (
        AccessLogEntry.objects.filter(user=user, event=AccessEvent.BREAK_GLASS, at__gte=since)
        .exclude(object_type=REFUSED_LOOKUP)
        .count()
    )
    return max(0, settings.EMERGENCY_LOOKUPS_PER_DAY - used)


def may_break_the_glass(user) -> bool:
    from teams.selectors import discipline_of

    return user.is_active and discipline_of(user) in EMERGENCY_DISCIPLINES


def emergency_access_request(
    *,
    by,
    last_name: str,
    date_of_birth: date,
    postcode: str,
    reason: str,
    audit: AuditContext | None = None,
) -> CareRelationship | None:
    """Break the glass: a care role finds one patient outside their relationships by exact details and
    gets 24 hours of read-only access, with a reason. Every lookup (found or not) is logged for review,
    the reviewers are told, and lookups are limited per day so the form is no oracle; an attempt the
    role or the limit refuses is logged too (committed, then refused).
    Returns None when no single patient matches."""
    reason = (reason or "").strip()
    if may_break_the_glass(by) and len(reason) < 10:
        raise ValidationError({"reason": _("Explain in a sentence why you need emergency access.")})
    with transaction.atomic():
        refusal = _emergency_refusal(by)
        if refusal is not None and refusal.code == "role" and _refused_today(by):
            raise refusal  # logged once a day: repeated attempts do not flood the reviewers' list
        if refusal is None:
            return _emergency_lookup(
                by=by,
                last_name=last_name,
                date_of_birth=date_of_birth,
                postcode=postcode,
                reason=reason,
                audit=audit,
            )
        _log(
            by,
            audit,
            AccessEvent.BREAK_GLASS,
            None,
            object_type=REFUSED_LOOKUP,
            object_id=None,
            purpose="emergency",
            reason=f"refused ({refusal.code}): {reason}"[:500],
            needs_review=True,
            outcome=Outcome.DENIED,
        )
    raise refusal


def _refused_today(user) -> bool:
    since = timezone.now() - EMERGENCY_LOOKUP_WINDOW
    return AccessLogEntry.objects.filter(
        user=user, event=AccessEvent.BREAK_GLASS, object_type=REFUSED_LOOKUP, at__gte=since
    ).exists()


def _emergency_refusal(by) -> "EmergencyAccessRefused | None":
    if not may_break_the_glass(by):
        return EmergencyAccessRefused(_("Your role does not have emergency access."), code="role")
    # Serialise one person's lookups so two at once cannot both pass the limit.
    get_user_model().objects.select_for_update().filter(pk=by.pk).first()
    if emergency_lookups_left(user=by) <= 0:
        return EmergencyAccessRefused(
            _("You have used your emergency lookups for today. Contact the patient's practice."), code="limit"
        )
    return None


def _emergency_lookup(*, by, last_name, date_of_birth, postcode, reason, audit) -> CareRelationship | None:
    matches = list(
        Patient.objects.filter(
            last_name__iexact=last_name.strip(), date_of_birth=date_of_birth, postcode=postcode.strip()
        )[:2]
    )
    if len(matches) != 1:
        _log(
            by,
            audit,
            AccessEvent.BREAK_GLASS,
            None,
            object_type="patient_lookup",
            object_id=None,
            purpose="emergency",
            reason=reason,
            needs_review=True,
            outcome=Outcome.DENIED,
        )
        _tell_reviewers(by=by, found=False)
        return None
    patient = matches[0]
    now = timezone.now()
    relation = CareRelationship.objects.create(
        patient=patient,
        user=by,
        kind=CareRelationship.Kind.EMERGENCY,
        source=f"emergency:{now:%Y%m%d%H%M%S}",
        reason=reason,
        starts_at=now,
        ends_at=now + EMERGENCY_ACCESS_DURATION,
    )
    _log(
        by,
        audit,
        AccessEvent.BREAK_GLASS,
        patient,
        object_type="patient",
        object_id=patient.pk,
        purpose="emergency",
        reason=reason,
        needs_review=True,
    )
    _tell_reviewers(by=by, found=True)
    return relation


def _tell_reviewers(*, by, found: bool) -> None:
    """A notification for everyone who reviews the access log (permission to view it), in their own
    language. No patient data: the entry itself is in the access log, flagged for review."""
    from django.urls import reverse

    from collab_hub.notifications.services import NotificationSpec, notifications_create

    User = get_user_model()
    reviewers = (
        User.objects.filter(is_active=True)
        .filter(
            Q(is_superuser=True)
            | Q(user_permissions__codename="view_accesslogentry")
            | Q(groups__permissions__codename="view_accesslogentry")
        )
        .exclude(pk=by.pk)
        .distinct()
    )
    stamp = timezone.now().strftime("%Y%m%d%H%M%S%f")
    specs = []
    for reviewer in reviewers:
        with translation.override(reviewer.language):
            subject = _("Emergency access used: please review")
            body = (
                _("%(name)s used emergency access (break the glass) and found a patient.")
                if found
                else _("%(name)s tried emergency access (break the glass); no single patient matched.")
            ) % {"name": by.get_full_name() or by.get_username()}
        specs.append(
            NotificationSpec(
                recipient_id=reviewer.pk,
                kind="emergency_access",
                subject=subject,
                body=body,
                link=reverse("admin:audit_accesslogentry_changelist") + "?needs_review__exact=1",
                reference="",
                dedupe_key=f"emergency:{by.pk}:{stamp}:{reviewer.pk}",
            )
        )
    notifications_create(specs)


# --- care relationships of the people involved in a referral -----------------------------------------


def care_relationship_grant(
    *,
    patient: Patient,
    kind: str,
    referral_id: int,
    at: datetime,
    user=None,
    team=None,
    consent: Consent | None = None,
) -> CareRelationship:
    """Open a relationship for someone involved in a referral (referrals/workflow.py says who), unless
    an open one exists already."""
    relation, _created = CareRelationship.objects.get_or_create(
        patient=patient,
        referral_id=referral_id,
        user=user,
        team=team,
        kind=kind,
        source=f"referral:{referral_id}",
        ends_at=None,
        defaults={"starts_at": at, "consent": consent},
    )
    if consent is not None and relation.consent_id != consent.pk:
        relation.consent = consent
        relation.save(update_fields=["consent"])
    return relation


def care_relationships_end(*, relationships, at: datetime, reason: str) -> int:
    """End the open (or not yet ended) ones of `relationships` at `at`. Ended rows stay as history."""
    return (
        relationships.filter(Q(ends_at__isnull=True) | Q(ends_at__gt=at))
        .exclude(kind=CareRelationship.Kind.EMERGENCY)
        .update(ends_at=at, ended_reason=reason)
    )


def care_relationships_restore(*, relationships, reason: str) -> int:
    """Open again the relationships that ended for `reason` (a closed referral reopened in its grace
    period)."""
    return relationships.filter(ended_reason=reason).update(ends_at=None, ended_reason="")
