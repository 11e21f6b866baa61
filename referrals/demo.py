"""Demo pathways with their standard letters, the routing guide, and a year of referrals."""

from teams.choices import Discipline as Di
from teams.choices import LifeDomain as D
from teams.models import Team

from .models import LetterField, Pathway, ReminderRule, RoutingRule
from .reminder_defaults import install_default_reminder_rules

GP_SIDE = [Di.GP, Di.POH_GGZ, Di.PRACTICE_ASSISTANT]
SOCIAL_SIDE = [Di.SOCIAL_WORKER, Di.WELLBEING_COACH, Di.DEBT_ADVISER, Di.TEAM_COORDINATOR]

# code: (name, direction, domains, senders, team kind, consent purpose, joint?, description, letter questions)
# letter question: (key, label, kind, choices, help text, required)
PATHWAYS = {
    "welzijn-op-recept": (
        "Welzijn op Recept",
        "to_social",
        [D.SOCIAL_NETWORK, D.DAYTIME_ACTIVITY, D.MENTAL_HEALTH],
        GP_SIDE,
        Team.Kind.WELLBEING,
        "referral_social",
        False,
        "Mild psychosocial complaints such as loneliness or low mood: a well-being coach finds activities.",
        [
            ("complaint", "Klacht", "text", "", "Wat merkt de patiënt, en sinds wanneer?", True),
            ("wish", "Wat wil de patiënt zelf?", "text", "", "In de woorden van de patiënt.", True),
            ("motivation", "Motivatie", "choice", "Hoog\nGemiddeld\nLaag", "", True),
            (
                "activity",
                "Voorkeur voor soort activiteit",
                "choice",
                "Bewegen\nCreatief\nOntmoeten\nVrijwilligerswerk\nLeren\nWeet nog niet",
                "",
                False,
            ),
        ],
    ),
    "maatschappelijk-werk": (
        "Maatschappelijk werk (meervoudige problematiek)",
        "to_social",
        [D.FINANCES, D.HOUSING, D.DOMESTIC_RELATIONS, D.WORK, D.MENTAL_HEALTH, D.JUSTICE],
        GP_SIDE,
        Team.Kind.SOCIAL_WELFARE,
        "referral_social",
        False,
        "Problems in several life domains at once: the named contact in the social welfare team.",
        [
            ("question", "Hulpvraag", "text", "", "Waar heeft de patiënt hulp bij nodig?", True),
            ("urgent_safety", "Zijn er zorgen over veiligheid?", "yes_no", "", "", True),
            ("already_known", "Al bekend bij andere hulpverlening?", "text", "", "", False),
        ],
    ),
    "schuldhulp": (
        "Schuldhulp en geldzaken",
        "to_social",
        [D.FINANCES],
        GP_SIDE,
        Team.Kind.SOCIAL_WELFARE,
        "referral_social",
        False,
        "Debts, payment arrears, income questions.",
        [
            ("problem", "Wat speelt er met geld?", "text", "", "", True),
            ("eviction", "Dreigt afsluiting of huisuitzetting?", "yes_no", "", "", True),
        ],
    ),
    "wonen": (
        "Wonen en huisvesting",
        "to_social",
        [D.HOUSING],
        GP_SIDE,
        Team.Kind.SOCIAL_WELFARE,
        "referral_social",
        False,
        "Housing problems and (threatening) homelessness.",
        [
            ("situation", "Woonsituatie", "text", "", "", True),
            ("since", "Sinds wanneer", "date", "", "", False),
        ],
    ),
    "gezamenlijk-consult": (
        "Gezamenlijk consult (veelgebruikers)",
        "to_social",
        [],
        GP_SIDE,
        Team.Kind.SOCIAL_WELFARE,
        "joint_consultation",
        True,
        "A joint consultation of GP, social worker and patient for high users of both.",
        [
            ("reason", "Waarom een gezamenlijk consult?", "text", "", "", True),
            ("patient_agrees", "Wil de patiënt meedoen?", "yes_no", "", "", True),
        ],
    ),
    "info-huisarts": (
        "Informatievraag aan de huisarts",
        "to_gp",
        [D.PHYSICAL_HEALTH, D.MENTAL_HEALTH],
        SOCIAL_SIDE,
        Team.Kind.PRACTICE,
        "information_request_gp",
        False,
        "A social worker asks the GP for medical information, with the patient's consent.",
        [
            (
                "question",
                "Vraag aan de huisarts",
                "text",
                "",
                "Welke informatie is nodig, en waarvoor?",
                True,
            ),
            ("deadline", "Graag antwoord voor", "date", "", "", False),
        ],
    ),
}

# order, name, domains, min domains, high user, pathway code, why
RULES = [
    (
        10,
        "Veelgebruiker met meerdere problemen",
        [],
        3,
        "yes",
        "gezamenlijk-consult",
        "Veel contact met praktijk én wijkteam op meerdere levensgebieden: samen met de patiënt aan tafel.",
    ),
    (
        20,
        "Meerdere levensgebieden",
        [],
        2,
        "any",
        "maatschappelijk-werk",
        "Problemen op twee of meer levensgebieden: maatschappelijk werk.",
    ),
    (
        30,
        "Schulden",
        [D.FINANCES],
        1,
        "any",
        "schuldhulp",
        "Geldzorgen gaan naar de vaste contactpersoon geldzaken.",
    ),
    (40, "Wonen", [D.HOUSING], 1, "any", "wonen", "Woonproblemen: het wijkteam."),
    (
        50,
        "Eenzaamheid en lichte psychische klachten",
        [D.SOCIAL_NETWORK, D.MENTAL_HEALTH, D.DAYTIME_ACTIVITY],
        1,
        "any",
        "welzijn-op-recept",
        "Lichte psychosociale klachten: Welzijn op Recept.",
    ),
]


def seed_pathways() -> dict[str, Pathway]:
    pathways = {}
    for order, (code, spec) in enumerate(PATHWAYS.items()):
        name, direction, domains, senders, team_kind, purpose, joint, description, questions = spec
        pathway, _ = Pathway.objects.update_or_create(
            code=code,
            defaults={
                "name": name,
                "direction": direction,
                "life_domains": [str(d) for d in domains],
                "sender_disciplines": [str(s) for s in senders],
                "receiving_team_kind": team_kind,
                "consent_purpose": purpose,
                "is_joint_consultation": joint,
                "description": description,
                "order": order,
            },
        )
        for position, (key, label, kind, choices, help_text, required) in enumerate(questions):
            LetterField.objects.update_or_create(
                pathway=pathway,
                key=key,
                defaults={
                    "order": position,
                    "label": label,
                    "kind": kind,
                    "choices": choices,
                    "help_text": help_text,
                    "required": required,
                },
            )
        pathways[code] = pathway
    for order, name, domains, min_domains, high_user, code, why in RULES:
        RoutingRule.objects.update_or_create(
            name=name,
            defaults={
                "order": order,
                "life_domains": [str(d) for d in domains],
                "min_domains": min_domains,
                "high_user": high_user,
                "pathway": pathways[code],
                "explanation": why,
            },
        )
    return pathways


def seed(command) -> None:
    install_default_reminder_rules(ReminderRule)
    pathways = seed_pathways()
    from .demo_referrals import seed_referrals

    seed_referrals(pathways)
    # The overdue demo referrals get their reminders now, so the bell is not empty on first log-in.
    from django.utils import timezone

    from .reminders import sweep

    sweep(timezone.now())
