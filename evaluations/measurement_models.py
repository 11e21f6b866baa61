"""Measurement instruments and what is measured with them (imported by models.py).

- An instrument (a questionnaire, the Self-Sufficiency Matrix, Positive Health) has versions; a version
  has dimensions and items. Answers keep the version they were given under, so an instrument can change
  without changing old results.
- Professionals answer the collaboration-quality questionnaire in measurement rounds of a project.
  Responses carry no user: who answered is kept apart (an invitation is marked answered in the same
  transaction), so nobody can link an answer to a person. Aggregates need at least five responses.
- Outcome measurements (ZRM, Positive Health) belong to a patient and are read through the patient's
  access helper only.
- The effects calculator prices what happened with support and what would have happened without it.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from patients.models import Patient

from .models import ImprovementProject


class Instrument(models.Model):
    class Purpose(models.TextChoices):
        PROFESSIONALS = "professionals", _("Questionnaire for professionals")
        PATIENT_OUTCOME = "patient_outcome", _("Outcome measurement per patient")

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    purpose = models.CharField(_("purpose"), max_length=20, choices=Purpose.choices)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        verbose_name = _("instrument")
        verbose_name_plural = _("instruments")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def current_version(self) -> "InstrumentVersion | None":
        return self.versions.filter(published=True).order_by("-number").first()


class InstrumentVersion(models.Model):
    instrument = models.ForeignKey(Instrument, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveSmallIntegerField(_("version"))
    published = models.BooleanField(_("published"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("instrument version")
        verbose_name_plural = _("instrument versions")
        ordering = ["instrument", "number"]
        constraints = [
            models.UniqueConstraint(fields=["instrument", "number"], name="instrument_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.instrument} v{self.number}"


class Dimension(models.Model):
    class Scoring(models.TextChoices):
        MEAN = "mean", _("Mean of the answered items")
        SUM = "sum", _("Sum of the answered items")

    version = models.ForeignKey(InstrumentVersion, on_delete=models.CASCADE, related_name="dimensions")
    code = models.SlugField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=200)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    scoring = models.CharField(_("scoring"), max_length=4, choices=Scoring.choices, default=Scoring.MEAN)
    min_answered = models.PositiveSmallIntegerField(
        _("minimum answered items"),
        default=1,
        help_text=_("Fewer answered items: no score for this dimension."),
    )

    class Meta:
        verbose_name = _("dimension")
        verbose_name_plural = _("dimensions")
        ordering = ["version", "order", "pk"]
        constraints = [models.UniqueConstraint(fields=["version", "code"], name="dimension_code_unique")]

    def __str__(self) -> str:
        return self.name


class Scale(models.TextChoices):
    LIKERT_5 = "likert5", _("Likert 1–5")
    ZERO_TEN = "0_10", _("0–10")
    LEVEL_1_5 = "level1_5", _("Level 1–5")
    YES_NO = "yes_no", _("Yes/no")
    TEXT = "text", _("Free text")


SCALE_RANGE = {Scale.LIKERT_5: (1, 5), Scale.ZERO_TEN: (0, 10), Scale.LEVEL_1_5: (1, 5), Scale.YES_NO: (0, 1)}


class Item(models.Model):
    version = models.ForeignKey(InstrumentVersion, on_delete=models.CASCADE, related_name="items")
    dimension = models.ForeignKey(
        Dimension,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="items",
        verbose_name=_("dimension"),
    )
    code = models.SlugField(_("code"), max_length=40)
    text = models.CharField(_("text"), max_length=500)
    help_text = models.CharField(_("explanation"), max_length=500, blank=True)
    scale = models.CharField(_("scale"), max_length=10, choices=Scale.choices)
    reverse = models.BooleanField(_("reverse scored"), default=False)
    required = models.BooleanField(_("required"), default=False)
    labels = models.JSONField(
        _("answer labels"), default=list, blank=True, help_text=_("Names of the answer levels, lowest first.")
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("item")
        verbose_name_plural = _("items")
        ordering = ["version", "order", "pk"]
        constraints = [models.UniqueConstraint(fields=["version", "code"], name="item_code_unique")]

    def __str__(self) -> str:
        return self.text[:60]


class MeasurementRound(models.Model):
    """A baseline or follow-up round of the professionals' questionnaire in a project."""

    class Moment(models.TextChoices):
        BASELINE = "baseline", _("Baseline")
        FOLLOW_UP = "follow_up", _("Follow-up")

    class State(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    project = models.ForeignKey(ImprovementProject, on_delete=models.CASCADE, related_name="rounds")
    version = models.ForeignKey(InstrumentVersion, on_delete=models.PROTECT, related_name="+")
    moment = models.CharField(_("moment"), max_length=10, choices=Moment.choices)
    after_cycle = models.PositiveSmallIntegerField(_("after cycle"), null=True, blank=True)
    opens_on = models.DateField(_("opens on"))
    closes_on = models.DateField(_("closes on"))
    state = models.CharField(_("state"), max_length=6, choices=State.choices, default=State.OPEN)
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("measurement round")
        verbose_name_plural = _("measurement rounds")
        ordering = ["project", "opens_on", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(opens_on__lte=F("closes_on")),
                name="round_dates_in_order",
                violation_error_message=_("A round cannot close before it opens."),
            )
        ]

    def __str__(self) -> str:
        if self.after_cycle:
            return _("%(moment)s after cycle %(n)s") % {
                "moment": self.get_moment_display(),
                "n": self.after_cycle,
            }
        return str(self.get_moment_display())


class RoundInvitation(models.Model):
    """Who was asked and whether they answered — never what they answered."""

    round = models.ForeignKey(MeasurementRound, on_delete=models.CASCADE, related_name="invitations")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    invited_at = models.DateTimeField(auto_now_add=True)
    answered = models.BooleanField(default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["round", "user"], name="invitation_once_per_round")]

    def __str__(self) -> str:
        return f"{self.round_id}/{self.user_id}"


class Response(models.Model):
    """An anonymous answer to a round: no user, and only the day it came in."""

    round = models.ForeignKey(MeasurementRound, on_delete=models.CASCADE, related_name="responses")
    version = models.ForeignKey(InstrumentVersion, on_delete=models.PROTECT, related_name="+")
    answers = models.JSONField(default=dict)
    scores = models.JSONField(default=dict)
    received_on = models.DateField()

    def __str__(self) -> str:
        return f"{self.round_id} {self.received_on}"


class OutcomeMeasurement(models.Model):
    """A ZRM or Positive Health measurement of one patient (item code → level or score)."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="outcome_measurements")
    version = models.ForeignKey(InstrumentVersion, on_delete=models.PROTECT, related_name="+")
    measured_on = models.DateField(_("date"))
    values = models.JSONField(default=dict)
    self_report = models.BooleanField(_("self-report by the patient"), default=False)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_by_organisation_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("outcome measurement")
        verbose_name_plural = _("outcome measurements")
        ordering = ["patient", "measured_on", "pk"]
        indexes = [models.Index(fields=["patient", "version", "measured_on"], name="outcome_patient_idx")]

    def __str__(self) -> str:
        return f"{self.version} {self.measured_on}"


class UnitPrice(models.Model):
    """A price per unit of an activity or event, with its source and year (effects calculator)."""

    class Party(models.TextChoices):
        HEALTHCARE = "healthcare", _("Healthcare")
        MUNICIPALITY = "municipality", _("Municipality")
        PERSON = "person", _("The person")

    name = models.CharField(_("activity or event"), max_length=200)
    unit = models.CharField(_("unit"), max_length=50)
    price = models.DecimalField(
        _("price (€)"), max_digits=10, decimal_places=2, validators=[MinValueValidator(0)]
    )
    party = models.CharField(_("paid by"), max_length=15, choices=Party.choices)
    source = models.CharField(_("source"), max_length=300)
    year = models.PositiveSmallIntegerField(
        _("year"), validators=[MinValueValidator(2000), MaxValueValidator(2100)]
    )

    class Meta:
        verbose_name = _("unit price")
        verbose_name_plural = _("unit prices")
        ordering = ["party", "name"]

    def __str__(self) -> str:
        return f"{self.name} (€ {self.price} / {self.unit}, {self.year})"


class EffectCase(models.Model):
    project = models.ForeignKey(ImprovementProject, on_delete=models.CASCADE, related_name="effect_cases")
    label = models.CharField(_("case"), max_length=40, help_text=_("A pseudonymous label, never a name."))
    summary = models.TextField(_("summary"), blank=True)

    class Meta:
        verbose_name = _("effects case")
        verbose_name_plural = _("effects cases")
        constraints = [models.UniqueConstraint(fields=["project", "label"], name="effect_case_label_unique")]

    def __str__(self) -> str:
        return self.label


class CaseActivity(models.Model):
    class Scenario(models.TextChoices):
        WITH_SUPPORT = "with", _("With support")
        WITHOUT_SUPPORT = "without", _("Without support (reference)")

    case = models.ForeignKey(EffectCase, on_delete=models.CASCADE, related_name="activities")
    scenario = models.CharField(_("scenario"), max_length=8, choices=Scenario.choices)
    price = models.ForeignKey(UnitPrice, on_delete=models.PROTECT, verbose_name=_("activity"))
    quantity = models.DecimalField(
        _("quantity"), max_digits=8, decimal_places=2, validators=[MinValueValidator(0)]
    )
    month = models.PositiveSmallIntegerField(_("month on the timeline"), default=1)

    class Meta:
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        ordering = ["case", "scenario", "month", "pk"]

    def __str__(self) -> str:
        return f"{self.case} {self.scenario} {self.price.name} × {self.quantity}"
