from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError

from collab_hub.notifications.models import Notification
from collab_hub.notifications.tasks import run_sweep
from evaluations.models import ActionItem, Cycle, ImprovementProject
from evaluations.services import cycle_advance, cycle_start_next
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def project():
    lead = UserFactory(username="priya")
    return ImprovementProject.objects.create(
        name="Gezond Oost",
        aim="Samen sneller",
        lead=lead,
        starts_on=date(2026, 1, 1),
        ends_on=date(2027, 12, 31),
    )


def test_phases_in_order_and_act_seeds_the_next_plan(project):
    cycle = Cycle.objects.create(
        project=project, number=1, starts_on=date(2026, 1, 1), ends_on=date(2026, 4, 30)
    )
    with pytest.raises(ValidationError):
        cycle_advance(cycle=cycle, by=project.lead)  # no objective or change yet
    cycle.objective = "Binnen 2 werkdagen geaccepteerd"
    cycle.change_to_test = "Vast aanspreekpunt per praktijk"
    cycle.predictions = {"acceptance_rate": 0.8}
    cycle.save()
    with pytest.raises(ValidationError):
        cycle_advance(cycle=cycle, by=UserFactory())  # not the project lead
    for expected in ("do", "check", "act"):
        assert cycle_advance(cycle=cycle, by=project.lead).phase == expected
    with pytest.raises(ValidationError):
        cycle_advance(cycle=cycle, by=project.lead)  # Act needs a decision
    with pytest.raises(ValidationError):
        cycle_start_next(cycle=cycle, by=project.lead, starts_on=date(2026, 5, 1), ends_on=date(2026, 8, 31))
    cycle.decision = "adapt"
    cycle.save()
    following = cycle_start_next(
        cycle=cycle, by=project.lead, starts_on=date(2026, 5, 1), ends_on=date(2026, 8, 31)
    )
    assert (following.number, following.phase) == (2, "plan")
    assert following.change_to_test == cycle.change_to_test
    assert following.predictions == {"acceptance_rate": 0.8}
    assert cycle_advance(cycle=cycle, by=project.lead).phase == "closed"


def test_overdue_action_items_remind_the_owner_then_the_project_lead(project):
    owner = UserFactory()
    today = date.today()
    ActionItem.objects.create(
        project=project, title="Spreekuur plannen", owner=owner, due_on=today - timedelta(1)
    )
    ActionItem.objects.create(project=project, title="Folder maken", owner=owner, due_on=today - timedelta(8))
    ActionItem.objects.create(
        project=project, title="Klaar", owner=owner, due_on=today - timedelta(8), status="done"
    )
    run_sweep()
    run_sweep()
    assert Notification.objects.filter(recipient=owner).count() == 2
    assert Notification.objects.filter(recipient=project.lead).count() == 1


def test_an_action_item_given_to_someone_else_tells_them_once(project):
    from evaluations.models import CoreTeamMember
    from evaluations.services import action_item_create

    coach = UserFactory(language="en")
    CoreTeamMember.objects.create(project=project, user=coach, role="coach")
    item = action_item_create(
        project=project, by=project.lead, title="Spreekuur plannen", owner=coach, due_on=date.today()
    )
    [told] = Notification.objects.filter(recipient=coach)
    assert told.subject == "Action item for you: Spreekuur plannen" and told.category == "project"
    assert item.pk
    action_item_create(
        project=project, by=project.lead, title="Eigen taak", owner=project.lead, due_on=date.today()
    )
    assert not Notification.objects.filter(recipient=project.lead).exists()  # nobody is told of their own
