from django.core.management.base import BaseCommand
from django.utils import timezone

from referrals.reminders import sweep


class Command(BaseCommand):
    help = (
        "Run the referral reminder sweep now. --full looks at every referral, as the first sweep of a "
        "day does (needed after reminders were deleted by hand)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--full", action="store_true")

    def handle(self, *args, full: bool, **options):
        self.stdout.write(f"referral reminders created: {sweep(timezone.now(), full=full)}")
