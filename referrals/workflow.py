"""The rules of a referral's life, in one table.

For every action: the statuses it is allowed from, the status it leads to, which *current* roles may
take it, whether valid consent is needed at that moment, and what it does to access. The services
(referrals/services.py) enforce it, the referral page offers exactly the actions it allows, the demo
data is played through the services, and the tests are generated from it.

Roles are what a person is *now*, never what they once were: someone who declined, was forwarded or
reassigned away, or left the team has none of them, and the event log grants nothing.
"""

from dataclasses import dataclass
from enum import StrEnum

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from teams.models import Membership, Organisation, Team

from .models import OPEN_STATUSES, Event, Referral, Status


class Role(StrEnum):
    SENDER = "sender"  # the person who sent the referral
    PRACTICE = "practice"  # a colleague in the sending practice's practice team (the practice acts as one)
    RECEIVER = "receiver"  # the person it is with now, while a member of the receiving team
    COORDINATOR = "coordinator"  # a coordinator of the receiving team
    PARTICIPANT = "participant"  # invited to the referral's joint consultation


class AccessChange(StrEnum):
    NONE = "none"
    GRANT = "grant"  # the receiver, the receiving team's coordinators, a sender outside the practice
    HANDOVER = "handover"  # the previous receiver's access ends now; the new one's (and team's) begins
    DECLINE = "decline"  # the receiving side's access ends now; the sender keeps theirs
    CLOSE = "close"  # everyone's referral access ends after the grace period (REFERRAL_ACCESS_GRACE_DAYS)
    REOPEN = "reopen"  # what CLOSE scheduled to end is open again
    END = "end"  # everyone's referral access ends now (cancelled, entered in error)
    PARTICIPANTS = "participants"  # the consultation's participants get access; removed ones lose it


REQUESTER = frozenset({Role.SENDER, Role.PRACTICE})
RECEIVING = frozenset({Role.RECEIVER, Role.COORDINATOR})
INVOLVED = REQUESTER | RECEIVING | {Role.PARTICIPANT}
ALL_STATUSES = frozenset(Status.values)


@dataclass(frozen=True)
class Step:
    action: str
    label: str
    allowed_from: frozenset[str]
    to: str | None  # None: the status stays
    roles: frozenset[Role]
    consent: bool  # valid consent for the recipient at that moment, locked (patients.consent_for_use)
    access: AccessChange
    event: str | None  # the Event kind it appends
    joint_consultation_only: bool = False


STEPS: dict[str, Step] = {
    step.action: step
    for step in [
        Step(
            "send",
            _("Send"),
            frozenset({Status.DRAFT}),
            Status.REQUESTED,
            frozenset({Role.SENDER}),
            True,
            AccessChange.GRANT,
            Event.Kind.SENT,
        ),
        Step(
            "accept",
            _("Accept"),
            frozenset({Status.REQUESTED}),
            Status.ACCEPTED,
            RECEIVING,
            False,
            AccessChange.NONE,
            Event.Kind.ACCEPTED,
        ),
        Step(
            "decline",
            _("Decline"),
            frozenset({Status.REQUESTED, Status.ACCEPTED}),
            Status.REJECTED,
            RECEIVING,
            False,
            AccessChange.DECLINE,
            Event.Kind.DECLINED,
        ),
        Step(
            "forward",
            _("Forward"),
            frozenset({Status.REQUESTED, Status.ACCEPTED}),
            Status.REQUESTED,
            RECEIVING,
            True,
            AccessChange.HANDOVER,
            Event.Kind.FORWARDED,
        ),
        Step(
            "reassign",
            _("Reassign"),
            frozenset(OPEN_STATUSES),
            None,
            frozenset({Role.COORDINATOR}),
            True,
            AccessChange.HANDOVER,
            Event.Kind.REASSIGNED,
        ),
        Step(
            "first_contact",
            _("Record first contact"),
            frozenset({Status.ACCEPTED}),
            Status.IN_PROGRESS,
            RECEIVING,
            False,
            AccessChange.NONE,
            Event.Kind.FIRST_CONTACT,
        ),
        Step(
            "feedback",
            _("Send feedback"),
            frozenset({Status.IN_PROGRESS, Status.ON_HOLD}),
            None,
            RECEIVING,
            False,
            AccessChange.NONE,
            Event.Kind.FEEDBACK,
        ),
        Step(
            "hold",
            pgettext_lazy("action", "Put on hold"),
            frozenset({Status.IN_PROGRESS}),
            Status.ON_HOLD,
            RECEIVING,
            False,
            AccessChange.NONE,
            Event.Kind.ON_HOLD,
        ),
        Step(
            "resume",
            _("Resume"),
            frozenset({Status.ON_HOLD}),
            Status.IN_PROGRESS,
            RECEIVING,
            False,
            AccessChange.NONE,
            Event.Kind.RESUMED,
        ),
        Step(
            "complete",
            _("Close with outcome"),
            frozenset({Status.IN_PROGRESS, Status.ON_HOLD}),
            Status.COMPLETED,
            RECEIVING,
            False,
            AccessChange.CLOSE,
            Event.Kind.COMPLETED,
        ),
        Step(
            "reopen",
            _("Reopen"),
            frozenset({Status.COMPLETED}),
            Status.IN_PROGRESS,
            RECEIVING,
            True,
            AccessChange.REOPEN,
            Event.Kind.REOPENED,
        ),
        Step(
            "acknowledge",
            _("Acknowledge feedback"),
            frozenset({Status.IN_PROGRESS, Status.ON_HOLD, Status.COMPLETED}),
            None,
            REQUESTER,
            False,
            AccessChange.NONE,
            Event.Kind.ACKNOWLEDGED,
        ),
        Step(
            "cancel",
            _("Cancel referral"),
            frozenset({Status.DRAFT, *OPEN_STATUSES}),
            Status.CANCELLED,
            REQUESTER,
            False,
            AccessChange.END,
            Event.Kind.CANCELLED,
        ),
        Step(
            "entered_in_error",
            _("Entered in error"),
            ALL_STATUSES - {Status.ENTERED_IN_ERROR},
            Status.ENTERED_IN_ERROR,
            REQUESTER,
            False,
            AccessChange.END,
            Event.Kind.ENTERED_IN_ERROR,
        ),
        Step(
            "message",
            _("Send message"),
            frozenset({*OPEN_STATUSES, Status.COMPLETED}),
            None,
            INVOLVED,
            True,
            AccessChange.NONE,
            None,
        ),
        Step(
            "plan_consultation",
            _("Plan joint consultation"),
            frozenset({Status.REQUESTED, Status.ACCEPTED, Status.IN_PROGRESS}),
            None,
            REQUESTER | RECEIVING,
            True,
            AccessChange.PARTICIPANTS,
            None,
            joint_consultation_only=True,
        ),
        Step(
            "record_consultation",
            _("Record joint consultation"),
            frozenset(OPEN_STATUSES),
            None,
            INVOLVED,
            True,
            AccessChange.NONE,
            None,
            joint_consultation_only=True,
        ),
    ]
}


def roles_of(user, referral: Referral) -> frozenset[Role]:
    """What `user` is for `referral` now."""
    if user is None or not user.is_authenticated or not user.is_active:
        return frozenset()
    fields = ("team_id", "team__kind", "role", "team__organisation_id", "team__organisation__kind")
    rows = list(Membership.objects.filter(user=user).values_list(*fields))
    memberships = [(team, kind, role) for team, kind, role, _org, _org_kind in rows]
    organisations = {org for _team, _kind, _role, org, _org_kind in rows}
    roles = set()
    in_receiving_team = any(team == referral.receiving_team_id for team, _kind, _role in memberships)
    # Every role holds only while the person works where it comes from: the sender for the organisation
    # they sent for, a participant in one of the consultation's teams.
    if user.pk == referral.sender_id and referral.sender_organisation_id in organisations:
        roles.add(Role.SENDER)
    if user.pk == referral.receiver_id and in_receiving_team:
        roles.add(Role.RECEIVER)
    if any(
        team == referral.receiving_team_id and role == Membership.Role.COORDINATOR
        for team, _kind, role in memberships
    ):
        roles.add(Role.COORDINATOR)
    # The sending practice acts as one for its referrals; someone of the receiving team never does,
    # even in a health centre that houses both.
    in_sending_practice_team = any(
        kind == Team.Kind.PRACTICE
        and org == referral.sender_organisation_id
        and org_kind in Organisation.PRIMARY_CARE
        for _team, kind, _role, org, org_kind in rows
    )
    if in_sending_practice_team and not in_receiving_team:
        roles.add(Role.PRACTICE)
    if referral.pathway.is_joint_consultation:
        in_consultation_team = in_receiving_team or bool(
            organisations & {referral.sender_organisation_id, referral.patient.practice_id}
        )
        if in_consultation_team and referral.joint_consultations_with(user):
            roles.add(Role.PARTICIPANT)
    return frozenset(roles)


def may(step: Step, roles: frozenset[Role], referral: Referral) -> bool:
    """Whether someone with `roles` may take `step` on `referral` in its current status."""
    if step.joint_consultation_only and not referral.pathway.is_joint_consultation:
        return False
    return referral.status in step.allowed_from and bool(step.roles & roles)


def allowed_actions(user, referral: Referral) -> list[str]:
    """The actions `user` may take now, in the table's order (the referral page's buttons)."""
    roles = roles_of(user, referral)
    return [name for name, step in STEPS.items() if name != "send" and may(step, roles, referral)]
