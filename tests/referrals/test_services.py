"""The closed loop in services: every transition, who may make it, and nothing half-saved."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from collab_hub.audit.models import AccessLogEntry
from patients.models import CareRelationship
from referrals import services
from referrals.models import Event, Feedback, Referral, Status
from referrals.selectors import received_for, sent_for
from tests.factories import ProfessionalFactory
from tests.referrals.conftest import req

pytestmark = pytest.mark.django_db

LETTER = {"question": "Hulp bij geldzaken en wonen", "urgent_safety": "no"}


def send(loop, receiver=None, **kwargs):
    pathway = kwargs.pop("pathway", loop["pathways"]["maatschappelijk-werk"])
    return services.referral_send(
        by=req(kwargs.pop("by", loop["gp"])),
        patient=loop["patient"],
        pathway=pathway,
        receiving_team=kwargs.pop("team", loop["team"]),
        receiver=receiver or loop["contact"],
        letter=kwargs.pop("letter", LETTER),
        **kwargs,
    )


def kinds(referral):
    return list(referral.events.values_list("kind", flat=True))


def test_the_full_loop(loop):
    shared = list(loop["patient"].concerns.filter(domain="finances"))
    referral = send(loop, shared_concerns=shared)
    assert referral.status == Status.REQUESTED
    assert referral.consent == loop["consent"]
    assert referral.accept_by > timezone.localdate()
    assert referral.first_contact_by > referral.accept_by
    assert list(referral.shared_concerns.all()) == shared
    assert CareRelationship.objects.filter(user=loop["contact"], patient=loop["patient"]).exists()

    contact = req(loop["contact"])
    services.referral_accept(by=contact, referral=referral)
    services.referral_first_contact(
        by=contact,
        referral=referral,
        contact_date=timezone.localdate(),
        contact_method="phone",
        text="Gebeld, afspraak gemaakt",
    )
    services.referral_feedback(
        by=contact,
        referral=referral,
        kind="progress",
        text="Gaat beter",
        domain_statuses={"finances": "improving"},
    )
    services.referral_complete(by=contact, referral=referral, outcome="goals_met", text="Schulden geregeld")
    referral.refresh_from_db()
    assert referral.status == Status.COMPLETED
    assert referral.acknowledged_at is None
    assert Feedback.objects.filter(referral=referral, acknowledged_at__isnull=True).count() == 3

    services.referral_acknowledge(by=req(loop["gp"]), referral=referral)
    referral.refresh_from_db()
    assert referral.acknowledged_at is not None
    assert not Feedback.objects.filter(referral=referral, acknowledged_at__isnull=True).exists()
    assert kinds(referral) == ["sent", "accepted", "first_contact", "feedback", "completed", "acknowledged"]
    statuses = list(referral.events.values_list("from_status", "to_status"))
    assert statuses[:3] == [("draft", "requested"), ("requested", "accepted"), ("accepted", "in-progress")]
    assert AccessLogEntry.objects.filter(object_type="referral", object_id=referral.pk).count() == 6


def test_decline_needs_a_structured_reason(loop):
    referral = send(loop)
    contact = req(loop["contact"])
    with pytest.raises(ValidationError):
        services.referral_decline(by=contact, referral=referral, reason="bogus")
    with pytest.raises(ValidationError):
        services.referral_decline(by=contact, referral=referral, reason="other", note="")
    services.referral_decline(by=contact, referral=referral, reason="no_capacity", note="Wachtlijst vol")
    referral.refresh_from_db()
    assert (referral.status, referral.decline_reason) == (Status.REJECTED, "no_capacity")
    assert kinds(referral)[-1] == "declined"


def test_forward_keeps_history_and_gives_the_new_person_access(loop):
    referral = send(loop)
    services.referral_forward(
        by=req(loop["contact"]),
        referral=referral,
        to_user=loop["deputy"],
        note="Jeroen kent deze familie",
    )
    referral.refresh_from_db()
    assert referral.receiver == loop["deputy"]
    assert referral.assigned_via == "forwarded"
    event = referral.events.get(kind="forwarded")
    assert (event.from_user, event.to_user) == (loop["contact"], loop["deputy"])
    assert CareRelationship.objects.filter(user=loop["deputy"], kind="forwarded_to").exists()
    with pytest.raises(ValidationError):  # no longer theirs
        services.referral_accept(by=req(loop["contact"]), referral=referral)
    services.referral_accept(by=req(loop["deputy"]), referral=referral)


def test_sending_to_the_proposed_deputy_when_the_contact_is_absent(loop):
    from referrals.routing import propose
    from teams.models import Absence

    today = timezone.localdate()
    Absence.objects.create(user=loop["contact"], starts_on=today, ends_on=today + timedelta(days=3))
    proposal = propose(patient=loop["patient"], practice=loop["practice"])
    referral = send(loop, receiver=proposal.receiver, assigned_via=proposal.assigned_via)
    assert referral.receiver == loop["deputy"]
    assert referral.assigned_via == "deputy"


def test_reopen_a_completed_referral(loop):
    referral = send(loop)
    contact = req(loop["contact"])
    services.referral_accept(by=contact, referral=referral)
    services.referral_first_contact(
        by=contact, referral=referral, contact_date=timezone.localdate(), contact_method="home_visit"
    )
    services.referral_complete(by=contact, referral=referral, outcome="partly_met", text="Deels")
    services.referral_reopen(by=contact, referral=referral, note="Nieuwe schuldeiser")
    referral.refresh_from_db()
    assert referral.status == Status.IN_PROGRESS
    assert referral.completed_at is None
    assert kinds(referral)[-1] == "reopened"


def test_cancel_and_entered_in_error(loop):
    first = send(loop)
    services.referral_cancel(by=req(loop["gp"]), referral=first, note="Patiënt verhuisd")
    first.refresh_from_db()
    assert first.status == Status.CANCELLED
    second = send(loop)
    with pytest.raises(ValidationError):
        services.referral_mark_entered_in_error(by=req(loop["gp"]), referral=second, note="")
    services.referral_mark_entered_in_error(by=req(loop["gp"]), referral=second, note="Verkeerde patiënt")
    assert Referral.objects.get(pk=second.pk).status == Status.ENTERED_IN_ERROR
    assert second not in sent_for(user=loop["gp"])
    assert second not in received_for(user=loop["contact"])
    assert Event.objects.filter(referral=second, kind="entered_in_error").exists()  # kept in the log


def test_who_may_set_which_status(loop):
    referral = send(loop)
    with pytest.raises(ValidationError, match=r"receiver|ontvanger"):
        services.referral_accept(by=req(loop["gp"]), referral=referral)
    with pytest.raises(ValidationError):
        services.referral_cancel(by=req(loop["contact"]), referral=referral)
    # The coordinator of the receiving team may act for the receiver.
    services.referral_accept(by=req(loop["coordinator"]), referral=referral)
    assert Referral.objects.get(pk=referral.pk).status == Status.ACCEPTED
    # A status change the current state does not allow is refused with a clear message.
    with pytest.raises(ValidationError):
        services.referral_complete(by=req(loop["contact"]), referral=referral, outcome="goals_met", text="x")


def test_double_accept_has_one_winner(loop):
    referral = send(loop)
    services.referral_accept(by=req(loop["contact"]), referral=referral)
    with pytest.raises(ValidationError, match=r"already|al "):
        services.referral_accept(by=req(loop["contact"]), referral=Referral.objects.get(pk=referral.pk))
    assert Event.objects.filter(referral=referral, kind="accepted").count() == 1


def test_without_consent_nothing_is_sent(loop):
    loop["consent"].withdrawn_at = timezone.now()
    loop["consent"].save()
    with pytest.raises(services.ConsentMissing):
        send(loop)
    assert not Referral.objects.exists()
    assert not Event.objects.exists()


def test_receiver_outside_the_team_is_refused(loop):
    with pytest.raises(ValidationError):
        send(loop, receiver=ProfessionalFactory())
    assert not Referral.objects.exists()


def test_sender_without_a_care_relationship_is_refused(loop):
    with pytest.raises(ValidationError, match=r"care relationship|behandelrelatie"):
        send(loop, by=loop["outsider"])
    assert not Referral.objects.exists()


def test_letter_answers_are_checked(loop):
    with pytest.raises(ValidationError):
        send(loop, letter={"question": "", "urgent_safety": "maybe"})
    assert not Referral.objects.exists()


def test_joint_consultation_needs_consent_for_each_organisation(loop):
    pathway = loop["pathways"]["gezamenlijk-consult"]
    from tests.factories import give_consent

    give_consent(loop["patient"], team=loop["team"], purpose="joint_consultation", by=loop["gp"])
    referral = send(loop, pathway=pathway, letter={"reason": "Veelgebruiker", "patient_agrees": "yes"})
    when = timezone.now() + timedelta(days=3)
    other = ProfessionalFactory()  # someone outside this patient's care
    from tests.factories import TeamFactory

    other_team = TeamFactory(name="GGZ Oost")
    other_team.memberships.create(user=other)
    with pytest.raises(ValidationError, match=r"uit de lijst|from the list"):
        services.joint_consultation_schedule(
            by=req(loop["gp"]),
            referral=referral,
            scheduled_at=when,
            location="Praktijk",
            participants=[loop["gp"], loop["contact"], other],
        )
    # The receiving team without consent for a joint consultation: refused.
    consent = loop["patient"].consents.get(purpose="joint_consultation")
    consent.valid_until = consent.given_on
    consent.save(update_fields=["valid_until"])
    with pytest.raises(services.ConsentMissing):
        services.joint_consultation_schedule(
            by=req(loop["gp"]),
            referral=referral,
            scheduled_at=when,
            location="Praktijk",
            participants=[loop["gp"], loop["contact"]],
        )
    consent.valid_until = None
    consent.save(update_fields=["valid_until"])
    consultation = services.joint_consultation_schedule(
        by=req(loop["gp"]),
        referral=referral,
        scheduled_at=when,
        location="Praktijk De Linde",
        participants=[loop["gp"], loop["contact"]],
        agenda="Schulden en wonen",
    )
    assert set(consultation.participants.all()) == {loop["gp"], loop["contact"]}
    services.joint_consultation_record(
        by=req(loop["contact"]),
        consultation=consultation,
        notes="Afspraken gemaakt",
        actions=[("Budgetplan", loop["contact"], None)],
    )
    assert consultation.actions.get().owner == loop["contact"]


def test_messages_only_from_the_people_involved(loop):
    referral = send(loop)
    services.message_post(by=req(loop["contact"]), referral=referral, text="Wanneer is ze thuis?")
    with pytest.raises(ValidationError):
        services.message_post(by=req(loop["outsider"]), referral=referral, text="Hallo")
    assert referral.messages.count() == 1
