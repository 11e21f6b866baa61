"""The server benchmarks (B8, B9) work at a tiny scale against the real gunicorn and Celery commands;
no timing or memory figure is asserted here, only that they ran and what they report."""

import shutil

import pytest
from django.contrib.sessions.models import Session
from django.db import connection

from collab_hub.accounts.models import LoginSession
from collab_hub.core import bench_server
from collab_hub.notifications.models import Notification
from tests.factories import ProfessionalFactory

# The servers are separate processes: they see only committed rows, hence transactional tests.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def database_url() -> str:
    return f"postgres:///{connection.settings_dict['NAME']}"


def assert_no_session_left() -> None:
    assert not Session.objects.exists() and not LoginSession.objects.exists()


def test_throughput_at_tiny_scale(database_url):
    assert shutil.which("wrk"), "wrk is missing: `make test` and `make bench` install Debian's wrk"
    user = ProfessionalFactory()
    result = bench_server.throughput(
        user=user, duration=1, repeats=1, connections=2, workers=1, database_url=database_url
    )
    assert result["rps_ratio"] > 0 and result["p95_ratio"] > 0
    assert result["rps_ratio"] == result["inbox_rps"] / result["trivial_rps"]
    assert len(result["inbox_runs"]) == len(result["trivial_runs"]) == 1
    assert all(run["requests"] > 0 for run in result["inbox_runs"] + result["trivial_runs"])
    assert_no_session_left()


def test_web_memory_at_tiny_scale(database_url):
    user = ProfessionalFactory()
    result = bench_server.web_memory(user=user, first=5, total=30, database_url=database_url)
    assert (result["first"], result["total"]) == (5, 30)
    assert result["hwm_total_kb"] >= result["hwm_first_kb"] > 0
    assert result["ratio"] >= 1
    assert_no_session_left()


def test_worker_memory_at_tiny_scale_leaves_no_notifications(database_url):
    recipient = ProfessionalFactory()
    result = bench_server.worker_memory(recipient=recipient, first=5, total=40, database_url=database_url)
    assert (result["first"], result["total"]) == (5, 40)
    assert result["hwm_total_kb"] >= result["hwm_first_kb"] > 0
    assert not Notification.objects.exists()


def test_refuses_a_database_other_than_its_own(database_url):
    user = ProfessionalFactory()
    with pytest.raises(bench_server.BenchServerError, match="connected to"):
        bench_server.web_memory(
            user=user, first=1, total=1, database_url="postgres:///collab_hub_other_bench"
        )
