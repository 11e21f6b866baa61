"""Patients, their life-domain concerns, purpose-bound consent and care relationships."""

import secrets
from datetime import date

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from teams.choices import LifeDomain
from teams.models import Organisation, Team, postcode_validator

PSEUDONYM_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no look-alikes (0/O, 1/I)

# Concerns in these domains are medical: outside the practice they are seen only in the referral that
# shared them, by the people involved in it while they are (referrals/workflow.py).
MEDICAL_DOMAINS = frozenset({LifeDomain.MENTAL_HEALTH, LifeDomain.PHYSICAL_HEALTH, LifeDomain.SUBSTANCE_USE})


def bsn_is_valid(value: str) -> bool:
    """The Dutch citizen service number's 11-test (elfproef): 9 digits, weighted sum divisible by 11."""
    if len(value) != 9 or not (value.isascii() and value.isdecimal()):  # "²" is a digit int() refuses
        return False
    weights = (9, 8, 7, 6, 5, 4, 3, 2, -1)
    total = sum(int(d) * w for d, w in zip(value, weights, strict=True))
    return total % 11 == 0 and int(value) != 0


def validate_bsn(value: str) -> None:
    if value and not bsn_is_valid(value):
        # Never echo the number back: error pages and logs must not carry it.
        raise ValidationError(
            _("This is not a valid BSN (9 digits that pass the 11-test)."), code="invalid_bsn"
        )


def new_pseudonym() -> str:
    return "P-" + "".join(secrets.choice(PSEUDONYM_ALPHABET) for _ in range(8))


class Perspective(models.TextChoices):
    UNEMPLOYED = "unemployed", _("Unemployed")
    REFUGEE = "refugee", _("Refugee or newcomer")
    LOW_LITERACY = "low_literacy", _("Low literacy")
    RELEASED_FROM_DETENTION = "released_from_detention", _("Recently released from detention")
    INFORMAL_CARER = "informal_carer", _("Informal carer")
    SINGLE_PARENT = "single_parent", _("Single parent")
    LOW_INCOME = "low_income", _("Low income")
    OLDER_PERSON_ALONE = "older_person_alone", _("Older person living alone")
    YOUNG_ADULT = "young_adult", _("Young adult")


class Patient(models.Model):
    class Language(models.TextChoices):
        DUTCH = "nl", _("Dutch")
        ENGLISH = "en", _("English")
        ARABIC = "ar", _("Arabic")
        TURKISH = "tr", _("Turkish")
        POLISH = "pl", _("Polish")
        TIGRINYA = "ti", _("Tigrinya")
        UKRAINIAN = "uk", _("Ukrainian")
        OTHER = "other", _("Other")

    first_name = models.CharField(_("first name"), max_length=100)
    last_name = models.CharField(_("last name"), max_length=150)
    date_of_birth = models.DateField(_("date of birth"))
    postcode = models.CharField(_("postcode"), max_length=7, validators=[postcode_validator])
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    preferred_language = models.CharField(
        _("preferred language"), max_length=8, choices=Language.choices, default=Language.DUTCH
    )
    practice = models.ForeignKey(
        Organisation,
        verbose_name=_("GP practice"),
        on_delete=models.PROTECT,
        related_name="patients",
        limit_choices_to={"kind__in": Organisation.PRIMARY_CARE},
    )
    # Never in a URL, a log line, an error page or an export: see docs in patients/views.py.
    bsn = models.CharField(_("BSN"), max_length=9, blank=True, validators=[validate_bsn])
    perspectives = ArrayField(
        models.CharField(max_length=40, choices=Perspective.choices),
        verbose_name=_("perspectives"),
        default=list,
        blank=True,
    )
    is_high_user = models.BooleanField(_("high user of GP and welfare team"), default=False)
    high_user_since = models.DateField(_("high user since"), null=True, blank=True)
    high_user_reason = models.CharField(_("reason"), max_length=300, blank=True)
    pseudonym = models.CharField(
        _("pseudonym"), max_length=12, unique=True, default=new_pseudonym, editable=False
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("patient")
        verbose_name_plural = _("patients")
        ordering = ["last_name", "first_name"]
        indexes = [
            models.Index(fields=["practice", "last_name", "first_name"], name="patient_practice_name_idx"),
            models.Index(fields=["practice", "date_of_birth"], name="patient_practice_dob_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["bsn"],
                condition=~Q(bsn=""),
                name="patient_unique_bsn",
                violation_error_message=_("Another patient already has this BSN."),
            ),
            models.CheckConstraint(
                condition=Q(is_high_user=False) | Q(high_user_since__isnull=False),
                name="patient_high_user_has_date",
                violation_error_message=_("Give the date since when the patient is a high user."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}"

    def __repr__(self) -> str:
        return f"<Patient {self.pk} {self.pseudonym}>"  # no identifying data in debug output

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    def clean(self) -> None:
        if self.date_of_birth and self.date_of_birth > date.today():
            raise ValidationError({"date_of_birth": _("The date of birth cannot be in the future.")})

    def perspectives_display(self) -> list[str]:
        return [Perspective(p).label for p in self.perspectives if p in Perspective.values]


# What a professional fills in for a patient (the form) and what the services may set.
PATIENT_FIELDS = (
    "first_name",
    "last_name",
    "date_of_birth",
    "postcode",
    "phone",
    "email",
    "preferred_language",
    "bsn",
    "perspectives",
    "is_high_user",
    "high_user_since",
    "high_user_reason",
)


class Concern(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        IMPROVING = "improving", _("Improving")
        STABLE = "stable", _("Stable")
        RESOLVED = "resolved", _("Resolved")

    patient = models.ForeignKey(
        Patient, verbose_name=_("patient"), on_delete=models.CASCADE, related_name="concerns"
    )
    domain = models.CharField(_("life domain"), max_length=30, choices=LifeDomain.choices)
    description = models.TextField(_("description"), max_length=2000)
    since = models.DateField(_("since"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.ACTIVE)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("concern")
        verbose_name_plural = _("concerns")
        ordering = ["status", "domain"]

    def __str__(self) -> str:
        return self.get_domain_display()

    @property
    def is_medical(self) -> bool:
        return self.domain in MEDICAL_DOMAINS


class ConsentPurpose(models.TextChoices):
    REFERRAL_SOCIAL = "referral_social", _("Referral to the social domain")
    INFORMATION_REQUEST_GP = "information_request_gp", _("Information request to the GP")
    JOINT_CONSULTATION = "joint_consultation", _("Joint consultation")
    OUTCOME_MEASUREMENT = "outcome_measurement", _("Sharing outcome measurements")


class Consent(models.Model):
    class Form(models.TextChoices):
        VERBAL = "verbal", _("Verbal")
        SIGNED = "signed", _("Signed")

    patient = models.ForeignKey(
        Patient, verbose_name=_("patient"), on_delete=models.CASCADE, related_name="consents"
    )
    purpose = models.CharField(_("purpose"), max_length=40, choices=ConsentPurpose.choices)
    recipient_organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("recipient organisation"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    recipient_team = models.ForeignKey(
        Team,
        verbose_name=_("recipient team"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    form = models.CharField(_("given"), max_length=10, choices=Form.choices)
    given_on = models.DateField(_("given on"))
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("withdrawal recorded by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        ordering = ["-given_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(recipient_organisation__isnull=False) ^ Q(recipient_team__isnull=False),
                name="consent_one_recipient",
                violation_error_message=_("Choose the recipient: an organisation or a team."),
            ),
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gte=F("given_on")),
                name="consent_valid_until_after_given",
                violation_error_message=_("Consent cannot end before the day it was given."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} → {self.recipient}"

    @property
    def recipient(self):
        return self.recipient_team or self.recipient_organisation

    def is_valid_on(self, day: date) -> bool:
        if self.withdrawn_at is not None:
            return False
        return self.given_on <= day and (self.valid_until is None or day <= self.valid_until)


class CareRelationship(models.Model):
    """Why a professional outside the patient's practice may see the patient, and for how long.

    Referrals add rows for the people involved in them (referrals/workflow.py says who and when) and end
    them when the person stops being involved: forwarded or reassigned away, declined, the referral
    closed (after a grace period), cancelled or entered in error, consent withdrawn. A row that names a
    team holds only while the person is a member of that team; a row with a team and no person stands
    for whoever coordinates that team now. Emergency access adds a time-boxed row of its own.
    Membership of the patient's practice team is a relationship of its own (not stored). Ended rows
    stay: they are the history, and they grant nothing.
    """

    class Kind(models.TextChoices):
        REFERRAL_SENDER = "referral_sender", _("Sent a referral")
        REFERRAL_RECEIVER = "referral_receiver", _("Received a referral")
        FORWARDED_TO = "forwarded_to", _("Referral forwarded to")
        TEAM_COORDINATOR = "team_coordinator", _("Coordinator of the receiving team")
        JOINT_CONSULTATION = "joint_consultation", _("Joint consultation participant")
        EMERGENCY = "emergency", _("Emergency access")

    class Ended(models.TextChoices):
        FORWARDED = "forwarded", _("Forwarded to someone else")
        REASSIGNED = "reassigned", _("Reassigned to someone else")
        DECLINED = "declined", _("Declined")
        CLOSED = "closed", _("Referral closed (after the grace period)")
        CANCELLED = "cancelled", _("Referral cancelled")
        ENTERED_IN_ERROR = "entered_in_error", _("Referral entered in error")
        CONSENT_WITHDRAWN = "consent_withdrawn", _("Consent withdrawn")
        REMOVED = "removed", _("No longer a participant")
        EXPIRED = "expired", _("Time limit reached")

    patient = models.ForeignKey(
        Patient, verbose_name=_("patient"), on_delete=models.CASCADE, related_name="care_relationships"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("professional"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text=_("Empty for a team's coordinators: whoever coordinates the team now."),
    )
    team = models.ForeignKey(
        Team,
        verbose_name=_("through team"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text=_("Holds only while the professional is a member (or coordinator) of this team."),
    )
    # The referral the relationship comes from. A plain id: referrals is a higher app than patients.
    referral_id = models.BigIntegerField(_("referral"), null=True, blank=True, db_index=True)
    consent = models.ForeignKey(
        Consent,
        verbose_name=_("on the basis of consent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="relationships",
    )
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)
    source = models.CharField(_("source"), max_length=50, blank=True, help_text=_("E.g. referral:123"))
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    starts_at = models.DateTimeField(_("from"), default=timezone.now)
    ends_at = models.DateTimeField(_("until"), null=True, blank=True)
    ended_reason = models.CharField(_("ended because"), max_length=20, choices=Ended.choices, blank=True)

    class Meta:
        verbose_name = _("care relationship")
        verbose_name_plural = _("care relationships")
        indexes = [
            models.Index(fields=["user", "patient"], name="care_rel_user_patient_idx"),
            models.Index(
                fields=["team", "patient"], condition=Q(user__isnull=True), name="care_rel_team_patient_idx"
            ),
        ]
        constraints = [
            # One open relationship per person (or team) and kind per referral; ended ones are history.
            models.UniqueConstraint(
                fields=["patient", "referral_id", "user", "team", "kind", "source"],
                condition=Q(ends_at__isnull=True),
                nulls_distinct=False,
                name="care_relationship_one_open",
            ),
            models.CheckConstraint(
                condition=~Q(kind="emergency") | (Q(ends_at__isnull=False) & ~Q(reason="")),
                name="care_relationship_emergency_is_timeboxed_with_reason",
            ),
            models.CheckConstraint(
                condition=Q(user__isnull=False) | Q(team__isnull=False, kind="team_coordinator"),
                name="care_relationship_has_someone",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user or self.team} – {self.get_kind_display()}"
