"""Indicators of the referral loop, computed in the database (aggregates, never per-row Python).

A referral counts in the period in which it was sent; what happens to it afterwards (acceptance,
first contact, closure, the sender's acknowledgement) is credited to that period, so a referral that
crosses a cycle boundary belongs to the cycle it was sent in.

Maturity: every figure but the number sent depends on what happens after sending, so a referral sent
last week would pull the rates down only because it has not had time yet. Those figures count only
referrals that have *matured*: sent in a month that ended at least FOLLOW_UP_DAYS ago. Whole months,
not days: the set of referrals counted then grows by a month at a time (a month the run chart shows,
or hides with its cycle), never by the one referral sent on a given day, whose outcome a reader who
knows that day could otherwise read off the change (docs/indicators.md).

Durations are in working days (Monday to Friday without Dutch public holidays, the calendar the
reminders use: collab_hub.core.workdays); the research export also has them in calendar days.
"""

from calendar import monthrange
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache

import holidays
from django.conf import settings
from django.db.models import (
    Aggregate,
    BooleanField,
    Count,
    ExpressionWrapper,
    F,
    FloatField,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, TruncMonth, TruncWeek
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from collab_hub.core.workdays import day_start
from referrals.models import OPEN_STATUSES, Event, Referral, Reminder, Status

SECONDS_PER_DAY = 86400.0
SMALL_GROUP = 5


class Median(Aggregate):
    """PERCENTILE_CONT(0.5): the median, interpolated between the two middle values for even counts."""

    function = "PERCENTILE_CONT"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


class Days(Func):
    """The length of an interval in calendar days, as a fraction."""

    template = f"(EXTRACT(EPOCH FROM %(expressions)s) / {SECONDS_PER_DAY})"
    output_field = FloatField()


@lru_cache(maxsize=8)
def weekday_holidays(first_year: int, last_year: int) -> tuple[date, ...]:
    """The Dutch public holidays that fall on a weekday, sorted (the reminders' calendar)."""
    days = holidays.Netherlands(years=range(first_year, last_year + 1)).keys()
    return tuple(sorted(day for day in days if day.weekday() < 5))


def calendar() -> tuple[date, ...]:
    """Holidays for every year a referral of a project can fall in (projects lie in 2000–2100, their
    baseline up to two years before; nothing has happened after this year)."""
    return weekday_holidays(1998, timezone.localdate().year + 1)


def _local_day(sql: str) -> str:
    return f"(({sql}) AT TIME ZONE %s)::date"


class WorkingDays(Func):
    """Working days after the local day of `start` up to and including that of `end`, in SQL: the
    same count as collab_hub.core.workdays.working_days_between. A day's number is the count of
    weekdays since Monday 1 January 1900 less the weekday holidays up to it (width_bucket: a binary
    search of the sorted holidays), so the difference of two numbers is the working days between."""

    output_field = IntegerField()

    def __init__(self, start, end, *, holidays: tuple[date, ...]):
        super().__init__(start, end)
        self.holidays = list(holidays)

    def as_sql(self, compiler, connection, **extra_context):
        numbers = []
        for expression in self.get_source_expressions():
            sql, sql_params = compiler.compile(expression)
            day = _local_day(sql)
            day_params = [*sql_params, settings.TIME_ZONE]
            numbers.append(
                (
                    f"((({day} - DATE '1900-01-01') / 7) * 5"
                    f" + LEAST(MOD({day} - DATE '1900-01-01', 7) + 1, 5) - width_bucket({day}, %s::date[]))",
                    [*day_params, *day_params, *day_params, self.holidays],
                )
            )
        (start, start_params), (end, end_params) = numbers
        # (nought when the end is not after the start, as in Python)
        return f"GREATEST({end} - {start}, 0)", [*end_params, *start_params]


# Six weeks: the default feedback period, by which a referral should have been accepted, contacted and
# reported on. One window for every pathway, so that editing a pathway does not change past figures.
FOLLOW_UP_DAYS = 42


def maturity_cutoff(today: date | None = None) -> date:
    """The first day of the first month that has not matured: referrals sent before it count."""
    last_matured_day = (today or timezone.localdate()) - timedelta(days=FOLLOW_UP_DAYS)
    return first_of_month(last_matured_day + timedelta(days=1))


def referral_scope(project) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The ids of the teams and pathways whose referrals count (empty: all), read once per project
    instance: a dashboard builds many querysets over the same scope."""
    scope = getattr(project, "_referral_scope", None)
    if scope is None:
        scope = (
            tuple(project.teams.order_by("pk").values_list("pk", flat=True)),
            tuple(project.pathways.order_by("pk").values_list("pk", flat=True)),
        )
        project._referral_scope = scope
    return scope


@dataclass(frozen=True)
class Baseline:
    """The months before cycle 1 that its figures are compared with ("cycle 0"): the project's
    `baseline_months` whole months ending the day before cycle 1 starts. None when cycle 1 does not
    start on the first of a month (then the months would not be whole). Its figures count once cycle 1
    has left Plan (`counted`): until then its dates may still move with cycle 1's."""

    starts_on: date
    ends_on: date
    counted: bool
    number: int = 0
    phase: str = "baseline"
    predictions: dict = field(default_factory=dict)
    change_to_test: str = ""

    def get_phase_display(self) -> str:
        return str(_("Baseline"))


def first_of_month(day: date, months_later: int = 0) -> date:
    years, month = divmod(day.month - 1 + months_later, 12)
    return date(day.year + years, month + 1, 1)


def baseline_dates(months: int, first_cycle_start: date | None) -> tuple[date, date] | None:
    if not months or first_cycle_start is None or first_cycle_start.day != 1:
        return None
    try:
        return first_of_month(first_cycle_start, -months), first_cycle_start - timedelta(days=1)
    except ValueError:  # a legacy cycle near year 1: no months before it
        return None


def baseline_of(project, cycles=None) -> Baseline | None:
    cycles = list(project.cycles.all()) if cycles is None else cycles
    first = next((c for c in cycles if c.number == 1), None)
    dates = baseline_dates(project.baseline_months, first.starts_on if first else None)
    if dates is None:
        return None
    from .models import Phase

    return Baseline(*dates, counted=first.phase != Phase.PLAN)


def counts_from(project, cycles=None) -> date:
    """The first day whose referrals the project counts: its start, or its baseline's when earlier.
    Read once per project instance, like `referral_scope` (from `cycles` when the caller has them)."""
    start = getattr(project, "_counts_from", None)
    if start is None or cycles is not None:
        if cycles is None:
            first = project.cycles.filter(number=1).values_list("starts_on", flat=True).first()
        else:
            first = next((c.starts_on for c in cycles if c.number == 1), None)
        dates = baseline_dates(project.baseline_months, first)
        start = min(project.starts_on, dates[0]) if dates else project.starts_on
        project._counts_from = start
    return start


def project_referrals(project, *, start: date, end: date) -> QuerySet[Referral]:
    """The project's referrals sent from `start` to `end`, never outside the project's own period and
    its baseline (a cycle reaching past it would count referrals no figure of the project accounts for)."""
    start = max(start, counts_from(project))
    end = min(end, project.ends_on, date.max - timedelta(days=1))
    # Bounds on the timestamp itself (not on its date) so the index on sent_at can be used.
    qs = Referral.objects.exclude(status=Status.ENTERED_IN_ERROR).filter(
        sent_at__gte=day_start(start), sent_at__lt=day_start(end + timedelta(days=1))
    )
    team_ids, pathway_ids = referral_scope(project)
    if team_ids:
        qs = qs.filter(receiving_team_id__in=team_ids)
    if pathway_ids:
        qs = qs.filter(pathway_id__in=pathway_ids)
    return qs


def _annotated(qs: QuerySet[Referral], today: date | None = None) -> QuerySet[Referral]:
    reminders = (
        Reminder.objects.filter(referral=OuterRef("pk"))
        .order_by()
        .values("referral")
        .annotate(n=Count("pk"))
        .values("n")
    )
    # Not correlated: Postgres reads the few forwarding events once and looks each referral up in a
    # hash, instead of probing the event table once per referral (twice, as two aggregates use it).
    forwarded = Event.objects.filter(kind__in=[Event.Kind.FORWARDED, Event.Kind.REASSIGNED]).values(
        "referral_id"
    )
    cutoff = day_start(maturity_cutoff(today))
    return qs.annotate(
        n_reminders=Coalesce(Subquery(reminders, output_field=IntegerField()), Value(0)),
        was_forwarded=ExpressionWrapper(Q(pk__in=forwarded), output_field=BooleanField()),
        is_matured=ExpressionWrapper(Q(sent_at__lt=cutoff), output_field=BooleanField()),
        # A loop closed within the follow-up window may not be acknowledged yet: the acknowledgement
        # figures are marked provisional while such loops exist (not left out: a month of closures
        # joining later would be a group no page shows).
        is_closed_recently=ExpressionWrapper(
            Q(completed_at__gte=day_start((today or timezone.localdate()) - timedelta(days=FOLLOW_UP_DAYS))),
            output_field=BooleanField(),
        ),
    )


MATURED = Q(is_matured=True)
ACCEPTED = MATURED & Q(accepted_at__isnull=False)
CONTACTED = MATURED & Q(first_contact_at__isnull=False)
CLOSED = MATURED & Q(status=Status.COMPLETED)
ACKNOWLEDGED = CLOSED & Q(acknowledged_at__isnull=False)
DURATIONS = {
    # key: (from, to, which referrals)
    "median_days_to_acceptance": ("sent_at", "accepted_at", ACCEPTED),
    "median_days_to_first_contact": ("sent_at", "first_contact_at", CONTACTED),
    "median_days_to_acknowledgement": ("completed_at", "acknowledged_at", ACKNOWLEDGED),
}


def aggregates(*, calendar_days: bool = False) -> dict:
    """Every aggregate of a set of referrals. All but `sent`, `matured` and `still_open` count matured
    referrals only (see the module's docstring). Durations are medians in working days; with
    `calendar_days` also in calendar days (`median_calendar_days_…`, for the research export)."""
    holidays_ = calendar()
    result = {
        "sent": Count("pk"),
        "matured": Count("pk", filter=MATURED),
        "still_open": Count("pk", filter=Q(status__in=OPEN_STATUSES)),
        "accepted": Count("pk", filter=ACCEPTED),
        "contacted": Count("pk", filter=CONTACTED),
        "declined": Count("pk", filter=MATURED & Q(status=Status.REJECTED)),
        "forwarded": Count("pk", filter=MATURED & Q(was_forwarded=True)),
        "closed_with_feedback": Count("pk", filter=CLOSED),
        "closed_recently": Count("pk", filter=CLOSED & Q(is_closed_recently=True)),
        "acknowledged": Count("pk", filter=ACKNOWLEDGED),
        "to_named_contact": Count(
            "pk", filter=MATURED & Q(assigned_via__in=["contact", "deputy"]) & Q(was_forwarded=False)
        ),
        "reminders": Coalesce(Sum("n_reminders", filter=MATURED), Value(0)),
    }
    for key, (start, end, which) in DURATIONS.items():
        result[key] = Median(WorkingDays(F(start), F(end), holidays=holidays_), filter=which)
        if calendar_days:
            result[key.replace("_days_", "_calendar_days_")] = Median(Days(F(end) - F(start)), filter=which)
    return result


AGGREGATE_KEYS = (
    "sent",
    "matured",
    "still_open",
    "accepted",
    "contacted",
    "declined",
    "forwarded",
    "closed_with_feedback",
    "closed_recently",
    "acknowledged",
    "to_named_contact",
    "reminders",
    *DURATIONS,
    *(key.replace("_days_", "_calendar_days_") for key in DURATIONS),
)
RATE_KEYS = (
    "acceptance_rate",
    "closed_loop_share",
    "acknowledged_share",
    "declined_share",
    "forwarded_share",
    "named_contact_share",
    "reminders_per_referral",
)
# Each figure over fewer than five referrals is not shown: its count of referrals.
COUNTED_BY = {
    "median_days_to_acceptance": "accepted",
    "median_days_to_first_contact": "contacted",
    "median_days_to_acknowledgement": "acknowledged",
}


def _rates(row: dict) -> dict:
    """Shares of the matured referrals (the acknowledged share: of those closed with feedback), and
    `maturing`: how many were sent too recently to count. A share or median over fewer than five
    referrals is None: 'accepted 1 of 3' is about identifiable patients, whatever the number sent."""
    matured = row.get("matured") or 0

    def share(n, of):
        return None if not of or of < SMALL_GROUP else round(n / of, 4)

    row = dict(row)
    for key, count in COUNTED_BY.items():
        for variant in (key, key.replace("_days_", "_calendar_days_")):
            if variant in row and (row.get(count) or 0) < SMALL_GROUP:
                row[variant] = None
    return {
        **row,
        "maturing": (row["sent"] or 0) - matured,
        "acceptance_rate": share(row["accepted"], matured),
        "closed_loop_share": share(row["closed_with_feedback"], matured),
        "acknowledged_share": share(row["acknowledged"], row["closed_with_feedback"]),
        "declined_share": share(row["declined"], matured),
        "forwarded_share": share(row["forwarded"], matured),
        "named_contact_share": share(row["to_named_contact"], matured),
        "reminders_per_referral": (None if matured < SMALL_GROUP else round(row["reminders"] / matured, 2)),
    }


def indicators(qs: QuerySet[Referral], *, today: date | None = None) -> dict:
    """All indicators over one set of referrals, in a single query."""
    return _rates(_annotated(qs, today).aggregate(**aggregates()))


def indicators_per_period(
    qs: QuerySet[Referral], *, period: str = "month", today: date | None = None, calendar_days: bool = False
) -> list[dict]:
    """The same indicators per week or month of sending, oldest first (one query)."""
    trunc = TruncMonth if period == "month" else TruncWeek
    rows = (
        _annotated(qs, today)
        .annotate(period=trunc("sent_at"))
        .order_by()
        .values("period")
        .annotate(**aggregates(calendar_days=calendar_days))
        .order_by("period")
    )
    return [_rates(dict(row)) for row in rows]


def whole_months(project, cycle) -> bool:
    """Whether a cycle runs in whole months inside the project, so its total and its months agree
    (services._check_dates asks it of every new date; older cycles may not)."""
    last_day = monthrange(cycle.ends_on.year, cycle.ends_on.month)[1]
    return (
        (cycle.starts_on.day == 1 or cycle.starts_on == project.starts_on)
        and (cycle.ends_on.day == last_day or cycle.ends_on == project.ends_on)
        and project.starts_on <= cycle.starts_on
        and cycle.ends_on <= project.ends_on
    )


def project_series(
    project, cycles=None, *, today: date | None = None, calendar_days: bool = False
) -> tuple[list[dict], set[int]]:
    """The project's indicators per month over its whole span (from its baseline), and the cycles whose
    figures are withheld. Each row has `part`: 0 for the baseline, a cycle's number, or None. The months
    of a cycle (and of the baseline) are the parts of its total (its Check table shows it), the months
    outside cycles those of the rest: when one month of a group is under five, every month of that group
    is withheld (disclosure.protect), so no shown total less its shown months gives a month away. The
    project's own total is shown only rounded (the overview), so the cycles need no such rule.

    The months of a cycle in Plan (and of the baseline while cycle 1 is in Plan) count with those
    outside cycles (their dates may still move). Since a group with a small month is withheld whole, a
    small month is hidden in every grouping, and moving months between groups (a cycle starting Do)
    shows nothing a group's total did not. A cycle that does not run in whole months inside the project
    (made before these rules) is withheld whole: its total and its months disagree."""
    from .disclosure import protect
    from .models import Phase

    cycles = list(project.cycles.all()) if cycles is None else cycles
    rows = indicators_per_period(
        project_referrals(project, start=counts_from(project), end=project.ends_on),
        today=today,
        calendar_days=calendar_days,
    )
    counted = [c for c in cycles if c.phase != Phase.PLAN]
    baseline = baseline_of(project, cycles)
    if baseline is not None and baseline.counted:
        counted.append(baseline)
    withheld = {c.number for c in counted if c.number and not whole_months(project, c)}

    def part(row) -> int | None:
        day = max(timezone.localtime(row["period"]).date(), counts_from(project))
        return next((c.number for c in counted if c.starts_on <= day <= c.ends_on), None)

    parts: dict[int | None, list[int]] = {}
    for i, row in enumerate(rows):
        row["part"] = part(row)
        parts.setdefault(row["part"], []).append(i)
    hidden = [False] * len(rows)
    for key, members in parts.items():
        sizes = [rows[i].get("sent") for i in members]
        month_hidden = [True] * len(members) if key in withheld else protect(sizes)
        for i, hide in zip(members, month_hidden, strict=True):
            hidden[i] = hide
    series = [_hidden(row) if hide else suppress(row) for row, hide in zip(rows, hidden, strict=True)]
    return series, withheld


HIDDEN_KEYS = (*AGGREGATE_KEYS, *RATE_KEYS, "maturing")


def _hidden(row: dict) -> dict:
    return {**row, **dict.fromkeys(HIDDEN_KEYS), "small": True}


def indicators_per_team(qs: QuerySet[Referral], *, today: date | None = None) -> list[dict]:
    """The same indicators per receiving team (one query). Grouped by the team's id: team names are
    unique only within an organisation, so the name comes with the organisation's."""
    rows = (
        _annotated(qs, today)
        .order_by()
        .values("receiving_team_id", "receiving_team__name", "receiving_team__organisation__name")
        .annotate(**aggregates())
        .order_by("receiving_team__organisation__name", "receiving_team__name", "receiving_team_id")
    )
    return [_rates(dict(row)) for row in rows]


def sent_per_pathway(qs: QuerySet[Referral]) -> list[dict]:
    """Referrals sent per pathway, grouped by the pathway's id (only its code is unique)."""
    return list(
        qs.order_by()
        .values("pathway_id", "pathway__name", "pathway__code")
        .annotate(n=Count("pk"))
        .order_by("-n", "pathway__name", "pathway_id")
    )


def declined_by_reason(qs: QuerySet[Referral], *, today: date | None = None) -> list[dict]:
    """Declined matured referrals per reason: the same referrals as the share declined beside it."""
    return list(
        qs.filter(status=Status.REJECTED, sent_at__lt=day_start(maturity_cutoff(today)))
        .order_by()
        .values("decline_reason")
        .annotate(n=Count("pk"))
        .order_by("-n", "decline_reason")
    )


def shown(n: int | None) -> str:
    """Aggregates of fewer than five referrals are shown as '<5' so nobody can be singled out."""
    if n is None:
        return "–"
    return "<5" if 0 < n < SMALL_GROUP else str(n)


def is_small(row: dict) -> bool:
    return 0 < (row.get("sent") or 0) < SMALL_GROUP


def suppress(row: dict) -> dict:
    """A group of fewer than five referrals keeps none of its numbers: every indicator becomes None
    and `small` is set, so pages print '<5' and charts leave a gap (rates of 1 or 2 referrals would
    say what happened to an identifiable patient)."""
    if not is_small(row):
        return {**row, "small": False}
    return _hidden(row)


LABELS = {
    "sent": _("Referrals sent"),
    "acceptance_rate": _("Acceptance rate"),
    "median_days_to_acceptance": _("Median working days to acceptance"),
    "median_days_to_first_contact": _("Median working days to first contact"),
    "closed_loop_share": _("Share of loops closed with feedback"),
    "acknowledged_share": _("Share of feedback acknowledged by the sender"),
    "median_days_to_acknowledgement": _("Median working days from closure to acknowledgement"),
    "declined_share": _("Share declined"),
    "forwarded_share": _("Share forwarded or reassigned"),
    "reminders_per_referral": _("Reminders per referral"),
    "named_contact_share": _("Share to the named contact"),
}
