"""Creating notifications exactly once, and delivering their e-mails at most once per success.

Delivery: a dispatcher claims due rows in batches (FOR UPDATE SKIP LOCKED, so dispatchers run side by
side), marks them "sending" under a lease, sends the batch over one connection, and records each row's
outcome. A row whose dispatcher died stays "sending" until its lease ends and is then claimed again; a
refused row waits out its back-off. New immediate notifications ask for a dispatch when their
transaction commits, so an e-mail leaves within seconds rather than at the next sweep.
"""

import contextlib
import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from .models import Category, EmailState, Notification

logger = logging.getLogger(__name__)
User = get_user_model()

# A delivery still "sending" after this long was interrupted (worker killed): it is tried again.
STALE_SENDING = timedelta(minutes=2)  # the shortest lease (see _lease)
MAX_ATTEMPTS = 8
BATCH_SIZE = 500
DISPATCH_REQUESTED = "notifications:dispatch-requested"


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
    category: str = Category.REMINDERS
    urgent: bool = False  # e-mailed straight away whatever the person chose for the category


def notifications_create(specs: list[NotificationSpec]) -> int:
    """Insert the notifications whose key is new; existing keys are left alone. Returns how many were new.
    Immediate e-mails are dispatched once the surrounding transaction commits."""
    if not specs:
        return 0
    fields = sorted({Category(s.category).preference_field for s in specs})
    modes = {
        row["pk"]: row
        for row in User.objects.filter(pk__in={s.recipient_id for s in specs}).values("pk", *fields)
    }

    def state(spec: NotificationSpec) -> str:
        if spec.urgent:
            return EmailState.PENDING
        mode = modes.get(spec.recipient_id, {}).get(Category(spec.category).preference_field)
        return EMAIL_STATE_FOR_MODE.get(mode, EmailState.PENDING)

    rows = [
        Notification(
            recipient_id=s.recipient_id,
            kind=s.kind,
            category=s.category,
            subject=s.subject[:200],
            body=s.body,
            link=s.link,
            reference=s.reference,
            dedupe_key=s.dedupe_key[:200],
            email_state=state(s),
        )
        for s in specs
    ]
    keys = [r.dedupe_key for r in rows]
    before = Notification.objects.filter(dedupe_key__in=keys).count()
    Notification.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
    created = Notification.objects.filter(dedupe_key__in=keys).count() - before
    if created and any(r.email_state == EmailState.PENDING for r in rows):
        transaction.on_commit(request_dispatch)
    return created


def request_dispatch() -> None:
    """Ask a worker to deliver what is due, unless a request is already waiting. Never fails the caller:
    without a broker the sweep delivers the rows a few minutes later."""
    from .tasks import dispatch

    try:
        if not cache.add(DISPATCH_REQUESTED, 1, timeout=60):
            return  # a dispatch is asked for and has not started: it will find these rows too
    except Exception as exc:  # the cache is down: ask anyway (the broker is likely down too)
        logger.warning("dispatch request without the cache (%s)", type(exc).__name__)
    try:
        dispatch.apply_async(retry=False)  # a broker that is down must not hold up the request
    except Exception as exc:  # the broker is down: the rows wait for the sweep
        logger.warning("could not ask for an e-mail dispatch (%s); the sweep will send", type(exc).__name__)
        with contextlib.suppress(Exception):
            cache.delete(DISPATCH_REQUESTED)


def notification_mark_read(*, user, pk: int | None = None) -> int:
    qs = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if pk is not None:
        qs = qs.filter(pk=pk)
    return qs.update(read_at=timezone.now())


def _lease() -> timedelta:
    """How long a claimed row stays with its dispatcher: longer than a chunk can take to send."""
    return max(STALE_SENDING, timedelta(seconds=CHUNK * settings.EMAIL_TIMEOUT * 1.5))


def _due() -> Q:
    now = timezone.now()
    return Q(
        Q(email_next_attempt_at__isnull=True) | Q(email_next_attempt_at__lte=now),
        email_state__in=[EmailState.PENDING, EmailState.FAILED, EmailState.SENDING, EmailState.QUEUED],
        email_attempts__lt=MAX_ATTEMPTS,
    )


@dataclass(frozen=True)
class Claim:
    """Rows one dispatcher holds: "sending", stamped with `stamp`; only the holder records outcomes."""

    ids: list[int]
    stamp: object


def claim_email_batch(*, limit: int = BATCH_SIZE) -> Claim:
    """Claim up to `limit` deliverable e-mails: due pending or failed rows, and "sending" rows whose lease
    ran out (their dispatcher died). Each claimed row is "sending" with this claim's stamp, a lease and
    one more attempt. SKIP LOCKED lets two dispatchers run at once without taking the same rows."""
    now = timezone.now()
    with transaction.atomic():
        ids = list(
            Notification.objects.select_for_update(skip_locked=True)
            .filter(_due())
            .order_by("pk")
            .values_list("pk", flat=True)[:limit]
        )
        Notification.objects.filter(pk__in=ids).update(**_claimed(now))
    return Claim(ids, now)


def _claimed(now) -> dict:
    """A claimed row: "sending", stamped with the claim, leased (claimed again only after the lease),
    one more attempt."""
    return {
        "email_state": EmailState.SENDING,
        "email_claimed_at": now,
        "email_next_attempt_at": now + _lease(),
        "email_attempts": F("email_attempts") + 1,
    }


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


# Outcomes are recorded, and the lease renewed, after every CHUNK messages: a dispatcher that dies
# mid-batch leaves at most one chunk to be sent again, and a slow server never outlives the lease.
CHUNK = 20


def _mine(claim: Claim):
    return Notification.objects.filter(email_claimed_at=claim.stamp, email_state=EmailState.SENDING)


def _release(claim: Claim, ids) -> None:
    """Hand rows back unsent (the dispatcher ran out of time): due again at once, the attempt not counted."""
    _mine(claim).filter(pk__in=list(ids)).update(
        email_state=EmailState.PENDING, email_next_attempt_at=None, email_attempts=F("email_attempts") - 1
    )


class _Connection:
    """One SMTP (or other backend) connection for a batch, opened again after a failure that may have
    left it unusable (a disconnect, a server's limit per connection)."""

    def __init__(self):
        self.backend = get_connection()
        self.backend.open()

    def reset(self) -> None:
        with contextlib.suppress(Exception):
            self.backend.close()
        self.backend = get_connection()
        self.backend.open()

    def close(self) -> None:
        with contextlib.suppress(Exception):  # each message's outcome is recorded already
            self.backend.close()


def deliver_claimed(claim: Claim, *, deadline=None) -> dict[str, int]:
    """Send the e-mails of the rows `claim` holds and record each outcome, chunk by chunk. Rows no longer
    this claim's (someone else's after a lease ran out) are left alone; rows not reached before
    `deadline` are handed back."""
    from celery.exceptions import SoftTimeLimitExceeded

    counts = {"sent": 0, "failed": 0, "no address": 0, "released": 0}
    rows = list(_mine(claim).filter(pk__in=claim.ids).select_related("recipient").order_by("pk"))
    no_address = [n.pk for n in rows if not n.recipient.email or not n.recipient.is_active]
    if no_address:
        _mine(claim).filter(pk__in=no_address).update(email_state=EmailState.SKIPPED)
        counts["no address"] = len(no_address)
    deliverable = [n for n in rows if n.pk not in set(no_address)]
    if not deliverable:
        return counts
    try:
        connection = _Connection()
    except Exception as exc:  # the server refuses: every row waits out its back-off
        _record(claim, [], [(n, exc) for n in deliverable])
        counts["failed"] = len(deliverable)
        return counts
    try:
        for start in range(0, len(deliverable), CHUNK):
            chunk = deliverable[start : start + CHUNK]
            if deadline is not None and timezone.now() >= deadline:
                _release(claim, [n.pk for n in deliverable[start:]])
                counts["released"] = len(deliverable) - start
                break
            # Renew the lease of what is still ours; send only that.
            with transaction.atomic():
                ours = set(_mine(claim).filter(pk__in=[n.pk for n in chunk]).values_list("pk", flat=True))
                _mine(claim).filter(pk__in=ours).update(email_next_attempt_at=timezone.now() + _lease())
            sent, failed = [], []
            for notification in chunk:
                if notification.pk not in ours:
                    continue
                subject, body = _render(notification)
                message = EmailMessage(
                    subject,
                    body,
                    settings.DEFAULT_FROM_EMAIL,
                    [notification.recipient.email],
                    connection=connection.backend,
                    headers={"Message-ID": f"<notification-{notification.pk}@collab-hub>"},
                )
                try:
                    message.send()
                except SoftTimeLimitExceeded:
                    _record(claim, sent, failed)
                    raise
                except Exception as exc:  # this address refused, a timeout …: retried after a back-off
                    failed.append((notification, exc))
                    with contextlib.suppress(Exception):
                        connection.reset()
                else:
                    sent.append(notification.pk)
            _record(claim, sent, failed)
            counts["sent"] += len(sent)
            counts["failed"] += len(failed)
    finally:
        connection.close()
    return counts


def _record(claim: Claim, sent: list[int], failed: list) -> None:
    if sent:
        _mine(claim).filter(pk__in=sent).update(
            email_state=EmailState.SENT, email_sent_at=timezone.now(), email_error=""
        )
    for notification, exc in failed:
        backoff = timedelta(minutes=min(2**notification.email_attempts, 240))
        _mine(claim).filter(pk=notification.pk).update(
            email_state=EmailState.FAILED,
            email_next_attempt_at=timezone.now() + backoff,
            email_error=type(exc).__name__[:300],
        )
    if failed:
        logger.warning(
            "%d e-mails failed (%s); each is retried after its back-off",
            len(failed),
            type(failed[0][1]).__name__,
        )


def dispatch_emails(*, budget: timedelta | None = None, batch: int = BATCH_SIZE) -> int:
    """Claim and deliver batches until nothing is due (or `budget` is spent: what is left of a batch is
    handed back). Returns how many rows it sent or settled. Safe to run in several processes at once."""
    deadline = timezone.now() + budget if budget else None
    handled = 0
    while deadline is None or timezone.now() < deadline:
        claim = claim_email_batch(limit=batch)
        if not claim.ids:
            break
        counts = deliver_claimed(claim, deadline=deadline)
        handled += counts["sent"] + counts["failed"] + counts["no address"]
        if counts["released"]:
            break
    return handled


def emails_due() -> bool:
    return Notification.objects.filter(_due()).exists()


def email_deliver(*, notification_id: int) -> str:
    """Deliver one row now if it is due (claimed like any batch): "sent", "failed", "no address" or
    "skipped" when it is not due (sent already, waiting out a back-off, or another dispatcher has it)."""
    now = timezone.now()
    claimed = Notification.objects.filter(_due(), pk=notification_id).update(**_claimed(now))
    if not claimed:
        return "skipped"
    counts = deliver_claimed(Claim([notification_id], now))
    return next((outcome for outcome, count in counts.items() if count), "skipped")


def digests_send(*, now=None) -> int:
    """One e-mail per person who chose a daily digest, at the first run at or after their hour each day:
    an hour the clocks skip (02:00 in March) or a run beat missed still sends that day's digest, and an
    hour that happens twice (October) sends it once."""
    now = timezone.localtime(now or timezone.now())
    today = now.date()
    sent = 0
    due = User.objects.filter(
        Q(digest_sent_on__isnull=True) | Q(digest_sent_on__lt=today),
        digest_hour__lte=now.hour,
        is_active=True,
    )
    recipients = due.filter(
        pk__in=Notification.objects.filter(email_state=EmailState.DIGEST).values("recipient_id")
    ).order_by("pk")
    for candidate in recipients:
        with transaction.atomic():
            user = due.select_for_update(skip_locked=True).filter(pk=candidate.pk).first()
            if user is None:  # another run has this person, or sent today already
                continue
            items = list(
                Notification.objects.select_for_update(skip_locked=True)
                .filter(recipient=user, email_state=EmailState.DIGEST)
                .order_by("created_at", "pk")
            )
            User.objects.filter(pk=user.pk).update(digest_sent_on=today)
            if not items:
                continue
            if not user.email:
                Notification.objects.filter(pk__in=[n.pk for n in items]).update(
                    email_state=EmailState.SKIPPED
                )
                continue
            with translation.override(user.language):
                subject = _("Your daily overview: %(count)d notifications") % {"count": len(items)}
                lines = [
                    f"- {n.subject} ({n.reference}): {settings.SITE_URL.rstrip('/')}{n.link}" for n in items
                ]
                body = "\n".join(lines) + "\n\n" + _("This e-mail contains no patient data.")
            try:
                with get_connection() as connection:
                    EmailMessage(
                        subject, body, settings.DEFAULT_FROM_EMAIL, [user.email], connection=connection
                    ).send()
            except Exception as exc:  # this address refused: tomorrow again; the others still get theirs
                logger.warning("digest for user %s failed (%s)", user.pk, type(exc).__name__)
                continue
            Notification.objects.filter(pk__in=[n.pk for n in items]).update(
                email_state=EmailState.SENT, email_sent_at=timezone.now()
            )
            sent += 1
    return sent
