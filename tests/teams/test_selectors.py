from datetime import date, time, timedelta

import pytest

from teams.models import Absence, ConsultationHour, Membership
from teams.selectors import (
    current_contact_for,
    my_contacts,
    neighbourhood_for_postcode,
    practices_without_contact,
)
from tests.factories import (
    PracticeFactory,
    ProfessionalFactory,
    TeamFactory,
    make_area_tree,
    make_named_contact,
)

TODAY = date(2026, 11, 23)  # a Monday


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("postcode", "expected"),
    [
        ("6535 AB", "Zuid"),
        ("6535AB", "Zuid"),
        ("6531", "Noord"),
        ("6534 zz", "Noord"),
        ("6536 AB", None),
        ("1234 AB", None),
        ("not a postcode", None),
        ("", None),
    ],
)
def test_postcode_routes_to_its_neighbourhood(postcode, expected):
    make_area_tree()
    area = neighbourhood_for_postcode(postcode)
    assert (area.name if area else None) == expected


@pytest.fixture
def district():
    areas = make_area_tree()
    practice = PracticeFactory(area=areas["north"])
    team = TeamFactory()
    team.areas.set([areas["district"]])
    contact = ProfessionalFactory(team=team)
    deputy = ProfessionalFactory(team=team)
    coordinator = ProfessionalFactory(team=team, team__role=Membership.Role.COORDINATOR)
    general = make_named_contact(practice=practice, team=team, contact=contact, deputy=deputy)
    return {
        "practice": practice,
        "team": team,
        "contact": contact,
        "deputy": deputy,
        "coordinator": coordinator,
        "general": general,
        "areas": areas,
    }


def absent(user, start=TODAY - timedelta(days=1), end=TODAY + timedelta(days=3)):
    return Absence.objects.create(user=user, starts_on=start, ends_on=end)


@pytest.mark.django_db
def test_contact_present_is_the_contact(district):
    r = current_contact_for(practice=district["practice"], team=district["team"], on=TODAY)
    assert r.person == district["contact"]
    assert r.via == "contact"
    assert not r.is_replacement


@pytest.mark.django_db
def test_absent_contact_routes_to_the_deputy(district):
    absent(district["contact"])
    r = current_contact_for(practice=district["practice"], team=district["team"], on=TODAY)
    assert r.person == district["deputy"]
    assert r.via == "deputy"
    assert r.absent == [district["contact"]]
    # The absence has ended the day after its last day.
    after = current_contact_for(
        practice=district["practice"], team=district["team"], on=TODAY + timedelta(days=4)
    )
    assert after.person == district["contact"]


@pytest.mark.django_db
def test_contact_and_deputy_absent_routes_to_the_team_coordinator(district):
    absent(district["contact"])
    absent(district["deputy"])
    r = current_contact_for(practice=district["practice"], team=district["team"], on=TODAY)
    assert r.person == district["coordinator"]
    assert r.via == "coordinator"


@pytest.mark.django_db
def test_everyone_absent_gives_nobody(district):
    for key in ("contact", "deputy", "coordinator"):
        absent(district[key])
    r = current_contact_for(practice=district["practice"], team=district["team"], on=TODAY)
    assert r.person is None
    assert r.via == "none"


@pytest.mark.django_db
def test_life_domain_contact_wins_over_the_general_one(district):
    money = ProfessionalFactory(team=district["team"], profile__discipline="debt_adviser")
    make_named_contact(
        practice=district["practice"], team=district["team"], contact=money, life_domain="finances"
    )
    r = current_contact_for(
        practice=district["practice"], team=district["team"], life_domain="finances", on=TODAY
    )
    assert r.person == money
    other = current_contact_for(
        practice=district["practice"], team=district["team"], life_domain="housing", on=TODAY
    )
    assert other.person == district["contact"]
    general = current_contact_for(practice=district["practice"], team=district["team"], on=TODAY)
    assert general.person == district["contact"]


@pytest.mark.django_db
def test_no_named_contact_gives_none(district):
    assert current_contact_for(practice=PracticeFactory(), team=district["team"], on=TODAY) is None


@pytest.mark.django_db
def test_practices_without_a_contact_are_gaps_for_the_team(district):
    other = PracticeFactory(area=district["areas"]["south"], name="Praktijk Zonder Contact")
    PracticeFactory(area=None, name="Elders")  # outside the team's areas: not the team's gap
    assert practices_without_contact(team=district["team"]) == [other]


@pytest.mark.django_db
def test_my_contacts_shows_who_to_call_and_their_next_hour_at_the_practice(district):
    gp = ProfessionalFactory(profile__discipline="gp")
    practice_team = TeamFactory(organisation=district["practice"], kind="practice")
    Membership.objects.create(team=practice_team, user=gp)
    ConsultationHour.objects.create(
        person=district["contact"],
        location=district["practice"],
        weekday=1,
        starts_at=time(9),
        ends_at=time(11),
        starts_on=date(2026, 1, 6),
    )
    [practice] = my_contacts(user=gp, on=TODAY)
    [row] = practice.contacts
    assert row.person == district["contact"]
    assert row.next_hour.on == date(2026, 11, 24)


@pytest.mark.parametrize(
    ("weekday", "every", "starts_on", "after", "expected"),
    [
        (1, 1, date(2026, 1, 6), TODAY, [date(2026, 11, 24), date(2026, 12, 1), date(2026, 12, 8)]),
        (0, 1, date(2026, 1, 5), TODAY, [TODAY, date(2026, 11, 30), date(2026, 12, 7)]),
        # Every two weeks from Wed 7 Jan 2026: … 11 Nov, 25 Nov, 9 Dec, 23 Dec.
        (2, 2, date(2026, 1, 7), TODAY, [date(2026, 11, 25), date(2026, 12, 9), date(2026, 12, 23)]),
        # Starting in the future: the first date is the first matching weekday on or after the start.
        (4, 1, date(2026, 12, 2), TODAY, [date(2026, 12, 4), date(2026, 12, 11), date(2026, 12, 18)]),
    ],
)
def test_consultation_hour_next_dates(weekday, every, starts_on, after, expected):
    hour = ConsultationHour(
        weekday=weekday, every_n_weeks=every, starts_on=starts_on, starts_at=time(9), ends_at=time(10)
    )
    assert hour.next_dates(after=after, count=3) == expected


def test_consultation_hour_stops_at_its_last_date():
    hour = ConsultationHour(
        weekday=0,
        every_n_weeks=1,
        starts_on=date(2026, 1, 5),
        ends_on=date(2026, 11, 30),
        starts_at=time(9),
        ends_at=time(10),
    )
    assert hour.next_dates(after=TODAY, count=3) == [TODAY, date(2026, 11, 30)]
