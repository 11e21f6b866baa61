"""Export of the social map as Open Referral HSDS 3.0 JSON (fully nested `organization` objects).

Mapping decisions (see the HSDS 3.0 schema files for the field definitions):

* Organisation and Service carry their own stable `hsds_id`. Every nested object without its own
  uuid field gets a deterministic `uuid5(parent_uuid, "<kind>:<stable key>")`, so ids stay the same
  between exports.
* Each organisation has one physical `location` (its street, postcode and city as an `address`,
  country "NL"); every service is offered there (`service_at_locations`).
* Service `status` has the codes active / inactive / defunct / temporarily closed. An open service
  or one with a waiting list is "active"; a full one takes no new clients for now, so it is
  "temporarily closed". Waiting list and full are also explained in the free-text `alert`.
* `last_checked_on` is the HSDS `assured_date` ("the date that the information about the service was
  last checked", YYYY-MM-DD). `last_modified` (a date-time of the last change) is not emitted:
  the social map does not record when an entry changed.
* Life domains become `attributes` linking the service to terms of an embedded taxonomy.
* A consultation hour of a service's contact person becomes a `schedule` of that service at the
  location where the hour is held (a `service_at_location`, added when that is another
  organisation's location, e.g. a social worker's hour in a GP practice). Other consultation hours
  at an organisation become `schedules` of its location. Schedules are weekly RRULEs: freq WEEKLY,
  interval every_n_weeks, byday MO..SU, dtstart the first occurrence, valid_from/valid_to as
  YYYY-MM-DD and opens_at/closes_at as HH:MM with the UTC offset of the project's time zone on the
  export date.
"""

import uuid
from collections import defaultdict
from datetime import date, datetime, time, timedelta

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Prefetch, Q
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from .choices import LifeDomain
from .models import POSTCODE_RE, Area, ConsultationHour, Organisation, Service

COUNTRY = "NL"
RRULE_DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")  # indexed by teams.choices.Weekday
# Namespace of the embedded life-domain taxonomy: its term ids are the same in every export.
LIFE_DOMAIN_TAXONOMY = uuid.uuid5(uuid.NAMESPACE_URL, "urn:collab-hub:hsds:taxonomy:life-domain")
LIFE_DOMAIN_TAXONOMY_NAME = "collab-hub life domains"

STATUS_FOR_CAPACITY = {
    Service.Capacity.OPEN: "active",
    Service.Capacity.WAITLIST: "active",
    Service.Capacity.FULL: "temporarily closed",
}
ALERT_FOR_CAPACITY = {
    Service.Capacity.WAITLIST: _("There is a waiting list for this service."),
    Service.Capacity.FULL: _("This service is full and takes no new clients at the moment."),
}


def _id(parent: uuid.UUID | str, kind: str, key: object) -> str:
    return str(uuid.uuid5(uuid.UUID(str(parent)), f"{kind}:{key}"))


def _compact(obj: dict) -> dict:
    """Drop keys whose value is empty (None, "" or []), so no invalid or meaningless values are emitted."""
    return {k: v for k, v in obj.items() if v not in (None, "", [])}


def _utc_offset(on: date) -> str:
    """The UTC offset of the project's time zone on a day, as HSDS times want it ("+01:00" or "Z")."""
    offset = datetime.combine(on, time(12), tzinfo=timezone.get_default_timezone()).utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset else 0
    if minutes == 0:
        return "Z"
    hours, rest = divmod(abs(minutes), 60)
    return f"{'+' if minutes > 0 else '-'}{hours:02d}:{rest:02d}"


def location_id(organisation: Organisation) -> str:
    return _id(organisation.hsds_id, "location", "main")


def service_at_location_id(service: Service, organisation: Organisation) -> str:
    return _id(service.hsds_id, "service_at_location", organisation.hsds_id)


def _phone(parent: uuid.UUID | str, number: str, **links: str) -> list[dict]:
    if not number:
        return []
    return [{"id": _id(parent, "phone", "main"), **links, "number": number, "type": "voice"}]


def _postcode(value: str) -> str:
    """A Dutch postcode in its usual spelling ("6521ab" → "6521 AB"); anything else as entered."""
    match = POSTCODE_RE.match(value)
    if not match:
        return value.strip()
    return " ".join(part.upper() for part in match.groups() if part)


def _address(organisation: Organisation, loc_id: str) -> list[dict]:
    if not (organisation.street or organisation.postcode or organisation.city):
        return []
    return [
        {
            "id": _id(loc_id, "address", "main"),
            "location_id": loc_id,
            "address_1": organisation.street,
            "city": organisation.city,
            # Required by HSDS; Dutch addresses do not carry a province, so it stays empty.
            "state_province": "",
            "postal_code": _postcode(organisation.postcode),
            "country": COUNTRY,
            "address_type": "physical",
        }
    ]


def _location(organisation: Organisation) -> dict:
    loc_id = location_id(organisation)
    return {
        "id": loc_id,
        "location_type": "physical",
        "organization_id": str(organisation.hsds_id),
        "name": organisation.name,
        "addresses": _address(organisation, loc_id),
        "schedules": [],
    }


def _area_description(area: Area) -> str:
    ancestors = []
    parent = area.parent
    while parent is not None:
        ancestors.append(parent.name)
        parent = parent.parent
    kind = str(area.get_kind_display())
    if not ancestors:
        return kind
    return str(_("%(kind)s in %(parent)s") % {"kind": kind, "parent": ", ".join(ancestors)})


def _service_areas(service: Service) -> list[dict]:
    return [
        _compact(
            {
                "id": _id(service.hsds_id, "service_area", area.pk),
                "service_id": str(service.hsds_id),
                "name": area.name,
                "description": _area_description(area),
            }
        )
        for area in service.areas.all()
    ]


def _contacts(service: Service) -> list[dict]:
    person = service.contact_person
    if person is None:
        return []
    contact_id = _id(service.hsds_id, "contact", person.pk)
    try:
        profile = person.profile
    except ObjectDoesNotExist:
        profile = None
    return [
        _compact(
            {
                "id": contact_id,
                "service_id": str(service.hsds_id),
                "name": person.get_full_name(),
                "title": str(profile.get_discipline_display()) if profile else "",
                "email": person.email,
                "phones": _phone(contact_id, profile.phone if profile else "", contact_id=contact_id),
            }
        )
    ]


def _life_domain_attributes(service: Service) -> list[dict]:
    language = (translation.get_language() or "").split("-")[0]
    attributes = []
    for code in service.life_domains:
        if code not in LifeDomain.values:
            continue
        label = str(LifeDomain(code).label)
        term = {
            "id": str(uuid.uuid5(LIFE_DOMAIN_TAXONOMY, code)),
            "code": code,
            "name": label,
            "description": str(_("Life domain: %(name)s") % {"name": label}),
            "taxonomy": LIFE_DOMAIN_TAXONOMY_NAME,
            "language": language,
        }
        attributes.append(
            {
                "id": _id(service.hsds_id, "attribute", f"life_domain:{code}"),
                "link_id": str(service.hsds_id),
                "link_type": "life_domain",
                "link_entity": "service",
                "taxonomy_term_id": term["id"],
                "taxonomy_term": _compact(term),
            }
        )
    return attributes


def _fees_description(service: Service) -> str:
    if service.cost:
        return service.cost
    return str(_("Free of charge")) if service.is_free else ""


def _service(service: Service) -> dict:
    organisation = service.organisation
    assurer = organisation.contact_person
    alert = ALERT_FOR_CAPACITY.get(service.capacity)
    return _compact(
        {
            "id": str(service.hsds_id),
            "organization_id": str(organisation.hsds_id),
            "name": service.name,
            "description": service.description,
            "url": service.url,
            "email": service.email,
            "status": STATUS_FOR_CAPACITY.get(service.capacity, "active"),
            "application_process": service.how_to_refer,
            "fees_description": _fees_description(service),
            "eligibility_description": service.eligibility,
            "assured_date": service.last_checked_on.isoformat(),
            "assurer_email": assurer.email if assurer else "",
            "alert": str(alert) if alert else "",
            "phones": _phone(service.hsds_id, service.phone, service_id=str(service.hsds_id)),
            "contacts": _contacts(service),
            "service_areas": _service_areas(service),
            "attributes": _life_domain_attributes(service),
        }
    )


def _service_at_location(service: Service, organisation: Organisation) -> dict:
    return {
        "id": service_at_location_id(service, organisation),
        "service_id": str(service.hsds_id),
        "location_id": location_id(organisation),
        "schedules": [],
    }


def _schedule(hour: ConsultationHour, parent_id: str, link: dict, offset: str) -> dict:
    day = str(hour.get_weekday_display())
    times = {"opens": f"{hour.starts_at:%H:%M}", "closes": f"{hour.ends_at:%H:%M}"}
    if hour.every_n_weeks == 1:
        rhythm = _("every week on %(day)s, %(opens)s–%(closes)s") % {"day": day, **times}
    else:
        rhythm = _("every %(n)d weeks on %(day)s, %(opens)s–%(closes)s") % {
            "n": hour.every_n_weeks,
            "day": day,
            **times,
        }
    name = hour.person.get_full_name()
    if name:
        description = _("Consultation hour of %(name)s: %(rhythm)s") % {"name": name, "rhythm": rhythm}
    else:
        description = _("Consultation hour: %(rhythm)s") % {"rhythm": rhythm}
    first = hour.starts_on + timedelta(days=(hour.weekday - hour.starts_on.weekday()) % 7)
    return _compact(
        {
            "id": _id(parent_id, "schedule", hour.pk),
            **link,
            "valid_from": hour.starts_on.isoformat(),
            "valid_to": hour.ends_on.isoformat() if hour.ends_on else None,
            "dtstart": first.isoformat(),
            "wkst": "MO",
            "freq": "WEEKLY",
            "interval": hour.every_n_weeks,
            "byday": RRULE_DAYS[hour.weekday],
            "opens_at": f"{hour.starts_at:%H:%M}{offset}",
            "closes_at": f"{hour.ends_at:%H:%M}{offset}",
            "description": str(description),
            "notes": hour.note,
        }
    )


def _organisation(organisation: Organisation) -> dict:
    org_id = str(organisation.hsds_id)
    identifiers = []
    if organisation.agb_code:
        identifiers.append(
            {
                "id": _id(org_id, "organization_identifier", "agb"),
                "organization_id": org_id,
                "identifier_type": str(Organisation._meta.get_field("agb_code").verbose_name),
                "identifier": organisation.agb_code,
            }
        )
    return _compact(
        {
            "id": org_id,
            "name": organisation.name,
            # Required by HSDS: fall back on the kind of organisation when no description was written.
            "description": organisation.description or str(organisation.get_kind_display()),
            "email": organisation.email,
            "website": organisation.website,
            "phones": _phone(org_id, organisation.phone, organization_id=org_id),
            "organization_identifiers": identifiers,
        }
    )


def _queryset(today: date):
    return (
        Organisation.objects.select_related("contact_person")
        .prefetch_related(
            Prefetch(
                "services",
                queryset=Service.objects.select_related("contact_person__profile")
                .prefetch_related(
                    Prefetch("areas", queryset=Area.objects.select_related("parent__parent").order_by("name"))
                )
                .order_by("name", "pk"),
            ),
            Prefetch(
                "consultation_hours",
                queryset=ConsultationHour.objects.filter(Q(ends_on__isnull=True) | Q(ends_on__gte=today))
                .select_related("person")
                .order_by("weekday", "starts_at", "pk"),
            ),
        )
        .order_by("name", "pk")
    )


def social_map_as_hsds(*, today: date | None = None) -> list[dict]:
    """The whole social map as a list of fully nested HSDS 3.0 `organization` objects.

    Consultation hours that ended before `today` are left out; `today` also fixes the UTC offset of
    the schedule times. Runs a fixed number of queries, however many rows there are.
    """
    today = today or timezone.localdate()
    offset = _utc_offset(today)
    organisations = list(_queryset(today))

    # Build with mutable lists and dicts first: consultation hours can add schedules to any location
    # and service-at-location entries to services of other organisations.
    locations: dict[int, dict] = {org.pk: _location(org) for org in organisations}
    services: dict[int, list[dict]] = defaultdict(list)
    # Per service: its service-at-location entries keyed by the pk of the organisation of the location.
    at_locations: dict[int, dict[int, dict]] = {}
    by_person: dict[int, list[Service]] = defaultdict(list)
    for organisation in organisations:
        for service in organisation.services.all():
            services[organisation.pk].append(_service(service))
            at_locations[service.pk] = {organisation.pk: _service_at_location(service, organisation)}
            if service.contact_person_id:
                by_person[service.contact_person_id].append(service)

    for organisation in organisations:
        for hour in organisation.consultation_hours.all():
            delivered = by_person.get(hour.person_id)
            if not delivered:
                loc_id = location_id(organisation)
                locations[organisation.pk]["schedules"].append(
                    _schedule(hour, loc_id, {"location_id": loc_id}, offset)
                )
            for service in delivered or []:
                at = at_locations[service.pk].setdefault(
                    organisation.pk, _service_at_location(service, organisation)
                )
                at["schedules"].append(
                    _schedule(hour, at["id"], {"service_at_location_id": at["id"]}, offset)
                )

    result = []
    for organisation in organisations:
        org = _organisation(organisation)
        entries = services[organisation.pk]
        for service, entry in zip(organisation.services.all(), entries, strict=True):
            # The service's own location comes first, then the others in organisation order.
            entry["service_at_locations"] = [_compact(at) for at in at_locations[service.pk].values()]
        org["locations"] = [_compact(locations[organisation.pk])]
        if entries:
            org["services"] = entries
        result.append(org)
    return result
