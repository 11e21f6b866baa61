"""Creating notifications exactly once, and delivering their e-mails at most once per success."""

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from .models import EmailState, Notification

logger = logging.getLogger(__name__)
User = get_user_model()

# A delivery still "sending" after this long was interrupted (worker killed): it is tried again.
STALE_SENDING = timedelta(minutes=2)
MAX_ATTEMPTS = 8


# A new notification's e-mail state follows the recipient's choice (unknown choices: send now).
EMAIL_STATE_FOR_MODE = {
    User.EmailMode.IMMEDIATE: EmailState.PENDING,
    User.EmailMode.DIGEST: EmailState.DIGEST,
    User.EmailMode.NONE: EmailState.SKIPPED,
}


@dataclass(frozen=True)
class NotificationSpec:
    recipient_id: int
    kind: str
    subject: str
    body: str
    link: str
    reference: str
    dedupe_key: str


def notifications_create(specs: list[NotificationSpec]) -> int:
    """Insert the notifications whose key is new; existing keys are left alone. Returns how many were new."""
    if not specs:
        return 0
    modes = dict(User.objects.filter(pk__in={s.recipient_id for s in specs}).values_list("pk", "email_mode"))
    rows = [
        Notification(
            recipient_id=s.recipient_id,
            kind=s.kind,
            subject=s.subject[:200],
            body=s.body,
            link=s.link,
            reference=s.reference,
            dedupe_key=s.dedupe_key[:200],
            email_state=EMAIL_STATE_FOR_MODE.get(modes.get(s.recipient_id), EmailState.PENDING),
        )
        for s in specs
    ]
    keys = [r.dedupe_key for r in rows]
    before = Notification.objects.filter(dedupe_key__in=keys).count()
    Notification.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
    return Notification.objects.filter(dedupe_key__in=keys).count() - before


def notification_mark_read(*, user, pk: int | None = None) -> int:
    qs = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if pk is not None:
        qs = qs.filter(pk=pk)
    return qs.update(read_at=timezone.now())


def claim_email_batch(*, limit: int = 200) -> list[int]:
    """Claim deliverable e-mails for this dispatcher: due pending/failed rows, and interrupted 'sending' ones.

    SKIP LOCKED lets two dispatchers run at once without taking the same rows.
    """
    now = timezone.now()
    due = Q(email_state__in=[EmailState.PENDING, EmailState.FAILED]) & (
        Q(email_next_attempt_at__isnull=True) | Q(email_next_attempt_at__lte=now)
    )
    interrupted = Q(
        email_state__in=[EmailState.SENDING, EmailState.QUEUED], email_claimed_at__lt=now - STALE_SENDING
    )
    with transaction.atomic():
        ids = list(
            Notification.objects.select_for_update(skip_locked=True)
            .filter(due | interrupted)
            .filter(email_attempts__lt=MAX_ATTEMPTS)
            .order_by("pk")
            .values_list("pk", flat=True)[:limit]
        )
        Notification.objects.filter(pk__in=ids).update(email_state=EmailState.QUEUED, email_claimed_at=now)
    return ids


def _render(notification: Notification) -> tuple[str, str]:
    with translation.override(notification.recipient.language):
        link = (
            f"{settings.SITE_URL.rstrip('/')}{notification.link}" if notification.link else settings.SITE_URL
        )
        body = _(
            "%(text)s\n\nReference: %(reference)s\nOpen the hub: %(link)s\n\nThis e-mail contains no patient "
            "data. Log in to see the details."
        ) % {"text": notification.body, "reference": notification.reference or "-", "link": link}
        return notification.subject, body


def email_deliver(*, notification_id: int) -> str:
    """Send one notification's e-mail if it is still to be sent. Safe to run twice: the second run finds
    the row no longer queued and does nothing."""
    now = timezone.now()
    claimed = Notification.objects.filter(
        pk=notification_id, email_state__in=[EmailState.QUEUED, EmailState.PENDING, EmailState.FAILED]
    ).update(email_state=EmailState.SENDING, email_claimed_at=now, email_attempts=F("email_attempts") + 1)
    if claimed != 1:
        return "skipped"
    notification = Notification.objects.select_related("recipient").get(pk=notification_id)
    if not notification.recipient.email or not notification.recipient.is_active:
        Notification.objects.filter(pk=notification_id).update(email_state=EmailState.SKIPPED)
        return "no address"
    subject, body = _render(notification)
    try:
        EmailMessage(
            subject,
            body,
            settings.DEFAULT_FROM_EMAIL,
            [notification.recipient.email],
            headers={"Message-ID": f"<notification-{notification.pk}@collab-hub>"},
        ).send()
    except Exception as exc:  # SMTP refused, timeout, …: keep the in-app notification, retry later
        backoff = timedelta(minutes=min(2**notification.email_attempts, 240))
        Notification.objects.filter(pk=notification_id, email_state=EmailState.SENDING).update(
            email_state=EmailState.FAILED,
            email_next_attempt_at=timezone.now() + backoff,
            email_error=type(exc).__name__[:300],
        )
        logger.warning(
            "e-mail for notification %s failed (%s); retry in %s",
            notification_id,
            type(exc).__name__,
            backoff,
        )
        return "failed"
    Notification.objects.filter(pk=notification_id, email_state=EmailState.SENDING).update(
        email_state=EmailState.SENT, email_sent_at=timezone.now(), email_error=""
    )
    return "sent"


def digests_send(*, now=None) -> int:
    """One e-mail per person who chose the daily digest and whose digest hour it is."""
    now = timezone.localtime(now or timezone.now())
    sent = 0
    recipients = User.objects.filter(
        email_mode=User.EmailMode.DIGEST,
        digest_hour=now.hour,
        is_active=True,
        notifications__email_state=EmailState.DIGEST,
    ).distinct()
    for user in recipients:
        with transaction.atomic():
            items = list(
                Notification.objects.select_for_update(skip_locked=True)
                .filter(recipient=user, email_state=EmailState.DIGEST)
                .order_by("created_at")
            )
            if not items or not user.email:
                continue
            with translation.override(user.language):
                subject = _("Your daily overview: %(count)d reminders") % {"count": len(items)}
                lines = [
                    f"- {n.subject} ({n.reference}): {settings.SITE_URL.rstrip('/')}{n.link}" for n in items
                ]
                body = "\n".join(lines) + "\n\n" + _("This e-mail contains no patient data.")
            with get_connection() as connection:
                EmailMessage(
                    subject, body, settings.DEFAULT_FROM_EMAIL, [user.email], connection=connection
                ).send()
            Notification.objects.filter(pk__in=[n.pk for n in items]).update(
                email_state=EmailState.SENT, email_sent_at=timezone.now()
            )
            sent += 1
    return sent
