import re

import pytest

from tests.conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_project_lead_opens_dashboard_switches_cycle_and_records_a_barrier(page, demo_data):
    login(page, "projectleider")
    page.get_by_role("link", name="Verbetering").click()
    page.get_by_test_id("projects").get_by_role("link").first.click()
    page.wait_for_url(re.compile(r"/evaluations/\d+/"))
    page.locator("canvas[data-chart=acceptance_rate]").wait_for()
    assert page.evaluate("() => typeof Chart !== 'undefined' && Object.keys(Chart.instances).length") >= 4
    page.get_by_test_id("cycles").get_by_role("link", name=re.compile("Cyclus 1")).click()
    page.wait_for_url(re.compile(r"cycle=1"))
    before = page.get_by_test_id("tally").inner_text()
    form = page.get_by_test_id("meeting-form")
    form.locator("input[name=held_on]").fill("2026-02-10")
    form.locator("select[name=finding_kind]").select_option("barrier")
    form.locator("select[name=finding_category]").select_option("money")
    form.locator("input[name=finding_text]").fill("Geen budget voor extra spreekuren")
    form.get_by_role("button", name="Opslaan").click()
    page.wait_for_url(re.compile(r"cycle=1"))
    after = page.get_by_test_id("tally").inner_text()
    assert after != before
    assert "Geld" in after
