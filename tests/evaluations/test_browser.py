import re
from datetime import date
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

from tests.conftest import login

User = get_user_model()

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
    # The demo still tells its story under disclosure control: cycle 1 has figures, teams too (a team
    # hidden with a small one reads "achtergehouden", never a bare number next to the total).
    assert page.get_by_test_id("shared-ground").count() == 0
    sent = page.get_by_test_id("indicators").locator("tbody tr").first.locator("td").first.inner_text()
    assert sent.isdigit() and int(sent) >= 5
    teams = page.get_by_test_id("per-team").locator("tbody tr")
    assert teams.count() >= 1
    for cells in teams.all():
        values = cells.locator("td").all_inner_texts()
        assert all(v == "achtergehouden" for v in values) or values[0].isdigit()
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


def test_project_lead_compares_cycle_1_with_the_baseline_and_reads_the_senders_side(page, demo_data):
    """The demo's question: did cycle 1 beat the baseline, and is the loop closed from the GP's side?"""
    login(page, "projectleider")
    page.goto("/evaluations/")
    page.get_by_test_id("projects").get_by_role("link").first.click()
    page.get_by_test_id("cycles").get_by_role("link", name=re.compile("Cyclus 1")).click()
    page.wait_for_url(re.compile(r"cycle=1"))
    table = page.get_by_test_id("indicators")
    assert table.locator("thead th").last.inner_text() == "Nulmeting"
    acknowledged = table.locator("tr[data-key=acknowledged_share]")
    assert "bevestigd door de verwijzer" in acknowledged.locator("th").inner_text()
    this_cycle, _, baseline = acknowledged.locator("td").all_inner_texts()
    assert re.fullmatch(r"[01],\d\d", this_cycle) and re.fullmatch(r"[01],\d\d", baseline)
    assert "werkdagen" in table.locator("tr[data-key=median_days_to_acceptance] th").inner_text()
    page.get_by_test_id("baseline").click()
    page.wait_for_url(re.compile(r"cycle=0"))
    assert page.locator("#check-title").inner_text().startswith("Nulmeting: de maanden vóór cyclus 1")
    # The running cycle has referrals too recent to count: its figures say so.
    page.get_by_test_id("cycles").get_by_role("link", name=re.compile("Cyclus 3")).click()
    page.wait_for_url(re.compile(r"cycle=3"))
    assert page.get_by_test_id("indicators").get_by_text("voorlopig").count() >= 1
    assert page.get_by_test_id("maturity-note").is_visible()


def test_project_lead_works_through_do_check_act_and_plans_the_next_cycle(page, demo_data):
    login(page, "projectleider")
    page.goto("/evaluations/")
    page.get_by_test_id("projects").get_by_role("link").first.click()
    page.get_by_test_id("open-cycle").click()
    page.wait_for_url(re.compile(r"/cycles/3/"))
    form = page.get_by_test_id("do-form")
    form.get_by_label("Wat er gebeurde").fill("Spreekuur verplaatst naar dinsdagochtend")
    form.get_by_role("button", name="Toevoegen aan het uitvoeringslogboek").click()
    assert "dinsdagochtend" in page.get_by_test_id("do-log").inner_text()
    page.get_by_test_id("advance").click()  # Do → Check
    page.get_by_test_id("advance").click()  # Check → Act
    assert "Act" in page.get_by_test_id("phases").locator("[aria-current=step]").inner_text()
    act = page.get_by_test_id("act-form")
    act.get_by_label("Overnemen").check()
    act.get_by_label("Onderbouwing").fill("Minder herinneringen nodig, sneller eerste contact")
    act.get_by_role("button", name="Besluit opslaan").click()
    next_form = page.get_by_test_id("next-form")
    next_form.get_by_role("button", name="Cyclus 4 plannen").click()
    page.wait_for_url(re.compile(r"/cycles/4/"))
    plan = page.get_by_test_id("plan-form")
    assert plan.get_by_label("Te testen verandering").input_value() != ""  # seeded from Act
    assert plan.locator("input[name=prediction_acceptance_rate]").input_value() == "0.9"


def test_researcher_exports_events_and_downloads_them_when_ready(
    page, demo_data, celery_worker, settings, tmp_path
):
    settings.EXPORT_ROOT = tmp_path
    login(page, "onderzoeker")
    page.goto("/evaluations/")
    page.get_by_test_id("projects").get_by_role("link").first.click()
    page.get_by_role("link", name="Export voor onderzoek").click()
    form = page.get_by_test_id("export-form")
    form.get_by_label("Verwijsgebeurtenissen (gepseudonimiseerd)").check()
    form.get_by_label("CSV").check()
    form.get_by_role("button", name="Export klaarzetten").click()
    link = page.get_by_test_id("download")
    link.wait_for(timeout=30_000)  # htmx polls the row until the worker has built the file
    assert page.get_by_test_id("exports").locator("progress").first.get_attribute("value") == "100"
    with page.expect_download() as download:
        link.click()
    header = Path(download.value.path()).read_text(encoding="utf-8").splitlines()[0]
    assert header.startswith("referral,patient,pathway")


def _as(browser, live_server, username):
    context = browser.new_context(locale="nl-NL", base_url=live_server.url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    login(page, username)
    return page


def test_social_worker_scores_zrm_gp_sees_radar_and_coach_answers_questionnaire(
    browser, live_server, demo_data
):
    from evaluations.models import OutcomeMeasurement
    from patients.selectors import visible_patients
    from teams.selectors import practices_of

    gp_practice = practices_of(User.objects.get(username="huisarts")).first()
    # A patient of the GP's practice whom the social worker is still involved with (need-to-know).
    patient = (
        OutcomeMeasurement.objects.filter(
            patient__practice=gp_practice,
            version__instrument__code="zrm",
            patient__in=visible_patients(user=User.objects.get(username="maatschappelijkwerker")),
        )
        .select_related("patient")
        .order_by("patient_id")
        .first()
        .patient
    )
    before = OutcomeMeasurement.objects.filter(patient=patient, version__instrument__code="zrm").count()

    worker = _as(browser, live_server, "maatschappelijkwerker")
    worker.goto(f"/patients/{patient.pk}/")
    worker.get_by_role("link", name="Zelfredzaamheid-Matrix (ZRM) invullen").click()
    form = worker.get_by_test_id("outcome-form")
    form.get_by_label("Datum").fill(date.today().isoformat())
    form.get_by_label("Financiën").select_option("4")
    form.get_by_label("Huisvesting").select_option("5")
    form.get_by_role("button", name="Meting opslaan").click()
    worker.wait_for_url(f"**/patients/{patient.pk}/")
    assert (
        OutcomeMeasurement.objects.filter(patient=patient, version__instrument__code="zrm").count()
        == before + 1
    )
    worker.context.close()

    gp = _as(browser, live_server, "huisarts")
    gp.goto(f"/patients/{patient.pk}/")
    gp.locator("canvas[data-outcome=zrm]").wait_for()
    assert gp.evaluate("() => Object.keys(Chart.instances).length") >= 2  # ZRM and Positive Health radars
    history = gp.get_by_test_id("outcome-history-zrm").inner_text()
    assert "Financiën" in history and "4" in history
    gp.context.close()

    coach = _as(browser, live_server, "welzijnscoach")
    coach.get_by_test_id("panel-questionnaires").get_by_role("link").first.click()
    questionnaire = coach.get_by_test_id("questionnaire")
    for group in questionnaire.locator("input[type=radio][value='4']").all():
        group.check()
    questionnaire.get_by_role("button", name="Mijn antwoorden versturen").click()
    assert "zonder uw naam" in coach.locator(".messages").inner_text()
    coach.context.close()


def test_admin_reads_every_project_and_the_hub_on_the_overview(page, demo_data):
    from evaluations.indicators import indicators, project_referrals
    from evaluations.models import ImprovementProject

    login(page, "beheerder")
    page.get_by_role("link", name="Verbetering").click()
    table = page.get_by_test_id("projects")
    table.wait_for()
    rows = table.get_by_test_id("project-row")
    assert rows.count() == ImprovementProject.objects.count() >= 1
    project = ImprovementProject.objects.order_by("-starts_on", "name").first()
    expected = indicators(project_referrals(project, start=project.starts_on, end=project.ends_on))
    first = rows.first
    assert project.name in first.inner_text()
    rounded = (expected["sent"] + 5) // 10 * 10  # to tens, halves up (docs/privacy-aggregates.md)
    assert first.get_by_test_id("sent").inner_text() == f"ongeveer {rounded:,}".replace(",", ".")
    assert "Cyclus" in first.inner_text()
    hub = page.get_by_test_id("hub-row").inner_text()
    assert "Alle verwijzingen in de hub sinds" in hub and "ongeveer" in hub  # rounded to tens
    first.get_by_role("link", name=project.name).click()
    page.wait_for_url(re.compile(rf"/evaluations/{project.pk}/"))
