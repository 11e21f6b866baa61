import factory
from django.conf import settings

from collab_hub.accounts.models import User

PASSWORD = "a-long-test-password-123"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name", locale="nl_NL")
    last_name = factory.Faker("last_name", locale="nl_NL")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.invalid")
    language = settings.LANGUAGE_CODE

    @factory.post_generation
    def password(self, create, extracted, **kwargs):
        self.set_password(extracted or PASSWORD)
        if create:
            self.save(update_fields=["password"])


# --- teams -------------------------------------------------------------------------------------
from datetime import date  # noqa: E402

from teams.models import (  # noqa: E402
    Area,
    Membership,
    NamedContact,
    Organisation,
    PostcodeRange,
    Profile,
    Service,
    Team,
)


class AreaFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Area

    name = factory.Sequence(lambda n: f"Area {n}")
    kind = Area.Kind.MUNICIPALITY


def make_area_tree() -> dict[str, Area]:
    municipality = AreaFactory(name="Maasdal", kind=Area.Kind.MUNICIPALITY)
    district = AreaFactory(name="Oost", kind=Area.Kind.DISTRICT, parent=municipality)
    north = AreaFactory(name="Noord", kind=Area.Kind.NEIGHBOURHOOD, parent=district)
    south = AreaFactory(name="Zuid", kind=Area.Kind.NEIGHBOURHOOD, parent=district)
    PostcodeRange.objects.create(area=north, start=6531, end=6534)
    PostcodeRange.objects.create(area=south, start=6535, end=6535)
    return {"municipality": municipality, "district": district, "north": north, "south": south}


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Organisation {n}")
    kind = Organisation.Kind.SOCIAL_WELFARE_TEAM


class PracticeFactory(OrganisationFactory):
    name = factory.Sequence(lambda n: f"Huisartsenpraktijk {n}")
    kind = Organisation.Kind.GP_PRACTICE
    agb_code = factory.Sequence(lambda n: f"{n:08d}")


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    organisation = factory.SubFactory(OrganisationFactory)
    name = factory.Sequence(lambda n: f"Team {n}")
    kind = Team.Kind.SOCIAL_WELFARE


class ProfessionalFactory(UserFactory):
    """A user with a profile, optionally put in a team with `team=` and `role=`."""

    @factory.post_generation
    def profile(self, create, extracted, **kwargs):
        Profile.objects.create(
            user=self, discipline=kwargs.get("discipline", "social_worker"), phone="06-12345678"
        )

    @factory.post_generation
    def team(self, create, extracted, **kwargs):
        if extracted is not None:
            Membership.objects.create(
                team=extracted, user=self, role=kwargs.get("role", Membership.Role.MEMBER)
            )


def make_named_contact(*, practice, team, contact, deputy=None, life_domain="") -> NamedContact:
    return NamedContact.objects.create(
        practice=practice, team=team, contact=contact, deputy=deputy, life_domain=life_domain
    )


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Service

    organisation = factory.SubFactory(OrganisationFactory, kind=Organisation.Kind.VOLUNTEER_ORGANISATION)
    name = factory.Sequence(lambda n: f"Service {n}")
    description = "Samen koken en eten in de buurt."
    life_domains = factory.LazyFunction(lambda: ["social_network"])
    last_checked_on = factory.LazyFunction(date.today)


# --- patients ----------------------------------------------------------------------------------
from patients.models import CareRelationship, Concern, Consent, Patient, bsn_is_valid  # noqa: E402

# Every BSN a test creates, so the session can check none of them leaked into a log line.
ISSUED_BSNS: set[str] = set()


def valid_bsn(n: int) -> str:
    """A distinct elfproef-valid BSN for every n: eight digits from n, the ninth is the check digit."""
    weights = (9, 8, 7, 6, 5, 4, 3, 2)
    for prefix in (20_000_000, 30_000_000, 40_000_000):
        digits = str(prefix + n)
        check = sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11
        if check < 10:
            bsn = digits + str(check)
            assert bsn_is_valid(bsn)
            ISSUED_BSNS.add(bsn)
            return bsn
    raise AssertionError("no valid BSN for this n")


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Patient

    first_name = factory.Faker("first_name", locale="nl_NL")
    last_name = factory.Faker("last_name", locale="nl_NL")
    date_of_birth = date(1970, 5, 17)
    postcode = "6535 AB"
    practice = factory.SubFactory(PracticeFactory)
    bsn = factory.Sequence(valid_bsn)


class ConcernFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Concern

    patient = factory.SubFactory(PatientFactory)
    domain = "finances"
    description = "Schulden bij de energieleverancier."


def make_gp(practice, **kwargs):
    """A GP who works in `practice` (through the practice's team)."""
    team = practice.teams.first() or TeamFactory(organisation=practice, kind=Team.Kind.PRACTICE)
    return ProfessionalFactory(team=team, profile__discipline="gp", **kwargs)


def give_consent(
    patient, *, team=None, organisation=None, purpose="referral_social", by=None, **kwargs
) -> Consent:
    return Consent.objects.create(
        patient=patient,
        purpose=purpose,
        recipient_team=team,
        recipient_organisation=organisation,
        form=kwargs.pop("form", "verbal"),
        given_on=kwargs.pop("given_on", date(2026, 1, 1)),
        recorded_by=by or UserFactory(),
        **kwargs,
    )


def relate(
    patient, user, kind=CareRelationship.Kind.REFERRAL_RECEIVER, source="referral:1"
) -> CareRelationship:
    return CareRelationship.objects.create(patient=patient, user=user, kind=kind, source=source)
