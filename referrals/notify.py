"""Who is told what when something happens to a referral (the closed loop: nobody has to go looking).

The services call these in the transaction of the step itself, so a notification exists exactly when
the step does. Each has a unique key per event and recipient (collab_hub.notifications): a retried
request or a second worker never tells anyone twice. The person who acted is never told about their
own step. Texts are in the recipient's language and carry the pathway and the pseudonymous reference
only; names in them are of professionals, never of the patient.
"""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy

from collab_hub.notifications.models import Category
from collab_hub.notifications.services import NotificationSpec, notifications_create
from teams.models import Membership, Team
from teams.selectors import absent_user_ids

from .models import DeclineReason, Event, JointConsultation, Message, Referral, Urgency
from .workflow import roles_of

K = Event.Kind
# Steps recorded days after they happened (the demo's history, played through the services) are not
# told: nobody needs to hear today about last month. The last two days are, as they would have been.
HISTORY = timedelta(days=2)


def _long_past(at) -> bool:
    return at is not None and at < timezone.now() - HISTORY


# (subject, text) per event kind, for the side that did not act. %(reference)s, %(pathway)s, %(actor)s,
# %(to)s (the new receiver) and %(reason)s (a decline reason's label) are filled in per recipient.
TO_SENDER = {
    K.ACCEPTED: (
        gettext_lazy("Referral %(reference)s accepted"),
        gettext_lazy("%(actor)s accepted your %(pathway)s referral."),
    ),
    K.DECLINED: (
        gettext_lazy("Referral %(reference)s declined"),
        gettext_lazy(
            "Your %(pathway)s referral was declined (%(reason)s). Open it for the explanation and to refer "
            "elsewhere."
        ),
    ),
    K.FORWARDED: (
        gettext_lazy("Referral %(reference)s forwarded"),
        gettext_lazy("Your %(pathway)s referral was forwarded to %(to)s."),
    ),
    K.REASSIGNED: (
        gettext_lazy("Referral %(reference)s reassigned"),
        gettext_lazy("Your %(pathway)s referral is now with %(to)s."),
    ),
    K.FIRST_CONTACT: (
        gettext_lazy("Referral %(reference)s: first contact made"),
        gettext_lazy("%(actor)s has been in touch with the patient of your %(pathway)s referral."),
    ),
    K.FEEDBACK: (
        gettext_lazy("Referral %(reference)s: new feedback"),
        gettext_lazy("%(actor)s wrote how the patient of your %(pathway)s referral is doing."),
    ),
    K.ON_HOLD: (
        gettext_lazy("Referral %(reference)s put on hold"),
        gettext_lazy("Your %(pathway)s referral was put on hold by %(actor)s."),
    ),
    K.RESUMED: (
        gettext_lazy("Referral %(reference)s resumed"),
        gettext_lazy("Work on your %(pathway)s referral has resumed."),
    ),
    K.COMPLETED: (
        gettext_lazy("Referral %(reference)s closed: feedback for you"),
        gettext_lazy("Your %(pathway)s referral was closed with an outcome. Please read and acknowledge it."),
    ),
    K.REOPENED: (
        gettext_lazy("Referral %(reference)s reopened"),
        gettext_lazy("%(actor)s reopened your %(pathway)s referral."),
    ),
}
TO_SENDER_WHEN_OTHERS_ACT = {  # the sender is told when a colleague (or a consent withdrawal) did it
    K.CANCELLED: (
        gettext_lazy("Referral %(reference)s cancelled"),
        gettext_lazy("Your %(pathway)s referral was cancelled by %(actor)s."),
    ),
    K.ENTERED_IN_ERROR: (
        gettext_lazy("Referral %(reference)s withdrawn"),
        gettext_lazy("%(actor)s marked your %(pathway)s referral as entered in error."),
    ),
}
TO_PREVIOUS_RECEIVER = (
    gettext_lazy("Referral %(reference)s is now with %(to)s"),
    gettext_lazy("%(actor)s handed the %(pathway)s referral you had to %(to)s; there is nothing more to do."),
)
TO_RECEIVER = {
    K.ACKNOWLEDGED: (
        gettext_lazy("Referral %(reference)s: your feedback was read"),
        gettext_lazy("%(actor)s read and acknowledged your feedback on the %(pathway)s referral."),
    ),
    K.CANCELLED: (
        gettext_lazy("Referral %(reference)s cancelled"),
        gettext_lazy("The %(pathway)s referral you had was cancelled; there is nothing more to do."),
    ),
    K.ENTERED_IN_ERROR: (
        gettext_lazy("Referral %(reference)s withdrawn"),
        gettext_lazy("The %(pathway)s referral you had was entered in error and withdrawn."),
    ),
}
NEW_WORK = {
    K.SENT: (
        gettext_lazy("New referral %(reference)s for you"),
        gettext_lazy("A %(pathway)s referral was sent to you. Please accept, decline or forward it."),
    ),
    K.FORWARDED: (
        gettext_lazy("Referral %(reference)s forwarded to you"),
        gettext_lazy(
            "%(actor)s forwarded a %(pathway)s referral to you. Please accept, decline or forward it."
        ),
    ),
    K.REASSIGNED: (
        gettext_lazy("Referral %(reference)s assigned to you"),
        gettext_lazy("%(actor)s assigned a %(pathway)s referral to you."),
    ),
}
FOR_ABSENT = (
    gettext_lazy("Referral %(reference)s for an absent colleague"),
    gettext_lazy(
        "A %(pathway)s referral went to %(to)s, who is absent today. Please see that someone picks it up."
    ),
)


def _users(ids) -> dict:
    ids = {i for i in ids if i}
    return get_user_model().objects.filter(pk__in=ids, is_active=True).in_bulk() if ids else {}


def _spec(user, key: str, kind: str, category: str, texts, values: dict, link: str, referral, urgent=False):
    with translation.override(user.language):
        filled = {name: str(value) for name, value in values.items()}
        if "reason" in filled:
            filled["reason"] = str(DeclineReason(values["reason"]).label) if values["reason"] else "-"
        subject, body = (str(text) % filled for text in texts)
    return NotificationSpec(
        recipient_id=user.pk,
        kind=kind,
        category=category,
        subject=subject,
        body=body,
        link=link,
        reference=referral.reference,
        dedupe_key=key,
        urgent=urgent,
    )


def _practice_inbox(referral: Referral, *, exclude=None) -> list:
    """The people who keep the sending practice's inbox: coordinators of its practice team(s)."""
    ids = Membership.objects.filter(
        team__organisation_id=referral.sender_organisation_id,
        team__kind=Team.Kind.PRACTICE,
        role=Membership.Role.COORDINATOR,
    ).values_list("user_id", flat=True)
    return [user for pk, user in _users(ids).items() if pk != exclude]


def _may_know(user, referral: Referral, at=None) -> bool:
    """Whether `user` may open the referral now: only they are told about it (someone forwarded away,
    a participant who left their team, a receiver after the grace period is not)."""
    from .selectors import visible_referrals

    return visible_referrals(user=user, at=at).filter(pk=referral.pk).exists()


def event_happened(event: Event, referral: Referral) -> int:
    """The notifications of one referral event (Event.Kind), to everyone it concerns but the actor, and
    only to people who may open the referral (the new receiver and team: from this step on)."""
    if _long_past(event.at):
        return 0
    detail = reverse("referrals:detail", args=[referral.pk])
    inbox = reverse("referrals:inbox")
    people = _users(
        [referral.sender_id, referral.receiver_id, event.to_user_id, event.from_user_id, event.actor_id]
    )
    actor, to = people.get(event.actor_id), people.get(event.to_user_id)
    values = {
        "reference": referral.reference,
        "pathway": referral.pathway.name,
        "actor": actor or "-",
        "to": to or "-",
        "reason": referral.decline_reason if event.kind == K.DECLINED else "",
    }
    specs = []

    def tell(user, texts, category, link, urgent=False, role="user", gains_access=False):
        if user is None or user.pk == event.actor_id:
            return
        # The access a step grants is given after its event: the new receiver and the coordinators hold
        # their role already. Everyone else must be able to open the referral now.
        if not (roles_of(user, referral) if gains_access else _may_know(user, referral, event.at)):
            return
        key = f"referral-event:{event.pk}:{role}:{user.pk}"
        specs.append(
            _spec(user, key, f"referral.{event.kind}", category, texts, values, link, referral, urgent)
        )

    urgent = referral.urgency == Urgency.URGENT
    if event.kind in NEW_WORK and to is not None:
        tell(to, NEW_WORK[event.kind], Category.NEW_WORK, detail, urgent, gains_access=True)
        if to.pk in absent_user_ids([to.pk], on=timezone.localdate(event.at)):
            coordinators = _users(
                Membership.objects.filter(
                    team_id=referral.receiving_team_id, role=Membership.Role.COORDINATOR
                ).values_list("user_id", flat=True)
            )
            for coordinator in coordinators.values():
                if coordinator.pk != to.pk:
                    tell(
                        coordinator,
                        FOR_ABSENT,
                        Category.NEW_WORK,
                        detail,
                        urgent,
                        role="coordinator",
                        gains_access=True,
                    )
    if event.kind in (K.FORWARDED, K.REASSIGNED) and event.from_user_id:
        # Their access ends with this step: told once, with a link to their inbox.
        tell(people.get(event.from_user_id), TO_PREVIOUS_RECEIVER, Category.NEWS, inbox, role="previous")
    to_sender = TO_SENDER.get(event.kind) or TO_SENDER_WHEN_OTHERS_ACT.get(event.kind)
    if to_sender:
        tell(people.get(referral.sender_id), to_sender, Category.NEWS, detail)
        # The sending practice's inbox: whoever keeps it (the coordinators of its practice team) hears
        # the same, so news reaches the practice when the GP is away or has left.
        for keeper in _practice_inbox(referral, exclude=referral.sender_id):
            tell(keeper, to_sender, Category.NEWS, detail, role="practice")
    if event.kind in TO_RECEIVER and referral.receiver_id:
        # After a cancellation the receiver's access has ended: the link goes to their inbox.
        link = detail if event.kind == K.ACKNOWLEDGED else inbox
        tell(people.get(referral.receiver_id), TO_RECEIVER[event.kind], Category.NEWS, link)
    return notifications_create(specs)


MESSAGE = (
    gettext_lazy("New message on referral %(reference)s"),
    gettext_lazy("%(actor)s wrote a message on the %(pathway)s referral."),
)


def message_posted(message: Message, referral: Referral, *, at=None) -> int:
    """A message, to the others involved now: the sender, the receiver and the consultation's
    participants (not the author)."""
    if _long_past(at):
        return 0
    ids = {referral.sender_id, referral.receiver_id}
    consultation = JointConsultation.objects.filter(referral=referral).first()
    if consultation is not None and consultation.state == JointConsultation.State.PLANNED:
        ids |= set(consultation.participants.values_list("pk", flat=True))
    people = _users(ids | {message.author_id})
    people = {
        pk: user for pk, user in people.items() if pk == message.author_id or _may_know(user, referral, at)
    }
    values = {
        "reference": referral.reference,
        "pathway": referral.pathway.name,
        "actor": people.get(message.author_id),
    }
    link = reverse("referrals:detail", args=[referral.pk])
    specs = [
        _spec(
            user,
            f"referral-message:{message.pk}:{user.pk}",
            "referral.message",
            Category.MESSAGES,
            MESSAGE,
            values,
            link,
            referral,
        )
        for pk, user in people.items()
        if pk != message.author_id
    ]
    return notifications_create(specs)


CONSULTATION = {
    "planned": (
        gettext_lazy("Joint consultation planned (%(reference)s)"),
        gettext_lazy("%(actor)s invited you to a joint consultation on %(when)s."),
    ),
    "moved": (
        gettext_lazy("Joint consultation moved (%(reference)s)"),
        gettext_lazy("The joint consultation you take part in is now on %(when)s."),
    ),
    "cancelled": (
        gettext_lazy("Joint consultation cancelled (%(reference)s)"),
        gettext_lazy("The joint consultation planned for %(when)s does not take place."),
    ),
    "action": (
        gettext_lazy("An action for you (%(reference)s)"),
        gettext_lazy("An action was agreed for you in the joint consultation of %(when)s."),
    ),
}


def consultation_changed(
    consultation: JointConsultation, change: str, people, *, by, at=None, scheduled_at=None
) -> int:
    """A joint consultation planned, moved or cancelled, or an action agreed in it: to `people` (for a
    cancellation: whoever was invited, with a link to their inbox, as their access has ended).
    `scheduled_at`: the moment the text names (a cancellation names the time that no longer holds)."""
    if _long_past(at):
        return 0
    referral = consultation.referral
    cancelled = change == "cancelled"
    link = reverse("referrals:inbox") if cancelled else reverse("referrals:detail", args=[referral.pk])
    specs = []
    # One notification per change and person: the moment of the change tells two moves apart.
    stamp = f"{(at or timezone.now()).timestamp():.6f}"
    moment = timezone.localtime(scheduled_at or consultation.scheduled_at)
    for user in people:
        if user.pk == by.pk or not user.is_active or not (cancelled or _may_know(user, referral, at)):
            continue
        with translation.override(user.language):
            when = date_format(moment, "DATETIME_FORMAT")
        values = {"reference": referral.reference, "actor": by, "when": when}
        key = f"referral-consultation:{consultation.pk}:{change}:{stamp}:{user.pk}"
        specs.append(
            _spec(
                user,
                key,
                f"referral.consultation_{change}",
                Category.NEW_WORK,
                CONSULTATION[change],
                values,
                link,
                referral,
            )
        )
    return notifications_create(specs)
