"""The NEN 7513 access log: who did what with whose data, when, why and with what outcome.

Append-only: the database refuses UPDATE and DELETE on this table (a trigger in the migration),
and the admin is read-only. It records the fact of an access, never the data itself. Cross-cutting:
it refers to patients and objects by type and id, without importing the domain apps.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AccessEvent(models.TextChoices):
    VIEW = "view", _("View")
    CREATE = "create", _("Create")
    CHANGE = "change", _("Change")
    EXPORT = "export", _("Export")
    SEARCH = "search", _("Search")
    PRINT = "print", _("Print")
    BREAK_GLASS = "break_glass", _("Emergency access")


class Outcome(models.TextChoices):
    ALLOWED = "allowed", _("Allowed")
    DENIED = "denied", _("Denied")


class AccessLogEntry(models.Model):
    at = models.DateTimeField(_("time (UTC)"), auto_now_add=True, db_index=True)
    event = models.CharField(_("event"), max_length=20, choices=AccessEvent.choices)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    user_name = models.CharField(_("user name"), max_length=200, blank=True)
    role = models.CharField(_("role"), max_length=100, blank=True)
    on_behalf_of = models.CharField(_("on behalf of"), max_length=200, blank=True)
    patient_id = models.BigIntegerField(_("patient id"), null=True, blank=True, db_index=True)
    object_type = models.CharField(_("object type"), max_length=50, blank=True)
    object_id = models.BigIntegerField(_("object id"), null=True, blank=True)
    purpose = models.CharField(_("purpose"), max_length=100, blank=True)
    consent_id = models.BigIntegerField(_("consent used"), null=True, blank=True)
    client_address = models.GenericIPAddressField(_("client address"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    needs_review = models.BooleanField(_("needs review"), default=False, db_index=True)

    class Meta:
        verbose_name = _("access log entry")
        verbose_name_plural = _("access log")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["patient_id", "-at"], name="access_log_patient_at_idx")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.event} {self.outcome}"


class SecurityEvent(models.Model):
    """The security log (ASVS V7, NEN 7510): log-ins, lockouts, second factor, refusals. Append-only.
    No secrets and no patient data: the user, the address, the time and what happened."""

    class Kind(models.TextChoices):
        LOGIN = "login", _("Logged in")
        LOGIN_FAILED = "login_failed", _("Log-in failed")
        LOCKED_OUT = "locked_out", _("Locked out after repeated failures")
        LOGOUT = "logout", _("Logged out")
        OTP_ENROLLED = "otp_enrolled", _("Second factor enrolled")
        OTP_FAILED = "otp_failed", _("Wrong second-factor code")
        OTP_REPLACED = "otp_replaced", _("New authenticator replaced the old one")
        OTP_RESET = "otp_reset", _("Two-step log-in reset by an admin")
        BACKUP_CODES = "backup_codes", _("New backup codes issued")
        PASSWORD_CHANGED = "password_changed", _("Password changed")
        PERMISSION_DENIED = "permission_denied", _("Permission denied")
        SESSIONS_ENDED = "sessions_ended", _("All sessions ended")

    at = models.DateTimeField(_("time (UTC)"), auto_now_add=True, db_index=True)
    kind = models.CharField(_("event"), max_length=20, choices=Kind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    username = models.CharField(_("user name as given"), max_length=150, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("done by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Who did it, when that is someone else than the user (an admin's reset, say)."),
    )
    client_address = models.GenericIPAddressField(_("client address"), null=True, blank=True)
    path = models.CharField(_("page"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("security event")
        verbose_name_plural = _("security log")
        ordering = ["-at", "-id"]
        indexes = [
            # The log-in throttle counts an address's recent failures on every log-in attempt.
            models.Index(
                fields=["client_address", "at"],
                name="security_failure_address_idx",
                condition=models.Q(kind="login_failed"),
            )
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.kind}"
