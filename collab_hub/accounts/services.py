from django.conf import settings
from django.db import transaction
from django.db.models import F

from .models import LoginSession, User


def user_set_language(*, user: User, language: str) -> None:
    if language not in dict(settings.LANGUAGES) or user.language == language:
        return
    user.language = language
    user.save(update_fields=["language"])


def login_session_record(*, request, user, password_step: bool = True) -> None:
    """Remember the session of a fresh log-in (Django has given it a new key: no session fixation), or
    its new key after a password change cycled it, so it can be ended with the others."""
    import time

    from .middleware import LOGIN_AT, PASSWORD_AT

    if password_step:
        request.session[LOGIN_AT] = request.session[PASSWORD_AT] = time.time()
    if not request.session.session_key:
        request.session.save()
    LoginSession.objects.get_or_create(session_key=request.session.session_key, defaults={"user": user})


@transaction.atomic
def sessions_end_for(*, user, request=None, by=None, keep_current: bool = False) -> int:
    """End every session of `user` (deactivation, a lost phone, a new authenticator). The session epoch
    makes every older session invalid at its next request, whatever its key is now (a password change
    cycles the key); the registered ones are deleted at once as well. With `keep_current`, the session of
    `request` (the user's own) stays logged in."""
    from django.contrib.auth import update_session_auth_hash
    from django.contrib.sessions.models import Session

    from collab_hub.audit.models import SecurityEvent
    from collab_hub.audit.services import security_event

    User.objects.filter(pk=user.pk).update(session_epoch=F("session_epoch") + 1)
    user.refresh_from_db(fields=["session_epoch"])
    current = request.session.session_key if keep_current and request is not None else None
    registered = LoginSession.objects.filter(user=user).exclude(session_key=current)
    keys = list(registered.values_list("session_key", flat=True))
    ended, _ = Session.objects.filter(session_key__in=keys).delete()
    registered.delete()
    if keep_current and request is not None:
        update_session_auth_hash(request, user)
        login_session_record(request=request, user=user, password_step=False)
    security_event(request, SecurityEvent.Kind.SESSIONS_ENDED, user=user, actor=by)
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
    sessions_end_for(user=user, request=request, by=by)
