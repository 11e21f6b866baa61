"""/health/ reports each component and answers 503 naming what is down."""

import pytest
from django.core.cache import cache
from django.urls import reverse

from collab_hub.core.services import heartbeat_record
from collab_hub.core.tasks import BEAT_HEARTBEAT
from collab_hub.core.views import HEALTH_KEY, HEALTH_LOCK_KEY


@pytest.fixture(autouse=True)
def fresh_health_cache():
    """The answer is cached for everyone: each test starts from a fresh computation."""
    keys = [HEALTH_KEY, f"{HEALTH_KEY}:stale", HEALTH_LOCK_KEY]
    cache.delete_many(keys)
    yield
    cache.delete_many(keys)


@pytest.mark.django_db(transaction=True)
def test_health_is_200_when_database_redis_worker_and_beat_are_up(client, celery_worker):
    heartbeat_record(name=BEAT_HEARTBEAT)
    response = client.get(reverse("health"))
    body = response.json()
    assert response.status_code == 200, body
    assert body["status"] == "ok"
    assert set(body["components"]) == {"database", "redis", "worker", "beat"}
    assert all(state["ok"] for state in body["components"].values())


@pytest.mark.django_db
def test_health_is_503_and_names_redis_when_redis_is_unreachable(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    heartbeat_record(name=BEAT_HEARTBEAT)
    response = client.get(reverse("health"))
    body = response.json()
    assert response.status_code == 503
    assert "redis" in body["down"]
    assert body["components"]["database"]["ok"] is True
    assert body["components"]["worker"]["ok"] is False


@pytest.mark.django_db
def test_health_names_beat_when_no_tick_was_recorded(client):
    response = client.get(reverse("health"))
    body = response.json()
    assert response.status_code == 503
    assert "beat" in body["down"]
    assert body["components"]["beat"]["detail"] == "no tick recorded yet"
