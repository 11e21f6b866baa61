"""The NEN 7513 access log: a row for every access, append-only, and reads fail closed."""

import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from collab_hub.audit.models import AccessLogEntry

pytestmark = pytest.mark.django_db


def test_view_create_change_and_search_are_logged(client, trio):
    client.force_login(trio["owner"])
    pk = trio["patient"].pk
    client.get(reverse("patients:detail", args=[pk]))
    view = AccessLogEntry.objects.latest("id")
    assert (view.event, view.outcome, view.patient_id, view.user) == ("view", "allowed", pk, trio["owner"])
    assert view.role == "gp"
    assert view.client_address == "127.0.0.1"

    client.post(
        reverse("patients:concern_create", args=[pk]),
        {"domain": "housing", "description": "Schimmel", "status": "active"},
    )
    created = AccessLogEntry.objects.filter(event="create", object_type="concern").get()
    assert created.patient_id == pk

    client.post(
        reverse("patients:edit", args=[pk]),
        {
            "first_name": "Geertje",
            "last_name": "Zonneveld-Bos",
            "date_of_birth": "1970-05-17",
            "postcode": "6535 AB",
            "preferred_language": "nl",
            "bsn": trio["patient"].bsn,
        },
    )
    # The access for the concern, the access for the edit, and the edit itself.
    assert AccessLogEntry.objects.filter(event="change", object_type="patient", patient_id=pk).count() == 3
    trio["patient"].refresh_from_db()
    assert trio["patient"].last_name == "Zonneveld-Bos"

    client.post(reverse("patients:list"), {"name": "Zonneveld"})
    search = AccessLogEntry.objects.filter(event="search").latest("id")
    assert "Zonneveld" not in search.reason  # the log records the fact, not the data
    assert search.reason == f"1 shown: {trio['patient'].pk}"  # which patients were on the screen


def test_the_log_records_the_fact_not_the_data(client, trio):
    client.force_login(trio["owner"])
    client.get(reverse("patients:detail", args=[trio["patient"].pk]))
    for entry in AccessLogEntry.objects.values():
        text = " ".join(str(v) for v in entry.values())
        assert "Zonneveld" not in text
        assert trio["patient"].bsn not in text


def test_rows_cannot_be_changed_or_deleted_in_the_database(client, trio):
    client.force_login(trio["owner"])
    client.get(reverse("patients:detail", args=[trio["patient"].pk]))
    entry = AccessLogEntry.objects.latest("id")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AccessLogEntry.objects.filter(pk=entry.pk).update(outcome="denied")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        entry.delete()
    assert AccessLogEntry.objects.get(pk=entry.pk).outcome == "allowed"


def test_the_admin_cannot_change_or_delete_rows(admin_client, trio, client):
    client.force_login(trio["owner"])
    client.get(reverse("patients:detail", args=[trio["patient"].pk]))
    entry = AccessLogEntry.objects.latest("id")
    assert admin_client.get(reverse("admin:audit_accesslogentry_changelist")).status_code == 200
    change_url = reverse("admin:audit_accesslogentry_change", args=[entry.pk])
    assert admin_client.get(change_url).status_code == 200  # readable
    assert admin_client.post(change_url, {"outcome": "denied"}).status_code == 403
    assert (
        admin_client.post(
            reverse("admin:audit_accesslogentry_delete", args=[entry.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    assert admin_client.get(reverse("admin:audit_accesslogentry_add")).status_code == 403
    assert AccessLogEntry.objects.filter(pk=entry.pk, outcome="allowed").exists()


@pytest.mark.server_error_expected
def test_a_read_fails_closed_when_the_log_cannot_be_written(client, trio):
    client.force_login(trio["owner"])
    client.raise_request_exception = False
    with connection.cursor() as cursor:
        cursor.execute("""
            CREATE FUNCTION test_refuse_insert() RETURNS trigger AS $$
            BEGIN RAISE EXCEPTION 'log storage unavailable'; END; $$ LANGUAGE plpgsql;
            CREATE TRIGGER test_refuse_insert BEFORE INSERT ON audit_accesslogentry
                FOR EACH ROW EXECUTE FUNCTION test_refuse_insert();
        """)
    response = client.get(reverse("patients:detail", args=[trio["patient"].pk]))
    assert response.status_code == 500
    html = response.content.decode()
    assert "Zonneveld" not in html and "Huurachterstand" not in html
