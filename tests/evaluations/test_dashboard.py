"""The project-lead dashboard: who may see it, aggregates only, and a constant number of queries."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from evaluations.models import CoreTeamMember, MeetingFinding
from referrals.models import Status
from tests.factories import PatientFactory, ProfessionalFactory
from tests.referrals.conftest import make_referral

pytestmark = pytest.mark.django_db


def add_referrals(loop, n: int) -> None:
    for i in range(n):
        sent = timezone.make_aware(timezone.datetime(2026, 1 + i % 11, 3, 10))
        make_referral(
            loop,
            patient=PatientFactory(practice=loop["practice"]),
            sent_at=sent,
            status=Status.ACCEPTED,
            accepted_at=sent + timezone.timedelta(days=1 + i % 4),
        )


def test_who_may_see_the_dashboard(client, loop, project):
    url = reverse("evaluations:dashboard", args=[project.pk])
    client.force_login(project.lead)
    assert client.get(url).status_code == 200
    researcher = ProfessionalFactory(profile__discipline="researcher")
    client.force_login(researcher)
    assert client.get(url).status_code == 200
    member = ProfessionalFactory()
    CoreTeamMember.objects.create(project=project, user=member, role="coach")
    client.force_login(member)
    assert client.get(url).status_code == 200
    client.force_login(loop["outsider"])
    assert client.get(url).status_code == 404


def test_aggregates_only_and_query_count_constant(client, loop, project):
    add_referrals(loop, 5)
    url = reverse("evaluations:dashboard", args=[project.pk]) + "?cycle=1"
    client.force_login(project.lead)
    with CaptureQueriesContext(connection) as few:
        html = client.get(url).content.decode()
    assert 'data-testid="indicators"' in html and 'id="chart-data"' in html
    add_referrals(loop, 45)
    with CaptureQueriesContext(connection) as many:
        html = client.get(url).content.decode()
    assert len(many.captured_queries) == len(few.captured_queries)
    from patients.models import Patient

    for patient in Patient.objects.all():
        assert patient.full_name not in html  # (a bare Faker last name may occur in ordinary words)
        assert patient.pseudonym not in html
        assert patient.bsn not in html


def test_recording_a_meeting_updates_the_tally(client, loop, project):
    client.force_login(project.lead)
    url = reverse("evaluations:meeting_create", args=[project.pk])
    client.post(
        url,
        {
            "held_on": "2026-03-10",
            "kind": "interprofessional",
            "cycle": "1",
            "minutes": "Goed overleg",
            "finding_kind": "barrier",
            "finding_category": "time",
            "finding_text": "Te weinig tijd",
        },
    )
    finding = MeetingFinding.objects.get()
    assert (finding.kind, finding.category, finding.meeting.cycle.number) == ("barrier", "time", 1)
    html = client.get(reverse("evaluations:dashboard", args=[project.pk]) + "?cycle=1").content.decode()
    tally = html.split('data-testid="tally"')[1].split("</table>")[0]
    assert "Tijd" in tally and "Belemmering" in tally
    outsider = ProfessionalFactory()
    client.force_login(outsider)
    assert client.post(url, {"held_on": "2026-03-10", "kind": "interprofessional"}).status_code == 404
