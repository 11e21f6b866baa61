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
from tests.evaluations.conftest import project_admin_form
from tests.evaluations.test_dashboard import bulk_referrals
from tests.factories import TeamFactory

pytestmark = pytest.mark.django_db


def test_a_breakdown_shows_every_part_or_none():
    # Partners chosen by size leave a reader room to work back ([4, 6, 6] with 4 and a 6 hidden: the
    # partner is at most the shown 6, so the small one is 4): all or nothing.
    assert protect([8, 4]) == [True, True]
    assert protect([20, 9, 3]) == [True, True, True]
    assert protect([4, 6, 6]) == [True, True, True]
    assert protect([4, 4, 4, 4, 5]) == [True] * 5
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
    with pytest.raises(ValidationError, match="hele maanden"):  # whole months: a cycle and its months agree
        cycle_plan_update(
            cycle=second, by=lead, starts_on=date(2026, 7, 1), ends_on=date(2026, 7, 20), **plan
        )
    with pytest.raises(ValidationError, match="hele maanden"):
        cycle_plan_update(
            cycle=second, by=lead, starts_on=date(2026, 7, 2), ends_on=date(2026, 9, 30), **plan
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


def test_a_small_month_is_hidden_with_months_of_its_own_cycle(client, loop, project):
    """Cycle 1 = January and February, cycle 2 = March and April. Hiding February (3) with March (8), the
    project-wide next smallest, would leave cycle 1's total 23 less January's 20 = 3 on the page."""
    project.cycles.filter(number=1).update(ends_on=date(2026, 2, 28), phase="do")
    project.cycles.filter(number=2).update(starts_on=date(2026, 3, 1), ends_on=date(2026, 4, 30), phase="do")
    for month, n in ((1, 20), (2, 3), (3, 8), (4, 20)):
        bulk_referrals(loop, n, months=1, first_month=month)
    client.force_login(project.lead)
    html = client.get(reverse("evaluations:dashboard", args=[project.pk]) + "?cycle=1").content.decode()
    check = html.split('data-testid="indicators"')[1].split("</table>")[0]
    assert "<td>23</td>" in check  # cycle 1's total is shown …
    series = html.split('data-testid="series"')[1].split("</table>")[0]

    def withheld(month):
        return "achtergehouden" in series.split(month)[1].split("</tr>")[0]

    # … so both its months are hidden; cycle 2's months, whole, are shown.
    assert withheld("2026-01") and withheld("2026-02")
    assert not withheld("2026-03") and not withheld("2026-04")


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


def _second_project(project):
    from evaluations.models import ImprovementProject

    return ImprovementProject.objects.create(
        name="Oost plus Klein",
        aim="Ook het kleine team",
        lead=project.lead,
        starts_on=project.starts_on,
        ends_on=project.ends_on,
    )


def test_two_projects_whose_scopes_differ_by_one_team_cannot_be_subtracted(
    client, loop, project, settings, tmp_path
):
    """Total of {Oost, Klein} minus total of {Oost} would be Klein's 4, on the overview, the dashboards,
    the cycle pages or the exports. Set up behind the admin's back (its form refuses this, below), the
    two projects show no referral figures at all."""
    settings.EXPORT_ROOT = str(tmp_path)
    small_team = TeamFactory(
        organisation=loop["team"].organisation, name="Wijkteam Klein", kind="social_welfare"
    )
    bulk_referrals(loop, 30, months=6)
    bulk_referrals(loop, 4, team=small_team, months=1)
    wider = _second_project(project)
    wider.teams.set([loop["team"], small_team])
    Cycle.objects.create(
        project=wider, number=1, starts_on=date(2026, 1, 1), ends_on=date(2026, 6, 30), phase="do"
    )
    from tests.factories import ProfessionalFactory

    researcher = ProfessionalFactory(profile__discipline="researcher")  # may open both
    client.force_login(researcher)
    overview = client.get(reverse("evaluations:projects")).content.decode()
    rows = overview.split('data-testid="project-row"')[1:]
    assert len(rows) == 2
    for row in rows:
        row = row.split("</tr>")[0]
        assert re.findall(r'data-testid="sent">([^<]*)<', row) == ["achtergehouden"]
        assert "34" not in row and "30" not in row
    seen = ""
    for p in (project, wider):
        dashboard = client.get(reverse("evaluations:dashboard", args=[p.pk]) + "?cycle=1").content.decode()
        assert 'data-testid="shared-ground"' in dashboard
        cycle = client.get(reverse("evaluations:cycle", args=[p.pk, 1])).content.decode()
        assert 'data-testid="shared-ground"' in cycle
        seen += dashboard + cycle
    # Neither total, nor any count that would tell one from the other, is on any of these pages.
    for fragment in re.findall(
        r'data-testid="(?:indicators|per-team|per-pathway|series)".*?</(?:table|ul)>', seen, re.S
    ):
        assert not re.search(r">\s*(30|34|4)\s*<", fragment)
    # The monthly export says the same.
    export = Export.objects.create(
        project=wider, requested_by=project.lead, dataset="indicators", format="csv"
    )
    export_build(export_id=export.pk)
    rows = list(csv.reader(export_path(Export.objects.get(pk=export.pk)).open()))
    assert rows[1][:3] == ["all", "", "withheld"] and len(rows) == 2
    events = Export.objects.create(project=wider, requested_by=researcher, dataset="events", format="csv")
    export_build(export_id=events.pk)
    assert len(list(csv.reader(export_path(Export.objects.get(pk=events.pk)).open()))) == 1  # the header
    # Once the second project covers a later period, both tell their story again (here without a
    # baseline: its cycle 1 stays in 2026, and the months before it would still meet the first project).
    wider.starts_on, wider.ends_on, wider.baseline_months = date(2027, 1, 1), date(2027, 12, 31), 0
    wider.save()
    client.force_login(project.lead)
    dashboard = client.get(reverse("evaluations:dashboard", args=[project.pk]) + "?cycle=1").content.decode()
    assert 'data-testid="shared-ground"' not in dashboard
    assert "30" in dashboard.split('data-testid="indicators"')[1].split("</table>")[0]


def test_the_admin_refuses_a_project_that_would_count_another_projects_referrals(rf, loop, project):
    small_team = TeamFactory(
        organisation=loop["team"].organisation, name="Wijkteam Klein", kind="social_welfare"
    )
    other_team = TeamFactory(
        organisation=loop["team"].organisation, name="Wijkteam Noord", kind="social_welfare"
    )
    base = {"name": "Nieuw", "aim": "Doel", "lead": project.lead.pk, "baseline_months": 6}

    def attempt(obj=None, **fields):
        form = project_admin_form(rf, obj)(data={**base, **fields}, instance=obj)
        return form.is_valid(), " ".join(form.non_field_errors())

    # Nested in the project (its team plus one): refused, naming the project.
    ok, error = attempt(teams=[loop["team"].pk, small_team.pk], starts_on="2026-03-01", ends_on="2026-09-30")
    assert not ok and "Gezond Oost" in error
    # No teams means every team: refused as well; so is the same team on a day of overlap.
    assert not attempt(starts_on="2026-12-31", ends_on="2027-06-30")[0]
    # Another team, or a period after the project's: fine.
    assert attempt(teams=[other_team.pk], starts_on="2026-03-01", ends_on="2026-09-30")[0]
    assert attempt(teams=[loop["team"].pk], starts_on="2027-01-01", ends_on="2027-06-30")[0]
    # Another pathway only: no referral counts in both.
    pathway = loop["pathways"]["maatschappelijk-werk"]
    project.pathways.set([pathway])
    other_pathway = next(p for p in loop["pathways"].values() if p.pk != pathway.pk)
    assert attempt(
        teams=[loop["team"].pk], pathways=[other_pathway.pk], starts_on="2026-03-01", ends_on="2026-09-30"
    )[0]

    # A date that has passed stays put; a future end may move to another future day.
    current = {
        "name": project.name,
        "aim": project.aim,
        "lead": project.lead.pk,
        "teams": [loop["team"].pk],
        "baseline_months": 6,
    }
    current["pathways"] = [pathway.pk]
    form_class = project_admin_form(rf, project)
    moved_start = form_class(
        data={**current, "starts_on": "2026-01-02", "ends_on": "2026-12-31"}, instance=project
    )
    assert not moved_start.is_valid() and "niet meer" in " ".join(moved_start.non_field_errors())
    today = timezone.localdate()
    ends_yesterday = form_class(
        data={**current, "starts_on": "2026-01-01", "ends_on": str(today - timedelta(days=1))},
        instance=project,
    )
    assert not ends_yesterday.is_valid()
    later = form_class(data={**current, "starts_on": "2026-01-01", "ends_on": "2027-03-31"}, instance=project)
    assert later.is_valid(), later.errors


def test_the_hubs_year_is_rounded_so_that_it_cannot_be_set_against_a_project(client, loop, project):
    from tests.factories import ProfessionalFactory

    small_team = TeamFactory(
        organisation=loop["team"].organisation, name="Wijkteam Klein", kind="social_welfare"
    )
    today = timezone.localdate()
    bulk_referrals(
        loop, 30, months=1, first_month=today.month
    )  # this month: in the project and the hub's year
    bulk_referrals(loop, 3, team=small_team, months=1, first_month=today.month)  # outside the project
    client.force_login(ProfessionalFactory(is_staff=True))
    html = client.get(reverse("evaluations:projects")).content.decode()
    hub = html.split('data-testid="hub-row"')[1].split("</tr>")[0]
    project_row = html.split('data-testid="project-row"')[1].split("</tr>")[0]
    assert "ongeveer 30" in project_row  # projects are rounded too (a small cycle is no difference)
    assert "ongeveer 30" in hub
    assert ">33<" not in hub  # 33 − 30 would be the small team's 3


def test_a_small_cycle_is_not_the_overview_total_less_the_other_cycles(client, loop, project):
    """Cycles 1 (40), 2 (38) and a fresh cycle 3 (3 so far): the overview's project total is rounded
    (about 80), so 80 − 40 − 38 leaves cycle 3 anywhere from nothing to seven; its own Check says <5 and
    its months are withheld."""
    project.cycles.filter(number=2).update(ends_on=date(2026, 10, 31), phase="closed", decision="adopt")
    Cycle.objects.create(
        project=project, number=3, starts_on=date(2026, 11, 1), ends_on=date(2026, 12, 31), phase="do"
    )
    bulk_referrals(loop, 40, months=6)
    bulk_referrals(loop, 38, months=4, first_month=7)
    bulk_referrals(loop, 3, months=1, first_month=11)
    client.force_login(project.lead)
    overview = client.get(reverse("evaluations:projects")).content.decode()
    row = overview.split('data-testid="project-row"')[1].split("</tr>")[0]
    assert re.findall(r'data-testid="sent">([^<]*)<', row) == ["ongeveer 80"] and "81" not in row

    def check(number):
        url = reverse("evaluations:dashboard", args=[project.pk]) + f"?cycle={number}"
        html = client.get(url).content.decode()
        return html, html.split('data-testid="indicators"')[1].split("</table>")[0].split("</tr>")[1]

    html, sent = check(3)
    assert "&lt;5" in sent and ">3<" not in sent
    html, sent = check(2)
    assert "<td>38</td>" in sent  # the closed cycles keep telling their story
    series = html.split('data-testid="series"')[1].split("</table>")[0]
    assert series.split("2026-11")[1].split("</tr>")[0].count("achtergehouden") == 5
    assert "achtergehouden" not in series.split("2026-08")[1].split("</tr>")[0]


def test_cycles_stay_inside_the_project_and_a_started_projects_teams_are_fixed(rf, loop, project):
    lead = project.lead
    second = project.cycles.get(number=2)
    plan = {"objective": "Sneller", "change_to_test": "Vast spreekuur", "measures": "", "predictions": {}}
    with pytest.raises(ValidationError, match="binnen het project"):
        cycle_plan_update(
            cycle=second, by=lead, starts_on=date(2026, 7, 1), ends_on=date(2027, 1, 31), **plan
        )
    form_class = project_admin_form(rf, project)
    current = {
        "name": project.name,
        "aim": project.aim,
        "lead": lead.pk,
        "starts_on": "2026-01-01",
        "baseline_months": project.baseline_months,
    }
    # The project's end may not move before its last cycle's end, nor off a whole month of a cycle.
    shorter = form_class(
        data={**current, "teams": [loop["team"].pk], "ends_on": "2026-12-15"}, instance=project
    )
    assert not shorter.is_valid()
    # Another team after the start: refused (its figures would be the difference).
    other = TeamFactory(organisation=loop["team"].organisation, name="Wijkteam Klein", kind="social_welfare")
    wider = form_class(
        data={**current, "teams": [loop["team"].pk, other.pk], "ends_on": "2026-12-31"}, instance=project
    )
    assert not wider.is_valid() and "vast" in " ".join(wider.non_field_errors())
    # A date far away is refused with a message, not a server error.
    far = form_class(data={**current, "teams": [loop["team"].pk], "ends_on": "9999-12-31"}, instance=project)
    assert not far.is_valid()
    # A project with a cycle from before the whole-months rule can still be renamed (dates unchanged).
    project.cycles.filter(number=1).update(ends_on=date(2026, 6, 20))
    renamed = {
        **current,
        "name": "Gezond Oost (vervolg)",
        "teams": [loop["team"].pk],
        "ends_on": "2026-12-31",
    }
    form = form_class(data=renamed, instance=project)
    assert form.is_valid(), form.errors


def test_the_hub_total_rounds_halves_up():
    from django.utils import translation

    from evaluations.selectors import _overview_rates

    row = {"sent": 25, "accepted": 20, "declined": 5, "completed": 10, "reminders": 3}
    with translation.override("en"):
        assert _overview_rates(row)["sent_shown"] == "about 30"  # round() would give 20
