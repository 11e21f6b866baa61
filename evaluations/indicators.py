"""Indicators of the referral loop, computed in the database (aggregates, never per-row Python).

A referral counts in the period in which it was sent; what happens to it afterwards (acceptance,
first contact, closure) is credited to that period, so a referral that crosses a cycle boundary
belongs to the cycle it was sent in.
"""

from calendar import monthrange
from datetime import date, timedelta

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
from referrals.models import Event, Referral, Reminder, Status

SECONDS_PER_DAY = 86400.0
SMALL_GROUP = 5


class Median(Aggregate):
    """PERCENTILE_CONT(0.5): the median, interpolated between the two middle values for even counts."""

    function = "PERCENTILE_CONT"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


class Days(Func):
    """The length of an interval in days, as a fraction."""

    template = f"(EXTRACT(EPOCH FROM %(expressions)s) / {SECONDS_PER_DAY})"
    output_field = FloatField()


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


def project_referrals(project, *, start: date, end: date) -> QuerySet[Referral]:
    """The project's referrals sent from `start` to `end`, never outside the project's own period (a
    cycle reaching past it would count referrals no figure of the project accounts for)."""
    start, end = max(start, project.starts_on), min(end, project.ends_on, date.max - timedelta(days=1))
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


def _annotated(qs: QuerySet[Referral]) -> QuerySet[Referral]:
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
    return qs.annotate(
        n_reminders=Coalesce(Subquery(reminders, output_field=IntegerField()), Value(0)),
        was_forwarded=ExpressionWrapper(Q(pk__in=forwarded), output_field=BooleanField()),
    )


AGGREGATES = {
    "sent": Count("pk"),
    "accepted": Count("pk", filter=Q(accepted_at__isnull=False)),
    "declined": Count("pk", filter=Q(status=Status.REJECTED)),
    "forwarded": Count("pk", filter=Q(was_forwarded=True)),
    "closed_with_feedback": Count("pk", filter=Q(status=Status.COMPLETED)),
    "to_named_contact": Count(
        "pk", filter=Q(assigned_via__in=["contact", "deputy"]) & Q(was_forwarded=False)
    ),
    "reminders": Coalesce(Sum("n_reminders"), Value(0)),
    "median_days_to_acceptance": Median(
        Days(F("accepted_at") - F("sent_at")), filter=Q(accepted_at__isnull=False)
    ),
    "median_days_to_first_contact": Median(
        Days(F("first_contact_at") - F("sent_at")), filter=Q(first_contact_at__isnull=False)
    ),
}


RATE_KEYS = (
    "acceptance_rate",
    "closed_loop_share",
    "declined_share",
    "forwarded_share",
    "named_contact_share",
    "reminders_per_referral",
)


def _rates(row: dict) -> dict:
    sent = row["sent"] or 0

    def share(n):
        return round(n / sent, 4) if sent else None

    return {
        **row,
        "acceptance_rate": share(row["accepted"]),
        "closed_loop_share": share(row["closed_with_feedback"]),
        "declined_share": share(row["declined"]),
        "forwarded_share": share(row["forwarded"]),
        "named_contact_share": share(row["to_named_contact"]),
        "reminders_per_referral": round(row["reminders"] / sent, 2) if sent else None,
    }


def indicators(qs: QuerySet[Referral]) -> dict:
    """All indicators over one set of referrals, in a single query."""
    return _rates(_annotated(qs).aggregate(**AGGREGATES))


def indicators_per_period(qs: QuerySet[Referral], *, period: str = "month") -> list[dict]:
    """The same indicators per week or month of sending, oldest first (one query)."""
    trunc = TruncMonth if period == "month" else TruncWeek
    rows = (
        _annotated(qs)
        .annotate(period=trunc("sent_at"))
        .order_by()
        .values("period")
        .annotate(**AGGREGATES)
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


def project_series(project, cycles=None) -> tuple[list[dict], set[int]]:
    """The project's indicators per month over its whole span, and the cycles whose figures are
    withheld. The months of a cycle are the parts of the cycle's total (its Check table shows it), the
    months outside cycles those of the rest: when one month of a group is under five, every month of
    that group is withheld (disclosure.protect), so no shown total less its shown months gives a month
    away. The project's own total is shown only rounded (the overview), so the cycles need no such rule.

    The months of a cycle in Plan count with those outside cycles (its dates may still move). Since a
    group with a small month is withheld whole, a small month is hidden in every grouping, and moving
    months between groups (a cycle starting Do) shows nothing a group's total did not. A cycle that does
    not run in whole months inside the project (made before these rules) is withheld whole: its total
    and its months disagree."""
    from .disclosure import protect
    from .models import Phase

    rows = indicators_per_period(project_referrals(project, start=project.starts_on, end=project.ends_on))
    cycles = list(project.cycles.all()) if cycles is None else cycles
    counted = [c for c in cycles if c.phase != Phase.PLAN]
    withheld = {c.number for c in counted if not whole_months(project, c)}

    def part(row) -> int | None:
        day = max(timezone.localtime(row["period"]).date(), project.starts_on)
        return next((c.number for c in counted if c.starts_on <= day <= c.ends_on), None)

    parts: dict[int | None, list[int]] = {}
    for i, row in enumerate(rows):
        parts.setdefault(part(row), []).append(i)
    hidden = [False] * len(rows)
    for key, members in parts.items():
        sizes = [rows[i].get("sent") for i in members]
        month_hidden = [True] * len(members) if key in withheld else protect(sizes)
        for i, hide in zip(members, month_hidden, strict=True):
            hidden[i] = hide
    series = [_hidden(row) if hide else suppress(row) for row, hide in zip(rows, hidden, strict=True)]
    return series, withheld


def _hidden(row: dict) -> dict:
    return {**row, **dict.fromkeys((*AGGREGATES, *RATE_KEYS)), "small": True}


def indicators_per_team(qs: QuerySet[Referral]) -> list[dict]:
    """The same indicators per receiving team, by team name (one query)."""
    rows = (
        _annotated(qs)
        .order_by()
        .values("receiving_team__name")
        .annotate(**AGGREGATES)
        .order_by("receiving_team__name")
    )
    return [_rates(dict(row)) for row in rows]


def sent_per_pathway(qs: QuerySet[Referral]) -> list[dict]:
    return list(qs.order_by().values("pathway__name").annotate(n=Count("pk")).order_by("-n", "pathway__name"))


def declined_by_reason(qs: QuerySet[Referral]) -> list[dict]:
    return list(
        qs.filter(status=Status.REJECTED)
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
    hidden = dict.fromkeys((*AGGREGATES, *RATE_KEYS))
    return {**row, **hidden, "small": True}


LABELS = {
    "sent": _("Referrals sent"),
    "acceptance_rate": _("Acceptance rate"),
    "median_days_to_acceptance": _("Median days to acceptance"),
    "median_days_to_first_contact": _("Median days to first contact"),
    "closed_loop_share": _("Share of loops closed with feedback"),
    "declined_share": _("Share declined"),
    "forwarded_share": _("Share forwarded or reassigned"),
    "reminders_per_referral": _("Reminders per referral"),
    "named_contact_share": _("Share to the named contact"),
}
