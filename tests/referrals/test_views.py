"""Referral pages: need-to-know access on every URL, sending with and without consent, inbox counts."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from collab_hub.audit.models import AccessLogEntry
from referrals.models import Referral, Status
from referrals.views import ACTION_FORMS as ACTIONS
from tests.factories import PatientFactory
from tests.referrals.conftest import make_referral

pytestmark = pytest.mark.django_db


def referral_urls(pk: int) -> list[tuple[str, str]]:
    urls = [
        ("get", reverse("referrals:detail", args=[pk])),
        ("get", reverse("referrals:letter", args=[pk])),
        ("get", reverse("referrals:consultation", args=[pk])),
    ]
    urls += [("post", reverse("referrals:action", args=[pk, action])) for action in ACTIONS]
    return urls


def test_outsider_gets_404_on_every_referral_url_and_a_denied_log_row(client, loop):
    referral = make_referral(loop)
    client.force_login(loop["outsider"])
    for method, url in referral_urls(referral.pk):
        response = getattr(client, method)(url, {"note": "x", "text": "x", "reason": "no_capacity"})
        assert response.status_code == 404, (method, url)
    denied = AccessLogEntry.objects.filter(user=loop["outsider"], outcome="denied", object_type="referral")
    assert denied.count() == len(referral_urls(referral.pk))
    assert Referral.objects.get(pk=referral.pk).status == Status.REQUESTED


def test_owner_colleague_and_receiver_see_the_referral(client, loop):
    from tests.factories import make_gp

    referral = make_referral(loop)
    colleague = make_gp(loop["practice"])  # same practice as the sender
    for user in (loop["gp"], colleague, loop["contact"], loop["coordinator"]):
        client.force_login(user)
        assert client.get(reverse("referrals:detail", args=[referral.pk])).status_code == 200
    # The deputy of the named contact is not involved in this referral.
    client.force_login(loop["deputy"])
    assert client.get(reverse("referrals:detail", args=[referral.pk])).status_code == 404


def test_a_role_may_not_make_anothers_status_change(client, loop):
    referral = make_referral(loop)
    client.force_login(loop["gp"])
    # The page offers the GP no accept button: a hand-made request is refused (and logged as denied).
    response = client.post(reverse("referrals:action", args=[referral.pk, "accept"]), follow=True)
    assert response.status_code == 403
    assert Referral.objects.get(pk=referral.pk).status == Status.REQUESTED


def test_accept_inside_the_inbox_with_htmx_returns_the_row(client, loop):
    referral = make_referral(loop)
    client.force_login(loop["contact"])
    response = client.post(
        reverse("referrals:action", args=[referral.pk, "accept"]), {"row": "received"}, HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert f'id="referral-{referral.pk}"' in html and "<html" not in html
    assert Referral.objects.get(pk=referral.pk).status == Status.ACCEPTED


def test_sending_without_consent_goes_to_record_consent_first(client, loop):
    loop["consent"].delete()
    client.force_login(loop["gp"])
    url = reverse("referrals:create", args=[loop["patient"].pk])
    page = client.get(url).content.decode()
    assert 'data-testid="consent-missing"' in page
    pathway = loop["pathways"]["maatschappelijk-werk"]
    response = client.post(
        url,
        {
            "pathway": pathway.pk,
            "receiver": loop["contact"].pk,
            "urgency": "routine",
            "letter_question": "Hulp",
            "letter_urgent_safety": "no",
        },
    )
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("patients:consent_create", args=[loop["patient"].pk]))
    assert not Referral.objects.exists()


def test_sending_from_the_page(client, loop):
    client.force_login(loop["gp"])
    url = reverse("referrals:create", args=[loop["patient"].pk])
    page = client.get(url).content.decode()
    assert 'data-testid="suggestion"' in page and "Samira El Amrani" in page
    pathway = loop["pathways"]["maatschappelijk-werk"]
    response = client.post(
        url,
        {
            "pathway": pathway.pk,
            "receiver": loop["contact"].pk,
            "urgency": "soon",
            "letter_question": "",
            "letter_urgent_safety": "no",
        },
    )
    assert response.status_code == 200  # the required question was empty
    assert not Referral.objects.exists()
    response = client.post(
        url,
        {
            "pathway": pathway.pk,
            "receiver": loop["deputy"].pk,
            "urgency": "soon",
            "letter_question": "Hulp bij schulden",
            "letter_urgent_safety": "no",
        },
    )
    referral = Referral.objects.get()
    assert response["Location"] == reverse("referrals:detail", args=[referral.pk])
    assert referral.receiver == loop["deputy"] and referral.assigned_via == "chosen"
    assert referral.letter == {"question": "Hulp bij schulden", "urgent_safety": "no", "already_known": ""}


def test_the_patient_page_shows_the_referral_and_its_feedback(client, loop):
    referral = make_referral(loop, status=Status.IN_PROGRESS)
    referral.feedback.create(
        kind="progress",
        author=loop["contact"],
        created_at=referral.sent_at,
        text="Gaat vooruit met de administratie",
    )
    client.force_login(loop["gp"])
    html = client.get(reverse("patients:detail", args=[loop["patient"].pk])).content.decode()
    assert 'data-testid="patient-referrals"' in html and "Gaat vooruit met de administratie" in html


def count(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_inbox_and_patient_page_query_counts_do_not_grow(client, loop):
    def add(n):
        for _ in range(n):
            make_referral(loop)
            make_referral(loop, patient=PatientFactory(practice=loop["practice"]))

    add(3)
    urls = [
        reverse("referrals:inbox") + "?box=received",
        reverse("referrals:inbox") + "?box=sent",
        reverse("patients:detail", args=[loop["patient"].pk]),
    ]
    client.force_login(loop["contact"])
    few_received = count(client, urls[0])
    client.force_login(loop["gp"])
    few = [count(client, u) for u in urls[1:]]
    add(50)
    client.force_login(loop["contact"])
    assert count(client, urls[0]) == few_received
    client.force_login(loop["gp"])
    assert [count(client, u) for u in urls[1:]] == few


def test_navigation_counts_only_feedback_that_waits(client, loop):
    make_referral(loop)  # no feedback: nothing to acknowledge
    done = make_referral(loop, status=Status.COMPLETED)
    done.feedback.create(kind="closure", outcome="goals_met", author=loop["contact"], created_at=done.sent_at)
    from referrals.selectors import inbox_counts

    assert inbox_counts(user=loop["gp"]) == {"received": 0, "to_acknowledge": 1}
    assert inbox_counts(user=loop["contact"]) == {"received": 1, "to_acknowledge": 0}


def test_plan_and_record_a_joint_consultation(client, loop):
    from datetime import timedelta

    from django.utils import timezone

    from tests.factories import give_consent

    give_consent(loop["patient"], team=loop["team"], purpose="joint_consultation", by=loop["gp"])
    referral = make_referral(loop, pathway=loop["pathways"]["gezamenlijk-consult"])
    client.force_login(loop["gp"])
    when = (timezone.localtime() + timedelta(days=7)).strftime("%Y-%m-%dT10:00")
    response = client.post(
        reverse("referrals:consultation", args=[referral.pk]),
        {
            "scheduled_at": when,
            "location": "Praktijk De Linde",
            "participants": [loop["gp"].pk, loop["contact"].pk],
            "patient_attends": "on",
            "agenda": "Geld en wonen",
        },
    )
    assert response.status_code == 302
    consultation = referral.joint_consultation
    assert set(consultation.participants.all()) == {loop["gp"], loop["contact"]}
    url = reverse("referrals:consultation_record", args=[referral.pk])
    response = client.post(url, {"notes": "Goed gesprek", "action_1": "Budgetplan maken"})
    assert "eigenaar" in response.content.decode().lower()  # an action without an owner is refused
    assert not consultation.actions.exists()
    client.post(url, {"notes": "Goed gesprek", "action_1": "Budgetplan maken", "owner_1": loop["contact"].pk})
    consultation.refresh_from_db()
    assert consultation.state == "held"
    assert consultation.actions.get().owner == loop["contact"]


def test_the_inbox_opens_on_the_next_work(client, loop):
    """Issue 21: a coordinator's list opens on their team (not on 'to me', where nothing waits for
    them); the GP's sent list puts feedback to read and recent declines above the open ones, and the
    home page counts the declines."""
    from datetime import timedelta

    from django.utils import timezone

    open_one = make_referral(loop)
    client.force_login(loop["coordinator"])
    html = client.get(reverse("referrals:inbox")).content.decode()
    assert open_one.reference in html  # with the contact, in the coordinator's team
    assert open_one.reference not in client.get(reverse("referrals:inbox") + "?scope=me").content.decode()

    old_decline = make_referral(
        loop, status=Status.REJECTED, decline_reason="other", closed_at=timezone.now() - timedelta(days=40)
    )
    new_decline = make_referral(
        loop,
        status=Status.REJECTED,
        decline_reason="no_capacity",
        closed_at=timezone.now() - timedelta(days=1),
    )
    client.force_login(loop["gp"])
    rows = client.get(reverse("referrals:inbox") + "?box=sent").content.decode().split("<tbody")[1]
    order = [rows.find(r.reference) for r in (new_decline, open_one, old_decline)]
    assert -1 not in order and order == sorted(order)
    home = client.get(reverse("home")).content.decode()
    assert 'data-testid="declined-count"' in home and "1 verwijzing van uw praktijk afgewezen" in home
    declined = client.get(reverse("referrals:inbox") + "?box=sent&filter=declined").content.decode()
    rows = declined.split("<tbody")[1]
    assert new_decline.reference in rows  # what the home page counted, and only that
    assert old_decline.reference not in rows and open_one.reference not in rows
    # Another practice's decline counts for nobody here.
    from tests.factories import PatientFactory, PracticeFactory

    elsewhere = PatientFactory(practice=PracticeFactory(name="Praktijk Anders"))
    make_referral(
        loop,
        patient=elsewhere,
        sender=loop["outsider"],
        sender_organisation=elsewhere.practice,
        status=Status.REJECTED,
        decline_reason="no_capacity",
        closed_at=timezone.now(),
    )
    assert "1 verwijzing van uw praktijk afgewezen" in client.get(reverse("home")).content.decode()


def test_decline_and_close_start_on_no_choice(client, loop):
    """Issue 21: the decline reason and the closing outcome start empty; sent without a choice, nothing
    changes and the form says what is missing."""
    referral = make_referral(loop)
    client.force_login(loop["contact"])
    html = client.get(reverse("referrals:detail", args=[referral.pk])).content.decode()
    decline = html.split('data-testid="action-decline"')[1].split("</form>")[0]
    assert '<option value="" selected>— kies een reden —</option>' in decline
    response = client.post(
        reverse("referrals:action", args=[referral.pk, "decline"]), {"reason": "", "note": ""}, follow=True
    )
    assert "Reden" in " ".join(str(m) for m in response.context["messages"])
    referral.refresh_from_db()
    assert referral.status == Status.REQUESTED
    from referrals.forms import CompleteForm

    assert CompleteForm().fields["outcome"].choices[0] == ("", "— kies de uitkomst —")
    assert not CompleteForm({"outcome": "", "text": "Klaar"}).is_valid()


def _ids(html: str) -> list[str]:
    import re

    return re.findall(r'\sid="([^"]+)"', html)


def test_no_two_fields_on_the_referral_page_share_an_id(client, loop):
    """Issue 21: the step forms of a referral page (decline, forward, feedback, close, message …) each
    have a "note" or "text": with one id per step, a label click lands in its own field."""
    from collections import Counter

    from django.utils import timezone

    requested = make_referral(loop)
    in_progress = make_referral(
        loop, status=Status.IN_PROGRESS, accepted_at=timezone.now(), first_contact_at=timezone.now()
    )
    for user in (loop["contact"], loop["coordinator"]):
        client.force_login(user)
        for referral in (requested, in_progress):
            html = client.get(reverse("referrals:detail", args=[referral.pk])).content.decode()
            doubles = [i for i, n in Counter(_ids(html)).items() if n > 1]
            assert doubles == [], (user, referral.status, doubles)
            for target in __import__("re").findall(r'<label[^>]* for="([^"]+)"', html):
                assert target in _ids(html), target
    html = client.get(reverse("referrals:detail", args=[requested.pk])).content.decode()
    assert 'for="id_decline_note"' in html and 'for="id_forward_note"' in html


def test_the_access_history_says_who_looked_and_why_in_words(client, loop):
    """Issue 21: the access history a practice prints for a patient names the care relationship and
    the purpose in words, not the log's codes ("referral_social – relation: referral_receiver")."""
    referral = make_referral(loop)
    client.force_login(loop["contact"])
    assert client.get(reverse("referrals:detail", args=[referral.pk])).status_code == 200
    client.get(reverse("patients:detail", args=[loop["patient"].pk]))
    client.force_login(loop["gp"])
    html = client.get(reverse("patients:access_history", args=[loop["patient"].pk])).content.decode()
    table = html.split('data-testid="access-history"')[1].split("</table>")[0]
    assert "Heeft een verwijzing ontvangen" in table
    for code in ("relation:", "referral_receiver", "referral_social"):
        assert code not in table, code


def test_a_new_referral_comes_before_work_that_is_due_later(client, loop):
    """Issue 21: the receiver's list is ordered by the step that is due next (overdue first, then a
    new referral within its days to accept), not by the date the oldest referral had to be accepted."""
    from datetime import timedelta

    from django.utils import timezone

    today = timezone.localdate()
    long_running = make_referral(
        loop,
        status=Status.IN_PROGRESS,
        sent_at=timezone.now() - timedelta(days=200),
        accept_by=today - timedelta(days=198),
        accepted_at=timezone.now() - timedelta(days=199),
        first_contact_at=timezone.now() - timedelta(days=190),
        feedback_by=today + timedelta(days=20),
    )
    overdue = make_referral(
        loop,
        status=Status.IN_PROGRESS,
        sent_at=timezone.now() - timedelta(days=100),
        accept_by=today - timedelta(days=98),
        feedback_by=today - timedelta(days=3),
    )
    new = make_referral(loop, accept_by=today + timedelta(days=2))
    client.force_login(loop["contact"])
    rows = client.get(reverse("referrals:inbox")).content.decode().split("<tbody")[1]
    order = [rows.find(r.reference) for r in (overdue, new, long_running)]
    assert -1 not in order and order == sorted(order)


def test_a_decline_note_is_read_in_words_whatever_it_holds():
    from referrals.models import Event

    assert (
        Event(kind="declined", note="wrong_pathway: Past beter").note_shown
        == "Verkeerde verwijsroute: Past beter"
    )
    assert Event(kind="declined", note="no_capacity").note_shown == "Geen capaciteit"
    assert Event(kind="declined", note="unknown: x").note_shown == "unknown: x"
    assert Event(kind="forwarded", note="wrong_pathway: y").note_shown == "wrong_pathway: y"


def test_the_forward_list_says_who_is_away(client, loop):
    """Issue 21: forwarding to a colleague on leave would leave the referral waiting: the list says so."""
    from datetime import timedelta

    from django.utils import timezone

    from teams.models import Absence

    today = timezone.localdate()
    Absence.objects.create(user=loop["deputy"], starts_on=today, ends_on=today + timedelta(days=9))
    referral = make_referral(loop)
    client.force_login(loop["contact"])
    html = client.get(reverse("referrals:detail", args=[referral.pk])).content.decode()
    forward = html.split('data-testid="action-forward"')[1].split("</form>")[0]
    until = (today + timedelta(days=9)).strftime("%d-%m-%Y")
    assert f"Jeroen Willems (afwezig tot en met {until})" in forward
    assert "Tessa Visser</option>" in forward  # present: the name alone
