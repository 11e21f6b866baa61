"""The periodic tasks live in django-celery-beat's tables: visible in admin, and a pause survives restarts."""

import pytest
from django.urls import reverse
from django_celery_beat.models import PeriodicTask
from django_celery_beat.schedulers import DatabaseScheduler

from collab_hub.celery import app


@pytest.mark.django_db(transaction=True)  # the scheduler closes the database connection, as beat does
def test_periodic_tasks_are_installed_shown_in_admin_and_stay_paused(admin_client):
    DatabaseScheduler(app=app)  # what `celery beat` does at start-up
    sweep = PeriodicTask.objects.get(name="reminder-sweep")
    assert sweep.task == "collab_hub.notifications.tasks.sweep"
    assert PeriodicTask.objects.filter(
        name="daily-digests", task="collab_hub.notifications.tasks.send_digests"
    )
    html = admin_client.get(reverse("admin:django_celery_beat_periodictask_changelist")).content.decode()
    assert "reminder-sweep" in html
    PeriodicTask.objects.filter(pk=sweep.pk).update(enabled=False)
    DatabaseScheduler(app=app)  # beat restarts
    assert PeriodicTask.objects.get(pk=sweep.pk).enabled is False


@pytest.mark.django_db
def test_run_sweep_command(capsys):
    from django.core.management import call_command

    call_command("run_sweep")
    out = capsys.readouterr().out
    assert "referral_reminders: 0" in out
    assert "emails_handled: 0" in out
