"""A 24-month demo improvement project over the demo referrals: three cycles, six meetings, action items."""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from referrals.models import Pathway
from teams.models import Area, Team

from .models import (
    ActionItem,
    CoreTeamMember,
    Cycle,
    DoLogEntry,
    ImprovementProject,
    MeetingFinding,
    ReflectionMeeting,
)

User = get_user_model()

CYCLES = [
    # number, objective, change, predictions, decision, lessons
    (
        1,
        "Elke verwijzing binnen 2 werkdagen geaccepteerd",
        "Vast aanspreekpunt per huisartsenpraktijk",
        {"acceptance_rate": 0.85, "median_days_to_acceptance": 4, "reminders_per_referral": 1.0},
        "adapt",
        "Een vast gezicht helpt; vervanging bij afwezigheid moest beter geregeld.",
    ),
    (
        2,
        "Huisarts hoort altijd terug",
        "Standaard terugkoppeling na eerste contact en bij afsluiting",
        {"acceptance_rate": 0.85, "closed_loop_share": 0.8, "median_days_to_first_contact": 10},
        "adopt",
        "Korte gestructureerde terugkoppeling wordt gelezen; lange brieven niet.",
    ),
    (
        3,
        "Gezamenlijk consult voor veelgebruikers",
        "Maandelijks gezamenlijk consult huisarts + wijkteam",
        {"acceptance_rate": 0.9, "median_days_to_acceptance": 2, "reminders_per_referral": 0.6},
        "",
        "",
    ),
]
FINDINGS = [
    ("barrier", "time", "Weinig tijd om elkaar te spreken"),
    ("barrier", "privacy", "Onzekerheid over wat gedeeld mag worden"),
    ("facilitator", "trust_emotion", "Elkaar kennen na het spreekuur in de praktijk"),
    ("barrier", "culture", "Verschillende taal: klacht versus hulpvraag"),
    ("facilitator", "ownership", "Duidelijk wie de regie heeft"),
    ("barrier", "money", "Financiering van de welzijnscoach loopt af"),
]


def seed(command) -> None:
    today = timezone.localdate()
    lead = User.objects.filter(username="projectleider").first()
    if lead is None:
        return
    start = today - timedelta(days=700)  # two years of demo referrals lie behind it
    length = 243  # three cycles of about eight months fill the 24 months
    project, _ = ImprovementProject.objects.update_or_create(
        name="Gezond Oost: samen sneller terugkoppelen",
        defaults={
            "aim": "Patiënten met problemen op meerdere levensgebieden krijgen sneller de juiste hulp, en de "
            "huisarts hoort altijd terug.",
            "aim_health": "Minder stress en meer grip op het leven bij veelgebruikers.",
            "aim_experience": "Patiënt en professionals ervaren één samenhangende aanpak.",
            "aim_cost": "Minder onnodige consulten bij de huisarts.",
            "shared_vision": "Wij verwijzen naar een persoon, niet naar een loket, "
            "en laten elkaar weten hoe het gaat.",
            "area": Area.objects.filter(kind=Area.Kind.DISTRICT).first(),
            "lead": lead,
            "starts_on": start,
            "ends_on": start + timedelta(days=730),
        },
    )
    project.teams.set(Team.objects.filter(kind__in=[Team.Kind.SOCIAL_WELFARE, Team.Kind.WELLBEING]))
    project.pathways.set(Pathway.objects.filter(direction=Pathway.Direction.TO_SOCIAL))
    for username, role in (
        ("huisarts", "gp"),
        ("welzijnscoach", "coach"),
        ("maatschappelijkwerker", "coach"),
        ("projectleider", "project_lead"),
    ):
        user = User.objects.filter(username=username).first()
        if user:
            CoreTeamMember.objects.update_or_create(project=project, user=user, defaults={"role": role})
    for number, objective, change, predictions, decision, lessons in CYCLES:
        cycle_start = start + timedelta(days=(number - 1) * length)
        cycle, _ = Cycle.objects.update_or_create(
            project=project,
            number=number,
            defaults={
                "starts_on": cycle_start,
                "ends_on": cycle_start + timedelta(days=length - 1),
                "phase": "closed" if decision else "do",
                "objective": objective,
                "change_to_test": change,
                "predictions": predictions,
                "decision": decision,
                "lessons": lessons,
                "rationale": lessons,
            },
        )
        DoLogEntry.objects.update_or_create(
            cycle=cycle,
            on=cycle_start + timedelta(days=14),
            defaults={"text": f"Start: {change.lower()}.", "author": lead},
        )
        for offset in (45, 150):
            meeting, _ = ReflectionMeeting.objects.update_or_create(
                project=project,
                cycle=cycle,
                held_on=cycle_start + timedelta(days=offset),
                defaults={
                    "kind": "interprofessional" if offset == 45 else "workplace_visit",
                    "minutes": "Ervaringen gedeeld over de werkwijze.",
                    "lessons": lessons,
                },
            )
            kind, category, text = FINDINGS[(number - 1) * 2 + (offset > 100)]
            MeetingFinding.objects.update_or_create(
                meeting=meeting, text=text, defaults={"kind": kind, "category": category}
            )
        ActionItem.objects.update_or_create(
            project=project,
            cycle=cycle,
            title=f"Evaluatie cyclus {number} voorbereiden",
            defaults={
                "owner": lead,
                "due_on": cycle_start + timedelta(days=length - 4),
                "status": "done" if decision else "open",
            },
        )
    ActionItem.objects.update_or_create(
        project=project,
        title="Afspraken vervanging bij afwezigheid vastleggen",
        defaults={
            "owner": User.objects.get(username="teamleider"),
            "due_on": today - timedelta(days=3),
            "status": "open",
        },
    )
