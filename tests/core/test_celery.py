"""A task sent through the real Redis broker runs on a real worker and its effect lands in Postgres."""

import pytest

from collab_hub.celery import app
from collab_hub.core.models import Heartbeat
from collab_hub.core.tasks import BEAT_HEARTBEAT, beat_heartbeat


@pytest.mark.django_db(transaction=True)
def test_heartbeat_task_runs_on_a_real_worker(celery_worker, wait_for):
    assert not Heartbeat.objects.exists()
    beat_heartbeat.delay()
    beat = wait_for(lambda: Heartbeat.objects.filter(name=BEAT_HEARTBEAT).first())
    assert beat.at is not None


def test_celery_is_configured_for_safe_delivery():
    conf = app.conf
    assert conf.accept_content == ["json"]
    assert conf.task_serializer == "json"
    assert conf.task_acks_late is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.task_soft_time_limit < conf.task_time_limit
    assert conf.beat_scheduler == "django_celery_beat.schedulers:DatabaseScheduler"
