"""Need-to-know access: the owner / colleague / outsider trio on every patient URL."""

import pytest
from django.urls import reverse

from collab_hub.audit.models import AccessLogEntry
from patients.models import CareRelationship, Consent
from patients.selectors import visible_patients

pytestmark = pytest.mark.django_db


def patient_urls(t):
    pk = t["patient"].pk
    return [
        ("get", reverse("patients:detail", args=[pk])),
        ("get", reverse("patients:edit", args=[pk])),
        ("post", reverse("patients:edit", args=[pk])),
        ("get", reverse("patients:concern_create", args=[pk])),
        ("post", reverse("patients:concern_create", args=[pk])),
        ("get", reverse("patients:consent_create", args=[pk])),
        ("post", reverse("patients:consent_create", args=[pk])),
        ("post", reverse("patients:consent_withdraw", args=[pk, t["consent"].pk])),
        ("get", reverse("patients:access_history", args=[pk])),
    ]


def test_outsider_gets_404_on_every_patient_url_and_a_denied_log_row(client, trio):
    client.force_login(trio["outsider"])
    for method, url in patient_urls(trio):
        before = AccessLogEntry.objects.filter(outcome="denied", user=trio["outsider"]).count()
        response = getattr(client, method)(url, {})
        assert response.status_code == 404, (method, url)
        assert "Zonneveld" not in response.content.decode()
        denied = AccessLogEntry.objects.filter(outcome="denied", user=trio["outsider"])
        assert denied.count() == before + 1, (method, url)
        assert denied.first().patient_id == trio["patient"].pk
    assert Consent.objects.get(pk=trio["consent"].pk).withdrawn_at is None
    assert trio["patient"].concerns.count() == 2


def test_unknown_patient_is_the_same_404(client, trio):
    client.force_login(trio["outsider"])
    assert client.get(reverse("patients:detail", args=[999999])).status_code == 404


def test_owner_sees_the_full_view(client, trio):
    client.force_login(trio["owner"])
    html = client.get(reverse("patients:detail", args=[trio["patient"].pk])).content.decode()
    assert trio["patient"].bsn in html
    assert "Paniekaanvallen" in html and "Huurachterstand" in html
    assert client.get(reverse("patients:edit", args=[trio["patient"].pk])).status_code == 200
    assert client.get(reverse("patients:access_history", args=[trio["patient"].pk])).status_code == 200


def test_social_worker_with_a_care_relationship_sees_the_minimal_view(client, trio):
    client.force_login(trio["colleague"])
    response = client.get(reverse("patients:detail", args=[trio["patient"].pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="minimal-view"' in html
    assert trio["patient"].bsn not in html
    assert "Huurachterstand" in html
    assert "Paniekaanvallen" not in html  # medical, not shared in a referral
    assert client.get(reverse("patients:edit", args=[trio["patient"].pk])).status_code == 403
    assert client.get(reverse("patients:access_history", args=[trio["patient"].pk])).status_code == 403


def test_list_shows_only_patients_with_a_care_relationship(client, trio):
    assert list(visible_patients(user=trio["owner"])) == [trio["patient"]]
    assert list(visible_patients(user=trio["colleague"])) == [trio["patient"]]
    assert list(visible_patients(user=trio["outsider"])) == []
    client.force_login(trio["outsider"])
    assert "Zonneveld" not in client.get(reverse("patients:list")).content.decode()


def test_an_ended_relationship_no_longer_gives_access(client, trio):
    from django.utils import timezone

    CareRelationship.objects.filter(user=trio["colleague"]).update(ends_at=timezone.now())
    client.force_login(trio["colleague"])
    assert client.get(reverse("patients:detail", args=[trio["patient"].pk])).status_code == 404
