from celery import shared_task

from .services import heartbeat_record

BEAT_HEARTBEAT = "beat"


@shared_task(ignore_result=True)
def beat_heartbeat() -> None:
    """Sent by beat every minute and run by a worker: proves beat, broker, worker and database work."""
    heartbeat_record(name=BEAT_HEARTBEAT)
