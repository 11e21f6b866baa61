from datetime import date

import pytest

from evaluations.models import Cycle, ImprovementProject
from tests.factories import ProfessionalFactory
from tests.referrals.conftest import loop  # noqa: F401 - the demo-like district of the referral tests


@pytest.fixture
def project(loop):  # noqa: F811 - the imported fixture, requested by name
    lead = ProfessionalFactory(profile__discipline="project_lead")
    project = ImprovementProject.objects.create(
        name="Gezond Oost",
        aim="Sneller terugkoppelen",
        lead=lead,
        starts_on=date(2026, 1, 1),
        ends_on=date(2026, 12, 31),
    )
    project.teams.set([loop["team"]])
    Cycle.objects.create(
        project=project,
        number=1,
        starts_on=date(2026, 1, 1),
        ends_on=date(2026, 6, 30),
        phase="act",
        predictions={"acceptance_rate": 0.8},
        lessons="Vaste contactpersoon werkt",
    )
    Cycle.objects.create(project=project, number=2, starts_on=date(2026, 7, 1), ends_on=date(2026, 12, 31))
    return project


def project_admin_form(rf, project=None):
    """The Django admin's form class for an improvement project (new when `project` is None), as a
    superuser's request gets it."""
    from django.contrib import admin

    request = rf.get("/")
    request.user = ProfessionalFactory(is_staff=True, is_superuser=True)
    return admin.site._registry[ImprovementProject].get_form(request, project)
