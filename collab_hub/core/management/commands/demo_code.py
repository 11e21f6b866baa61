"""`manage.py demo_code`: the demo accounts' current second-step code (their shared, published key)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django_otp.oath import totp

from collab_hub.accounts.demo import DEMO_TOTP_KEY
from collab_hub.hostnames import public_hosts


class Command(BaseCommand):
    help = "Print the current 6-digit code of the demo authenticator (demo data only)."

    def handle(self, *args, **options):
        public = public_hosts(settings.ALLOWED_HOSTS)
        if public:  # as seed_demo: no demo second step on a server others can reach
            raise CommandError(f"demo_code refuses to run while ALLOWED_HOSTS names {', '.join(public)}.")
        self.stdout.write(f"{totp(bytes.fromhex(DEMO_TOTP_KEY)):06d}")
