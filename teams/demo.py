"""Demo district for the teams app: areas, organisations, teams, profiles, contacts, hours, social map.

Idempotent: every row is looked up by a natural key and updated in place.
"""

from datetime import date, time, timedelta

from django.utils import timezone

from collab_hub.accounts.demo import demo_user

from .choices import Discipline
from .choices import LifeDomain as D
from .models import (
    Absence,
    Area,
    ConsultationHour,
    Membership,
    NamedContact,
    Organisation,
    PostcodeRange,
    Profile,
    Service,
    Team,
)

NEIGHBOURHOODS = [
    # name, population, PC4 ranges
    ("Heideveld", 12400, [(6531, 6532)]),
    ("Molenhoek-Noord", 11800, [(6533, 6534)]),
    ("Kanaalzone", 13100, [(6535, 6536)]),
    ("Oude Stad", 12900, [(6537, 6538)]),
]

ORGANISATIONS = {
    # key: (name, kind, neighbourhood, street, postcode, phone, agb)
    "linde": (
        "Huisartsenpraktijk De Linde",
        "gp_practice",
        "Heideveld",
        "Lindelaan 4",
        "6531 AB",
        "024-3500100",
        "01012345",
    ),
    "kanaal": (
        "Huisartsenpraktijk Kanaalzone",
        "gp_practice",
        "Kanaalzone",
        "Havenweg 17",
        "6535 KL",
        "024-3500200",
        "01023456",
    ),
    "swt": (
        "Sociaal Wijkteam Oost",
        "social_welfare_team",
        None,
        "Wijkplein 1",
        "6533 CD",
        "024-3600000",
        "",
    ),
    "welzijn": (
        "Welzijn Maasdal",
        "welfare_organisation",
        None,
        "Brugstraat 12",
        "6537 EF",
        "024-3700000",
        "",
    ),
    "ggz": ("GGZ Maasdal", "mental_health_service", None, "Parkweg 30", "6538 GH", "024-3800000", ""),
    "gemeente": ("Gemeente Maasdal", "municipality", None, "Stadhuisplein 1", "6537 AA", "14 024", ""),
    "koken": (
        "Stichting Samen Koken",
        "volunteer_organisation",
        "Molenhoek-Noord",
        "Kerkpad 3",
        "6534 BB",
        "06-11110000",
        "",
    ),
    "taalhuis": (
        "Taalhuis Maasdal",
        "volunteer_organisation",
        "Oude Stad",
        "Bibliotheekplein 2",
        "6538 AC",
        "024-3900000",
        "",
    ),
    "buurtvrienden": (
        "Buurtvrienden Oost",
        "volunteer_organisation",
        "Kanaalzone",
        "Sluisstraat 8",
        "6536 DD",
        "06-22220000",
        "",
    ),
}

TEAMS = {
    # key: (organisation key, name, kind)
    "linde": ("linde", "Praktijkteam De Linde", "practice"),
    "kanaal": ("kanaal", "Praktijkteam Kanaalzone", "practice"),
    "swt": ("swt", "Sociaal wijkteam Oost", "social_welfare"),
    "coaches": ("welzijn", "Welzijnscoaches Oost", "wellbeing"),
    "ggz": ("ggz", "Basis-GGZ Oost", "mental_health"),
    "gemeente": ("gemeente", "Programma Gezond Oost", "municipality"),
}

# username: (first, last, discipline, phone, languages, working days, introduction, helps with)
PEOPLE = {
    "huisarts": (
        "Hanna",
        "de Vries",
        Discipline.GP,
        "024-3500101",
        "Nederlands, Engels",
        [0, 1, 3, 4],
        "Huisarts in De Linde sinds 2015.",
        "Patiënten met klachten op meerdere levensgebieden.",
    ),
    "poh": (
        "Pieter",
        "Jansen",
        Discipline.POH_GGZ,
        "024-3500102",
        "Nederlands",
        [0, 2, 3],
        "POH-GGZ, vaak de eerste die doorverwijst.",
        "Psychosociale klachten, stress, somberheid.",
    ),
    "huisarts2": (
        "Karim",
        "Haddad",
        Discipline.GP,
        "024-3500201",
        "Nederlands, Arabisch, Frans",
        [0, 1, 2, 4],
        "Huisarts in de Kanaalzone.",
        "Nieuwkomers en gezinnen met veel tegelijk.",
    ),
    "maatschappelijkwerker": (
        "Samira",
        "El Amrani",
        Discipline.SOCIAL_WORKER,
        "06-30000001",
        "Nederlands, Arabisch, Berbers",
        [0, 1, 3],
        "Maatschappelijk werker in het wijkteam, spreekuur in De Linde.",
        "Geldzorgen, relatieproblemen, eenzaamheid, regelzaken met instanties.",
    ),
    "jeroen": (
        "Jeroen",
        "Willems",
        Discipline.SOCIAL_WORKER,
        "06-30000002",
        "Nederlands, Engels",
        [1, 2, 3, 4],
        "Maatschappelijk werker, vaste contactpersoon van de Kanaalzone.",
        "Huisvesting, werk en inkomen.",
    ),
    "schuldhulp": (
        "Eva",
        "de Boer",
        Discipline.DEBT_ADVISER,
        "06-30000003",
        "Nederlands",
        [0, 1, 2],
        "Schuldhulpverlener in het wijkteam.",
        "Schulden, budgetbeheer, bijzondere bijstand.",
    ),
    "teamleider": (
        "Tessa",
        "Visser",
        Discipline.TEAM_COORDINATOR,
        "06-30000004",
        "Nederlands",
        [0, 1, 2, 3],
        "Teamleider van het sociaal wijkteam.",
        "Verdeling van het werk, vervanging bij afwezigheid.",
    ),
    "welzijnscoach": (
        "Wim",
        "Bakker",
        Discipline.WELLBEING_COACH,
        "06-40000001",
        "Nederlands, Duits",
        [1, 2, 3],
        "Welzijnscoach voor Welzijn op Recept.",
        "Eenzaamheid, zingeving, een zinvolle dagbesteding.",
    ),
    "fatma": (
        "Fatma",
        "Yilmaz",
        Discipline.WELLBEING_COACH,
        "06-40000002",
        "Nederlands, Turks",
        [0, 2, 4],
        "Welzijnscoach en coördinator van de coaches.",
        "Vrijwilligerswerk, ontmoeting, bewegen.",
    ),
    "projectleider": (
        "Priya",
        "Ramdin",
        Discipline.PROJECT_LEAD,
        "06-50000001",
        "Nederlands, Engels, Sranantongo",
        [0, 1, 2, 3],
        "Projectleider van het verbeterproject Gezond Oost.",
        "PDCA-cycli, metingen, samenwerkingsafspraken.",
    ),
    "onderzoeker": (
        "Olaf",
        "Smit",
        Discipline.RESEARCHER,
        "06-50000002",
        "Nederlands, Engels",
        [1, 3],
        "Onderzoeker bij de hogeschool.",
        "Evaluatie en actieonderzoek.",
    ),
}

MEMBERSHIPS = [
    ("huisarts", "linde", "member"),
    ("poh", "linde", "member"),
    ("huisarts2", "kanaal", "member"),
    ("maatschappelijkwerker", "swt", "member"),
    ("jeroen", "swt", "member"),
    ("schuldhulp", "swt", "member"),
    ("teamleider", "swt", "coordinator"),
    ("welzijnscoach", "coaches", "member"),
    ("fatma", "coaches", "coordinator"),
    ("projectleider", "gemeente", "member"),
    ("onderzoeker", "gemeente", "member"),
]

# practice, team, life domain, contact, deputy
NAMED_CONTACTS = [
    ("linde", "swt", "", "maatschappelijkwerker", "jeroen"),
    ("linde", "swt", D.FINANCES, "schuldhulp", "maatschappelijkwerker"),
    ("kanaal", "swt", "", "jeroen", "maatschappelijkwerker"),
    ("linde", "coaches", "", "welzijnscoach", "fatma"),
    # Kanaalzone has no well-being coach contact yet: a gap the coaches' coordinator sees.
]

# person, location, weekday, start, end, every n weeks
HOURS = [
    ("maatschappelijkwerker", "linde", 1, time(9, 0), time(11, 0), 1),
    ("jeroen", "kanaal", 3, time(13, 30), time(15, 30), 1),
    ("welzijnscoach", "linde", 2, time(14, 0), time(16, 0), 2),
    ("schuldhulp", "linde", 0, time(10, 0), time(11, 0), 2),
]
HOURS_START = date(2026, 1, 5)

# organisation, name, domains, capacity, cost, days since last check, eligibility, how to refer
SERVICES = [
    (
        "welzijn",
        "Welzijn op Recept",
        [D.SOCIAL_NETWORK, D.DAYTIME_ACTIVITY, D.MENTAL_HEALTH],
        "open",
        "",
        30,
        "Volwassenen met lichte psychosociale klachten zoals eenzaamheid of somberheid.",
        "Verwijzing door huisarts of POH-GGZ via de hub naar de welzijnscoach.",
    ),
    (
        "welzijn",
        "Maatjesproject Samen Sterk",
        [D.SOCIAL_NETWORK],
        "waitlist",
        "",
        60,
        "Inwoners die een vast maatje zoeken.",
        "Aanmelden via de welzijnscoach.",
    ),
    (
        "welzijn",
        "Steunpunt Mantelzorg",
        [D.DOMESTIC_RELATIONS, D.PARTICIPATION],
        "open",
        "",
        90,
        "Mantelzorgers van alle leeftijden.",
        "Mantelzorger kan zelf bellen; verwijzen mag ook.",
    ),
    (
        "welzijn",
        "Wandelgroep Oost in Beweging",
        [D.PHYSICAL_HEALTH, D.SOCIAL_NETWORK],
        "open",
        "",
        20,
        "Iedereen die samen wil bewegen.",
        "Gewoon aansluiten op dinsdag om 10 uur bij het Wijkplein.",
    ),
    (
        "welzijn",
        "Ontmoetingscentrum De Brug",
        [D.DAYTIME_ACTIVITY, D.SOCIAL_NETWORK],
        "open",
        "€ 2 per dagdeel",
        250,
        "Ouderen en inwoners zonder dagbesteding.",
        "Bellen met het ontmoetingscentrum.",
    ),
    (
        "welzijn",
        "Formulierenspreekuur",
        [D.FINANCES, D.PARTICIPATION],
        "open",
        "",
        45,
        "Iedereen die hulp nodig heeft bij formulieren en brieven.",
        "Inloop op woensdagochtend.",
    ),
    (
        "welzijn",
        "Schuldhulpmaatjes",
        [D.FINANCES],
        "waitlist",
        "",
        300,
        "Huishoudens met (dreigende) schulden.",
        "Via de schuldhulpverlener van het wijkteam.",
    ),
    (
        "welzijn",
        "Sociaal raadslieden",
        [D.JUSTICE, D.FINANCES],
        "open",
        "",
        75,
        "Vragen over recht, uitkeringen en toeslagen.",
        "Afspraak via het algemene nummer.",
    ),
    (
        "swt",
        "Maatschappelijk werk",
        [D.DOMESTIC_RELATIONS, D.MENTAL_HEALTH, D.FINANCES],
        "open",
        "",
        15,
        "Inwoners met problemen op meerdere levensgebieden.",
        "Verwijzing via de hub naar de vaste contactpersoon.",
    ),
    (
        "swt",
        "Budgetcoaching",
        [D.FINANCES],
        "open",
        "",
        40,
        "Huishoudens die grip willen op hun geld.",
        "Via de vaste contactpersoon geldzaken.",
    ),
    (
        "swt",
        "Huisvestingsadvies",
        [D.HOUSING],
        "full",
        "",
        210,
        "Inwoners met (dreigende) dakloosheid of woonproblemen.",
        "Via het wijkteam; urgentie via de gemeente.",
    ),
    (
        "swt",
        "Opvoedondersteuning",
        [D.DOMESTIC_RELATIONS],
        "open",
        "",
        100,
        "Ouders met vragen over opvoeden en opgroeien.",
        "Ouders kunnen zelf bellen; verwijzen via de hub.",
    ),
    (
        "gemeente",
        "Bijzondere bijstand",
        [D.FINANCES],
        "open",
        "",
        120,
        "Inwoners met een laag inkomen en onvoorziene kosten.",
        "Aanvraag via de gemeente, hulp via het wijkteam.",
    ),
    (
        "gemeente",
        "Wmo-loket",
        [D.ADL, D.PARTICIPATION],
        "open",
        "",
        35,
        "Inwoners die hulp nodig hebben om zelfstandig te blijven wonen.",
        "Melding via 14 024 of het wijkteam.",
    ),
    (
        "gemeente",
        "Werkfit-traject",
        [D.WORK, D.PARTICIPATION],
        "waitlist",
        "",
        190,
        "Inwoners met een uitkering die naar werk willen.",
        "Via de klantmanager van de gemeente.",
    ),
    (
        "ggz",
        "Groepstraining Mentaal Fit",
        [D.MENTAL_HEALTH],
        "waitlist",
        "Vergoed via de zorgverzekering",
        80,
        "Volwassenen met lichte tot matige psychische klachten.",
        "Verwijzing door de huisarts.",
    ),
    (
        "ggz",
        "Inloopspreekuur verslaving",
        [D.SUBSTANCE_USE],
        "open",
        "",
        55,
        "Mensen die zich zorgen maken over middelengebruik, en hun naasten.",
        "Inloop op donderdagmiddag.",
    ),
    (
        "koken",
        "Buurtmaaltijd",
        [D.SOCIAL_NETWORK, D.DAYTIME_ACTIVITY],
        "open",
        "€ 4 per maaltijd",
        25,
        "Buurtbewoners die graag samen eten.",
        "Aanmelden bij de kok, uiterlijk maandag.",
    ),
    (
        "koken",
        "Kookcursus gezond en goedkoop",
        [D.PHYSICAL_HEALTH, D.FINANCES],
        "full",
        "€ 10 voor 6 lessen",
        230,
        "Inwoners die gezond willen koken met een klein budget.",
        "Aanmelden via de welzijnscoach.",
    ),
    (
        "taalhuis",
        "Taalcafé",
        [D.PARTICIPATION, D.SOCIAL_NETWORK],
        "open",
        "",
        10,
        "Anderstaligen die Nederlands willen oefenen.",
        "Gewoon binnenlopen op vrijdagochtend.",
    ),
    (
        "taalhuis",
        "Digitaal spreekuur",
        [D.PARTICIPATION, D.ADL],
        "open",
        "",
        50,
        "Inwoners die hulp nodig hebben met de computer of DigiD.",
        "Inloop in de bibliotheek.",
    ),
    (
        "taalhuis",
        "Lees- en schrijfhulp",
        [D.PARTICIPATION],
        "open",
        "",
        400,
        "Laaggeletterde inwoners.",
        "Een taalvrijwilliger maakt een afspraak na verwijzing.",
    ),
    (
        "buurtvrienden",
        "Klussendienst",
        [D.HOUSING, D.ADL],
        "open",
        "Alleen materiaalkosten",
        65,
        "Ouderen en mensen met een beperking of laag inkomen.",
        "Bellen met de coördinator.",
    ),
    (
        "buurtvrienden",
        "Boodschappenhulp",
        [D.ADL],
        "waitlist",
        "",
        140,
        "Inwoners die tijdelijk niet zelf boodschappen kunnen doen.",
        "Aanmelden via het wijkteam of zelf.",
    ),
    (
        "buurtvrienden",
        "Vrijwilligersvacaturebank",
        [D.WORK, D.PARTICIPATION, D.DAYTIME_ACTIVITY],
        "open",
        "",
        30,
        "Iedereen die zich wil inzetten in de wijk.",
        "Via de website of de welzijnscoach.",
    ),
]


def seed(command) -> None:
    today = timezone.localdate()
    municipality, _ = Area.objects.update_or_create(
        name="Maasdal", parent=None, defaults={"kind": Area.Kind.MUNICIPALITY, "population": 178000}
    )
    district, _ = Area.objects.update_or_create(
        name="Maasdal-Oost", parent=municipality, defaults={"kind": Area.Kind.DISTRICT, "population": 50200}
    )
    hoods = {}
    for name, population, ranges in NEIGHBOURHOODS:
        hood, _ = Area.objects.update_or_create(
            name=name, parent=district, defaults={"kind": Area.Kind.NEIGHBOURHOOD, "population": population}
        )
        hoods[name] = hood
        for start, end in ranges:
            PostcodeRange.objects.update_or_create(start=start, end=end, defaults={"area": hood})

    orgs = {}
    for key, (name, kind, hood, street, postcode, phone, agb) in ORGANISATIONS.items():
        orgs[key], _ = Organisation.objects.update_or_create(
            name=name,
            defaults={
                "kind": kind,
                "area": hoods[hood] if hood else district,
                "street": street,
                "postcode": postcode,
                "city": "Maasdal",
                "phone": phone,
                "email": f"info@{key}.demo.invalid",
                "agb_code": agb,
            },
        )

    teams = {}
    for key, (org_key, name, kind) in TEAMS.items():
        team, _ = Team.objects.update_or_create(
            organisation=orgs[org_key], name=name, defaults={"kind": kind}
        )
        teams[key] = team
    for key in ("swt", "coaches", "ggz", "gemeente"):
        teams[key].areas.set([district])
    teams["linde"].areas.set([hoods["Heideveld"]])
    teams["kanaal"].areas.set([hoods["Kanaalzone"]])

    users = {}
    for username, (first, last, discipline, phone, languages, days, intro, helps) in PEOPLE.items():
        user = demo_user(username, first, last)
        Profile.objects.update_or_create(
            user=user,
            defaults={
                "discipline": discipline,
                "phone": phone,
                "languages": languages,
                "working_days": days,
                "introduction": intro,
                "helps_with": helps,
            },
        )
        users[username] = user

    for username, team_key, role in MEMBERSHIPS:
        Membership.objects.update_or_create(
            team=teams[team_key], user=users[username], defaults={"role": role}
        )

    for practice, team, domain, contact, deputy in NAMED_CONTACTS:
        NamedContact.objects.update_or_create(
            practice=orgs[practice],
            team=teams[team],
            life_domain=domain,
            defaults={"contact": users[contact], "deputy": users[deputy]},
        )

    for person, location, weekday, start, end, every in HOURS:
        ConsultationHour.objects.update_or_create(
            person=users[person],
            location=orgs[location],
            weekday=weekday,
            defaults={"starts_at": start, "ends_at": end, "every_n_weeks": every, "starts_on": HOURS_START},
        )

    # Jeroen is on leave around today, so the Kanaalzone practice sees his deputy in the demo.
    Absence.objects.update_or_create(
        user=users["jeroen"],
        note="Verlof (demo)",
        defaults={"starts_on": today - timedelta(days=2), "ends_on": today + timedelta(days=12)},
    )

    orgs["welzijn"].contact_person = users["fatma"]
    orgs["welzijn"].save(update_fields=["contact_person"])
    orgs["swt"].contact_person = users["teamleider"]
    orgs["swt"].save(update_fields=["contact_person"])
    for org_key, name, domains, capacity, cost, age, eligibility, how in SERVICES:
        service, _ = Service.objects.update_or_create(
            organisation=orgs[org_key],
            name=name,
            defaults={
                "description": f"{name}: {eligibility}",
                "life_domains": [str(d) for d in domains],
                "capacity": capacity,
                "cost": cost,
                "is_free": not cost,
                "eligibility": eligibility,
                "how_to_refer": how,
                "phone": orgs[org_key].phone,
                "last_checked_on": today - timedelta(days=age),
            },
        )
        service.areas.set([district])
