"""Dutch is the default language and must be complete: no untranslated or fuzzy message."""

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_dutch_catalogue_is_complete():
    result = subprocess.run(
        [
            "msgfmt",
            "--check",
            "--statistics",
            "-o",
            "/dev/null",
            str(ROOT / "locale/nl/LC_MESSAGES/django.po"),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    stats = result.stderr.strip()
    assert "untranslated" not in stats, stats
    assert "fuzzy" not in stats, stats
