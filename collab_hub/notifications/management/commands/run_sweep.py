from django.core.management.base import BaseCommand

from collab_hub.notifications.services import dispatch_emails
from collab_hub.notifications.tasks import run_sweep


class Command(BaseCommand):
    help = "Run one reminder sweep now: create due reminders and deliver the e-mails that are due."

    def handle(self, *args, **options):
        result = run_sweep()
        result["emails_handled"] = dispatch_emails()
        for name, count in result.items():
            self.stdout.write(f"{name}: {count}")
