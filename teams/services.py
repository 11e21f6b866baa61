"""Writes of the teams app."""

from datetime import date

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from .models import Service


@transaction.atomic
def service_mark_checked(*, service: Service, by, on: date | None = None) -> Service:
    """Record that a social-map entry was checked and is still correct."""
    if not can_maintain_service(user=by, service=service):
        raise PermissionDenied
    service.last_checked_on = on or timezone.localdate()
    service.save(update_fields=["last_checked_on"])
    return service


def can_maintain_service(*, user, service: Service) -> bool:
    return user.is_staff or user.pk in {service.contact_person_id, service.organisation.contact_person_id}
