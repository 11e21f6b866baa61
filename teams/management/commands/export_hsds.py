"""`manage.py export_hsds [--output PATH]`: the social map as Open Referral HSDS 3.0 JSON."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand
from django.utils.translation import gettext_lazy as _

from teams.hsds import social_map_as_hsds

HELP = _("Export the social map as Open Referral HSDS 3.0 JSON: a list of nested organizations.")


class Command(BaseCommand):
    @property
    def help(self) -> str:
        # argparse needs a real string, so the lazy translation is evaluated when the parser is built.
        return str(HELP)

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--output",
            "-o",
            type=Path,
            help=str(_("Write the JSON to this file instead of to standard output.")),
        )

    def handle(self, *args, output: Path | None = None, **options) -> None:
        organisations = social_map_as_hsds()
        text = json.dumps(organisations, indent=2, ensure_ascii=False)
        if output is None:
            self.stdout.write(text)
            return
        output.write_text(text + "\n", encoding="utf-8")
        self.stderr.write(
            _("Wrote %(count)d organisations to %(path)s.") % {"count": len(organisations), "path": output}
        )
