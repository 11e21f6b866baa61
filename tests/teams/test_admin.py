"""Impossible input in the admin gives a validation error on the form, never a crash, and saves nothing."""

from datetime import date

import pytest
from django.urls import reverse

from teams.models import Absence, Area, ConsultationHour, NamedContact, Organisation, PostcodeRange
from tests.factories import PracticeFactory, ProfessionalFactory, TeamFactory, make_area_tree


def post(admin_client, model: str, data: dict):
    response = admin_client.post(reverse(f"admin:teams_{model}_add"), data, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200, "the form should be shown again with an error"
    return response.content.decode()


INLINE = {"TOTAL_FORMS": "0", "INITIAL_FORMS": "0", "MIN_NUM_FORMS": "0", "MAX_NUM_FORMS": "1000"}


def management(prefix: str, total: int = 0) -> dict:
    return {f"{prefix}-{k}": (str(total) if k == "TOTAL_FORMS" else v) for k, v in INLINE.items()}


@pytest.mark.django_db
def test_deputy_who_is_the_contact_themself(admin_client):
    team = TeamFactory()
    person = ProfessionalFactory(team=team)
    practice = PracticeFactory()
    html = post(
        admin_client,
        "namedcontact",
        {
            "practice": practice.pk,
            "team": team.pk,
            "life_domain": "",
            "contact": person.pk,
            "deputy": person.pk,
        },
    )
    assert "The deputy must be someone other than the contact." in html
    assert not NamedContact.objects.exists()


@pytest.mark.django_db
def test_contact_outside_the_team(admin_client):
    team = TeamFactory()
    outsider = ProfessionalFactory()
    html = post(
        admin_client,
        "namedcontact",
        {
            "practice": PracticeFactory().pk,
            "team": team.pk,
            "life_domain": "",
            "contact": outsider.pk,
        },
    )
    assert "This person is not a member of the team." in html
    assert not NamedContact.objects.exists()


@pytest.mark.django_db
def test_overlapping_absences(admin_client):
    person = ProfessionalFactory()
    Absence.objects.create(user=person, starts_on=date(2026, 12, 1), ends_on=date(2026, 12, 10))
    html = post(
        admin_client, "absence", {"user": person.pk, "starts_on": "2026-12-10", "ends_on": "2026-12-12"}
    )
    assert "This absence overlaps another absence of the same person." in html
    assert Absence.objects.count() == 1
    # Adjacent periods are fine.
    admin_client.post(
        reverse("admin:teams_absence_add"),
        {"user": person.pk, "starts_on": "2026-12-11", "ends_on": "2026-12-12"},
    )
    assert Absence.objects.count() == 2


@pytest.mark.django_db
def test_absence_ending_before_it_starts(admin_client):
    person = ProfessionalFactory()
    html = post(
        admin_client, "absence", {"user": person.pk, "starts_on": "2026-12-10", "ends_on": "2026-12-01"}
    )
    assert "An absence cannot end before it starts." in html
    assert not Absence.objects.exists()


@pytest.mark.django_db
def test_consultation_hour_ending_before_it_starts(admin_client):
    html = post(
        admin_client,
        "consultationhour",
        {
            "person": ProfessionalFactory().pk,
            "location": PracticeFactory().pk,
            "weekday": 1,
            "starts_at": "11:00",
            "ends_at": "09:00",
            "every_n_weeks": 1,
            "starts_on": "2026-12-01",
        },
    )
    assert "A consultation hour must end after it starts." in html
    assert not ConsultationHour.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("6540", "6530", "The first postcode of a range cannot come after the last."),
        ("999", "1005", "A 4-digit postcode lies between 1000 and 9999."),
        ("6533", "6536", "This postcode range overlaps a range of another neighbourhood."),
    ],
)
def test_invalid_postcode_range(admin_client, start, end, message):
    areas = make_area_tree()
    html = post(
        admin_client,
        "area",
        {
            "name": "Nieuwe buurt",
            "kind": "neighbourhood",
            "parent": areas["district"].pk,
            **management("postcode_ranges", 1),
            "postcode_ranges-0-start": start,
            "postcode_ranges-0-end": end,
        },
    )
    assert message in html
    assert not Area.objects.filter(name="Nieuwe buurt").exists()
    assert PostcodeRange.objects.count() == 2


@pytest.mark.django_db
def test_neighbourhood_must_be_part_of_a_district(admin_client):
    areas = make_area_tree()
    html = post(
        admin_client,
        "area",
        {
            "name": "Verdwaald",
            "kind": "neighbourhood",
            "parent": areas["municipality"].pk,
            **management("postcode_ranges"),
        },
    )
    assert "A neighbourhood must be part of a district." in html


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("agb", "message"),
    [
        ("1234", "An AGB code has exactly 8 digits."),
        ("12345abc", "An AGB code has exactly 8 digits."),
        ("", "A GP practice needs its 8-digit AGB code."),
    ],
)
def test_invalid_agb_code(admin_client, agb, message):
    html = post(
        admin_client,
        "organisation",
        {
            "name": "Praktijk Test",
            "kind": "gp_practice",
            "agb_code": agb,
            **management("teams"),
        },
    )
    assert message in html
    assert not Organisation.objects.filter(name="Praktijk Test").exists()


@pytest.mark.django_db
def test_valid_practice_is_saved(admin_client):
    response = admin_client.post(
        reverse("admin:teams_organisation_add"),
        {
            "name": "Praktijk Test",
            "kind": "gp_practice",
            "agb_code": "01234567",
            "postcode": "6535 AB",
            **management("teams"),
        },
    )
    assert response.status_code == 302
    assert Organisation.objects.get(name="Praktijk Test").agb_code == "01234567"


@pytest.mark.django_db
def test_admin_pages_render(admin_client):
    make_area_tree()
    for model in ("area", "organisation", "team", "namedcontact", "absence", "consultationhour", "service"):
        assert admin_client.get(reverse(f"admin:teams_{model}_changelist")).status_code == 200
        assert admin_client.get(reverse(f"admin:teams_{model}_add")).status_code == 200
    assert admin_client.get(reverse("admin:accounts_user_changelist")).status_code == 200
