import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.i18n import set_language as django_set_language
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice

from collab_hub.audit.models import SecurityEvent
from collab_hub.audit.services import security_event
from collab_hub.core.http import local_url

from . import twofactor
from .forms import LoginForm, ReauthenticateForm, TokenForm
from .lockout import address_throttled
from .middleware import PASSWORD_AT
from .services import login_session_record, sessions_end_for, user_set_language


def _set_language_cookie(response, language: str) -> None:
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
    )


@method_decorator(login_not_required, name="dispatch")
class LoginView(auth_views.LoginView):
    """Django's login, then the interface follows the person's saved language preference."""

    redirect_authenticated_user = True
    authentication_form = LoginForm

    def post(self, request, *args, **kwargs):
        if address_throttled(request):
            return render(request, "registration/throttled.html", status=429)
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        response = super().form_valid(form)
        _set_language_cookie(response, form.get_user().language)
        return response


class PasswordChangeView(auth_views.PasswordChangeView):
    """Django's password change (asks for the old password: re-authentication), logged as a security event."""

    def form_valid(self, form):
        response = super().form_valid(form)
        # Django gave this session a new key: register it, so it can still be ended with the others.
        login_session_record(request=self.request, user=self.request.user, password_step=False)
        security_event(self.request, SecurityEvent.Kind.PASSWORD_CHANGED, user=self.request.user)
        return response


@login_not_required
def admin_login(request):
    """Django admin's log-in page sends people to ours (with where they were going)."""
    return redirect_to_login(request.GET.get("next") or reverse("admin:index"))


@login_not_required
@require_POST
def set_language(request):
    """Switch the interface language; remembered on the account for logged-in people."""
    response = django_set_language(request)
    language = request.POST.get("language", "")
    if request.user.is_authenticated:
        user_set_language(user=request.user, language=language)
    return response


# --- two-factor login -----------------------------------------------------------------------------


def _next_url(request) -> str:
    target = request.POST.get("next") or request.GET.get("next")
    return local_url(request, target) or resolve_url(settings.LOGIN_REDIRECT_URL)


# Session keys of an enrolment: the unconfirmed authenticator shown on the page, and until when a
# verified person who entered the password again may replace their authenticator.
ENROL_DEVICE = "collab_hub.enrol_device"
FIRST_ENROLMENT_SECONDS = 15 * 60
REPLACE_UNTIL = "collab_hub.replace_authenticator_until"
REPLACE_SECONDS = 600


def _may_replace(request) -> bool:
    return request.user.is_verified() and time.time() < request.session.get(REPLACE_UNTIL, 0)


def twofactor_setup(request):
    """Enrol an authenticator app: scan the QR code (or type the key), confirm with a first code.

    A first enrolment follows the password at the first log-in. An account that has a second factor
    comes here only from the manage page (verified session and the password again); the old
    authenticator keeps working until the new one is confirmed."""
    enrolled = twofactor.is_enrolled(request.user)
    if enrolled and not request.user.is_verified():
        return redirect("twofactor_verify")  # the middleware sends them there too
    replacing = enrolled
    if replacing and not _may_replace(request):
        return redirect("twofactor_manage")
    if not replacing and time.time() - request.session.get(PASSWORD_AT, 0) > FIRST_ENROLMENT_SECONDS:
        # A first enrolment follows the password closely: not an old session (one that outlived an
        # admin's reset, say) that never passed a second factor.
        logout(request)
        messages.info(request, _("Log in again to set up two-step log-in."))
        return redirect_to_login(reverse("twofactor_setup"))
    device = twofactor.totp_enrol_start(user=request.user, device_id=request.session.get(ENROL_DEVICE))
    request.session[ENROL_DEVICE] = device.pk
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            codes = twofactor.totp_enrol_confirm(
                user=request.user, device=device, token=form.cleaned_data["token"], replacing=replacing
            )
        except twofactor.EnrolmentRefused:
            request.session.pop(ENROL_DEVICE, None)
            return redirect("twofactor_verify" if not request.user.is_verified() else "twofactor_manage")
        if codes is not None:
            for key in (ENROL_DEVICE, REPLACE_UNTIL):
                request.session.pop(key, None)
            otp_login(request, twofactor.confirmed_totp(request.user))
            kind = SecurityEvent.Kind.OTP_REPLACED if replacing else SecurityEvent.Kind.OTP_ENROLLED
            security_event(request, kind, user=request.user)
            if replacing:
                # Whoever else was logged in (a lost phone, a stolen backup code) is logged out.
                sessions_end_for(user=request.user, request=request, by=request.user, keep_current=True)
            return render(
                request, "registration/backup_codes.html", {"codes": codes, "next": _next_url(request)}
            )
        security_event(request, SecurityEvent.Kind.OTP_FAILED, user=request.user)
        form.add_error(
            "token", _("That code is not right. Check the time on your phone and try the newest code.")
        )
    return render(
        request,
        "registration/twofactor_setup.html",
        {
            "form": form,
            "replacing": replacing,
            "qr": mark_safe(twofactor.qr_svg(device)),  # noqa: S308 - SVG we generate from our own key
            "secret": twofactor.base32_secret(device),
            "next": _next_url(request),
        },
    )


def twofactor_verify(request):
    """The second step of logging in: a code from the authenticator app or an unused backup code."""
    if request.user.is_verified():
        return redirect(_next_url(request))
    if not twofactor.is_enrolled(request.user):
        return redirect("twofactor_setup")
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = twofactor.verify(user=request.user, token=form.cleaned_data["token"])
        if device is not None:
            otp_login(request, device)
            return redirect(_next_url(request))
        security_event(request, SecurityEvent.Kind.OTP_FAILED, user=request.user)
        form.add_error("token", _("That code is not right, or it was used already."))
    return render(request, "registration/twofactor_verify.html", {"form": form, "next": _next_url(request)})


def twofactor_manage(request):
    """New backup codes, or a new authenticator (a new phone), after entering the password again.
    Only verified sessions get here (the middleware). The password goes through `authenticate`, so
    wrong guesses count towards the lockout and are in the security log."""
    form = ReauthenticateForm(request.user, request.POST or None, request=request)
    if request.method == "POST" and form.is_valid():
        if request.POST.get("action") == "new_device":
            # Nothing is removed yet: the current authenticator works until the new one is confirmed.
            request.session[REPLACE_UNTIL] = time.time() + REPLACE_SECONDS
            request.session.pop(ENROL_DEVICE, None)
            return redirect("twofactor_setup")
        verified_by_backup = isinstance(request.user.otp_device, StaticDevice)
        codes = twofactor.backup_codes_renew(user=request.user)
        if verified_by_backup:
            otp_login(request, twofactor.backup_device(request.user))  # this session stays verified
        security_event(request, SecurityEvent.Kind.BACKUP_CODES, user=request.user)
        return render(
            request, "registration/backup_codes.html", {"codes": codes, "next": resolve_url("home")}
        )
    return render(request, "registration/twofactor_manage.html", {"form": form})
