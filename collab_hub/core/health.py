"""Component checks behind /health/. Each returns (ok, detail) and never raises."""

from datetime import timedelta

import redis
from django.conf import settings
from django.db import connection
from django.utils import timezone

from .models import Heartbeat
from .tasks import BEAT_HEARTBEAT

BEAT_MAX_AGE = timedelta(minutes=3)


def check_database() -> tuple[bool, str]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any driver error means "down"
        return False, type(exc).__name__
    return True, "ok"


def check_redis() -> tuple[bool, str]:
    client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
    try:
        client.ping()
    except redis.RedisError as exc:
        return False, type(exc).__name__
    finally:
        client.close()
    return True, "ok"


def check_worker() -> tuple[bool, str]:
    from collab_hub.celery import app

    try:
        replies = app.control.ping(timeout=1.0)
    except Exception as exc:  # broker unreachable and friends
        return False, type(exc).__name__
    if not replies:
        return False, "no worker answered a ping"
    return True, f"{len(replies)} worker(s)"


def check_beat() -> tuple[bool, str]:
    try:
        beat = Heartbeat.objects.filter(name=BEAT_HEARTBEAT).first()
    except Exception as exc:
        return False, type(exc).__name__
    if beat is None:
        return False, "no tick recorded yet"
    age = timezone.now() - beat.at
    if age > BEAT_MAX_AGE:
        return False, f"last tick {int(age.total_seconds())} s ago"
    return True, beat.at.isoformat()


def run_checks() -> dict[str, dict[str, object]]:
    checks = {
        "database": check_database,
        "redis": check_redis,
    }
    result = {name: check() for name, check in checks.items()}
    # Worker ping needs the broker; asking without Redis only burns the timeout.
    result["worker"] = check_worker() if result["redis"][0] else (False, "broker unreachable")
    result["beat"] = check_beat() if result["database"][0] else (False, "database unreachable")
    return {name: {"ok": ok, "detail": detail} for name, (ok, detail) in result.items()}
