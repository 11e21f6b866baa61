"""The social map as Open Referral HSDS 3.0 JSON, checked against the official schema files."""

import json
import re
import uuid
from datetime import date, time
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from collab_hub.accounts.models import User
from teams.hsds import social_map_as_hsds
from teams.models import Area, ConsultationHour, Organisation, Profile, Service

HSDS_DIR = Path(__file__).resolve().parents[3] / "shared" / "hsds"
TODAY = date(2026, 11, 23)  # a Monday in winter: Europe/Amsterdam is at +01:00
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
TIME_RE = re.compile(r"^\d{2}:\d{2}(:\d{2})?(Z|[+-]\d{2}:\d{2})?$")
DATETIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$")
JSON_TYPES = {"string": str, "number": (int, float), "array": list, "object": dict}


# --- the schema ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def schemas() -> dict[str, dict]:
    if not HSDS_DIR.is_dir():
        pytest.skip(f"The HSDS 3 schema files are not available at {HSDS_DIR}; cannot check the export.")
    found = {path.name: json.loads(path.read_text(encoding="utf-8")) for path in HSDS_DIR.glob("*.json")}
    found["compiled/organization.json"] = json.loads(
        (HSDS_DIR / "compiled" / "organization.json").read_text(encoding="utf-8")
    )
    return found


def assert_valid(obj: dict, schema_name: str, schemas: dict[str, dict], where: str = "") -> None:
    """A targeted check of one object against an HSDS schema file, recursing into nested objects.

    Checks what the export can get wrong: required fields, unknown fields, JSON types, enums, uuid,
    email and uri formats, and the date, date-time and time formats of the datapackage types.
    """
    schema = schemas[schema_name]
    where = where or schema_name
    assert isinstance(obj, dict), f"{where}: not an object"
    for name in schema["required"]:
        assert name in obj, f"{where}: required field {name!r} is missing"
    for name, value in obj.items():
        assert name in schema["properties"], f"{where}: {name!r} is not an HSDS field of {schema_name}"
        spec = schema["properties"][name]
        path = f"{where}.{name}"
        if "$ref" in spec:
            assert_valid(value, spec["$ref"], schemas, path)
            continue
        assert isinstance(value, JSON_TYPES[spec["type"]]), f"{path}: {value!r} is not a {spec['type']}"
        assert not isinstance(value, bool), f"{path}: booleans are not HSDS values"
        if spec["type"] == "array":
            assert value, f"{path}: empty arrays should be left out"
            for index, item in enumerate(value):
                assert_valid(item, spec["items"]["$ref"], schemas, f"{path}[{index}]")
            continue
        if "enum" in spec:
            assert value in spec["enum"], f"{path}: {value!r} is not one of {spec['enum']}"
        fmt = spec.get("format")
        if fmt == "uuid":
            assert str(uuid.UUID(value)) == value, f"{path}: {value!r} is not a uuid string"
        elif fmt == "email":
            assert re.fullmatch(r"[^@\s]+@[^@\s]+", value), f"{path}: {value!r} is not an e-mail address"
        elif fmt == "uri":
            assert re.match(r"^[a-z][a-z0-9+.-]*:", value), f"{path}: {value!r} is not a URI"
        elif fmt == "date-time":
            assert DATETIME_RE.match(value), f"{path}: {value!r} is not an RFC 3339 date-time"
        kind = spec.get("datapackage_type")
        if kind == "date":
            assert DATE_RE.match(value), f"{path}: {value!r} is not YYYY-MM-DD"
            date.fromisoformat(value)
        elif kind == "time":
            assert TIME_RE.match(value), f"{path}: {value!r} is not an HH:MM time"


def assert_valid_organization(org: dict, schemas: dict[str, dict]) -> None:
    """The nested organization of compiled/organization.json: organization.json plus its services."""
    compiled = schemas["compiled/organization.json"]
    assert "services" in compiled["properties"]
    assert set(compiled["required"]) == set(schemas["organization.json"]["required"])
    services = org.get("services", [])
    plain = {k: v for k, v in org.items() if k != "services"}
    assert_valid(plain, "organization.json", schemas, f"organization {org.get('name')!r}")
    for service in services:
        assert_valid(service, "service.json", schemas, f"service {service.get('name')!r}")
        assert service["organization_id"] == org["id"]


def all_ids(value) -> list[str]:
    """The ids of all objects in an export, except taxonomy terms (one term is shared by many services)."""
    if isinstance(value, list):
        return [i for item in value for i in all_ids(item)]
    if isinstance(value, dict):
        own = [value["id"]] if "id" in value else []
        return own + [i for key, item in value.items() if key != "taxonomy_term" for i in all_ids(item)]
    return []


# --- the social map --------------------------------------------------------------------------------------


def make_person(username: str, first: str, last: str, *, discipline: str = "", phone: str = "") -> User:
    user = User.objects.create_user(
        username=username, first_name=first, last_name=last, email=f"{username}@example.org"
    )
    if discipline:
        Profile.objects.create(user=user, discipline=discipline, phone=phone)
    return user


@pytest.fixture
def social_map() -> dict:
    municipality = Area.objects.create(name="Nijmegen", kind=Area.Kind.MUNICIPALITY)
    district = Area.objects.create(name="Oost", kind=Area.Kind.DISTRICT, parent=municipality)
    neighbourhood = Area.objects.create(name="Hengstdal", kind=Area.Kind.NEIGHBOURHOOD, parent=district)
    maintainer = make_person("beheer", "Bea", "Beheer")
    practice = Organisation.objects.create(
        name="Huisartsenpraktijk De Linde",
        kind=Organisation.Kind.GP_PRACTICE,
        agb_code="12345678",
        area=neighbourhood,
        street="Lindelaan 1",
        postcode="6521 ab",
        city="Nijmegen",
        phone="024 123 45 67",
        website="https://delinde.example.org",
    )
    volunteers = Organisation.objects.create(
        name="Vrijwilligerscentrale Oost",
        kind=Organisation.Kind.VOLUNTEER_ORGANISATION,
        description="Vrijwilligers voor inwoners van Oost.",
        area=district,
        street="Dorpsstraat 10",
        postcode="6522cd",
        city="Nijmegen",
        email="info@vrijwilligers.example.org",
        contact_person=maintainer,
    )
    coach = make_person("coach", "Fatma", "Yilmaz", discipline="wellbeing_coach", phone="06 12345678")
    buddies = Service.objects.create(
        organisation=volunteers,
        name="Maatjesproject",
        description="Een vast maatje voor wie eenzaam is.",
        life_domains=["social_network", "participation"],
        eligibility="Volwassenen in Oost.",
        how_to_refer="Via de welzijnscoach.",
        contact_person=coach,
        phone="024 765 43 21",
        url="https://vrijwilligers.example.org/maatjes",
        capacity=Service.Capacity.WAITLIST,
        last_checked_on=date(2026, 10, 1),
    )
    buddies.areas.set([district, neighbourhood])
    shopping = Service.objects.create(
        organisation=volunteers,
        name="Boodschappenhulp",
        description="Vrijwilligers doen boodschappen.",
        life_domains=["adl"],
        is_free=False,
        cost="€ 2 per keer",
        capacity=Service.Capacity.FULL,
        last_checked_on=date(2026, 3, 15),
    )
    shopping.areas.set([municipality])
    # The coach (contact of the buddy project) holds a fortnightly hour in the GP practice ...
    in_practice = ConsultationHour.objects.create(
        person=coach,
        location=practice,
        weekday=1,
        starts_at=time(9, 0),
        ends_at=time(11, 0),
        every_n_weeks=2,
        starts_on=date(2026, 1, 5),
        note="Zonder afspraak",
    )
    # ... and a debt adviser who is no service's contact person holds a weekly one at the centre.
    adviser = make_person("schuld", "Sem", "Schuld", discipline="debt_adviser")
    at_centre = ConsultationHour.objects.create(
        person=adviser,
        location=volunteers,
        weekday=3,
        starts_at=time(13, 30),
        ends_at=time(15, 0),
        starts_on=date(2026, 1, 8),
        ends_on=date(2026, 12, 31),
    )
    return {
        "practice": practice,
        "volunteers": volunteers,
        "buddies": buddies,
        "shopping": shopping,
        "coach": coach,
        "maintainer": maintainer,
        "in_practice": in_practice,
        "at_centre": at_centre,
        "areas": [municipality, district, neighbourhood],
    }


def by_id(items: list[dict]) -> dict[str, dict]:
    return {item["id"]: item for item in items}


# --- tests -----------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_export_follows_the_hsds_schema(schemas, social_map):
    export = social_map_as_hsds(today=TODAY)
    assert [org["name"] for org in export] == ["Huisartsenpraktijk De Linde", "Vrijwilligerscentrale Oost"]
    for org in export:
        assert_valid_organization(org, schemas)
    # The export is plain JSON.
    assert json.loads(json.dumps(export, ensure_ascii=False)) == export


@pytest.mark.django_db
def test_organisations_locations_and_addresses(schemas, social_map):
    practice, volunteers = social_map_as_hsds(today=TODAY)
    assert practice["id"] == str(social_map["practice"].hsds_id)
    # No description written: HSDS requires one, so the kind of organisation stands in.
    assert practice["description"] == str(Organisation.Kind.GP_PRACTICE.label)
    assert "services" not in practice
    assert practice["phones"][0]["number"] == "024 123 45 67"
    assert practice["phones"][0]["organization_id"] == practice["id"]
    [identifier] = practice["organization_identifiers"]
    assert identifier["identifier"] == "12345678"
    assert identifier["organization_id"] == practice["id"]

    [location] = practice["locations"]
    assert location["location_type"] in schemas["location.json"]["properties"]["location_type"]["enum"]
    assert location["location_type"] == "physical"
    assert location["organization_id"] == practice["id"]
    [address] = location["addresses"]
    assert address["location_id"] == location["id"]
    assert address["address_type"] == "physical"
    assert (address["address_1"], address["postal_code"], address["city"], address["country"]) == (
        "Lindelaan 1",
        "6521 AB",
        "Nijmegen",
        "NL",
    )
    for field in schemas["address.json"]["required"]:
        assert field in address
    assert volunteers["description"] == "Vrijwilligers voor inwoners van Oost."
    assert volunteers["email"] == "info@vrijwilligers.example.org"
    assert "organization_identifiers" not in volunteers
    assert volunteers["locations"][0]["addresses"][0]["postal_code"] == "6522 CD"


@pytest.mark.django_db
def test_services_status_dates_contacts_areas_and_life_domains(schemas, social_map):
    _practice, volunteers = social_map_as_hsds(today=TODAY)
    statuses = schemas["service.json"]["properties"]["status"]["enum"]
    services = {service["name"]: service for service in volunteers["services"]}
    buddies, shopping = services["Maatjesproject"], services["Boodschappenhulp"]

    assert buddies["id"] == str(social_map["buddies"].hsds_id)
    assert buddies["organization_id"] == volunteers["id"]
    # A waiting list still takes referrals; a full service is temporarily closed. Both say why.
    assert buddies["status"] == "active"
    assert shopping["status"] == "temporarily closed"
    assert {buddies["status"], shopping["status"]} <= set(statuses)
    assert buddies["alert"] and shopping["alert"]
    # last_checked_on is the assured date, a plain ISO date; no last_modified date-time is made up.
    assert schemas["service.json"]["properties"]["assured_date"]["datapackage_type"] == "date"
    assert buddies["assured_date"] == "2026-10-01"
    assert shopping["assured_date"] == "2026-03-15"
    assert "last_modified" not in buddies
    assert buddies["assurer_email"] == social_map["maintainer"].email
    assert buddies["eligibility_description"] == "Volwassenen in Oost."
    assert buddies["application_process"] == "Via de welzijnscoach."
    assert shopping["fees_description"] == "€ 2 per keer"
    assert "contacts" not in shopping and "phones" not in shopping

    [contact] = buddies["contacts"]
    assert contact["name"] == "Fatma Yilmaz"
    assert contact["email"] == "coach@example.org"
    assert contact["service_id"] == buddies["id"]
    assert contact["phones"][0]["number"] == "06 12345678"
    assert buddies["phones"][0]["number"] == "024 765 43 21"
    assert buddies["phones"][0]["service_id"] == buddies["id"]

    assert [area["name"] for area in buddies["service_areas"]] == ["Hengstdal", "Oost"]
    assert all(area["service_id"] == buddies["id"] for area in buddies["service_areas"])
    assert [area["name"] for area in shopping["service_areas"]] == ["Nijmegen"]

    codes = [attribute["taxonomy_term"]["code"] for attribute in buddies["attributes"]]
    assert codes == ["social_network", "participation"]
    for attribute in buddies["attributes"]:
        assert attribute["link_id"] == buddies["id"]
        assert attribute["link_entity"] == "service"
        assert attribute["taxonomy_term_id"] == attribute["taxonomy_term"]["id"]
        assert_valid(attribute["taxonomy_term"], "taxonomy_term.json", schemas)
    # The same life domain is the same taxonomy term in every service.
    other = Service.objects.create(
        organisation=social_map["practice"],
        name="Sociaal spreekuur",
        description="Inloop.",
        life_domains=["social_network"],
        last_checked_on=TODAY,
    )
    practice = social_map_as_hsds(today=TODAY)[0]
    [service] = [s for s in practice["services"] if s["id"] == str(other.hsds_id)]
    assert service["attributes"][0]["taxonomy_term_id"] == buddies["attributes"][0]["taxonomy_term_id"]


@pytest.mark.django_db
def test_consultation_hours_become_weekly_schedules(schemas, social_map):
    practice, volunteers = social_map_as_hsds(today=TODAY)
    schedule_fields = schemas["schedule.json"]["properties"]
    days = schedule_fields["wkst"]["enum"]
    practice_location = practice["locations"][0]["id"]
    centre_location = volunteers["locations"][0]["id"]
    services = {service["name"]: service for service in volunteers["services"]}

    # Every service is offered at its organisation's location, which comes first.
    shopping = services["Boodschappenhulp"]
    [own] = shopping["service_at_locations"]
    assert own["location_id"] == centre_location
    assert own["service_id"] == shopping["id"]
    assert "schedules" not in own

    # The coach's hour in the GP practice is the buddy project offered there, fortnightly on Tuesday.
    buddies = services["Maatjesproject"]
    own, elsewhere = buddies["service_at_locations"]
    assert own["location_id"] == centre_location
    assert elsewhere["location_id"] == practice_location
    assert elsewhere["service_id"] == buddies["id"]
    [schedule] = elsewhere["schedules"]
    assert schedule["service_at_location_id"] == elsewhere["id"]
    assert schedule["freq"] == "WEEKLY" and schedule["freq"] in schedule_fields["freq"]["enum"]
    assert schedule["interval"] == 2
    assert schedule["byday"] == "TU" and schedule["byday"] in days
    assert schedule["wkst"] in days
    assert schedule["valid_from"] == "2026-01-05"
    assert schedule["dtstart"] == "2026-01-06"  # the first Tuesday from the first date on
    assert "valid_to" not in schedule
    assert (schedule["opens_at"], schedule["closes_at"]) == ("09:00+01:00", "11:00+01:00")
    assert schedule["notes"] == "Zonder afspraak"
    assert schedule["description"]

    # The adviser is no service's contact: the hour is a schedule of the centre's location.
    [schedule] = volunteers["locations"][0]["schedules"]
    assert schedule["location_id"] == centre_location
    assert (schedule["freq"], schedule["interval"], schedule["byday"]) == ("WEEKLY", 1, "TH")
    assert (schedule["valid_from"], schedule["valid_to"]) == ("2026-01-08", "2026-12-31")
    assert (schedule["opens_at"], schedule["closes_at"]) == ("13:30+01:00", "15:00+01:00")

    # In summer the times carry the summer offset.
    summer = social_map_as_hsds(today=date(2026, 7, 1))
    assert summer[1]["locations"][0]["schedules"][0]["opens_at"] == "13:30+02:00"


@pytest.mark.django_db
def test_contact_hour_at_own_organisation_is_on_its_own_service_at_location(social_map):
    hour = ConsultationHour.objects.create(
        person=social_map["coach"],
        location=social_map["volunteers"],
        weekday=4,
        starts_at=time(10, 0),
        ends_at=time(12, 0),
        starts_on=date(2026, 2, 1),
    )
    _practice, volunteers = social_map_as_hsds(today=TODAY)
    services = {service["name"]: service for service in volunteers["services"]}
    own, elsewhere = services["Maatjesproject"]["service_at_locations"]
    assert own["location_id"] == volunteers["locations"][0]["id"]
    [schedule] = own["schedules"]
    assert schedule["service_at_location_id"] == own["id"]
    assert (schedule["byday"], schedule["dtstart"]) == ("FR", "2026-02-06")
    assert schedule["id"] == str(uuid.uuid5(uuid.UUID(own["id"]), f"schedule:{hour.pk}"))
    assert len(elsewhere["schedules"]) == 1


@pytest.mark.django_db
def test_ended_consultation_hours_are_left_out(social_map):
    _practice, volunteers = social_map_as_hsds(today=date(2027, 1, 1))
    assert "schedules" not in volunteers["locations"][0]
    services = {service["name"]: service for service in volunteers["services"]}
    assert len(services["Maatjesproject"]["service_at_locations"]) == 2  # that hour has no last date


@pytest.mark.django_db
def test_ids_are_valid_unique_and_stable(social_map):
    first = social_map_as_hsds(today=TODAY)
    second = social_map_as_hsds(today=TODAY)
    assert first == second
    ids = all_ids(first)
    assert len(ids) > 20
    for value in ids:
        assert str(uuid.UUID(value)) == value
    assert len(ids) == len(set(ids)), "every HSDS object needs its own id"
    # Stable too when other rows change around them.
    Service.objects.filter(pk=social_map["shopping"].pk).update(name="Boodschappenservice")
    assert set(all_ids(social_map_as_hsds(today=TODAY))) == set(ids)


@pytest.mark.django_db
def test_export_hsds_command_writes_valid_json(schemas, social_map, tmp_path):
    out = StringIO()
    call_command("export_hsds", stdout=out)
    written = json.loads(out.getvalue())
    assert [org["id"] for org in written] == [org["id"] for org in social_map_as_hsds()]
    for org in written:
        assert_valid_organization(org, schemas)

    target = tmp_path / "hsds.json"
    call_command("export_hsds", "--output", str(target), stdout=StringIO(), stderr=StringIO())
    text = target.read_text(encoding="utf-8")
    assert "€ 2 per keer" in text  # ensure_ascii=False
    assert text.startswith('[\n  {\n    "id": ')  # indent=2
    assert json.loads(text) == written


def add_services(organisation: Organisation, location: Organisation, areas: list[Area], n: int) -> None:
    for index in range(n):
        person = make_person(
            f"contact{organisation.pk}-{index}-{Service.objects.count()}",
            "Voor",
            "Naam",
            discipline="social_worker" if index % 2 else "",
        )
        service = Service.objects.create(
            organisation=organisation,
            name=f"Dienst {Service.objects.count()}",
            description="Een dienst.",
            life_domains=["finances", "housing"],
            contact_person=person,
            phone="024 000 00 00",
            last_checked_on=TODAY,
        )
        service.areas.set(areas)
        ConsultationHour.objects.create(
            person=person,
            location=location,
            weekday=index % 7,
            starts_at=time(9, 0),
            ends_at=time(10, 0),
            starts_on=date(2026, 1, 5),
        )


@pytest.mark.django_db
def test_query_count_does_not_grow_with_services():
    municipality = Area.objects.create(name="Arnhem", kind=Area.Kind.MUNICIPALITY)
    district = Area.objects.create(name="Centrum", kind=Area.Kind.DISTRICT, parent=municipality)
    practice = Organisation.objects.create(
        name="Praktijk", kind=Organisation.Kind.GP_PRACTICE, agb_code="12345678"
    )
    org = Organisation.objects.create(name="Welzijn", kind=Organisation.Kind.WELFARE_ORGANISATION)
    add_services(org, practice, [municipality, district], 2)
    with CaptureQueriesContext(connection) as few:
        social_map_as_hsds(today=TODAY)

    add_services(org, org, [district], 4)
    other = Organisation.objects.create(name="Buurtteam", kind=Organisation.Kind.SOCIAL_WELFARE_TEAM)
    add_services(other, practice, [municipality], 4)
    assert Service.objects.count() == 10
    with CaptureQueriesContext(connection) as many:
        export = social_map_as_hsds(today=TODAY)
    assert sum(len(o.get("services", [])) for o in export) == 10
    assert len(many.captured_queries) == len(few.captured_queries) <= 5
