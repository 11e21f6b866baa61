"""Start-up guards for production mode (DJANGO_DEBUG off).

The demo accounts share one published authenticator key (README). On a server, an account holding
that key has a second factor that anyone can compute; a production start refuses to run with one.
"""

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django_otp.plugins.otp_totp.models import TOTPDevice

from .demo import DEMO_TOTP_KEY


def accounts_with_demo_key() -> list[str]:
    return list(
        TOTPDevice.objects.filter(key__iexact=DEMO_TOTP_KEY)
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
            "Production mode refuses to start: reset their two-step log-in in Django admin, or remove the "
            "demo accounts (this database was seeded with demo data)."
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
    return []
