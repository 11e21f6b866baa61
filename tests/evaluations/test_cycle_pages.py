"""Plan, Do, Check and Act in the app: who may change what, in which phase, and bad input refused."""

from datetime import date

import pytest
from django.urls import reverse

from evaluations.models import ActionItem, CoreTeamMember, Cycle, DoLogEntry
from tests.factories import ProfessionalFactory

pytestmark = pytest.mark.django_db


def url(name, project, *args):
    return reverse(f"evaluations:{name}", args=[project.pk, *args])


PLAN = {
    "starts_on": "2026-07-01",
    "ends_on": "2026-12-31",
    "objective": "Huisarts hoort altijd terug",
    "change_to_test": "Standaard terugkoppeling na eerste contact",
    "measures": "Aandeel gesloten lussen",
    "prediction_closed_loop_share": "0.6",
    "prediction_median_days_to_acceptance": "2",
}


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def test_lead_plans_moves_through_the_phases_and_seeds_the_next_cycle(client, project):
    project.ends_on = date(2027, 12, 31)  # room for a third cycle: cycles end within the project
    project.save()
    client.force_login(project.lead)
    response = client.post(url("cycle_plan", project, 2), PLAN, follow=True)
    assert "Plan opgeslagen." in messages_of(response)
    cycle = Cycle.objects.get(project=project, number=2)
    assert cycle.predictions == {"closed_loop_share": 0.6, "median_days_to_acceptance": 2.0}
    assert cycle.change_to_test.startswith("Standaard")

    # A do-log entry belongs to the Do phase: refused while planning, nothing saved.
    response = client.post(url("cycle_do", project, 2), {"on": "2026-07-10", "text": "Gestart"}, follow=True)
    assert any("planfase" in m.lower() or "plan" in m.lower() for m in messages_of(response))
    assert not DoLogEntry.objects.exists()

    client.post(url("cycle_advance", project, 2))
    cycle.refresh_from_db()
    assert cycle.phase == "do"
    # The plan is frozen once the cycle is being done.
    client.post(url("cycle_plan", project, 2), {**PLAN, "objective": "Iets anders"})
    cycle.refresh_from_db()
    assert cycle.objective == "Huisarts hoort altijd terug"
    client.post(url("cycle_do", project, 2), {"on": "2026-07-10", "text": "Eerste week: 4 terugkoppelingen"})
    assert DoLogEntry.objects.get().author == project.lead

    client.post(url("cycle_advance", project, 2))  # → check
    client.post(url("cycle_advance", project, 2))  # → act
    response = client.post(url("cycle_advance", project, 2), follow=True)  # no decision yet
    assert Cycle.objects.get(pk=cycle.pk).phase == "act"
    assert any("over te nemen" in m for m in messages_of(response))
    client.post(
        url("cycle_act", project, 2), {"decision": "adapt", "rationale": "Werkt half", "lessons": "Korter"}
    )
    page = client.get(url("cycle", project, 2)).content.decode()
    assert 'data-testid="next-form"' in page

    client.post(url("cycle_create", project), {"starts_on": "2027-01-01", "ends_on": "2027-04-30"})
    third = Cycle.objects.get(project=project, number=3)
    assert (third.phase, third.change_to_test, third.predictions) == (
        "plan",
        cycle.change_to_test,
        {"closed_loop_share": 0.6, "median_days_to_acceptance": 2.0},
    )
    # A second "plan the next cycle" from the same cycle is refused, not a crash.
    response = client.post(url("cycle_create", project), {"starts_on": "2027-05-01", "ends_on": "2027-04-01"})
    assert Cycle.objects.filter(project=project).count() == 3


def test_bad_plan_input_is_explained_and_nothing_saved(client, project):
    client.force_login(project.lead)
    bad = {**PLAN, "prediction_acceptance_rate": "80", "ends_on": "2026-06-01"}
    response = client.post(url("cycle_plan", project, 2), bad)
    assert response.status_code == 400
    html = response.content.decode()
    assert "tussen 0 en 1" in html and "eindigen voordat" in html
    assert Cycle.objects.get(project=project, number=2).objective == ""


def test_roles_core_team_logs_readers_read_outsiders_see_nothing(client, loop, project):
    member = ProfessionalFactory()
    CoreTeamMember.objects.create(project=project, user=member, role="coach")
    Cycle.objects.filter(project=project, number=2).update(phase="do")
    reader = loop["contact"]  # works in a team whose referrals count: reads, changes nothing
    client.force_login(reader)
    page = client.get(url("cycle", project, 2))
    assert page.status_code == 200
    assert 'data-testid="do-form"' not in page.content.decode()
    assert client.post(url("cycle_do", project, 2), {"on": "2026-07-10", "text": "x"}).status_code == 403
    assert client.post(url("cycle_advance", project, 2)).status_code == 403

    client.force_login(member)
    html = client.get(url("cycle", project, 2)).content.decode()
    assert 'data-testid="do-form"' in html and 'data-testid="advance"' not in html
    client.post(url("cycle_do", project, 2), {"on": "2026-07-10", "text": "Overleg gepland"})
    assert DoLogEntry.objects.get().author == member
    assert client.post(url("cycle_plan", project, 2), PLAN).status_code == 403

    client.force_login(loop["outsider"])
    assert client.get(url("cycle", project, 2)).status_code == 404
    assert client.post(url("cycle_do", project, 2), {"on": "2026-07-10", "text": "x"}).status_code == 404


def test_action_items_owner_must_take_part_and_close_once(client, loop, project):
    member = ProfessionalFactory()
    CoreTeamMember.objects.create(project=project, user=member, role="gp")
    cycle = Cycle.objects.get(project=project, number=2)
    client.force_login(project.lead)
    data = {"title": "Terugkoppelformat maken", "owner": member.pk, "due_on": "2026-08-01", "cycle": cycle.pk}
    client.post(url("action_create", project), data)
    item = ActionItem.objects.get()
    assert (item.owner, item.cycle) == (member, cycle)
    client.post(url("action_create", project), {**data, "owner": loop["outsider"].pk})
    assert ActionItem.objects.count() == 1  # not someone from outside the project

    client.force_login(member)
    client.post(url("action_close", project, item.pk), {"status": "done"})
    item.refresh_from_db()
    assert item.status == "done"
    response = client.post(url("action_close", project, item.pk), {"status": "cancelled"}, follow=True)
    assert any("al afgesloten" in m for m in messages_of(response))
    item.refresh_from_db()
    assert item.status == "done"


def test_first_cycle_from_the_dashboard(client, loop):
    from evaluations.models import ImprovementProject

    lead = ProfessionalFactory(profile__discipline="project_lead")
    fresh = ImprovementProject.objects.create(
        name="Nieuw", aim="Doel", lead=lead, starts_on=date(2026, 1, 1), ends_on=date(2026, 12, 31)
    )
    client.force_login(lead)
    assert 'data-testid="first-cycle-form"' in client.get(url("dashboard", fresh)).content.decode()
    client.post(url("cycle_create", fresh), {"starts_on": "2026-02-01", "ends_on": "2026-05-31"})
    assert fresh.cycles.get().number == 1
