"""The referral tally the database keeps in step: after every kind of write it equals a recount."""

from datetime import datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from referrals import services
from referrals.models import Referral, ReferralTally, Reminder, Status
from referrals.reminders import sweep
from referrals.tally import differences
from tests.referrals.conftest import make_referral, req
from tests.referrals.test_services import send

COLUMNS = ("sent", "accepted", "declined", "completed", "reminders")


def totals() -> dict:
    return {c: sum(ReferralTally.objects.values_list(c, flat=True)) for c in COLUMNS}


@pytest.mark.django_db
def test_the_tally_follows_sending_accepting_declining_closing_reminders_and_errors(loop):
    assert totals() == dict.fromkeys(COLUMNS, 0)
    first = send(loop)
    second = send(loop)
    contact = req(loop["contact"])
    services.referral_accept(by=contact, referral=first)
    services.referral_decline(by=contact, referral=second, reason="no_capacity", note="Wachtlijst vol")
    assert differences() == []
    assert totals() == {"sent": 2, "accepted": 1, "declined": 1, "completed": 0, "reminders": 0}

    services.referral_first_contact(
        by=contact,
        referral=first,
        contact_date=timezone.localdate(),
        contact_method="phone",
        text="Gebeld",
    )
    services.referral_complete(by=contact, referral=first, outcome="goals_met", text="Geregeld")
    assert totals()["completed"] == 1

    # Reminders count at their referral's key; a referral sent on another day gets its own row.
    old = make_referral(loop, sent_at=timezone.now() - timedelta(days=20))
    assert sweep(timezone.now()) >= 1
    assert totals()["reminders"] == Reminder.objects.count() > 0
    assert ReferralTally.objects.filter(day=timezone.localdate(old.sent_at), sent=1).exists()
    assert differences() == []

    # Entered in error: the referral and its reminders leave the tally, as they leave the indicators.
    services.referral_mark_entered_in_error(by=req(loop["gp"]), referral=old, note="Verkeerde patiënt")
    assert totals()["sent"] == 2 and totals()["reminders"] == 0
    assert differences() == []

    # Bulk writes (one statement for many rows) and moving a referral to another day and pathway.
    Referral.objects.filter(pk=first.pk).update(
        sent_at=first.sent_at - timedelta(days=40), pathway=loop["pathways"]["welzijn-op-recept"]
    )
    Referral.objects.filter(status=Status.REJECTED).update(status=Status.CANCELLED)
    assert differences() == []
    draft_like = make_referral(loop)  # written directly, without events, so it may be deleted
    assert totals()["sent"] == 3
    Reminder.objects.all().delete()
    Referral.objects.filter(pk=draft_like.pk).delete()
    assert differences() == []
    assert totals()["sent"] == 2


@pytest.mark.django_db
def test_a_referral_counts_in_its_day_of_sending_in_the_hubs_time_zone(loop):
    # 23:30 in Amsterdam on 3 November is 22:30 UTC: it counts on the 3rd.
    late = timezone.make_aware(datetime(2026, 11, 3, 23, 30))
    make_referral(loop, sent_at=late)
    assert list(ReferralTally.objects.values_list("day", flat=True)) == [late.date()]


def test_inbox_totals_follow_every_change_and_match_the_lists(client, loop):
    from referrals import inbox_tally
    from referrals.selectors import received_for, received_total

    first, second = send(loop), send(loop)
    make_referral(loop, status=Status.IN_PROGRESS)
    contact = req(loop["contact"])
    services.referral_accept(by=contact, referral=first)
    services.referral_forward(by=contact, referral=second, to_user=loop["deputy"], note="Vakantie")
    Referral.objects.filter(status=Status.IN_PROGRESS).update(status=Status.ON_HOLD)
    assert inbox_tally.differences() == []
    for user in (loop["contact"], loop["deputy"], loop["coordinator"]):
        for scope in ("me", "team"):
            lists = received_for(user=user, scope=scope)
            assert received_total(user=user, scope=scope) == lists.count()
            assert received_total(user=user, scope=scope, statuses=[Status.REQUESTED]) == (
                lists.filter(status=Status.REQUESTED).count()
            )
    assert received_total(user=loop["deputy"]) == 1
    # The page says what the list holds, with and without a filter.
    client.force_login(loop["contact"])
    for query in ("", "&filter=new", "&filter=open", "&filter=overdue", "&status=accepted"):
        html = client.get(reverse("referrals:inbox") + "?box=received" + query).content.decode()
        shown = html.count('data-testid="referral-row"')
        assert f">{shown} verwijzing" in html.replace("\n", "")
    Referral.objects.filter(pk=make_referral(loop).pk).delete()
    assert inbox_tally.differences() == []


@pytest.mark.django_db(transaction=True)
def test_a_referral_moved_to_another_team_while_the_sweep_reminds_it_keeps_the_tally_in_step(loop):
    """The sweep inserts a reminder for a referral another transaction is moving to another team: the
    reminder must end up counted at the team the referral ends up with."""
    import threading
    import time

    from django.db import connection, transaction

    from tests.factories import TeamFactory

    referral = make_referral(loop, sent_at=timezone.now() - timedelta(days=20))
    other_team = TeamFactory(name="Wijkteam West")
    moved, release, swept = threading.Event(), threading.Event(), threading.Event()

    def move():
        try:
            with transaction.atomic():
                Referral.objects.filter(pk=referral.pk).update(receiving_team=other_team)
                moved.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    def run_sweep():
        try:
            sweep(timezone.now(), full=True)
            swept.set()
        finally:
            connection.close()

    mover = threading.Thread(target=move)
    mover.start()
    assert moved.wait(timeout=30)
    sweeper = threading.Thread(target=run_sweep)
    sweeper.start()
    time.sleep(1)  # the sweep has inserted its reminders and waits for the moving transaction
    release.set()
    mover.join(timeout=30)
    sweeper.join(timeout=60)
    assert swept.is_set() and Reminder.objects.filter(referral=referral).exists()
    assert differences() == []
    assert ReferralTally.objects.filter(receiving_team=other_team).get().reminders == 2
