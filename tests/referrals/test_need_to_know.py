"""Need-to-know for the whole life of a referral (issue 16): the workflow table is what the services do,
access ends when involvement ends, and consent is checked at every use. Each test tries to break a rule:
from a second account, after the person stopped being involved, with a forged id, twice at once."""

import threading
import time
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from collab_hub.audit.models import AccessLogEntry
from patients.models import CareRelationship, Consent
from patients.selectors import visible_patients
from patients.services import consent_record, consent_withdraw
from referrals import services
from referrals.models import OPEN_STATUSES, Event, Feedback, JointConsultation, Message, Referral, Status
from referrals.selectors import visible_referrals
from referrals.workflow import STEPS, may, roles_of
from teams.models import Membership, Organisation, Team
from tests.factories import (
    ConcernFactory,
    OrganisationFactory,
    PracticeFactory,
    ProfessionalFactory,
    TeamFactory,
    give_consent,
    make_gp,
)
from tests.referrals.conftest import make_referral, twice_at_once

LETTER = {"question": "Hulp bij geldzaken en wonen", "urgent_safety": "no"}


def send(loop, **kwargs):
    return services.referral_send(
        by=kwargs.pop("by", loop["gp"]),
        patient=kwargs.pop("patient", loop["patient"]),
        pathway=kwargs.pop("pathway", loop["pathways"]["maatschappelijk-werk"]),
        receiving_team=kwargs.pop("team", loop["team"]),
        receiver=kwargs.pop("receiver", loop["contact"]),
        letter=kwargs.pop("letter", LETTER),
        **kwargs,
    )


# --- the matrix: every action × status × role, generated from the workflow table --------------------


class Rollback(Exception):
    pass


def _people(loop):
    other = ProfessionalFactory(team=loop["team"], first_name="Ot", last_name="Ander")
    former = make_gp(loop["practice"])
    Membership.objects.filter(user=former).delete()  # left the practice
    return {
        "sender": loop["gp"],
        "practice colleague": make_gp(loop["practice"]),
        "receiver": loop["contact"],
        "forwarded-away receiver": loop["deputy"],
        "coordinator": loop["coordinator"],
        "outsider": loop["outsider"],
        "former practice colleague": former,
        "_other": other,
    }


# What each person may do, written out by hand from the product brief rather than read from the table,
# so a wrong entry in referrals/workflow.py fails here. Anyone not named may do nothing at all.
_REQUESTER = {
    Status.DRAFT: "cancel entered_in_error",
    Status.REQUESTED: "cancel entered_in_error message",
    Status.ACCEPTED: "cancel entered_in_error message",
    Status.REJECTED: "entered_in_error",
    Status.IN_PROGRESS: "acknowledge cancel entered_in_error message",
    Status.ON_HOLD: "acknowledge cancel entered_in_error message",
    Status.COMPLETED: "acknowledge entered_in_error message",
    Status.CANCELLED: "entered_in_error",
}
_RECEIVER = {
    Status.REQUESTED: "accept decline forward message",
    Status.ACCEPTED: "decline forward first_contact message",
    Status.IN_PROGRESS: "feedback hold complete message",
    Status.ON_HOLD: "feedback resume complete message",
    Status.COMPLETED: "reopen message",
}
_COORDINATOR = {
    status: actions + (" reassign" if status in OPEN_STATUSES else "")
    for status, actions in _RECEIVER.items()
}
SPEC = {
    "sender": _REQUESTER,
    "practice colleague": _REQUESTER,
    "receiver": _RECEIVER,
    "coordinator": _COORDINATOR,
}


def _spec_allows(role: str, status: str, action: str) -> bool:
    return action in SPEC.get(role, {}).get(status, "").split()


def _arguments(action: str, people: dict) -> dict:
    today = timezone.localdate()
    return {
        "accept": {},
        "decline": {"reason": "no_capacity", "note": ""},
        "forward": {"to_user": people["_other"], "note": ""},
        "reassign": {"to_user": people["_other"]},
        "first_contact": {"contact_date": today, "contact_method": "phone", "text": ""},
        "feedback": {"kind": "progress", "text": "Gaat beter"},
        "hold": {"note": ""},
        "resume": {},
        "complete": {"outcome": "goals_met", "text": "Klaar"},
        "reopen": {"note": ""},
        "acknowledge": {},
        "cancel": {"note": ""},
        "entered_in_error": {"note": "Verkeerde patiënt"},
        "message": {"text": "Hallo"},
    }[action]


CALLS = services.STEP_SERVICES


def _referral_in(loop, status: str, people: dict) -> Referral:
    """A referral in `status` that the forwarded-away receiver once had: history, no current role."""
    extra = {"decline_reason": "no_capacity"} if status == Status.REJECTED else {}
    referral = make_referral(loop, status=status, accepted_at=timezone.now(), **extra)
    if status not in (Status.REQUESTED, Status.ACCEPTED, Status.DRAFT):
        referral.sent_at = timezone.now() - timedelta(days=1)
        referral.save(update_fields=["sent_at"])
    Event.objects.create(
        referral=referral,
        at=timezone.now() - timedelta(hours=1),
        kind=Event.Kind.FORWARDED,
        actor=people["forwarded-away receiver"],
        from_user=people["forwarded-away receiver"],
        to_user=loop["contact"],
    )
    CareRelationship.objects.create(
        patient=referral.patient,
        user=people["forwarded-away receiver"],
        team=loop["team"],
        referral_id=referral.pk,
        kind=CareRelationship.Kind.REFERRAL_RECEIVER,
        source=f"referral:{referral.pk}",
        starts_at=timezone.now() - timedelta(days=2),
        ends_at=timezone.now() - timedelta(hours=1),
        ended_reason=CareRelationship.Ended.FORWARDED,
    )
    if status in (Status.IN_PROGRESS, Status.ON_HOLD, Status.COMPLETED):
        Feedback.objects.create(
            referral=referral, kind="progress", author=loop["contact"], created_at=timezone.now()
        )
    return referral


def _snapshot(referral: Referral) -> tuple:
    r = Referral.objects.get(pk=referral.pk)
    return (
        r.status,
        r.receiver_id,
        r.receiving_team_id,
        r.events.count(),
        r.messages.count(),
        r.feedback.count(),
        CareRelationship.objects.filter(referral_id=r.pk, ends_at__isnull=True).count(),
    )


@pytest.mark.django_db
def test_every_action_in_every_status_by_every_role_follows_the_workflow_table(loop):
    people = _people(loop)
    checked = allowed_count = 0
    for status in Status.values:
        for action in CALLS:
            step = STEPS[action]
            for role, user in people.items():
                if role.startswith("_"):
                    continue
                try:
                    with transaction.atomic():
                        referral = _referral_in(loop, status, people)
                        expected = may(step, roles_of(user, referral), referral)
                        assert expected == _spec_allows(role, status, action), (role, status, action)
                        before = _snapshot(referral)
                        try:
                            CALLS[action](referral=referral, by=user, **_arguments(action, people))
                        except ValidationError as error:
                            assert not expected, (status, action, role, error.messages)
                            assert _snapshot(referral) == before, (status, action, role)
                        else:
                            assert expected, f"{role} could {action} a referral that is {status}"
                            allowed_count += 1
                        checked += 1
                        raise Rollback
                except Rollback:
                    pass
    assert checked == len(Status.values) * len(CALLS) * 7
    assert allowed_count > 50  # the table allows plenty; the refusals above are not all there is


@pytest.mark.django_db
def test_the_table_names_no_former_role_anyone_could_hold(loop):
    """The former receiver, after the handover, has no role at all: the history grants nothing."""
    people = _people(loop)
    referral = _referral_in(loop, Status.REQUESTED, people)
    assert roles_of(people["forwarded-away receiver"], referral) == frozenset()
    assert roles_of(people["outsider"], referral) == frozenset()
    assert not visible_referrals(user=people["forwarded-away receiver"]).filter(pk=referral.pk).exists()


# --- who can still see patient P after each way involvement ends ---------------------------------


def sees(user, patient) -> bool:
    return visible_patients(user=user).filter(pk=patient.pk).exists()


def opens(user, referral) -> bool:
    return visible_referrals(user=user).filter(pk=referral.pk).exists()


@pytest.mark.django_db
def test_who_can_still_see_the_patient_after_each_ending(loop, settings):
    settings.REFERRAL_ACCESS_GRACE_DAYS = 30
    gp, contact, deputy, coordinator, outsider = (
        loop["gp"],
        loop["contact"],
        loop["deputy"],
        loop["coordinator"],
        loop["outsider"],
    )
    patient = loop["patient"]

    def fresh():
        CareRelationship.objects.filter(patient=patient).delete()
        referral = send(loop)
        assert sees(contact, patient) and sees(coordinator, patient) and opens(contact, referral)
        assert not sees(deputy, patient) and not sees(outsider, patient)
        return referral

    # Declined: the receiving side at once; the GP's practice always.
    referral = fresh()
    services.referral_decline(referral=referral, by=contact, reason="no_capacity")
    assert not sees(contact, patient) and not sees(coordinator, patient) and not opens(contact, referral)
    assert sees(gp, patient) and opens(gp, referral)

    # Forwarded: the previous receiver at once, the new one from now.
    referral = fresh()
    services.referral_forward(referral=referral, by=contact, to_user=deputy)
    assert not sees(contact, patient) and sees(deputy, patient) and sees(coordinator, patient)

    # Reassigned by the coordinator: the same.
    referral = fresh()
    services.referral_reassign(referral=referral, by=coordinator, to_user=deputy)
    assert not sees(contact, patient) and sees(deputy, patient)

    # Cancelled and entered in error: everyone outside the practice at once.
    for end in ("cancel", "entered_in_error"):
        referral = fresh()
        if end == "cancel":
            services.referral_cancel(referral=referral, by=gp)
        else:
            services.referral_mark_entered_in_error(referral=referral, by=gp, note="Verkeerde patiënt")
        assert not sees(contact, patient) and not sees(coordinator, patient), end
        assert sees(gp, patient)

    # Closed: the receiving side finishes the file during the grace period, then no longer.
    referral = fresh()
    services.referral_accept(referral=referral, by=contact)
    services.referral_first_contact(
        referral=referral, by=contact, contact_date=timezone.localdate(), contact_method="phone"
    )
    services.referral_complete(referral=referral, by=contact, outcome="goals_met", text="Klaar")
    assert sees(contact, patient) and opens(contact, referral)
    later = timezone.now() + timedelta(days=31)
    assert not visible_patients(user=contact, at=later).filter(pk=patient.pk).exists()
    # Reopened in the grace period: access is back, without an end.
    services.referral_reopen(referral=referral, by=contact, note="Nieuwe vraag")
    assert visible_patients(user=contact, at=later).filter(pk=patient.pk).exists()

    # Consent withdrawn: at once, and the open referral is cancelled.
    referral = fresh()
    consent_withdraw(by=gp, consent=loop["consent"])
    assert not sees(contact, patient) and not sees(coordinator, patient)
    referral.refresh_from_db()
    assert referral.status == Status.CANCELLED
    assert referral.events.last().note.startswith(("Toestemming", "Consent"))
    Consent.objects.filter(pk=loop["consent"].pk).update(withdrawn_at=None, withdrawn_by=None)

    # Left the team: the membership ends, and with it the access (and the role).
    referral = fresh()
    Membership.objects.filter(user=contact, team=loop["team"]).delete()
    assert not sees(contact, patient) and not opens(contact, referral)
    assert roles_of(contact, referral) == frozenset()
    with pytest.raises(ValidationError):
        services.referral_accept(referral=referral, by=contact)
    # A new coordinator of the team sees the team's open referral without anyone granting it.
    newcomer = ProfessionalFactory(team=loop["team"], team__role=Membership.Role.COORDINATOR)
    assert sees(newcomer, patient) and opens(newcomer, referral)


@pytest.mark.django_db
def test_the_pages_follow_the_ending_a_forwarded_away_receiver_gets_404(client, loop):
    referral = send(loop)
    services.referral_forward(referral=referral, by=loop["contact"], to_user=loop["deputy"])
    client.force_login(loop["contact"])
    for url in (
        reverse("referrals:detail", args=[referral.pk]),
        reverse("referrals:letter", args=[referral.pk]),
        reverse("patients:detail", args=[loop["patient"].pk]),
    ):
        assert client.get(url).status_code == 404, url
    response = client.post(
        reverse("referrals:action", args=[referral.pk, "message"]), {"text": "Nog één ding"}
    )
    assert response.status_code == 404
    assert not Message.objects.exists()
    # The inbox no longer lists it with the patient's name.
    assert loop["patient"].last_name not in client.get(reverse("referrals:inbox")).content.decode()


# --- consent at every use ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_forward_only_to_teams_with_consent_and_a_forged_id_is_refused(client, loop):
    elsewhere = TeamFactory(
        organisation=OrganisationFactory(name="Wijkteam West"),
        name="Wijkteam West",
        kind=Team.Kind.SOCIAL_WELFARE,
    )
    stranger = ProfessionalFactory(team=elsewhere, first_name="Frits", last_name="Vreemd")
    referral = send(loop)
    assert stranger not in services.forward_candidates(referral)
    with pytest.raises(services.ConsentMissing):
        services.referral_forward(referral=referral, by=loop["contact"], to_user=stranger)
    client.force_login(loop["contact"])
    page = client.get(reverse("referrals:detail", args=[referral.pk])).content.decode()
    assert "Vreemd" not in page  # not offered
    for forged in (stranger.pk, "abc", "", "9 AND 42=52", 10**9):
        response = client.post(
            reverse("referrals:action", args=[referral.pk, "forward"]), {"to_user": forged}
        )
        assert response.status_code == 302, forged
    referral.refresh_from_db()
    assert referral.receiver == loop["contact"] and referral.events.count() == 1
    # With the patient's consent for that team, it is offered and works.
    give_consent(loop["patient"], team=elsewhere, by=loop["gp"])
    assert stranger in services.forward_candidates(referral)
    services.referral_forward(referral=referral, by=loop["contact"], to_user=stranger)
    referral.refresh_from_db()
    assert referral.receiving_team == elsewhere and sees(stranger, loop["patient"])
    assert referral.consent.recipient_team == elsewhere


@pytest.mark.django_db
def test_messages_and_reopen_stop_when_consent_expires(loop):
    referral = send(loop)
    services.referral_accept(referral=referral, by=loop["contact"])
    Consent.objects.filter(pk=loop["consent"].pk).update(valid_until=loop["consent"].given_on)
    with pytest.raises(services.ConsentMissing):
        services.message_post(referral=referral, by=loop["contact"], text="Nog een vraag")
    assert not Message.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_withdrawal_racing_a_send_never_yields_a_referral_sent_after_it(loop):
    """Two connections: the withdrawal holds the consent row; the send waits for it and then sees it."""
    withdrawn = threading.Event()
    outcome = {}

    def withdraw():
        try:
            with transaction.atomic():
                consent_withdraw(by=loop["gp"], consent=Consent.objects.get(pk=loop["consent"].pk))
                withdrawn.set()
                time.sleep(1.0)  # the send starts meanwhile and must wait for this commit
        finally:
            connection.close()

    def send_now():
        withdrawn.wait(5)
        try:
            outcome["referral"] = send(loop)
        except ValidationError as error:
            outcome["refused"] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=withdraw), threading.Thread(target=send_now)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(15)
    assert "refused" in outcome and "referral" not in outcome
    assert not Referral.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_send_that_holds_the_consent_makes_the_withdrawal_wait_and_then_cancel_it(loop):
    holding = threading.Event()
    outcome = {}

    def send_slowly():
        try:
            with transaction.atomic():
                outcome["referral"] = send(loop)
                holding.set()
                time.sleep(1.0)
        finally:
            connection.close()

    def withdraw():
        holding.wait(5)
        try:
            consent_withdraw(by=loop["gp"], consent=Consent.objects.get(pk=loop["consent"].pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=send_slowly), threading.Thread(target=withdraw)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(15)
    referral = Referral.objects.get()
    # Sent before the withdrawal (it waited), and the withdrawal then closed it and ended the access.
    assert referral.status == Status.CANCELLED
    assert not sees(loop["contact"], loop["patient"])


# --- what is shared, with whom ------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_concern_shared_in_one_referral_is_invisible_to_the_receiver_of_another(client, loop):
    patient = loop["patient"]
    panic = ConcernFactory(
        patient=patient, domain="mental_health", description="Paniekaanvallen sinds de zomer"
    )
    coaches = TeamFactory(
        organisation=OrganisationFactory(name="Welzijn Oost"),
        name="Welzijnscoaches",
        kind=Team.Kind.WELLBEING,
    )
    coach = ProfessionalFactory(team=coaches, profile__discipline="wellbeing_coach")
    give_consent(patient, team=coaches, by=loop["gp"])
    first = send(loop, shared_concerns=[panic])
    second = send(
        loop,
        pathway=loop["pathways"]["welzijn-op-recept"],
        team=coaches,
        receiver=coach,
        letter={
            "complaint": "Eenzaam sinds de verhuizing",
            "wish": "Wandelen met anderen",
            "motivation": "Hoog",
        },
    )
    assert list(first.shared_concerns.all()) == [panic] and not second.shared_concerns.exists()
    client.force_login(coach)
    assert "Paniekaanvallen" not in client.get(reverse("patients:detail", args=[patient.pk])).content.decode()
    assert "Paniekaanvallen" not in client.get(reverse("referrals:detail", args=[second.pk])).content.decode()
    assert client.get(reverse("referrals:detail", args=[first.pk])).status_code == 404
    client.force_login(loop["contact"])
    assert "Paniekaanvallen" in client.get(reverse("patients:detail", args=[patient.pk])).content.decode()
    assert "Paniekaanvallen" in client.get(reverse("referrals:detail", args=[first.pk])).content.decode()
    # Once forwarded away, the receiver of the first no longer sees it either.
    services.referral_forward(referral=first, by=loop["contact"], to_user=loop["deputy"])
    assert client.get(reverse("patients:detail", args=[patient.pk])).status_code == 404


@pytest.mark.django_db
def test_a_minimal_view_shows_no_medical_reason_no_other_consents_and_does_not_steer_routing(client, loop):
    patient = loop["patient"]
    patient.is_high_user, patient.high_user_since, patient.high_user_reason = (
        True,
        timezone.localdate(),
        "Angst",
    )
    patient.save()
    other = give_consent(patient, organisation=OrganisationFactory(name="GGZ Geheim"), by=loop["gp"])
    send(loop)
    client.force_login(loop["contact"])
    html = client.get(reverse("patients:detail", args=[patient.pk])).content.decode()
    assert "Angst" not in html and "GGZ Geheim" not in html and str(other.recipient) not in html
    assert patient.bsn not in html


# --- who may record consent and break the glass -------------------------------------------------------


@pytest.mark.django_db
def test_a_social_worker_cannot_record_or_withdraw_consent_even_for_their_own_team(client, loop):
    send(loop)
    client.force_login(loop["contact"])
    url = reverse("patients:consent_create", args=[loop["patient"].pk])
    assert client.get(url).status_code == 403
    response = client.post(
        url,
        {
            "purpose": "outcome_measurement",
            "recipient_team": loop["team"].pk,
            "form": "verbal",
            "given_on": "2026-01-01",
        },
    )
    assert response.status_code == 403
    withdraw = reverse("patients:consent_withdraw", args=[loop["patient"].pk, loop["consent"].pk])
    assert client.post(withdraw).status_code == 403
    assert Consent.objects.filter(patient=loop["patient"]).count() == 1
    with pytest.raises(PermissionDenied):
        consent_record(
            by=loop["contact"],
            patient=loop["patient"],
            purpose="outcome_measurement",
            form="verbal",
            given_on=timezone.localdate(),
            recipient_team=loop["team"],
        )
    # And the ALLOWED row that used to precede the refusal is a DENIED one.
    assert AccessLogEntry.objects.filter(
        user=loop["contact"], object_type="consent", outcome="denied"
    ).exists()
    assert not AccessLogEntry.objects.filter(
        user=loop["contact"], object_type="consent", outcome="allowed"
    ).exists()


@pytest.mark.django_db
def test_only_care_roles_break_the_glass_read_only_limited_and_reviewed(client, loop, settings):
    settings.EMERGENCY_LOOKUPS_PER_DAY = 2
    from collab_hub.accounts.models import User
    from collab_hub.notifications.models import Notification

    reviewer = User.objects.create_superuser("privacy", password="x" * 20)
    patient = loop["patient"]
    lookup = {
        "last_name": patient.last_name,
        "date_of_birth": patient.date_of_birth.isoformat(),
        "postcode": patient.postcode,
        "reason": "Patiënt onwel op de dienst, medicatie nodig",
    }
    for discipline in ("researcher", "project_lead", "wellbeing_coach", "social_worker"):
        client.force_login(ProfessionalFactory(profile__discipline=discipline))
        assert client.get(reverse("patients:emergency_access")).status_code == 403, discipline
        assert client.post(reverse("patients:emergency_access"), lookup).status_code == 403, discipline
    assert not CareRelationship.objects.filter(kind="emergency").exists()

    nurse = ProfessionalFactory(profile__discipline="district_nurse")
    client.force_login(nurse)
    response = client.post(reverse("patients:emergency_access"), lookup)
    assert response.status_code == 302
    html = client.get(reverse("patients:detail", args=[patient.pk])).content.decode()
    assert 'data-testid="emergency-view"' in html and patient.bsn not in html
    assert client.get(reverse("patients:edit", args=[patient.pk])).status_code == 403
    assert client.get(reverse("patients:consent_create", args=[patient.pk])).status_code == 403
    assert Notification.objects.filter(recipient=reviewer, kind="emergency_access").count() == 1
    # The limit: a second lookup (not found), then none left today.
    client.post(reverse("patients:emergency_access"), {**lookup, "last_name": "Niemand"})
    response = client.post(reverse("patients:emergency_access"), lookup)
    assert response.status_code == 200 and "opgebruikt" in response.content.decode()
    assert CareRelationship.objects.filter(kind="emergency").count() == 1


# --- lists, sending, and who counts as the requester --------------------------------------------------


@pytest.mark.django_db
def test_inbox_lists_only_what_the_viewer_may_open_and_log_it(client, loop):
    referral = send(loop)
    colleague = ProfessionalFactory(team=loop["team"], first_name="Col", last_name="Lega")
    client.force_login(colleague)  # a member of the team, not the receiver nor a coordinator
    html = client.get(reverse("referrals:inbox") + "?box=received&scope=team").content.decode()
    assert loop["patient"].last_name not in html
    client.force_login(loop["coordinator"])
    html = client.get(reverse("referrals:inbox") + "?box=received&scope=team").content.decode()
    assert loop["patient"].last_name in html
    entry = AccessLogEntry.objects.filter(user=loop["coordinator"], object_type="referral_list").latest("id")
    assert entry.event == "search" and str(referral.pk) in entry.reason
    # The sent box of someone in another team of the sender's organisation shows nothing of it.
    back_office = ProfessionalFactory(
        team=TeamFactory(organisation=loop["practice"], name="Administratie", kind=Team.Kind.MUNICIPALITY)
    )
    client.force_login(back_office)
    html = client.get(reverse("referrals:inbox") + "?box=sent").content.decode()
    assert loop["patient"].last_name not in html
    assert client.get(reverse("referrals:detail", args=[referral.pk])).status_code == 404


@pytest.mark.django_db
def test_sending_the_same_form_twice_sends_one_referral(loop):
    first = send(loop, submission="form-token-1")
    second = send(loop, submission="form-token-1")
    assert first.pk == second.pk and Referral.objects.count() == 1
    assert Event.objects.filter(kind="sent").count() == 1
    # Another GP's form token (forged, or guessed) is refused with a message, not a server error,
    # and gives nothing of the first GP's referral away.
    colleague = make_gp(loop["practice"])
    with pytest.raises(ValidationError, match="niet nog eens"):
        send(loop, by=colleague, submission="form-token-1")
    assert Referral.objects.count() == 1


@pytest.mark.django_db
def test_a_gp_in_two_practices_sends_for_the_patients_practice(loop):
    first_practice = PracticeFactory(name="AAA Eerste praktijk")  # sorts before the patient's practice
    Membership.objects.create(
        user=loop["gp"], team=TeamFactory(organisation=first_practice, kind=Team.Kind.PRACTICE)
    )
    referral = send(loop)
    assert referral.sender_organisation == loop["practice"]
    colleague_elsewhere = make_gp(first_practice)
    assert not opens(colleague_elsewhere, referral)
    with pytest.raises(ValidationError):
        services.referral_cancel(referral=referral, by=colleague_elsewhere)


@pytest.mark.django_db
def test_a_receiver_in_the_senders_health_centre_is_no_requester(loop):
    centre = OrganisationFactory(
        name="Gezondheidscentrum Oost", kind=Organisation.Kind.HEALTH_CENTRE, agb_code="12345678"
    )
    gps = TeamFactory(organisation=centre, name="Huisartsen", kind=Team.Kind.PRACTICE)
    social = TeamFactory(organisation=centre, name="Maatschappelijk werk", kind=Team.Kind.SOCIAL_WELFARE)
    gp = ProfessionalFactory(team=gps, profile__discipline="gp")
    worker = ProfessionalFactory(team=social)
    patient = loop["patient"].__class__.objects.create(
        first_name="Piet",
        last_name="Centrum",
        date_of_birth="1980-01-01",
        postcode="6531 AB",
        practice=centre,
    )
    give_consent(patient, team=social, by=gp)
    referral = send(loop, by=gp, patient=patient, team=social, receiver=worker)
    assert referral.sender_organisation == centre
    assert not services.is_requester(worker, referral)
    with pytest.raises(ValidationError):
        services.referral_cancel(referral=referral, by=worker)
    # And no full view of the centre's patients for the social-work team.
    client = Client()
    client.force_login(worker)
    html = client.get(reverse("patients:detail", args=[patient.pk])).content.decode()
    assert 'data-testid="minimal-view"' in html


@pytest.mark.django_db
def test_joint_consultations_only_on_open_referrals_and_never_replanned_once_held(loop):
    give_consent(loop["patient"], team=loop["team"], purpose="joint_consultation", by=loop["gp"])
    pathway = loop["pathways"]["gezamenlijk-consult"]
    referral = send(loop, pathway=pathway, letter={"reason": "Veelgebruiker", "patient_agrees": "yes"})
    when = timezone.now() + timedelta(days=3)
    plan = {"scheduled_at": when, "location": "Praktijk", "participants": [loop["gp"], loop["contact"]]}
    consultation = services.joint_consultation_schedule(referral=referral, by=loop["gp"], **plan)
    services.joint_consultation_record(
        consultation=consultation, by=loop["contact"], notes="Gedaan", actions=[]
    )
    with pytest.raises(ValidationError):
        services.joint_consultation_schedule(referral=referral, by=loop["gp"], **plan)
    assert JointConsultation.objects.get().state == "held"
    closed = send(loop, pathway=pathway, letter={"reason": "Veelgebruiker", "patient_agrees": "yes"})
    services.referral_cancel(referral=closed, by=loop["gp"])
    with pytest.raises(ValidationError):
        services.joint_consultation_schedule(referral=closed, by=loop["gp"], **plan)
    assert JointConsultation.objects.count() == 1


# --- found in a cold review: each broke a rule above ----------------------------------------------


@pytest.mark.django_db
def test_the_inbox_drops_a_referral_when_the_receivers_access_ends(client, loop, settings):
    settings.REFERRAL_ACCESS_GRACE_DAYS = 30
    name = loop["patient"].last_name
    declined = send(loop)
    services.referral_decline(referral=declined, by=loop["contact"], reason="no_capacity")
    cancelled = send(loop)
    services.referral_cancel(referral=cancelled, by=loop["gp"])
    for user, scope in ((loop["contact"], "me"), (loop["coordinator"], "team")):
        client.force_login(user)
        response = client.get(reverse("referrals:inbox") + f"?box=received&scope={scope}")
        assert name not in response.content.decode(), scope
        assert response.context["page"].paginator.count == 0
    # An open one is listed; a completed one during the grace period, and not after it.
    completed = send(loop)
    services.referral_accept(referral=completed, by=loop["contact"])
    services.referral_first_contact(
        referral=completed, by=loop["contact"], contact_date=timezone.localdate(), contact_method="phone"
    )
    services.referral_complete(referral=completed, by=loop["contact"], outcome="goals_met", text="Klaar")
    client.force_login(loop["contact"])
    response = client.get(reverse("referrals:inbox") + "?box=received")
    assert name in response.content.decode() and response.context["page"].paginator.count == 1
    Referral.objects.filter(pk=completed.pk).update(closed_at=timezone.now() - timedelta(days=31))
    response = client.get(reverse("referrals:inbox") + "?box=received")
    assert name not in response.content.decode() and response.context["page"].paginator.count == 0


@pytest.mark.django_db
def test_the_htmx_row_of_a_declined_referral_shows_no_name(client, loop):
    referral = send(loop)
    client.force_login(loop["contact"])
    response = client.post(
        reverse("referrals:action", args=[referral.pk, "decline"]),
        {"reason": "no_capacity", "row": "received"},
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert 'data-testid="referral-row-gone"' in html and loop["patient"].last_name not in html


@pytest.mark.django_db
def test_emergency_access_cannot_be_turned_into_a_referral(client, loop):
    nurse = make_gp(PracticeFactory(name="Praktijk Elders 2"))
    patient = loop["patient"]
    CareRelationship.objects.create(
        patient=patient,
        user=nurse,
        kind=CareRelationship.Kind.EMERGENCY,
        source="emergency:test",
        reason="Patiënt onwel op de dienst",
        ends_at=timezone.now() + timedelta(hours=24),
    )
    client.force_login(nurse)
    assert client.get(reverse("patients:detail", args=[patient.pk])).status_code == 200
    assert client.get(reverse("referrals:create", args=[patient.pk])).status_code == 403
    with pytest.raises(ValidationError):
        send(loop, by=nurse)
    assert not Referral.objects.exists()


@pytest.mark.django_db
def test_a_sender_or_participant_who_leaves_their_team_loses_the_referral(loop):
    give_consent(loop["patient"], team=loop["team"], purpose="joint_consultation", by=loop["gp"])
    referral = send(
        loop, pathway=loop["pathways"]["gezamenlijk-consult"], letter={"reason": "x", "patient_agrees": "yes"}
    )
    plan = {"scheduled_at": timezone.now() + timedelta(days=2), "location": "Praktijk"}
    services.joint_consultation_schedule(
        referral=referral, by=loop["gp"], participants=[loop["gp"], loop["contact"], loop["deputy"]], **plan
    )
    assert opens(loop["deputy"], referral) and can_message(loop["deputy"], referral)
    Membership.objects.filter(user=loop["deputy"]).delete()
    assert not opens(loop["deputy"], referral) and not can_message(loop["deputy"], referral)
    # A sender outside the patient's practice (a social worker asking the GP) who leaves: the same.
    practice_team = loop["gp"].memberships.get().team
    give_consent(loop["patient"], team=practice_team, purpose="information_request_gp", by=loop["gp"])
    info = services.referral_send(
        by=loop["contact"],
        patient=loop["patient"],
        pathway=loop["pathways"]["info-huisarts"],
        receiving_team=practice_team,
        receiver=loop["gp"],
        letter={"question": "Welke medicatie gebruikt de patiënt?"},
    )
    assert opens(loop["contact"], info)
    Membership.objects.filter(user=loop["contact"]).delete()
    assert not opens(loop["contact"], info) and roles_of(loop["contact"], info) == frozenset()


def can_message(user, referral) -> bool:
    return services.can_take_part(user, Referral.objects.get(pk=referral.pk))


@pytest.mark.django_db
def test_a_withdrawal_cancels_what_rested_on_it_even_outside_the_web_process(loop):
    """The receiver is connected when the app registry is ready, not when a view module is imported."""
    from patients.services import consent_withdrawn

    assert any("_close_what_the_consent_covered" in str(r) for r in consent_withdrawn.receivers)
    referral = send(loop)
    consent_withdraw(by=loop["gp"], consent=loop["consent"])
    assert Referral.objects.get(pk=referral.pk).status == Status.CANCELLED


@pytest.mark.django_db
def test_nobody_refers_to_themselves(loop):
    with pytest.raises(ValidationError):
        send(loop, by=loop["gp"], receiver=loop["gp"], team=loop["gp"].memberships.get().team)


@pytest.mark.django_db
def test_a_reopen_on_a_renewed_consent_follows_it_and_its_withdrawal_ends_the_access(loop):
    referral = send(loop)
    services.referral_accept(referral=referral, by=loop["contact"])
    services.referral_first_contact(
        referral=referral, by=loop["contact"], contact_date=timezone.localdate(), contact_method="phone"
    )
    services.referral_complete(referral=referral, by=loop["contact"], outcome="goals_met", text="Klaar")
    Consent.objects.filter(pk=loop["consent"].pk).update(valid_until=loop["consent"].given_on)
    with pytest.raises(services.ConsentMissing):
        services.referral_reopen(referral=referral, by=loop["contact"])
    renewed = give_consent(loop["patient"], team=loop["team"], by=loop["gp"], given_on=timezone.localdate())
    services.referral_reopen(referral=referral, by=loop["contact"])
    assert Referral.objects.get(pk=referral.pk).consent == renewed
    consent_withdraw(by=loop["gp"], consent=renewed)
    assert Referral.objects.get(pk=referral.pk).status == Status.CANCELLED
    assert not sees(loop["contact"], loop["patient"])


# --- review fixes: refusals are logged as refusals, repeats are one submission ------------------------


@pytest.mark.django_db
def test_a_second_click_or_a_step_without_the_role_is_logged_as_denied(client, loop):
    referral = send(loop)
    url = reverse("referrals:action", args=[referral.pk, "accept"])
    client.force_login(loop["contact"])
    assert client.post(url).status_code == 302
    response = client.post(url, follow=True)  # the second click: a message, not an error page
    assert response.status_code == 200 and "niet meer mogelijk" in response.content.decode()
    rows = AccessLogEntry.objects.filter(user=loop["contact"], object_type="referral", event="change")
    assert [row.outcome for row in rows.order_by("id")][-1:] == ["denied"]
    assert rows.filter(outcome="denied").count() == 1
    assert rows.latest("id").reason == "needs: accept (status accepted)"
    assert referral.events.filter(kind="accepted").count() == 1
    # The GP may open the referral but may not accept it: 403, logged as denied.
    client.force_login(loop["gp"])
    assert client.post(url).status_code == 403
    entry = AccessLogEntry.objects.filter(user=loop["gp"], event="change").latest("id")
    assert entry.outcome == "denied" and entry.reason == "needs: accept"


@pytest.mark.django_db
def test_a_step_refused_for_missing_consent_is_logged_as_denied(client, loop):
    referral = send(loop)
    services.referral_accept(referral=referral, by=loop["contact"])
    Consent.objects.filter(pk=loop["consent"].pk).update(valid_until=loop["consent"].given_on)
    client.force_login(loop["contact"])
    client.post(reverse("referrals:action", args=[referral.pk, "message"]), {"text": "Nog een vraag"})
    assert not Message.objects.exists()
    entry = AccessLogEntry.objects.filter(user=loop["contact"], event="change").latest("id")
    assert entry.outcome == "denied" and entry.reason == "refused: message"


@pytest.mark.django_db
def test_the_same_message_or_feedback_sent_twice_is_kept_once(client, loop):
    referral = send(loop)
    client.force_login(loop["gp"])
    for _ in range(2):
        client.post(reverse("referrals:action", args=[referral.pk, "message"]), {"text": "Belt u even?"})
    assert Message.objects.filter(referral=referral).count() == 1
    services.referral_accept(referral=referral, by=loop["contact"])
    services.referral_first_contact(
        referral=referral,
        by=loop["contact"],
        contact_date=timezone.localdate(),
        contact_method="phone",
        text="",
    )
    for _ in range(2):
        services.referral_feedback(referral=referral, by=loop["contact"], kind="progress", text="Gaat beter")
    assert referral.feedback.filter(kind="progress").count() == 1
    assert referral.events.filter(kind="feedback").count() == 1
    # A different text, or the same text later on, is a new message.
    services.message_post(referral=referral, by=loop["gp"], text="Belt u even terug?")
    services.message_post(
        referral=referral, by=loop["gp"], text="Belt u even?", at=timezone.now() + timedelta(minutes=5)
    )
    assert Message.objects.filter(referral=referral).count() == 3


@pytest.mark.django_db(transaction=True)
def test_the_same_message_posted_twice_at_once_is_kept_once(loop):
    referral = send(loop)
    twice_at_once(
        lambda: services.message_post(
            referral=Referral.objects.get(pk=referral.pk), by=loop["gp"], text="Dubbel?"
        )
    )
    assert Message.objects.filter(referral=referral).count() == 1


@pytest.mark.django_db
def test_forward_to_someone_in_two_teams_goes_to_the_team_the_consent_covers(loop):
    first = TeamFactory(
        organisation=OrganisationFactory(name="Wijkteam Noord"),
        name="Wijkteam Noord",
        kind=Team.Kind.SOCIAL_WELFARE,
    )
    second = TeamFactory(
        organisation=OrganisationFactory(name="Wijkteam Zuid"),
        name="Wijkteam Zuid",
        kind=Team.Kind.SOCIAL_WELFARE,
    )
    both = ProfessionalFactory(team=first, first_name="Bo", last_name="Beide")
    Membership.objects.create(user=both, team=second)
    give_consent(loop["patient"], team=second, by=loop["gp"])  # not for the first (lower id) team
    referral = send(loop)
    assert both in services.forward_candidates(referral)
    services.referral_forward(referral=referral, by=loop["contact"], to_user=both)
    referral.refresh_from_db()
    assert referral.receiving_team == second and referral.consent.recipient_team == second


@pytest.mark.django_db
def test_refused_emergency_lookups_leave_a_row_for_the_reviewer(client, loop, settings):
    settings.EMERGENCY_LOOKUPS_PER_DAY = 1
    patient = loop["patient"]
    lookup = {
        "last_name": patient.last_name,
        "date_of_birth": patient.date_of_birth.isoformat(),
        "postcode": patient.postcode,
        "reason": "Patiënt onwel op de dienst, medicatie nodig",
    }
    nurse = ProfessionalFactory(profile__discipline="district_nurse")
    client.force_login(nurse)
    client.post(reverse("patients:emergency_access"), {**lookup, "last_name": "Niemand"})
    response = client.post(reverse("patients:emergency_access"), lookup)
    assert "opgebruikt" in response.content.decode()
    rows = AccessLogEntry.objects.filter(user=nurse, event="break_glass").order_by("id")
    assert [(row.outcome, row.needs_review) for row in rows] == [("denied", True), ("denied", True)]
    assert rows.last().reason.startswith("refused (limit)")
    assert rows.last().object_type == "patient_lookup_refused"
    # A refused attempt is not a lookup: it does not push the end of the lockout further out.
    from patients.services import emergency_lookups_left

    client.post(reverse("patients:emergency_access"), lookup)
    settings.EMERGENCY_LOOKUPS_PER_DAY = 2
    assert emergency_lookups_left(user=nurse) == 1
    coach = ProfessionalFactory(profile__discipline="wellbeing_coach")
    client.force_login(coach)
    for _ in range(3):  # every attempt refused; the reviewers see it once a day
        assert client.post(reverse("patients:emergency_access"), lookup).status_code == 403
    entry = AccessLogEntry.objects.get(user=coach, event="break_glass")
    assert entry.outcome == "denied" and entry.reason.startswith("refused (role)")
    assert not CareRelationship.objects.filter(kind="emergency").exists()
