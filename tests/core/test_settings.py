"""Production settings fail fast and say what is wrong."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GOOD_KEY = "k" * 60


def load_settings(**overrides: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL"}}
    env.update({"DJANGO_SETTINGS_MODULE": "collab_hub.settings", "DJANGO_DEBUG": "0"})
    env.update(overrides)
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); print('loaded')"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_without_secret_key_stops_with_a_clear_message():
    result = load_settings(SECRET_KEY="", ALLOWED_HOSTS="hub.example.nl")
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_production_with_a_short_secret_key_stops():
    result = load_settings(SECRET_KEY="short", ALLOWED_HOSTS="hub.example.nl")
    assert result.returncode != 0
    assert "SECRET_KEY is too short" in result.stderr


def test_production_without_allowed_hosts_stops_with_a_clear_message():
    result = load_settings(SECRET_KEY=GOOD_KEY, ALLOWED_HOSTS="")
    assert result.returncode != 0
    assert "ALLOWED_HOSTS is not set" in result.stderr


@pytest.mark.parametrize(
    ("url", "message"),
    [("mysql://localhost/x", "must point at PostgreSQL"), ("not a url", "must point at PostgreSQL")],
)
def test_bad_database_url_stops(url, message):
    result = load_settings(SECRET_KEY=GOOD_KEY, ALLOWED_HOSTS="hub.example.nl", DATABASE_URL=url)
    assert result.returncode != 0
    assert message in result.stderr


def test_bad_redis_url_stops():
    result = load_settings(SECRET_KEY=GOOD_KEY, ALLOWED_HOSTS="hub.example.nl", REDIS_URL="http://x")
    assert result.returncode != 0
    assert "REDIS_URL must start with redis://" in result.stderr


def test_complete_production_configuration_loads():
    result = load_settings(SECRET_KEY=GOOD_KEY, ALLOWED_HOSTS="hub.example.nl")
    assert result.returncode == 0, result.stderr
    assert "loaded" in result.stdout
