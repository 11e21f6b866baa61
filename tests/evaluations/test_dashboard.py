"""The project-lead dashboard: who may see it, aggregates only, and a constant number of queries."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from evaluations.models import CoreTeamMember, MeetingFinding
from referrals.models import Referral, Status
from tests.factories import PatientFactory, ProfessionalFactory

pytestmark = pytest.mark.django_db


def bulk_referrals(loop, n: int, *, team=None, months: int = 11, first_month: int = 1) -> None:
    """Many referrals in one INSERT (for the 5,000-referral query count), spread over the year."""
    patients = [loop["patient"], *PatientFactory.create_batch(4, practice=loop["practice"])]
    rows = []
    for i in range(n):
        sent = timezone.make_aware(timezone.datetime(2026, first_month + i % months, 3 + i % 20, 10))
        rows.append(
            Referral(
                patient=patients[i % len(patients)],
                pathway=loop["pathways"]["maatschappelijk-werk"],
                sender=loop["gp"],
                sender_organisation=loop["practice"],
                receiving_team=team or loop["team"],
                receiver=loop["contact"],
                assigned_via="contact",
                status=Status.ACCEPTED if i % 3 else Status.REJECTED,
                decline_reason="" if i % 3 else "no_capacity",
                sent_at=sent,
                accepted_at=sent + timezone.timedelta(days=1 + i % 4) if i % 3 else None,
                consent=loop["consent"],
            )
        )
    Referral.objects.bulk_create(rows, batch_size=1000)


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


def test_professionals_of_a_participating_team_read_only(client, loop, project):
    url = reverse("evaluations:dashboard", args=[project.pk])
    social_worker = loop["contact"]  # member of the project's team, not in the core team
    client.force_login(social_worker)
    html = client.get(url).content.decode()
    assert 'data-testid="read-only"' in html
    assert 'data-testid="meeting-form"' not in html and "/exports/" not in html
    assert client.get(reverse("evaluations:exports", args=[project.pk])).status_code == 403
    client.post(
        reverse("evaluations:meeting_create", args=[project.pk]),
        {
            "held_on": "2026-03-10",
            "kind": "interprofessional",
            "finding_kind": "barrier",
            "finding_category": "time",
        },
    )
    assert not MeetingFinding.objects.exists() and not project.meetings.exists()
    # A GP of a participating practice sees it too, once the practice takes part.
    client.force_login(loop["gp"])
    assert client.get(url).status_code == 404
    project.organisations.add(loop["practice"])
    assert client.get(url).status_code == 200


def test_per_team_breakdown_and_small_groups_shown_as_less_than_five(client, loop, project):
    from tests.factories import TeamFactory

    small_team = TeamFactory(
        organisation=loop["team"].organisation, name="Wijkteam Klein", kind="social_welfare"
    )
    project.teams.add(small_team)
    bulk_referrals(loop, 30, months=6)
    bulk_referrals(loop, 3, team=small_team, months=1)
    client.force_login(project.lead)
    html = client.get(reverse("evaluations:dashboard", args=[project.pk]) + "?cycle=1").content.decode()
    per_team = html.split('data-testid="per-team"')[1].split("</table>")[0]
    wijkteam_oost = per_team.split("Wijkteam Oost")[1].split("</tr>")[0]
    klein = per_team.split("Wijkteam Klein")[1].split("</tr>")[0]
    assert klein.count("achtergehouden") == 4 and "<td>3</td>" not in klein
    # The total (33) is on the page: the only other team is withheld with it, or 33 − 30 = 3.
    assert "<td>30</td>" not in wijkteam_oost and wijkteam_oost.count("achtergehouden") == 4
    reasons = html.split('data-testid="per-reason"')[1].split("</ul>")[0]
    assert ": 11" in reasons  # 10 + 1 declined for capacity (i % 3 == 0 of 30, and of 3): one reason
    # A month with fewer than five referrals is withheld in the table and a gap (null) in the run chart,
    # with every other month of its cycle, whose total is shown: July (2) takes August and September
    # of cycle 2 (in Plan, so with the months outside cycles) along; cycle 1's months stay shown.
    bulk_referrals(loop, 2, first_month=7, months=1)
    bulk_referrals(loop, 8, first_month=8, months=1)
    bulk_referrals(loop, 12, first_month=9, months=1)
    html = client.get(reverse("evaluations:dashboard", args=[project.pk])).content.decode()
    series = html.split('data-testid="series"')[1].split("</table>")[0]
    for month in ("2026-07", "2026-08", "2026-09"):
        assert series.split(month)[1].split("</tr>")[0].count("achtergehouden") == 5, month
    assert "achtergehouden" not in series.split("2026-02")[1].split("</tr>")[0]
    charts = json.loads(html.split('id="chart-data" type="application/json">')[1].split("</script>")[0])
    assert charts[0]["labels"][6] == "2026-07" and charts[0]["values"][6] is None
    assert charts[0]["values"][7] is None and charts[0]["values"][8] is None
    assert charts[0]["values"][1] is not None and charts[0]["values"][5] is not None


def test_aggregates_only_and_query_count_constant_for_50_and_5000_referrals(client, loop, project):
    bulk_referrals(loop, 50)
    url = reverse("evaluations:dashboard", args=[project.pk]) + "?cycle=1"
    client.force_login(project.lead)
    with CaptureQueriesContext(connection) as few:
        html = client.get(url).content.decode()
    assert 'data-testid="indicators"' in html and 'id="chart-data"' in html
    assert "<td>&lt;5</td>" not in html.split('data-testid="indicators"')[1].split("</table>")[0]
    bulk_referrals(loop, 4950)
    with CaptureQueriesContext(connection) as many:
        html = client.get(url).content.decode()
    assert len(many.captured_queries) == len(few.captured_queries)
    assert Referral.objects.count() == 5000
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


def test_aggregates_are_cached_until_the_referral_log_changes(client, loop, project):
    from referrals.models import Event

    bulk_referrals(loop, 20, months=6)
    url = reverse("evaluations:dashboard", args=[project.pk]) + "?cycle=1"
    client.force_login(project.lead)
    with CaptureQueriesContext(connection) as first:
        html = client.get(url).content.decode()
    with CaptureQueriesContext(connection) as second:
        again = client.get(url).content.decode()
    assert len(second.captured_queries) < len(first.captured_queries)
    table = lambda page: page.split('data-testid="indicators"')[1].split("</table>")[0]  # noqa: E731
    assert table(again) == table(html)
    # A state change writes an event: the next view computes afresh.
    referral = Referral.objects.filter(status=Status.REJECTED).first()
    Referral.objects.filter(pk=referral.pk).update(status=Status.ACCEPTED, accepted_at=referral.sent_at)
    Event.objects.create(referral=referral, at=referral.sent_at, kind="accepted", actor=loop["contact"])
    changed = client.get(url).content.decode()
    assert table(changed) != table(html)
