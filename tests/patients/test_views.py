"""Creating and changing patients and consent: clear messages for bad input, nothing half-saved."""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from collab_hub.audit.models import AccessLogEntry
from patients.models import CareRelationship, Consent, Patient
from tests.factories import ConcernFactory, PatientFactory, ProfessionalFactory, give_consent

pytestmark = pytest.mark.django_db

VALID = {
    "first_name": "Bert",
    "last_name": "Bakker",
    "date_of_birth": "1960-02-02",
    "postcode": "6531aa",
    "preferred_language": "nl",
}


def create(client, **changes):
    return client.post(reverse("patients:create"), {**VALID, **changes})


@pytest.fixture
def gp(client, trio):
    client.force_login(trio["owner"])
    return trio["owner"]


def test_create_patient(client, gp, trio):
    response = create(client, perspectives=["informal_carer", "low_income"])
    patient = Patient.objects.get(last_name="Bakker")
    assert response.status_code == 302
    assert patient.postcode == "6531 AA"
    assert patient.practice == trio["practice"]
    assert patient.pseudonym.startswith("P-")
    assert patient.perspectives == ["informal_carer", "low_income"]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"bsn": "123456789"}, "Dit is geen geldig BSN"),
        (
            {"date_of_birth": (date.today() + timedelta(days=1)).isoformat()},
            "De geboortedatum kan niet in de toekomst",
        ),
        ({"postcode": "65AB"}, "Vul een Nederlandse postcode in"),
        ({"postcode": "6531 SS"}, "Deze postcode bestaat niet"),
        ({"is_high_user": "on"}, "Geef de datum"),
    ],
)
def test_bad_input_gets_a_clear_dutch_message_and_saves_nothing(client, gp, changes, message):
    response = create(client, **changes)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Patient.objects.filter(last_name="Bakker").exists()


def test_possible_duplicate_warns_and_shows_it_until_confirmed(client, gp, trio):
    existing = PatientFactory(
        practice=trio["practice"], first_name="Bert", last_name="Bakker", date_of_birth=date(1960, 2, 2)
    )
    response = create(client)
    html = response.content.decode()
    assert 'data-testid="duplicate-warning"' in html
    assert reverse("patients:detail", args=[existing.pk]) in html
    assert Patient.objects.filter(last_name="Bakker").count() == 1
    response = create(client, confirm_shown="1", confirm_not_duplicate="on")
    assert response.status_code == 302
    assert Patient.objects.filter(last_name="Bakker").count() == 2


def test_only_practice_members_create_patients(client, trio):
    client.force_login(trio["colleague"])
    assert client.get(reverse("patients:create")).status_code == 403


def test_record_consent_and_bad_input(client, gp, trio):
    url = reverse("patients:consent_create", args=[trio["patient"].pk])
    base = {
        "purpose": "joint_consultation",
        "form": "signed",
        "given_on": "2026-03-01",
        "recipient_team": trio["welfare"].pk,
    }
    response = client.post(url, {**base, "valid_until": "2026-02-01"})
    assert "Toestemming kan niet eindigen vóór de dag" in response.content.decode()
    response = client.post(url, {**base, "recipient_organisation": trio["welfare"].organisation.pk})
    assert "Kies de ontvanger" in response.content.decode()
    future = (date.today() + timedelta(days=3)).isoformat()
    assert "toekomst" in client.post(url, {**base, "given_on": future}).content.decode()
    assert Consent.objects.filter(purpose="joint_consultation").count() == 0
    # A `next` that is no path on this site (a bare word used to be looked up as a view: a 500) or
    # another host: back to the patient's page.
    response = client.post(url, {**base, "next": "Test"})
    patient_page = reverse("patients:detail", args=[trio["patient"].pk])
    assert response.status_code == 302 and response["Location"] == patient_page
    consent = Consent.objects.get(purpose="joint_consultation")
    assert consent.recorded_by == trio["owner"]
    consent.delete()
    response = client.post(url, {**base, "next": "https://elders.example/"})
    assert response["Location"] == patient_page


def test_a_megabyte_of_text_is_refused_and_nothing_is_saved(client, gp, trio):
    url = reverse("patients:consent_create", args=[trio["patient"].pk])
    before = Consent.objects.count()
    data = {"purpose": "joint_consultation", "form": "signed", "given_on": "2026-03-01"}
    response = client.post(url, {**data, "recipient_team": trio["welfare"].pk, "notes": "x" * 1_000_000})
    assert response.status_code == 400 and "Er is niets opgeslagen" in response.content.decode()
    assert Consent.objects.count() == before


def test_withdrawing_twice_gives_a_clear_message(client, gp, trio):
    url = reverse("patients:consent_withdraw", args=[trio["patient"].pk, trio["consent"].pk])
    client.post(url)
    response = client.post(url, follow=True)
    assert "Deze toestemming is al ingetrokken." in response.content.decode()
    assert Consent.objects.get(pk=trio["consent"].pk).withdrawn_by == trio["owner"]
    assert client.get(url).status_code == 405


def test_break_the_glass_needs_a_reason_grants_24_hours_and_is_flagged(client, trio):
    stranger = ProfessionalFactory(profile__discipline="district_nurse")
    client.force_login(stranger)
    patient = trio["patient"]
    assert client.get(reverse("patients:detail", args=[patient.pk])).status_code == 404
    lookup = {
        "last_name": patient.last_name.upper(),
        "date_of_birth": patient.date_of_birth.isoformat(),
        "postcode": patient.postcode.replace(" ", "").lower(),
    }
    response = client.post(reverse("patients:emergency_access"), {**lookup, "reason": ""})
    assert "Leg in een zin uit" in response.content.decode() or "reden" in response.content.decode().lower()
    assert not CareRelationship.objects.filter(user=stranger).exists()
    response = client.post(
        reverse("patients:emergency_access"),
        {**lookup, "reason": "Patiënt onwel bij de huisbezoekronde, medicatie nodig"},
    )
    assert response.status_code == 302
    relation = CareRelationship.objects.get(user=stranger, kind="emergency")
    assert timedelta(hours=23) < relation.ends_at - relation.starts_at <= timedelta(hours=24, seconds=5)
    assert AccessLogEntry.objects.filter(
        event="break_glass", needs_review=True, patient_id=patient.pk
    ).exists()
    assert client.get(reverse("patients:detail", args=[patient.pk])).status_code == 200
    assert AccessLogEntry.objects.filter(event="view", user=stranger, needs_review=True).exists()


def test_break_the_glass_with_unknown_details_finds_nothing(client, trio):
    client.force_login(ProfessionalFactory(profile__discipline="gp"))
    response = client.post(
        reverse("patients:emergency_access"),
        {
            "last_name": "Niemand",
            "date_of_birth": "1999-01-01",
            "postcode": "6531 AA",
            "reason": "Dringend nodig voor een consult vandaag",
        },
    )
    assert response.status_code == 200
    assert not CareRelationship.objects.filter(kind="emergency").exists()
    assert AccessLogEntry.objects.filter(event="break_glass", outcome="denied").exists()


def count_queries(client, method, url, data=None) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = getattr(client, method)(url, data or {})
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_patient_list_query_count_does_not_grow(client, gp, trio):
    for _ in range(4):
        PatientFactory(practice=trio["practice"])
    few_list = count_queries(client, "get", reverse("patients:list"))
    few_search = count_queries(client, "post", reverse("patients:list"), {"name": "a"})
    for _ in range(45):
        PatientFactory(practice=trio["practice"])
    assert count_queries(client, "get", reverse("patients:list")) == few_list
    assert count_queries(client, "post", reverse("patients:list"), {"name": "a"}) == few_search


def test_patient_page_query_count_does_not_grow(client, gp, trio):
    patient = trio["patient"]
    for _ in range(3):
        ConcernFactory(patient=patient)
        give_consent(patient, team=trio["welfare"], by=trio["owner"])
    url = reverse("patients:detail", args=[patient.pk])
    few = count_queries(client, "get", url)
    for _ in range(45):
        ConcernFactory(patient=patient)
        give_consent(patient, team=trio["welfare"], by=trio["owner"])
    assert count_queries(client, "get", url) == few
