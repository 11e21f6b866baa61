"""Every change to a referral goes through these services, and each follows referrals/workflow.py.

A service takes the acting user (`by`), an audit context (where the action comes from, for the access
log) and an optional moment `at` (the demo seeding plays two years of history through these same
services); never an HTTP request. Each one locks the referral row, checks the acting person's
*current* roles and the status against the workflow table, re-checks consent where the table says so
(locked, so a withdrawal cannot slip in between), changes the status, appends the event, opens or ends
care relationships, and writes its access-log row — all in one transaction.
"""

from datetime import date, datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.dispatch import receiver as signal_receiver
from django.utils import timezone
from django.utils.translation import gettext as _

from collab_hub.audit.models import AccessEvent, Outcome
from collab_hub.audit.services import AuditContext, access_log_write
from collab_hub.core.workdays import add_working_days
from patients.models import CareRelationship, Concern, Consent, Patient
from patients.selectors import consent_for_use, practice_ids_of, relationships_of, role_of
from patients.services import (
    care_relationship_grant,
    care_relationships_end,
    care_relationships_restore,
    consent_withdrawn,
)
from teams.models import Membership, Organisation, Team
from teams.selectors import discipline_of

from . import notify
from .models import (
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
from .workflow import STEPS, AccessChange, Role, Step, may, roles_of

Kind = CareRelationship.Kind
RECEIVING_KINDS = (Kind.REFERRAL_RECEIVER, Kind.FORWARDED_TO)


class ConsentMissing(ValidationError):
    """No valid consent for this pathway's purpose and the recipient: nothing may be shared."""


class TransitionRefused(ValidationError):
    pass


# Said when someone without the role the workflow table asks for tries a step.
REFUSED = {
    "accept": _("Only the receiver can accept this referral."),
    "decline": _("Only the receiver can decline this referral."),
    "forward": _("Only the receiver can forward this referral."),
    "reassign": _("Only a coordinator of the receiving team can reassign."),
    "first_contact": _("Only the receiver can record the first contact."),
    "feedback": _("Only the receiver can send feedback."),
    "hold": _("Only the receiver can put this referral on hold."),
    "resume": _("Only the receiver can resume this referral."),
    "complete": _("Only the receiver can close this referral."),
    "reopen": _("Only the receiver can reopen this referral."),
    "acknowledge": _("Only the sender's practice can acknowledge feedback."),
    "cancel": _("Only the sender's practice can cancel this referral."),
    "entered_in_error": _("Only the sender's practice can mark this as an error."),
    "message": _("Only the professionals involved can write here."),
    "plan_consultation": _("Only the professionals involved can plan this."),
    "record_consultation": _("Only the professionals involved can record this."),
}


# --- who may do what (for views and other apps) ------------------------------------------------------


def is_requester(user, referral: Referral) -> bool:
    """The sender, or a colleague in the sending practice's team (never someone of the receiving team)."""
    return bool(roles_of(user, referral) & {Role.SENDER, Role.PRACTICE})


def is_receiver(user, referral: Referral) -> bool:
    """The person the referral is with now, or a coordinator of the receiving team."""
    return bool(roles_of(user, referral) & {Role.RECEIVER, Role.COORDINATOR})


def can_take_part(user, referral: Referral) -> bool:
    """Whether `user` may write messages now (the table's `message` step)."""
    return may(STEPS["message"], roles_of(user, referral), referral)


# --- the frame every step runs in ----------------------------------------------------------------------


def _now(at: datetime | None) -> datetime:
    return at or timezone.now()


def _locked(referral: Referral) -> Referral:
    """The referral re-read under a row lock: two clicks or two people acting at once take turns, and
    the second sees what the first did."""
    return (
        Referral.objects.select_for_update(of=("self",))
        .select_related("pathway", "patient", "receiving_team")
        .get(pk=referral.pk)
    )


def _begin(action: str, referral: Referral, by, *, recipient: Team | None = None, at=None):
    """Lock, check the table, and lock the consent the step needs. Returns (step, referral, consent)."""
    step = STEPS[action]
    consent = None
    if step.consent:
        # Consent rows first, then the referral: the order consent withdrawal takes them in.
        consent = _consent(referral, recipient or referral.receiving_team, at=at)
    referral = _locked(referral)
    roles = roles_of(by, referral)
    if not step.roles & roles:
        raise TransitionRefused(REFUSED.get(action, _("You cannot do this for this referral.")))
    if not may(step, roles, referral):
        raise TransitionRefused(
            _("This referral is now '%(status)s'; that step is no longer possible.")
            % {"status": referral.get_status_display()}
        )
    if consent is not None and recipient is None and consent.pk != referral.consent_id:
        # The step rests on a consent given since (a renewed one): the referral and the access it gives
        # follow it, so withdrawing that consent ends them too.
        _relationships(referral).filter(consent_id=referral.consent_id).update(consent=consent)
        Referral.objects.filter(pk=referral.pk).update(consent=consent)
        referral.consent = consent
    return step, referral, consent


# The same text by the same person on the same referral within this window is one submission sent
# twice (a double click, a form sent again after a slow answer), not a second message.
REPEAT_WINDOW = timedelta(minutes=2)


def _repeated(same, latest, at):
    """The earlier copy of a submission: the newest row of `latest` (the referral's messages or feedback),
    if it is one of `same` (identical content by the same person) from the last REPEAT_WINDOW. A reply
    in between makes the same words a new message. Called under the referral's row lock, so two
    submissions at once see each other."""
    newest = latest.order_by("-created_at", "-pk").first()
    window = (at - REPEAT_WINDOW, at + REPEAT_WINDOW)  # `at` was read before the lock was granted
    if newest is None or not same.filter(pk=newest.pk, created_at__range=window).exists():
        return None
    return newest


def _consent(referral: Referral, recipient: Team, *, at=None, purpose: str | None = None) -> Consent:
    consent = consent_for_use(
        patient=referral.patient,
        purpose=purpose or referral.pathway.consent_purpose,
        recipient=recipient,
        at=at,
    )
    if consent is None:
        raise ConsentMissing(
            _("There is no valid consent of the patient to share this with %(team)s.") % {"team": recipient}
        )
    return consent


def _event(referral: Referral, step_or_kind, *, by, at, from_status: str = "", **fields) -> Event:
    """Append an event and tell the people it concerns (referrals/notify.py), in the step's transaction."""
    kind = step_or_kind.event if isinstance(step_or_kind, Step) else step_or_kind
    note = fields.pop("note", "")
    event = Event.objects.create(
        referral=referral,
        at=at,
        kind=kind,
        actor=by,
        from_status=from_status or referral.status,
        to_status=fields.pop("to_status", referral.status),
        note=note[:500],
        **fields,
    )
    notify.event_happened(event, referral)
    return event


def _move(referral: Referral, step: Step, *, by, at, note: str = "", event_fields=None, **fields) -> Referral:
    """Set the step's status (and `fields`) and append its event. The row is locked: no one else moved
    it since `_begin` checked the status."""
    previous = referral.status
    to = step.to or previous
    Referral.objects.filter(pk=referral.pk).update(status=to, **fields)
    referral.status = to
    for name, value in fields.items():
        setattr(referral, name, value)
    if step.event:
        _event(
            referral,
            step,
            by=by,
            at=at,
            from_status=previous,
            to_status=to,
            note=note,
            **(event_fields or {}),
        )
    return referral


def _log(
    by, audit, referral: Referral, event: str = AccessEvent.CHANGE, reason: str = "", outcome=Outcome.ALLOWED
) -> None:
    access_log_write(
        user=by,
        audit=audit,
        event=event,
        outcome=outcome,
        role=role_of(by),
        patient_id=referral.patient_id,
        object_type="referral",
        object_id=referral.pk,
        purpose=referral.pathway.consent_purpose,
        consent_id=referral.consent_id,
        reason=reason,
    )


def step_refused_log(*, by, audit, referral: Referral, action: str) -> None:
    """A step refused after the access check (consent gone, status changed under the lock): the log says
    so next to the access it recorded."""
    _log(by, audit, referral, reason=f"refused: {action}", outcome=Outcome.DENIED)


# --- access: who sees the patient, for as long as they are involved --------------------------------


def _relationships(referral: Referral):
    return CareRelationship.objects.filter(referral_id=referral.pk)


def _team_of(user, *, organisation_id: int | None = None, teams=None) -> Team | None:
    """The team through which `user` is involved: one of theirs in `organisation_id` or among `teams`."""
    memberships = Membership.objects.filter(user=user).select_related("team").order_by("team_id")
    if organisation_id is not None:
        memberships = memberships.filter(team__organisation_id=organisation_id)
    if teams is not None:
        memberships = memberships.filter(team__in=teams)
    membership = memberships.first()
    return membership.team if membership else None


def _grace_end(at: datetime) -> datetime:
    return at + timedelta(days=settings.REFERRAL_ACCESS_GRACE_DAYS)


def _grant_receiving_side(referral: Referral, *, at, kind: str = Kind.REFERRAL_RECEIVER) -> None:
    common = {"patient": referral.patient, "referral_id": referral.pk, "at": at, "consent": referral.consent}
    care_relationship_grant(**common, kind=kind, user=referral.receiver, team=referral.receiving_team)
    care_relationship_grant(**common, kind=Kind.TEAM_COORDINATOR, team=referral.receiving_team)


def referral_access_open(*, referral: Referral, at: datetime | None = None) -> None:
    """The access a sent referral gives (workflow "send"); also for referrals written without the send
    service (test fixtures)."""
    _apply_access(STEPS["send"], referral, at=_now(at))


def _apply_access(
    step: Step, referral: Referral, *, at, previous_receiver=None, previous_team=None, by=None
) -> None:
    """What the step does to access (workflow.AccessChange)."""
    change = step.access
    everyone = _relationships(referral)
    if change == AccessChange.GRANT:
        _grant_receiving_side(referral, at=at)
        if referral.patient.practice_id != referral.sender_organisation_id:
            care_relationship_grant(
                patient=referral.patient,
                referral_id=referral.pk,
                at=at,
                consent=referral.consent,
                kind=Kind.REFERRAL_SENDER,
                user=referral.sender,
                # Holds while they work for the organisation they sent for.
                team=_team_of(referral.sender, organisation_id=referral.sender_organisation_id),
            )
    elif change == AccessChange.HANDOVER:
        reason = (
            CareRelationship.Ended.FORWARDED
            if step.action == "forward"
            else CareRelationship.Ended.REASSIGNED
        )
        care_relationships_end(
            relationships=everyone.filter(user=previous_receiver, kind__in=RECEIVING_KINDS),
            at=at,
            reason=reason,
        )
        if previous_team is not None and previous_team.pk != referral.receiving_team_id:
            care_relationships_end(
                relationships=everyone.filter(user__isnull=True, team=previous_team), at=at, reason=reason
            )
        _grant_receiving_side(referral, at=at, kind=Kind.FORWARDED_TO)
    elif change == AccessChange.DECLINE:
        receiving = everyone.filter(Q(kind__in=RECEIVING_KINDS) | Q(kind=Kind.TEAM_COORDINATOR))
        care_relationships_end(relationships=receiving, at=at, reason=CareRelationship.Ended.DECLINED)
        care_relationships_end(
            relationships=everyone, at=_grace_end(at), reason=CareRelationship.Ended.CLOSED
        )
        _consultation_cancel(referral, by=by, at=at)
    elif change == AccessChange.CLOSE:
        care_relationships_end(
            relationships=everyone, at=_grace_end(at), reason=CareRelationship.Ended.CLOSED
        )
    elif change == AccessChange.REOPEN:
        care_relationships_restore(relationships=everyone, reason=CareRelationship.Ended.CLOSED)
    elif change == AccessChange.END:
        reason = (
            CareRelationship.Ended.ENTERED_IN_ERROR
            if step.action == "entered_in_error"
            else CareRelationship.Ended.CANCELLED
        )
        care_relationships_end(relationships=everyone, at=at, reason=reason)
        _consultation_cancel(referral, by=by, at=at)


def _consultation_cancel(referral: Referral, *, by, at) -> None:
    """A referral that ends (cancelled, entered in error, consent withdrawn) takes its planned joint
    consultation with it; the participants are told and no reminder follows."""
    consultation = (
        JointConsultation.objects.select_for_update()
        .filter(referral=referral, state=JointConsultation.State.PLANNED)
        .first()
    )
    if consultation is None:
        return
    consultation.state = JointConsultation.State.CANCELLED
    consultation.save(update_fields=["state"])
    notify.consultation_changed(
        consultation, "cancelled", list(consultation.participants.all()), by=by, at=at
    )


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


def sending_organisation(user, patient: Patient) -> Organisation | None:
    """Who a referral by `user` for `patient` is sent on behalf of: the patient's practice when the user
    works in it; otherwise the one organisation they work for (None when that is ambiguous)."""
    if patient.practice_id in practice_ids_of(user):
        return patient.practice
    organisations = list(
        Organisation.objects.filter(teams__memberships__user=user).distinct().order_by("pk")[:2]
    )
    return organisations[0] if len(organisations) == 1 else None


@transaction.atomic
def referral_send(
    *,
    by,
    patient: Patient,
    pathway: Pathway,
    receiving_team: Team,
    receiver,
    letter: dict,
    urgency: str = "routine",
    shared_concerns: list[Concern] | tuple = (),
    assigned_via: str = Referral.AssignedVia.CONTACT,
    submission: str | None = None,
    audit: AuditContext | None = None,
    at: datetime | None = None,
) -> Referral:
    """Send a referral to a named person. `submission` (a token from the form) makes sending
    idempotent: the same form posted twice gives the one referral it created."""
    at = _now(at)
    if submission:
        existing = Referral.objects.filter(submission=submission, sender=by).first()
        if existing is not None:
            return existing
    # Emergency access reads; it never becomes a referral (and with it lasting access).
    involved = relationships_of(user=by, at=at).filter(patient=patient).exclude(kind=Kind.EMERGENCY).exists()
    if patient.practice_id not in practice_ids_of(by) and not involved:
        raise ValidationError(_("You have no care relationship with this patient."))
    if receiver is not None and receiver.pk == by.pk:
        raise ValidationError({"receiver": _("Send the referral to someone else than yourself.")})
    discipline = discipline_of(by)
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
    sender_organisation = sending_organisation(by, patient)
    if sender_organisation is None:
        raise ValidationError(
            _("You work for more than one organisation: send from the practice of the patient.")
        )
    if patient.practice_id != sender_organisation.pk and any(c.is_medical for c in shared_concerns):
        raise ValidationError(_("Only the patient's practice can share medical concerns."))
    consent = consent_for_use(
        patient=patient, purpose=pathway.consent_purpose, recipient=receiving_team, at=at
    )
    if consent is None:
        raise ConsentMissing(
            _("There is no valid consent of the patient to share this with %(team)s.")
            % {"team": receiving_team}
        )
    day = timezone.localdate(at)
    fields = {
        "patient": patient,
        "pathway": pathway,
        "sender": by,
        "sender_organisation": sender_organisation,
        "receiving_team": receiving_team,
        "receiver": receiver,
        "assigned_via": assigned_via,
        "letter": validate_letter(pathway, letter),
        "urgency": urgency,
        "consent": consent,
        "status": Status.REQUESTED,
        "sent_at": at,
        "assigned_at": at,
        "accept_by": add_working_days(day, pathway.accept_within),
        "first_contact_by": add_working_days(day, pathway.accept_within + pathway.first_contact_within),
        "submission": submission or None,
    }
    try:
        with transaction.atomic():
            referral = Referral.objects.create(**fields)
    except IntegrityError:
        if not submission or not Referral.objects.filter(submission=submission).exists():
            raise  # another constraint: not about the form's token
        # The same form, posted twice at once: the other request created it.
        existing = Referral.objects.filter(submission=submission, sender=by).first()
        if existing is None:  # someone else's token: a forged form, not a second click
            raise ValidationError(_("This form cannot be sent again. Open a new referral form.")) from None
        return existing
    if shared_concerns:
        referral.shared_concerns.set(shared_concerns)
    step = STEPS["send"]
    _event(referral, step, by=by, at=at, from_status=Status.DRAFT, to_user=receiver)
    referral_access_open(referral=referral, at=at)
    _log(by, audit, referral, AccessEvent.CREATE)
    return referral


# --- the receiver's steps -----------------------------------------------------------------------


@transaction.atomic
def referral_accept(*, referral: Referral, by, audit: AuditContext | None = None, at=None) -> Referral:
    at = _now(at)
    step, referral, _consent_row = _begin("accept", referral, by, at=at)
    referral = _move(referral, step, by=by, at=at, accepted_at=at)
    _log(by, audit, referral)
    return referral


@transaction.atomic
def referral_decline(
    *, referral: Referral, by, reason: str, note: str = "", audit: AuditContext | None = None, at=None
) -> Referral:
    at = _now(at)
    if reason not in DeclineReason.values:
        raise ValidationError({"reason": _("Choose a reason for declining.")})
    if reason == DeclineReason.OTHER and not note.strip():
        raise ValidationError({"note": _("Explain the reason when you choose 'other'.")})
    step, referral, _consent_row = _begin("decline", referral, by, at=at)
    referral = _move(
        referral,
        step,
        by=by,
        at=at,
        note=f"{reason}: {note}".strip(": "),
        decline_reason=reason,
        decline_note=note.strip(),
        closed_at=at,
    )
    _apply_access(step, referral, at=at, by=by)
    _log(by, audit, referral)
    return referral


def _consented(referral: Referral, teams, *, at=None) -> list[Team]:
    """Those of `teams` for which the patient's consent for the pathway's purpose is valid."""
    from patients.selectors import consent_is_valid

    purpose = referral.pathway.consent_purpose
    return [
        t for t in teams if consent_is_valid(patient=referral.patient, purpose=purpose, recipient=t, at=at)
    ]


def forward_candidates(referral: Referral, *, at=None):
    """Who a referral can be forwarded to: active members of teams that receive its pathway (the same kind
    of team) and for which the patient's consent for the pathway's purpose is valid; not the receiver."""
    kind = referral.receiving_team.kind
    teams = _consented(referral, Team.objects.filter(kind=kind).select_related("organisation"), at=at)
    return (
        get_user_model()
        .objects.filter(is_active=True, memberships__team__in=teams)
        .exclude(pk=referral.receiver_id)
        .distinct()
        .order_by("last_name", "first_name", "pk")
    )


def _forward_team(referral: Referral, to_user, *, at=None) -> Team:
    """The team a forward to `to_user` goes to: the receiving team if they are in it; otherwise the team
    of the same kind they belong to for which the patient's consent holds (someone in two such teams
    gets the referral in the one consent covers, not the one created first)."""
    teams = list(
        Team.objects.filter(
            memberships__user=to_user, memberships__user__is_active=True, kind=referral.receiving_team.kind
        )
        .select_related("organisation")
        .order_by("pk")
    )
    if not teams:
        raise ValidationError({"to_user": _("Forward to a member of a team that receives this pathway.")})
    if any(team.pk == referral.receiving_team_id for team in teams):
        return referral.receiving_team
    return next(iter(_consented(referral, teams, at=at)), teams[0])  # none: _begin refuses with the reason


@transaction.atomic
def referral_forward(
    *, referral: Referral, by, to_user, note: str = "", audit: AuditContext | None = None, at=None
) -> Referral:
    """Hand the referral to another named person: in this team, or in another team of the same kind for
    which the patient's consent holds."""
    at = _now(at)
    team = _forward_team(referral, to_user, at=at)
    step, referral, consent = _begin("forward", referral, by, recipient=team, at=at)
    if to_user.pk == referral.receiver_id:
        raise ValidationError({"to_user": _("The referral is already with this person.")})
    previous_receiver, previous_team = referral.receiver, referral.receiving_team
    day = timezone.localdate(at)
    referral = _move(
        referral,
        step,
        by=by,
        at=at,
        note=note,
        event_fields={"from_user": previous_receiver, "to_user": to_user},
        receiver=to_user,
        receiving_team=team,
        consent=consent,
        assigned_at=at,  # the new receiver's clock starts now
        accepted_at=None,
        assigned_via=Referral.AssignedVia.FORWARDED,
        accept_by=add_working_days(day, referral.pathway.accept_within),
        first_contact_by=add_working_days(
            day, referral.pathway.accept_within + referral.pathway.first_contact_within
        ),
    )
    _apply_access(step, referral, at=at, previous_receiver=previous_receiver, previous_team=previous_team)
    _log(by, audit, referral)
    return referral


@transaction.atomic
def referral_reassign(
    *, referral: Referral, by, to_user, audit: AuditContext | None = None, at=None
) -> Referral:
    """A team coordinator gives the referral to another member of the receiving team."""
    at = _now(at)
    step, referral, consent = _begin("reassign", referral, by, at=at)
    if not Membership.objects.filter(
        user=to_user, user__is_active=True, team_id=referral.receiving_team_id
    ).exists():
        raise ValidationError({"to_user": _("Choose a member of the receiving team.")})
    if to_user.pk == referral.receiver_id:
        raise ValidationError({"to_user": _("The referral is already with this person.")})
    previous_receiver = referral.receiver
    restart = {}
    if referral.status == Status.REQUESTED:  # the new receiver gets the pathway's time to accept, from now
        restart = {"accept_by": add_working_days(timezone.localdate(at), referral.pathway.accept_within)}
    referral = _move(
        referral,
        step,
        by=by,
        at=at,
        event_fields={"from_user": previous_receiver, "to_user": to_user},
        receiver=to_user,
        consent=consent,
        assigned_via=Referral.AssignedVia.REASSIGNED,
        assigned_at=at,
        **restart,
    )
    _apply_access(step, referral, at=at, previous_receiver=previous_receiver)
    _log(by, audit, referral)
    return referral


@transaction.atomic
def referral_first_contact(
    *,
    referral: Referral,
    by,
    contact_date: date,
    contact_method: str,
    text: str = "",
    audit: AuditContext | None = None,
    at=None,
) -> Feedback:
    at = _now(at)
    today = timezone.localdate(at)
    if contact_date > today:
        raise ValidationError({"contact_date": _("The first contact cannot lie in the future.")})
    if referral.sent_at and contact_date < timezone.localdate(referral.sent_at):
        raise ValidationError(
            {"contact_date": _("The first contact cannot be before the referral was sent.")}
        )
    step, referral, _consent_row = _begin("first_contact", referral, by, at=at)
    referral = _move(
        referral,
        step,
        by=by,
        at=at,
        first_contact_at=at,
        last_feedback_at=at,
        feedback_by=today + timedelta(days=referral.pathway.feedback_every),
    )
    feedback = Feedback.objects.create(
        referral=referral,
        kind=Feedback.Kind.FIRST_CONTACT,
        author=by,
        created_at=at,
        contact_date=contact_date,
        contact_method=contact_method,
        text=text,
    )
    _log(by, audit, referral)
    return feedback


@transaction.atomic
def referral_feedback(
    *,
    referral: Referral,
    by,
    kind: str,
    text: str,
    domain_statuses: dict | None = None,
    audit: AuditContext | None = None,
    at=None,
) -> Feedback:
    """Plan agreed or progress ("how is the patient doing"), to the sender."""
    at = _now(at)
    if kind not in (Feedback.Kind.PLAN_AGREED, Feedback.Kind.PROGRESS):
        raise ValidationError({"kind": _("Choose plan agreed or progress.")})
    if not text.strip():
        raise ValidationError({"text": _("Write how the patient is doing.")})
    step, referral, _consent_row = _begin("feedback", referral, by, at=at)
    feedback = Feedback.objects.filter(referral=referral)
    same = feedback.filter(author=by, kind=kind, text=text.strip(), domain_statuses=domain_statuses or {})
    repeat = _repeated(same, feedback, at)
    if repeat is not None:  # a double click or a resent form: no second feedback, event or due date
        return repeat
    referral = _move(
        referral,
        step,
        by=by,
        at=at,
        note=kind,
        last_feedback_at=at,
        feedback_by=timezone.localdate(at) + timedelta(days=referral.pathway.feedback_every),
    )
    feedback = Feedback.objects.create(
        referral=referral,
        kind=kind,
        author=by,
        created_at=at,
        text=text.strip(),
        domain_statuses=domain_statuses or {},
    )
    _log(by, audit, referral)
    return feedback


@transaction.atomic
def referral_hold(
    *, referral: Referral, by, note: str = "", audit: AuditContext | None = None, at=None
) -> Referral:
    at = _now(at)
    step, referral, _consent_row = _begin("hold", referral, by, at=at)
    referral = _move(referral, step, by=by, at=at, note=note)
    _log(by, audit, referral)
    return referral


@transaction.atomic
def referral_resume(*, referral: Referral, by, audit: AuditContext | None = None, at=None) -> Referral:
    at = _now(at)
    step, referral, _consent_row = _begin("resume", referral, by, at=at)
    referral = _move(referral, step, by=by, at=at)
    _log(by, audit, referral)
    return referral


@transaction.atomic
def referral_complete(
    *, referral: Referral, by, outcome: str, text: str, audit: AuditContext | None = None, at=None
) -> Feedback:
    at = _now(at)
    if outcome not in Feedback.Outcome.values:
        raise ValidationError({"outcome": _("Choose the outcome.")})
    if not text.strip():
        raise ValidationError({"text": _("Summarise the outcome for the GP.")})
    step, referral, _consent_row = _begin("complete", referral, by, at=at)
    referral = _move(
        referral,
        step,
        by=by,
        at=at,
        note=outcome,
        completed_at=at,
        closed_at=at,
        last_feedback_at=at,
        acknowledged_at=None,
        feedback_by=None,
    )
    feedback = Feedback.objects.create(
        referral=referral,
        kind=Feedback.Kind.CLOSURE,
        author=by,
        created_at=at,
        outcome=outcome,
        text=text.strip(),
    )
    _apply_access(step, referral, at=at)
    _log(by, audit, referral)
    return feedback


@transaction.atomic
def referral_reopen(
    *, referral: Referral, by, note: str = "", audit: AuditContext | None = None, at=None
) -> Referral:
    at = _now(at)
    step, referral, _consent_row = _begin("reopen", referral, by, at=at)
    referral = _move(
        referral,
        step,
        by=by,
        at=at,
        note=note,
        completed_at=None,
        closed_at=None,
        feedback_by=timezone.localdate(at) + timedelta(days=referral.pathway.feedback_every),
    )
    _apply_access(step, referral, at=at)
    _log(by, audit, referral)
    return referral


# --- the requester's steps ----------------------------------------------------------------------


@transaction.atomic
def referral_acknowledge(*, referral: Referral, by, audit: AuditContext | None = None, at=None) -> Referral:
    """The sender has read the feedback: the loop is closed for them."""
    at = _now(at)
    step, referral, _consent_row = _begin("acknowledge", referral, by, at=at)
    pending = Feedback.objects.filter(referral=referral, acknowledged_at__isnull=True)
    if not pending.exists():
        raise TransitionRefused(_("There is no new feedback to acknowledge."))
    pending.update(acknowledged_at=at, acknowledged_by=by)
    fields = (
        {"acknowledged_at": at}
        if referral.status == Status.COMPLETED and not referral.acknowledged_at
        else {}
    )
    referral = _move(referral, step, by=by, at=at, **fields)
    _log(by, audit, referral)
    return referral


@transaction.atomic
def referral_cancel(
    *, referral: Referral, by, note: str = "", audit: AuditContext | None = None, at=None
) -> Referral:
    at = _now(at)
    step, referral, _consent_row = _begin("cancel", referral, by, at=at)
    referral = _move(referral, step, by=by, at=at, note=note, closed_at=at)
    _apply_access(step, referral, at=at, by=by)
    _log(by, audit, referral)
    return referral


@transaction.atomic
def referral_mark_entered_in_error(
    *, referral: Referral, by, note: str, audit: AuditContext | None = None, at=None
) -> Referral:
    at = _now(at)
    if not note.strip():
        raise ValidationError({"note": _("Say briefly what was wrong.")})
    step, referral, _consent_row = _begin("entered_in_error", referral, by, at=at)
    referral = _move(referral, step, by=by, at=at, note=note, closed_at=referral.closed_at or at)
    _apply_access(step, referral, at=at, by=by)
    _log(by, audit, referral)
    return referral


@signal_receiver(consent_withdrawn)
def _close_what_the_consent_covered(sender, *, consent, by, audit, at, **kwargs) -> None:
    """Consent withdrawn (patients.services.consent_withdraw, same transaction): the open referrals sent on
    its basis are cancelled, so nobody is reminded of, or acts on, what may no longer be shared."""
    for referral in Referral.objects.filter(
        consent=consent, status__in=STEPS["cancel"].allowed_from
    ).order_by("pk"):
        referral = _locked(referral)
        if referral.status not in STEPS["cancel"].allowed_from:
            continue
        step = STEPS["cancel"]
        referral = _move(
            referral, step, by=by, at=at, note=_("Consent withdrawn by the patient."), closed_at=at
        )
        _apply_access(step, referral, at=at, by=by)
        _log(by, audit, referral, reason="consent withdrawn")


# --- messages and joint consultations -----------------------------------------------------------


@transaction.atomic
def message_post(*, referral: Referral, by, text: str, audit: AuditContext | None = None, at=None) -> Message:
    backdated, at = at is not None, _now(at)
    if not text.strip():
        raise ValidationError({"text": _("Write a message first.")})
    _step, referral, _consent_row = _begin("message", referral, by, at=at)
    messages = Message.objects.filter(referral=referral)
    repeat = _repeated(messages.filter(author=by, text=text.strip()), messages, at)
    if repeat is not None:  # a double click or a resent form: the message is there once
        return repeat
    message = Message.objects.create(referral=referral, author=by, text=text.strip())
    if backdated:  # created_at is set on insert; a message told at an earlier moment (the demo) keeps it
        Message.objects.filter(pk=message.pk).update(created_at=at)
        message.created_at = at
    notify.message_posted(message, referral, at=at)
    _log(by, audit, referral, reason="message")
    return message


def consultation_teams(referral: Referral):
    """The teams a joint consultation invites from: the receiving team and the practice teams of the
    patient's and the sender's practice."""
    return Team.objects.filter(
        Q(pk=referral.receiving_team_id)
        | Q(organisation_id=referral.sender_organisation_id, kind=Team.Kind.PRACTICE)
        | Q(organisation_id=referral.patient.practice_id, kind=Team.Kind.PRACTICE)
    )


def _consent_covering(consents: list[Consent], team: Team | None) -> Consent | None:
    if team is None:
        return None
    return next(
        (
            c
            for c in consents
            if c.recipient_team_id == team.pk or c.recipient_organisation_id == team.organisation_id
        ),
        None,
    )


def consultation_candidates(referral: Referral):
    """Who can be invited: the people of the consultation teams (part of this patient's care), active
    accounts only."""
    teams = consultation_teams(referral)
    return (
        get_user_model()
        .objects.filter(is_active=True, memberships__team__in=teams)
        .distinct()
        .order_by("last_name", "first_name", "pk")
    )


def _consultation_consents(referral: Referral, participants: list, *, at) -> list[Consent]:
    """Each participating team outside the patient's practice needs consent for a joint consultation."""
    missing, consents = [], []
    for person in participants:
        for membership in person.memberships.select_related("team__organisation"):
            team = membership.team
            if team.organisation_id == referral.patient.practice_id:
                continue
            consent = consent_for_use(
                patient=referral.patient, purpose="joint_consultation", recipient=team, at=at
            )
            if consent is None:
                if team.organisation.name not in missing:
                    missing.append(team.organisation.name)
            else:
                consents.append(consent)
    if missing:
        raise ConsentMissing(
            _("The patient has not consented to a joint consultation with: %(orgs)s.")
            % {"orgs": ", ".join(sorted(missing))}
        )
    return consents


@transaction.atomic
def joint_consultation_schedule(
    *,
    referral: Referral,
    by,
    scheduled_at,
    location: str,
    participants: list,
    patient_attends: bool = True,
    agenda: str = "",
    audit: AuditContext | None = None,
    at=None,
) -> JointConsultation:
    """Plan (or move) the meeting. Participants come from the consultation candidates; each team outside
    the practice needs the patient's consent; participants get access while involved."""
    at = _now(at)
    if not referral.pathway.is_joint_consultation:
        raise ValidationError(_("This referral is not a joint consultation request."))
    if scheduled_at < at:
        raise ValidationError({"scheduled_at": _("Choose a moment in the future.")})
    allowed = set(consultation_candidates(referral).values_list("pk", flat=True))
    if not participants or any(p.pk not in allowed for p in participants):
        raise ValidationError({"participants": _("Choose participants from the list.")})
    consents = _consultation_consents(referral, participants, at=at)
    _step, referral, _consent_row = _begin("plan_consultation", referral, by, at=at)
    existing = JointConsultation.objects.select_for_update().filter(referral=referral).first()
    if existing is not None and existing.state == JointConsultation.State.HELD:
        raise TransitionRefused(_("This joint consultation was held already; it cannot be planned again."))
    planned_before = existing is not None and existing.state == JointConsultation.State.PLANNED
    invited_before = set(existing.participants.values_list("pk", flat=True)) if planned_before else set()
    moved = planned_before and (existing.scheduled_at != scheduled_at or existing.location != location)
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
    relationships = _relationships(referral).filter(kind=Kind.JOINT_CONSULTATION)
    care_relationships_end(
        relationships=relationships.exclude(user__in=participants),
        at=at,
        reason=CareRelationship.Ended.REMOVED,
    )
    candidate_teams = consultation_teams(referral)
    for person in participants:
        team = _team_of(person, teams=candidate_teams)
        care_relationship_grant(
            patient=referral.patient,
            referral_id=referral.pk,
            kind=Kind.JOINT_CONSULTATION,
            user=person,
            team=team,  # holds while they are in the team they take part for
            at=at,
            consent=_consent_covering(consents, team) or referral.consent,
        )
    chosen = {p.pk for p in participants}
    stayed = [p for p in participants if p.pk in invited_before]
    notify.consultation_changed(
        consultation, "planned", [p for p in participants if p.pk not in invited_before], by=by, at=at
    )
    if moved:
        notify.consultation_changed(consultation, "moved", stayed, by=by, at=at)
    if invited_before - chosen:
        removed = list(get_user_model().objects.filter(pk__in=invited_before - chosen))
        notify.consultation_changed(
            consultation, "cancelled", removed, by=by, at=at, scheduled_at=existing.scheduled_at
        )
    _log(by, audit, referral, reason="joint consultation planned")
    return consultation


@transaction.atomic
def joint_consultation_record(
    *,
    consultation: JointConsultation,
    by,
    notes: str,
    actions: list[tuple[str, object, date | None]],
    audit: AuditContext | None = None,
    at=None,
) -> JointConsultation:
    at = _now(at)
    referral = consultation.referral
    participants = list(consultation.participants.all())
    _consultation_consents(referral, participants, at=at)
    _step, referral, _consent_row = _begin("record_consultation", referral, by, at=at)
    consultation = JointConsultation.objects.select_for_update().get(pk=consultation.pk)
    if consultation.state != JointConsultation.State.PLANNED:
        raise TransitionRefused(_("This joint consultation was recorded already."))
    owners = {p.pk for p in participants}
    if any(owner.pk not in owners for description, owner, _due in actions if description.strip()):
        raise ValidationError(_("Every agreed action needs an owner who took part."))
    consultation.notes = notes
    consultation.state = JointConsultation.State.HELD
    consultation.save(update_fields=["notes", "state"])
    owners = []
    for description, owner, due_on in actions:
        if description.strip():
            AgreedAction.objects.create(
                consultation=consultation, description=description.strip(), owner=owner, due_on=due_on
            )
            owners.append(owner)
    notify.consultation_changed(
        consultation, "action", list({o.pk: o for o in owners}.values()), by=by, at=at
    )
    _log(by, audit, referral, reason="joint consultation recorded")
    return consultation


# The service of each workflow step taken on an existing referral (referrals/workflow.py): the referral
# page, the demo and the tests call steps through this one map.
STEP_SERVICES = {
    "accept": referral_accept,
    "decline": referral_decline,
    "forward": referral_forward,
    "reassign": referral_reassign,
    "first_contact": referral_first_contact,
    "feedback": referral_feedback,
    "hold": referral_hold,
    "resume": referral_resume,
    "complete": referral_complete,
    "reopen": referral_reopen,
    "acknowledge": referral_acknowledge,
    "cancel": referral_cancel,
    "entered_in_error": referral_mark_entered_in_error,
    "message": message_post,
}
