"""Improvement projects run in plan-do-check-act cycles, with action items and reflection meetings.

Only aggregates of referral data are ever shown here: no patient names or ids in this app.
"""

from django.conf import settings
from django.contrib.postgres.functions import RandomUUID
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from referrals.models import Pathway
from teams.models import Area, Organisation, Team


class ImprovementProject(models.Model):
    name = models.CharField(_("name"), max_length=200)
    aim = models.TextField(_("aim"))
    aim_health = models.TextField(_("aim for health"), blank=True)
    aim_experience = models.TextField(_("aim for the experience of care"), blank=True)
    aim_cost = models.TextField(_("aim for cost"), blank=True)
    shared_vision = models.TextField(
        _("shared vision"), blank=True, help_text=_("The vision the core team agreed on, in its own words.")
    )
    area = models.ForeignKey(Area, verbose_name=_("area"), null=True, blank=True, on_delete=models.SET_NULL)
    organisations = models.ManyToManyField(
        Organisation, verbose_name=_("participating organisations"), blank=True
    )
    teams = models.ManyToManyField(Team, verbose_name=_("teams whose referrals count"), blank=True)
    pathways = models.ManyToManyField(Pathway, verbose_name=_("pathways that count"), blank=True)
    lead = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("project lead"),
        on_delete=models.PROTECT,
        related_name="led_projects",
    )
    starts_on = models.DateField(_("start"))
    ends_on = models.DateField(_("end"))
    baseline_months = models.PositiveSmallIntegerField(
        _("baseline (months before cycle 1)"),
        default=6,
        validators=[MaxValueValidator(24)],
        help_text=_(
            "The whole months before cycle 1 that its figures are compared with (0: no baseline). "
            "Fixed once cycle 1 has left its Plan phase."
        ),
    )

    class Meta:
        verbose_name = _("improvement project")
        verbose_name_plural = _("improvement projects")
        ordering = ["-starts_on", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(starts_on__lte=F("ends_on")),
                name="project_dates_in_order",
                violation_error_message=_("A project cannot end before it starts."),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class CoreTeamMember(models.Model):
    class Role(models.TextChoices):
        GP = "gp", _("GP")
        COACH = "coach", _("Well-being coach or social worker")
        MUNICIPALITY = "municipality", _("Municipal representative")
        PRACTICE_MANAGEMENT = "practice_management", _("Practice management")
        PROJECT_LEAD = "project_lead", _("Project lead")
        OTHER = "other", _("Other")

    project = models.ForeignKey(ImprovementProject, on_delete=models.CASCADE, related_name="core_team")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("person"), on_delete=models.CASCADE, related_name="+"
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    tasks = models.TextField(_("agreed tasks"), blank=True)

    class Meta:
        verbose_name = _("core team member")
        verbose_name_plural = _("core team")
        constraints = [models.UniqueConstraint(fields=["project", "user"], name="core_team_member_unique")]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()})"


class Phase(models.TextChoices):
    PLAN = "plan", pgettext_lazy("PDCA phase", "Plan")
    DO = "do", _("Do")
    CHECK = "check", _("Check")
    ACT = "act", _("Act")
    CLOSED = "closed", _("Closed")


PHASE_ORDER = [Phase.PLAN, Phase.DO, Phase.CHECK, Phase.ACT, Phase.CLOSED]


class Cycle(models.Model):
    class Decision(models.TextChoices):
        ADOPT = "adopt", _("Adopt")
        ADAPT = "adapt", _("Adapt")
        ABANDON = "abandon", _("Abandon")

    project = models.ForeignKey(ImprovementProject, on_delete=models.CASCADE, related_name="cycles")
    number = models.PositiveSmallIntegerField(_("number"))
    starts_on = models.DateField(_("start"))
    ends_on = models.DateField(_("end"))
    phase = models.CharField(_("phase"), max_length=10, choices=Phase.choices, default=Phase.PLAN)
    # Plan
    objective = models.TextField(_("objective"), blank=True)
    change_to_test = models.TextField(_("change to test"), blank=True)
    predictions = models.JSONField(_("predictions per indicator"), default=dict, blank=True)
    measures = models.TextField(_("measures"), blank=True)
    # Act
    decision = models.CharField(_("decision"), max_length=10, choices=Decision.choices, blank=True)
    rationale = models.TextField(_("rationale"), blank=True)
    lessons = models.TextField(_("lessons learned"), blank=True)

    class Meta:
        verbose_name = _("PDCA cycle")
        verbose_name_plural = _("PDCA cycles")
        ordering = ["project", "number"]
        constraints = [
            models.UniqueConstraint(fields=["project", "number"], name="cycle_number_unique_in_project"),
            models.CheckConstraint(
                condition=Q(starts_on__lte=F("ends_on")),
                name="cycle_dates_in_order",
                violation_error_message=_("A cycle cannot end before it starts."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.project} – {_('cycle')} {self.number}"


class DoLogEntry(models.Model):
    cycle = models.ForeignKey(Cycle, on_delete=models.CASCADE, related_name="do_log")
    on = models.DateField(_("date"))
    text = models.TextField(_("what happened"), max_length=4000)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("do-log entry")
        verbose_name_plural = _("do-log")
        ordering = ["on", "pk"]

    def __str__(self) -> str:
        return f"{self.on}: {self.text[:40]}"


class ActionItem(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    project = models.ForeignKey(ImprovementProject, on_delete=models.CASCADE, related_name="action_items")
    cycle = models.ForeignKey(
        Cycle, null=True, blank=True, on_delete=models.SET_NULL, related_name="action_items"
    )
    title = models.CharField(_("action"), max_length=300)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.PROTECT, related_name="+"
    )
    due_on = models.DateField(_("due on"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)

    class Meta:
        verbose_name = _("action item")
        verbose_name_plural = _("action items")
        ordering = ["due_on", "pk"]
        indexes = [models.Index(fields=["status", "due_on"], name="action_item_due_idx")]

    def __str__(self) -> str:
        return self.title


class ReflectionMeeting(models.Model):
    class Kind(models.TextChoices):
        INTERPROFESSIONAL = "interprofessional", _("Interprofessional meeting")
        WORKPLACE_VISIT = "workplace_visit", _("Workplace visit")

    project = models.ForeignKey(ImprovementProject, on_delete=models.CASCADE, related_name="meetings")
    cycle = models.ForeignKey(
        Cycle, null=True, blank=True, on_delete=models.SET_NULL, related_name="meetings"
    )
    held_on = models.DateField(_("date"))
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    participants = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("participants"), blank=True, related_name="+"
    )
    minutes = models.TextField(_("minutes"), blank=True)
    lessons = models.TextField(_("lessons learned"), blank=True)

    class Meta:
        verbose_name = _("reflection meeting")
        verbose_name_plural = _("reflection meetings")
        ordering = ["-held_on", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.held_on}"


class MeetingFinding(models.Model):
    """A barrier or facilitator named in a reflection meeting, with its category."""

    class Kind(models.TextChoices):
        BARRIER = "barrier", _("Barrier")
        FACILITATOR = "facilitator", _("Facilitator")

    class Category(models.TextChoices):
        TRUST = "trust_emotion", _("Trust and emotion")
        CULTURE = "culture", _("Culture")
        OWNERSHIP = "ownership", _("Ownership")
        ORGANISATION = "organisation", _("Organisation")
        TIME = "time", _("Time")
        MONEY = "money", _("Money")
        PRIVACY = "privacy", _("Privacy")

    meeting = models.ForeignKey(ReflectionMeeting, on_delete=models.CASCADE, related_name="findings")
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    category = models.CharField(_("category"), max_length=15, choices=Category.choices)
    text = models.CharField(_("description"), max_length=500)

    class Meta:
        verbose_name = _("barrier or facilitator")
        verbose_name_plural = _("barriers and facilitators")

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.text[:40]}"


class Export(models.Model):
    """A researcher's export of a project's pseudonymised data, built by a Celery task."""

    class Dataset(models.TextChoices):
        EVENTS = "events", _("Referral events (pseudonymised)")
        INDICATORS = "indicators", _("Indicators per month")
        MEETINGS = "meetings", _("Reflection meetings with barriers and facilitators")

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        XLSX = "xlsx", "Excel (XLSX)"

    class State(models.TextChoices):
        QUEUED = "queued", _("Waiting")
        RUNNING = "running", _("Being built")
        DONE = "done", _("Ready")
        FAILED = "failed", _("Failed")

    project = models.ForeignKey(ImprovementProject, on_delete=models.CASCADE, related_name="exports")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    dataset = models.CharField(_("data"), max_length=12, choices=Dataset.choices)
    format = models.CharField(_("format"), max_length=4, choices=Format.choices)
    state = models.CharField(_("state"), max_length=8, choices=State.choices, default=State.QUEUED)
    rows_done = models.PositiveIntegerField(default=0)
    rows_total = models.PositiveIntegerField(null=True, blank=True)
    file_name = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("export")
        verbose_name_plural = _("exports")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.project} {self.dataset}.{self.format}"

    @property
    def percent(self) -> int:
        if self.state == self.State.DONE:
            return 100
        if not self.rows_total:
            return 0
        return min(99, int(100 * self.rows_done / self.rows_total))


from .measurement_models import *  # noqa: E402, F403 - instruments and measurements live in their own module


class FiguresVersion(models.Model):
    """One row that the database itself rewrites on every change to what the dashboards count or name
    (triggers in migration 0005: teams, organisations, pathways, projects and their scope, cycles,
    outcome measurements, instruments), so the dashboard cache is never served after such a change.
    A restored or re-created database has new table ids and a new `epoch`, so it never meets a cache
    entry made from another copy of the data (selectors._data_version)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    n = models.BigIntegerField(default=0)
    epoch = models.UUIDField(db_default=RandomUUID())

    class Meta:
        verbose_name = _("figures version")
        default_permissions = ()

    def __str__(self) -> str:
        return f"{self.epoch}:{self.n}"
