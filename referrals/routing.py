"""The routing guide: from a patient's life domains to a pathway, a receiving team and a named person."""

from dataclasses import dataclass, field

from django.utils import timezone

from patients.models import Concern, Patient
from teams.models import Membership, Organisation, Team
from teams.selectors import (
    absent_user_ids,
    area_with_ancestors,
    current_contact_for,
    discipline_of,
    neighbourhood_for_postcode,
)

from .models import Pathway, Referral, RoutingRule


@dataclass
class Proposal:
    pathway: Pathway | None
    rule: RoutingRule | None = None
    team: Team | None = None
    receiver: object | None = None
    assigned_via: str = ""
    explanation: str = ""
    candidates: list = field(default_factory=list)

    @property
    def found(self) -> bool:
        return self.pathway is not None


def active_domains(patient: Patient) -> list[str]:
    return sorted(
        set(patient.concerns.exclude(status=Concern.Status.RESOLVED).values_list("domain", flat=True))
    )


def matching_rule(*, domains: list[str], high_user: bool) -> RoutingRule | None:
    for rule in RoutingRule.objects.filter(active=True, pathway__active=True).select_related("pathway"):
        if rule.life_domains and not set(rule.life_domains) & set(domains):
            continue
        if len(set(domains)) < rule.min_domains:
            continue
        if rule.high_user == RoutingRule.HighUser.YES and not high_user:
            continue
        if rule.high_user == RoutingRule.HighUser.NO and high_user:
            continue
        return rule
    return None


def receiving_team_for(*, pathway: Pathway, postcode: str, practice: Organisation) -> Team | None:
    """The team of the pathway's kind that serves the patient's neighbourhood (or its district)."""
    if pathway.receiving_team_kind == Team.Kind.PRACTICE:
        return practice.teams.filter(kind=Team.Kind.PRACTICE).first()
    # A patient outside the known postcode ranges is routed by the practice's own area.
    areas = area_with_ancestors(neighbourhood_for_postcode(postcode)) or area_with_ancestors(practice.area)
    teams = Team.objects.filter(kind=pathway.receiving_team_kind, areas__in=areas).distinct().order_by("name")
    return teams.first()


def team_members(team: Team) -> list:
    return [
        m.user
        for m in Membership.objects.filter(team=team, user__is_active=True)
        .select_related("user__profile")
        .order_by("user__last_name", "user__first_name")
    ]


def receiver_for(
    *, pathway: Pathway, team: Team, practice: Organisation, domains: list[str]
) -> tuple[object, str]:
    """The named person in `team` for this practice (deputy or coordinator when absent)."""
    today = timezone.localdate()
    if pathway.receiving_team_kind == Team.Kind.PRACTICE:
        # Social domain → GP: the practice's GPs, the first one present.
        gps = [u for u in team_members(team) if discipline_of(u) == "gp"]
        away = absent_user_ids([u.pk for u in gps], on=today)
        present = [u for u in gps if u.pk not in away]
        return (present[0], Referral.AssignedVia.CONTACT) if present else (None, "")
    # A contact for one life domain (the debt adviser for money) fits a pathway of that domain only; a
    # pathway for several domains goes to the team's contact for the practice, whatever the patient's
    # first domain is.
    domain = (
        pathway.life_domains[0]
        if len(pathway.life_domains) == 1 and pathway.life_domains[0] in domains
        else ""
    )
    resolution = current_contact_for(practice=practice, team=team, life_domain=domain, on=today)
    if resolution is not None and resolution.person is not None:
        return resolution.person, resolution.via
    coordinators = Membership.objects.filter(team=team, role=Membership.Role.COORDINATOR).select_related(
        "user"
    )
    away = absent_user_ids([m.user_id for m in coordinators], on=today)
    present = [m.user for m in coordinators if m.user_id not in away]
    return (present[0], Referral.AssignedVia.COORDINATOR) if present else (None, "")


def propose(
    *,
    patient: Patient | None = None,
    practice: Organisation,
    postcode: str = "",
    domains: list[str] | None = None,
    high_user: bool | None = None,
    pathway: Pathway | None = None,
) -> Proposal:
    """What the routing guide proposes. Given a `pathway` (the sender's choice), only the person is routed."""
    if patient is not None:
        domains = active_domains(patient) if domains is None else domains
        high_user = patient.is_high_user if high_user is None else high_user
        postcode = postcode or patient.postcode
    domains = domains or []
    rule = None
    if pathway is None:
        rule = matching_rule(domains=domains, high_user=bool(high_user))
        if rule is None:
            return Proposal(pathway=None)
        pathway = rule.pathway
    team = receiving_team_for(pathway=pathway, postcode=postcode, practice=practice)
    if team is None:
        return Proposal(pathway=pathway, rule=rule, explanation=rule.explanation if rule else "")
    receiver, via = receiver_for(pathway=pathway, team=team, practice=practice, domains=domains)
    return Proposal(
        pathway=pathway,
        rule=rule,
        team=team,
        receiver=receiver,
        assigned_via=via,
        explanation=rule.explanation if rule else "",
        candidates=team_members(team),
    )
