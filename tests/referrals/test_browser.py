"""The core loop in a browser: the GP refers, the contact accepts and reports back, the GP acknowledges."""

import re
from urllib.parse import urlparse

import pytest

from tests.conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

USERNAMES = {
    "Samira El Amrani": "maatschappelijkwerker",
    "Eva de Boer": "schuldhulp",
    "Jeroen Willems": "jeroen",
    "Tessa Visser": "teamleider",
    "Wim Bakker": "welzijnscoach",
    "Fatma Yilmaz": "fatma",
}


def send_to_contact(loop):
    """A social-work referral from the GP to the team's named contact, sent through the service."""
    from referrals import services

    return services.referral_send(
        by=loop["gp"],
        patient=loop["patient"],
        pathway=loop["pathways"]["maatschappelijk-werk"],
        receiving_team=loop["team"],
        receiver=loop["contact"],
        letter={"question": "Hulp bij geldzaken", "urgent_safety": "no"},
    )


def logout(page):
    page.locator("#user-menu").click()
    page.get_by_test_id("logout").click()
    page.wait_for_url("**/accounts/login/")


def test_gp_refers_contact_accepts_and_reports_back_gp_acknowledges(page, demo_data):
    from patients.models import Patient

    patient = Patient.objects.filter(
        practice__name="Huisartsenpraktijk De Linde", referrals__isnull=True
    ).first()
    patient = patient or Patient.objects.filter(practice__name="Huisartsenpraktijk De Linde").first()

    # 1. The GP refers the patient to the proposed named contact.
    login(page, "huisarts")
    page.goto(f"/patients/{patient.pk}/")
    page.get_by_role("link", name="Verwijzen", exact=True).click()
    page.wait_for_url(re.compile(r"/referrals/new/\d+/"))
    if page.get_by_test_id("no-suggestion").count():
        page.locator("#pathway-select").select_option(label="Maatschappelijk werk (meervoudige problematiek)")
        page.get_by_role("button", name="Verwijsroute kiezen").click()
    form = page.get_by_test_id("referral-form")
    for area in form.locator("textarea").all():
        area.fill("Graag contact over geldzorgen en eenzaamheid.")
    for select in form.locator("select").all():
        name = select.get_attribute("name")
        if name.startswith("letter_"):
            options = [o for o in select.locator("option").all() if o.get_attribute("value")]
            select.select_option(options[-1].get_attribute("value"))
    receiver_name = page.get_by_test_id("proposed-contact").locator("strong").first.inner_text()
    page.get_by_role("button", name="Verwijzing versturen").click()
    page.wait_for_url(re.compile(r"/referrals/\d+/$"))
    referral_url = page.url
    assert receiver_name in page.get_by_test_id("receiver").inner_text()
    logout(page)

    # 2. The named contact finds it in the inbox, accepts, records first contact and sends feedback.
    login(page, USERNAMES[receiver_name])
    page.get_by_test_id("nav-referrals").click()
    page.get_by_role("link", name="Nieuw", exact=True).click()
    assert patient.full_name in page.get_by_test_id("inbox").inner_text()
    page.locator(f"a[href='{urlparse(referral_url).path}']").click()
    page.get_by_test_id("action-accept").get_by_role("button").click()
    page.get_by_test_id("action-first_contact").locator("select[name=contact_method]").select_option("phone")
    page.get_by_test_id("action-first_contact").locator("textarea").fill("Gebeld, afspraak volgende week.")
    page.get_by_test_id("action-first_contact").get_by_role("button").click()
    feedback_form = page.get_by_test_id("action-feedback")
    feedback_form.locator("select[name=kind]").select_option("progress")
    feedback_form.locator("textarea").fill("Het gaat beter: ze doet mee met de wandelgroep.")
    feedback_form.get_by_role("button").click()
    assert "Het gaat beter" in page.get_by_test_id("timeline").inner_text()
    logout(page)

    # 3. The GP sees the feedback and acknowledges it.
    login(page, "huisarts")
    page.goto(referral_url)
    assert "Het gaat beter: ze doet mee met de wandelgroep." in page.get_by_test_id("timeline").inner_text()
    page.get_by_test_id("action-acknowledge").get_by_role("button").click()
    assert "Bevestigd door Hanna de Vries" in page.get_by_test_id("timeline").inner_text()


def test_a_receiver_who_forwards_a_referral_can_no_longer_open_it(page, loop):
    """Need-to-know in the browser: forward in the referral page, and the page, the letter and the
    patient are gone for the person who handed it over."""
    from tests.factories import PASSWORD

    referral = send_to_contact(loop)
    login(page, loop["contact"].username, PASSWORD)
    page.goto(f"/referrals/{referral.pk}/")
    form = page.get_by_test_id("action-forward")
    form.locator("select[name=to_user]").select_option(label="Jeroen Willems")
    form.locator("button[type=submit]").click()
    page.wait_for_url("**/referrals/")
    assert "Verwijzing doorgestuurd" in page.content()
    assert "Zonneveld" not in page.content()
    for url in (
        f"/referrals/{referral.pk}/",
        f"/referrals/{referral.pk}/letter/",
        f"/patients/{loop['patient'].pk}/",
    ):
        response = page.goto(url)
        assert response.status == 404, url
        assert page.get_by_test_id("error-page").count() == 1


def test_the_receivers_bell_shows_a_new_referral_at_once(page, loop):
    """The GP sends in the browser; the named receiver's bell shows it straight away (no sweep ran), and
    the notification leads to the referral."""
    from referrals.models import Referral
    from tests.factories import PASSWORD

    login(page, loop["gp"].username, PASSWORD)
    page.goto(f"/referrals/new/{loop['patient'].pk}/")
    if page.get_by_test_id("no-suggestion").count():
        page.locator("#pathway-select").select_option(label="Maatschappelijk werk (meervoudige problematiek)")
        page.get_by_role("button", name="Verwijsroute kiezen").click()
    form = page.get_by_test_id("referral-form")
    for area in form.locator("textarea").all():
        area.fill("Graag contact over geldzorgen.")
    for select in form.locator("select").all():
        if select.get_attribute("name").startswith("letter_"):
            options = [o for o in select.locator("option").all() if o.get_attribute("value")]
            select.select_option(options[-1].get_attribute("value"))
    page.get_by_role("button", name="Verwijzing versturen").click()
    page.wait_for_url(re.compile(r"/referrals/\d+/$"))
    referral = Referral.objects.get()
    assert referral.receiver == loop["contact"]
    logout(page)

    login(page, loop["contact"].username, PASSWORD)
    assert page.get_by_test_id("unread-count").inner_text() == "1"
    page.get_by_test_id("bell").click()
    item = page.get_by_test_id("notifications").locator(
        "li", has_text=f"Nieuwe verwijzing {referral.reference} voor u"
    )
    assert item.count() == 1
    assert loop["patient"].last_name not in page.content()  # the list names no patient
    item.get_by_role("button", name="Bekijken").click()
    page.wait_for_url(f"**/referrals/{referral.pk}/")
    assert page.get_by_test_id("action-accept").count() == 1


def test_the_gp_sees_a_decline_with_its_reason_in_words(page, loop):
    """Issue 21: a decline is the first thing on the GP's home page and at the top of their list, and
    the timeline gives the reason in words, not its code."""
    from referrals import services
    from tests.factories import PASSWORD

    declined = send_to_contact(loop)
    services.referral_decline(
        referral=declined, by=loop["contact"], reason="wrong_pathway", note="Past beter bij schuldhulp"
    )
    send_to_contact(loop)  # an open one, sent later: the decline still comes first
    login(page, loop["gp"].username, PASSWORD)
    page.get_by_test_id("declined-count").click()
    page.wait_for_url(re.compile(r"filter=declined"))
    page.goto("/referrals/?box=sent")
    first = page.get_by_test_id("inbox").locator("tbody tr").first
    assert declined.reference in first.inner_text()
    first.get_by_role("link").first.click()
    page.wait_for_url(f"**/referrals/{declined.pk}/")
    timeline = page.get_by_test_id("timeline").inner_text()
    assert "Verkeerde verwijsroute: Past beter bij schuldhulp" in timeline
    assert "wrong_pathway" not in page.content()
