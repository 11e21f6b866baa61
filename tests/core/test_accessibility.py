"""Accessibility of the main pages (issue 21): axe-core in the browser finds no serious or critical
violation, and no page has two elements with one id."""

import re
from collections import Counter

import pytest

from tests.conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SERIOUS = ("serious", "critical")


def problems(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    found = []
    for violation in Axe().run(page).response["violations"]:
        if violation["impact"] in SERIOUS:
            targets = [", ".join(node["target"]) for node in violation["nodes"]][:3]
            found.append(f"{page.url}: {violation['id']} ({violation['impact']}) at {targets}")
    doubles = [i for i, n in Counter(re.findall(r'\sid="([^"]+)"', page.content())).items() if n > 1]
    found += [f"{page.url}: id {i!r} twice" for i in doubles]
    return found


def test_main_pages_have_no_serious_accessibility_problems(page, demo_data):
    from evaluations.models import ImprovementProject
    from patients.models import Patient
    from referrals.models import Referral

    found = []
    page.goto("/accounts/login/")
    found += problems(page)
    project = ImprovementProject.objects.order_by("pk").first()
    visits = {
        "huisarts": [
            "/",
            "/patients/",
            "/referrals/?box=sent",
            "/notifications/",
            "/people/",
            "/social-map/",
        ],
        "maatschappelijkwerker": ["/referrals/", "/evaluations/questionnaires/"],
        "projectleider": [
            "/evaluations/",
            f"/evaluations/{project.pk}/",
            f"/evaluations/{project.pk}/cycles/1/",
            f"/evaluations/{project.pk}/effects/",
            "/evaluations/questionnaires/",
        ],
    }
    gp_patient = Patient.objects.filter(referrals__sender__username="huisarts").first()
    visits["huisarts"] += [f"/patients/{gp_patient.pk}/", f"/referrals/new/{gp_patient.pk}/"]
    received = Referral.objects.filter(receiver__username="maatschappelijkwerker", status="requested").first()
    assert received is not None  # the page with most forms: the id check is about it
    visits["maatschappelijkwerker"].append(f"/referrals/{received.pk}/")
    for username, urls in visits.items():
        page.context.clear_cookies()
        login(page, username)
        for url in urls:
            page.goto(url)
            found += problems(page)
    assert found == [], "\n".join(found)
