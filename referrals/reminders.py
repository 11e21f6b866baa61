"""The referral reminder sweep, derived from database state each time beat runs it.

For every active rule, the referrals whose step is overdue are selected in SQL. A `Reminder` row is
inserted per (referral, rule, occurrence) with ON CONFLICT DO NOTHING, and a notification per recipient
with its own unique key: running the sweep twice, or in two processes at once, creates each once.
"""

from collections import defaultdict
from datetime import timedelta

from django.db.models import CharField, Exists, OuterRef, Value
from django.db.models.functions import Cast
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from collab_hub.core.workdays import due_cutoff
from collab_hub.notifications.services import NotificationSpec, notifications_create
from teams.models import Membership
from teams.selectors import current_contact_for

from .models import JointConsultation, Referral, Reminder, ReminderRule, Status

BATCH = 2000


# Which date makes a new occurrence of a rule: a forwarded referral gets a new accept-by date, each
# feedback period a new feedback-by date. Rules without one fire once per referral.
OCCURRENCE_FIELD = {
    ReminderRule.Trigger.NOT_ACCEPTED: "accept_by",
    ReminderRule.Trigger.NO_FIRST_CONTACT: "first_contact_by",
    ReminderRule.Trigger.FEEDBACK_DUE: "feedback_by",
}


def due_referrals(rule: ReminderRule, now):
    """The referrals for which `rule` is due at `now` and not yet created, annotated with `occurrence`."""
    today = timezone.localdate(now)
    qs = Referral.objects.all()
    if rule.pathway_id:
        qs = qs.filter(pathway_id=rule.pathway_id)
    T = ReminderRule.Trigger
    if rule.trigger == T.NOT_ACCEPTED:
        qs = qs.filter(status=Status.REQUESTED, sent_at__date__lte=due_cutoff(today, rule.days))
    elif rule.trigger == T.NO_FIRST_CONTACT:
        qs = qs.filter(status=Status.ACCEPTED, accepted_at__date__lte=due_cutoff(today, rule.days))
    elif rule.trigger == T.FEEDBACK_DUE:
        qs = qs.filter(status=Status.IN_PROGRESS, feedback_by__lte=today)
    elif rule.trigger == T.ACKNOWLEDGE:
        qs = qs.filter(
            status=Status.COMPLETED,
            acknowledged_at__isnull=True,
            completed_at__date__lte=due_cutoff(today, rule.days),
        )
    else:
        soon = JointConsultation.objects.filter(
            state=JointConsultation.State.PLANNED,
            scheduled_at__gte=now,
            scheduled_at__date__lte=today + timedelta(days=rule.days),
        )
        qs = qs.filter(pk__in=soon.values("referral_id"))
    field = OCCURRENCE_FIELD.get(rule.trigger)
    qs = qs.annotate(occurrence=Cast(field, CharField()) if field else Value("1", output_field=CharField()))
    exists = Reminder.objects.filter(rule=rule, referral=OuterRef("pk"), occurrence=OuterRef("occurrence"))
    return qs.exclude(Exists(exists))


def _recipients(
    rule: ReminderRule, referral: Referral, coordinators: dict[int, list[int]], deputies: dict
) -> list[int]:
    A = ReminderRule.Audience
    if rule.audience == A.RECEIVER:
        return [referral.receiver_id]
    if rule.audience == A.SENDER:
        return [referral.sender_id]
    if rule.audience == A.PARTICIPANTS:
        return [p.pk for p in referral.joint_consultation.participants.all()]
    # Escalation: the deputy of the named contact, the team coordinators, and the sender is told.
    people = set(coordinators.get(referral.receiving_team_id, [])) | {referral.sender_id}
    # One look-up per practice and team per sweep: the answer is the same for all their referrals.
    pair = (referral.sender_organisation_id, referral.receiving_team_id)
    if pair not in deputies:
        resolution = current_contact_for(practice=referral.sender_organisation, team=referral.receiving_team)
        deputies[pair] = resolution.named_contact.deputy_id if resolution is not None else None
    if deputies[pair]:
        people.add(deputies[pair])
    people.discard(referral.receiver_id)
    return sorted(people)


def _message(rule: ReminderRule, referral: Referral) -> tuple[str, str]:
    """Subject and text without patient data: the pathway and the pseudonymous reference only."""
    T = ReminderRule.Trigger
    ctx = {"pathway": referral.pathway.name, "reference": referral.reference}
    texts = {
        T.NOT_ACCEPTED: (
            _("Referral %(reference)s waits for acceptance"),
            _("A %(pathway)s referral has not been accepted yet."),
        ),
        T.NO_FIRST_CONTACT: (
            _("Referral %(reference)s: no first contact yet"),
            _("A %(pathway)s referral was accepted but the first contact is not recorded."),
        ),
        T.FEEDBACK_DUE: (
            _("Referral %(reference)s: progress feedback is due"),
            _("The GP is waiting to hear how the patient is doing (%(pathway)s)."),
        ),
        T.ACKNOWLEDGE: (
            _("Referral %(reference)s: feedback waits for you"),
            _("The %(pathway)s referral was closed; please read and acknowledge the feedback."),
        ),
        T.CONSULTATION_SOON: (
            _("Joint consultation soon (%(reference)s)"),
            _("A joint consultation you take part in is planned within a few days."),
        ),
    }
    if rule.audience == ReminderRule.Audience.ESCALATE:
        return (
            _("Escalation: referral %(reference)s is not accepted") % ctx,
            _(
                "A %(pathway)s referral has waited too long for acceptance. "
                "Please arrange that someone picks it up."
            )
            % ctx,
        )
    subject, body = texts[rule.trigger]
    return subject % ctx, body % ctx


def sweep(now) -> int:
    """Create the reminders that are due at `now`. Returns how many new reminders were created."""
    coordinators: dict[int, list[int]] = defaultdict(list)
    for team_id, user_id in Membership.objects.filter(role=Membership.Role.COORDINATOR).values_list(
        "team_id", "user_id"
    ):
        coordinators[team_id].append(user_id)
    languages: dict[int, str] = {}
    deputies: dict[tuple[int, int], int | None] = {}
    created = 0
    for rule in ReminderRule.objects.filter(active=True).select_related("pathway"):
        referrals = due_referrals(rule, now).select_related(
            "pathway", "sender_organisation", "receiving_team"
        )
        if rule.trigger == ReminderRule.Trigger.CONSULTATION_SOON:
            referrals = referrals.prefetch_related("joint_consultation__participants")
        batch = list(referrals[:BATCH])
        while batch:
            new = _create_reminders(rule, batch, coordinators, languages, deputies)
            created += new
            if new == 0:  # another sweep created them meanwhile; nothing left for this one
                break
            batch = list(referrals[:BATCH])  # the ones just created drop out of the query
    return created


def _create_reminders(rule, referrals, coordinators, languages, deputies) -> int:
    before = Reminder.objects.filter(rule=rule).count()
    Reminder.objects.bulk_create(
        [Reminder(referral=r, rule=rule, occurrence=r.occurrence) for r in referrals], ignore_conflicts=True
    )
    specs = []
    for referral in referrals:
        for user_id in _recipients(rule, referral, coordinators, deputies):
            if user_id not in languages:
                languages[user_id] = _language_of(user_id)
            with translation.override(languages[user_id]):
                subject, body = _message(rule, referral)
            specs.append(
                NotificationSpec(
                    recipient_id=user_id,
                    kind=f"referral.{rule.trigger}",
                    subject=subject,
                    body=body,
                    link=f"/referrals/{referral.pk}/",
                    reference=referral.reference,
                    dedupe_key=f"referral:{referral.pk}:rule:{rule.pk}:{referral.occurrence}:user:{user_id}",
                )
            )
    notifications_create(specs)
    return Reminder.objects.filter(rule=rule).count() - before


def _language_of(user_id: int) -> str:
    from django.contrib.auth import get_user_model

    return get_user_model().objects.filter(pk=user_id).values_list("language", flat=True).first() or "nl"


def panels(now) -> list[tuple[str, int]]:
    """The notifications app's sweep hook."""
    return [("referral_reminders", sweep(now))]
