import re

import pytest

from tests.conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_gp_creates_a_patient_records_consent_and_sees_the_access_history(page, demo_data):
    login(page, "huisarts")
    page.get_by_role("link", name="Patiënten").first.click()
    page.get_by_role("link", name="Nieuwe patiënt").click()
    page.get_by_label("Voornaam").fill("Roos")
    page.get_by_label("Achternaam").fill("Verbeek")
    page.get_by_label("Geboortedatum").fill("1958-04-12")
    page.get_by_label("Postcode").fill("6532 bk")
    page.get_by_label("Mantelzorger").check()
    page.get_by_role("button", name="Opslaan").click()
    page.wait_for_url(re.compile(r"/patients/\d+/$"))
    assert page.get_by_role("heading", level=1).inner_text() == "Roos Verbeek"
    assert "6532 BK" in page.locator("main").inner_text()

    page.get_by_role("link", name="Toestemming vastleggen").click()
    page.get_by_label("Doel").select_option("referral_social")
    page.get_by_label("Ontvangend team").select_option(label="Sociaal wijkteam Oost")
    page.locator("select[name=form]").select_option("verbal")
    page.get_by_role("button", name="Toestemming vastleggen").click()
    page.wait_for_url(re.compile(r"/patients/\d+/$"))
    consents = page.get_by_test_id("consents").inner_text()
    assert "Sociaal wijkteam Oost" in consents

    page.get_by_role("link", name="Toegangsgeschiedenis").click()
    history = page.get_by_test_id("access-history").inner_text()
    assert "Hanna de Vries" in history
    assert "Huisarts" in history
    assert "Aanmaken" in history and "Inzien" in history
