"""`manage.py demo_code`: the demo accounts' current second-step code (their shared, published key)."""

from django.core.management.base import BaseCommand
from django_otp.oath import totp

from collab_hub.accounts.demo import DEMO_TOTP_KEY


class Command(BaseCommand):
    help = "Print the current 6-digit code of the demo authenticator (demo data only)."

    def handle(self, *args, **options):
        self.stdout.write(f"{totp(bytes.fromhex(DEMO_TOTP_KEY)):06d}")
