"""Reads of the teams app shared by views, other apps and tasks."""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from django.contrib.auth import get_user_model
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from .models import (
    POSTCODE_RE,
    Absence,
    Area,
    ConsultationHour,
    Membership,
    NamedContact,
    Organisation,
    PostcodeRange,
    Service,
    Team,
)

User = get_user_model()


def discipline_of(user) -> str:
    """The professional's discipline code, or "" for someone without a profile (e.g. an admin)."""
    profile = getattr(user, "profile", None)
    return profile.discipline if profile else ""


def parse_pc4(postcode: str) -> int | None:
    """The 4-digit part of a Dutch postcode ("6535 AB" → 6535), or None when it is not one."""
    match = POSTCODE_RE.match(postcode or "")
    return int(match.group(1)) if match else None


def neighbourhood_for_postcode(postcode: str) -> Area | None:
    """Which neighbourhood a postcode lies in; None for a malformed postcode or one in no area."""
    pc4 = parse_pc4(postcode)
    if pc4 is None:
        return None
    found = (
        PostcodeRange.objects.filter(start__lte=pc4, end__gte=pc4)
        .select_related("area__parent__parent")
        .first()
    )
    return found.area if found else None


def area_with_ancestors(area: Area | None) -> list[Area]:
    chain = []
    while area is not None:
        chain.append(area)
        area = area.parent
    return chain


def absent_user_ids(user_ids: Iterable[int], *, on: date) -> set[int]:
    ids = {i for i in user_ids if i}
    if not ids:
        return set()
    return set(
        Absence.objects.filter(user_id__in=ids, starts_on__lte=on, ends_on__gte=on).values_list(
            "user_id", flat=True
        )
    )


@dataclass
class ContactResolution:
    """Who to contact for a practice in a team today, and why that person."""

    team: Team
    person: object | None
    via: str  # "contact", "deputy", "coordinator" or "none"
    named_contact: NamedContact | None = None
    absent: list = field(default_factory=list)
    next_hour: "Occurrence | None" = None  # filled where a page shows the next consultation hour

    @property
    def is_replacement(self) -> bool:
        return self.via in {"deputy", "coordinator"}


def _coordinators_by_team(team_ids: Iterable[int]) -> dict[int, list]:
    by_team: dict[int, list] = defaultdict(list)
    memberships = (
        Membership.objects.filter(team_id__in=set(team_ids), role=Membership.Role.COORDINATOR)
        .select_related("user__profile")
        .order_by("user__last_name", "user__first_name")
    )
    for membership in memberships:
        by_team[membership.team_id].append(membership.user)
    return by_team


def resolve_named_contacts(named_contacts: list[NamedContact], *, on: date) -> list[ContactResolution]:
    """Resolve absences for many named contacts in a fixed number of queries.

    Order: the contact; when absent, the deputy; when both are absent (or there is no deputy),
    the first team coordinator who is present.
    """
    coordinators = _coordinators_by_team(nc.team_id for nc in named_contacts)
    people = {nc.contact_id for nc in named_contacts} | {nc.deputy_id for nc in named_contacts}
    people |= {u.pk for users in coordinators.values() for u in users}
    absent = absent_user_ids(people, on=on)
    resolutions = []
    for nc in named_contacts:
        away = [u for u in (nc.contact, nc.deputy) if u is not None and u.pk in absent]
        if nc.contact_id not in absent:
            resolutions.append(ContactResolution(nc.team, nc.contact, "contact", nc, away))
        elif nc.deputy_id and nc.deputy_id not in absent:
            resolutions.append(ContactResolution(nc.team, nc.deputy, "deputy", nc, away))
        else:
            present = [u for u in coordinators.get(nc.team_id, []) if u.pk not in absent]
            if present:
                resolutions.append(ContactResolution(nc.team, present[0], "coordinator", nc, away))
            else:
                resolutions.append(ContactResolution(nc.team, None, "none", nc, away))
    return resolutions


def _named_contacts() -> QuerySet[NamedContact]:
    return NamedContact.objects.select_related(
        "team__organisation", "practice", "contact__profile", "deputy__profile"
    )


def current_contact_for(
    *, practice: Organisation, team: Team, life_domain: str = "", on: date | None = None
) -> ContactResolution | None:
    """The person to contact in `team` for `practice` (per life domain when one is set), today or `on`.

    A contact for the given life domain wins over the general contact. None when the practice has
    no contact in that team at all.
    """
    on = on or timezone.localdate()
    candidates = list(
        _named_contacts()
        .filter(practice=practice, team=team)
        .filter(Q(life_domain="") | Q(life_domain=life_domain))
    )
    if not candidates:
        return None
    # The domain-specific contact sorts first (non-empty life_domain).
    candidates.sort(key=lambda nc: nc.life_domain != life_domain or not life_domain)
    return resolve_named_contacts(candidates[:1], on=on)[0]


def practices_of(user) -> QuerySet[Organisation]:
    """The GP practices / health centres the user works in (through a team membership)."""
    return Organisation.objects.filter(
        kind__in=Organisation.PRIMARY_CARE, teams__memberships__user=user
    ).distinct()


def care_practices_of(user) -> QuerySet[Organisation]:
    """The GP practices / health centres whose patient files the user works in: through a membership of
    one of their practice teams. A social worker in a health centre's welfare team is not one of them."""
    return Organisation.objects.filter(
        kind__in=Organisation.PRIMARY_CARE,
        teams__kind=Team.Kind.PRACTICE,
        teams__memberships__user=user,
    ).distinct()


def coordinated_teams(user) -> QuerySet[Team]:
    return Team.objects.filter(memberships__user=user, memberships__role=Membership.Role.COORDINATOR)


@dataclass
class PracticeContacts:
    practice: Organisation
    contacts: list[ContactResolution]


def my_contacts(*, user, on: date | None = None) -> list[PracticeContacts]:
    """For each practice of a GP: per welfare team, who to call today and their next hour at the practice."""
    on = on or timezone.localdate()
    practices = list(practices_of(user).order_by("name"))
    if not practices:
        return []
    named = list(_named_contacts().filter(practice__in=practices, life_domain="").order_by("team__name"))
    resolved = resolve_named_contacts(named, on=on)
    hours = upcoming_hours(location_ids=[p.pk for p in practices], after=on)
    for r in resolved:
        team_people = {
            p.pk for p in (r.named_contact.contact, r.named_contact.deputy, r.person) if p is not None
        }
        r.next_hour = next(
            (
                o
                for o in hours
                if o.hour.location_id == r.named_contact.practice_id and o.hour.person_id in team_people
            ),
            None,
        )
    return [
        PracticeContacts(practice, [r for r in resolved if r.named_contact.practice_id == practice.pk])
        for practice in practices
    ]


@dataclass(frozen=True)
class Occurrence:
    hour: ConsultationHour
    on: date


def upcoming_hours(
    *,
    after: date,
    location_ids: Iterable[int] | None = None,
    person_ids: Iterable[int] | None = None,
    per_hour: int = 3,
) -> list[Occurrence]:
    """The next dates of the consultation hours at these locations or of these people, soonest first."""
    hours = ConsultationHour.objects.filter(Q(ends_on__isnull=True) | Q(ends_on__gte=after)).select_related(
        "person__profile", "location"
    )
    if location_ids is not None:
        hours = hours.filter(location_id__in=list(location_ids))
    if person_ids is not None:
        hours = hours.filter(person_id__in=list(person_ids))
    occurrences = [Occurrence(h, d) for h in hours for d in h.next_dates(after=after, count=per_hour)]
    return sorted(occurrences, key=lambda o: (o.on, o.hour.starts_at))


def practices_without_contact(*, team: Team) -> list[Organisation]:
    """GP practices in the team's areas that have no general named contact in this team: the gaps."""
    area_ids = set(team.areas.values_list("pk", flat=True))
    if not area_ids:
        return []
    # Areas are three levels deep: a practice in a neighbourhood of a served district counts too.
    covered = Area.objects.filter(
        Q(pk__in=area_ids) | Q(parent__in=area_ids) | Q(parent__parent__in=area_ids)
    )
    return list(
        Organisation.objects.filter(kind__in=Organisation.PRIMARY_CARE, area__in=covered)
        .exclude(named_contacts__team=team, named_contacts__life_domain="")
        .order_by("name")
    )


def people_directory() -> QuerySet:
    """Professionals with a profile, ready for the who's who list."""
    return (
        User.objects.filter(is_active=True, profile__isnull=False)
        .select_related("profile")
        .prefetch_related(
            Prefetch(
                "memberships",
                queryset=Membership.objects.select_related("team__organisation").order_by("team__name"),
            )
        )
        .order_by("last_name", "first_name")
    )


def social_map() -> QuerySet[Service]:
    return (
        Service.objects.select_related("organisation", "contact_person")
        .prefetch_related("areas")
        .order_by("name")
    )


def stale_services_for(*, user, today: date | None = None) -> QuerySet[Service]:
    """Entries not checked for 6 months, of the organisations this person keeps the social map for."""
    today = today or timezone.localdate()
    return (
        Service.objects.filter(last_checked_on__lt=today - Service.STALE_AFTER)
        .filter(Q(organisation__contact_person=user) | Q(contact_person=user))
        .select_related("organisation")
        .order_by("last_checked_on")
    )
