"""Periodic work driven by beat. Due reminders are derived from database state; nothing waits in Redis."""

import logging
from datetime import timedelta

from celery import shared_task
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from collab_hub.core.panels import collect

from . import services

logger = logging.getLogger(__name__)


def run_sweep(*, now=None) -> dict[str, int]:
    """Ask every app for its due reminders (an app's `reminders.panels(now)` hook), then ask for a
    dispatch of the e-mails (also those waiting out a back-off or left by a stopped worker)."""
    now = now or timezone.now()
    created = dict(collect("reminders", now))
    transaction.on_commit(services.request_dispatch)
    return created


# A dispatch stops after this long and asks for a successor, well inside the task time limit.
DISPATCH_BUDGET = timedelta(seconds=60)


@shared_task(ignore_result=True)
def sweep() -> None:
    created = run_sweep()
    logger.info("reminder sweep: %s", created)


# A chunk in flight when the budget ends may still take CHUNK × EMAIL_TIMEOUT: the limits leave room.
@shared_task(bind=True, ignore_result=True, acks_late=True, soft_time_limit=300, time_limit=330)
def dispatch(self) -> None:
    """Deliver due e-mails in batches until none are left (see services.dispatch_emails). A dispatch that
    used up its time hands over to a successor on the same queue rather than run into the time limit."""
    cache.delete(services.DISPATCH_REQUESTED)  # rows committed from now on ask for a successor
    handled = services.dispatch_emails(budget=DISPATCH_BUDGET)
    if handled and services.emails_due():
        queue = (self.request.delivery_info or {}).get("routing_key")
        self.apply_async(queue=queue, retry=False) if queue else services.request_dispatch()


@shared_task(ignore_result=True, acks_late=True)
def deliver_email(notification_id: int) -> None:
    """Kept for tasks queued before batch dispatch: delivers the row only if it is still due."""
    services.email_deliver(notification_id=notification_id)


@shared_task(ignore_result=True)
def send_digests() -> None:
    services.digests_send()
