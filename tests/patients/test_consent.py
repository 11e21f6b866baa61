from datetime import date, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from patients.selectors import consent_is_valid
from patients.services import consent_withdraw
from tests.factories import (
    OrganisationFactory,
    PatientFactory,
    TeamFactory,
    give_consent,
    make_gp,
)

pytestmark = pytest.mark.django_db
DAY = date(2026, 6, 1)


@pytest.fixture
def setup():
    team = TeamFactory()
    patient = PatientFactory()
    consent = give_consent(patient, team=team, given_on=date(2026, 1, 1), valid_until=date(2026, 12, 31))
    return patient, team, consent


def test_valid(setup):
    patient, team, consent = setup
    assert consent_is_valid(patient=patient, purpose="referral_social", recipient=team, at=DAY) == consent


def test_not_yet_given_and_expired(setup):
    patient, team, _ = setup
    assert (
        consent_is_valid(patient=patient, purpose="referral_social", recipient=team, at=date(2025, 12, 31))
        is None
    )
    assert (
        consent_is_valid(patient=patient, purpose="referral_social", recipient=team, at=date(2027, 1, 1))
        is None
    )
    assert consent_is_valid(patient=patient, purpose="referral_social", recipient=team, at=date(2026, 12, 31))


def test_wrong_recipient_and_wrong_purpose(setup):
    patient, team, _ = setup
    assert (
        consent_is_valid(patient=patient, purpose="referral_social", recipient=TeamFactory(), at=DAY) is None
    )
    assert consent_is_valid(patient=patient, purpose="joint_consultation", recipient=team, at=DAY) is None
    # A consent for a team does not cover the rest of its organisation.
    assert (
        consent_is_valid(patient=patient, purpose="referral_social", recipient=team.organisation, at=DAY)
        is None
    )


def test_consent_for_an_organisation_covers_its_teams():
    org = OrganisationFactory()
    team = TeamFactory(organisation=org)
    patient = PatientFactory()
    give_consent(patient, organisation=org)
    assert consent_is_valid(patient=patient, purpose="referral_social", recipient=team, at=DAY)
    assert (
        consent_is_valid(patient=patient, purpose="referral_social", recipient=TeamFactory(), at=DAY) is None
    )


def test_withdrawal_takes_effect_at_once_and_cannot_happen_twice(setup):
    patient, team, consent = setup
    gp = make_gp(patient.practice)
    before = timezone.now()
    consent_withdraw(by=gp, consent=consent)
    assert consent_is_valid(patient=patient, purpose="referral_social", recipient=team) is None
    # Shares made before the withdrawal were made under a valid consent.
    assert (
        consent_is_valid(
            patient=patient, purpose="referral_social", recipient=team, at=before - timedelta(seconds=1)
        )
        == consent
    )
    with pytest.raises(ValidationError, match=r"al ingetrokken|already withdrawn"):
        consent_withdraw(by=gp, consent=consent)


def test_a_datetime_is_judged_on_its_local_day(setup):
    patient, team, consent = setup
    at = timezone.make_aware(datetime(2026, 12, 31, 23, 30))
    assert consent_is_valid(patient=patient, purpose="referral_social", recipient=team, at=at) == consent
