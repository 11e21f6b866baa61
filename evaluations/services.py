"""Writes of the evaluations app: a cycle moves phase by phase; Act can seed the next Plan."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from .models import PHASE_ORDER, Cycle, MeetingFinding, Phase, ReflectionMeeting


def _can_manage(user, project) -> bool:
    return user.is_staff or project.lead_id == user.pk


@transaction.atomic
def cycle_advance(*, cycle: Cycle, by) -> Cycle:
    """Plan → Do → Check → Act → Closed, one step at a time, with what each step needs filled in."""
    if not _can_manage(by, cycle.project):
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
    if not _can_manage(by, cycle.project):
        raise ValidationError(_("Only the project lead can start a new cycle."))
    if cycle.phase not in (Phase.ACT, Phase.CLOSED) or not cycle.decision:
        raise ValidationError(_("Finish Act (with a decision) before planning the next cycle."))
    if starts_on < cycle.starts_on:
        raise ValidationError(_("The next cycle cannot start before this one."))
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
    if not (_can_manage(by, project) or project.core_team.filter(user=by).exists()):
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
