"""Working days: Monday to Friday, without Dutch public holidays."""

from datetime import date, datetime, time, timedelta
from functools import lru_cache

import holidays
from django.utils import timezone


@lru_cache(maxsize=32)
def _dutch_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.Netherlands(years=year).keys())


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _dutch_holidays(day.year)


def add_working_days(start: date, days: int) -> date:
    """The date `days` working days after `start` (start itself does not count)."""
    current = start
    remaining = days
    while remaining > 0:
        current += timedelta(days=1)
        if is_working_day(current):
            remaining -= 1
    return current


def working_days_between(start: date, end: date) -> int:
    """Working days after `start` up to and including `end` (0 when end is not after start)."""
    count, current = 0, start
    while current < end:
        current += timedelta(days=1)
        if is_working_day(current):
            count += 1
    return count


def due_cutoff(today: date, days: int) -> date:
    """The latest start date s for which add_working_days(s, days) <= today.

    A step that started on or before the cutoff is `days` working days old today: it is due.
    """
    start = today
    while add_working_days(start, days) > today:
        start -= timedelta(days=1)
    return start


def day_start(day: date) -> datetime:
    """Midnight at the start of `day` in the hub's time zone. `at__lt=day_start(d + 1 day)` says the
    same as `at__date__lte=d` but lets Postgres use an index on the timestamp column."""
    return timezone.make_aware(datetime.combine(day, time.min))
