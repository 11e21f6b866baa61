"""Action items join the reminder sweep: overdue → the owner; a week later still open → the project lead."""

import logging
from dataclasses import replace
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from collab_hub.notifications.models import Category
from collab_hub.notifications.services import NotificationSpec, notifications_create

from .models import ActionItem

logger = logging.getLogger(__name__)
ESCALATE_AFTER = timedelta(days=7)


def _spec(item: ActionItem, user, key: str, escalated: bool) -> NotificationSpec:
    with translation.override(user.language):
        subject = (
            _("Action item overdue for a week: %(title)s")
            if escalated
            else _("Action item overdue: %(title)s")
        ) % {"title": item.title[:120]}
        body = _("Project %(project)s, due on %(due)s.") % {
            "project": item.project.name,
            "due": item.due_on.isoformat(),
        }
    return NotificationSpec(
        recipient_id=user.pk,
        kind="evaluations.action_item",
        subject=subject,
        body=body,
        link=(
            reverse("evaluations:cycle", args=[item.project_id, item.cycle.number])
            if item.cycle
            else reverse("evaluations:dashboard", args=[item.project_id])
        ),
        reference=f"A-{item.pk}",
        dedupe_key=key,
        category=Category.PROJECT,
    )


def tell_assigned(item: ActionItem, *, by) -> int:
    """An action item given to someone else: they are told once (their project e-mail choice)."""
    owner = item.owner
    with translation.override(owner.language):
        subject = _("Action item for you: %(title)s") % {"title": item.title[:120]}
        body = _("%(lead)s gave you an action item in project %(project)s, due on %(due)s.") % {
            "lead": by,
            "project": item.project.name,
            "due": item.due_on.isoformat(),
        }
    spec = _spec(item, owner, f"action:{item.pk}:assigned", escalated=False)
    return notifications_create(
        [
            replace(
                spec,
                subject=subject,
                body=body,
                kind="evaluations.action_item_assigned",
                category=Category.PROJECT,
            )
        ]
    )


QUESTIONNAIRE_REMINDER_AFTER = timedelta(days=7)


def _round_spec(invitation, key: str, reminder: bool) -> NotificationSpec:
    measurement_round, user = invitation.round, invitation.user
    with translation.override(user.language):
        subject = (
            _("Reminder: questionnaire on collaboration, %(project)s")
            if reminder
            else _("Questionnaire on collaboration, %(project)s")
        ) % {"project": measurement_round.project.name[:100]}
        body = _("Your answers are anonymous. The round closes on %(date)s.") % {
            "date": measurement_round.closes_on.isoformat()
        }
    return NotificationSpec(
        recipient_id=user.pk,
        kind="evaluations.questionnaire",
        subject=subject,
        body=body,
        link=reverse("evaluations:round_answer", args=[measurement_round.pk]),
        reference=f"Q-{measurement_round.pk}",
        dedupe_key=key,
        category=Category.PROJECT,
    )


def invite_round(measurement_round) -> int:
    """In-app and e-mail invitations for a newly opened round (once per person)."""
    from .measurement_models import RoundInvitation

    invitations = RoundInvitation.objects.filter(round=measurement_round).select_related(
        "user", "round__project"
    )
    return notifications_create(
        [
            _round_spec(i, f"round:{measurement_round.pk}:{i.user_id}:invite", reminder=False)
            for i in invitations
        ]
    )


def _questionnaire_reminders(now) -> int:
    from .measurement_models import MeasurementRound, RoundInvitation

    due = RoundInvitation.objects.filter(
        answered=False,
        round__state=MeasurementRound.State.OPEN,
        round__closes_on__gte=timezone.localdate(now),
        invited_at__lte=now - QUESTIONNAIRE_REMINDER_AFTER,
    ).select_related("user", "round__project")
    return notifications_create(
        [_round_spec(i, f"round:{i.round_id}:{i.user_id}:reminder", reminder=True) for i in due]
    )


def panels(now) -> list[tuple[str, int]]:
    today = timezone.localdate(now)
    overdue = ActionItem.objects.filter(status=ActionItem.Status.OPEN, due_on__lt=today).select_related(
        "owner", "project__lead", "cycle"
    )
    specs = []
    for item in overdue:
        specs.append(_spec(item, item.owner, f"action:{item.pk}:{item.due_on}:owner", escalated=False))
        if item.due_on <= today - ESCALATE_AFTER:
            lead = item.project.lead
            specs.append(_spec(item, lead, f"action:{item.pk}:{item.due_on}:lead", escalated=True))
    return [
        ("action_item_reminders", notifications_create(specs)),
        ("questionnaire_reminders", _questionnaire_reminders(now)),
        ("questionnaire_responses_stored", _store_responses()),
    ]


def _store_responses() -> int:
    from .measurement_services import responses_store_all

    try:
        return responses_store_all()
    except Exception:  # Redis away: the answers wait for the next sweep; the reminders above still count
        logger.exception("waiting questionnaire answers could not be stored")
        return 0
