import re

import pytest

from tests.conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_gp_finds_my_contacts_profile_with_next_hour_and_searches_the_social_map(page, demo_data):
    login(page, "huisarts")
    panel = page.get_by_test_id("my-contacts")
    panel.wait_for()
    assert "Sociaal wijkteam Oost" in panel.inner_text()
    panel.get_by_role("link", name="Samira El Amrani").click()
    page.wait_for_url(re.compile(r"/people/\d+/$"))
    assert page.get_by_role("heading", level=1).inner_text() == "Samira El Amrani"
    hours = page.get_by_test_id("next-hours").inner_text()
    assert "Huisartsenpraktijk De Linde" in hours
    assert re.search(r"\d{2}:\d{2}–\d{2}:\d{2}", hours)

    page.get_by_role("link", name="Sociale kaart").click()
    page.get_by_label("Levensgebied").select_option("finances")
    page.get_by_role("button", name="Zoeken").click()
    results = page.get_by_test_id("services")
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=services]').innerText.includes('Taalcafé')"
    )
    text = results.inner_text()
    assert "Budgetcoaching" in text
    assert "Taalcafé" not in text
    assert "life_domain=finances" in page.url
