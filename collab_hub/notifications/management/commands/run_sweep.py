from django.core.management.base import BaseCommand

from collab_hub.notifications.tasks import run_sweep


class Command(BaseCommand):
    help = "Run one reminder sweep now: create due reminders and queue their e-mails (as beat does)."

    def handle(self, *args, **options):
        result = run_sweep()
        for name, count in result.items():
            self.stdout.write(f"{name}: {count}")
