"""Security hardening: two-factor login, lockout, sessions, headers, security log, error pages."""

import logging
import os
import re
import subprocess
import sys
import time

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client, RequestFactory
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticToken

from collab_hub.accounts.middleware import LOGIN_AT
from collab_hub.audit.models import SecurityEvent
from tests.conftest import totp_code
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def password_login(client, username="hanna", password=PASSWORD, **extra):
    return client.post(reverse("login"), {"username": username, "password": password}, **extra)


def enrol_through_the_pages(client, user) -> list[str]:
    """Scan the QR code (here: read the key behind it) and confirm with the app's first code."""
    from django_otp.oath import TOTP
    from django_otp.plugins.otp_totp.models import TOTPDevice

    page = client.get(reverse("twofactor_setup")).content.decode()
    assert "<svg" in page and 'data-testid="secret"' in page
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    assert client.post(reverse("twofactor_setup"), {"token": ""}).status_code == 200  # the form says so
    response = client.post(reverse("twofactor_setup"), {"token": str(TOTP(device.bin_key).token()).zfill(6)})
    return re.findall(r"<li>([a-z0-9]{8})</li>", response.content.decode())


@pytest.fixture
def no_throttle(settings):
    """django-otp makes each wrong code cost a growing wait (1 s, 2 s, …); tests do not wait."""
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    settings.OTP_STATIC_THROTTLE_FACTOR = 0


def test_wrong_codes_are_throttled(client):
    user = UserFactory(username="hanna")
    password_login(client)
    enrol_through_the_pages(client, user)
    client.post(reverse("logout"))
    password_login(client)
    client.post(reverse("twofactor_verify"), {"token": "000000"})
    # Right away, even the right code is refused: guessing six digits online takes forever.
    assert client.post(reverse("twofactor_verify"), {"token": totp_code(user)}).status_code == 200


def test_first_login_enrols_an_authenticator_and_shows_backup_codes(client, no_throttle):
    user = UserFactory(username="hanna")
    assert password_login(client).status_code == 302
    response = client.get(reverse("home"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("twofactor_setup"))
    # Without the second factor no page of the hub opens, not even the patient list.
    assert client.get(reverse("patients:list")).status_code == 302
    wrong = client.post(reverse("twofactor_setup"), {"token": "000000"})
    assert "niet juist" in wrong.content.decode()
    assert SecurityEvent.objects.filter(kind="otp_failed", user=user).exists()
    codes = enrol_through_the_pages(client, user)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert client.get(reverse("home")).status_code == 200
    assert SecurityEvent.objects.filter(kind="otp_enrolled", user=user).exists()


def test_second_login_asks_for_a_code_and_backup_codes_work_once(client, no_throttle):
    user = UserFactory(username="hanna")
    password_login(client)
    codes = enrol_through_the_pages(client, user)
    client.post(reverse("logout"))

    password_login(client)
    assert client.get(reverse("home"))["Location"].startswith(reverse("twofactor_verify"))
    assert client.post(reverse("twofactor_verify"), {"token": codes[0]}).status_code == 302
    assert client.get(reverse("home")).status_code == 200
    client.post(reverse("logout"))

    password_login(client)
    response = client.post(reverse("twofactor_verify"), {"token": codes[0]})  # used already
    assert response.status_code == 200 and "al gebruikt" in response.content.decode()
    assert StaticToken.objects.filter(device__user=user).count() == 9
    # A code from the app works, but the same code never twice.
    code = totp_code(user)
    assert client.post(reverse("twofactor_verify"), {"token": code}).status_code == 302
    client.post(reverse("logout"))
    password_login(client)
    assert client.post(reverse("twofactor_verify"), {"token": code}).status_code == 200


def test_admin_needs_a_verified_second_factor(client):
    UserFactory(username="bram", is_staff=True, is_superuser=True)
    password_login(client, "bram")
    response = client.get("/admin/")
    assert response.status_code == 302 and "/admin/" not in response["Location"].split("?")[0]
    # Even past our middleware, the admin site itself refuses an unverified session.
    from django.contrib import admin
    from django_otp.admin import OTPAdminSite

    assert isinstance(admin.site, OTPAdminSite)


def test_new_backup_codes_and_a_new_phone_need_the_password(client):
    user = UserFactory(username="hanna")
    client.force_login(user)
    response = client.post(reverse("twofactor_manage"), {"password": "not-it", "action": "backup_codes"})
    assert "niet uw wachtwoord" in response.content.decode()
    assert not StaticToken.objects.filter(device__user=user).exists()
    response = client.post(reverse("twofactor_manage"), {"password": PASSWORD, "action": "backup_codes"})
    assert StaticToken.objects.filter(device__user=user).count() == 10
    assert SecurityEvent.objects.filter(kind="backup_codes", user=user).exists()


def test_lockout_after_five_failures_per_user_with_a_clear_message_and_admin_unlock(client):
    user = UserFactory(username="hanna")
    for _ in range(5):
        password_login(client, password="wrong-password-123")
    response = password_login(client)  # the right password, but locked out now
    assert response.status_code == 429
    assert "te veel mislukte pogingen" in response.content.decode().lower()
    assert "_auth_user_id" not in client.session
    assert SecurityEvent.objects.filter(kind="login_failed", user=user).count() >= 5
    assert SecurityEvent.objects.filter(kind="locked_out", username="hanna").exists()
    # An admin unlocks (Axes → access attempts → delete), and the person can log in again.
    AccessAttempt.objects.filter(username="hanna").delete()
    assert password_login(client).status_code == 302


def test_password_rules_12_to_at_least_64_characters(client):
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        validate_password("kort-genoeg")  # 11 characters
    validate_password("x7" * 32)  # 64 characters are fine
    user = UserFactory(username="hanna")
    client.force_login(user)
    long_password = "Lang wachtwoord van een zin die je onthoudt, 64 tekens lang!!!!!"
    assert len(long_password) == 64
    client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": long_password, "new_password2": long_password},
    )
    user.refresh_from_db()
    assert user.check_password(long_password)
    assert SecurityEvent.objects.filter(kind="password_changed", user=user).exists()


def test_new_session_id_at_login_and_idle_and_absolute_timeouts(client):
    UserFactory(username="hanna")
    client.get(reverse("login"))
    client.cookies[settings.SESSION_COOKIE_NAME] = "attacker-chosen-session-id"
    password_login(client)
    assert client.cookies[settings.SESSION_COOKIE_NAME].value != "attacker-chosen-session-id"
    assert settings.SESSION_COOKIE_AGE == 30 * 60 and settings.SESSION_SAVE_EVERY_REQUEST
    assert settings.SESSION_ABSOLUTE_SECONDS == 12 * 3600

    user = UserFactory(username="fatma")
    other = Client()
    other.force_login(user)
    assert other.get(reverse("home")).status_code == 200
    session = other.session
    session[LOGIN_AT] = time.time() - 12 * 3600 - 60  # logged in 12 hours and a minute ago
    session.save()
    response = other.get(reverse("home"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert other.get(reverse("home")).status_code == 302  # logged out, not just redirected


def test_deactivating_an_account_ends_all_its_sessions():
    from collab_hub.accounts.admin import UserAdmin
    from collab_hub.accounts.models import User

    user = UserFactory(username="hanna")
    laptop, phone = Client(), Client()
    for device in (laptop, phone):
        password_login(device)
    keys = {laptop.session.session_key, phone.session.session_key}
    assert Session.objects.filter(session_key__in=keys).count() == 2
    admin_user = UserFactory(username="bram", is_staff=True, is_superuser=True)
    request = RequestFactory().post("/admin/")
    request.user = admin_user
    user.is_active = False
    UserAdmin(User, None).save_model(request, user, form=None, change=True)
    assert not Session.objects.filter(session_key__in=keys).exists()
    assert laptop.get(reverse("home")).status_code == 302
    assert SecurityEvent.objects.filter(kind="sessions_ended", user=user).exists()


def test_headers_on_a_page_with_patient_data(client):
    from tests.factories import PatientFactory, make_gp

    patient = PatientFactory()
    gp = make_gp(patient.practice)
    client.force_login(gp)
    response = client.get(reverse("patients:detail", args=[patient.pk]))
    assert response.status_code == 200
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp and "style-src 'self'" in csp
    assert "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert "no-store" in response["Cache-Control"]
    assert client.cookies[settings.SESSION_COOKIE_NAME]["httponly"]
    assert client.cookies[settings.SESSION_COOKIE_NAME]["samesite"] == "Lax"


def test_our_pages_carry_no_inline_scripts_or_styles():
    from pathlib import Path

    for template in Path(settings.BASE_DIR, "templates").rglob("*.html"):
        text = template.read_text(encoding="utf-8")
        assert not re.search(r"\sstyle=", text), template
        assert "<style" not in text, template
        assert not re.search(r"\son[a-z]+=", text), template  # event-handler attributes
        for script in re.findall(r"<script\b[^>]*>", text):
            assert "src=" in script, (template, script)


PRODUCTION = {
    "DJANGO_DEBUG": "0",
    "SECRET_KEY": "k" * 20 + "-production-secret-with-enough-length-and-variety-1234567890",
    "ALLOWED_HOSTS": "hub.example.nl",
}


def run_production(*args: str) -> subprocess.CompletedProcess:
    # The test run's own settings (pytest's env) are not production's: start from a clean slate.
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DJANGO_ALLOW_ASYNC_UNSAFE", "DJANGO_DEBUG", "FAST_PASSWORD_HASHING")
    }
    env.update(PRODUCTION)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=settings.BASE_DIR, env=env, capture_output=True, text=True
    )


def test_check_deploy_passes_with_production_settings():
    result = run_production("check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_cookies_are_secure_and_host_prefixed():
    code = (
        "from django.conf import settings as s;"
        "print(s.SESSION_COOKIE_NAME, s.CSRF_COOKIE_NAME, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE,"
        " s.SECURE_HSTS_SECONDS > 0, s.SECURE_SSL_REDIRECT)"
    )
    result = run_production("shell", "-c", code)
    assert result.stdout.split()[-6:] == [
        "__Host-sessionid",
        "__Host-csrftoken",
        "True",
        "True",
        "True",
        "True",
    ]


def test_security_log_has_user_address_time_and_no_secrets(client, caplog):
    UserFactory(username="hanna")
    with caplog.at_level(logging.INFO, logger="collab_hub.security"):
        password_login(client, password="geheim-wachtwoord-999", REMOTE_ADDR="198.51.100.7")
        password_login(client, username="mallory\nINFO forged line", password="x" * 12)
    event = SecurityEvent.objects.filter(kind="login_failed").order_by("at").first()
    assert (event.username, event.client_address, event.user.username) == ("hanna", "198.51.100.7", "hanna")
    assert event.at is not None
    text = "\n".join(caplog.messages)
    assert "geheim-wachtwoord-999" not in text
    from collab_hub.core.logging import EscapeControlCharacters

    handler_filter = EscapeControlCharacters()
    for record in caplog.records:
        handler_filter.filter(record)
        assert "\n" not in record.getMessage()
    assert any("mallory\\nINFO forged line" in record.getMessage() for record in caplog.records)


def test_error_pages_use_our_layout_and_show_no_details(client, settings):
    settings.DEBUG = False
    user = UserFactory(username="hanna")
    client.force_login(user)
    response = client.get("/bestaat-niet/")
    assert response.status_code == 404
    html = response.content.decode()
    assert 'data-testid="error-page"' in html and "Pagina niet gevonden" in html and "Traceback" not in html
    from collab_hub.core.views import server_error

    html = server_error(RequestFactory().get("/")).content.decode()
    assert 'data-testid="error-page"' in html and "Traceback" not in html
