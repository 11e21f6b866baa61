"""The Celery app. Its settings live in collab_hub/settings.py under CELERY_*."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "collab_hub.settings")

app = Celery("collab_hub")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
