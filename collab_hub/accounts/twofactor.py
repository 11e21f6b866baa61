"""Two-factor login with TOTP (django-otp): enrolment with a QR code, backup codes usable once.

Every account needs a confirmed authenticator before it can use the hub; the middleware sends a
logged-in person without a verified second factor to enrolment or verification first.
"""

import base64
import io

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django_otp import match_token
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

BACKUP_CODES = 10
DEVICE_NAME = "authenticator"


class EnrolmentRefused(Exception):
    """The account has a second factor already: a new one needs a verified session and the password
    (the manage page), never the password alone."""


def confirmed_totp(user) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def is_enrolled(user) -> bool:
    """Whether the account has a second factor: a confirmed authenticator, or backup codes (used up or
    not). Such an account passes that factor before anything else, enrolment included."""
    return (
        TOTPDevice.objects.filter(user=user, confirmed=True).exists()
        or StaticDevice.objects.filter(user=user, confirmed=True).exists()
    )


@transaction.atomic
def totp_enrol_start(*, user, device_id: int | None = None) -> TOTPDevice:
    """The unconfirmed authenticator of this enrolment (`device_id`, kept in the person's session), or a
    new one. Never another session's: two people who both know a new account's password must not be
    shown the same key."""
    if device_id is not None:
        device = TOTPDevice.objects.filter(pk=device_id, user=user, confirmed=False).first()
        if device is not None:
            return device
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)


@transaction.atomic
def totp_enrol_confirm(*, user, device: TOTPDevice, token: str, replacing: bool) -> list[str] | None:
    """Confirm the new authenticator with a first code, then (and only then) remove any earlier one
    and issue new backup codes. Returns None when the code is wrong.

    `replacing` says the caller checked a verified session and the password again; without it an
    account that has a second factor already is refused (EnrolmentRefused)."""
    # One enrolment at a time per account: a first enrolment racing another one cannot both win.
    get_user_model().objects.select_for_update().filter(pk=user.pk).first()
    if not replacing and is_enrolled(user):
        raise EnrolmentRefused
    device = TOTPDevice.objects.select_for_update().filter(pk=device.pk, user=user, confirmed=False).first()
    if device is None:
        raise EnrolmentRefused  # confirmed or replaced meanwhile in another session
    if not device.verify_token(token.strip().replace(" ", "")):
        return None
    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    return backup_codes_renew(user=user)


@transaction.atomic
def backup_codes_renew(*, user) -> list[str]:
    """Ten new backup codes on a new backup device; the old codes stop working, and so does any session
    that was verified with one of them (its device is gone). Each code works once."""
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name="backup", confirmed=True)
    codes = [StaticToken.random_token() for _ in range(BACKUP_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def backup_device(user) -> StaticDevice | None:
    return StaticDevice.objects.filter(user=user, confirmed=True).first()


def holds_demo_key(device) -> bool:
    """Whether `device` is an authenticator with the demo's published key (trailing zero bytes do not
    change TOTP codes, so a padded copy counts too)."""
    from .demo import DEMO_TOTP_KEY

    if not isinstance(device, TOTPDevice):
        return False
    return device.bin_key.rstrip(b"\0") == bytes.fromhex(DEMO_TOTP_KEY).rstrip(b"\0")


def verify(*, user, token: str):
    """The device that accepts `token` (authenticator or a not yet used backup code), or None. In
    production the demo's published key never counts, even if such a device slipped in after start-up."""
    token = (token or "").strip().replace(" ", "")
    if not token or len(token) > 16:
        return None
    device = match_token(user, token)
    if device is not None and not settings.DEBUG and holds_demo_key(device):
        return None
    return device


def qr_svg(device: TOTPDevice) -> str:
    """The otpauth:// address as an inline SVG (no image host, no data: URL, nothing inline to run)."""
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buffer = io.BytesIO()
    image.save(buffer)
    return buffer.getvalue().decode()


def base32_secret(device: TOTPDevice) -> str:
    return base64.b32encode(device.bin_key).decode().rstrip("=")
