"""The loop tells people what happened (issue 18): each referral event reaches the people it concerns
once, never the person who acted, in their language, without patient data, by e-mail as they chose."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from collab_hub.notifications.models import Category, EmailState, Notification
from collab_hub.notifications.services import dispatch_emails
from referrals import services
from referrals.models import JointConsultation, Referral, Reminder, ReminderRule, Status
from referrals.reminders import sweep
from teams.models import Absence
from tests.factories import ProfessionalFactory, TeamFactory, give_consent
from tests.referrals.conftest import twice_at_once

LETTER = {"question": "Hulp bij geldzaken en wonen", "urgent_safety": "no"}
JOINT = {"reason": "Veelgebruiker", "patient_agrees": "yes"}


def send(loop, **kwargs):
    return services.referral_send(
        by=loop["gp"],
        patient=loop["patient"],
        pathway=kwargs.pop("pathway", loop["pathways"]["maatschappelijk-werk"]),
        receiving_team=loop["team"],
        receiver=kwargs.pop("receiver", loop["contact"]),
        letter=kwargs.pop("letter", LETTER),
        **kwargs,
    )


def told(user, kind=None) -> list[Notification]:
    qs = Notification.objects.filter(recipient=user)
    if kind:
        qs = qs.filter(kind=f"referral.{kind}")
    return list(qs)


def assert_no_patient_data(loop):
    patient = loop["patient"]
    for n in Notification.objects.all():
        for text in (n.subject, n.body):
            for secret in (
                patient.last_name,
                patient.first_name,
                patient.bsn,
                "Huurachterstand",
                "geldzaken",
            ):
                assert secret not in text, (n.kind, text)


def accepted_and_contacted(loop) -> Referral:
    referral = send(loop)
    services.referral_accept(referral=referral, by=loop["contact"])
    services.referral_first_contact(
        referral=referral,
        by=loop["contact"],
        contact_date=timezone.localdate(),
        contact_method="phone",
        text="",
    )
    return referral


@pytest.mark.django_db
def test_every_step_reaches_the_other_side_once_and_never_the_actor(loop):
    gp, contact, deputy, coordinator = loop["gp"], loop["contact"], loop["deputy"], loop["coordinator"]
    contact.language = "en"
    contact.save()
    referral = send(loop)
    [new] = told(contact, "sent")
    assert new.category == Category.NEW_WORK and new.subject == f"New referral {referral.reference} for you"
    assert new.link == f"/referrals/{referral.pk}/"
    assert not told(gp) and not told(coordinator)  # the receiver is not absent

    services.referral_accept(referral=referral, by=contact)
    [accepted] = told(gp, "accepted")
    assert accepted.subject == f"Verwijzing {referral.reference} geaccepteerd"  # the GP reads Dutch
    assert accepted.category == Category.NEWS and "Samira El Amrani" in accepted.body

    services.referral_forward(referral=referral, by=contact, to_user=deputy)
    assert len(told(gp, "forwarded")) == 1 and "Jeroen Willems" in told(gp, "forwarded")[0].body
    assert len(told(deputy, "forwarded")) == 1 and told(deputy, "forwarded")[0].category == Category.NEW_WORK
    assert not told(contact, "forwarded")  # the actor

    services.referral_reassign(referral=referral, by=coordinator, to_user=contact)
    assert len(told(contact, "reassigned")) == 1 and len(told(gp, "reassigned")) == 1
    assert not told(coordinator)

    services.referral_accept(referral=referral, by=contact)
    services.referral_first_contact(
        referral=referral, by=contact, contact_date=timezone.localdate(), contact_method="phone", text=""
    )
    services.referral_feedback(referral=referral, by=contact, kind="progress", text="Gaat beter")
    services.referral_hold(referral=referral, by=contact)
    services.referral_complete(referral=referral, by=contact, outcome="goals_met", text="Klaar")
    for kind in ("first_contact", "feedback", "on_hold", "completed"):
        assert len(told(gp, kind)) == 1, kind
    services.referral_acknowledge(referral=referral, by=gp)
    [read] = told(contact, "acknowledged")
    assert read.subject == f"Referral {referral.reference}: your feedback was read"
    # Nobody was told about their own step.
    assert not Notification.objects.filter(recipient=gp, kind__in=["referral.sent", "referral.acknowledged"])
    assert not Notification.objects.filter(recipient=contact, kind="referral.accepted")
    assert_no_patient_data(loop)


@pytest.mark.django_db
def test_a_decline_tells_the_sender_the_reason_and_a_cancel_tells_the_receiver(loop):
    referral = send(loop)
    services.referral_decline(referral=referral, by=loop["contact"], reason="wrong_pathway", note="Zie POH")
    [declined] = told(loop["gp"], "declined")
    assert "Verkeerde verwijsroute" in declined.body and "wrong_pathway" not in declined.body
    assert "Zie POH" not in declined.body  # the free text stays in the app
    other = send(loop)
    services.referral_cancel(referral=other, by=loop["gp"], note="")
    [cancelled] = told(loop["contact"], "cancelled")
    assert cancelled.link == "/referrals/"  # their access has ended: to the inbox, not the referral


@pytest.mark.django_db
def test_messages_reach_the_others_involved_not_the_author(loop):
    referral = send(loop)
    services.message_post(referral=referral, by=loop["gp"], text="Belt u even?")
    assert len(told(loop["contact"], "message")) == 1 and not told(loop["gp"], "message")
    services.message_post(referral=referral, by=loop["contact"], text="Ik bel morgen.")
    assert len(told(loop["gp"], "message")) == 1
    assert told(loop["gp"], "message")[0].category == Category.MESSAGES
    assert not Notification.objects.filter(kind="referral.message", recipient=loop["coordinator"])


@pytest.mark.django_db
def test_an_absent_receiver_brings_in_the_coordinator(loop):
    today = timezone.localdate()
    Absence.objects.create(user=loop["contact"], starts_on=today, ends_on=today + timedelta(days=3))
    referral = send(loop)
    [for_coordinator] = told(loop["coordinator"], "sent")
    assert "Samira El Amrani" in for_coordinator.body and referral.reference in for_coordinator.subject
    assert len(told(loop["contact"], "sent")) == 1


@pytest.mark.django_db
def test_preferences_per_category_and_urgent_overrides_the_digest(loop):
    contact, gp = loop["contact"], loop["gp"]
    contact.email_new_work = "digest"
    contact.email_messages = "none"
    contact.save()
    routine = send(loop)
    assert told(contact, "sent")[0].email_state == EmailState.DIGEST
    urgent = send(loop, urgency="urgent")
    assert Notification.objects.get(
        recipient=contact, kind="referral.sent", reference=urgent.reference
    ).email_state == (EmailState.PENDING)
    services.message_post(referral=routine, by=gp, text="Vraagje")
    assert told(contact, "message")[0].email_state == EmailState.SKIPPED
    # The defaults: news as a digest, new work straight away.
    services.referral_accept(referral=routine, by=contact)
    assert told(gp, "accepted")[0].email_state == EmailState.DIGEST
    gp.email_news = "immediate"
    gp.save()
    services.referral_decline(referral=urgent, by=contact, reason="no_capacity")
    assert told(gp, "declined")[0].email_state == EmailState.PENDING
    dispatch_emails()
    assert {m.to[0] for m in mail.outbox} == {contact.email, gp.email}
    assert all(loop["patient"].last_name not in m.body + m.subject for m in mail.outbox)


@pytest.mark.django_db
def test_joint_consultation_planned_moved_and_cancelled_reach_the_participants(loop):
    pathway = loop["pathways"]["gezamenlijk-consult"]
    give_consent(loop["patient"], team=loop["team"], by=loop["gp"], purpose=pathway.consent_purpose)
    referral = send(loop, pathway=pathway, letter=JOINT)
    participants = [loop["gp"], loop["contact"], loop["deputy"]]
    when = timezone.now() + timedelta(days=7)
    plan = {"location": "Praktijk", "participants": participants}
    consultation = services.joint_consultation_schedule(
        referral=referral, by=loop["gp"], scheduled_at=when, **plan
    )
    assert {n.recipient for n in Notification.objects.filter(kind="referral.consultation_planned")} == {
        loop["contact"],
        loop["deputy"],
    }
    services.joint_consultation_schedule(
        referral=referral, by=loop["gp"], scheduled_at=when + timedelta(days=1), **plan
    )
    assert Notification.objects.filter(kind="referral.consultation_moved").count() == 2
    services.referral_cancel(referral=referral, by=loop["gp"], note="")
    consultation.refresh_from_db()
    assert consultation.state == JointConsultation.State.CANCELLED
    assert Notification.objects.filter(kind="referral.consultation_cancelled").count() == 2


@pytest.mark.django_db(transaction=True)
def test_the_same_step_twice_at_once_tells_once(loop):
    referral = send(loop)
    twice_at_once(
        lambda: services.referral_accept(referral=Referral.objects.get(pk=referral.pk), by=loop["contact"])
    )
    assert len(told(loop["gp"], "accepted")) == 1


# --- reminders that restart ---------------------------------------------------------------------------


def _sweep_on(day_offset: int, now) -> int:
    return sweep(now + timedelta(days=day_offset), full=True)


@pytest.mark.django_db
def test_a_forwarded_referral_is_reminded_from_the_forward_not_from_the_sending(loop):
    monday = timezone.make_aware(timezone.datetime(2026, 11, 16, 10))
    referral = send(loop, at=monday)
    wednesday = monday + timedelta(days=2)
    services.referral_forward(referral=referral, by=loop["contact"], to_user=loop["deputy"], at=wednesday)
    not_accepted = ReminderRule.objects.filter(trigger="not_accepted")
    # Thursday: the original clock would have run out (2 working days after Monday); the forward's not.
    sweep(wednesday + timedelta(days=1), full=True)
    assert not Reminder.objects.filter(referral=referral, rule__in=not_accepted).exists()
    # Friday: two working days after the forward, the new receiver is reminded.
    sweep(wednesday + timedelta(days=2, hours=1), full=True)
    reminded = Notification.objects.filter(kind="referral.not_accepted", recipient=loop["deputy"])
    assert reminded.count() == 1
    assert not Notification.objects.filter(kind="referral.not_accepted", recipient=loop["contact"]).exists()


@pytest.mark.django_db
def test_a_reopened_and_closed_referral_gets_its_second_acknowledge_reminder(loop):
    start = timezone.make_aware(timezone.datetime(2026, 11, 2, 10))
    referral = send(loop, at=start)
    services.referral_accept(referral=referral, by=loop["contact"], at=start)
    services.referral_first_contact(
        referral=referral,
        by=loop["contact"],
        contact_date=start.date(),
        contact_method="phone",
        text="",
        at=start,
    )
    services.referral_complete(
        referral=referral, by=loop["contact"], outcome="goals_met", text="Klaar", at=start
    )
    acknowledge = ReminderRule.objects.filter(trigger="acknowledge")
    sweep(start + timedelta(days=14), full=True)
    first = Reminder.objects.filter(referral=referral, rule__in=acknowledge).count()
    assert first >= 1
    later = start + timedelta(days=15)
    services.referral_reopen(referral=referral, by=loop["contact"], note="", at=later)
    services.referral_complete(
        referral=referral, by=loop["contact"], outcome="goals_met", text="Klaar", at=later
    )
    sweep(later + timedelta(days=14), full=True)
    assert Reminder.objects.filter(referral=referral, rule__in=acknowledge).count() == 2 * first


@pytest.mark.django_db
def test_a_cancelled_referral_is_not_reminded_of_its_consultation(loop):
    pathway = loop["pathways"]["gezamenlijk-consult"]
    give_consent(loop["patient"], team=loop["team"], by=loop["gp"], purpose=pathway.consent_purpose)
    referral = send(loop, pathway=pathway, letter=JOINT)
    services.joint_consultation_schedule(
        referral=referral,
        by=loop["gp"],
        scheduled_at=timezone.now() + timedelta(days=1),
        location="Praktijk",
        participants=[loop["gp"], loop["contact"]],
    )
    services.referral_cancel(referral=referral, by=loop["gp"], note="")
    sweep(timezone.now(), full=True)
    assert not Notification.objects.filter(kind="referral.consultation_soon").exists()
    assert referral.status != Status.IN_PROGRESS


@pytest.mark.django_db
def test_other_teams_with_consent_get_no_notification_for_a_referral_they_do_not_have(loop):
    elsewhere = TeamFactory(name="Wijkteam West", kind=loop["team"].kind)
    stranger = ProfessionalFactory(team=elsewhere)
    give_consent(loop["patient"], team=elsewhere, by=loop["gp"])
    send(loop)
    assert not told(stranger)


@pytest.mark.django_db
def test_the_preferences_page_sets_each_category_and_says_urgent_comes_straight_away(client, loop):
    from django.urls import reverse

    gp = loop["gp"]
    client.force_login(gp)
    page = client.get(reverse("notifications:preferences")).content.decode()
    assert "altijd direct" in page  # an urgent referral is always e-mailed straight away
    data = {
        "email_new_work": "immediate",
        "email_messages": "digest",
        "email_news": "none",
        "email_mode": "immediate",
        "email_project": "digest",
        "digest_hour": "7",
        "language": "nl",
    }
    assert client.post(reverse("notifications:preferences"), data).status_code == 302
    gp.refresh_from_db()
    assert (gp.email_messages, gp.email_news, gp.digest_hour) == ("digest", "none", 7)
    bad = client.post(reverse("notifications:preferences"), {**data, "email_news": "sometimes"})
    assert bad.status_code == 200 and "geldige keuze" in bad.content.decode()
    gp.refresh_from_db()
    assert gp.email_news == "none"


# --- told only while involved (review findings) -----------------------------------------------------


@pytest.mark.django_db
def test_nobody_is_told_about_a_referral_they_can_no_longer_open(loop, settings):
    settings.REFERRAL_ACCESS_GRACE_DAYS = 30
    referral = accepted_and_contacted(loop)
    services.referral_complete(referral=referral, by=loop["contact"], outcome="goals_met", text="Klaar")
    # Forty days later the GP writes: the receiver's access ended after the grace period.
    later = timezone.now() + timedelta(days=40)
    services.message_post(referral=referral, by=loop["gp"], text="Nog een vraag", at=later)
    assert not told(loop["contact"], "message")
    # A receiver forwarded away hears of the hand-over once, then nothing more.
    other = send(loop)
    services.referral_forward(referral=other, by=loop["coordinator"], to_user=loop["deputy"])
    [handed_over] = told(loop["contact"], "forwarded")
    assert handed_over.link == "/referrals/" and "Jeroen Willems" in handed_over.subject
    services.message_post(referral=other, by=loop["gp"], text="Is het al opgepakt?")
    assert len(told(loop["deputy"], "message")) == 1
    assert not Notification.objects.filter(
        recipient=loop["contact"], reference=other.reference, kind="referral.message"
    )


@pytest.mark.django_db
def test_the_sender_hears_when_a_colleague_cancels_and_not_when_they_did_it_themselves(loop):
    from tests.factories import make_gp

    colleague = make_gp(loop["practice"])
    referral = send(loop)
    services.referral_cancel(referral=referral, by=colleague, note="")
    [cancelled] = told(loop["gp"], "cancelled")
    assert colleague.get_full_name() in cancelled.body
    own = send(loop)
    services.referral_cancel(referral=own, by=loop["gp"], note="")
    assert len(told(loop["gp"], "cancelled")) == 1


@pytest.mark.django_db
def test_a_participant_removed_or_moved_twice_is_told_each_time(loop):
    pathway = loop["pathways"]["gezamenlijk-consult"]
    give_consent(loop["patient"], team=loop["team"], by=loop["gp"], purpose=pathway.consent_purpose)
    referral = send(loop, pathway=pathway, letter=JOINT)
    first = timezone.now() + timedelta(days=7)
    second = first + timedelta(days=1)
    everyone = [loop["gp"], loop["contact"], loop["deputy"]]
    for when in (first, second, first, second):
        services.joint_consultation_schedule(
            referral=referral, by=loop["gp"], scheduled_at=when, location="Praktijk", participants=everyone
        )
    assert len(told(loop["contact"], "consultation_moved")) == 3
    services.joint_consultation_schedule(
        referral=referral,
        by=loop["gp"],
        scheduled_at=second,
        location="Praktijk",
        participants=[loop["gp"], loop["contact"]],
    )
    [off] = told(loop["deputy"], "consultation_cancelled")
    assert off.link == "/referrals/"
    # The deputy has lost access: messages no longer reach them.
    services.message_post(referral=referral, by=loop["gp"], text="Tot dan")
    assert not told(loop["deputy"], "message") and len(told(loop["contact"], "message")) == 1


@pytest.mark.django_db
def test_the_same_words_after_a_reply_are_a_new_message(loop):
    referral = send(loop)
    services.message_post(referral=referral, by=loop["gp"], text="Ja")
    services.message_post(referral=referral, by=loop["contact"], text="Belt u de patiënt?")
    services.message_post(referral=referral, by=loop["gp"], text="Ja")
    assert referral.messages.count() == 3


@pytest.mark.django_db
def test_every_notification_text_fills_in_both_languages():
    """A text whose placeholders do not match its translation would break the step that sends it."""
    from django.utils import translation

    from referrals import notify

    values = {"reference": "R-X", "pathway": "P", "actor": "A", "to": "T", "reason": "-", "when": "W"}
    texts = [
        *notify.TO_SENDER.values(),
        *notify.TO_SENDER_WHEN_OTHERS_ACT.values(),
        *notify.TO_RECEIVER.values(),
        *notify.NEW_WORK.values(),
        notify.FOR_ABSENT,
        notify.TO_PREVIOUS_RECEIVER,
        notify.MESSAGE,
        *notify.CONSULTATION.values(),
    ]
    for language in ("nl", "en"):
        with translation.override(language):
            for pair in texts:
                for text in pair:
                    filled = str(text) % values
                    assert ("%(" not in filled and "R-X" in filled) or "R-X" not in str(text), filled


@pytest.mark.django_db
def test_the_sending_practices_inbox_hears_the_news_too(loop):
    """Whoever keeps the practice's inbox (a coordinator of its practice team) hears what the GP hears,
    so the news reaches the practice when the GP is away or has left; nobody outside the practice does."""
    from teams.models import Membership, Team
    from tests.factories import make_gp

    keeper = make_gp(loop["practice"], first_name="Petra", last_name="Praktijk")
    Membership.objects.filter(user=keeper, team__kind=Team.Kind.PRACTICE).update(
        role=Membership.Role.COORDINATOR
    )
    elsewhere = make_gp(loop["outsider"].teams.first().organisation)
    Membership.objects.filter(user=elsewhere).update(role=Membership.Role.COORDINATOR)
    referral = send(loop)
    assert not told(keeper)  # new work is the receiver's
    services.referral_decline(referral=referral, by=loop["contact"], reason="no_capacity")
    assert len(told(keeper, "declined")) == 1 and len(told(loop["gp"], "declined")) == 1
    assert not told(elsewhere)
