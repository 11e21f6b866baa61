from celery import shared_task

from .exports import export_build


@shared_task(ignore_result=True, acks_late=True)
def build_export(export_id: int) -> None:
    export_build(export_id=export_id)
