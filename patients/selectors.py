"""Reads of patient data, and the one access helper every patient view goes through."""

from dataclasses import dataclass
from datetime import date, datetime

from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from collab_hub.audit.models import AccessEvent, AccessLogEntry, Outcome
from collab_hub.audit.services import AuditContext, access_log_write
from teams.choices import Discipline
from teams.models import Membership, Organisation, Team
from teams.selectors import care_practices_of, discipline_of

from .models import CareRelationship, Concern, Consent, ConsentPurpose, Patient

FULL = "full"  # the patient's practice: everything, and it may change the record
EMERGENCY = "emergency"  # break the glass: medical detail, read-only, the BSN only for roles that need it
MINIMAL = "minimal"  # the social domain through a referral: no medical detail unless a referral shares it

# Disciplines that may break the glass, and those whose emergency view includes the BSN.
EMERGENCY_DISCIPLINES = frozenset({Discipline.GP, Discipline.POH_GGZ, Discipline.DISTRICT_NURSE})
BSN_DISCIPLINES = frozenset({Discipline.GP, Discipline.POH_GGZ, Discipline.PRACTICE_ASSISTANT})


def role_of(user) -> str:
    """The user's role as a stable code for the access log (a discipline, or 'admin')."""
    return discipline_of(user) or ("admin" if user.is_staff else "")


def role_label(code: str) -> str:
    return Discipline(code).label if code in Discipline.values else code


def practice_ids_of(user) -> set[int]:
    """The practices whose patient files `user` works in (membership of a practice team)."""
    return set(care_practices_of(user).values_list("pk", flat=True))


def _active(at: datetime) -> Q:
    return Q(starts_at__lte=at) & (Q(ends_at__isnull=True) | Q(ends_at__gt=at))


def relationships_of(*, user, at: datetime | None = None) -> QuerySet[CareRelationship]:
    """The care relationships that give `user` access at `at` (now): their own open ones, a team-bound one
    only while they are a member of that team, and a team's coordinator rows while they coordinate it."""
    at = at or timezone.now()
    teams = list(Membership.objects.filter(user=user).values_list("team_id", "role"))
    member_of = [team for team, _ in teams]
    coordinates = [team for team, role in teams if role == Membership.Role.COORDINATOR]
    return CareRelationship.objects.filter(_active(at)).filter(
        Q(user=user, team__isnull=True)
        | Q(user=user, team__in=member_of)
        | Q(user__isnull=True, kind=CareRelationship.Kind.TEAM_COORDINATOR, team__in=coordinates)
    )


def visible_patients(*, user, at: datetime | None = None) -> QuerySet[Patient]:
    """Every patient this user has a care relationship with at `at` (now): their practice, a referral
    they are involved in, emergency access."""
    related = relationships_of(user=user, at=at).filter(patient=OuterRef("pk"))
    return Patient.objects.filter(Q(practice__in=practice_ids_of(user)) | Exists(related))


@dataclass
class PatientAccess:
    patient: Patient
    view: str  # FULL, EMERGENCY or MINIMAL
    relation: str
    user: object = None
    shows_bsn: bool = False

    @property
    def is_full(self) -> bool:
        """Medical detail is shown (the practice, and emergency access)."""
        return self.view in (FULL, EMERGENCY)

    @property
    def can_edit(self) -> bool:
        """Only the patient's practice changes the record and records or withdraws consent."""
        return self.view == FULL


def _relation(user, patient: Patient) -> tuple[str, str] | None:
    if patient.practice_id in practice_ids_of(user):
        return "practice", FULL
    kinds = set(relationships_of(user=user).filter(patient=patient).values_list("kind", flat=True))
    if CareRelationship.Kind.EMERGENCY in kinds:
        return CareRelationship.Kind.EMERGENCY, EMERGENCY
    if kinds:
        return sorted(kinds)[0], MINIMAL
    return None


def get_patient_for_user(
    *,
    user,
    pk: int,
    audit: AuditContext | None = None,
    event: AccessEvent = AccessEvent.VIEW,
    purpose: str = "care",
    needs: str = "view",
    object_type: str = "patient",
    object_id: int | None = None,
) -> PatientAccess:
    """The only way views fetch a patient. 404 without a care relationship; 403 when the relationship
    does not allow `needs` ("edit": the practice only). Every access is logged with its outcome, before
    anything is shown: when the row cannot be written this raises and the request fails closed."""
    patient = Patient.objects.select_related("practice").filter(pk=pk).first()
    found = _relation(user, patient) if patient is not None else None
    allowed = found is not None and (needs == "view" or found[1] == FULL)
    log = {
        "user": user,
        "audit": audit,
        "event": event,
        "role": role_of(user),
        "object_type": object_type,
        "purpose": purpose,
    }
    if not allowed:
        access_log_write(
            **log,
            outcome=Outcome.DENIED,
            patient_id=pk,
            object_id=object_id,
            reason=f"needs: {needs}" if found else "",
        )
        if found is None:
            raise Http404
        raise PermissionDenied
    relation, view = found
    access_log_write(
        **log,
        patient_id=patient.pk,
        object_id=object_id if object_id is not None else patient.pk,
        reason="" if relation == "practice" else f"relation: {relation}",
        needs_review=relation == CareRelationship.Kind.EMERGENCY,
    )
    shows_bsn = view == FULL or (view == EMERGENCY and discipline_of(user) in BSN_DISCIPLINES)
    return PatientAccess(patient=patient, view=view, relation=relation, user=user, shows_bsn=shows_bsn)


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
    """What this viewer may see here: every concern with medical detail (the practice, emergency access);
    otherwise the non-medical ones. A medical concern reaches the social domain only in the referral that
    shared it, on that referral's pages, for the people involved in it."""
    concerns = access.patient.concerns.select_related("recorded_by").order_by("status", "domain", "pk")
    if access.is_full:
        return list(concerns)
    return [c for c in concerns if not c.is_medical]


def consents_for(access: PatientAccess) -> list[Consent]:
    """The practice (and emergency access) sees every consent; the social domain only those given to
    its own teams or organisations: the basis of its own access, not the patient's other relations."""
    consents = access.patient.consents.select_related(
        "recipient_organisation", "recipient_team__organisation", "recorded_by", "withdrawn_by"
    ).order_by("-given_on", "-pk")
    if access.is_full:
        return list(consents)
    teams = Membership.objects.filter(user=access.user).values("team_id")
    organisations = Membership.objects.filter(user=access.user).values("team__organisation_id")
    return list(consents.filter(Q(recipient_team__in=teams) | Q(recipient_organisation__in=organisations)))


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


def consent_for_use(
    *, patient: Patient, purpose: str, recipient: Team | Organisation, at: datetime | None = None
) -> Consent | None:
    """`consent_is_valid`, for a service about to share data: the patient's consents for `purpose` are
    locked FOR SHARE first, so a withdrawal being committed meanwhile either came first (then this
    returns None) or waits until the caller's transaction has ended. Call inside `transaction.atomic`."""
    if not connection.in_atomic_block:
        raise RuntimeError("consent_for_use must run inside the transaction that shares the data")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id FROM patients_consent WHERE patient_id = %s AND purpose = %s ORDER BY id FOR SHARE",
            [patient.pk, purpose],
        )
    # A new statement: it sees whatever withdrawal committed while this one waited for the lock.
    return consent_is_valid(patient=patient, purpose=purpose, recipient=recipient, at=at)


# The access log keeps codes (NEN 7513 asks for purpose and relation, not for prose); the patient's
# access history, printed for the patient, says them in words (issue 21).
ACCESS_PURPOSES = {
    "care": _("care"),
    "consent": _("consent"),
    "referral": _("referral"),
    "emergency": _("emergency access"),
    "research": _("research"),
    "access history": _("access history"),
    "joint_consultation": _("joint consultation"),
    "patient_outcome": _("outcome measurement"),
    "professionals": _("questionnaire for professionals"),
}
ACCESS_OBJECTS = {
    "concern": _("concern"),
    "consent": _("consent"),
    "export": _("research export"),
    "export_download": _("research export downloaded"),
    "patient_list": _("patient list"),
    "patient_lookup": _("search for a patient"),
    "referral": _("referral"),
    "referral_list": _("list of referrals"),
}


def access_in_words(entry) -> tuple[str, str]:
    """What was looked at and why, for people: the object and the purpose in words, and a relation
    ("relation: referral_receiver") as the care relationship it names."""
    what = (
        ""
        if entry.object_type in ("", "patient")
        else str(ACCESS_OBJECTS.get(entry.object_type, entry.object_type))
    )
    purpose = ConsentPurpose(entry.purpose).label if entry.purpose in ConsentPurpose.values else None
    why = str(purpose or ACCESS_PURPOSES.get(entry.purpose, entry.purpose))
    reason = entry.reason or ""
    if reason.startswith("relation: "):
        kind = reason.removeprefix("relation: ")
        reason = str(CareRelationship.Kind(kind).label) if kind in CareRelationship.Kind.values else kind
    elif reason.startswith(("needs: ", "refused")):
        reason = ""  # (a refusal's internal detail; the outcome column says it was refused)
    return what, f"{why} – {reason}" if reason else why
