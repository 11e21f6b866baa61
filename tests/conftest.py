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


def totp_code(user) -> str:
    """The code an authenticator app would show now for the user's confirmed device (the next time
    step when this one was used already: the device accepts one step of drift, never a reuse)."""
    from django_otp.oath import TOTP
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.get(user=user, confirmed=True)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    if device.last_t is not None and totp.t() <= device.last_t:
        totp.time = device.t0 + (device.last_t + 1) * device.step
    return str(totp.token()).zfill(device.digits)


def enrol(user) -> None:
    """Give a test user a confirmed authenticator. Demo users have one from seed_demo, with the published
    demo key, which production mode refuses (and pytest runs with DEBUG off): give them their own."""
    from collab_hub.accounts.demo import demo_keys_replace
    from collab_hub.accounts.testing import confirmed_device

    demo_keys_replace()
    confirmed_device(user)


def login(page, username: str, password: str | None = None) -> None:
    """Log in through the real pages: password, then the code from the authenticator."""
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.get(username=username)
    enrol(user)
    page.goto("/accounts/login/")
    page.get_by_label("Gebruikersnaam").or_(page.get_by_label("Username")).fill(username)
    page.get_by_label("Wachtwoord").or_(page.get_by_label("Password")).fill(
        password or settings.DEMO_PASSWORD
    )
    page.locator("form button[type=submit]").first.click()
    page.wait_for_url("**/accounts/2fa/verify/**")
    form = page.get_by_test_id("otp-form")
    form.locator("input[name=token]").fill(totp_code(user))
    form.locator("button[type=submit]").click()
    page.wait_for_url(lambda url: "/accounts/2fa/" not in url)


@pytest.fixture(autouse=True)
def _no_dispatch_request_left() -> None:
    """A dispatch asked for by an earlier test (and never run: no worker) would hold back this test's."""
    from django.core.cache import cache

    from collab_hub.notifications.services import DISPATCH_REQUESTED

    cache.delete(DISPATCH_REQUESTED)


@pytest.fixture(autouse=True)
def _second_factor_with_force_login(monkeypatch) -> None:
    """`client.force_login` stands for a completed log-in, second factor included (the two-factor
    tests log in through the real pages instead)."""
    from django.test import Client

    original = Client.force_login

    def force_login(self, user, backend=None):
        from collab_hub.accounts.testing import pass_second_factor

        original(self, user, backend)
        pass_second_factor(self, user)

    monkeypatch.setattr(Client, "force_login", force_login)


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


class _ServerErrors(logging.Handler):
    """Every 500 the hub answers during the run (Django logs them on `django.request`), browser tests'
    live server included: bad input must get a message or a 4xx, never a server error."""

    def __init__(self):
        super().__init__(level=logging.ERROR)
        self.records: list[str] = []

    def emit(self, record):
        if getattr(record, "status_code", 0) == 500:
            self.records.append(record.getMessage())


_server_errors = _ServerErrors()


@pytest.fixture(autouse=True)
def _no_server_error(request):
    """A test fails when the hub answered 500 during it, unless it provokes one on purpose."""
    before = len(_server_errors.records)
    yield
    new = _server_errors.records[before:]
    if new and request.node.get_closest_marker("server_error_expected") is None:
        pytest.fail(f"The hub answered {len(new)} server error(s) during this test: {new[:3]}")


def pytest_sessionstart(session):
    logging.getLogger().addHandler(_everything)
    logging.getLogger("django.request").addHandler(_server_errors)


def pytest_sessionfinish(session, exitstatus):
    from tests.factories import ISSUED_BSNS

    leaked = {bsn for bsn in ISSUED_BSNS if any(bsn in line for line in _everything.lines)}
    if leaked:
        print(f"\nBSN LEAK: {len(leaked)} test BSN(s) appeared in log lines during the run.")
        session.exitstatus = 1
