import json

from django.core.management.base import BaseCommand, CommandError

from evaluations.instruments import to_fhir
from evaluations.models import Instrument


class Command(BaseCommand):
    help = "Print an instrument's current version (or --version N) as FHIR Questionnaire JSON."

    def add_arguments(self, parser):
        parser.add_argument("code")
        parser.add_argument("--version", type=int, dest="number")

    def handle(self, *args, code, number=None, **options):
        instrument = Instrument.objects.filter(code=code).first()
        if instrument is None:
            raise CommandError(f"No instrument with code {code!r}.")
        version = (
            instrument.versions.filter(number=number).first() if number else instrument.current_version()
        )
        if version is None:
            raise CommandError("No such version.")
        self.stdout.write(json.dumps(to_fhir(version), ensure_ascii=False, indent=2))
