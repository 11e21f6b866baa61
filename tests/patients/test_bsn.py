"""The BSN: elfproef, and never in a URL, the access log, an error report or a log line."""

import logging
import re

import pytest
from django.db import connection
from django.urls import reverse

from collab_hub.audit.models import AccessLogEntry
from patients.models import Patient, bsn_is_valid
from tests.factories import ISSUED_BSNS, valid_bsn

URL_ATTR = re.compile(r'(?:href|action|src|hx-get|hx-post)="([^"]*)"')


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("111222333", True),
        ("123456782", True),
        ("123456789", False),
        ("12345678", False),
        ("12345678a", False),
        ("000000000", False),
    ],
)
def test_elfproef(value, valid):
    assert bsn_is_valid(value) is valid


def urls_in(html: str) -> list[str]:
    return URL_ATTR.findall(html)


@pytest.mark.django_db
def test_bsn_stays_out_of_urls_logs_and_the_access_log_through_a_whole_flow(client, trio, caplog):
    caplog.set_level(logging.DEBUG)
    owner, patient = trio["owner"], trio["patient"]
    bsn = valid_bsn(999)
    client.force_login(owner)
    pages = []
    response = client.post(
        reverse("patients:create"),
        {
            "first_name": "Bert",
            "last_name": "Bakker",
            "date_of_birth": "1960-02-02",
            "postcode": "6531 AA",
            "preferred_language": "nl",
            "bsn": bsn,
        },
        follow=True,
    )
    pages.append(response)
    new = Patient.objects.get(bsn=bsn)
    pages.append(client.get(reverse("patients:detail", args=[new.pk])))
    pages.append(client.get(reverse("patients:edit", args=[new.pk])))
    pages.append(client.post(reverse("patients:list"), {"name": "Bakker"}))
    pages.append(client.get(reverse("patients:list")))
    pages.append(client.get(reverse("patients:access_history", args=[new.pk])))
    # An invalid BSN is refused without echoing it in the message.
    bad = "123456789"
    refused = client.post(
        reverse("patients:create"),
        {
            "first_name": "X",
            "last_name": "Y",
            "date_of_birth": "1960-02-02",
            "postcode": "6531 AA",
            "preferred_language": "nl",
            "bsn": bad,
        },
    )
    assert "Dit is geen geldig BSN" in refused.content.decode()
    assert (
        bad not in refused.content.decode().split('name="bsn"')[0]
    )  # not echoed in the message above the field
    pages.append(refused)
    for page in pages:
        html = page.content.decode()
        for url in urls_in(html):
            assert bsn not in url and patient.bsn not in url and bad not in url
        for location, _status in getattr(page, "redirect_chain", []):
            assert bsn not in location
    for entry in AccessLogEntry.objects.values():
        assert bsn not in " ".join(map(str, entry.values()))
    for record in caplog.records:
        assert bsn not in record.getMessage()
    assert bsn in ISSUED_BSNS  # the session-wide check in conftest watches it too


@pytest.mark.django_db
@pytest.mark.server_error_expected
def test_a_server_error_while_saving_a_bsn_does_not_show_it(client, trio, settings):
    """Even the debug error page (and so the error e-mail and log) leaves the BSN out."""
    settings.DEBUG = True
    client.force_login(trio["owner"])
    client.raise_request_exception = False
    bsn = valid_bsn(4242)
    with connection.cursor() as cursor:
        cursor.execute("""
            CREATE FUNCTION test_refuse_patient() RETURNS trigger AS $$
            BEGIN RAISE EXCEPTION 'disk full'; END; $$ LANGUAGE plpgsql;
            CREATE TRIGGER test_refuse_patient BEFORE INSERT ON patients_patient
                FOR EACH ROW EXECUTE FUNCTION test_refuse_patient();
        """)
    response = client.post(
        reverse("patients:create"),
        {
            "first_name": "Bert",
            "last_name": "Bakker",
            "date_of_birth": "1960-02-02",
            "postcode": "6531 AA",
            "preferred_language": "nl",
            "bsn": bsn,
        },
    )
    assert response.status_code == 500
    html = response.content.decode()
    assert "disk full" in html  # it is the technical error page
    assert bsn not in html


def test_patient_repr_has_no_identifying_data():
    patient = Patient(
        pk=7, first_name="Geertje", last_name="Zonneveld", bsn="111222333", pseudonym="P-ABCDEFGH"
    )
    assert repr(patient) == "<Patient 7 P-ABCDEFGH>"
