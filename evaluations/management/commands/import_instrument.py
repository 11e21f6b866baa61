import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from evaluations.instruments import from_fhir


class Command(BaseCommand):
    help = "Import an instrument (a FHIR Questionnaire JSON file) as its next version."

    def add_arguments(self, parser):
        parser.add_argument("path")

    def handle(self, *args, path, **options):
        try:
            with open(path, encoding="utf-8") as handle:
                version = from_fhir(json.load(handle))
        except (OSError, json.JSONDecodeError, ValidationError, KeyError) as error:
            raise CommandError(f"Cannot import {path}: {error}") from error
        self.stdout.write(f"Imported {version}")
