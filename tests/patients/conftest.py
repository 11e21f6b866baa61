import pytest

from tests.factories import (
    ConcernFactory,
    PatientFactory,
    PracticeFactory,
    ProfessionalFactory,
    TeamFactory,
    give_consent,
    make_gp,
    relate,
)


@pytest.fixture
def trio(db):
    """The owner (GP of the practice), a colleague with a care relationship (social worker), an outsider."""
    practice = PracticeFactory(name="Praktijk De Linde")
    owner = make_gp(practice)
    welfare = TeamFactory(name="Wijkteam Oost")
    colleague = ProfessionalFactory(team=welfare)
    outsider = make_gp(PracticeFactory(name="Praktijk Elders"))
    patient = PatientFactory(practice=practice, first_name="Geertje", last_name="Zonneveld")
    ConcernFactory(patient=patient, domain="finances", description="Huurachterstand van drie maanden")
    ConcernFactory(patient=patient, domain="mental_health", description="Paniekaanvallen sinds de zomer")
    consent = give_consent(patient, team=welfare, by=owner)
    relate(patient, colleague)
    return {
        "practice": practice,
        "owner": owner,
        "colleague": colleague,
        "outsider": outsider,
        "patient": patient,
        "consent": consent,
        "welfare": welfare,
    }
