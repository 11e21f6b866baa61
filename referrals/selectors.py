"""Reads of referrals: the access helper, inboxes and timelines."""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import Case, Exists, IntegerField, OuterRef, Prefetch, Q, QuerySet, Sum, Value, When
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from collab_hub.audit.models import AccessEvent, Outcome
from collab_hub.audit.services import AuditContext, access_log_write
from patients.selectors import practice_ids_of, relationships_of, role_of
from teams.models import Membership, Team
from teams.selectors import coordinated_teams, discipline_of

from .models import (
    OPEN_STATUSES,
    Event,
    Feedback,
    InboxTally,
    Pathway,
    Referral,
    Status,
    next_due,
    urgency_rank,
)
from .workflow import REQUESTER, STEPS, may, roles_of


class StepUnavailable(PermissionDenied):
    """The person may act on the referral, but not this step in its current status (someone else took a
    step first, a double click): refused and logged like any denial, told as a message, not a 403 page."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _base() -> QuerySet[Referral]:
    return Referral.objects.select_related(
        "patient__practice",
        "pathway",
        "sender__profile",
        "sender_organisation",
        "receiver__profile",
        "receiving_team__organisation",
    )


def _list_base() -> QuerySet[Referral]:
    """For lists: the referral with its patient and pathway in one query and the people and
    organisations (a handful per page) prefetched. A twelve-table join costs Postgres more to plan
    than the few small queries cost to run."""
    return Referral.objects.select_related("patient", "pathway").prefetch_related(
        "patient__practice",
        "sender__profile",
        "sender_organisation",
        "receiver__profile",
        "receiving_team__organisation",
    )


def visible_referrals(*, user, at=None) -> QuerySet[Referral]:
    """Referrals `user` may open now: those of their practice's patients (the practice team), and those
    they are involved in by an open care relationship (referrals/workflow.py: as sender outside the
    practice, receiver, coordinator of the receiving team, consultation participant). Having once
    appeared in a referral's history grants nothing."""
    return Referral.objects.filter(
        Q(patient__practice__in=practice_ids_of(user)) | Q(pk__in=_involved_referral_ids(user, at=at))
    )


def _involved_referral_ids(user, *, at=None):
    """The referrals `user` has an open care relationship through at `at` (now), as a subquery."""
    return relationships_of(user=user, at=at).filter(referral_id__isnull=False).values("referral_id")


def get_referral_for_user(
    *,
    user,
    pk: int,
    audit: AuditContext | None = None,
    event: AccessEvent = AccessEvent.VIEW,
    needs: str | None = None,
) -> Referral:
    """The only way views fetch a referral: 404 without a current relationship (and for a referral
    entered in error, for anyone but the sending practice); 403 when `needs` names a workflow step the
    user may not take now. Every access is logged with its outcome before anything is shown."""
    referral = _base().filter(pk=pk).first()
    allowed = referral is not None and visible_referrals(user=user).filter(pk=pk).exists()
    roles = roles_of(user, referral) if allowed else frozenset()
    if allowed and referral.status == Status.ENTERED_IN_ERROR and not roles & REQUESTER:
        allowed = False
    may_act = allowed and (needs is None or may(STEPS[needs], roles, referral))
    # A step whose roles the person holds but whose status has passed is refused softly (below).
    wrong_status = allowed and not may_act and bool(STEPS[needs].roles & roles)
    access_log_write(
        user=user,
        audit=audit,
        event=event,
        outcome=Outcome.ALLOWED if may_act else Outcome.DENIED,
        role=role_of(user),
        patient_id=referral.patient_id if referral else None,
        object_type="referral",
        object_id=pk,
        purpose=referral.pathway.consent_purpose if referral else "",
        consent_id=referral.consent_id if referral else None,
        reason=(f"needs: {needs}" + (f" (status {referral.status})" if wrong_status else ""))
        if allowed and not may_act
        else "",
    )
    if not allowed:
        raise Http404
    if wrong_status:
        raise StepUnavailable(
            _("This referral is now '%(status)s'; that step is no longer possible. Nothing was changed.")
            % {"status": referral.get_status_display()}
        )
    if not may_act:
        raise PermissionDenied
    referral.roles = roles
    return referral


def _with_rank(qs: QuerySet[Referral]) -> QuerySet[Referral]:
    today = timezone.localdate()
    return qs.annotate(
        urgency_rank=urgency_rank(),
        next_due=next_due(),
        has_unacknowledged=Exists(
            Feedback.objects.filter(referral=OuterRef("pk"), acknowledged_at__isnull=True)
        ),
    ).annotate(
        is_overdue=Case(When(overdue_q(today), then=Value(1)), default=Value(0), output_field=IntegerField())
    )


def overdue_q(today) -> Q:
    return (
        Q(status=Status.REQUESTED, accept_by__lt=today)
        | Q(status=Status.ACCEPTED, first_contact_by__lt=today)
        | Q(status=Status.IN_PROGRESS, feedback_by__lt=today)
    )


def due_date_order():
    """Most urgent, then the step due soonest (overdue first, a new referral within its days to accept),
    as the inbox indexes hold it (models.INBOX_ORDER)."""
    return ["urgency_rank", "next_due", "pk"]


def received_filters(today) -> dict[str, Q]:
    return {
        "new": Q(status=Status.REQUESTED),
        "no_first_contact": Q(status=Status.ACCEPTED, first_contact_at__isnull=True),
        "feedback_due": Q(status=Status.IN_PROGRESS, feedback_by__lte=today),
        "overdue": overdue_q(today),
        "open": Q(status__in=OPEN_STATUSES),
    }


# A decline stays at the top of the sender's list this long: they have to find the patient another way.
RECENT_DECLINE_DAYS = 14


def recently_declined() -> Q:
    return Q(status=Status.REJECTED, closed_at__gte=timezone.now() - timedelta(days=RECENT_DECLINE_DAYS))


def sent_filters(today) -> dict[str, Q]:
    return {
        "open": Q(status__in=OPEN_STATUSES),
        "overdue": overdue_q(today),
        "to_acknowledge": Q(has_unacknowledged=True),
        "declined": recently_declined(),
        "closed": Q(status__in=[Status.COMPLETED, Status.REJECTED, Status.CANCELLED]),
    }


def _my_teams(user):
    return Membership.objects.filter(user=user).values("team_id")


def _grace_start():
    return timezone.now() - timedelta(days=settings.REFERRAL_ACCESS_GRACE_DAYS)


def live_for_receiving_side() -> Q:
    """Referrals the receiving side is still involved in (referrals/workflow.py): open ones, and completed
    ones during the grace period. Declined, cancelled and entered-in-error ones ended their access at once,
    and so does a withdrawal of consent (it cancels the referral)."""
    return Q(status__in=OPEN_STATUSES) | Q(status=Status.COMPLETED, closed_at__gt=_grace_start())


def received_for(*, user, scope: str = "me") -> QuerySet[Referral]:
    """Referrals with me (while I am in their team), or for a coordinator ("team") those of the teams they
    coordinate, while the receiving side is involved: the same referrals the referral page opens for.
    Most urgent and due first."""
    if scope == "team":
        qs = _list_base().filter(receiving_team__in=coordinated_teams(user))
    else:
        qs = _list_base().filter(receiver=user, receiving_team__in=_my_teams(user))
    return _with_rank(qs.filter(live_for_receiving_side())).order_by(*due_date_order())


def sent_for(*, user) -> QuerySet[Referral]:
    """Referrals sent by me or by my practice, as far as I may open them: my practice's patients, or one
    I sent and am still involved in."""
    practices = practice_ids_of(user)
    qs = _list_base().filter(
        Q(sender_organisation__in=practices, patient__practice__in=practices)
        | Q(sender=user, pk__in=_involved_referral_ids(user))
    )
    # What asks something of the sender first: feedback to read, then a recent decline (the patient
    # still needs help), then the open ones by due date; closed ones last.
    attention = Case(
        When(has_unacknowledged=True, then=Value(0)),
        When(recently_declined(), then=Value(1)),
        When(status__in=OPEN_STATUSES, then=Value(2)),
        default=Value(3),
        output_field=IntegerField(),
    )
    ranked = _with_rank(qs.exclude(status=Status.ENTERED_IN_ERROR)).annotate(attention=attention)
    return ranked.order_by("attention", *due_date_order())


def received_total(*, user, scope: str = "me", statuses=None) -> int:
    """How many referrals `received_for(user=user, scope=scope)` holds (only those in `statuses`, if
    given), read from the counts the database keeps per receiver, team and status: a few rows instead
    of a count over a busy receiver's whole list."""
    qs = InboxTally.objects.filter(status__in=OPEN_STATUSES)
    if scope == "team":
        qs = qs.filter(receiving_team__in=coordinated_teams(user))
    else:
        qs = qs.filter(receiver=user, receiving_team__in=_my_teams(user))
    if statuses is not None:
        qs = qs.filter(status__in=statuses)
    total = qs.aggregate(n=Coalesce(Sum("n"), 0))["n"]
    if statuses is None or Status.COMPLETED in statuses:
        # Completed ones count only during the grace period: a bounded count of the last weeks' closures.
        closed = Referral.objects.filter(status=Status.COMPLETED, closed_at__gt=_grace_start())
        if scope == "team":
            closed = closed.filter(receiving_team__in=coordinated_teams(user))
        else:
            closed = closed.filter(receiver=user, receiving_team__in=_my_teams(user))
        total += closed.count()
    return total


# Inbox filters that select by status only, so their totals come from the counts as well.
STATUS_FILTERS = {"new": [Status.REQUESTED], "open": OPEN_STATUSES}


def inbox_counts(*, user) -> dict[str, int]:
    """Numbers for the navigation: new referrals to me, and feedback waiting for my acknowledgement."""
    received = received_total(user=user, statuses=[Status.REQUESTED])
    unread = Feedback.objects.filter(referral=OuterRef("pk"), acknowledged_at__isnull=True)
    to_acknowledge = (
        Referral.objects.filter(sender=user)
        .filter(Exists(unread))
        .exclude(status=Status.ENTERED_IN_ERROR)
        .count()
    )
    return {"received": received, "to_acknowledge": to_acknowledge}


def timeline_for(referral: Referral) -> list:
    """Events, feedback and messages of one referral, oldest first."""
    # Feedback rows tell first contact, progress and closure themselves; their events would repeat them.
    told_by_feedback = [Event.Kind.FIRST_CONTACT, Event.Kind.FEEDBACK, Event.Kind.COMPLETED]
    events = list(
        referral.events.exclude(kind__in=told_by_feedback).select_related("actor", "from_user", "to_user")
    )
    feedback = list(referral.feedback.select_related("author", "acknowledged_by"))
    messages = list(referral.messages.select_related("author"))
    items = [("event", e.at, e) for e in events] + [("feedback", f.created_at, f) for f in feedback]
    items += [("message", m.created_at, m) for m in messages]
    return sorted(items, key=lambda item: (item[1], item[0]))


def referrals_of_patient(*, patient, user) -> QuerySet[Referral]:
    """The patient's referrals this user may see, with their feedback for the patient-page timeline."""
    return (
        visible_referrals(user=user)
        .filter(patient=patient)
        .exclude(status=Status.ENTERED_IN_ERROR)
        .select_related("pathway", "receiver", "receiving_team", "sender")
        .prefetch_related(
            Prefetch("feedback", queryset=Feedback.objects.select_related("author")), "shared_concerns"
        )
        .order_by("-sent_at", "-pk")
    )


def reminder_overview(*, teams, today) -> dict:
    from datetime import timedelta

    from django.db.models import Count

    from .models import Reminder, ReminderRule

    week_start = today - timedelta(days=today.weekday())
    per_rule = ReminderRule.objects.annotate(
        sent=Count(
            "reminders",
            filter=Q(
                reminders__created_at__date__gte=week_start, reminders__referral__receiving_team__in=teams
            ),
        )
    ).order_by("trigger", "days")
    overdue = (
        Referral.objects.filter(receiving_team__in=teams)
        .filter(overdue_q(today))
        .select_related("pathway", "receiving_team", "receiver")
        .annotate(reminder_count=Count("reminders"))
        .order_by("accept_by", "first_contact_by", "feedback_by")
    )
    return {
        "per_rule": per_rule,
        "overdue": overdue[:200],
        "week_start": week_start,
        "reminders_total": Reminder.objects.filter(referral__receiving_team__in=teams).count(),
    }


def pathways_for_sender(*, user) -> list[Pathway]:
    """Active pathways this person's discipline may send on."""
    discipline = discipline_of(user)
    return [
        p
        for p in Pathway.objects.filter(active=True)
        if not p.sender_disciplines or discipline in p.sender_disciplines
    ]


def overview_teams(*, user) -> QuerySet[Team]:
    """Team coordinators see their teams; project leads see every team. Others have no overview."""
    if discipline_of(user) == "project_lead" or user.is_staff:
        return Team.objects.all()
    coordinated = Membership.objects.filter(user=user, role=Membership.Role.COORDINATOR).values("team_id")
    return Team.objects.filter(pk__in=coordinated)
