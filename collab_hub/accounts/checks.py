"""Start-up guards for production mode (DJANGO_DEBUG off).

The demo accounts share one published authenticator key (README). On a server, an account holding
that key has a second factor that anyone can compute; a production start refuses to run with one.
"""

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError
from django_otp.plugins.otp_totp.models import TOTPDevice

from .demo import DEMO_TOTP_KEY

# The demo key, also with trailing zero bytes (HMAC pads short keys with zeros: the same codes).
DEMO_KEY_PATTERN = rf"^{DEMO_TOTP_KEY}(00)*$"


def accounts_with_demo_key() -> list[str]:
    return list(
        TOTPDevice.objects.filter(key__iregex=DEMO_KEY_PATTERN)
        .order_by("user__username")
        .values_list("user__username", flat=True)
        .distinct()
    )


def refuse_demo_keys_in_production() -> None:
    """Called when the web application starts (wsgi.py: only the web server lets people log in);
    raises in production mode when any account holds the published demo authenticator key."""
    if settings.DEBUG:
        return
    names = accounts_with_demo_key()
    if names:
        raise ImproperlyConfigured(
            f"{len(names)} account(s) ({', '.join(names[:5])}) use the published demo authenticator key. "
            "Production mode refuses to start. This database was seeded with demo data, whose passwords "
            "are published too: delete the demo accounts (manage.py shell, or with DJANGO_DEBUG=1 in "
            "Django admin) rather than resetting their two-step log-in."
        )


@checks.register(checks.Tags.security, checks.Tags.database)
def demo_keys_check(app_configs=None, databases=None, **kwargs):
    """`manage.py check --deploy --database default` reports the same."""
    if not databases or settings.DEBUG:
        return []
    try:
        refuse_demo_keys_in_production()
    except ImproperlyConfigured as error:
        return [checks.Error(str(error), id="accounts.E001")]
    except DatabaseError:
        return []  # not migrated yet (`migrate` runs the checks before it creates the tables)
    return []
