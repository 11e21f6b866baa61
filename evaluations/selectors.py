"""Reads for the project-lead dashboard: aggregates only, in a fixed number of queries."""

import hashlib
from enum import IntEnum
from statistics import median

from django.contrib.postgres.aggregates import ArrayAgg
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.http import Http404
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from referrals.models import DeclineReason, ReferralTally
from teams.models import Membership
from teams.selectors import discipline_of

from .disclosure import WITHHELD, Scope, is_small, protect, share_ground
from .indicators import (
    HIDDEN_KEYS,
    LABELS,
    SMALL_GROUP,
    Baseline,
    baseline_dates,
    baseline_of,
    counts_from,
    declined_by_reason,
    first_of_month,
    indicators,
    indicators_per_team,
    maturity_cutoff,
    project_referrals,
    project_series,
    referral_scope,
    sent_per_pathway,
    shown,
    suppress,
    whole_months,
)
from .measurement_selectors import outcome_change_per_cycle, round_summaries
from .models import (
    ActionItem,
    CoreTeamMember,
    Cycle,
    ImprovementProject,
    MeetingFinding,
    Phase,
    ReflectionMeeting,
)
from .runchart import analyse

CHART_INDICATORS = [
    "acceptance_rate",
    "median_days_to_acceptance",
    "closed_loop_share",
    "acknowledged_share",
    "reminders_per_referral",
]


class Access(IntEnum):
    """What someone may do with a project: read its dashboard, take part as core team, or manage it."""

    NONE = 0
    READ = 1
    CORE = 2
    MANAGE = 3


def is_researcher(user) -> bool:
    return discipline_of(user) == "researcher"


def projects_for(*, user) -> QuerySet[ImprovementProject]:
    """Leads and core team see their projects, and so do the professionals of the participating
    organisations and teams (read-only); researchers and admins see all (aggregates only)."""
    qs = ImprovementProject.objects.all()
    if not (user.is_staff or is_researcher(user)):
        my_teams = Membership.objects.filter(user=user).values("team_id")
        my_organisations = Membership.objects.filter(user=user).values("team__organisation_id")
        qs = qs.filter(
            Q(lead=user)
            | Exists(CoreTeamMember.objects.filter(project=OuterRef("pk"), user=user))
            | Exists(
                ImprovementProject.teams.through.objects.filter(
                    improvementproject_id=OuterRef("pk"), team_id__in=my_teams
                )
            )
            | Exists(
                ImprovementProject.organisations.through.objects.filter(
                    improvementproject_id=OuterRef("pk"), organisation_id__in=my_organisations
                )
            )
        )
    return qs.select_related("lead", "area").order_by("-starts_on", "name")


def access_to(*, user, project: ImprovementProject) -> Access:
    """Call on a project from `projects_for`: everyone who got it may at least read it."""
    if can_manage(user=user, project=project):
        return Access.MANAGE
    if CoreTeamMember.objects.filter(project=project, user=user).exists():
        return Access.CORE
    return Access.READ


def get_project_for_user(*, user, pk: int, needs: Access = Access.READ) -> ImprovementProject:
    """The project if the user may see it (404 otherwise) and has at least `needs` (403 otherwise)."""
    project = projects_for(user=user).filter(pk=pk).first()
    if project is None:
        raise Http404
    if needs > Access.READ and access_to(user=user, project=project) < needs:
        raise PermissionDenied
    return project


def can_export(*, user, project: ImprovementProject) -> bool:
    """Researchers, the project lead and admins may export the project's pseudonymised data."""
    return can_manage(user=user, project=project) or is_researcher(user)


def can_manage(*, user, project: ImprovementProject) -> bool:
    return user.is_staff or project.lead_id == user.pk


def takes_part(*, user, project: ImprovementProject) -> bool:
    """The project lead (or an admin) and the core team: they keep the project up to date."""
    return can_manage(user=user, project=project) or project.core_team.filter(user=user).exists()


CHECK_INDICATORS = [
    "sent",
    "acceptance_rate",
    "median_days_to_acceptance",
    "median_days_to_first_contact",
    "closed_loop_share",
    "acknowledged_share",
    "median_days_to_acknowledgement",
    "declined_share",
    "forwarded_share",
    "reminders_per_referral",
    "named_contact_share",
]
TEAM_INDICATORS = ["sent", "acceptance_rate", "median_days_to_acceptance", "closed_loop_share"]


def _data_version() -> tuple:
    """Changes whenever the figures could: a referral, event or reminder is added (every change of a
    referral's state writes an event, append-only), or the database rewrites FiguresVersion (any write
    to the teams, pathways, projects, cycles, measurements and instruments the figures count or name).
    The ids of the database and of the version table, and the version row's random epoch, tell one
    copy of the data from another: a restored database has new ones, so it is never served a cache
    entry made from the data before the restore. The version is read before the figures: a change
    that commits meanwhile leaves newer figures under an older key, never the reverse."""
    with connection.cursor() as cursor:
        sql = (
            "SELECT (SELECT max(id) FROM referrals_referral), (SELECT max(id) FROM referrals_event), "
            "(SELECT max(id) FROM referrals_reminder), pg_postmaster_start_time(), "
            "(SELECT oid FROM pg_database WHERE datname = current_database()), "
            "'evaluations_figuresversion'::regclass::oid, "
            "(SELECT ROW(epoch, n)::text FROM evaluations_figuresversion WHERE id = 1)"
        )
        cursor.execute(sql)
        return cursor.fetchone()


def project_scopes() -> list[Scope]:
    """Every project's scope, in one query (there are tens of projects, not thousands)."""
    rows = ImprovementProject.objects.annotate(
        team_ids=ArrayAgg("teams__id", distinct=True),
        pathway_ids=ArrayAgg("pathways__id", distinct=True),
        first_cycle=Subquery(Cycle.objects.filter(project=OuterRef("pk"), number=1).values("starts_on")),
    ).values_list("pk", "starts_on", "ends_on", "team_ids", "pathway_ids", "baseline_months", "first_cycle")
    return [
        Scope(
            pk,
            start,
            end,
            frozenset(t for t in teams if t),
            frozenset(p for p in pathways if p),
            (baseline_dates(months, first) or (None,))[0],
        )
        for pk, start, end, teams, pathways, months, first in rows
    ]


def ground_shared() -> dict[int, set[int]]:
    """Per project, the other projects that could count the same referral (disclosure.share_ground).
    Looked at over all projects, not only those the reader may open: fail closed. Projects are kept
    apart when they are set up (admin); this guards the figures should two ever share ground."""
    scopes = project_scopes()
    shared: dict[int, set[int]] = {}
    for a in scopes:
        for b in scopes:
            if share_ground(a, b):
                shared.setdefault(a.pk, set()).add(b.pk)
    return shared


def shares_ground(project: ImprovementProject) -> bool:
    return project.pk in ground_shared()


NO_FIGURES = {"now": {}, "before": {}, "teams": [], "pathways": [], "reasons": [], "series": []}


def referral_aggregates(*, project: ImprovementProject, cycles: list[Cycle], current, previous) -> dict:
    """The dashboard's aggregates over the referral log, cached until the data or the project's scope
    changes (the honest way to keep a dashboard cheap at a million referrals: the first view pays).
    None at all for a project that shares ground with another (see `ground_shared`)."""
    if shares_ground(project):
        return {**NO_FIGURES, "outcome_changes": [], "shared_ground": True}
    scope = (
        project.pk,
        project.starts_on,
        project.ends_on,
        *referral_scope(project),
        project.baseline_months,
        tuple((c.number, c.starts_on, c.ends_on, c.phase) for c in cycles),
        current.number if current else None,
        previous.number if previous else None,
        maturity_cutoff(),  # which referrals have matured
    )
    key = "evaluations:aggregates:" + hashlib.sha256(repr((scope, _data_version())).encode()).hexdigest()
    cached = cache.get(key)
    if cached is not None:
        return cached
    data = {**NO_FIGURES, "shared_ground": False}
    # A withheld cycle (not whole months, indicators.project_series) shows nothing: not its Check
    # figures, not its breakdowns (they would add up to its total), not as anyone's previous cycle.
    # (Computed either way, so the page's queries do not depend on the data; then blanked.)
    data["series"], withheld = project_series(project, cycles)
    data["withheld_cycles"] = withheld

    def months_hidden(number: int) -> bool:
        return any(row.get("part") == number and row["small"] for row in data["series"])

    if current is not None:
        in_cycle = project_referrals(project, start=current.starts_on, end=current.ends_on)
        data["now"] = until_matured(indicators(in_cycle), months_hidden=months_hidden(current.number))
        data["teams"] = indicators_per_team(in_cycle)
        data["pathways"] = sent_per_pathway(in_cycle)
        data["reasons"] = declined_by_reason(in_cycle)
        if data["now"].get("maturing"):
            # A team's or a reason's referrals that mature this month are a group no page shows: their
            # outcomes would be the difference of this month's and last month's rows. Once it matures.
            data["teams"] = [waiting(row) for row in data["teams"]]  # every team: see the comment above
            data["reasons"], data["reasons_wait"] = [], True
        if current.number in withheld:
            data.update(now={}, teams=[], pathways=[], reasons=[], reasons_wait=False)
    if previous is not None:
        before = indicators(project_referrals(project, start=previous.starts_on, end=previous.ends_on))
        before = until_matured(before, months_hidden=months_hidden(previous.number))
        data["before"] = {} if previous.number in withheld else before
    data["outcome_changes"] = outcome_change_per_cycle(project=project, cycles=cycles)
    cache.set(key, data, timeout=3600)
    return data


def waiting(row: dict) -> dict:
    """Only the counts of sent, still open and too recent (`wait`: the figures come once it has matured)."""
    keep = ("sent", "still_open", "maturing", "matured")
    return {**row, **dict.fromkeys(k for k in HIDDEN_KEYS if k not in keep), "wait": True}


def until_matured(row: dict, *, months_hidden: bool) -> dict:
    """A period with referrals still to mature gains a month of them at a time (indicators.maturity_cutoff).
    When its months are shown, each such step is a month the run chart shows anyway; when they are
    hidden (one is small), the step could be a small month: then the period waits until it has matured."""
    return waiting(row) if row.get("maturing") and months_hidden else row


def periods(project: ImprovementProject, number: int | None) -> tuple[list[Cycle], object, object]:
    """The project's cycles, the period to check (cycle `number`, 0 for the baseline, or the latest
    cycle) and the period it is compared with: the cycle before, or for cycle 1 the baseline. The
    baseline takes part only once cycle 1 has left Plan (indicators.Baseline)."""
    cycles = list(project.cycles.order_by("number"))
    counts_from(project, cycles)  # (read from these cycles, not queried again)
    baseline = baseline_of(project, cycles)
    if baseline is not None and not baseline.counted:
        baseline = None
    if number == 0 and baseline is not None:
        return cycles, baseline, None
    current = next((c for c in cycles if c.number == number), None) or (cycles[-1] if cycles else None)
    if current is None:
        return cycles, None, None
    previous = next((c for c in cycles if c.number == current.number - 1), None)
    return cycles, current, previous if current.number > 1 else baseline


# Beside the indicators: how many referrals are still open, and how many are too recent to count.
MATURITY_ROWS = {
    "still_open": gettext_lazy("Still open"),
    "maturing": gettext_lazy("Too recent to count yet (sent in a month that ended less than six weeks ago)"),
}


def _maturity_counts(row: dict) -> dict:
    """Still open and too recent to count, as shown: each count with its complement (closed; matured)
    is a split of the number sent, so both are withheld when either is small (disclosure.protect)."""
    sent = row.get("sent")
    if sent is None or row.get("small"):
        return {}
    shown_counts = {}
    for key, other in (("still_open", sent - (row.get("still_open") or 0)), ("maturing", row.get("matured"))):
        if row.get(key) is None:
            continue
        hidden = protect([row[key], other])[0]
        shown_counts[key] = str(WITHHELD) if hidden else shown(row[key])
    return shown_counts


def _provisional(key: str, row: dict) -> bool:
    """Whether a figure may still change: referrals of the period too recent to count, or (for the
    acknowledgement) loops closed within the follow-up window that the sender may not have read yet."""
    return bool(row.get("maturing")) or (key in ACKNOWLEDGEMENT and bool(row.get("closed_recently")))


ACKNOWLEDGEMENT = ("acknowledged_share", "median_days_to_acknowledgement")


def check_rows(*, cycle, now: dict, before: dict, withheld: frozenset | set = frozenset()) -> list[dict]:
    """Check: the cycle's indicators next to its predictions and the previous cycle (for cycle 1: the
    baseline). `withheld`: the numbers of cycles whose figures are withheld (indicators.project_series).
    A figure of a period with referrals too recent to count is marked `maturing`: it may still change."""
    now, before = suppress(now), (suppress(before) if before else {})
    counts_now, counts_before = _maturity_counts(now), _maturity_counts(before)
    rows = []
    for key in (*CHECK_INDICATORS, *MATURITY_ROWS):
        count = key in ("sent", *MATURITY_ROWS)
        rows.append(
            {
                "key": key,
                "label": LABELS.get(key) or MATURITY_ROWS[key],
                "count": count,
                "value": counts_now.get(key) if key in MATURITY_ROWS else now.get(key),
                "small": now["small"],
                "withheld": cycle.number in withheld,
                "maturing": not count and _provisional(key, now),
                "wait": not count and now.get("wait", False),
                "previous": counts_before.get(key) if key in MATURITY_ROWS else before.get(key),
                "previous_small": before.get("small", False),
                "previous_withheld": cycle.number - 1 in withheld,
                "previous_maturing": not count and _provisional(key, before),
                "previous_wait": not count and before.get("wait", False),
                "prediction": cycle.predictions.get(key),
            }
        )
    return rows


def previous_label(cycle, previous) -> str:
    """The heading of the Check table's last column: what the period is compared with."""
    if isinstance(previous, Baseline):
        return _("Baseline")
    return _("Previous cycle") if previous is not None else _("Previous period")


def _chart(key: str, series: list[dict], cycles: list[Cycle]) -> dict:
    """One run chart. A month that has not matured has no value (indicators.maturity_cutoff: months
    mature whole), so it is a gap, never a dip the rules would flag. With a baseline, its median is the
    centre line, carried through the later months (run-chart practice), and shifts are judged against it."""
    values = [row[key] for row in series]
    in_baseline = [v for row, v in zip(series, values, strict=True) if row.get("part") == 0 and v is not None]
    centre = median(in_baseline) if in_baseline else None
    chart = analyse(values, centre=centre)
    return {
        "key": key,
        "title": str(LABELS[key]),
        "labels": [row["period"].strftime("%Y-%m") for row in series],
        "values": values,
        "median": chart.median,
        "baseline_median": centre is not None,
        "shift_points": sorted({i for run in chart.shifts for i in run}),
        "trend_points": sorted({i for run in chart.trends for i in run}),
        "astronomical": chart.astronomical,
        "boundaries": [c.starts_on.strftime("%Y-%m") for c in cycles],
    }


def _breakdown(rows: list[dict]) -> list[dict]:
    """Counts per group as shown: the number, or withheld (see disclosure.protect)."""
    hidden = protect([row["n"] for row in rows])
    return [
        {**row, "shown": str(WITHHELD) if hide else str(row["n"])}
        for row, hide in zip(rows, hidden, strict=True)
    ]


def dashboard(*, project: ImprovementProject, cycle_number: int | None = None) -> dict:
    """Everything on the project dashboard, in a number of queries that does not grow with the data.
    Groups of fewer than five referrals are suppressed everywhere (see `indicators.suppress`)."""
    cycles, current, previous = periods(project, cycle_number)
    data = referral_aggregates(project=project, cycles=cycles, current=current, previous=previous)
    if current is not None and current.phase == Phase.PLAN:
        # While the dates can still change, the cycle shows no figures: comparing them across a one-day
        # change of dates would show what happened to a single referral.
        data = {**data, "now": {}, "teams": [], "pathways": [], "reasons": [], "reasons_wait": False}
    withheld = data.get("withheld_cycles", set())
    rows = (
        check_rows(cycle=current, now=data["now"], before=data["before"], withheld=withheld)
        if current is not None
        else []
    )
    # Each breakdown below adds up to a total shown on this page: complementary suppression (disclosure.py).
    team_hidden = protect([row["sent"] for row in data["teams"]])
    teams = [
        {
            "name": row["receiving_team__name"],
            "organisation": row["receiving_team__organisation__name"],
            "withheld": hide,
            "wait": row.get("wait", False),
            "cells": [(key, None if hide else row[key]) for key in TEAM_INDICATORS],
        }
        for row, hide in zip(data["teams"], team_hidden, strict=True)
    ]
    pathways = _breakdown(data["pathways"])
    reason_labels = dict(DeclineReason.choices)
    reasons = [
        {**row, "label": reason_labels.get(row["decline_reason"], row["decline_reason"])}
        for row in _breakdown(data["reasons"])
    ]
    series = data["series"]
    charts = [_chart(key, series, cycles) for key in CHART_INDICATORS]
    tally = (
        MeetingFinding.objects.filter(meeting__project=project)
        .values("meeting__cycle__number", "kind", "category")
        .annotate(n=Count("pk"))
        .order_by("meeting__cycle__number", "kind", "category")
    )
    return {
        "project": project,
        "cycles": cycles,
        "current": current,
        "rows": rows,
        "teams": teams,
        "team_columns": [(key, LABELS[key]) for key in TEAM_INDICATORS],
        "pathways": pathways,
        "reasons": reasons,
        "charts": charts,
        "reasons_wait": data.get("reasons_wait", False),
        "baseline": baseline_of(project, cycles),
        "previous_label": previous_label(current, previous),
        "series": [
            {
                "period": row["period"],
                "withheld": row["small"],  # every small month is hidden with others (project_series)
                "maturing": bool(row.get("maturing")),
                "baseline": row.get("part") == 0,
                "cells": [row[key] for key in CHART_INDICATORS],
            }
            for row in series
        ],
        "tally": [
            {
                **row,
                "kind_label": MeetingFinding.Kind(row["kind"]).label,
                "category_label": MeetingFinding.Category(row["category"]).label,
            }
            for row in tally
        ],
        "actions": ActionItem.objects.filter(project=project, status=ActionItem.Status.OPEN)
        .select_related("owner", "cycle")
        .order_by("due_on")[:50],
        "lessons": [c for c in cycles if c.lessons][-3:],
        "rounds": round_summaries(project=project),
        "outcome_changes": data["outcome_changes"],
        "shared_ground": data.get("shared_ground", False),
        "cycle_withheld": current is not None and current.number in withheld,
        "meetings": ReflectionMeeting.objects.filter(project=project).select_related("cycle")[:10],
    }


def cycle_of(project: ImprovementProject, number: int) -> Cycle | None:
    return project.cycles.filter(number=number).first()


OVERVIEW_SUMS = ("sent", "accepted", "declined", "completed", "reminders")
OVERVIEW_COLUMNS = (*OVERVIEW_SUMS, "matured")


def _overview_rates(row: dict, *, withheld: bool = False) -> dict:
    """Headline figures from tally sums, with the dashboard's <5 rule: a small group shows nothing.
    Rounded, the count to the nearest ten and shares to the percent: an exact project total less the
    cycles' totals would give a small cycle away, and the hub's year less a project's the rest.
    `withheld`: nothing at all (the project shares ground with another). Shares are of `matured`
    referrals (see projects_overview), the count of `sent`."""
    sent = row["sent"] or 0
    small = 0 < sent < SMALL_GROUP
    matured = row.get("matured", sent) or 0

    def share(n):
        return None if withheld or small or matured < SMALL_GROUP else round(n / matured, 2)

    rates = {
        "acceptance_rate": share(row["accepted"]),
        "closed_loop_share": share(row["completed"]),
        "declined_share": share(row["declined"]),
        "reminders_per_referral": share(row["reminders"]),
    }
    if withheld:
        row, sent_shown = dict.fromkeys(row), str(WITHHELD)
    elif sent and not small:
        rounded = number_format((sent + 5) // 10 * 10, force_grouping=True)  # halves up, not to even
        row, sent_shown = dict.fromkeys(row), _("about %(n)s") % {"n": rounded}
    else:
        sent_shown = shown(sent) if sent else "0"
    return {
        **row,
        **rates,
        "small": small and not withheld,
        "withheld": withheld,
        "sent_shown": sent_shown,
        "cells": list(rates.values()),
    }


def projects_overview(*, user) -> dict:
    """All projects the user may see with their headline figures: referrals sent over the whole project
    span, shares over its cycles that have ended and matured; and the whole hub over the last twelve
    whole months. Five queries whatever the number of referrals: the sums come from the referral tally
    the database keeps in step (referrals/tally.py), a few rows per day."""
    projects = list(
        projects_for(user=user).annotate(
            current_cycle=Subquery(
                Cycle.objects.filter(project=OuterRef("pk")).order_by("-number").values("number")[:1]
            ),
            current_phase=Subquery(
                Cycle.objects.filter(project=OuterRef("pk")).order_by("-number").values("phase")[:1]
            ),
        )
    )
    teams = ImprovementProject.teams.through._meta.db_table
    pathways = ImprovementProject.pathways.through._meta.db_table
    tally = ReferralTally._meta.db_table
    # A tally row `t` in the scope of project `p` (no teams or no pathways: all of them count).
    in_scope = " AND ".join(
        f"(NOT EXISTS (SELECT 1 FROM {table} s WHERE s.improvementproject_id = p.id) "  # noqa: S608 (names)
        f"OR t.{column} IN (SELECT s.{own} FROM {table} s WHERE s.improvementproject_id = p.id))"
        for table, column, own in (
            (teams, "receiving_team_id", "team_id"),
            (pathways, "pathway_id", "pathway_id"),
        )
    )
    sums = ", ".join(f"coalesce(sum(t.{c}), 0)" for c in OVERVIEW_SUMS)
    cutoff = maturity_cutoff()
    by_pk = {p.pk: p for p in projects}
    shared = ground_shared()
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT p.id, coalesce(sum(t.sent), 0)
            FROM {ImprovementProject._meta.db_table} p
            LEFT JOIN {tally} t ON t.day BETWEEN p.starts_on AND p.ends_on AND {in_scope}
            WHERE p.id = ANY(%s)
            GROUP BY p.id""",  # noqa: S608 (table names from the models; values are parameters)
            [list(by_pk)],
        )
        sent = dict(cursor.fetchall())
        # The shares: over the cycles that have ended and matured, each whole (their Check figures are
        # on the dashboard), so they change by a cycle at a time, never by a month or a day no page shows.
        cursor.execute(
            f"""
            SELECT c.project_id, c.starts_on, c.ends_on, {sums}
            FROM {Cycle._meta.db_table} c
            JOIN {ImprovementProject._meta.db_table} p ON p.id = c.project_id
            LEFT JOIN {tally} t ON t.day BETWEEN c.starts_on AND c.ends_on AND {in_scope}
            WHERE c.project_id = ANY(%s) AND c.phase <> %s AND c.ends_on < %s
            GROUP BY c.id""",  # noqa: S608 (table names from the models; values are parameters)
            [list(by_pk), Phase.PLAN, cutoff],
        )
        counted: dict[int, dict] = {}
        for pk, starts_on, ends_on, *values in cursor.fetchall():
            cycle_sums = dict(zip(OVERVIEW_SUMS, values, strict=True))
            if is_small(cycle_sums["sent"]) or not whole_months(
                by_pk[pk], Cycle(starts_on=starts_on, ends_on=ends_on)
            ):
                continue  # (the dashboard withholds its figures as well)
            total = counted.setdefault(pk, dict.fromkeys(OVERVIEW_SUMS, 0))
            for key, value in cycle_sums.items():
                total[key] += value
        figures = {
            pk: _overview_rates(
                {
                    **counted.get(pk, dict.fromkeys(OVERVIEW_SUMS, 0)),
                    "matured": counted.get(pk, {}).get("sent", 0),
                    "sent": n,
                },
                withheld=pk in shared,
            )
            for pk, n in sent.items()
        }
        # The hub over the last twelve whole months, its shares over those that have matured.
        since = first_of_month(timezone.localdate(), -12)
        matured = ", ".join(f"coalesce(sum(t.{c}) FILTER (WHERE t.day < %s), 0)" for c in OVERVIEW_SUMS)
        cursor.execute(
            f"SELECT coalesce(sum(t.sent), 0), {matured} FROM {tally} t WHERE t.day >= %s",  # noqa: S608
            [*[cutoff] * len(OVERVIEW_SUMS), since],
        )
        total, *values = cursor.fetchone()
        hub_sums = dict(zip(OVERVIEW_SUMS, values, strict=True))
        hub = _overview_rates({**hub_sums, "matured": hub_sums["sent"], "sent": total})
    phases = dict(Phase.choices)
    rows = [
        {
            "project": p,
            "cycle": p.current_cycle,
            "phase": phases.get(p.current_phase, ""),
            **figures.get(p.pk, _overview_rates(dict.fromkeys(OVERVIEW_COLUMNS, 0))),
        }
        for p in projects
    ]
    return {"rows": rows, "hub": hub, "hub_since": since}
