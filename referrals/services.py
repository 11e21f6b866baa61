"""Every change to a referral goes through these services.

Transitions are conditional updates (`UPDATE … WHERE status IN (…)`): two clicks or two people
acting at once have exactly one winner. Each transition appends an `Event` row in the same
transaction. Who may set which FHIR status: the requester sets draft/requested/cancelled/
entered-in-error; the receiver sets accepted/rejected/in-progress/on-hold/completed.
"""

from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from collab_hub.audit.models import AccessEvent
from collab_hub.audit.services import access_log_write
from collab_hub.core.workdays import add_working_days
from patients.models import CareRelationship, Concern, Patient
from patients.selectors import consent_is_valid, role_of, visible_patients
from patients.services import care_relationship_add
from teams.models import Membership, Team
from teams.selectors import discipline_of, practices_of

from .models import (
    OPEN_STATUSES,
    AgreedAction,
    DeclineReason,
    Event,
    Feedback,
    JointConsultation,
    LetterField,
    Message,
    Pathway,
    Referral,
    Status,
)


class ConsentMissing(ValidationError):
    """No valid consent for this pathway's purpose and the receiving team: nothing may be sent."""


class TransitionRefused(ValidationError):
    pass


# --- who may do what ------------------------------------------------------------------------------


def is_requester(user, referral: Referral) -> bool:
    """The sender, or a colleague in the sending organisation (a practice acts as one for its referrals)."""
    if user.pk == referral.sender_id:
        return True
    return Membership.objects.filter(
        user=user, team__organisation_id=referral.sender_organisation_id
    ).exists()


def is_receiver(user, referral: Referral) -> bool:
    """The person the referral is with now, or a coordinator of the receiving team."""
    if user.pk == referral.receiver_id:
        return True
    return Membership.objects.filter(
        user=user, team_id=referral.receiving_team_id, role=Membership.Role.COORDINATOR
    ).exists()


def _require(allowed: bool, message: str) -> None:
    if not allowed:
        raise TransitionRefused(message)


# --- helpers ----------------------------------------------------------------------------------------


def _event(
    referral: Referral,
    *,
    by,
    kind: str,
    from_status: str = "",
    to_status: str = "",
    note: str = "",
    from_user=None,
    to_user=None,
    at=None,
) -> Event:
    return Event.objects.create(
        referral=referral,
        at=at or timezone.now(),
        kind=kind,
        actor=by,
        from_status=from_status,
        to_status=to_status,
        note=note[:500],
        from_user=from_user,
        to_user=to_user,
    )


def _log(
    request: HttpRequest | None, referral: Referral, event: AccessEvent = AccessEvent.CHANGE, reason: str = ""
) -> None:
    if request is None:
        return
    access_log_write(
        user=request.user,
        request=request,
        event=event,
        role=role_of(request.user),
        patient_id=referral.patient_id,
        object_type="referral",
        object_id=referral.pk,
        purpose=referral.pathway.consent_purpose,
        consent_id=referral.consent_id,
        reason=reason,
    )


def _transition(
    referral: Referral, *, by, allowed_from, to: str, kind: str, note: str = "", already: str = "", **fields
) -> Referral:
    """Move `referral` to `to` only if it is still in one of `allowed_from`; record the event."""
    now = timezone.now()
    previous = referral.status
    updated = Referral.objects.filter(pk=referral.pk, status__in=list(allowed_from)).update(
        status=to, **fields
    )
    if updated != 1:
        referral.refresh_from_db()
        raise TransitionRefused(
            already
            or _("This referral is now '%(status)s'; that step is no longer possible.")
            % {"status": referral.get_status_display()}
        )
    referral.refresh_from_db()
    _event(referral, by=by, kind=kind, from_status=previous, to_status=to, note=note, at=now)
    return referral


def validate_letter(pathway: Pathway, answers: dict) -> dict:
    """Keep only the pathway's questions, check required ones and choices; return tidy answers."""
    clean, errors = {}, {}
    for question in pathway.letter_fields.all():
        value = answers.get(question.key, "")
        value = value.strip() if isinstance(value, str) else value
        if question.kind == LetterField.Kind.YES_NO and value not in ("", "yes", "no"):
            errors[question.key] = _("Answer yes or no.")
        elif question.kind == LetterField.Kind.CHOICE and value and value not in question.choice_list():
            errors[question.key] = _("Choose one of the options.")
        elif question.kind == LetterField.Kind.DATE and value:
            try:
                value = date.fromisoformat(str(value)).isoformat()
            except ValueError:
                errors[question.key] = _("Enter a valid date.")
        if question.required and value in ("", None):
            errors[question.key] = _("This question needs an answer.")
        clean[question.key] = value
    if errors:
        raise ValidationError(errors)
    return clean


# --- sending -----------------------------------------------------------------------------------------


@transaction.atomic
def referral_send(
    *,
    request: HttpRequest,
    patient: Patient,
    pathway: Pathway,
    receiving_team: Team,
    receiver,
    letter: dict,
    urgency: str = "routine",
    shared_concerns: list[Concern] | tuple = (),
    assigned_via: str = Referral.AssignedVia.CONTACT,
) -> Referral:
    sender = request.user
    if not visible_patients(user=sender).filter(pk=patient.pk).exists():
        raise ValidationError(_("You have no care relationship with this patient."))
    discipline = discipline_of(sender)
    if pathway.sender_disciplines and discipline not in pathway.sender_disciplines:
        raise ValidationError(_("Your discipline may not send on this pathway."))
    if not pathway.active:
        raise ValidationError(_("This pathway is no longer in use."))
    if receiving_team.kind != pathway.receiving_team_kind:
        raise ValidationError(_("This team does not receive referrals on this pathway."))
    if not Membership.objects.filter(team=receiving_team, user=receiver, user__is_active=True).exists():
        raise ValidationError({"receiver": _("The receiver must be a member of the receiving team.")})
    if any(c.patient_id != patient.pk for c in shared_concerns):
        raise ValidationError(_("Only this patient's concerns can be shared."))
    consent = consent_is_valid(patient=patient, purpose=pathway.consent_purpose, recipient=receiving_team)
    if consent is None:
        raise ConsentMissing(
            _("There is no valid consent of the patient to share this with %(team)s.")
            % {"team": receiving_team}
        )
    sender_org = (
        next(iter(practices_of(sender)), None)
        or sender.memberships.select_related("team__organisation").first().team.organisation
    )
    today = timezone.localdate()
    now = timezone.now()
    referral = Referral.objects.create(
        patient=patient,
        pathway=pathway,
        sender=sender,
        sender_organisation=sender_org,
        receiving_team=receiving_team,
        receiver=receiver,
        assigned_via=assigned_via,
        letter=validate_letter(pathway, letter),
        urgency=urgency,
        consent=consent,
        status=Status.REQUESTED,
        sent_at=now,
        accept_by=add_working_days(today, pathway.accept_within),
        first_contact_by=add_working_days(today, pathway.accept_within + pathway.first_contact_within),
    )
    if shared_concerns:
        referral.shared_concerns.set(shared_concerns)
        Concern.objects.filter(pk__in=[c.pk for c in shared_concerns]).update(shared_with_social_domain=True)
    _event(
        referral,
        by=sender,
        kind=Event.Kind.SENT,
        from_status=Status.DRAFT,
        to_status=Status.REQUESTED,
        to_user=receiver,
        at=now,
    )
    _grant_access(referral, receiver, CareRelationship.Kind.REFERRAL_RECEIVER)
    if patient.practice_id != sender_org.pk:
        _grant_access(referral, sender, CareRelationship.Kind.REFERRAL_SENDER)
    for membership in Membership.objects.filter(team=receiving_team, role=Membership.Role.COORDINATOR):
        _grant_access(referral, membership.user, CareRelationship.Kind.TEAM_COORDINATOR)
    _log(request, referral, AccessEvent.CREATE)
    return referral


def _grant_access(referral: Referral, user, kind: str) -> None:
    care_relationship_add(patient=referral.patient, user=user, kind=kind, source=f"referral:{referral.pk}")


# --- the receiver's steps -----------------------------------------------------------------------


@transaction.atomic
def referral_accept(*, request: HttpRequest, referral: Referral) -> Referral:
    _require(is_receiver(request.user, referral), _("Only the receiver can accept this referral."))
    referral = _transition(
        referral,
        by=request.user,
        allowed_from=[Status.REQUESTED],
        to=Status.ACCEPTED,
        kind=Event.Kind.ACCEPTED,
        already=_("This referral was already accepted or is no longer waiting."),
        accepted_at=timezone.now(),
    )
    _log(request, referral)
    return referral


@transaction.atomic
def referral_decline(*, request: HttpRequest, referral: Referral, reason: str, note: str = "") -> Referral:
    _require(is_receiver(request.user, referral), _("Only the receiver can decline this referral."))
    if reason not in DeclineReason.values:
        raise ValidationError({"reason": _("Choose a reason for declining.")})
    if reason == DeclineReason.OTHER and not note.strip():
        raise ValidationError({"note": _("Explain the reason when you choose 'other'.")})
    referral = _transition(
        referral,
        by=request.user,
        allowed_from=[Status.REQUESTED, Status.ACCEPTED],
        to=Status.REJECTED,
        kind=Event.Kind.DECLINED,
        note=f"{reason}: {note}".strip(": "),
        decline_reason=reason,
        decline_note=note.strip(),
        closed_at=timezone.now(),
    )
    _log(request, referral)
    return referral


@transaction.atomic
def referral_forward(*, request: HttpRequest, referral: Referral, to_user, note: str = "") -> Referral:
    """Hand the referral to another named person (in this or another team of the same kind)."""
    _require(is_receiver(request.user, referral), _("Only the receiver can forward this referral."))
    # Prefer the current receiving team; otherwise another team of the same kind (e.g. a neighbouring one).
    memberships = Membership.objects.filter(user=to_user, user__is_active=True).select_related("team")
    membership = (
        memberships.filter(team=referral.receiving_team).first()
        or memberships.filter(team__kind=referral.receiving_team.kind).first()
    )
    if membership is None:
        raise ValidationError({"to_user": _("Forward to a member of a team that receives this pathway.")})
    if to_user.pk == referral.receiver_id:
        raise ValidationError({"to_user": _("The referral is already with this person.")})
    team = membership.team
    previous_receiver = referral.receiver
    updated = Referral.objects.filter(
        pk=referral.pk, status__in=[Status.REQUESTED, Status.ACCEPTED], receiver=previous_receiver
    ).update(
        receiver=to_user,
        receiving_team=team,
        status=Status.REQUESTED,
        accepted_at=None,
        assigned_via=Referral.AssignedVia.FORWARDED,
        accept_by=add_working_days(timezone.localdate(), referral.pathway.accept_within),
        first_contact_by=add_working_days(
            timezone.localdate(), referral.pathway.accept_within + referral.pathway.first_contact_within
        ),
    )
    if updated != 1:
        raise TransitionRefused(_("This referral changed in the meantime; reload the page."))
    previous_status = referral.status
    referral.refresh_from_db()
    _event(
        referral,
        by=request.user,
        kind=Event.Kind.FORWARDED,
        from_status=previous_status,
        to_status=Status.REQUESTED,
        from_user=previous_receiver,
        to_user=to_user,
        note=note,
    )
    _grant_access(referral, to_user, CareRelationship.Kind.FORWARDED_TO)
    _log(request, referral)
    return referral


@transaction.atomic
def referral_reassign(*, request: HttpRequest, referral: Referral, to_user) -> Referral:
    """A team coordinator gives the referral to another member of the receiving team."""
    coordinator = Membership.objects.filter(
        user=request.user, team_id=referral.receiving_team_id, role=Membership.Role.COORDINATOR
    ).exists()
    _require(coordinator, _("Only a coordinator of the receiving team can reassign."))
    if not Membership.objects.filter(user=to_user, team_id=referral.receiving_team_id).exists():
        raise ValidationError({"to_user": _("Choose a member of the receiving team.")})
    previous_receiver = referral.receiver
    updated = Referral.objects.filter(
        pk=referral.pk, status__in=list(OPEN_STATUSES), receiver=previous_receiver
    ).update(receiver=to_user, assigned_via=Referral.AssignedVia.REASSIGNED)
    if updated != 1:
        raise TransitionRefused(_("This referral changed in the meantime; reload the page."))
    referral.refresh_from_db()
    _event(
        referral,
        by=request.user,
        kind=Event.Kind.REASSIGNED,
        from_user=previous_receiver,
        to_user=to_user,
        from_status=referral.status,
        to_status=referral.status,
    )
    _grant_access(referral, to_user, CareRelationship.Kind.FORWARDED_TO)
    _log(request, referral)
    return referral


@transaction.atomic
def referral_first_contact(
    *, request: HttpRequest, referral: Referral, contact_date: date, contact_method: str, text: str = ""
) -> Feedback:
    _require(is_receiver(request.user, referral), _("Only the receiver can record the first contact."))
    if contact_date > timezone.localdate():
        raise ValidationError({"contact_date": _("The first contact cannot lie in the future.")})
    if referral.sent_at and contact_date < timezone.localdate(referral.sent_at):
        raise ValidationError(
            {"contact_date": _("The first contact cannot be before the referral was sent.")}
        )
    now = timezone.now()
    referral = _transition(
        referral,
        by=request.user,
        allowed_from=[Status.ACCEPTED],
        to=Status.IN_PROGRESS,
        kind=Event.Kind.FIRST_CONTACT,
        first_contact_at=now,
        last_feedback_at=now,
        feedback_by=timezone.localdate() + timedelta(days=referral.pathway.feedback_every),
        already=_("Accept the referral first; the first contact can be recorded once."),
    )
    feedback = Feedback.objects.create(
        referral=referral,
        kind=Feedback.Kind.FIRST_CONTACT,
        author=request.user,
        created_at=now,
        contact_date=contact_date,
        contact_method=contact_method,
        text=text,
    )
    _log(request, referral)
    return feedback


@transaction.atomic
def referral_feedback(
    *, request: HttpRequest, referral: Referral, kind: str, text: str, domain_statuses: dict | None = None
) -> Feedback:
    """Plan agreed or progress ("how is the patient doing"), to the sender."""
    _require(is_receiver(request.user, referral), _("Only the receiver can send feedback."))
    if kind not in (Feedback.Kind.PLAN_AGREED, Feedback.Kind.PROGRESS):
        raise ValidationError({"kind": _("Choose plan agreed or progress.")})
    if not text.strip():
        raise ValidationError({"text": _("Write how the patient is doing.")})
    now = timezone.now()
    updated = Referral.objects.filter(pk=referral.pk, status__in=[Status.IN_PROGRESS, Status.ON_HOLD]).update(
        last_feedback_at=now,
        feedback_by=timezone.localdate() + timedelta(days=referral.pathway.feedback_every),
    )
    if updated != 1:
        raise TransitionRefused(_("Feedback can be sent while the referral is in progress."))
    referral.refresh_from_db()
    feedback = Feedback.objects.create(
        referral=referral,
        kind=kind,
        author=request.user,
        created_at=now,
        text=text.strip(),
        domain_statuses=domain_statuses or {},
    )
    _event(
        referral,
        by=request.user,
        kind=Event.Kind.FEEDBACK,
        note=kind,
        at=now,
        from_status=referral.status,
        to_status=referral.status,
    )
    _log(request, referral)
    return feedback


@transaction.atomic
def referral_hold(*, request: HttpRequest, referral: Referral, note: str = "") -> Referral:
    _require(is_receiver(request.user, referral), _("Only the receiver can put this referral on hold."))
    return _transition(
        referral,
        by=request.user,
        allowed_from=[Status.IN_PROGRESS],
        to=Status.ON_HOLD,
        kind=Event.Kind.ON_HOLD,
        note=note,
    )


@transaction.atomic
def referral_resume(*, request: HttpRequest, referral: Referral) -> Referral:
    _require(is_receiver(request.user, referral), _("Only the receiver can resume this referral."))
    return _transition(
        referral,
        by=request.user,
        allowed_from=[Status.ON_HOLD],
        to=Status.IN_PROGRESS,
        kind=Event.Kind.RESUMED,
    )


@transaction.atomic
def referral_complete(*, request: HttpRequest, referral: Referral, outcome: str, text: str) -> Feedback:
    _require(is_receiver(request.user, referral), _("Only the receiver can close this referral."))
    if outcome not in Feedback.Outcome.values:
        raise ValidationError({"outcome": _("Choose the outcome.")})
    if not text.strip():
        raise ValidationError({"text": _("Summarise the outcome for the GP.")})
    now = timezone.now()
    referral = _transition(
        referral,
        by=request.user,
        allowed_from=[Status.IN_PROGRESS, Status.ON_HOLD],
        to=Status.COMPLETED,
        kind=Event.Kind.COMPLETED,
        completed_at=now,
        closed_at=now,
        last_feedback_at=now,
        acknowledged_at=None,
        feedback_by=None,
        note=outcome,
    )
    feedback = Feedback.objects.create(
        referral=referral,
        kind=Feedback.Kind.CLOSURE,
        author=request.user,
        created_at=now,
        outcome=outcome,
        text=text.strip(),
    )
    _log(request, referral)
    return feedback


@transaction.atomic
def referral_reopen(*, request: HttpRequest, referral: Referral, note: str = "") -> Referral:
    _require(is_receiver(request.user, referral), _("Only the receiver can reopen this referral."))
    referral = _transition(
        referral,
        by=request.user,
        allowed_from=[Status.COMPLETED],
        to=Status.IN_PROGRESS,
        kind=Event.Kind.REOPENED,
        note=note,
        completed_at=None,
        closed_at=None,
        feedback_by=timezone.localdate() + timedelta(days=referral.pathway.feedback_every),
    )
    _log(request, referral)
    return referral


# --- the requester's steps ----------------------------------------------------------------------


@transaction.atomic
def referral_acknowledge(*, request: HttpRequest, referral: Referral) -> Referral:
    """The sender has read the feedback: the loop is closed for them."""
    _require(is_requester(request.user, referral), _("Only the sender's practice can acknowledge feedback."))
    now = timezone.now()
    pending = Feedback.objects.filter(referral=referral, acknowledged_at__isnull=True)
    if not pending.exists():
        raise TransitionRefused(_("There is no new feedback to acknowledge."))
    pending.update(acknowledged_at=now, acknowledged_by=request.user)
    if referral.status == Status.COMPLETED:
        Referral.objects.filter(pk=referral.pk, acknowledged_at__isnull=True).update(acknowledged_at=now)
    referral.refresh_from_db()
    _event(
        referral,
        by=request.user,
        kind=Event.Kind.ACKNOWLEDGED,
        at=now,
        from_status=referral.status,
        to_status=referral.status,
    )
    _log(request, referral)
    return referral


@transaction.atomic
def referral_cancel(*, request: HttpRequest, referral: Referral, note: str = "") -> Referral:
    _require(is_requester(request.user, referral), _("Only the sender's practice can cancel this referral."))
    referral = _transition(
        referral,
        by=request.user,
        allowed_from=[Status.DRAFT, *OPEN_STATUSES],
        to=Status.CANCELLED,
        kind=Event.Kind.CANCELLED,
        note=note,
        closed_at=timezone.now(),
    )
    _log(request, referral)
    return referral


@transaction.atomic
def referral_mark_entered_in_error(*, request: HttpRequest, referral: Referral, note: str) -> Referral:
    _require(is_requester(request.user, referral), _("Only the sender's practice can mark this as an error."))
    if not note.strip():
        raise ValidationError({"note": _("Say briefly what was wrong.")})
    allowed = [s for s in Status.values if s != Status.ENTERED_IN_ERROR]
    referral = _transition(
        referral,
        by=request.user,
        allowed_from=allowed,
        to=Status.ENTERED_IN_ERROR,
        kind=Event.Kind.ENTERED_IN_ERROR,
        note=note,
        closed_at=timezone.now(),
    )
    _log(request, referral)
    return referral


# --- messages and joint consultations -----------------------------------------------------------


def can_take_part(user, referral: Referral) -> bool:
    return (
        is_requester(user, referral)
        or is_receiver(user, referral)
        or referral.events.filter(Q(to_user=user) | Q(from_user=user)).exists()
    )


@transaction.atomic
def message_post(*, request: HttpRequest, referral: Referral, text: str) -> Message:
    _require(can_take_part(request.user, referral), _("Only the professionals involved can write here."))
    if not text.strip():
        raise ValidationError({"text": _("Write a message first.")})
    message = Message.objects.create(referral=referral, author=request.user, text=text.strip())
    _log(request, referral, reason="message")
    return message


@transaction.atomic
def joint_consultation_schedule(
    *,
    request: HttpRequest,
    referral: Referral,
    scheduled_at,
    location: str,
    participants: list,
    patient_attends: bool = True,
    agenda: str = "",
) -> JointConsultation:
    """Plan the meeting. Each participating organisation besides the practice needs the patient's consent."""
    _require(can_take_part(request.user, referral), _("Only the professionals involved can plan this."))
    if not referral.pathway.is_joint_consultation:
        raise ValidationError(_("This referral is not a joint consultation request."))
    if scheduled_at < timezone.now():
        raise ValidationError({"scheduled_at": _("Choose a moment in the future.")})
    missing = []
    for person in participants:
        for membership in person.memberships.select_related("team__organisation"):
            org = membership.team.organisation
            if org.pk == referral.patient.practice_id:
                continue
            if (
                consent_is_valid(
                    patient=referral.patient, purpose="joint_consultation", recipient=membership.team
                )
                is None
                and org.name not in missing
            ):
                missing.append(org.name)
    if missing:
        raise ConsentMissing(
            _("The patient has not consented to a joint consultation with: %(orgs)s.")
            % {"orgs": ", ".join(sorted(missing))}
        )
    consultation, _created = JointConsultation.objects.update_or_create(
        referral=referral,
        defaults={
            "scheduled_at": scheduled_at,
            "location": location,
            "patient_attends": patient_attends,
            "agenda": agenda,
            "state": JointConsultation.State.PLANNED,
        },
    )
    consultation.participants.set(participants)
    for person in participants:
        _grant_access(referral, person, CareRelationship.Kind.JOINT_CONSULTATION)
    _log(request, referral, reason="joint consultation planned")
    return consultation


@transaction.atomic
def joint_consultation_record(
    *,
    request: HttpRequest,
    consultation: JointConsultation,
    notes: str,
    actions: list[tuple[str, object, date | None]],
) -> JointConsultation:
    referral = consultation.referral
    _require(can_take_part(request.user, referral), _("Only the professionals involved can record this."))
    consultation.notes = notes
    consultation.state = JointConsultation.State.HELD
    consultation.save(update_fields=["notes", "state"])
    for description, owner, due_on in actions:
        if description.strip():
            AgreedAction.objects.create(
                consultation=consultation, description=description.strip(), owner=owner, due_on=due_on
            )
    _log(request, referral, reason="joint consultation recorded")
    return consultation
