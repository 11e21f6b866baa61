"""Security events from Django's and django-axes' authentication signals (recording only)."""

from axes.signals import user_locked_out
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from collab_hub.audit.models import SecurityEvent
from collab_hub.audit.services import security_event

from .services import login_session_record


@receiver(user_logged_in)
def _logged_in(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        login_session_record(request=request, user=user)
    security_event(request, SecurityEvent.Kind.LOGIN, user=user)


@receiver(user_logged_out)
def _logged_out(sender, request, user, **kwargs):
    if user is not None:
        security_event(request, SecurityEvent.Kind.LOGOUT, user=user)


@receiver(user_login_failed)
def _login_failed(sender, credentials, request=None, **kwargs):
    username = str(credentials.get("username", ""))[:150]
    known = get_user_model().objects.filter(username=username).first()
    security_event(request, SecurityEvent.Kind.LOGIN_FAILED, user=known, username=username)


@receiver(user_locked_out)
def _locked_out(sender, request, username, ip_address, **kwargs):
    security_event(request, SecurityEvent.Kind.LOCKED_OUT, username=str(username or "")[:150])
