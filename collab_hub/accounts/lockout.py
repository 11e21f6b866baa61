"""Log-in lockout and throttle that hold behind a proxy and a practice's shared connection.

- A user name is locked after AXES_FAILURE_LIMIT failures from one address, or after
  AXES_USERNAME_FAILURE_LIMIT failures from all addresses together. A failure for one user name never
  locks another, and never an address: nobody is locked out for sharing a proxy or a practice's
  connection with an attacker.
- An address that fails many log-ins in a minute (trying user names) is slowed down for the rest of
  that minute: throttled, not locked, and only that address.
"""

import ipaddress
from datetime import timedelta

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_failure_limit, get_lockout_parameters
from django.conf import settings
from django.db.models import Sum
from django.utils import timezone

from collab_hub.audit.models import SecurityEvent
from collab_hub.audit.services import client_address

THROTTLE_WINDOW = timedelta(minutes=1)


class LockoutHandler(AxesDatabaseHandler):
    """django-axes' database handler with two limits: per (user name, address) and per user name."""

    def get_failures(self, request, credentials=None) -> int:
        per_pair = per_name = 0
        parameters = get_lockout_parameters(request, credentials)
        for parameter, attempts in zip(parameters, self.get_user_attempts(request, credentials), strict=True):
            failures = attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0
            if parameter == "username":
                per_name = failures
            else:
                per_pair = failures
        limit = get_failure_limit(request, credentials)
        # Expressed on the one scale django-axes compares with AXES_FAILURE_LIMIT.
        return limit if per_name >= settings.AXES_USERNAME_FAILURE_LIMIT else per_pair


def address_throttled(request) -> bool:
    """Whether the request's address failed too many log-ins in the last minute (counted from the
    security log, which records every failure with its address)."""
    address = client_address(request)
    if address is None:
        return False
    recent = SecurityEvent.objects.filter(
        kind=SecurityEvent.Kind.LOGIN_FAILED, at__gte=timezone.now() - THROTTLE_WINDOW
    )
    ip = ipaddress.ip_address(address)
    if ip.version == 6:
        # One IPv6 customer holds a whole /64: counting per /128 would hand them millions of buckets.
        network = ipaddress.ip_network(f"{address}/64", strict=False)
        recent = recent.extra(where=["client_address <<= %s::inet"], params=[str(network)])
    else:
        recent = recent.filter(client_address=address)
    limit = settings.LOGIN_FAILURES_PER_ADDRESS_PER_MINUTE
    return recent[:limit].count() >= limit
