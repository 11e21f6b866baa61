"""A 24-month demo improvement project over the demo referrals: a six-month baseline, three six-month
cycles, six meetings, action items."""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from referrals.models import Pathway
from teams.models import Area, Team

from .indicators import first_of_month
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
BASELINE_MONTHS = 6
CYCLE_MONTHS = 6

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
        {
            "acceptance_rate": 0.85,
            "closed_loop_share": 0.8,
            "acknowledged_share": 0.8,
            "median_days_to_first_contact": 10,
        },
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
    # Two years of demo referrals lie behind it: six months of baseline, then three cycles of six
    # months (the third running now); the project runs a year longer, for a fourth.
    start = first_of_month(today - timedelta(days=700), 1)
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
            "ends_on": start + timedelta(days=1095),
            "baseline_months": BASELINE_MONTHS,
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
        # Cycles run in whole months (evaluations/services.py _check_dates), after the baseline.
        cycle_start = first_of_month(start, BASELINE_MONTHS + (number - 1) * CYCLE_MONTHS)
        cycle_end = first_of_month(cycle_start, CYCLE_MONTHS) - timedelta(days=1)
        cycle, _ = Cycle.objects.update_or_create(
            project=project,
            number=number,
            defaults={
                "starts_on": cycle_start,
                "ends_on": cycle_end,
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
                "due_on": cycle_end - timedelta(days=4),
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
    seed_measurement(project, lead, today)


# --- instruments, questionnaire rounds, outcome measurements, effects calculator -------------------

UNIT_PRICES = [
    # name, unit, price, party
    ("Consult huisarts", "consult", "12.50", "healthcare"),
    ("Visite huisarts", "visite", "25.00", "healthcare"),
    ("Consult POH-GGZ", "consult", "30.00", "healthcare"),
    ("Bezoek spoedeisende hulp", "bezoek", "265.00", "healthcare"),
    ("Gesprek maatschappelijk werk", "uur", "85.00", "municipality"),
    ("Schuldhulpverlening", "uur", "90.00", "municipality"),
    ("Bijzondere bijstand", "maand", "150.00", "municipality"),
    ("Huisuitzetting en opvang", "keer", "6500.00", "municipality"),
    ("Eigen bijdrage en boetes", "maand", "60.00", "person"),
    ("Deelname welzijnsactiviteit", "keer", "5.00", "person"),
]
# (label, summary, [(scenario, price name, quantity, month)])
CASES = [
    (
        "Casus A",
        "Huurachterstand en somberheid; schuldhulp en wandelgroep.",
        [
            ("with", "Consult huisarts", 4, 1),
            ("with", "Gesprek maatschappelijk werk", 10, 2),
            ("with", "Schuldhulpverlening", 12, 3),
            ("without", "Consult huisarts", 12, 1),
            ("without", "Consult POH-GGZ", 6, 4),
            ("without", "Huisuitzetting en opvang", 1, 9),
            ("without", "Eigen bijdrage en boetes", 8, 4),
        ],
    ),
    (
        "Casus B",
        "Eenzaamheid na overlijden partner; Welzijn op Recept.",
        [
            ("with", "Consult huisarts", 3, 1),
            ("with", "Deelname welzijnsactiviteit", 20, 2),
            ("with", "Gesprek maatschappelijk werk", 2, 1),
            ("without", "Consult huisarts", 10, 1),
            ("without", "Consult POH-GGZ", 8, 3),
            ("without", "Visite huisarts", 2, 8),
        ],
    ),
    (
        "Casus C",
        "Veel spreekuurbezoek, geldzorgen; gezamenlijk consult.",
        [
            ("with", "Consult huisarts", 5, 1),
            ("with", "Gesprek maatschappelijk werk", 8, 2),
            ("with", "Bijzondere bijstand", 3, 3),
            ("without", "Consult huisarts", 18, 1),
            ("without", "Bezoek spoedeisende hulp", 2, 6),
            ("without", "Eigen bijdrage en boetes", 6, 3),
        ],
    ),
]
DEMO_OUTCOME_PATIENTS = 12


def seed_measurement(project, lead, today) -> None:
    import random

    from patients.models import Consent, ConsentPurpose
    from referrals.models import Referral

    from .instrument_seed import CODES, install_instruments
    from .instruments import score
    from .measurement_models import (
        CaseActivity,
        EffectCase,
        Instrument,
        MeasurementRound,
        OutcomeMeasurement,
        Response,
        RoundInvitation,
        UnitPrice,
    )
    from .measurement_services import project_professionals

    install_instruments()
    rng = random.Random(20261123)  # noqa: S311 - demo data, not security
    prices = {}
    for name, unit, price, party in UNIT_PRICES:
        prices[name], _ = UnitPrice.objects.update_or_create(
            name=name,
            defaults={
                "unit": unit,
                "price": price,
                "party": party,
                "source": "Voorbeeldprijzen voor de demo (geen officiële tarieven)",
                "year": 2026,
            },
        )
    for label, summary, activities in CASES:
        case, created = EffectCase.objects.update_or_create(
            project=project, label=label, defaults={"summary": summary}
        )
        if created:
            CaseActivity.objects.bulk_create(
                CaseActivity(case=case, scenario=s, price=prices[p], quantity=q, month=m)
                for s, p, q, m in activities
            )

    # Questionnaire rounds: a closed baseline and an open follow-up after cycle 2.
    version = Instrument.objects.get(code=CODES["collaboration"]).current_version()
    people = list(project_professionals(project).order_by("pk"))
    for moment, after, opens, closes, state, lift, answered in (
        (
            "baseline",
            None,
            project.starts_on + timedelta(days=20),
            project.starts_on + timedelta(days=50),
            "closed",
            0,
            8,
        ),
        ("follow_up", 2, today - timedelta(days=10), today + timedelta(days=20), "open", 1, 6),
    ):
        measurement_round, created = MeasurementRound.objects.get_or_create(
            project=project,
            moment=moment,
            after_cycle=after,
            defaults={
                "version": version,
                "opens_on": opens,
                "closes_on": closes,
                "state": state,
                "opened_by": lead,
            },
        )
        if not created:
            continue
        # Everyone is invited; the demo users themselves stay unanswered, so they can try the questionnaire.
        others = [u for u in people if u.username not in {"welzijnscoach", "huisarts"}]
        done = {u.pk for u in others[:answered]}
        RoundInvitation.objects.bulk_create(
            RoundInvitation(round=measurement_round, user=u, answered=u.pk in done) for u in people
        )
        if state == "open":
            from .reminders import invite_round

            invite_round(measurement_round)
        for _ in range(len(done)):
            answers = {}
            for item in version.items.all():
                base = rng.choice([2, 3, 3, 4]) + lift
                answers[item.code] = max(1, min(5, 6 - base if item.reverse else base))
            Response.objects.create(
                round=measurement_round,
                version=version,
                answers=answers,
                scores=score(version, answers),
                received_on=opens,
            )

    # ZRM and Positive Health for patients referred to the social domain, improving over time.
    if OutcomeMeasurement.objects.exists():
        return
    zrm = Instrument.objects.get(code=CODES["zrm"]).current_version()
    health = Instrument.objects.get(code=CODES["positive_health"]).current_version()
    recorder = User.objects.filter(username="maatschappelijkwerker").first()
    if recorder is None:
        return
    organisation_id = recorder.memberships.values_list("team__organisation_id", flat=True).first()
    referrals = (
        Referral.objects.filter(receiver=recorder, accepted_at__isnull=False)
        .select_related("patient", "sender_organisation")
        .order_by("sent_at")
    )
    seen = set()
    for referral in referrals:
        patient = referral.patient
        if patient.pk in seen or len(seen) >= DEMO_OUTCOME_PATIENTS:
            continue
        seen.add(patient.pk)
        start = timezone.localdate(referral.accepted_at)
        measurements = []
        for step in range(3):
            on = start + timedelta(days=60 * step)
            if on > today:
                break
            zrm_values = {
                item.code: max(1, min(5, rng.choice([1, 2, 2, 3]) + step))
                for item in zrm.items.all()
                if rng.random() < 0.8
            }
            health_values = {
                item.code: max(0, min(10, rng.randint(3, 6) + step)) for item in health.items.all()
            }
            measurements += [
                OutcomeMeasurement(
                    patient=patient,
                    version=zrm,
                    measured_on=on,
                    values=zrm_values,
                    recorded_by=recorder,
                    recorded_by_organisation_id=organisation_id,
                ),
                OutcomeMeasurement(
                    patient=patient,
                    version=health,
                    measured_on=on,
                    values=health_values,
                    self_report=True,
                    recorded_by=recorder,
                    recorded_by_organisation_id=organisation_id,
                ),
            ]
        OutcomeMeasurement.objects.bulk_create(measurements)
        Consent.objects.get_or_create(
            patient=patient,
            purpose=ConsentPurpose.OUTCOME_MEASUREMENT,
            recipient_organisation=referral.sender_organisation,
            defaults={
                "form": Consent.Form.VERBAL,
                "given_on": start,
                "recorded_by": recorder,
                "note": "Patiënt vindt het goed dat de huisarts de metingen ziet.",
            },
        )
