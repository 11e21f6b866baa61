"""Writes of the evaluations app: a cycle moves phase by phase; Act can seed the next Plan."""

from dataclasses import replace
from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from .disclosure import Scope, share_ground
from .indicators import LABELS, baseline_dates, whole_months
from .models import (
    PHASE_ORDER,
    ActionItem,
    Cycle,
    DoLogEntry,
    Export,
    ImprovementProject,
    MeetingFinding,
    Phase,
    ReflectionMeeting,
)
from .selectors import can_export, can_manage, is_researcher, project_scopes, takes_part
from .tasks import build_export


def _in_phase(cycle: Cycle, *phases: str) -> None:
    """Refuse a change that belongs to another phase, naming the phase the cycle is in."""
    if cycle.phase not in phases:
        raise ValidationError(
            _("Cycle %(number)s is in its %(phase)s phase; this cannot be changed now.")
            % {"number": cycle.number, "phase": cycle.get_phase_display()}
        )


# A cycle long enough that its figures describe groups, not the one referral of a given day.
MIN_CYCLE_DAYS = 28
MAX_CYCLE_DAYS = 366


def _check_dates(project, starts_on, ends_on, *, exclude=None, number=None) -> None:
    """No cycle shorter than four weeks, and no overlap with the project's other cycles: moving an end
    date by a day and comparing the figures would otherwise show what happened to one referral."""
    if ends_on < starts_on:
        raise ValidationError(_("A cycle cannot end before it starts."))
    if starts_on < project.starts_on:
        raise ValidationError(
            _("A cycle starts within the project, on or after %(start)s.")
            % {"start": date_format(project.starts_on, "SHORT_DATE_FORMAT")}
        )
    if ends_on > project.ends_on:
        raise ValidationError(
            _("A cycle ends within the project, on or before %(end)s.")
            % {"end": date_format(project.ends_on, "SHORT_DATE_FORMAT")}
        )
    if not whole_months(project, Cycle(starts_on=starts_on, ends_on=ends_on)):
        # A cycle's total and the run chart's months then cover the same days: the difference of a
        # cycle and its months would otherwise be the referrals of a few days at its edges.
        raise ValidationError(
            _(
                "A cycle runs in whole months: it starts on the first of a month (or on the project's "
                "start) and ends on the last day of a month (or on the project's end)."
            )
        )
    if (ends_on - starts_on).days > MAX_CYCLE_DAYS:
        raise ValidationError(_("A cycle lasts at most a year."))
    earlier = project.cycles.exclude(pk=exclude).filter(starts_on__gt=ends_on)
    if number is not None and earlier.filter(number__lt=number).exists():
        raise ValidationError(_("A cycle cannot lie before the cycles that came before it."))
    if (ends_on - starts_on).days + 1 < MIN_CYCLE_DAYS:
        raise ValidationError(
            _("A cycle lasts at least %(days)d days, so that its figures describe groups of referrals.")
            % {"days": MIN_CYCLE_DAYS}
        )
    overlap = (
        project.cycles.exclude(pk=exclude)
        .filter(starts_on__lte=ends_on, ends_on__gte=starts_on)
        .order_by("number")
        .first()
    )
    if overlap is not None:
        raise ValidationError(
            _("Cycles do not overlap: cycle %(number)s runs from %(start)s to %(end)s.")
            % {
                "number": overlap.number,
                "start": date_format(overlap.starts_on, "SHORT_DATE_FORMAT"),
                "end": date_format(overlap.ends_on, "SHORT_DATE_FORMAT"),
            }
        )


EARLIEST, LATEST = date(2000, 1, 1), date(2100, 12, 31)


def check_project_scope(scope: Scope, *, today=None) -> None:
    """A project's scope and period, before they are saved (docs/privacy-aggregates.md):
    - no other project may count the same referrals (disclosure.share_ground): two totals that differ
      by one team, one pathway or a few days would tell that group's figures by subtraction;
    - a date that has passed is fixed, and no date moves into the past: moving the end of a finished
      project by a day would show what happened that day;
    - once started, its teams and pathways are fixed (one team less would tell that team's figures);
    - its dates hold its cycles, which run in whole months."""
    today = today or timezone.localdate()
    scopes = {s.pk: s for s in project_scopes()}
    before = scopes.get(scope.pk)  # as saved: None for a new project
    if scope.ends_on < scope.starts_on:
        raise ValidationError(_("A project cannot end before it starts."))
    if before is not None:
        for old, new, message in (
            (
                before.starts_on,
                scope.starts_on,
                _("The project's start can no longer move to or from a day that has passed (%(old)s)."),
            ),
            (
                before.ends_on,
                scope.ends_on,
                _("The project's end can no longer move to or from a day that has passed (%(old)s)."),
            ),
        ):
            if old != new and (old <= today or new <= today):
                raise ValidationError(message % {"old": date_format(old, "SHORT_DATE_FORMAT")})
    moved = before is None or (before.starts_on, before.ends_on) != (scope.starts_on, scope.ends_on)
    if moved and (scope.starts_on < EARLIEST or scope.ends_on > LATEST):
        raise ValidationError(
            _("A project runs between %(earliest)s and %(latest)s.")
            % {"earliest": EARLIEST.year, "latest": LATEST.year}
        )
    if (
        before is not None
        and before.baseline_from != scope.baseline_from
        and Cycle.objects.filter(project_id=scope.pk, number=1).exclude(phase=Phase.PLAN).exists()
    ):
        # Cycle 1 has been compared with it: moving it now would choose the comparison after the fact.
        raise ValidationError(_("The baseline is fixed once cycle 1 has left its Plan phase."))
    started = before is not None and before.starts_on <= today
    if started and (before.teams, before.pathways) != (scope.teams, scope.pathways):
        # One team more or less after the start would tell that team's figures by subtraction.
        raise ValidationError(
            _(
                "The teams and pathways of a project that has started are fixed. For other teams or "
                "pathways, start a new project after this one."
            )
        )
    if scope.pk is not None and moved:  # (a project with older cycles can still be renamed)
        for cycle in Cycle.objects.filter(project_id=scope.pk).order_by("number"):
            inside = scope.starts_on <= cycle.starts_on and cycle.ends_on <= scope.ends_on
            if not inside or not whole_months(scope, cycle):
                raise ValidationError(
                    _(
                        "Cycle %(number)s runs from %(start)s to %(end)s: the project's dates must hold "
                        "its cycles, which run in whole months."
                    )
                    % {
                        "number": cycle.number,
                        "start": date_format(cycle.starts_on, "SHORT_DATE_FORMAT"),
                        "end": date_format(cycle.ends_on, "SHORT_DATE_FORMAT"),
                    }
                )
    shared = sorted(pk for pk, other in scopes.items() if share_ground(scope, other))
    if shared:
        names = (
            ImprovementProject.objects.filter(pk__in=shared).order_by("name").values_list("name", flat=True)
        )
        raise ValidationError(
            _(
                "This project would count referrals that %(projects)s counts as well (the same teams and "
                "pathways in an overlapping period). Choose other teams or pathways, or a period after "
                "it; or make this a cycle of that project."
            )
            % {"projects": ", ".join(names)}
        )


def _check_baseline(project, first_cycle_starts_on: date) -> None:
    """Cycle 1's start sets the baseline's months (indicators.Baseline): they must not count referrals
    another project counts (check_project_scope). The lead is told that, not which project: other
    projects' scopes are an administrator's business."""
    saved = next(s for s in project_scopes() if s.pk == project.pk)
    dates = baseline_dates(project.baseline_months, first_cycle_starts_on)
    try:
        check_project_scope(replace(saved, baseline_from=dates[0] if dates else None))
    except ValidationError as error:
        raise ValidationError(
            _(
                "The %(months)s months before this cycle, its baseline, would count referrals that another "
                "project counts. Start cycle 1 later, or ask an administrator to shorten the baseline."
            )
            % {"months": project.baseline_months}
        ) from error


@transaction.atomic
def cycle_create_first(*, project, by, starts_on, ends_on) -> Cycle:
    if not can_manage(user=by, project=project):
        raise ValidationError(_("Only the project lead can start a new cycle."))
    if project.cycles.exists():
        raise ValidationError(_("This project already has a cycle; plan the next one from its Act phase."))
    _check_dates(project, starts_on, ends_on)
    _check_baseline(project, starts_on)
    return Cycle.objects.create(project=project, number=1, starts_on=starts_on, ends_on=ends_on)


@transaction.atomic
def cycle_plan_update(
    *,
    cycle: Cycle,
    by,
    objective: str,
    change_to_test: str,
    measures: str,
    predictions: dict,
    starts_on,
    ends_on,
) -> Cycle:
    """Plan: objective, change to test, measures and a numeric prediction per indicator."""
    if not can_manage(user=by, project=cycle.project):
        raise ValidationError(_("Only the project lead can change the plan."))
    cycle = Cycle.objects.select_for_update().get(pk=cycle.pk)
    _in_phase(cycle, Phase.PLAN)
    unknown = set(predictions) - set(LABELS)
    if unknown:
        raise ValidationError(_("Unknown indicator: %(name)s") % {"name": sorted(unknown)[0]})
    _check_dates(cycle.project, starts_on, ends_on, exclude=cycle.pk, number=cycle.number)
    if cycle.number == 1 and starts_on != cycle.starts_on:
        _check_baseline(cycle.project, starts_on)
    cycle.objective = objective.strip()
    cycle.change_to_test = change_to_test.strip()
    cycle.measures = measures.strip()
    cycle.predictions = {key: float(value) for key, value in predictions.items() if value is not None}
    cycle.starts_on, cycle.ends_on = starts_on, ends_on
    cycle.save(
        update_fields=["objective", "change_to_test", "measures", "predictions", "starts_on", "ends_on"]
    )
    return cycle


@transaction.atomic
def cycle_do_log_add(*, cycle: Cycle, by, on, text: str) -> DoLogEntry:
    """Do: a dated entry of what happened while the change was tried."""
    if not takes_part(user=by, project=cycle.project):
        raise ValidationError(_("Only the project lead and the core team can write in the do-log."))
    _in_phase(Cycle.objects.get(pk=cycle.pk), Phase.DO, Phase.CHECK)
    if not text.strip():
        raise ValidationError(_("Write what happened."))
    return DoLogEntry.objects.create(cycle=cycle, on=on, text=text.strip(), author=by)


@transaction.atomic
def cycle_act_record(*, cycle: Cycle, by, decision: str, rationale: str, lessons: str) -> Cycle:
    """Act: adopt, adapt or abandon the change, why, and what was learned."""
    if not can_manage(user=by, project=cycle.project):
        raise ValidationError(_("Only the project lead can record the decision."))
    cycle = Cycle.objects.select_for_update().get(pk=cycle.pk)
    _in_phase(cycle, Phase.ACT)
    if decision not in Cycle.Decision.values:
        raise ValidationError(_("Choose adopt, adapt or abandon."))
    cycle.decision, cycle.rationale, cycle.lessons = decision, rationale.strip(), lessons.strip()
    cycle.save(update_fields=["decision", "rationale", "lessons"])
    return cycle


def _may_own(user, project) -> bool:
    return project.lead_id == user.pk or project.core_team.filter(user=user).exists()


@transaction.atomic
def action_item_create(*, project, by, title: str, owner, due_on, cycle: Cycle | None = None) -> ActionItem:
    if not takes_part(user=by, project=project):
        raise ValidationError(_("Only the project lead and the core team can add action items."))
    if not _may_own(owner, project):
        raise ValidationError(_("The owner must be the project lead or a member of the core team."))
    if cycle is not None and cycle.project_id != project.pk:
        raise ValidationError(_("Choose a cycle of this project."))
    if not title.strip():
        raise ValidationError(_("Say what needs to be done."))
    item = ActionItem.objects.create(
        project=project, cycle=cycle, title=title.strip(), owner=owner, due_on=due_on
    )
    if owner.pk != by.pk:
        from .reminders import tell_assigned

        tell_assigned(item, by=by)
    return item


@transaction.atomic
def action_item_close(*, item: ActionItem, by, status: str) -> ActionItem:
    """Mark an open action item done or cancelled (its owner or the project lead)."""
    if not (item.owner_id == by.pk or can_manage(user=by, project=item.project)):
        raise ValidationError(_("Only the owner or the project lead can close this action item."))
    if status not in (ActionItem.Status.DONE, ActionItem.Status.CANCELLED):
        raise ValidationError(_("Choose done or cancelled."))
    if ActionItem.objects.filter(pk=item.pk, status=ActionItem.Status.OPEN).update(status=status) != 1:
        raise ValidationError(_("This action item was already closed."))
    item.refresh_from_db()
    return item


@transaction.atomic
def cycle_advance(*, cycle: Cycle, by) -> Cycle:
    """Plan → Do → Check → Act → Closed, one step at a time, with what each step needs filled in."""
    if not can_manage(user=by, project=cycle.project):
        raise ValidationError(_("Only the project lead can move a cycle to its next phase."))
    if cycle.phase == Phase.CLOSED:
        raise ValidationError(_("This cycle is closed."))
    if cycle.phase == Phase.PLAN and not (cycle.objective.strip() and cycle.change_to_test.strip()):
        raise ValidationError(_("Write the objective and the change to test before you start doing."))
    if cycle.phase == Phase.ACT and not cycle.decision:
        raise ValidationError(_("Decide to adopt, adapt or abandon the change before closing the cycle."))
    following = PHASE_ORDER[PHASE_ORDER.index(cycle.phase) + 1]
    # Conditional: two clicks move the cycle one phase, not two.
    if Cycle.objects.filter(pk=cycle.pk, phase=cycle.phase).update(phase=following) != 1:
        raise ValidationError(_("This cycle moved on in the meantime; reload the page."))
    cycle.refresh_from_db()
    return cycle


@transaction.atomic
def cycle_start_next(*, cycle: Cycle, by, starts_on, ends_on) -> Cycle:
    """Open the next cycle; its Plan starts from this cycle's Act (decision, lessons, predictions)."""
    if not can_manage(user=by, project=cycle.project):
        raise ValidationError(_("Only the project lead can start a new cycle."))
    if cycle.phase not in (Phase.ACT, Phase.CLOSED) or not cycle.decision:
        raise ValidationError(_("Finish Act (with a decision) before planning the next cycle."))
    if starts_on < cycle.starts_on:
        raise ValidationError(_("The next cycle cannot start before this one."))
    _check_dates(cycle.project, starts_on, ends_on)
    if Cycle.objects.filter(project=cycle.project, number=cycle.number + 1).exists():
        raise ValidationError(_("The next cycle has already been planned."))
    keep_change = cycle.decision in (Cycle.Decision.ADOPT, Cycle.Decision.ADAPT)
    return Cycle.objects.create(
        project=cycle.project,
        number=cycle.number + 1,
        starts_on=starts_on,
        ends_on=ends_on,
        objective=cycle.objective if keep_change else "",
        change_to_test=cycle.change_to_test if keep_change else "",
        predictions=dict(cycle.predictions),
        measures=cycle.measures,
        rationale="",
        lessons="",
    )


@transaction.atomic
def meeting_record(
    *,
    project,
    by,
    held_on,
    kind: str,
    cycle=None,
    minutes: str = "",
    lessons: str = "",
    findings: list[tuple[str, str, str]] = (),
) -> ReflectionMeeting:
    """Record a reflection meeting with its barriers and facilitators (kind, category, text)."""
    if not takes_part(user=by, project=project):
        raise ValidationError(_("Only the project lead and the core team can record meetings."))
    if cycle is not None and cycle.project_id != project.pk:
        raise ValidationError(_("Choose a cycle of this project."))
    meeting = ReflectionMeeting.objects.create(
        project=project, cycle=cycle, held_on=held_on, kind=kind, minutes=minutes, lessons=lessons
    )
    for finding_kind, category, text in findings:
        if text.strip():
            MeetingFinding.objects.create(
                meeting=meeting, kind=finding_kind, category=category, text=text.strip()
            )
    return meeting


@transaction.atomic
def export_request(*, project, by, dataset: str, format: str) -> Export:
    """Queue an export; a worker builds the file after this transaction commits."""
    if not can_export(user=by, project=project):
        raise ValidationError(_("Only researchers and the project lead can export this project's data."))
    if dataset not in Export.Dataset.values or format not in Export.Format.values:
        raise ValidationError(_("Choose what to export and in which format."))
    if dataset == Export.Dataset.EVENTS and not is_researcher(by):
        # Record-level rows would undo every '<5' on the dashboard for whoever can read both.
        raise ValidationError(_("The referral events, row by row, are for researchers only."))
    export = Export.objects.create(project=project, requested_by=by, dataset=dataset, format=format)
    build_export.delay_on_commit(export.pk)
    return export
