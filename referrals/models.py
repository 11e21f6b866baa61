"""The closed referral loop: pathways, routing rules, referrals, their event log, feedback and messages."""

import secrets

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from patients.models import Concern, Consent, ConsentPurpose, Patient
from teams.choices import Discipline, LifeDomain
from teams.models import Organisation, Team

REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def new_reference() -> str:
    return "R-" + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(7))


class Pathway(models.Model):
    class Direction(models.TextChoices):
        TO_SOCIAL = "to_social", _("Primary care → social domain")
        TO_GP = "to_gp", _("Social domain → GP")

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    direction = models.CharField(_("direction"), max_length=12, choices=Direction.choices)
    life_domains = ArrayField(
        models.CharField(max_length=30, choices=LifeDomain.choices),
        verbose_name=_("life domains"),
        default=list,
    )
    sender_disciplines = ArrayField(
        models.CharField(max_length=30, choices=Discipline.choices),
        verbose_name=_("who may send"),
        default=list,
        help_text=_("Disciplines that may send on this pathway."),
    )
    receiving_team_kind = models.CharField(_("receiving team kind"), max_length=20, choices=Team.Kind.choices)
    consent_purpose = models.CharField(_("consent needed"), max_length=40, choices=ConsentPurpose.choices)
    accept_within = models.PositiveSmallIntegerField(_("accept within (working days)"), default=2)
    first_contact_within = models.PositiveSmallIntegerField(
        _("first contact within (working days)"), default=5
    )
    feedback_every = models.PositiveSmallIntegerField(_("progress feedback every (days)"), default=42)
    is_joint_consultation = models.BooleanField(_("joint consultation request"), default=False)
    active = models.BooleanField(_("active"), default=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("pathway")
        verbose_name_plural = _("pathways")
        ordering = ["order", "name"]

    def __str__(self) -> str:
        return self.name


class LetterField(models.Model):
    """One question of a pathway's standard referral letter."""

    class Kind(models.TextChoices):
        TEXT = "text", _("Text")
        CHOICE = "choice", _("Choice")
        YES_NO = "yes_no", _("Yes/no")
        DATE = "date", _("Date")

    pathway = models.ForeignKey(Pathway, on_delete=models.CASCADE, related_name="letter_fields")
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    key = models.SlugField(_("key"), max_length=40)
    label = models.CharField(_("question"), max_length=200)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.TEXT)
    choices = models.TextField(
        _("choices"), blank=True, help_text=_("For a choice question: one option per line.")
    )
    help_text = models.CharField(_("help text"), max_length=300, blank=True)
    required = models.BooleanField(_("required"), default=True)

    class Meta:
        verbose_name = _("letter field")
        verbose_name_plural = _("letter fields")
        ordering = ["order", "pk"]
        constraints = [models.UniqueConstraint(fields=["pathway", "key"], name="letter_field_unique_key")]

    def __str__(self) -> str:
        return self.label

    def choice_list(self) -> list[str]:
        return [line.strip() for line in self.choices.splitlines() if line.strip()]


class RoutingRule(models.Model):
    """A locally agreed "who refers to whom, when" rule. The first active matching rule (by order) wins."""

    class HighUser(models.TextChoices):
        ANY = "any", _("Any patient")
        YES = "yes", _("Only high users")
        NO = "no", _("Not for high users")

    name = models.CharField(_("name"), max_length=120)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    life_domains = ArrayField(
        models.CharField(max_length=30, choices=LifeDomain.choices),
        verbose_name=_("when a concern is in one of these life domains"),
        default=list,
        blank=True,
    )
    min_domains = models.PositiveSmallIntegerField(
        _("and at least this many life domains with concerns"), default=1
    )
    high_user = models.CharField(
        _("high users"), max_length=3, choices=HighUser.choices, default=HighUser.ANY
    )
    pathway = models.ForeignKey(Pathway, verbose_name=_("then propose pathway"), on_delete=models.CASCADE)
    explanation = models.CharField(_("why"), max_length=300, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("routing rule")
        verbose_name_plural = _("routing guide")
        ordering = ["order", "pk"]

    def __str__(self) -> str:
        return self.name


class Status(models.TextChoices):
    """HL7 FHIR Task status codes, as used for closed-loop referrals."""

    DRAFT = "draft", _("Draft")
    REQUESTED = "requested", _("Requested")
    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Declined")
    IN_PROGRESS = "in-progress", _("In progress")
    ON_HOLD = "on-hold", _("On hold")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")
    ENTERED_IN_ERROR = "entered-in-error", _("Entered in error")


OPEN_STATUSES = (Status.REQUESTED, Status.ACCEPTED, Status.IN_PROGRESS, Status.ON_HOLD)


class Urgency(models.TextChoices):
    ROUTINE = "routine", _("Routine")
    SOON = "soon", _("Soon")
    URGENT = "urgent", _("Urgent")


URGENCY_RANK = {Urgency.URGENT: 0, Urgency.SOON: 1, Urgency.ROUTINE: 2}


def urgency_rank() -> models.Case:
    """Most urgent first. The inbox orders by it and an index holds it: both must use this one expression."""
    return models.Case(
        *[models.When(urgency=k, then=models.Value(v)) for k, v in URGENCY_RANK.items()],
        output_field=models.IntegerField(),
    )


def next_due() -> models.Case:
    """The day the current step is due: accepting a new referral, the first contact after accepting,
    the next feedback while in progress (none on hold or closed). Overdue work and new referrals come
    first in an inbox ordered by it, not last year's (issue 21). The index below holds it too."""
    return models.Case(
        models.When(status="requested", then=F("accept_by")),
        models.When(status="accepted", then=F("first_contact_by")),
        models.When(status="in-progress", then=F("feedback_by")),
        output_field=models.DateField(),
    )


# The inboxes' order (referrals.selectors.due_date_order) after the person or team they are for.
INBOX_ORDER = (urgency_rank(), next_due(), F("id"))


class DeclineReason(models.TextChoices):
    NO_CAPACITY = "no_capacity", _("No capacity")
    NOT_ELIGIBLE = "not_eligible", _("Not eligible")
    WRONG_PATHWAY = "wrong_pathway", _("Wrong pathway")
    NOT_REACHED = "not_reached", _("Could not reach the patient")
    PATIENT_DECLINED = "patient_declined", _("Patient declined")
    OTHER = "other", _("Other")


class Referral(models.Model):
    class AssignedVia(models.TextChoices):
        CONTACT = "contact", _("Named contact")
        DEPUTY = "deputy", _("Deputy of the named contact")
        COORDINATOR = "coordinator", _("Team coordinator")
        CHOSEN = "chosen", _("Chosen by the sender")
        REASSIGNED = "reassigned", _("Reassigned")
        FORWARDED = "forwarded", _("Forwarded")

    reference = models.CharField(
        _("reference"), max_length=12, unique=True, default=new_reference, editable=False
    )
    patient = models.ForeignKey(
        Patient, verbose_name=_("patient"), on_delete=models.PROTECT, related_name="referrals"
    )
    pathway = models.ForeignKey(
        Pathway, verbose_name=_("pathway"), on_delete=models.PROTECT, related_name="referrals"
    )
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("sender"),
        on_delete=models.PROTECT,
        related_name="referrals_sent",
    )
    sender_organisation = models.ForeignKey(
        Organisation, verbose_name=_("sending organisation"), on_delete=models.PROTECT, related_name="+"
    )
    receiving_team = models.ForeignKey(
        Team, verbose_name=_("receiving team"), on_delete=models.PROTECT, related_name="referrals_received"
    )
    receiver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("receiver"),
        on_delete=models.PROTECT,
        related_name="referrals_received",
    )
    assigned_via = models.CharField(_("assigned via"), max_length=12, choices=AssignedVia.choices)
    letter = models.JSONField(_("letter"), default=dict, blank=True)
    shared_concerns = models.ManyToManyField(
        Concern, verbose_name=_("concerns shared"), blank=True, related_name="+"
    )
    urgency = models.CharField(_("urgency"), max_length=10, choices=Urgency.choices, default=Urgency.ROUTINE)
    consent = models.ForeignKey(
        Consent,
        verbose_name=_("consent used"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    decline_reason = models.CharField(
        _("reason for declining"), max_length=20, choices=DeclineReason.choices, blank=True
    )
    decline_note = models.CharField(_("explanation"), max_length=500, blank=True)

    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    # When it came to its current receiver (sent, forwarded or reassigned): the not-accepted reminders
    # count from here. Empty on rows written before it existed (and by bulk loaders): sent_at counts.
    assigned_at = models.DateTimeField(_("with the current receiver since"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    first_contact_at = models.DateTimeField(_("first contact at"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    last_feedback_at = models.DateTimeField(_("last feedback at"), null=True, blank=True)

    accept_by = models.DateField(_("accept by"), null=True, blank=True)
    first_contact_by = models.DateField(_("first contact by"), null=True, blank=True)
    feedback_by = models.DateField(_("feedback by"), null=True, blank=True)
    # The token of the form that sent it: the same form posted twice gives this one referral.
    submission = models.CharField(max_length=64, null=True, blank=True, unique=True, editable=False)
    # The transaction that last changed a column the reminder rules look at, set by a database trigger
    # (referrals/sweep_sql.py): the sweep re-examines only referrals changed since its last run.
    changed_xid = models.BigIntegerField(null=True, blank=True, editable=False, db_index=True)

    class Meta:
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")
        ordering = ["-sent_at", "-pk"]
        indexes = [
            models.Index(fields=["receiver", "status"], name="referral_receiver_status_idx"),
            models.Index(fields=["receiving_team", "status"], name="referral_team_status_idx"),
            models.Index(fields=["sender_organisation", "status"], name="referral_senderorg_status_idx"),
            models.Index(fields=["sender", "status"], name="referral_sender_status_idx"),
            models.Index(fields=["patient", "-sent_at"], name="referral_patient_sent_idx"),
            # Indicators scope by receiving team and period of sending (evaluations.project_referrals).
            models.Index(fields=["receiving_team", "sent_at"], name="referral_team_sent_idx"),
            models.Index(fields=["sent_at"], name="referral_sent_at_idx"),
            # An inbox page is the first 50 of a receiver's (or team's) referrals in due order: read from
            # these indexes in order instead of sorting a busy receiver's whole list.
            models.Index(
                F("receiver"),
                *INBOX_ORDER,
                condition=~Q(status="entered-in-error"),
                name="referral_inbox_order_idx",
            ),
            models.Index(
                F("receiving_team"),
                *INBOX_ORDER,
                condition=~Q(status="entered-in-error"),
                name="referral_team_inbox_order_idx",
            ),
            # The reminder sweep's candidates per trigger (referrals.reminders.due_referrals): small
            # partial indexes, since only open referrals in one status can be due for a rule.
            models.Index(
                fields=["sent_at"], condition=Q(status="requested"), name="referral_sweep_requested_idx"
            ),
            models.Index(
                fields=["accepted_at"], condition=Q(status="accepted"), name="referral_sweep_accepted_idx"
            ),
            models.Index(
                fields=["feedback_by"], condition=Q(status="in-progress"), name="referral_sweep_progress_idx"
            ),
            models.Index(
                fields=["completed_at"],
                condition=Q(status="completed", acknowledged_at__isnull=True),
                name="referral_sweep_unacked_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="rejected") | ~Q(decline_reason=""),
                name="referral_declined_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} – {self.pathway}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def joint_consultations_with(self, user) -> bool:
        """Whether `user` is invited to this referral's joint consultation."""
        return JointConsultation.objects.filter(referral=self, participants=user).exists()


class Event(models.Model):
    """Append-only log of everything that happened to a referral; indicators and the audit read it."""

    class Kind(models.TextChoices):
        SENT = "sent", _("Sent")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")
        FORWARDED = "forwarded", _("Forwarded")
        REASSIGNED = "reassigned", _("Reassigned")
        FIRST_CONTACT = "first_contact", _("First contact made")
        FEEDBACK = "feedback", _("Feedback sent")
        ON_HOLD = "on_hold", _("Put on hold")
        RESUMED = "resumed", _("Resumed")
        COMPLETED = "completed", _("Completed")
        ACKNOWLEDGED = "acknowledged", _("Feedback acknowledged")
        REOPENED = "reopened", _("Reopened")
        CANCELLED = "cancelled", _("Cancelled")
        ENTERED_IN_ERROR = "entered_in_error", _("Marked as entered in error")

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(_("at"), db_index=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.PROTECT, related_name="+"
    )
    from_status = models.CharField(_("from status"), max_length=20, choices=Status.choices, blank=True)
    to_status = models.CharField(_("to status"), max_length=20, choices=Status.choices, blank=True)
    from_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    to_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.CharField(_("note"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("referral event")
        verbose_name_plural = _("referral events")
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["kind", "at"], name="event_kind_at_idx")]

    def __str__(self) -> str:
        return f"{self.referral_id} {self.kind} @ {self.at:%Y-%m-%d %H:%M}"

    @property
    def note_shown(self) -> str:
        """The note as people read it: a decline's note starts with its reason's code (services.py
        referral_decline), shown in words in the reader's language."""
        if self.kind == Event.Kind.DECLINED:
            code, _sep, rest = self.note.partition(": ")
            if code in DeclineReason.values:
                label = str(DeclineReason(code).label)
                return f"{label}: {rest}" if rest else label
        return self.note


class Feedback(models.Model):
    class Kind(models.TextChoices):
        FIRST_CONTACT = "first_contact", _("First contact made")
        PLAN_AGREED = "plan_agreed", _("Plan agreed")
        PROGRESS = "progress", _("Progress")
        CLOSURE = "closure", _("Closure")

    class ContactMethod(models.TextChoices):
        PHONE = "phone", _("By phone")
        HOME_VISIT = "home_visit", _("Home visit")
        CONSULTATION_HOUR = "consultation_hour", _("At the consultation hour in the practice")
        OFFICE = "office", _("At our office")
        OTHER = "other", _("Other")

    class Outcome(models.TextChoices):
        GOALS_MET = "goals_met", _("Goals met")
        PARTLY_MET = "partly_met", _("Goals partly met")
        REFERRED_ON = "referred_on", _("Referred on to other help")
        PATIENT_STOPPED = "patient_stopped", _("Patient stopped")
        NOT_REACHED = "not_reached", _("Patient could not be reached")
        OTHER = "other", _("Other")

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="feedback")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("author"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("sent at"))
    contact_date = models.DateField(_("date of contact"), null=True, blank=True)
    contact_method = models.CharField(_("how"), max_length=20, choices=ContactMethod.choices, blank=True)
    text = models.TextField(_("how is the patient doing"), max_length=4000, blank=True)
    domain_statuses = models.JSONField(_("status per life domain"), default=dict, blank=True)
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices, blank=True)
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("feedback")
        verbose_name_plural = _("feedback")
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="closure") | ~Q(outcome=""), name="feedback_closure_has_outcome"
            ),
        ]

    def __str__(self) -> str:
        return self.get_kind_display()


class Message(models.Model):
    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("sent at"), auto_now_add=True)
    text = models.TextField(_("message"), max_length=4000)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.author} @ {self.created_at:%Y-%m-%d %H:%M}"


class JointConsultation(models.Model):
    class State(models.TextChoices):
        PLANNED = "planned", _("Planned")
        HELD = "held", _("Held")
        CANCELLED = "cancelled", _("Cancelled")

    referral = models.OneToOneField(Referral, on_delete=models.CASCADE, related_name="joint_consultation")
    scheduled_at = models.DateTimeField(_("date and time"))
    location = models.CharField(_("location"), max_length=200)
    participants = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("participants"), related_name="joint_consultations"
    )
    patient_attends = models.BooleanField(_("the patient takes part"), default=True)
    agenda = models.TextField(_("agenda"), blank=True, max_length=4000)
    notes = models.TextField(_("notes"), blank=True, max_length=8000)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.PLANNED)

    class Meta:
        verbose_name = _("joint consultation")
        verbose_name_plural = _("joint consultations")

    def __str__(self) -> str:
        return f"{self.referral.reference} @ {self.scheduled_at:%Y-%m-%d %H:%M}"


class AgreedAction(models.Model):
    consultation = models.ForeignKey(JointConsultation, on_delete=models.CASCADE, related_name="actions")
    description = models.CharField(_("action"), max_length=300)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.PROTECT, related_name="+"
    )
    due_on = models.DateField(_("due on"), null=True, blank=True)
    done = models.BooleanField(_("done"), default=False)

    class Meta:
        verbose_name = _("agreed action")
        verbose_name_plural = _("agreed actions")
        ordering = ["due_on", "pk"]

    def __str__(self) -> str:
        return self.description


class ReminderRule(models.Model):
    """When a step is overdue, who gets reminded. Rules without a pathway apply to every pathway."""

    class Trigger(models.TextChoices):
        NOT_ACCEPTED = "not_accepted", _("Not accepted … working days after sending")
        NO_FIRST_CONTACT = "no_first_contact", _("No first contact … working days after acceptance")
        FEEDBACK_DUE = "feedback_due", _("Progress feedback due (every feedback period while in progress)")
        ACKNOWLEDGE = "acknowledge", _("Closed, not acknowledged … working days after closure")
        CONSULTATION_SOON = "consultation_soon", _("Joint consultation in … days")

    class Audience(models.TextChoices):
        RECEIVER = "receiver", _("The receiver")
        ESCALATE = "escalate", _("Deputy and team coordinator, and tell the sender")
        SENDER = "sender", _("The sender")
        PARTICIPANTS = "participants", _("The participants")

    name = models.CharField(_("name"), max_length=120)
    pathway = models.ForeignKey(
        Pathway,
        verbose_name=_("pathway"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        help_text=_("Empty: for every pathway."),
    )
    trigger = models.CharField(_("when"), max_length=20, choices=Trigger.choices)
    days = models.PositiveSmallIntegerField(
        _("days"), default=2, help_text=_("Working days, except for joint consultations.")
    )
    audience = models.CharField(_("who"), max_length=15, choices=Audience.choices)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("reminder rule")
        verbose_name_plural = _("reminder rules")
        ordering = ["trigger", "days", "pk"]

    def __str__(self) -> str:
        return self.name


class Reminder(models.Model):
    """One reminder that was due: created once per (referral, rule, occurrence), whatever runs twice."""

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="reminders")
    rule = models.ForeignKey(ReminderRule, on_delete=models.CASCADE, related_name="reminders")
    occurrence = models.CharField(_("occurrence"), max_length=20, default="1")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("reminder")
        verbose_name_plural = _("reminders")
        constraints = [
            models.UniqueConstraint(
                fields=["referral", "rule", "occurrence"], name="reminder_once_per_occurrence"
            )
        ]

    def __str__(self) -> str:
        return f"{self.referral_id}/{self.rule_id}/{self.occurrence}"


class SweepCheckpoint(models.Model):
    """Where the reminder sweep left a rule: every referral that a transaction older than `oldest_xid` changed
    was examined on `day` by the rule as it was then (`signature`). Later the same day, only referrals
    changed since need looking at; a new day, a changed rule or no checkpoint means a full sweep."""

    rule = models.OneToOneField(ReminderRule, primary_key=True, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    oldest_xid = models.BigIntegerField()
    signature = models.CharField(max_length=200)

    def __str__(self) -> str:
        return f"{self.rule_id} @ {self.day}"


class ReferralTally(models.Model):
    """Counts of referrals per day of sending, receiving team and pathway, kept in step with the
    referral and reminder tables by database triggers (see referrals/tally.py). Never written by the
    application; read by overviews that would otherwise aggregate every referral."""

    day = models.DateField(_("day sent"))
    # No foreign-key constraints: the triggers write these rows, and teams and pathways with referrals
    # cannot be deleted anyway (PROTECT on the referral).
    receiving_team = models.ForeignKey(
        Team, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    pathway = models.ForeignKey(Pathway, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    sent = models.IntegerField(_("sent"), default=0)
    accepted = models.IntegerField(_("accepted"), default=0)
    declined = models.IntegerField(_("declined"), default=0)
    completed = models.IntegerField(_("closed with feedback"), default=0)
    reminders = models.IntegerField(_("reminders"), default=0)

    class Meta:
        verbose_name = _("referral tally")
        verbose_name_plural = _("referral tallies")
        constraints = [
            models.UniqueConstraint(fields=["day", "receiving_team", "pathway"], name="referraltally_key")
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.receiving_team_id}/{self.pathway_id}: {self.sent}"


class InboxTally(models.Model):
    """How many referrals each receiver has per team and status, kept in step with the referral table
    by database triggers (see referrals/inbox_tally.py). Never written by the application."""

    receiver = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    receiving_team = models.ForeignKey(
        Team, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    status = models.CharField(max_length=20, choices=Status.choices)
    n = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["receiver", "receiving_team", "status"], name="inboxtally_key")
        ]

    def __str__(self) -> str:
        return f"{self.receiver_id}/{self.receiving_team_id}/{self.status}: {self.n}"
