from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    """A person who logs in: a professional, project lead, researcher or admin.

    Custom from the start so the domain apps can hang profiles and preferences on it.
    """

    language = models.CharField(
        _("interface language"),
        max_length=8,
        choices=settings.LANGUAGES,
        default="nl",
        help_text=_("Language of the screens and e-mails for this person."),
    )

    class EmailMode(models.TextChoices):
        IMMEDIATE = "immediate", _("E-mail me straight away")
        DIGEST = "digest", _("One daily digest e-mail")
        NONE = "none", _("In the app only")

    # How each category of notification reaches this person by e-mail (collab_hub.notifications.models
    # .Category names the field of each). Work someone must act on comes straight away by default,
    # news about what they sent in the daily digest.
    email_mode = models.CharField(
        _("reminders"), max_length=10, choices=EmailMode.choices, default=EmailMode.IMMEDIATE
    )
    email_new_work = models.CharField(
        _("new work for me"), max_length=10, choices=EmailMode.choices, default=EmailMode.IMMEDIATE
    )
    email_news = models.CharField(
        _("news about what I sent"), max_length=10, choices=EmailMode.choices, default=EmailMode.DIGEST
    )
    email_messages = models.CharField(
        _("messages"), max_length=10, choices=EmailMode.choices, default=EmailMode.IMMEDIATE
    )
    email_project = models.CharField(
        _("improvement projects"), max_length=10, choices=EmailMode.choices, default=EmailMode.DIGEST
    )
    digest_hour = models.PositiveSmallIntegerField(
        _("digest hour"), default=8, help_text=_("Hour of the day (0–23) at which the daily digest is sent.")
    )
    # The local day of the last digest: the digest goes out at the first sweep at or after the chosen
    # hour, once a day, also when that hour does not exist (the clocks go forward) or beat missed it.
    digest_sent_on = models.DateField(null=True, blank=True, editable=False)

    # Raised to end every session of the account at once (lost phone, new authenticator, deactivation):
    # it is part of the hash each session carries, so all older sessions stop matching.
    session_epoch = models.PositiveIntegerField(default=0, editable=False)

    class Meta(AbstractUser.Meta):
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.CheckConstraint(condition=models.Q(digest_hour__lte=23), name="user_digest_hour_valid"),
        ]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    def _get_session_auth_hash(self, secret=None):
        key_salt = "collab_hub.accounts.User.session_auth_hash"
        return salted_hmac(
            key_salt, f"{self.password}:{self.session_epoch}", secret=secret, algorithm="sha256"
        ).hexdigest()


class LoginSession(models.Model):
    """Which sessions belong to whom, so all of a person's sessions can be ended at once
    (deactivation, a lost phone) without decoding every session in the store."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="login_sessions"
    )
    session_key = models.CharField(max_length=40, unique=True)
    started_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.user_id} {self.started_at:%Y-%m-%d %H:%M}"
