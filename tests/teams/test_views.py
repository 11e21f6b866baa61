from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from teams.models import Absence, Membership, Service
from tests.factories import (
    OrganisationFactory,
    PracticeFactory,
    ProfessionalFactory,
    ServiceFactory,
    TeamFactory,
    make_area_tree,
    make_named_contact,
)


def count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.fixture
def viewer(client):
    user = ProfessionalFactory(profile__discipline="gp")
    client.force_login(user)
    return user


def make_people(n: int, team):
    for _ in range(n):
        ProfessionalFactory(team=team)


@pytest.mark.django_db
def test_whos_who_query_count_does_not_grow_with_rows(client, viewer):
    team = TeamFactory()
    make_people(5, team)
    url = reverse("teams:people") + "?discipline=social_worker"
    few = count_queries(client, url)
    make_people(45, team)
    assert count_queries(client, url) == few


@pytest.mark.django_db
def test_social_map_query_count_does_not_grow_with_rows(client, viewer):
    areas = make_area_tree()
    org = OrganisationFactory(kind="volunteer_organisation")

    def add(n):
        for _ in range(n):
            ServiceFactory(organisation=org).areas.set([areas["district"]])

    add(5)
    url = reverse("teams:social_map") + "?life_domain=social_network"
    few = count_queries(client, url)
    add(45)
    assert count_queries(client, url) == few


@pytest.mark.django_db
def test_whos_who_filters(client, viewer):
    areas = make_area_tree()
    team = TeamFactory(name="Wijkteam Zuid")
    team.areas.set([areas["south"]])
    coach = ProfessionalFactory(
        first_name="Wim", last_name="Bakker", team=team, profile__discipline="wellbeing_coach"
    )
    coach.profile.helps_with = "Eenzaamheid en zingeving"
    coach.profile.save()
    ProfessionalFactory(first_name="Eva", last_name="de Boer", profile__discipline="debt_adviser")

    def names(query):
        html = client.get(reverse("teams:people"), query).content.decode()
        return {n for n in ("Wim Bakker", "Eva de Boer") if n in html}

    assert names({"q": "bakker"}) == {"Wim Bakker"}
    assert names({"discipline": "debt_adviser"}) == {"Eva de Boer"}
    assert names({"team": team.pk}) == {"Wim Bakker"}
    assert names({"area": areas["south"].pk}) == {"Wim Bakker"}
    assert names({"helps_with": "eenzaam"}) == {"Wim Bakker"}


@pytest.mark.django_db
def test_social_map_filters(client, viewer):
    areas = make_area_tree()
    org = OrganisationFactory(kind="volunteer_organisation")
    cooking = ServiceFactory(organisation=org, name="Buurtmaaltijd", life_domains=["social_network"])
    cooking.areas.set([areas["north"]])
    debts = ServiceFactory(
        organisation=org, name="Schuldhulpmaatjes", life_domains=["finances"], capacity="waitlist"
    )
    debts.areas.set([areas["district"]])

    def names(query):
        html = client.get(reverse("teams:social_map"), query).content.decode()
        return {n for n in ("Buurtmaaltijd", "Schuldhulpmaatjes") if n in html}

    assert names({"life_domain": "finances"}) == {"Schuldhulpmaatjes"}
    assert names({"capacity": "waitlist"}) == {"Schuldhulpmaatjes"}
    assert names({"q": "maaltijd"}) == {"Buurtmaaltijd"}
    # A district-wide service also serves the neighbourhood; a neighbourhood's service is not in another one.
    assert names({"area": areas["north"].pk}) == {"Buurtmaaltijd", "Schuldhulpmaatjes"}
    assert names({"area": areas["south"].pk}) == {"Schuldhulpmaatjes"}


@pytest.mark.django_db
def test_htmx_search_returns_only_the_results(client, viewer):
    ServiceFactory(name="Taalcafé")
    response = client.get(reverse("teams:social_map"), {"q": "taal"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "Taalcafé" in html
    assert "<html" not in html


@pytest.mark.django_db
def test_person_page_shows_absence_and_next_hours(client, viewer):
    person = ProfessionalFactory()
    today = date.today()
    Absence.objects.create(user=person, starts_on=today, ends_on=today + timedelta(days=3))
    html = client.get(reverse("teams:person", args=[person.pk])).content.decode()
    assert 'data-testid="absent"' in html


@pytest.mark.django_db
def test_team_page_shows_gaps_only_to_its_coordinator(client):
    areas = make_area_tree()
    team = TeamFactory()
    team.areas.set([areas["district"]])
    PracticeFactory(area=areas["north"], name="Praktijk Noord")
    member = ProfessionalFactory(team=team)
    coordinator = ProfessionalFactory(team=team, team__role=Membership.Role.COORDINATOR)
    client.force_login(member)
    assert "Praktijk Noord" not in client.get(reverse("teams:team", args=[team.pk])).content.decode()
    client.force_login(coordinator)
    html = client.get(reverse("teams:team", args=[team.pk])).content.decode()
    assert 'data-testid="gaps"' in html and "Praktijk Noord" in html
    home = client.get(reverse("home")).content.decode()
    assert 'data-testid="gaps-panel"' in home


@pytest.mark.django_db
def test_practice_page_says_when_the_deputy_takes_over(client, viewer):
    team = TeamFactory()
    contact = ProfessionalFactory(team=team)
    deputy = ProfessionalFactory(team=team)
    practice = PracticeFactory()
    make_named_contact(practice=practice, team=team, contact=contact, deputy=deputy)
    today = date.today()
    Absence.objects.create(user=contact, starts_on=today, ends_on=today)
    html = client.get(reverse("teams:organisation", args=[practice.pk])).content.decode()
    assert 'data-testid="via-deputy"' in html
    assert deputy.get_full_name() in html


@pytest.mark.django_db
def test_stale_entries_are_listed_for_the_organisation_contact_and_can_be_marked_checked(client):
    keeper = ProfessionalFactory()
    org = OrganisationFactory(kind="volunteer_organisation", contact_person=keeper)
    stale = ServiceFactory(
        organisation=org, name="Oude klussendienst", last_checked_on=date.today() - timedelta(days=200)
    )
    ServiceFactory(organisation=org, name="Verse buurtmaaltijd")
    client.force_login(keeper)
    home = client.get(reverse("home")).content.decode()
    assert "Oude klussendienst" in home and "Verse buurtmaaltijd" not in home
    client.post(reverse("teams:service_checked", args=[stale.pk]))
    stale.refresh_from_db()
    assert stale.last_checked_on == date.today()
    assert "Oude klussendienst" not in client.get(reverse("home")).content.decode()


@pytest.mark.django_db
def test_only_the_keeper_can_mark_an_entry_checked(client, viewer):
    service = ServiceFactory(last_checked_on=date(2025, 1, 1))
    response = client.post(reverse("teams:service_checked", args=[service.pk]))
    assert response.status_code == 403
    service.refresh_from_db()
    assert service.last_checked_on == date(2025, 1, 1)
    assert client.get(reverse("teams:service_checked", args=[service.pk])).status_code == 405


@pytest.mark.django_db
def test_hsds_download_is_for_admins_only(client, viewer, admin_client):
    ServiceFactory()
    assert client.get(reverse("teams:hsds_export")).status_code == 302
    response = admin_client.get(reverse("teams:hsds_export"))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert isinstance(response.json(), list)


@pytest.mark.django_db
def test_unknown_objects_are_404(client, viewer):
    for name in ("teams:person", "teams:organisation", "teams:team", "teams:service_detail"):
        assert client.get(reverse(name, args=[999999])).status_code == 404
    assert Service.objects.count() == 0
