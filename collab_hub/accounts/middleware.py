"""Session rules for health data: a verified second factor, an absolute session length, no caching."""

import time

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.utils.http import urlencode

from .twofactor import is_enrolled

LOGIN_AT = "collab_hub.login_at"
# When this session last passed the password (log-in): a first enrolment must follow it closely.
PASSWORD_AT = "collab_hub.password_at"  # noqa: S105 - a session key name, not a password
# What a logged-in person whose session has not passed the second factor may still open: an enrolled
# account only the code page, a new account only the enrolment page; both may log out and switch
# language. Everything else, log-in and health included, sends them to that one page.
OPEN_UNTIL_VERIFIED = {"logout", "set_language"}
ENROLLED_MAY_OPEN = OPEN_UNTIL_VERIFIED | {"twofactor_verify"}
NEW_ACCOUNT_MAY_OPEN = OPEN_UNTIL_VERIFIED | {"twofactor_setup"}


class SessionRulesMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            started = request.session.get(LOGIN_AT)
            if started is None:
                request.session[LOGIN_AT] = time.time()
            elif time.time() - started > settings.SESSION_ABSOLUTE_SECONDS:
                logout(request)
                return redirect_to_login(request.get_full_path())
        response = self.get_response(request)
        if user is not None and user.is_authenticated and not response.has_header("Cache-Control"):
            # Pages of logged-in people may show patient data: never keep them in a cache.
            patch_cache_control(response, no_store=True, private=True)
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = request.user
        if not user.is_authenticated or user.is_verified():
            return None
        enrolled = is_enrolled(user)
        match = request.resolver_match
        if match and match.view_name in (ENROLLED_MAY_OPEN if enrolled else NEW_ACCOUNT_MAY_OPEN):
            return None
        target = "twofactor_verify" if enrolled else "twofactor_setup"
        return redirect(f"{reverse(target)}?{urlencode({'next': request.get_full_path()})}")
