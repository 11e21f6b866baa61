from django.conf import settings
from django.db import transaction

from .models import LoginSession, User


def user_set_language(*, user: User, language: str) -> None:
    if language not in dict(settings.LANGUAGES) or user.language == language:
        return
    user.language = language
    user.save(update_fields=["language"])


def login_session_record(*, request, user) -> None:
    """Remember the session of a fresh log-in (Django has given it a new key: no session fixation)."""
    import time

    from .middleware import LOGIN_AT

    request.session[LOGIN_AT] = time.time()
    if not request.session.session_key:
        request.session.save()
    LoginSession.objects.get_or_create(session_key=request.session.session_key, defaults={"user": user})


@transaction.atomic
def sessions_end_for(*, user, request=None) -> int:
    """End every session of `user` (e.g. when the account is deactivated)."""
    from django.contrib.sessions.models import Session

    from collab_hub.audit.models import SecurityEvent
    from collab_hub.audit.services import security_event

    keys = list(LoginSession.objects.filter(user=user).values_list("session_key", flat=True))
    ended, _ = Session.objects.filter(session_key__in=keys).delete()
    LoginSession.objects.filter(user=user).delete()
    security_event(request, SecurityEvent.Kind.SESSIONS_ENDED, user=user)
    return ended


@transaction.atomic
def twofactor_reset(*, user, by, request=None) -> None:
    """A lost phone: remove the person's authenticators and backup codes and end all their sessions,
    so their next log-in enrols a new authenticator. Logged with the admin who did it."""
    from django_otp.plugins.otp_static.models import StaticDevice
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from collab_hub.audit.models import SecurityEvent
    from collab_hub.audit.services import security_event

    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    security_event(request, SecurityEvent.Kind.OTP_RESET, user=user, actor=by)
    sessions_end_for(user=user, request=request)
