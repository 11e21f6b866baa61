"""Demo accounts: one per role of the product brief. Profiles come from the teams app's demo."""

from django.conf import settings
from django_otp.plugins.otp_totp.models import TOTPDevice

from .models import User

# Every demo account is pre-enrolled for two-step log-in with this documented key (README), so the
# demo stays usable: add it to an authenticator app as base32 GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ, or
# run `oathtool --totp -b GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ`. Demo data only, never in production.
DEMO_TOTP_KEY = "3132333435363738393031323334353637383930"

# username, first name, last name, role (shown when seeding), is_staff
DEMO_USERS = [
    ("huisarts", "Hanna", "de Vries", "GP (huisarts)", False),
    ("poh", "Pieter", "Jansen", "practice nurse mental health (POH-GGZ)", False),
    ("maatschappelijkwerker", "Samira", "El Amrani", "social worker (maatschappelijk werker)", False),
    ("welzijnscoach", "Wim", "Bakker", "well-being coach (welzijnscoach)", False),
    ("teamleider", "Tessa", "Visser", "team coordinator (teamleider)", False),
    ("projectleider", "Priya", "Ramdin", "project lead (projectleider)", False),
    ("onderzoeker", "Olaf", "Smit", "researcher (onderzoeker)", False),
    ("beheerder", "Bram", "Mulder", "admin (beheerder)", True),
]


def demo_user(username: str, first: str, last: str, *, staff: bool = False) -> User:
    """A demo account with the DEMO_PASSWORD, created once and its password kept in step."""
    user, created = User.objects.get_or_create(
        username=username,
        defaults={
            "first_name": first,
            "last_name": last,
            "email": f"{username}@demo.invalid",
            "is_staff": staff,
            "is_superuser": staff,
        },
    )
    if created or not user.check_password(settings.DEMO_PASSWORD):
        user.set_password(settings.DEMO_PASSWORD)
        user.save(update_fields=["password"])
    if not TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        TOTPDevice.objects.create(user=user, name="demo", key=DEMO_TOTP_KEY, confirmed=True)
    return user


def demo_keys_replace() -> int:
    """Give each device holding the published demo key a random key of its own. For benchmark
    databases: they are seeded with the demo and served by production-mode servers, which refuse the
    demo key (collab_hub.accounts.checks)."""
    from django_otp.util import random_hex

    from .checks import DEMO_KEY_PATTERN

    devices = list(TOTPDevice.objects.filter(key__iregex=DEMO_KEY_PATTERN))
    for device in devices:
        device.key = random_hex(20)
        device.save(update_fields=["key"])
    return len(devices)


def seed(command) -> None:
    for username, first, last, _role, staff in DEMO_USERS:
        demo_user(username, first, last, staff=staff)
