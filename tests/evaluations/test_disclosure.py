"""Statistical disclosure control (issue 17): the '<5' rule must hold against subtraction, cycle dates
are no probe, and research exports cannot be joined across projects."""

import csv
import re
from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from collab_hub.audit.models import AccessLogEntry
from evaluations.disclosure import protect
from evaluations.exports import export_build, export_path
from evaluations.models import Cycle, Export
from evaluations.services import cycle_create_first, cycle_plan_update, cycle_start_next
from tests.evaluations.test_dashboard import bulk_referrals
from tests.factories import TeamFactory

pytestmark = pytest.mark.django_db


def test_small_parts_are_hidden_with_others_until_they_cannot_be_told_apart():
    # Hidden parts add up to at least ten, at least two are hidden, and all look the same.
    assert protect([8, 4]) == [True, True]
    assert protect([20, 9, 3]) == [False, True, True]  # 9 + 3 = 12: the 20 may stay
    assert protect([20, 1, 1]) == [True, True, True]  # 1 + 1 = 2 would give both away
    assert protect([5, 5, 3]) == [True, True, True]
    assert protect([30, 12]) == [False, False]
    assert protect([12]) == [False]
    assert protect([]) == []


def _numbers(fragment: str) -> list[int]:
    return [int(n) for n in re.findall(r"<td>(\d+)</td>", fragment)]


def test_a_team_of_four_cannot_be_worked_out_from_the_total(client, loop, project):
    small_team = TeamFactory(
        organisation=loop["team"].organisation, name="Wijkteam Klein", kind="social_welfare"
    )
    project.teams.add(small_team)
    bulk_referrals(loop, 8, months=6)
    bulk_referrals(loop, 4, team=small_team, months=1)
    client.force_login(project.lead)
    html = client.get(reverse("evaluations:dashboard", args=[project.pk]) + "?cycle=1").content.decode()
    check = html.split('data-testid="indicators"')[1].split("</table>")[0]
    per_team = html.split('data-testid="per-team"')[1].split("</table>")[0]
    assert "12" in check  # the total is shown …
    assert _numbers(per_team) == []  # … and no team's count: 12 − 8 would give the 4
    pathways = html.split('data-testid="per-pathway"')[1].split("</ul>")[0]
    assert ": 12" in pathways  # one pathway: the breakdown is the total itself
    # The cycle page, which the same lead can open, shows nothing more.
    page = client.get(reverse("evaluations:cycle", args=[project.pk, 1])).content.decode()
    assert "Wijkteam Klein" not in page or _numbers(page.split("Wijkteam Klein")[1].split("</tr>")[0]) == []


def test_a_decline_reason_of_two_is_not_the_declined_total_minus_the_others(client, loop, project):
    bulk_referrals(loop, 30, months=6)  # 10 declined for capacity
    from referrals.models import Referral

    declined = Referral.objects.filter(decline_reason="no_capacity").order_by("pk")
    Referral.objects.filter(pk__in=list(declined.values_list("pk", flat=True)[:2])).update(
        decline_reason="not_eligible"
    )
    ids = list(Referral.objects.filter(decline_reason="no_capacity").values_list("pk", flat=True))
    assert len(ids) == 8
    client.force_login(project.lead)
    html = client.get(reverse("evaluations:dashboard", args=[project.pk]) + "?cycle=1").content.decode()
    reasons = html.split('data-testid="per-reason"')[1].split("</ul>")[0]
    assert ": 8" not in reasons and ": 2" not in reasons and reasons.count("achtergehouden") == 2


def test_a_cycle_lasts_four_weeks_does_not_overlap_and_its_dates_freeze_after_plan(loop, project):
    second = project.cycles.get(number=2)
    lead = project.lead
    plan = {"objective": "Sneller", "change_to_test": "Vast spreekuur", "measures": "", "predictions": {}}
    with pytest.raises(ValidationError, match="28"):
        cycle_plan_update(
            cycle=second, by=lead, starts_on=date(2026, 7, 1), ends_on=date(2026, 7, 20), **plan
        )
    with pytest.raises(ValidationError, match="overlappen"):
        cycle_plan_update(
            cycle=second, by=lead, starts_on=date(2026, 6, 1), ends_on=date(2026, 8, 31), **plan
        )
    cycle_plan_update(cycle=second, by=lead, starts_on=date(2026, 7, 1), ends_on=date(2026, 9, 30), **plan)
    Cycle.objects.filter(pk=second.pk).update(phase="check")
    second.refresh_from_db()
    with pytest.raises(ValidationError):  # the Check phase is open: the dates are fixed
        cycle_plan_update(
            cycle=second, by=lead, starts_on=date(2026, 7, 1), ends_on=date(2026, 10, 1), **plan
        )
    Cycle.objects.filter(pk=second.pk).update(phase="act", decision="adopt")
    second.refresh_from_db()
    with pytest.raises(ValidationError, match="overlappen"):
        cycle_start_next(cycle=second, by=lead, starts_on=date(2026, 9, 1), ends_on=date(2026, 11, 30))
    cycle_start_next(cycle=second, by=lead, starts_on=date(2026, 10, 1), ends_on=date(2026, 11, 30))


def test_a_cycle_in_plan_shows_no_figures_so_moving_its_end_by_a_day_tells_nothing(client, loop, project):
    bulk_referrals(loop, 30, months=6, first_month=7)
    client.force_login(project.lead)
    html = client.get(reverse("evaluations:dashboard", args=[project.pk]) + "?cycle=2").content.decode()
    assert 'data-testid="figures-after-plan"' in html
    per_team = html.split('data-testid="per-team"')[1].split("</table>")[0]
    assert _numbers(per_team) == []
    page = client.get(reverse("evaluations:cycle", args=[project.pk, 2])).content.decode()
    assert 'data-testid="figures-after-plan"' in page


def test_the_first_cycle_needs_four_weeks(loop):
    from evaluations.models import ImprovementProject

    project = ImprovementProject.objects.create(
        name="Nieuw", aim="-", lead=loop["gp"], starts_on=date(2026, 1, 1), ends_on=date(2026, 12, 31)
    )
    from evaluations.models import CoreTeamMember

    CoreTeamMember.objects.create(project=project, user=loop["gp"], role="gp")
    with pytest.raises(ValidationError):
        cycle_create_first(
            project=project, by=loop["gp"], starts_on=date(2026, 1, 1), ends_on=date(2026, 1, 2)
        )


def test_exports_carry_days_not_times_and_are_logged(loop, project, settings, tmp_path):
    settings.EXPORT_ROOT = str(tmp_path)
    bulk_referrals(loop, 10, months=2)
    from referrals.models import Event, Referral

    Event.objects.bulk_create(
        [
            Event(referral=r, at=r.sent_at + timedelta(hours=3, seconds=17), kind="sent", actor=loop["gp"])
            for r in Referral.objects.all()
        ]
    )
    from tests.factories import ProfessionalFactory

    researcher = ProfessionalFactory(profile__discipline="researcher")
    export = Export.objects.create(project=project, requested_by=researcher, dataset="events", format="csv")
    export_build(export_id=export.pk)
    export.refresh_from_db()
    with open(export_path(export), newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 10 and "at" not in rows[0]
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", row["on"]) for row in rows)  # no hour, minute or second
    entry = AccessLogEntry.objects.get(event="export", object_id=export.pk)
    assert entry.user == researcher and "10 rows" in entry.reason and f"project {project.pk}" in entry.reason
    assert timezone.now() - entry.at < timedelta(minutes=1)


def test_a_download_is_logged_and_admin_cannot_move_cycle_dates(client, loop, project, settings, tmp_path):
    from django.contrib import admin

    from evaluations.models import Cycle as CycleModel
    from tests.factories import ProfessionalFactory

    settings.EXPORT_ROOT = str(tmp_path)
    researcher = ProfessionalFactory(profile__discipline="researcher")
    export = Export.objects.create(
        project=project, requested_by=researcher, dataset="indicators", format="csv"
    )
    export_build(export_id=export.pk)
    client.force_login(researcher)
    response = client.get(reverse("evaluations:export_download", args=[project.pk, export.pk]))
    assert response.status_code == 200
    row = AccessLogEntry.objects.get(object_type="export_download", object_id=export.pk)
    assert row.user == researcher and row.event == "export"
    cycle_admin = admin.site._registry[CycleModel]
    assert {"starts_on", "ends_on", "phase"} <= set(cycle_admin.readonly_fields)
