"""Idempotent demo data. Each installed app may contribute a `demo` module with `seed(command)`.

Apps run in INSTALLED_APPS order, which follows the dependency direction (accounts → teams →
patients → referrals → evaluations), so later apps can rely on what earlier ones created.
"""

from importlib import import_module
from importlib.util import find_spec

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from collab_hub.hostnames import public_hosts


class Command(BaseCommand):
    help = "Create or refresh demo data for a fictional district. Running it twice changes nothing."

    def add_arguments(self, parser):
        parser.add_argument(
            "--force",
            action="store_true",
            help="Run even when DEBUG is off (never on a production database with real patients).",
        )

    def handle(self, *args, force: bool = False, **options):
        public = public_hosts(settings.ALLOWED_HOSTS)
        if public:
            # Not even with --force: a server others can reach must never hold accounts whose password
            # and authenticator key are published in the README.
            raise CommandError(
                f"seed_demo refuses to run while ALLOWED_HOSTS names {', '.join(public)}: demo accounts have "
                "a published password and authenticator key. Seed demo data on this machine only."
            )
        if not settings.DEBUG and not force:
            raise CommandError(
                "seed_demo refuses to run with DEBUG off: it creates demo accounts with a known password. "
                "Use --force only on a demo or test installation."
            )
        with transaction.atomic():
            for config in apps.get_app_configs():
                module_name = f"{config.name}.demo"
                if find_spec(module_name) is None:
                    continue
                import_module(module_name).seed(self)
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
        self.stdout.write(
            f"Demo log-ins (password: the DEMO_PASSWORD setting, default '{settings.DEMO_PASSWORD}'):"
        )
        from collab_hub.accounts.demo import DEMO_USERS

        for username, _first, _last, role, _staff in DEMO_USERS:
            self.stdout.write(f"  {username:<16} {role}")
