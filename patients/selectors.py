"""Reads of patient data, and the one access helper every patient view goes through."""

from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404, HttpRequest
from django.utils import timezone

from collab_hub.audit.models import AccessEvent, AccessLogEntry, Outcome
from collab_hub.audit.services import access_log_write
from teams.choices import Discipline
from teams.models import Organisation, Team
from teams.selectors import discipline_of, practices_of

from .models import CareRelationship, Concern, Consent, Patient

FULL = "full"
MINIMAL = "minimal"


def role_of(user) -> str:
    """The user's role as a stable code for the access log (a discipline, or 'admin')."""
    return discipline_of(user) or ("admin" if user.is_staff else "")


def role_label(code: str) -> str:
    return Discipline(code).label if code in Discipline.values else code


def practice_ids_of(user) -> set[int]:
    return set(practices_of(user).values_list("pk", flat=True))


def active_relationships(*, user, at: datetime | None = None) -> QuerySet[CareRelationship]:
    at = at or timezone.now()
    return CareRelationship.objects.filter(user=user).filter(Q(ends_at__isnull=True) | Q(ends_at__gt=at))


def visible_patients(*, user) -> QuerySet[Patient]:
    """Every patient this user has a care relationship with (their practice, a referral, emergency access)."""
    related = active_relationships(user=user).filter(patient=OuterRef("pk"))
    return Patient.objects.filter(Q(practice__in=practice_ids_of(user)) | Exists(related))


@dataclass
class PatientAccess:
    patient: Patient
    view: str  # FULL for the practice and emergency access, MINIMAL for the social domain
    relation: str

    @property
    def is_full(self) -> bool:
        return self.view == FULL


def _relation(user, patient: Patient) -> tuple[str, str] | None:
    if patient.practice_id in practice_ids_of(user):
        return "practice", FULL
    kinds = set(active_relationships(user=user).filter(patient=patient).values_list("kind", flat=True))
    if CareRelationship.Kind.EMERGENCY in kinds:
        return CareRelationship.Kind.EMERGENCY, FULL
    if kinds:
        return sorted(kinds)[0], MINIMAL
    return None


def get_patient_for_user(
    request: HttpRequest,
    pk: int,
    *,
    event: AccessEvent = AccessEvent.VIEW,
    purpose: str = "care",
    object_type: str = "patient",
    object_id: int | None = None,
) -> PatientAccess:
    """The only way views fetch a patient. Logs the access (or the denial) and 404s without a relationship.

    The log row is written before anything is shown: when it cannot be written, this raises and the
    request fails closed.
    """
    user = request.user
    patient = Patient.objects.select_related("practice").filter(pk=pk).first()
    found = _relation(user, patient) if patient is not None else None
    if found is None:
        access_log_write(
            user=user,
            request=request,
            event=event,
            outcome=Outcome.DENIED,
            role=role_of(user),
            patient_id=pk,
            object_type=object_type,
            object_id=object_id,
            purpose=purpose,
        )
        raise Http404
    relation, view = found
    access_log_write(
        user=user,
        request=request,
        event=event,
        role=role_of(user),
        patient_id=patient.pk,
        object_type=object_type,
        object_id=object_id if object_id is not None else patient.pk,
        purpose=purpose,
        reason="" if relation == "practice" else f"relation: {relation}",
        needs_review=relation == CareRelationship.Kind.EMERGENCY,
    )
    return PatientAccess(patient=patient, view=view, relation=relation)


def patient_list_for(*, user) -> QuerySet[Patient]:
    return visible_patients(user=user).select_related("practice").order_by("last_name", "first_name", "pk")


def patient_search(*, user, name: str = "", date_of_birth: date | None = None) -> QuerySet[Patient]:
    patients = patient_list_for(user=user)
    for word in name.split():
        patients = patients.filter(Q(first_name__icontains=word) | Q(last_name__icontains=word))
    if date_of_birth:
        patients = patients.filter(date_of_birth=date_of_birth)
    return patients


def possible_duplicates(
    *,
    practice: Organisation,
    first_name: str,
    last_name: str,
    date_of_birth: date,
    exclude_pk: int | None = None,
) -> QuerySet[Patient]:
    found = Patient.objects.filter(
        practice=practice,
        first_name__iexact=first_name.strip(),
        last_name__iexact=last_name.strip(),
        date_of_birth=date_of_birth,
    )
    return found.exclude(pk=exclude_pk) if exclude_pk else found


def concerns_for(access: PatientAccess) -> list[Concern]:
    """What this viewer may see: every concern for the practice; non-medical or shared ones otherwise."""
    concerns = access.patient.concerns.select_related("recorded_by").order_by("status", "domain", "pk")
    if access.is_full:
        return list(concerns)
    return [c for c in concerns if not c.is_medical or c.shared_with_social_domain]


def consents_for(patient: Patient) -> QuerySet[Consent]:
    return patient.consents.select_related(
        "recipient_organisation", "recipient_team__organisation", "recorded_by", "withdrawn_by"
    ).order_by("-given_on", "-pk")


def consent_is_valid(
    *, patient: Patient, purpose: str, recipient: Team | Organisation, at: date | datetime | None = None
) -> Consent | None:
    """The consent that allows sharing with `recipient` for `purpose` at `at`, or None.

    A consent given to an organisation covers all of its teams; one given to a team covers that team.
    Withdrawal takes effect at once: a consent withdrawn at or before `at` no longer counts.
    """
    at = at or timezone.now()
    day = timezone.localdate(at) if isinstance(at, datetime) else at
    if isinstance(recipient, Team):
        to = Q(recipient_team=recipient) | Q(recipient_organisation_id=recipient.organisation_id)
    else:
        to = Q(recipient_organisation=recipient)
    withdrawn_later = Q(withdrawn_at__isnull=True)
    if isinstance(at, datetime):
        withdrawn_later |= Q(withdrawn_at__gt=at)
    return (
        Consent.objects.filter(patient=patient, purpose=purpose, given_on__lte=day)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=day))
        .filter(withdrawn_later)
        .filter(to)
        .order_by("-given_on", "-pk")
        .first()
    )


def access_history(*, patient: Patient) -> QuerySet[AccessLogEntry]:
    return AccessLogEntry.objects.filter(patient_id=patient.pk).order_by("-at", "-pk")
