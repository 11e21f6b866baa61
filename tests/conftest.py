"""Shared fixtures: real Postgres (pytest-django), real Redis, a real Celery worker, system Chromium."""

import contextlib
import logging
import os
import time
from collections.abc import Callable, Iterator

import pytest
import redis
from django.conf import settings

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session", autouse=True)
def _clean_test_broker() -> None:
    """Tests own a separate Redis database (see pyproject's pytest env); start it empty."""
    assert settings.REDIS_URL.endswith("/15"), "tests must not share the development Redis database"
    redis.Redis.from_url(settings.REDIS_URL).flushdb()


@pytest.fixture
def celery_worker(transactional_db) -> Iterator[object]:
    """A real Celery worker thread consuming from the real Redis broker, writing to the test database."""
    from celery.contrib.testing.worker import start_worker

    from collab_hub.celery import app

    with start_worker(
        app, pool="solo", perform_ping_check=False, loglevel="WARNING", shutdown_timeout=10
    ) as worker:
        yield worker


@pytest.fixture
def wait_for() -> Callable[..., object]:
    def _wait(predicate: Callable[[], object], timeout: float = 15.0, interval: float = 0.1) -> object:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(interval)
        raise AssertionError(f"condition not met within {timeout} s")

    return _wait


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium package.")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server) -> Iterator[object]:
    """A fresh browser context as a Dutch-speaking professional would have it."""
    context = browser.new_context(locale="nl-NL", base_url=live_server.url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def demo_data(db) -> None:
    from django.core.management import call_command

    call_command("seed_demo", "--force", stdout=open(os.devnull, "w"))  # noqa: SIM115


def login(page, username: str, password: str | None = None) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Gebruikersnaam").or_(page.get_by_label("Username")).fill(username)
    page.get_by_label("Wachtwoord").or_(page.get_by_label("Password")).fill(
        password or settings.DEMO_PASSWORD
    )
    page.locator("form button[type=submit]").first.click()


# --- A log handler for the whole run: no BSN may ever reach a log line --------------------------
class _RecordEverything(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record):
        # A record that cannot be formatted must not break the test run.
        with contextlib.suppress(Exception):
            self.lines.append(self.format(record))


_everything = _RecordEverything()


def pytest_sessionstart(session):
    logging.getLogger().addHandler(_everything)


def pytest_sessionfinish(session, exitstatus):
    from tests.factories import ISSUED_BSNS

    leaked = {bsn for bsn in ISSUED_BSNS if any(bsn in line for line in _everything.lines)}
    if leaked:
        print(f"\nBSN LEAK: {len(leaked)} test BSN(s) appeared in log lines during the run.")
        session.exitstatus = 1
