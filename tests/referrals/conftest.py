from datetime import date

import pytest
from django.utils import timezone

from referrals.demo import seed_pathways
from referrals.models import Referral, ReminderRule, Status
from referrals.reminder_defaults import install_default_reminder_rules
from referrals.services import referral_access_open
from teams.models import Membership, Team
from tests.factories import (
    OrganisationFactory,
    PatientFactory,
    PracticeFactory,
    ProfessionalFactory,
    TeamFactory,
    give_consent,
    make_area_tree,
    make_gp,
    make_named_contact,
)


def req(user):
    """The acting user, as a view passes it to a service (`by=`); kept as a name so tests read as before."""
    return user


@pytest.fixture
def loop(db):
    areas = make_area_tree()
    practice = PracticeFactory(name="Praktijk De Linde", area=areas["north"])
    gp = make_gp(practice, first_name="Hanna", last_name="de Vries")
    welfare_org = OrganisationFactory(name="Sociaal Wijkteam Oost")
    team = TeamFactory(organisation=welfare_org, name="Wijkteam Oost", kind=Team.Kind.SOCIAL_WELFARE)
    team.areas.set([areas["district"]])
    contact = ProfessionalFactory(team=team, first_name="Samira", last_name="El Amrani")
    deputy = ProfessionalFactory(team=team, first_name="Jeroen", last_name="Willems")
    coordinator = ProfessionalFactory(
        team=team,
        team__role=Membership.Role.COORDINATOR,
        profile__discipline="team_coordinator",
        first_name="Tessa",
        last_name="Visser",
    )
    make_named_contact(practice=practice, team=team, contact=contact, deputy=deputy)
    patient = PatientFactory(
        practice=practice, postcode="6531 AB", first_name="Geertje", last_name="Zonneveld"
    )
    patient.concerns.create(domain="finances", description="Huurachterstand")
    patient.concerns.create(domain="housing", description="Dreigende uithuiszetting")
    consent = give_consent(patient, team=team, by=gp, given_on=date(2026, 1, 1))
    pathways = seed_pathways()
    install_default_reminder_rules(ReminderRule)  # transactional tests flush what migrations installed
    outsider = make_gp(PracticeFactory(name="Praktijk Elders"))
    return {
        "practice": practice,
        "gp": gp,
        "team": team,
        "contact": contact,
        "deputy": deputy,
        "coordinator": coordinator,
        "patient": patient,
        "consent": consent,
        "pathways": pathways,
        "outsider": outsider,
        "areas": areas,
    }


def make_referral(loop, **fields) -> Referral:
    """A referral written directly (for list and query-count tests), as if sent today."""
    now = timezone.now()
    defaults = {
        "patient": loop["patient"],
        "pathway": loop["pathways"]["maatschappelijk-werk"],
        "sender": loop["gp"],
        "sender_organisation": loop["practice"],
        "receiving_team": loop["team"],
        "receiver": loop["contact"],
        "assigned_via": "contact",
        "status": Status.REQUESTED,
        "sent_at": now,
        "accept_by": timezone.localdate(),
        "consent": loop["consent"],
    }
    defaults.update(fields)
    referral = Referral.objects.create(**defaults)
    if referral.status not in (Status.DRAFT, Status.CANCELLED, Status.ENTERED_IN_ERROR, Status.REJECTED):
        referral_access_open(referral=referral, at=now)  # the people involved, as a send gives them
    return referral


def twice_at_once(step) -> None:
    """Run `step()` on two database connections at the same moment (a double click, a retried request);
    a refusal of either (ValidationError) is what the caller checks the effect of."""
    import threading

    from django.core.exceptions import ValidationError
    from django.db import connection

    barrier = threading.Barrier(2)

    def run():
        try:
            barrier.wait(5)
            step()
        except ValidationError:
            pass
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(15)
