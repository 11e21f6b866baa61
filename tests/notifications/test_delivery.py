"""E-mail delivery against a real SMTP server and real Celery workers: refused, retried, killed, once."""

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from django.conf import settings
from django.utils import timezone

from collab_hub.notifications.models import EmailState, Notification
from collab_hub.notifications.services import (
    NotificationSpec,
    claim_email_batch,
    deliver_claimed,
    dispatch_emails,
    email_deliver,
    notifications_create,
)
from collab_hub.notifications.tasks import dispatch
from tests.factories import UserFactory

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Sink:
    """An SMTP server that keeps what it receives; it can be made slow to answer RCPT."""

    def __init__(self):
        self.messages: list[bytes] = []
        self.delay = 0.0
        self.refuse: set[str] = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.delay:
            await asyncio.sleep(self.delay)
        if address in self.refuse:
            return "550 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope.content)
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp():
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield sink, controller.port
    controller.stop()


def use_smtp(settings, port: int) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_TIMEOUT = 5


def one_notification(user, key="k1") -> Notification:
    notifications_create(
        [
            NotificationSpec(
                recipient_id=user.pk,
                kind="test",
                subject="Herinnering R-TEST",
                body="Er wacht iets op u.",
                link="/referrals/",
                reference="R-TEST",
                dedupe_key=key,
            )
        ]
    )
    return Notification.objects.get(dedupe_key=key)


@pytest.mark.django_db
def test_smtp_refusing_keeps_the_notification_and_retries_until_sent_once(settings, smtp):
    sink, port = smtp
    user = UserFactory(email="hanna@example.invalid")
    notification = one_notification(user)
    use_smtp(settings, free_port())  # nothing listens there: the server refuses
    assert email_deliver(notification_id=notification.pk) == "failed"
    notification.refresh_from_db()
    assert notification.email_state == EmailState.FAILED
    assert notification.email_attempts == 1
    assert notification.email_next_attempt_at > timezone.now()
    assert notification.read_at is None  # the in-app notification is untouched
    assert dispatch_emails() == 0  # not before its back-off has passed
    assert email_deliver(notification_id=notification.pk) == "skipped"  # nor by a stray single delivery

    use_smtp(settings, port)
    Notification.objects.filter(pk=notification.pk).update(email_next_attempt_at=timezone.now())
    assert dispatch_emails() == 1
    assert email_deliver(notification_id=notification.pk) == "skipped"  # a redelivered task does nothing
    assert dispatch_emails() == 0
    assert len(sink.messages) == 1
    notification.refresh_from_db()
    assert (notification.email_state, notification.email_attempts) == (EmailState.SENT, 2)


@pytest.mark.django_db
def test_a_batch_goes_over_one_connection_and_a_refused_address_waits_alone(settings, smtp):
    sink, port = smtp
    use_smtp(settings, port)
    people = [UserFactory(email=f"p{i}@example.invalid") for i in range(5)]
    rows = [one_notification(user, key=f"batch-{i}") for i, user in enumerate(people)]
    Notification.objects.filter(pk=rows[2].pk).update(email_state=EmailState.FAILED)
    claimed = claim_email_batch(limit=3).ids
    assert len(claimed) == 3
    # A claimed row is leased: a second dispatcher does not take it, only the other two.
    assert sorted(claim_email_batch(limit=10).ids) == sorted({r.pk for r in rows} - set(claimed))
    assert claim_email_batch().ids == []
    # A dispatcher that died leaves its rows "sending"; they are claimed again once the lease ends.
    Notification.objects.update(email_next_attempt_at=timezone.now() - timedelta(seconds=1))
    assert dispatch_emails() == 5
    assert len(sink.messages) == 5
    assert set(Notification.objects.values_list("email_state", flat=True)) == {EmailState.SENT}


def start_worker(port: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres:///{settings.DATABASES['default']['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
        "EMAIL_URL": f"smtp://127.0.0.1:{port}",
        "DJANGO_DEBUG": "1",
    }
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "collab_hub",
        "worker",
        "--pool",
        "solo",
        "--loglevel",
        "WARNING",
        "--without-heartbeat",
        "--without-mingle",
        "--without-gossip",
    ]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def wait_for_state(pk: int, state: str, timeout: float = 45) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if Notification.objects.filter(pk=pk, email_state=state).exists():
            return
        time.sleep(0.2)
    raise AssertionError(f"notification never reached {state}")


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_delivery_sends_the_email_exactly_once_after_restart(smtp):
    sink, port = smtp
    user = UserFactory(email="samira@example.invalid")
    notification = one_notification(user, key="killed")
    sink.delay = 60  # the SMTP conversation hangs: the worker is inside the delivery
    dispatch.delay()  # as the commit of a new notification asks for
    first = start_worker(port)
    try:
        wait_for_state(notification.pk, EmailState.SENDING)
        time.sleep(1)
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        if first.poll() is None:
            first.kill()
    assert sink.messages == []

    # Later: the interrupted delivery is noticed (it has been "sending" too long) and tried again.
    sink.delay = 0
    Notification.objects.filter(pk=notification.pk).update(
        email_next_attempt_at=timezone.now() - timedelta(seconds=1)  # the lease has run out
    )
    dispatch.delay()
    second = start_worker(port)
    try:
        wait_for_state(notification.pk, EmailState.SENT)
        assert dispatch_emails() == 0
        time.sleep(2)
    finally:
        second.terminate()
        second.wait(timeout=20)
    assert len(sink.messages) == 1


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_delivers_ten_thousand_emails_each_once(celery_worker, wait_for, settings):
    """The commit of new notifications asks for a dispatch; one worker delivers them all in batches."""
    from django.core import mail

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox = []
    people = [UserFactory(email=f"person{i}@example.invalid") for i in range(10)]
    specs = [
        NotificationSpec(
            recipient_id=people[i % 10].pk,
            kind="test",
            subject=f"Melding {i}",
            body="Er wacht iets op u.",
            link="/referrals/",
            reference=f"R-{i}",
            dedupe_key=f"bulk-{i}",
        )
        for i in range(10_000)
    ]
    assert notifications_create(specs) == 10_000  # autocommit: the dispatch is asked for at once
    wait_for(lambda: not Notification.objects.exclude(email_state=EmailState.SENT).exists(), timeout=120)
    assert Notification.objects.filter(email_state=EmailState.SENT, email_attempts=1).count() == 10_000
    assert len(mail.outbox) == 10_000
    assert len({m.extra_headers["Message-ID"] for m in mail.outbox}) == 10_000


@pytest.mark.django_db
def test_a_dispatcher_whose_lease_ran_out_sends_nothing_of_what_another_took_over(settings, smtp):
    sink, port = smtp
    use_smtp(settings, port)
    rows = [one_notification(UserFactory(email=f"l{i}@example.invalid"), key=f"lease-{i}") for i in range(3)]
    slow = claim_email_batch()
    # The first dispatcher stalls past its lease; a second one claims the rows and delivers them.
    Notification.objects.update(email_next_attempt_at=timezone.now() - timedelta(seconds=1))
    fresh = claim_email_batch()
    assert sorted(fresh.ids) == sorted(slow.ids) == sorted(r.pk for r in rows)
    assert deliver_claimed(fresh)["sent"] == 3
    assert deliver_claimed(slow)["sent"] == 0  # woke up late: none of it is its own any more
    assert len(sink.messages) == 3
    assert set(Notification.objects.values_list("email_state", flat=True)) == {EmailState.SENT}


@pytest.mark.django_db
def test_rows_not_reached_before_the_deadline_are_handed_back_unspent(settings, smtp):
    sink, port = smtp
    use_smtp(settings, port)
    for i in range(3):
        one_notification(UserFactory(email=f"d{i}@example.invalid"), key=f"deadline-{i}")
    claim = claim_email_batch()
    counts = deliver_claimed(claim, deadline=timezone.now() - timedelta(seconds=1))
    assert counts["released"] == 3 and sink.messages == []
    assert set(Notification.objects.values_list("email_state", "email_attempts")) == {(EmailState.PENDING, 0)}
    assert dispatch_emails() == 3 and len(sink.messages) == 3


@pytest.mark.django_db
def test_one_refused_address_waits_alone_and_the_rest_of_the_batch_goes(settings, smtp):
    sink, port = smtp
    use_smtp(settings, port)
    sink.refuse = {"weg@example.invalid"}
    gone = one_notification(UserFactory(email="weg@example.invalid"), key="refused")
    others = [one_notification(UserFactory(email=f"ok{i}@example.invalid"), key=f"ok-{i}") for i in range(3)]
    assert dispatch_emails() == 4
    assert len(sink.messages) == 3
    gone.refresh_from_db()
    assert gone.email_state == EmailState.FAILED and gone.email_next_attempt_at > timezone.now()
    assert all(Notification.objects.get(pk=n.pk).email_state == EmailState.SENT for n in others)


@pytest.mark.django_db
def test_a_refused_digest_address_does_not_hold_back_the_others(settings, smtp):
    from collab_hub.notifications.services import digests_send

    sink, port = smtp
    use_smtp(settings, port)
    sink.refuse = {"weg@example.invalid"}
    first = UserFactory(email="weg@example.invalid", email_mode="digest", digest_hour=0)
    second = UserFactory(email="blijft@example.invalid", email_mode="digest", digest_hour=0)
    assert first.pk < second.pk  # the refused one comes first
    one_notification(first, key="digest-1")
    one_notification(second, key="digest-2")
    assert digests_send() == 1
    assert len(sink.messages) == 1 and b"blijft@example.invalid" in sink.messages[0]
    assert Notification.objects.get(dedupe_key="digest-1").email_state == EmailState.DIGEST  # tomorrow again


@pytest.mark.django_db
def test_earlier_email_choices_carry_over_to_the_new_categories():
    import importlib

    from django.apps import apps

    migration = importlib.import_module("collab_hub.accounts.migrations.0005_notification_categories")
    quiet = UserFactory(email_mode="none")
    digest = UserFactory(email_mode="digest")
    loud = UserFactory(email_mode="immediate")
    migration.keep_earlier_choices(apps, None)
    for user, expected in ((quiet, "none"), (digest, "digest")):
        user.refresh_from_db()
        assert {user.email_new_work, user.email_news, user.email_messages, user.email_project} == {expected}
    loud.refresh_from_db()
    assert (loud.email_new_work, loud.email_news) == ("immediate", "digest")  # the defaults
