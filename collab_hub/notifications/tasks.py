"""Periodic work driven by beat. Due reminders are derived from database state; nothing waits in Redis."""

import logging

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from collab_hub.core.panels import collect

from . import services

logger = logging.getLogger(__name__)


def run_sweep(*, now=None) -> dict[str, int]:
    """Ask every app for its due reminders (an app's `reminders.panels(now)` hook), then dispatch e-mails."""
    now = now or timezone.now()
    created = dict(collect("reminders", now))
    created["emails_queued"] = dispatch_emails()
    return created


def dispatch_emails() -> int:
    ids = services.claim_email_batch()
    # Enqueue only after the claim is committed: a worker must find the rows queued.
    for pk in ids:
        transaction.on_commit(lambda pk=pk: deliver_email.delay(pk))
    return len(ids)


@shared_task(ignore_result=True)
def sweep() -> None:
    created = run_sweep()
    logger.info("reminder sweep: %s", created)


@shared_task(ignore_result=True, acks_late=True)
def deliver_email(notification_id: int) -> None:
    services.email_deliver(notification_id=notification_id)


@shared_task(ignore_result=True)
def send_digests() -> None:
    services.digests_send()
