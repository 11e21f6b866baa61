"""Areas, organisations, teams, people, named contacts, consultation hours and the social map."""

import re
import uuid
from datetime import date, timedelta

from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import ArrayField, DateRangeField, RangeOperators
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Func, Q
from django.utils.translation import gettext_lazy as _

from .choices import Discipline, LifeDomain, Weekday

agb_validator = RegexValidator(r"^\d{8}$", _("An AGB code has exactly 8 digits."), code="invalid_agb")
POSTCODE_RE = re.compile(r"^\s*([1-9]\d{3})\s*([A-Za-z]{2})?\s*$")
postcode_validator = RegexValidator(
    POSTCODE_RE, _("Enter a Dutch postcode such as 6535 AB."), code="invalid_postcode"
)
pc4_validators = [
    MinValueValidator(1000, _("A 4-digit postcode lies between 1000 and 9999.")),
    MaxValueValidator(9999, _("A 4-digit postcode lies between 1000 and 9999.")),
]


class DateRange(Func):
    function = "daterange"
    output_field = DateRangeField()


class IntRange(Func):
    function = "int4range"
    output_field = models.Field()


class OrderedRangeMixin:
    """Checks a range's ends are in order before the exclusion constraints build a range from them.

    Postgres cannot even build a range whose lower bound exceeds its upper bound, so validating the
    overlap constraint on such input would crash instead of giving the form its error message.
    """

    range_fields: tuple[str, str]
    range_order_message: str

    def validate_constraints(self, exclude=None):
        low, high = (getattr(self, name) for name in self.range_fields)
        if low is not None and high is not None and low > high:
            raise ValidationError(self.range_order_message)
        super().validate_constraints(exclude=exclude)


class Area(models.Model):
    class Kind(models.TextChoices):
        MUNICIPALITY = "municipality", _("Municipality")
        DISTRICT = "district", _("District")
        NEIGHBOURHOOD = "neighbourhood", _("Neighbourhood")

    PARENT_KIND = {Kind.DISTRICT: Kind.MUNICIPALITY, Kind.NEIGHBOURHOOD: Kind.DISTRICT}

    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("part of"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    population = models.PositiveIntegerField(_("population"), null=True, blank=True)

    class Meta:
        verbose_name = _("area")
        verbose_name_plural = _("areas")
        ordering = ["kind", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="municipality", parent__isnull=True)
                | (~Q(kind="municipality") & Q(parent__isnull=False)),
                name="area_parent_matches_kind",
                violation_error_message=_(
                    "A municipality has no parent; a district or neighbourhood must have one."
                ),
            ),
            models.UniqueConstraint(fields=["parent", "name"], name="area_unique_name_in_parent"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        expected = self.PARENT_KIND.get(self.kind)
        if expected and self.parent_id and self.parent.kind != expected:
            raise ValidationError(
                {
                    "parent": _("A %(kind)s must be part of a %(parent)s.")
                    % {"kind": self.get_kind_display().lower(), "parent": Area.Kind(expected).label.lower()}
                }
            )


class PostcodeRange(OrderedRangeMixin, models.Model):
    """A range of 4-digit postcodes (PC4, both ends included) that lies in a neighbourhood."""

    range_fields = ("start", "end")
    range_order_message = _("The first postcode of a range cannot come after the last.")

    area = models.ForeignKey(
        Area, verbose_name=_("neighbourhood"), on_delete=models.CASCADE, related_name="postcode_ranges"
    )
    start = models.PositiveSmallIntegerField(_("from PC4"), validators=pc4_validators)
    end = models.PositiveSmallIntegerField(_("to PC4"), validators=pc4_validators)

    class Meta:
        verbose_name = _("postcode range")
        verbose_name_plural = _("postcode ranges")
        ordering = ["start"]
        constraints = [
            models.CheckConstraint(
                condition=Q(start__lte=F("end")),
                name="postcode_range_start_before_end",
                violation_error_message=_("The first postcode of a range cannot come after the last."),
            ),
            models.CheckConstraint(
                condition=Q(start__gte=1000, end__lte=9999),
                name="postcode_range_pc4",
                violation_error_message=_("A 4-digit postcode lies between 1000 and 9999."),
            ),
            ExclusionConstraint(
                name="postcode_range_no_overlap",
                expressions=[(IntRange("start", "end", models.Value("[]")), RangeOperators.OVERLAPS)],
                violation_error_message=_("This postcode range overlaps a range of another neighbourhood."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.start}–{self.end}"

    def clean(self) -> None:
        if self.area_id and self.area.kind != Area.Kind.NEIGHBOURHOOD:
            raise ValidationError({"area": _("Postcode ranges belong to a neighbourhood.")})


class Organisation(models.Model):
    class Kind(models.TextChoices):
        GP_PRACTICE = "gp_practice", _("GP practice")
        HEALTH_CENTRE = "health_centre", _("Health centre")
        SOCIAL_WELFARE_TEAM = "social_welfare_team", _("Social welfare team")
        WELFARE_ORGANISATION = "welfare_organisation", _("Welfare organisation")
        MENTAL_HEALTH_SERVICE = "mental_health_service", _("Mental-health service")
        MUNICIPALITY = "municipality", _("Municipality")
        VOLUNTEER_ORGANISATION = "volunteer_organisation", _("Volunteer organisation")

    PRIMARY_CARE = (Kind.GP_PRACTICE, Kind.HEALTH_CENTRE)

    hsds_id = models.UUIDField(_("export id"), default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)
    description = models.TextField(_("description"), blank=True)
    area = models.ForeignKey(Area, verbose_name=_("area"), null=True, blank=True, on_delete=models.SET_NULL)
    street = models.CharField(_("street and number"), max_length=200, blank=True)
    postcode = models.CharField(_("postcode"), max_length=7, blank=True, validators=[postcode_validator])
    city = models.CharField(_("city"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    website = models.URLField(_("website"), blank=True)
    agb_code = models.CharField(
        _("AGB code"),
        max_length=8,
        blank=True,
        validators=[agb_validator],
        help_text=_("Required for GP practices: the 8-digit AGB code of the practice."),
    )
    contact_person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("social-map contact"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Keeps this organisation's social-map entries up to date."),
    )

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(agb_code="") | Q(agb_code__regex=r"^\d{8}$"),
                name="organisation_agb_8_digits",
                violation_error_message=_("An AGB code has exactly 8 digits."),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.kind == self.Kind.GP_PRACTICE and not self.agb_code:
            raise ValidationError({"agb_code": _("A GP practice needs its 8-digit AGB code.")})

    @property
    def is_primary_care(self) -> bool:
        return self.kind in self.PRIMARY_CARE


class Team(models.Model):
    class Kind(models.TextChoices):
        PRACTICE = "practice", _("GP practice team")
        SOCIAL_WELFARE = "social_welfare", _("Social welfare team")
        WELLBEING = "wellbeing", _("Well-being coaches")
        DEBT_ADVICE = "debt_advice", _("Debt and money advice")
        HOUSING = "housing", _("Housing")
        MENTAL_HEALTH = "mental_health", _("Mental-health care")
        MUNICIPALITY = "municipality", _("Municipal services")
        VOLUNTEERS = "volunteers", _("Volunteers")

    organisation = models.ForeignKey(
        Organisation, verbose_name=_("organisation"), on_delete=models.CASCADE, related_name="teams"
    )
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    areas = models.ManyToManyField(Area, verbose_name=_("areas served"), blank=True, related_name="teams")
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="Membership", related_name="teams", verbose_name=_("members")
    )

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "name"], name="team_unique_name_in_org")
        ]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    class Role(models.TextChoices):
        MEMBER = "member", _("Member")
        COORDINATOR = "coordinator", _("Team coordinator")

    team = models.ForeignKey(
        Team, verbose_name=_("team"), on_delete=models.CASCADE, related_name="memberships"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.CASCADE,
        related_name="memberships",
    )
    role = models.CharField(_("role in the team"), max_length=20, choices=Role.choices, default=Role.MEMBER)

    class Meta:
        verbose_name = _("team membership")
        verbose_name_plural = _("team memberships")
        constraints = [models.UniqueConstraint(fields=["team", "user"], name="membership_unique")]

    def __str__(self) -> str:
        return f"{self.user} – {self.team} ({self.get_role_display()})"


class Profile(models.Model):
    """What colleagues need to know about a professional: the who's who that builds trust."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    discipline = models.CharField(_("discipline"), max_length=30, choices=Discipline.choices)
    introduction = models.TextField(_("short introduction"), blank=True, max_length=1500)
    helps_with = models.TextField(_("what I can help with"), blank=True, max_length=1500)
    languages = models.CharField(
        _("languages"),
        max_length=200,
        blank=True,
        help_text=_("Languages spoken with clients, comma-separated."),
    )
    working_days = ArrayField(
        models.PositiveSmallIntegerField(choices=Weekday.choices),
        verbose_name=_("working days"),
        default=list,
        blank=True,
    )
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    photo = models.ImageField(_("photo"), upload_to="profiles/", blank=True)

    class Meta:
        verbose_name = _("profile")
        verbose_name_plural = _("profiles")

    def __str__(self) -> str:
        return str(self.user)

    @property
    def initials(self) -> str:
        parts = [self.user.first_name, self.user.last_name.split()[-1] if self.user.last_name else ""]
        letters = "".join(p[0] for p in parts if p)
        return (letters or self.user.username[:2]).upper()

    def working_days_display(self) -> list[str]:
        return [Weekday(d).label for d in sorted(self.working_days)]


class Absence(OrderedRangeMixin, models.Model):
    """A period (both days included) in which a person is away and their deputy takes over."""

    range_fields = ("starts_on", "ends_on")
    range_order_message = _("An absence cannot end before it starts.")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("person"), on_delete=models.CASCADE, related_name="absences"
    )
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("to"))
    note = models.CharField(_("note"), max_length=200, blank=True, help_text=_("No medical details."))

    class Meta:
        verbose_name = _("absence")
        verbose_name_plural = _("absences")
        ordering = ["starts_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(starts_on__lte=F("ends_on")),
                name="absence_start_before_end",
                violation_error_message=_("An absence cannot end before it starts."),
            ),
            ExclusionConstraint(
                name="absence_no_overlap",
                expressions=[
                    ("user", RangeOperators.EQUAL),
                    (DateRange("starts_on", "ends_on", models.Value("[]")), RangeOperators.OVERLAPS),
                ],
                violation_error_message=_("This absence overlaps another absence of the same person."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user}: {self.starts_on:%d-%m-%Y} – {self.ends_on:%d-%m-%Y}"


class NamedContact(models.Model):
    """Who in a welfare team is a GP practice's contact (optionally for one life domain), and their deputy."""

    practice = models.ForeignKey(
        Organisation,
        verbose_name=_("GP practice"),
        on_delete=models.CASCADE,
        related_name="named_contacts",
        limit_choices_to={"kind__in": Organisation.PRIMARY_CARE},
    )
    team = models.ForeignKey(
        Team, verbose_name=_("team"), on_delete=models.CASCADE, related_name="named_contacts"
    )
    life_domain = models.CharField(
        _("life domain"),
        max_length=30,
        choices=LifeDomain.choices,
        blank=True,
        help_text=_("Leave empty for the general contact; fill in for a contact for one life domain only."),
    )
    contact = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("contact"),
        on_delete=models.PROTECT,
        related_name="contact_for",
    )
    deputy = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("deputy"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="deputy_for",
    )

    class Meta:
        verbose_name = _("named contact")
        verbose_name_plural = _("named contacts")
        constraints = [
            models.UniqueConstraint(
                fields=["practice", "team", "life_domain"],
                name="named_contact_unique",
                violation_error_message=_(
                    "This practice already has a contact in this team for this life domain."
                ),
            ),
            models.CheckConstraint(
                condition=~Q(deputy=F("contact")),
                name="named_contact_deputy_is_someone_else",
                violation_error_message=_("The deputy must be someone other than the contact."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.practice} → {self.team}: {self.contact}"

    def clean(self) -> None:
        errors = {}
        if self.practice_id and not self.practice.is_primary_care:
            errors["practice"] = _("Named contacts are kept for GP practices and health centres.")
        if self.team_id:
            for field in ("contact", "deputy"):
                person_id = getattr(self, f"{field}_id")
                if (
                    person_id
                    and not Membership.objects.filter(team_id=self.team_id, user_id=person_id).exists()
                ):
                    errors[field] = _("This person is not a member of the team.")
        if errors:
            raise ValidationError(errors)


class ConsultationHour(models.Model):
    """A professional's recurring presence at a location, typically a social worker in a GP practice."""

    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("professional"),
        on_delete=models.CASCADE,
        related_name="consultation_hours",
    )
    location = models.ForeignKey(
        Organisation, verbose_name=_("location"), on_delete=models.CASCADE, related_name="consultation_hours"
    )
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    starts_at = models.TimeField(_("from"))
    ends_at = models.TimeField(_("until"))
    every_n_weeks = models.PositiveSmallIntegerField(
        _("every … weeks"), default=1, validators=[MinValueValidator(1), MaxValueValidator(8)]
    )
    starts_on = models.DateField(_("first date"))
    ends_on = models.DateField(_("last date"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("consultation hour")
        verbose_name_plural = _("consultation hours")
        ordering = ["weekday", "starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(starts_at__lt=F("ends_at")),
                name="consultation_hour_start_before_end",
                violation_error_message=_("A consultation hour must end after it starts."),
            ),
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(starts_on__lte=F("ends_on")),
                name="consultation_hour_dates_in_order",
                violation_error_message=_("The last date cannot come before the first date."),
            ),
            models.CheckConstraint(
                condition=Q(every_n_weeks__gte=1), name="consultation_hour_every_n_weeks_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person} @ {self.location}, {self.get_weekday_display()} {self.starts_at:%H:%M}"

    def next_dates(self, *, after: date, count: int = 3) -> list[date]:
        """The next `count` dates on or after `after` on which this hour takes place."""
        first = self.starts_on + timedelta(days=(self.weekday - self.starts_on.weekday()) % 7)
        start = max(first, after)
        # Round up to the next occurrence in the every-n-weeks rhythm anchored on the first date.
        step = 7 * self.every_n_weeks
        offset = (start - first).days
        current = first + timedelta(days=-(-offset // step) * step)
        dates = []
        while len(dates) < count and (self.ends_on is None or current <= self.ends_on):
            dates.append(current)
            current += timedelta(days=step)
        return dates


class Service(models.Model):
    """An entry of the social map: a service or activity an organisation offers."""

    class Capacity(models.TextChoices):
        OPEN = "open", _("Open")
        WAITLIST = "waitlist", _("Waiting list")
        FULL = "full", _("Full")

    STALE_AFTER = timedelta(days=183)

    hsds_id = models.UUIDField(_("export id"), default=uuid.uuid4, unique=True, editable=False)
    organisation = models.ForeignKey(
        Organisation, verbose_name=_("organisation"), on_delete=models.CASCADE, related_name="services"
    )
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"))
    life_domains = ArrayField(
        models.CharField(max_length=30, choices=LifeDomain.choices),
        verbose_name=_("life domains"),
        default=list,
    )
    eligibility = models.TextField(_("target group and eligibility"), blank=True)
    cost = models.CharField(
        _("cost"), max_length=200, blank=True, help_text=_("E.g. free, or € 5 per session.")
    )
    is_free = models.BooleanField(_("free of charge"), default=True)
    how_to_refer = models.TextField(_("how to refer"), blank=True)
    areas = models.ManyToManyField(Area, verbose_name=_("areas served"), blank=True, related_name="services")
    contact_person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("contact person"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="services",
    )
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    url = models.URLField(_("web page"), blank=True)
    capacity = models.CharField(_("capacity"), max_length=10, choices=Capacity.choices, default=Capacity.OPEN)
    last_checked_on = models.DateField(_("last checked on"))

    class Meta:
        verbose_name = _("social-map entry")
        verbose_name_plural = _("social-map entries")
        ordering = ["name"]
        indexes = [models.Index(fields=["last_checked_on"], name="service_last_checked_idx")]

    def __str__(self) -> str:
        return self.name

    def is_stale(self, *, today: date) -> bool:
        return self.last_checked_on < today - self.STALE_AFTER

    def life_domains_display(self) -> list[str]:
        return [LifeDomain(d).label for d in self.life_domains if d in LifeDomain.values]
