"""The overview of all projects: figures from the referral tally, equal to the dashboard's indicators."""

from datetime import date

import pytest
from django.urls import reverse

from evaluations.indicators import indicators, project_referrals
from evaluations.models import Cycle, ImprovementProject
from evaluations.selectors import projects_overview
from tests.evaluations.test_dashboard import bulk_referrals
from tests.factories import ProfessionalFactory, TeamFactory

pytestmark = pytest.mark.django_db


def test_the_overview_agrees_with_the_indicators_of_each_project(loop, project):
    other_team = TeamFactory(name="Welzijn Noord")
    bulk_referrals(loop, 60)
    bulk_referrals(loop, 25, team=other_team)  # outside the project's team: not in its figures
    north = ImprovementProject.objects.create(  # the other team only: no referral counts in both
        name="Noord",
        aim="Noord",
        lead=project.lead,
        starts_on=date(2026, 1, 1),
        ends_on=date(2026, 12, 31),
    )
    north.teams.set([other_team])
    admin = ProfessionalFactory(is_staff=True)
    rows = {row["project"].pk: row for row in projects_overview(user=admin)["rows"]}
    assert rows[north.pk]["acceptance_rate"] is None  # no cycle has ended: no shares yet
    Cycle.objects.create(
        project=north, number=1, starts_on=date(2026, 1, 1), ends_on=date(2026, 6, 30), phase="check"
    )
    rows = {row["project"].pk: row for row in projects_overview(user=admin)["rows"]}
    # Rounded like the hub's year: the count to tens, the shares to the percent (docs/privacy-aggregates).
    # The shares are over the cycles that have ended and matured (cycle 1), whole: never a month or a
    # day of referrals joining them (docs/indicators.md).
    for p in (project, north):
        expected = indicators(project_referrals(p, start=date(2026, 1, 1), end=date(2026, 6, 30)))
        assert rows[p.pk]["acceptance_rate"] == round(expected["acceptance_rate"], 2)
        assert rows[p.pk]["declined_share"] == round(expected["declined_share"], 2)
        assert rows[p.pk]["reminders_per_referral"] == round(expected["reminders_per_referral"], 2)
    assert rows[project.pk]["sent_shown"] == "ongeveer 60" and rows[north.pk]["sent_shown"] == "ongeveer 30"
    assert rows[project.pk]["cycle"] == 2


def test_small_groups_show_nothing_and_outsiders_see_no_project(client, loop, project):
    bulk_referrals(loop, 3)
    client.force_login(project.lead)
    html = client.get(reverse("evaluations:projects")).content.decode()
    assert "Gezond Oost" in html
    row = html.split('data-testid="project-row"', 1)[1].split("</tr>", 1)[0]
    assert row.count("&lt;5") == 5  # sent and every share
    client.force_login(loop["outsider"])
    html = client.get(reverse("evaluations:projects")).content.decode()
    assert "Gezond Oost" not in html and 'data-testid="projects"' not in html
