"""The dashboard tells the study's story truthfully: a baseline to compare cycle 1 with, the sender's
side of the loop, figures that are still maturing, working days, and groups by id (issue 23)."""

import json
import random
from datetime import date, datetime, timedelta

import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from collab_hub.core.workdays import working_days_between
from evaluations.indicators import (
    LABELS,
    WorkingDays,
    calendar,
    first_of_month,
    indicators,
    indicators_per_period,
    indicators_per_team,
    maturity_cutoff,
    project_referrals,
    sent_per_pathway,
)
from evaluations.models import Cycle, ImprovementProject
from evaluations.runchart import analyse
from evaluations.selectors import _data_version, dashboard
from evaluations.services import cycle_plan_update
from referrals.models import Pathway, Referral, Status
from tests.evaluations.conftest import project_admin_form
from tests.factories import OrganisationFactory, PatientFactory, ProfessionalFactory, TeamFactory
from tests.referrals.conftest import make_referral

pytestmark = pytest.mark.django_db


def at(day: date, hour: int = 10) -> datetime:
    return timezone.make_aware(datetime.combine(day, datetime.min.time()) + timedelta(hours=hour))


def referrals_in(loop, day: date, n: int, *, accepted: int, team=None, pathway=None) -> None:
    """`n` referrals sent on `day`, the first `accepted` of them accepted the next day, the rest declined."""
    for i in range(n):
        fields = (
            {"status": Status.ACCEPTED, "accepted_at": at(day + timedelta(days=1))}
            if i < accepted
            else {"status": Status.REJECTED, "decline_reason": "no_capacity"}
        )
        make_referral(
            loop,
            sent_at=at(day),
            receiving_team=team or loop["team"],
            pathway=pathway or loop["pathways"]["maatschappelijk-werk"],
            **fields,
        )


# --- working days ------------------------------------------------------------------------------


def test_working_days_in_the_database_count_as_the_reminders_do(loop):
    """The SQL count equals collab_hub.core.workdays on pairs around Christmas, Easter, King's Day,
    Ascension and Whit Monday, over weekends and across years."""
    rng = random.Random(23)
    anchors = [date(2025, 12, 22), date(2026, 4, 1), date(2026, 4, 24), date(2026, 5, 12), date(2026, 5, 22)]
    pairs = []
    for _ in range(40):
        start = rng.choice(anchors) + timedelta(days=rng.randint(-5, 5))
        end = start + timedelta(days=rng.randint(0, 16))
        pairs.append((start, end))
        make_referral(
            loop, sent_at=at(start, rng.choice([0, 9, 23])), accepted_at=at(end, rng.choice([1, 17]))
        )
    rows = (
        Referral.objects.filter(pk__in=Referral.objects.values("pk"))
        .annotate(n=WorkingDays(F("sent_at"), F("accepted_at"), holidays=calendar()))
        .values_list("sent_at", "accepted_at", "n")
    )
    for sent, accepted, n in rows:
        assert n == working_days_between(timezone.localdate(sent), timezone.localdate(accepted)), (
            sent,
            accepted,
        )
    backwards = make_referral(loop, sent_at=at(date(2026, 5, 20)), accepted_at=at(date(2026, 5, 11)))
    n = Referral.objects.filter(pk=backwards.pk).annotate(
        n=WorkingDays(F("sent_at"), F("accepted_at"), holidays=calendar())
    )
    assert n.get().n == 0 == working_days_between(date(2026, 5, 20), date(2026, 5, 11))


def test_medians_count_working_days_over_christmas(loop):
    # Tuesday 23 December 2025 to Monday 29 December: six calendar days, two working days (24 and 29).
    referrals_in(loop, date(2025, 12, 23), 5, accepted=0)
    Referral.objects.update(status=Status.ACCEPTED, decline_reason="", accepted_at=at(date(2025, 12, 29)))
    qs = Referral.objects.all()
    assert indicators(qs)["median_days_to_acceptance"] == 2
    (month,) = indicators_per_period(qs, calendar_days=True)
    assert month["median_days_to_acceptance"] == 2
    assert month["median_calendar_days_to_acceptance"] == pytest.approx(6)
    assert "werkdagen" in str(LABELS["median_days_to_acceptance"])


# --- the sender's side of the loop ------------------------------------------------------------


def test_acknowledged_share_and_time_to_acknowledgement(loop):
    """Six loops closed on Monday 5 October 2026; the GP acknowledged five of them after 1, 2, 3, 4
    and 5 working days: 5 of 6 acknowledged, median 3 working days."""
    closed = date(2026, 10, 5)
    for days in (1, 2, 3, 4, 5, None):
        make_referral(
            loop,
            sent_at=at(date(2026, 9, 1)),
            status=Status.COMPLETED,
            accepted_at=at(date(2026, 9, 2)),
            completed_at=at(closed),
            acknowledged_at=at(closed + timedelta(days=days + (2 if days >= 5 else 0))) if days else None,
        )
    result = indicators(Referral.objects.all(), today=date(2026, 12, 12))
    assert result["closed_with_feedback"] == 6 and result["acknowledged"] == 5
    assert result["acknowledged_share"] == round(5 / 6, 4)
    assert result["median_days_to_acknowledgement"] == 3
    assert result["closed_recently"] == 0
    # Six weeks after the closures the sixth GP may still read it: the figure is marked provisional.
    recent = indicators(Referral.objects.all(), today=date(2026, 11, 13))
    assert recent["matured"] == 6 and recent["closed_recently"] == 6
    from evaluations.models import Cycle as CycleModel
    from evaluations.selectors import check_rows

    rows = {r["key"]: r for r in check_rows(cycle=CycleModel(number=2), now=recent, before={})}
    assert rows["acknowledged_share"]["maturing"] and not rows["acceptance_rate"]["maturing"]


def test_a_lead_can_predict_the_senders_side(client, loop, project):
    second = project.cycles.get(number=2)
    plan = {"objective": "Huisarts leest", "change_to_test": "Melding", "measures": ""}
    cycle_plan_update(
        cycle=second,
        by=project.lead,
        starts_on=second.starts_on,
        ends_on=second.ends_on,
        predictions={"acknowledged_share": 0.9, "median_days_to_acknowledgement": 2},
        **plan,
    )
    second.refresh_from_db()
    assert second.predictions == {"acknowledged_share": 0.9, "median_days_to_acknowledgement": 2.0}
    client.force_login(project.lead)
    html = client.get(reverse("evaluations:cycle", args=[project.pk, 2])).content.decode()
    assert 'name="prediction_acknowledged_share"' in html
    row = html.split('data-key="acknowledged_share"')[1].split("</tr>")[0]
    assert "<td>0,90</td>" in row  # the prediction column


# --- maturity ------------------------------------------------------------------------------------


def test_recent_referrals_do_not_pull_the_rates_down(loop):
    """Ten referrals sent on 4 May (six accepted, four declined); four on 15 June, still open. On 20 July
    May has matured (it ended more than six weeks ago) and June has not: the acceptance rate is 6 of 10,
    not 6 of 14, with four too recent to count. June counts from 11 August, as a whole month."""
    referrals_in(loop, date(2026, 5, 4), 10, accepted=6)
    for _ in range(4):
        make_referral(loop, sent_at=at(date(2026, 6, 15)))
    result = indicators(Referral.objects.all(), today=date(2026, 7, 20))
    # Still open: the four recent ones and the six accepted (accepted is not yet closed).
    assert (result["sent"], result["matured"], result["maturing"], result["still_open"]) == (14, 10, 4, 10)
    assert result["acceptance_rate"] == 0.6 and result["declined_share"] == 0.4
    assert indicators(Referral.objects.all(), today=date(2026, 8, 10))["matured"] == 10  # a day short
    later = indicators(Referral.objects.all(), today=date(2026, 8, 11))
    assert later["matured"] == 14 and later["maturing"] == 0 and later["acceptance_rate"] == round(6 / 14, 4)
    assert maturity_cutoff(date(2026, 8, 10)) == date(2026, 6, 1)
    assert maturity_cutoff(date(2026, 8, 11)) == date(2026, 7, 1)


@pytest.fixture
def running(loop):
    """A project whose one cycle runs in whole months up to the end of this month (dates from today,
    so the test does not depend on the day it runs)."""
    today = timezone.localdate()
    start = first_of_month(today, -5)
    project = ImprovementProject.objects.create(
        name="Nu",
        aim="x",
        lead=ProfessionalFactory(),
        starts_on=start,
        ends_on=first_of_month(today, 1) - timedelta(days=1),
    )
    project.teams.set([loop["team"]])
    Cycle.objects.create(
        project=project, number=1, starts_on=project.starts_on, ends_on=project.ends_on, phase="do"
    )
    return project


def test_the_check_page_and_the_chart_mark_a_maturing_cycle(client, loop, running):
    """The cycle's last weeks hold open referrals: the figures carry the mark, the counts of open and
    too-recent referrals stand beside them, and the run chart leaves the month out."""
    today = timezone.localdate()
    old = running.starts_on  # five months ago: matured
    for i in range(10):
        make_referral(
            loop,
            sent_at=at(old),
            accepted_at=at(old + timedelta(days=1)),
            **(
                {"status": Status.COMPLETED}
                if i < 8
                else {"status": Status.REJECTED, "decline_reason": "other"}
            ),
        )
    for _ in range(6):
        make_referral(loop, sent_at=at(first_of_month(today)))
    client.force_login(running.lead)
    html = client.get(reverse("evaluations:cycle", args=[running.pk, 1])).content.decode()
    table = html.split('data-testid="indicators"')[1].split("</table>")[0]
    rate = table.split('data-key="acceptance_rate" data-maturing')[1].split("</tr>")[0]
    assert "<td>1,00" in rate and "voorlopig" in rate
    assert ">6<" in table.split('data-key="maturing"')[1].split("</tr>")[0]
    assert ">6<" in table.split('data-key="still_open"')[1].split("</tr>")[0]
    assert 'data-testid="maturity-note"' in html
    page = client.get(reverse("evaluations:dashboard", args=[running.pk])).content.decode()
    series = page.split('data-testid="series"')[1].split("</table>")[0]
    assert "voorlopig" in series.split(today.strftime("%Y-%m"))[1].split("</tr>")[0]
    assert "voorlopig" not in series.split(old.strftime("%Y-%m"))[1].split("</tr>")[0]
    # Nothing of this month has matured: no rate, so no point (the chart leaves a gap, not a dip).
    charts = json.loads(page.split('id="chart-data" type="application/json">')[1].split("</script>")[0])
    labels = charts[0]["labels"]
    assert charts[0]["values"][labels.index(today.strftime("%Y-%m"))] is None
    assert charts[0]["values"][labels.index(old.strftime("%Y-%m"))] == 1.0
    # While it matures the teams' and the reasons' figures wait, every team's: a team's month may be
    # small (here the second team has nothing in this month, and still waits).
    per_team = page.split('data-testid="per-team"')[1].split("</table>")[0]
    assert "…" in per_team and ">16<" in per_team and loop["team"].name in per_team
    assert 'data-testid="reasons-wait"' in page
    quiet = TeamFactory(organisation=OrganisationFactory(name="Welzijn Zuid"), name="Stil team")
    running.teams.add(quiet)
    referrals_in(loop, old, 6, accepted=6, team=quiet)
    page = client.get(reverse("evaluations:dashboard", args=[running.pk])).content.decode()
    quiet_row = page.split('data-testid="per-team"')[1].split("Stil team")[1].split("</tr>")[0]
    assert ">6<" in quiet_row and "…" in quiet_row and "1,00" not in quiet_row


def test_a_small_month_makes_the_cycle_wait_until_it_has_matured(client, loop, running):
    """With a small month in the cycle its months are hidden; a month maturing would then add a small
    group to the cycle's figures, whose outcome the difference would give. So they wait."""
    old = running.starts_on
    referrals_in(loop, old, 10, accepted=8)
    referrals_in(loop, first_of_month(old, 1), 3, accepted=3)  # small: the cycle's months are hidden
    for _ in range(6):
        make_referral(loop, sent_at=at(first_of_month(timezone.localdate())))
    client.force_login(running.lead)
    html = client.get(reverse("evaluations:cycle", args=[running.pk, 1])).content.decode()
    table = html.split('data-testid="indicators"')[1].split("</table>")[0]
    assert ">19<" in table.split('data-key="sent"')[1].split("</tr>")[0]
    rate = table.split('data-key="acceptance_rate"')[1].split("</tr>")[0]
    assert "…" in rate and "0,8" not in rate
    # Matured (here: the same data seen two months on), the figures show.
    from evaluations.selectors import check_rows, until_matured

    now = indicators(
        project_referrals(running, start=old, end=running.ends_on),
        today=first_of_month(timezone.localdate(), 3),
    )
    assert now["maturing"] == 0 and until_matured(now, months_hidden=True) is now
    rows = {row["key"]: row for row in check_rows(cycle=running.cycles.get(), now=now, before={})}
    assert rows["acceptance_rate"]["value"] == round(11 / 19, 4) and not rows["acceptance_rate"]["wait"]


def test_counts_beside_the_figures_do_not_split_off_a_small_group():
    """Still open and too recent each split the number sent in two: both parts shown, or neither."""
    from evaluations.selectors import _maturity_counts

    assert _maturity_counts({"sent": 12, "matured": 6, "maturing": 6, "still_open": 7}) == {
        "still_open": "7",
        "maturing": "6",
    }
    hidden = _maturity_counts({"sent": 7, "matured": 2, "maturing": 5, "still_open": 5})
    assert hidden == {"still_open": "achtergehouden", "maturing": "achtergehouden"}


# --- groups by id ----------------------------------------------------------------------------------


def test_teams_and_pathways_with_the_same_name_stay_apart(client, loop, project):
    twin = TeamFactory(organisation=OrganisationFactory(name="Welzijn Noord"), name=loop["team"].name)
    project.teams.add(twin)
    referrals_in(loop, date(2026, 3, 2), 6, accepted=6)
    referrals_in(loop, date(2026, 3, 2), 7, accepted=7, team=twin)
    rows = indicators_per_team(project_referrals(project, start=date(2026, 1, 1), end=date(2026, 6, 30)))
    assert sorted((row["receiving_team__name"], row["sent"]) for row in rows) == [
        (loop["team"].name, 6),
        (loop["team"].name, 7),
    ]
    client.force_login(project.lead)
    html = client.get(reverse("evaluations:dashboard", args=[project.pk]) + "?cycle=1").content.decode()
    per_team = html.split('data-testid="per-team"')[1].split("</table>")[0]
    assert per_team.count(f'<th scope="row">{loop["team"].name} <span') == 2 and "(Welzijn Noord)" in per_team

    original = loop["pathways"]["maatschappelijk-werk"]
    namesake = Pathway.objects.create(
        code="mw-noord",
        name=original.name,
        direction=original.direction,
        receiving_team_kind=original.receiving_team_kind,
        consent_purpose=original.consent_purpose,
    )
    referrals_in(loop, date(2026, 4, 1), 5, accepted=5, pathway=namesake)
    pathways = sent_per_pathway(Referral.objects.all())
    assert sorted((row["pathway__name"], row["n"]) for row in pathways) == [
        (original.name, 5),
        (original.name, 13),
    ]


def test_renaming_a_team_or_editing_a_measurement_shows_at_once(client, loop, project):
    referrals_in(loop, date(2026, 3, 2), 6, accepted=6)
    client.force_login(project.lead)
    url = reverse("evaluations:dashboard", args=[project.pk]) + "?cycle=1"
    assert loop["team"].name in client.get(url).content.decode()
    team = loop["team"]
    team.name = "Buurtteam Centrum"
    team.save()
    assert "Buurtteam Centrum" in client.get(url).content.decode()
    # An edit of a measurement (as in the admin: no new row anywhere) shows at the next view.
    from evaluations.instrument_seed import install_instruments
    from evaluations.models import Instrument, OutcomeMeasurement

    install_instruments()
    zrm = Instrument.objects.get(code="zrm").current_version()
    patients = PatientFactory.create_batch(5, practice=loop["practice"])
    for patient in patients:
        make_referral(loop, patient=patient, sent_at=at(date(2026, 2, 2)), status=Status.COMPLETED)
        for on, score in ((date(2026, 2, 10), 1), (date(2026, 5, 10), 3)):
            OutcomeMeasurement.objects.create(
                patient=patient,
                version=zrm,
                measured_on=on,
                values={"financien": score},
                recorded_by=loop["contact"],
            )

    def outcomes():
        html = client.get(url).content.decode()
        return html.split('data-testid="outcome-changes"')[1].split("</table>")[0]

    assert "Financiën: 2,00 (5)" in outcomes()
    last = OutcomeMeasurement.objects.filter(patient=patients[0], measured_on=date(2026, 5, 10))
    last.update(values={"financien": 4})
    assert "Financiën: 2,20 (5)" in outcomes()


def test_a_restored_database_is_never_served_the_old_cache(loop):
    """A restore re-creates every table; the key holds the version table's id, so a copy of the data
    with the same counters still gets a key of its own."""
    before = _data_version()
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE restored (LIKE evaluations_figuresversion INCLUDING ALL);"
            "INSERT INTO restored SELECT * FROM evaluations_figuresversion;"
            "DROP TABLE evaluations_figuresversion;"
            "ALTER TABLE restored RENAME TO evaluations_figuresversion;"
        )
    after = _data_version()
    assert after[:5] == before[:5] and after[6] == before[6]  # the same data, database and counter …
    assert after[5] != before[5]  # … in another copy of the table


# --- the baseline --------------------------------------------------------------------------------


def test_cycle_1_is_compared_with_the_baseline(client, loop, project, settings, tmp_path):
    """The project's cycle 1 runs January to June 2026; its baseline is the six months before it."""
    settings.EXPORT_ROOT = str(tmp_path)
    referrals_in(loop, date(2025, 9, 1), 10, accepted=5)  # baseline: half accepted
    referrals_in(loop, date(2026, 3, 2), 10, accepted=8)  # cycle 1: eight in ten
    referrals_in(loop, date(2025, 5, 5), 10, accepted=1)  # before the baseline: counted nowhere
    client.force_login(project.lead)
    html = client.get(reverse("evaluations:cycle", args=[project.pk, 1])).content.decode()
    table = html.split('data-testid="indicators"')[1].split("</table>")[0]
    assert "Nulmeting" in table.split("</thead>")[0]
    rate = table.split('data-key="acceptance_rate"')[1].split("</tr>")[0]
    cells = rate.split("<td>")
    assert cells[1].startswith("0,80") and cells[3].startswith("0,50")
    sent = table.split('data-key="sent"')[1].split("</tr>")[0]
    assert sent.count(">10<") == 2
    # The dashboard offers the baseline as "cycle 0" and names its months.
    page = client.get(reverse("evaluations:dashboard", args=[project.pk])).content.decode()
    assert 'data-testid="baseline"' in page
    baseline = client.get(reverse("evaluations:dashboard", args=[project.pk]) + "?cycle=0").content.decode()
    assert "Nulmeting" in baseline.split('id="check-title"')[1].split("</h2>")[0]
    check = baseline.split('data-testid="indicators"')[1].split("</table>")[0]
    assert check.split('data-key="acceptance_rate"')[1].split("<td>")[1].startswith("0,50")
    data = dashboard(project=project, cycle_number=0)
    assert data["current"].starts_on == date(2025, 7, 1) and data["current"].ends_on == date(2025, 12, 31)
    # The research export marks the baseline's months.
    from evaluations.exports import export_build, export_path
    from evaluations.models import Export

    export = Export.objects.create(
        project=project, requested_by=project.lead, dataset="indicators", format="csv"
    )
    export_build(export_id=export.pk)
    lines = export_path(Export.objects.get(pk=export.pk)).read_text().splitlines()
    assert lines[0].startswith("month,period,sent")
    assert any(line.startswith("2025-09,baseline,10") for line in lines)
    assert not any(line.startswith("2025-05") for line in lines)


def test_no_baseline_figures_while_cycle_1_can_still_move(client, loop, project):
    Cycle.objects.filter(project=project, number=1).update(phase="plan")
    referrals_in(loop, date(2025, 9, 1), 10, accepted=5)
    client.force_login(project.lead)
    page = client.get(reverse("evaluations:dashboard", args=[project.pk]) + "?cycle=0").content.decode()
    assert 'data-testid="baseline"' not in page
    assert dashboard(project=project, cycle_number=0)["current"].number == 2  # not the baseline
    html = client.get(reverse("evaluations:cycle", args=[project.pk, 1])).content.decode()
    head = html.split('data-testid="indicators"')[1].split("</thead>")[0]
    assert "Nulmeting" not in head and "Vorige periode" in head
    assert ">10<" not in html.split('data-testid="indicators"')[1].split("</table>")[0]


def test_a_project_without_a_baseline_says_so(client, loop, project):
    project.baseline_months = 0
    project.save()
    referrals_in(loop, date(2025, 9, 1), 10, accepted=5)
    client.force_login(project.lead)
    html = client.get(reverse("evaluations:cycle", args=[project.pk, 1])).content.decode()
    assert "Nulmeting" not in html.split('data-testid="indicators"')[1].split("</thead>")[0]
    assert dashboard(project=project, cycle_number=0)["current"].number == 2


def test_the_baseline_is_fixed_once_cycle_1_has_started_and_keeps_projects_apart(rf, loop, project):
    form_class = project_admin_form(rf, project)
    data = {
        "name": project.name,
        "aim": project.aim,
        "lead": project.lead.pk,
        "teams": [loop["team"].pk],
        "starts_on": "2026-01-01",
        "ends_on": "2026-12-31",
    }
    assert form_class(data={**data, "baseline_months": 6}, instance=project).is_valid()
    longer = form_class(data={**data, "baseline_months": 12}, instance=project)
    assert not longer.is_valid() and "nulmeting" in " ".join(longer.non_field_errors()).lower()
    assert not form_class(data={**data, "baseline_months": 25}, instance=project).is_valid()
    # A project of the same team in 2025 would count the baseline's referrals: refused.
    new = project_admin_form(rf)(
        data={
            **data,
            "name": "Vorig jaar",
            "starts_on": "2025-01-01",
            "ends_on": "2025-09-30",
            "baseline_months": 0,
        }
    )
    assert not new.is_valid() and "Gezond Oost" in " ".join(new.non_field_errors())
    # Nor can it be removed: its total was shown, and its months before the project would then show
    # with the project's others, less the total.
    assert not form_class(data={**data, "baseline_months": 0}, instance=project).is_valid()
    # Cycle 1's start moves its baseline: into another project's months is refused.
    other = ImprovementProject.objects.create(
        name="Voorloper", aim="x", lead=project.lead, starts_on=date(2026, 7, 1), ends_on=date(2026, 12, 31)
    )
    other.teams.set([loop["team"]])
    second = ImprovementProject.objects.create(
        name="Later", aim="x", lead=project.lead, starts_on=date(2027, 1, 1), ends_on=date(2027, 12, 31)
    )
    second.teams.set([loop["team"]])
    first = Cycle.objects.create(
        project=second, number=1, starts_on=date(2027, 6, 1), ends_on=date(2027, 8, 31)
    )
    plan = {"objective": "x", "change_to_test": "y", "measures": "", "predictions": {}}
    with pytest.raises(ValidationError, match="ander project") as refused:
        cycle_plan_update(
            cycle=first, by=project.lead, starts_on=date(2027, 1, 1), ends_on=date(2027, 3, 31), **plan
        )
    assert "Voorloper" not in str(refused.value)  # the lead is not told other projects' names
    cycle_plan_update(
        cycle=first, by=project.lead, starts_on=date(2027, 7, 1), ends_on=date(2027, 9, 30), **plan
    )


def test_the_run_chart_carries_the_baseline_median_through(loop, project):
    """Baseline months accept half, cycle 1's months eight in ten: the centre line is the baseline's
    median, and the six months of cycle 1 above it are a shift."""
    cache.clear()
    for month in range(7, 13):
        referrals_in(loop, date(2025, month, 3), 6, accepted=3)
    for month in range(1, 7):
        referrals_in(loop, date(2026, month, 3), 5, accepted=4)
    data = dashboard(project=project, cycle_number=1)
    chart = next(c for c in data["charts"] if c["key"] == "acceptance_rate")
    assert chart["baseline_median"] and chart["median"] == 0.5
    assert chart["labels"][:2] == ["2025-07", "2025-08"]
    assert set(range(6, 12)) <= set(chart["shift_points"])
    # Without a baseline the centre would be the median of all months.
    assert analyse([0.5] * 6 + [0.8] * 6).median == pytest.approx(0.65)
