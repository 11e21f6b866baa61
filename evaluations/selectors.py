"""Reads for the project-lead dashboard: aggregates only, in a fixed number of queries."""

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from teams.selectors import discipline_of

from .indicators import LABELS, indicators, indicators_per_period, project_referrals
from .models import ActionItem, Cycle, ImprovementProject, MeetingFinding, ReflectionMeeting
from .runchart import analyse

CHART_INDICATORS = [
    "acceptance_rate",
    "median_days_to_acceptance",
    "closed_loop_share",
    "reminders_per_referral",
]


def projects_for(*, user) -> QuerySet[ImprovementProject]:
    """Leads and core team see their projects; researchers and admins see all (aggregates only)."""
    discipline = discipline_of(user)
    qs = ImprovementProject.objects.all()
    if not (user.is_staff or discipline == "researcher"):
        qs = qs.filter(Q(lead=user) | Q(core_team__user=user)).distinct()
    return qs.select_related("lead", "area").order_by("-starts_on", "name")


def get_project_for_user(*, user, pk: int) -> ImprovementProject:
    project = projects_for(user=user).filter(pk=pk).first()
    if project is None:
        raise Http404
    return project


def can_manage(*, user, project: ImprovementProject) -> bool:
    return user.is_staff or project.lead_id == user.pk


def dashboard(*, project: ImprovementProject, cycle_number: int | None = None) -> dict:
    cycles = list(project.cycles.order_by("number"))
    current = next((c for c in cycles if c.number == cycle_number), None) or (cycles[-1] if cycles else None)
    previous = next((c for c in cycles if current and c.number == current.number - 1), None)
    rows = []
    if current is not None:
        now = indicators(project_referrals(project, start=current.starts_on, end=current.ends_on))
        before = (
            indicators(project_referrals(project, start=previous.starts_on, end=previous.ends_on))
            if previous
            else {}
        )
        for key in [
            "sent",
            "acceptance_rate",
            "median_days_to_acceptance",
            "median_days_to_first_contact",
            "closed_loop_share",
            "declined_share",
            "forwarded_share",
            "reminders_per_referral",
            "named_contact_share",
        ]:
            rows.append(
                {
                    "key": key,
                    "label": LABELS[key],
                    "value": now.get(key),
                    "previous": before.get(key),
                    "prediction": current.predictions.get(key),
                }
            )
    series = indicators_per_period(project_referrals(project, start=project.starts_on, end=project.ends_on))
    charts = []
    for key in CHART_INDICATORS:
        values = [row[key] for row in series]
        chart = analyse(values)
        charts.append(
            {
                "key": key,
                "title": str(LABELS[key]),
                "labels": [row["period"].strftime("%Y-%m") for row in series],
                "values": values,
                "median": chart.median,
                "shift_points": sorted({i for run in chart.shifts for i in run}),
                "trend_points": sorted({i for run in chart.trends for i in run}),
                "astronomical": chart.astronomical,
                "boundaries": [c.starts_on.strftime("%Y-%m") for c in cycles],
            }
        )
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
        "charts": charts,
        "series": series,
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
        "meetings": ReflectionMeeting.objects.filter(project=project).select_related("cycle")[:10],
    }


def cycle_of(project: ImprovementProject, number: int) -> Cycle | None:
    return project.cycles.filter(number=number).first()
