"""In-app notifications and their e-mail delivery state.

A notification is created once per `dedupe_key` (a unique column): whatever runs twice, the second
insert is ignored. The in-app notification never depends on e-mail; e-mail delivery is tracked on the
row so a crashed or retried delivery can tell whether it already went out.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class EmailState(models.TextChoices):
    PENDING = "pending", _("Waiting to be sent")
    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Being sent")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed, will be retried")
    DIGEST = "digest", _("In the next daily digest")
    SKIPPED = "skipped", _("In-app only")


class Category(models.TextChoices):
    """What a notification is about; each person chooses per category how it reaches them by e-mail."""

    REMINDERS = "reminders", _("Reminders")
    NEW_WORK = "new_work", _("New work for me")
    NEWS = "news", _("News about what I sent")
    MESSAGES = "messages", _("Messages")
    PROJECT = "project", _("Improvement projects")

    @property
    def preference_field(self) -> str:
        """The User field holding the person's e-mail choice for this category."""
        return "email_mode" if self == Category.REMINDERS else f"email_{self.value}"


class Notification(models.Model):
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recipient"),
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    kind = models.CharField(_("kind"), max_length=40)
    category = models.CharField(
        _("category"), max_length=10, choices=Category.choices, default=Category.REMINDERS
    )
    # Subject and body carry no patient-identifying data: a reference and a link only.
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("text"), max_length=2000)
    link = models.CharField(_("link"), max_length=300, blank=True)
    reference = models.CharField(_("reference"), max_length=20, blank=True)
    dedupe_key = models.CharField(_("unique key"), max_length=200, unique=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    email_state = models.CharField(
        _("e-mail"), max_length=10, choices=EmailState.choices, default=EmailState.PENDING
    )
    email_attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    email_claimed_at = models.DateTimeField(null=True, blank=True)
    email_next_attempt_at = models.DateTimeField(null=True, blank=True)
    email_sent_at = models.DateTimeField(_("e-mail sent at"), null=True, blank=True)
    email_error = models.CharField(_("last error"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["recipient", "read_at"], name="notification_unread_idx"),
            models.Index(fields=["email_state", "email_next_attempt_at"], name="notification_email_idx"),
        ]

    def __str__(self) -> str:
        return self.subject
