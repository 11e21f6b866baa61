"""The referral reminder sweep, derived from database state each time beat runs it.

For every active rule, the referrals whose step is overdue are selected in SQL. A `Reminder` row is
inserted per (referral, rule, occurrence) with ON CONFLICT DO NOTHING, and a notification per recipient
with its own unique key: running the sweep twice, or in two processes at once, creates each once.
"""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import CharField, Exists, Func, OuterRef, Q, Subquery
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from collab_hub.core.db import insert_select_sql
from collab_hub.core.workdays import day_start, due_cutoff
from collab_hub.notifications.models import Category, EmailState, Notification
from collab_hub.notifications.services import EMAIL_STATE_FOR_MODE
from teams.models import Membership, Organisation, Team
from teams.selectors import current_contact_for

from .models import (
    OPEN_STATUSES,
    JointConsultation,
    Pathway,
    Referral,
    Reminder,
    ReminderRule,
    Status,
    SweepCheckpoint,
)


class EpochText(Func):
    """A moment as text that fits the occurrence column and reads the same in any session time zone:
    microseconds since 1970 (16 digits)."""

    template = "(EXTRACT(EPOCH FROM %(expressions)s) * 1000000)::bigint::text"
    output_field = CharField()


# What makes a new occurrence of a rule, so that the step is reminded again when it comes round again:
# a forward or reassignment (the moment it came to the receiver), a new first-contact or feedback-by
# date, a new closure (reopened and closed again), a moved joint consultation.
def _occurrence(trigger: str):
    T = ReminderRule.Trigger
    if trigger == T.NOT_ACCEPTED:
        return EpochText(Coalesce("assigned_at", "sent_at"))
    if trigger == T.CONSULTATION_SOON:
        planned = JointConsultation.objects.filter(
            referral=OuterRef("pk"), state=JointConsultation.State.PLANNED
        ).values("scheduled_at")[:1]
        return EpochText(Subquery(planned))
    if trigger == T.ACKNOWLEDGE:
        return EpochText("completed_at")
    field = {T.NO_FIRST_CONTACT: "first_contact_by", T.FEEDBACK_DUE: "feedback_by"}
    return Cast(field[trigger], CharField())


def after(day):
    """The first moment after `day` (local midnight): `at < after(d)` is `at` on or before `d`."""
    return day_start(day + timedelta(days=1))


def due_referrals(rule: ReminderRule, now):
    """The referrals for which `rule` is due at `now` and not yet created, annotated with `occurrence`."""
    today = timezone.localdate(now)
    qs = Referral.objects.all()
    if rule.pathway_id:
        qs = qs.filter(pathway_id=rule.pathway_id)
    T = ReminderRule.Trigger
    if rule.trigger == T.NOT_ACCEPTED:
        # From the moment it came to the current receiver: a forward or reassignment restarts the clock.
        cutoff = after(due_cutoff(today, rule.days))
        qs = qs.filter(
            Q(assigned_at__lt=cutoff) | Q(assigned_at__isnull=True, sent_at__lt=cutoff),
            status=Status.REQUESTED,
        )
    elif rule.trigger == T.NO_FIRST_CONTACT:
        qs = qs.filter(status=Status.ACCEPTED, accepted_at__lt=after(due_cutoff(today, rule.days)))
    elif rule.trigger == T.FEEDBACK_DUE:
        qs = qs.filter(status=Status.IN_PROGRESS, feedback_by__lte=today)
    elif rule.trigger == T.ACKNOWLEDGE:
        qs = qs.filter(
            status=Status.COMPLETED,
            acknowledged_at__isnull=True,
            completed_at__lt=after(due_cutoff(today, rule.days)),
        )
    else:
        soon = JointConsultation.objects.filter(
            state=JointConsultation.State.PLANNED,
            scheduled_at__gte=now,
            scheduled_at__date__lte=today + timedelta(days=rule.days),
        )
        qs = qs.filter(pk__in=soon.values("referral_id"), status__in=OPEN_STATUSES)
    qs = qs.annotate(occurrence=_occurrence(rule.trigger))
    exists = Reminder.objects.filter(rule=rule, referral=OuterRef("pk"), occurrence=OuterRef("occurrence"))
    return qs.exclude(Exists(exists))


def _texts(rule: ReminderRule) -> tuple[str, str]:
    """Subject and text without patient data (the pathway and the pseudonymous reference only), as
    %(reference)s / %(pathway)s templates in the active language."""
    T = ReminderRule.Trigger
    if rule.audience == ReminderRule.Audience.ESCALATE:
        return (
            _("Escalation: referral %(reference)s is not accepted"),
            _(
                "A %(pathway)s referral has waited too long for acceptance. "
                "Please arrange that someone picks it up."
            ),
        )
    texts = {
        T.NOT_ACCEPTED: (
            _("Referral %(reference)s waits for acceptance"),
            _("A %(pathway)s referral has not been accepted yet."),
        ),
        T.NO_FIRST_CONTACT: (
            _("Referral %(reference)s: no first contact yet"),
            _("A %(pathway)s referral was accepted but the first contact is not recorded."),
        ),
        T.FEEDBACK_DUE: (
            _("Referral %(reference)s: progress feedback is due"),
            _("The GP is waiting to hear how the patient is doing (%(pathway)s)."),
        ),
        T.ACKNOWLEDGE: (
            _("Referral %(reference)s: feedback waits for you"),
            _("The %(pathway)s referral was closed; please read and acknowledge the feedback."),
        ),
        T.CONSULTATION_SOON: (
            _("Joint consultation soon (%(reference)s)"),
            _("A joint consultation you take part in is planned within a few days."),
        ),
    }
    return texts[rule.trigger]


def _as_sql_format(template: str) -> str:
    """A %(reference)s/%(pathway)s template as a template of Postgres' format(fmt, reference, pathway)."""
    marked = template % {"reference": "\x01", "pathway": "\x02"}
    return marked.replace("%", "%%").replace("\x01", "%1$s").replace("\x02", "%2$s")


def _localised_sql(rule: ReminderRule, column: str, params: list) -> str:
    """A CASE over the recipient's language (u.language) that formats subject (0) or text (1)."""
    index = 0 if column == "subject" else 1
    branches = []
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            params.extend([code, _as_sql_format(_texts(rule)[index])])
        branches.append("WHEN %s THEN format(%s, r.reference, p.name)")
    with translation.override(settings.LANGUAGE_CODE):
        params.append(_as_sql_format(_texts(rule)[index]))
    return f"CASE u.language {' '.join(branches)} ELSE format(%s, r.reference, p.name) END"


def _recipients_sql(rule: ReminderRule, pairs: set[tuple[int, int]], params: list) -> str:
    """(referral_id, occurrence, user_id) for each newly created reminder in `new`."""
    A = ReminderRule.Audience
    if rule.audience in (A.RECEIVER, A.SENDER):
        column = "receiver_id" if rule.audience == A.RECEIVER else "sender_id"
        return (
            f"SELECT n.referral_id, n.occurrence, r.{column} AS user_id FROM new n "  # noqa: S608 (names only)
            f"JOIN {Referral._meta.db_table} r ON r.id = n.referral_id WHERE r.{column} IS NOT NULL"
        )
    if rule.audience == A.PARTICIPANTS:
        through = JointConsultation.participants.through._meta.db_table
        return (
            "SELECT n.referral_id, n.occurrence, jp.user_id FROM new n "  # noqa: S608 (names only)
            f"JOIN {JointConsultation._meta.db_table} jc ON jc.referral_id = n.referral_id "
            f"JOIN {through} jp ON jp.jointconsultation_id = jc.id"
        )
    # Escalation: the deputy of the named contact, the team coordinators, and the sender is told;
    # never the receiver the escalation is about.
    practices, teams, deputies = _deputies(pairs)
    params.extend([practices, teams, deputies, Membership.Role.COORDINATOR])
    return f"""
        SELECT DISTINCT n.referral_id, n.occurrence, x.user_id
        FROM new n JOIN {Referral._meta.db_table} r ON r.id = n.referral_id
        CROSS JOIN LATERAL (
            SELECT r.sender_id
            UNION SELECT d.deputy_id
                FROM unnest(%s::int[], %s::int[], %s::int[]) AS d(practice_id, team_id, deputy_id)
                WHERE d.practice_id = r.sender_organisation_id AND d.team_id = r.receiving_team_id
            UNION SELECT m.user_id FROM {Membership._meta.db_table} m
                WHERE m.team_id = r.receiving_team_id AND m.role = %s
        ) AS x(user_id)
        WHERE x.user_id IS NOT NULL AND x.user_id IS DISTINCT FROM r.receiver_id"""  # noqa: S608 (names only)


def _deputies(pairs: set[tuple[int, int]]) -> tuple[list[int], list[int], list[int]]:
    """The deputy of the named contact per (practice, team) of the due referrals: one look-up per
    pair per sweep, since the answer is the same for all of their referrals."""
    practices = Organisation.objects.in_bulk({p for p, _t in pairs})
    teams = Team.objects.in_bulk({t for _p, t in pairs})
    found: tuple[list[int], list[int], list[int]] = ([], [], [])
    for practice_id, team_id in pairs:
        resolution = current_contact_for(practice=practices[practice_id], team=teams[team_id])
        if resolution is not None and resolution.named_contact.deputy_id:
            deputy = resolution.named_contact.deputy_id
            for column, value in zip(found, (practice_id, team_id, deputy), strict=True):
                column.append(value)
    return found


def sweep(now, *, full: bool = False) -> int:
    """Create the reminders that are due at `now`, and their notifications. Returns how many new
    reminders were created. Set-based: one statement per rule, whatever the number of referrals.

    The first sweep of a day looks at every referral; later sweeps that day look only at referrals
    changed since the previous one (`SweepCheckpoint`), because within a day nothing else can become
    due. `full=True` looks at everything regardless (e.g. after reminders were deleted by hand)."""
    created = 0
    for rule in ReminderRule.objects.filter(active=True).order_by("pk"):
        created += _sweep_rule(rule, now, full=full)
    return created


def _signature(rule: ReminderRule) -> str:
    return f"{rule.trigger}:{rule.days}:{rule.audience}:{rule.pathway_id}"


def _sweep_rule(rule: ReminderRule, now, *, full: bool) -> int:
    """INSERT the due reminders (ON CONFLICT DO NOTHING) and, for exactly the rows that statement
    inserted, one notification per recipient (unique key, ON CONFLICT DO NOTHING), in one statement:
    two sweeps at once, or a sweep run twice, create each reminder and notification once."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            # Before anything is read: every transaction older than this one is visible to what follows.
            cursor.execute("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
            oldest_xid = cursor.fetchone()[0]
        today = timezone.localdate(now)
        checkpoint = SweepCheckpoint.objects.filter(rule=rule).first()
        due = due_referrals(rule, now)
        # A joint consultation's reminder depends on the clock, not only on the referral: always full.
        if (
            not full
            and checkpoint is not None
            and checkpoint.day == today
            and checkpoint.signature == _signature(rule)
            and rule.trigger != ReminderRule.Trigger.CONSULTATION_SOON
        ):
            due = due.filter(changed_xid__gte=checkpoint.oldest_xid)
        created = _create_due(rule, due.order_by().values("pk", "occurrence"))
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {SweepCheckpoint._meta.db_table} (rule_id, day, oldest_xid, signature) "  # noqa: S608
                "VALUES (%s, %s, %s, %s) ON CONFLICT (rule_id) DO UPDATE "
                "SET day = EXCLUDED.day, oldest_xid = EXCLUDED.oldest_xid, signature = EXCLUDED.signature",
                [rule.pk, today, oldest_xid, _signature(rule)],
            )
    return created


def _create_due(rule: ReminderRule, due) -> int:
    """The reminders and notifications for the (pk, occurrence) rows of `due`, in one statement."""
    due_sql, due_params = due.query.sql_with_params()
    pairs: set[tuple[int, int]] = set()
    if rule.audience == ReminderRule.Audience.ESCALATE:
        # The deputies depend on practice and team: read the due set once, and remind exactly that set
        # (a referral that became due in between waits for the next sweep, with its deputy).
        rows = list(due.values_list("pk", "sender_organisation_id", "receiving_team_id"))
        if not rows:
            return 0
        pairs = {(practice, team) for _pk, practice, team in rows}
        due_sql = f"SELECT * FROM ({due_sql}) AS d WHERE d.pk = ANY(%s)"  # noqa: S608 (no input)
        due_params = (*due_params, [pk for pk, _p, _t in rows])
    stamp = timezone.now()
    recipient_params: list = []
    recipients = _recipients_sql(rule, pairs, recipient_params)
    subject_params: list = []
    subject = _localised_sql(rule, "subject", subject_params)
    body_params: list = []
    body = _localised_sql(rule, "body", body_params)
    states = [v for mode, state in EMAIL_STATE_FOR_MODE.items() for v in (mode, state)]
    when_mode = " ".join("WHEN %s THEN %s" for _mode in EMAIL_STATE_FOR_MODE)
    notification = insert_select_sql(
        Notification,
        {
            "recipient_id": "x.user_id",
            "kind": "%s",
            "subject": f"left({subject}, 200)",
            "body": body,
            "link": "'/referrals/' || r.id || '/'",
            "reference": "r.reference",
            "dedupe_key": "left('referral:' || r.id || %s || x.occurrence || ':user:' || x.user_id, 200)",
            "created_at": "%s",
            "email_state": f"CASE u.email_mode {when_mode} ELSE %s END",
            "email_attempts": "0",
            "email_error": "''",
            "category": f"'{Category.REMINDERS.value}'",
        },
    )
    states.append(EmailState.PENDING)
    reminder = insert_select_sql(
        Reminder,
        {"referral_id": "due.id", "rule_id": "%s", "occurrence": "due.occurrence", "created_at": "%s"},
    )
    # Parameters in the order their placeholders appear in the statement below; table and column names
    # come from the models, every value is a parameter.
    params = [
        *due_params,
        rule.pk,
        stamp,
        f"referral.{rule.trigger}",
        *subject_params,
        *body_params,
        f":rule:{rule.pk}:",
        stamp,
        *states,
        *recipient_params,
    ]
    sql = f"""
        WITH due (id, occurrence) AS ({due_sql}),
        new AS (
            {reminder} FROM due
            ON CONFLICT ON CONSTRAINT reminder_once_per_occurrence DO NOTHING
            RETURNING referral_id, occurrence
        ),
        told AS (
            {notification}
            FROM ({recipients}) AS x
            JOIN {Referral._meta.db_table} r ON r.id = x.referral_id
            JOIN {Pathway._meta.db_table} p ON p.id = r.pathway_id
            JOIN {get_user_model()._meta.db_table} u ON u.id = x.user_id
            ON CONFLICT (dedupe_key) DO NOTHING
        )
        SELECT count(*) FROM new"""  # noqa: S608 (names only)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def panels(now) -> list[tuple[str, int]]:
    """The notifications app's sweep hook."""
    return [("referral_reminders", sweep(now))]
