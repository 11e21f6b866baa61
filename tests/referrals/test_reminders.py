"""The reminder sweep: the right reminders on the right working day, each exactly once."""

import threading
from datetime import datetime, timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from collab_hub.notifications.models import EmailState, Notification
from collab_hub.notifications.tasks import run_sweep
from referrals.models import JointConsultation, Referral, Reminder, ReminderRule, Status
from referrals.reminders import sweep
from tests.referrals.conftest import make_referral


def at(day: str, hour: int = 10) -> datetime:
    return timezone.make_aware(datetime.fromisoformat(f"{day}T{hour:02d}:00"))


def rule(trigger, days, audience) -> ReminderRule:
    return ReminderRule.objects.get(trigger=trigger, days=days, audience=audience, pathway=None)


@pytest.mark.django_db
def test_default_rules_are_shipped():
    triggers = set(ReminderRule.objects.values_list("trigger", "days", "audience"))
    assert ("not_accepted", 2, "receiver") in triggers
    assert ("not_accepted", 4, "escalate") in triggers
    assert ("no_first_contact", 5, "receiver") in triggers
    assert ("feedback_due", 0, "receiver") in triggers
    assert ("acknowledge", 3, "sender") in triggers
    assert ("consultation_soon", 2, "participants") in triggers


@pytest.mark.django_db
def test_reminders_fall_on_the_right_working_day_across_a_weekend_and_christmas(loop):
    # Sent on Thursday 24 December 2026; 25 and 26 December are public holidays, then a weekend.
    referral = make_referral(loop, sent_at=at("2026-12-24"))
    assert sweep(at("2026-12-25")) == 0
    assert sweep(at("2026-12-28")) == 0  # Monday: the first working day after sending
    assert sweep(at("2026-12-29")) == 1  # Tuesday: the second, so the receiver is reminded
    assert referral.reminders.get().rule == rule("not_accepted", 2, "receiver")
    assert sweep(at("2026-12-30")) == 0  # third working day: nothing new
    assert sweep(at("2026-12-31")) == 1  # fourth: the escalation
    assert referral.reminders.filter(rule=rule("not_accepted", 4, "escalate")).count() == 1
    assert Notification.objects.filter(recipient=loop["contact"]).count() == 1


@pytest.mark.django_db
def test_escalation_after_four_working_days_goes_to_deputy_coordinator_and_sender(loop):
    make_referral(loop, sent_at=at("2026-11-16"))  # a Monday
    sweep(at("2026-11-19"))  # Thursday: 3 working days, only the receiver's reminder
    assert set(Notification.objects.values_list("recipient", flat=True)) == {loop["contact"].pk}
    sweep(at("2026-11-20"))  # Friday: 4 working days
    escalated = set(
        Notification.objects.filter(kind="referral.not_accepted", subject__icontains="escal").values_list(
            "recipient", flat=True
        )
    )
    assert escalated == {loop["deputy"].pk, loop["coordinator"].pk, loop["gp"].pk}


@pytest.mark.django_db
def test_the_sweep_run_twice_creates_each_reminder_once(loop):
    make_referral(loop, sent_at=at("2026-11-02"))
    make_referral(
        loop,
        status=Status.IN_PROGRESS,
        sent_at=at("2026-10-01"),
        accepted_at=at("2026-10-02"),
        feedback_by=timezone.localdate() - timedelta(days=1),
    )
    first = run_sweep()
    reminders, notifications = Reminder.objects.count(), Notification.objects.count()
    assert reminders >= 3 and notifications >= 3
    second = run_sweep()
    assert second["referral_reminders"] == 0
    assert (Reminder.objects.count(), Notification.objects.count()) == (reminders, notifications)
    assert first["referral_reminders"] == reminders


@pytest.mark.django_db
def test_progress_feedback_is_prompted_once_per_period(loop):
    referral = make_referral(
        loop,
        status=Status.IN_PROGRESS,
        sent_at=at("2026-09-01"),
        accepted_at=at("2026-09-02"),
        feedback_by=timezone.localdate() - timedelta(days=1),
    )
    sweep(timezone.now())
    sweep(timezone.now())
    assert referral.reminders.filter(rule__trigger="feedback_due").count() == 1
    # The next period (after feedback was sent) brings a new prompt when it is due in turn.
    referral.feedback_by = timezone.localdate()
    referral.save(update_fields=["feedback_by"])
    sweep(timezone.now())
    assert referral.reminders.filter(rule__trigger="feedback_due").count() == 2


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_create_each_reminder_once(loop):
    for _ in range(20):
        make_referral(loop, sent_at=at("2026-11-02"))
    barrier = threading.Barrier(2)
    errors = []

    def run():
        try:
            barrier.wait(timeout=10)
            sweep(timezone.now())
        except Exception as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    per_referral = Reminder.objects.filter(rule__audience="receiver", rule__trigger="not_accepted")
    assert per_referral.count() == 20
    keys = list(Notification.objects.values_list("dedupe_key", flat=True))
    assert len(keys) == len(set(keys))
    assert Notification.objects.filter(recipient=loop["contact"], kind="referral.not_accepted").count() == 20


@pytest.mark.django_db
def test_the_email_has_no_patient_data_and_speaks_the_recipients_language(loop, settings):
    loop["contact"].language = "en"
    loop["contact"].save()
    referral = make_referral(loop, sent_at=at("2026-11-02"))
    run_sweep()
    from collab_hub.notifications.services import email_deliver

    for pk in Notification.objects.filter(recipient=loop["contact"]).values_list("pk", flat=True):
        email_deliver(notification_id=pk)
    message = mail.outbox[0]
    text = message.subject + message.body
    assert referral.reference in text
    assert "waits for acceptance" in message.subject
    for secret in (loop["patient"].first_name, loop["patient"].last_name, loop["patient"].bsn, "6531"):
        assert secret not in text
    assert f"/referrals/{referral.pk}/" in message.body


@pytest.mark.django_db
def test_bell_counts_unread_and_marking_read_opens_the_referral(client, loop):
    referral = make_referral(loop, sent_at=at("2026-11-02"))
    run_sweep()
    client.force_login(loop["contact"])
    home = client.get(reverse("home")).content.decode()
    assert 'data-testid="unread-count"' in home
    notification = Notification.objects.filter(recipient=loop["contact"]).first()
    response = client.post(reverse("notifications:read", args=[notification.pk]))
    assert response["Location"] == f"/referrals/{referral.pk}/"
    notification.refresh_from_db()
    assert notification.read_at is not None
    # Someone else's notification cannot be marked or followed: it does not exist for them.
    client.force_login(loop["outsider"])
    response = client.post(reverse("notifications:read", args=[notification.pk]))
    assert response.status_code == 404


@pytest.mark.django_db
def test_in_app_only_and_digest_preferences(client, loop):
    loop["contact"].email_mode = "none"
    loop["contact"].save()
    loop["gp"].email_mode = "digest"
    loop["gp"].digest_hour = 8
    loop["gp"].save()
    make_referral(loop, sent_at=at("2026-11-02"), status=Status.COMPLETED, completed_at=at("2026-11-03"))
    make_referral(loop, sent_at=at("2026-11-02"))
    run_sweep()
    assert set(
        Notification.objects.filter(recipient=loop["contact"]).values_list("email_state", flat=True)
    ) == {EmailState.SKIPPED}
    assert set(Notification.objects.filter(recipient=loop["gp"]).values_list("email_state", flat=True)) == {
        EmailState.DIGEST
    }
    from collab_hub.notifications.services import digests_send

    assert digests_send(now=at("2026-11-24", 7)) == 0  # before the chosen hour
    assert digests_send(now=at("2026-11-24", 8)) == 1
    assert len(mail.outbox) == 1 and loop["patient"].last_name not in mail.outbox[0].body
    assert digests_send(now=at("2026-11-24", 8)) == 0  # nothing twice
    assert digests_send(now=at("2026-11-24", 9)) == 0  # nor later that day


@pytest.mark.django_db
def test_overview_for_coordinators_only(client, loop):
    make_referral(loop, sent_at=at("2026-11-02"), accept_by=at("2026-11-04").date())
    run_sweep()
    client.force_login(loop["contact"])
    assert client.get(reverse("referrals:reminders")).status_code == 403
    client.force_login(loop["coordinator"])
    html = client.get(reverse("referrals:reminders")).content.decode()
    assert 'data-testid="overdue-list"' in html
    assert loop["patient"].last_name not in html
    # The coordinator acts from here: the reference opens the referral (issue 21) ...
    link = html.split('data-testid="overdue-link"')[0].rsplit('href="', 1)[1].split('"')[0]
    assert client.get(link).status_code == 200
    # ... while a project lead, who reads the list, gets no link their role would not open.
    from tests.factories import ProfessionalFactory

    client.force_login(ProfessionalFactory(profile__discipline="project_lead"))
    html = client.get(reverse("referrals:reminders")).content.decode()
    assert 'data-testid="overdue-list"' in html and 'data-testid="overdue-link"' not in html


@pytest.mark.django_db(transaction=True)
def test_redis_down_while_sending_then_the_reminder_is_still_delivered(client, loop, celery_worker, wait_for):
    from collab_hub.celery import app

    client.force_login(loop["gp"])
    url = reverse("referrals:create", args=[loop["patient"].pk])
    pathway = loop["pathways"]["maatschappelijk-werk"]
    working_broker = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:1/0"  # Redis unreachable while the GP sends
    try:
        response = client.post(
            url,
            {
                "pathway": pathway.pk,
                "receiver": loop["contact"].pk,
                "urgency": "routine",
                "letter_question": "Hulp bij schulden",
                "letter_urgent_safety": "no",
            },
        )
    finally:
        app.conf.broker_url = working_broker
        # The connection pools made while Redis was "down" point at the wrong address (a test artefact:
        # in production the address stays and the pool reconnects).
        app._pool = None
        app.amqp._producer_pool = None
    assert response.status_code == 302
    from referrals.models import Referral

    referral = Referral.objects.get()
    # Redis is back; two working days later the sweep finds the overdue step in the database.
    run_sweep(now=timezone.now() + timedelta(days=5))
    assert referral.reminders.exists()
    mine = Notification.objects.filter(recipient=loop["contact"])
    wait_for(lambda: not mine.exclude(email_state="sent").exists())
    to_contact = [
        m for m in mail.outbox if m.to == [loop["contact"].email] and referral.reference in m.subject
    ]
    # The new referral (told while Redis was down) and the reminder: each e-mailed once.
    assert len(to_contact) == Notification.objects.filter(recipient=loop["contact"]).count() == 2


@pytest.mark.django_db
def test_a_joint_consultation_soon_reminds_each_participant_once(loop):
    referral = make_referral(
        loop,
        status=Status.ACCEPTED,
        accepted_at=at("2026-11-09"),
        first_contact_by=timezone.localdate(at("2026-11-20")),
    )
    consultation = JointConsultation.objects.create(
        referral=referral, scheduled_at=at("2026-11-12", 14), location="Praktijk De Linde"
    )
    consultation.participants.set([loop["gp"], loop["contact"]])
    assert sweep(at("2026-11-09")) == 0  # three days ahead: not yet
    assert sweep(at("2026-11-10")) == 1
    assert sweep(at("2026-11-10", 15)) == 0
    told = Notification.objects.filter(kind="referral.consultation_soon")
    assert sorted(told.values_list("recipient", flat=True)) == sorted([loop["gp"].pk, loop["contact"].pk])
    assert all(n.link == f"/referrals/{referral.pk}/" and n.reference == referral.reference for n in told)
    # Moved to the next week: the new date is a new occurrence and is reminded again.
    JointConsultation.objects.filter(pk=consultation.pk).update(scheduled_at=at("2026-11-19", 14))
    sweep(at("2026-11-17"))
    assert Notification.objects.filter(kind="referral.consultation_soon").count() == 4


@pytest.mark.django_db
def test_the_digest_goes_out_when_the_clocks_skip_its_hour_and_once_when_they_repeat_it(loop):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from collab_hub.notifications.services import NotificationSpec, digests_send, notifications_create

    gp = loop["gp"]
    gp.email_mode, gp.digest_hour = "digest", 2
    gp.save()

    def pending(key):
        notifications_create([NotificationSpec(gp.pk, "test", "Herinnering", "Tekst", "/", "R-1", key)])

    amsterdam = ZoneInfo("Europe/Amsterdam")
    pending("spring")
    # 28 March 2027: 02:00 does not exist (01:59 → 03:00). The 03:00 run sends the day's digest.
    assert digests_send(now=datetime(2027, 3, 28, 1, 0, tzinfo=amsterdam)) == 0
    assert digests_send(now=datetime(2027, 3, 28, 3, 0, tzinfo=amsterdam)) == 1
    pending("autumn")
    # 31 October 2027: 02:00–03:00 happens twice. Both runs at 02:00 send one digest together.
    first = datetime(2027, 10, 31, 2, 0, tzinfo=amsterdam, fold=0)
    second = datetime(2027, 10, 31, 2, 0, tzinfo=amsterdam, fold=1)
    assert digests_send(now=first) == 1
    pending("autumn-later")
    assert digests_send(now=second) == 0
    assert len(mail.outbox) == 2


@pytest.mark.django_db
def test_the_sweep_takes_the_same_queries_for_one_due_referral_as_for_two_hundred(loop):
    def due_sweep_queries(n: int) -> int:
        Reminder.objects.all().delete()
        Notification.objects.all().delete()
        for _ in range(n):
            make_referral(loop, sent_at=at("2026-11-02"))
        with CaptureQueriesContext(connection) as queries:
            # Both not-accepted steps are due for every referral; the reminders were deleted, so full.
            created = sweep(at("2026-11-20"), full=True)
        assert created == 2 * Referral.objects.count()
        return len(queries)

    one = due_sweep_queries(1)
    # 1 + 199 more: every referral so far is due again after the reminders were cleared.
    assert due_sweep_queries(199) == one
    assert Notification.objects.filter(recipient=loop["contact"]).count() == 200
    assert Notification.objects.filter(recipient=loop["deputy"]).count() == 200


@pytest.mark.django_db(transaction=True)  # each step commits, as in production: transaction ids differ
def test_later_sweeps_of_a_day_look_only_at_changed_referrals_and_miss_nothing(loop):
    first = make_referral(loop, sent_at=at("2026-11-16"))  # Monday: the receiver's step is due on Wednesday
    receiver_rule = rule("not_accepted", 2, "receiver")
    assert sweep(at("2026-11-18", 9)) == 1  # the day's first sweep looks at everything
    # The same day: a referral imported with an old sending date is new, so the next sweep sees it.
    second = make_referral(loop, sent_at=at("2026-11-10"))
    assert sweep(at("2026-11-18", 10)) == 2  # its receiver reminder and its escalation
    assert second.reminders.count() == 2
    # A forward (on Monday) restarts the clock from that moment: a new occurrence, found the same day.
    Referral.objects.filter(pk=first.pk).update(assigned_at=at("2026-11-16", 15))
    assert sweep(at("2026-11-18", 11)) == 1
    assert first.reminders.filter(rule=receiver_rule).count() == 2
    # Later sweeps of the day select only referrals changed since (a transaction running anywhere in
    # the cluster keeps them in the selection longer, which is safe); a full sweep selects all.
    with CaptureQueriesContext(connection) as later:
        sweep(at("2026-11-18", 12))
    with CaptureQueriesContext(connection) as full:
        sweep(at("2026-11-18", 12), full=True)
    assert sum("changed_xid" in q["sql"] for q in later.captured_queries) == 5  # all but the consultations
    assert not any("changed_xid" in q["sql"] for q in full.captured_queries)
    # A reminder deleted by hand is restored by a full sweep (or the next day's first sweep).
    Reminder.objects.filter(referral=second, rule=receiver_rule).delete()
    assert sweep(at("2026-11-18", 13), full=True) == 1


@pytest.mark.django_db
def test_a_rule_changed_during_the_day_is_swept_in_full(loop):
    make_referral(loop, sent_at=at("2026-11-16"))
    assert sweep(at("2026-11-17", 9)) == 0  # one working day: not due after two
    receiver_rule = rule("not_accepted", 2, "receiver")
    receiver_rule.days = 1
    receiver_rule.save(update_fields=["days"])
    assert sweep(at("2026-11-17", 10)) == 1


@pytest.mark.django_db(transaction=True)
def test_a_change_committed_while_a_sweep_runs_is_found_by_the_next_sweep(loop):
    """The change's transaction began before the sweep and committed after it: the sweep could not see
    it, and the next sweep that day must still look at it."""
    from django.db import transaction

    assert sweep(at("2026-11-18", 9)) == 0  # the day's full sweep: nothing due yet
    changed, release = threading.Event(), threading.Event()

    def slow_change():
        try:
            with transaction.atomic():
                make_referral(loop, sent_at=at("2026-11-10"))
                changed.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    writer = threading.Thread(target=slow_change)
    writer.start()
    assert changed.wait(timeout=30)
    assert sweep(at("2026-11-18", 10)) == 0  # the new referral is not committed yet
    release.set()
    writer.join(timeout=30)
    assert sweep(at("2026-11-18", 11)) == 2  # found: the receiver's reminder and the escalation


@pytest.mark.django_db(transaction=True)
def test_the_full_sweep_command_restores_a_reminder_deleted_by_hand(loop):
    from io import StringIO

    from django.core.management import call_command

    make_referral(loop, sent_at=timezone.now() - timedelta(days=20))
    call_command("sweep_referral_reminders", stdout=StringIO())
    created = Reminder.objects.count()
    assert created == 2
    Reminder.objects.all().delete()
    out = StringIO()
    call_command("sweep_referral_reminders", "--full", stdout=out)
    assert Reminder.objects.count() == created and "created: 2" in out.getvalue()
