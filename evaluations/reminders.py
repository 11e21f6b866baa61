"""Action items join the reminder sweep: overdue → the owner; a week later still open → the project lead."""

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from collab_hub.notifications.services import NotificationSpec, notifications_create

from .models import ActionItem

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
    return [("action_item_reminders", notifications_create(specs))]
