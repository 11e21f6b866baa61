"""The routing guide: which pathway and which named person, including the 'no suggestion' state."""

from datetime import timedelta

import pytest
from django.utils import timezone

from referrals.models import RoutingRule
from referrals.routing import matching_rule, propose
from teams.models import Absence

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("domains", "high_user", "expected"),
    [
        (["finances"], False, "schuldhulp"),
        (["finances", "housing", "work"], True, "gezamenlijk-consult"),
        (["finances", "housing", "work"], False, "maatschappelijk-werk"),
        (["housing", "domestic_relations"], False, "maatschappelijk-werk"),
        (["housing"], False, "wonen"),
        (["social_network"], False, "welzijn-op-recept"),
        (["mental_health"], True, "welzijn-op-recept"),
        (["justice"], False, None),
        ([], False, None),
    ],
)
def test_rules_choose_a_pathway_or_nothing(loop, domains, high_user, expected):
    rule = matching_rule(domains=domains, high_user=high_user)
    assert (rule.pathway.code if rule else None) == expected


def test_an_inactive_rule_is_skipped(loop):
    RoutingRule.objects.filter(pathway__code="schuldhulp").update(active=False)
    assert matching_rule(domains=["finances"], high_user=False) is None


def test_proposal_names_the_contact_for_the_practice_and_neighbourhood(loop):
    proposal = propose(patient=loop["patient"], practice=loop["practice"])
    assert proposal.pathway.code == "maatschappelijk-werk"  # finances + housing: two domains
    assert proposal.team == loop["team"]
    assert proposal.receiver == loop["contact"]
    assert proposal.assigned_via == "contact"
    assert set(proposal.candidates) == {loop["contact"], loop["deputy"], loop["coordinator"]}


def test_proposal_routes_to_the_deputy_when_the_contact_is_absent(loop):
    today = timezone.localdate()
    Absence.objects.create(user=loop["contact"], starts_on=today, ends_on=today + timedelta(days=5))
    proposal = propose(patient=loop["patient"], practice=loop["practice"])
    assert proposal.receiver == loop["deputy"]
    assert proposal.assigned_via == "deputy"


def test_no_team_serving_the_postcode_gives_a_pathway_without_a_team(loop):
    proposal = propose(practice=loop["practice"], postcode="9999 ZZ", domains=["finances"])
    assert proposal.pathway.code == "schuldhulp"
    # The practice's own area still places it in the district the team serves.
    assert proposal.team == loop["team"]
    loop["practice"].area = None
    loop["practice"].save()
    assert propose(practice=loop["practice"], postcode="9999 ZZ", domains=["finances"]).team is None


def test_admin_can_try_the_guide(admin_client, loop):
    from django.urls import reverse

    url = reverse("admin:referrals_routingrule_try")
    response = admin_client.post(
        url,
        {"postcode": "6531 AB", "practice": loop["practice"].pk, "domains": ["finances"]},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    html = response.content.decode()
    assert "Schuldhulp en geldzaken" in html and "Samira El Amrani" in html
    response = admin_client.post(
        url,
        {"postcode": "6531 AB", "practice": loop["practice"].pk, "domains": ["justice"]},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert "No rule matches" in response.content.decode()


def test_a_domain_contact_is_proposed_only_for_a_pathway_of_that_domain(loop):
    """Issue 21: the team's debt adviser is the practice's contact for money. The multi-domain social work
    pathway goes to the team's named contact for the practice, not to the debt adviser because money
    happens to be the patient's first domain; the debt pathway goes to the debt adviser."""
    from tests.factories import ProfessionalFactory, make_named_contact

    adviser = ProfessionalFactory(team=loop["team"], first_name="Eva", last_name="de Boer")
    make_named_contact(practice=loop["practice"], team=loop["team"], contact=adviser, life_domain="finances")
    social = propose(patient=loop["patient"], practice=loop["practice"])  # finances + housing
    assert social.pathway.code == "maatschappelijk-werk"
    assert social.receiver == loop["contact"]
    debt = propose(patient=loop["patient"], practice=loop["practice"], pathway=loop["pathways"]["schuldhulp"])
    assert debt.receiver == adviser
