"""The instruments the hub ships: the collaboration-quality questionnaire (our own items over the six
dimensions of integrated care), the Self-Sufficiency Matrix (13 domains) and Positive Health (6)."""

from django.db import transaction

from .measurement_models import Scale

COLLABORATION = [
    # dimension code, name, [(item code, text, reverse)]
    (
        "clinical",
        "Klinische integratie: zorg en ondersteuning rond de persoon",
        [
            (
                "c1",
                "We maken samen met de patiënt één plan, ook als meerdere organisaties betrokken zijn.",
                False,
            ),
            ("c2", "Ik weet wat collega's uit het andere domein met mijn patiënten afspreken.", False),
            ("c3", "Patiënten moeten hun verhaal bij elke nieuwe hulpverlener opnieuw vertellen.", True),
        ],
    ),
    (
        "professional",
        "Professionele integratie: samenwerken tussen disciplines",
        [
            ("p1", "Ik ken de professionals in de wijk bij naam en weet wat zij doen.", False),
            ("p2", "Ik kan een collega uit het sociaal domein makkelijk bereiken met een vraag.", False),
            ("p3", "Verschillen in vaktaal maken het lastig om elkaar te begrijpen.", True),
        ],
    ),
    (
        "organisational",
        "Organisatorische integratie: afspraken tussen organisaties",
        [
            ("o1", "Onze organisaties hebben duidelijke afspraken over verwijzen en terugkoppelen.", False),
            ("o2", "Er is tijd ingeroosterd voor overleg met de andere organisaties.", False),
            ("o3", "Bij afwezigheid van een vaste contactpersoon is onduidelijk wie het overneemt.", True),
        ],
    ),
    (
        "system",
        "Systeemintegratie: financiering, regels en beleid",
        [
            ("s1", "De financiering maakt samenwerking tussen zorg en sociaal domein mogelijk.", False),
            ("s2", "Regels over privacy staan goede samenwerking in de weg.", True),
            ("s3", "Gemeente en zorgverzekeraar ondersteunen deze manier van werken.", False),
        ],
    ),
    (
        "functional",
        "Functionele integratie: informatie en ondersteunende processen",
        [
            ("f1", "Ik krijg op tijd terugkoppeling over patiënten die ik heb verwezen.", False),
            ("f2", "De informatie die ik bij een verwijzing krijg is voldoende om te starten.", False),
            ("f3", "Ik moet vaak navragen hoe het met een verwezen patiënt gaat.", True),
        ],
    ),
    (
        "normative",
        "Normatieve integratie: gedeelde visie en vertrouwen",
        [
            ("n1", "We delen een visie op wat goede zorg en ondersteuning in de wijk is.", False),
            ("n2", "Ik vertrouw erop dat collega's uit het andere domein doen wat ze toezeggen.", False),
            ("n3", "Wij en zij: zo voelt de samenwerking vaak nog.", True),
        ],
    ),
]
LIKERT = ["Helemaal oneens", "Oneens", "Neutraal", "Eens", "Helemaal eens"]

ZRM_DOMAINS = [
    ("financien", "Financiën"),
    ("werk", "Werk en opleiding"),
    ("tijdsbesteding", "Tijdsbesteding"),
    ("huisvesting", "Huisvesting"),
    ("huiselijke_relaties", "Huiselijke relaties"),
    ("geestelijke_gezondheid", "Geestelijke gezondheid"),
    ("lichamelijke_gezondheid", "Lichamelijke gezondheid"),
    ("middelengebruik", "Middelengebruik"),
    ("basale_adl", "Basale ADL"),
    ("instrumentele_adl", "Instrumentele ADL"),
    ("sociaal_netwerk", "Sociaal netwerk"),
    ("maatschappelijke_participatie", "Maatschappelijke participatie"),
    ("justitie", "Justitie"),
]
ZRM_LEVELS = [
    "Acute problematiek",
    "Niet zelfredzaam",
    "Beperkt zelfredzaam",
    "Voldoende zelfredzaam",
    "Volledig zelfredzaam",
]
POSITIVE_HEALTH = [
    ("lichaamsfuncties", "Lichaamsfuncties"),
    ("mentaal_welbevinden", "Mentaal welbevinden"),
    ("zingeving", "Zingeving"),
    ("kwaliteit_van_leven", "Kwaliteit van leven"),
    ("meedoen", "Meedoen"),
    ("dagelijks_functioneren", "Dagelijks functioneren"),
]

CODES = {"collaboration": "samenwerking", "zrm": "zrm", "positive_health": "positieve-gezondheid"}


@transaction.atomic
def install_instruments(apps=None) -> None:
    """Create version 1 of each shipped instrument once; later versions are made in admin or by import.
    A data migration passes its historical `apps`; seed_demo and tests use the real models."""
    if apps is None:
        from django.apps import apps
    Instrument = apps.get_model("evaluations", "Instrument")
    InstrumentVersion = apps.get_model("evaluations", "InstrumentVersion")
    Dimension = apps.get_model("evaluations", "Dimension")
    Item = apps.get_model("evaluations", "Item")
    if not Instrument.objects.filter(code=CODES["collaboration"]).exists():
        instrument = Instrument.objects.create(
            code=CODES["collaboration"],
            name="Kwaliteit van samenwerking tussen zorg en sociaal domein",
            purpose="professionals",
            description=(
                "Zes dimensies van geïntegreerde zorg; per uitspraak "
                "helemaal oneens (1) tot helemaal eens (5)."
            ),
        )
        version = InstrumentVersion.objects.create(instrument=instrument, number=1)
        order = 0
        for d_order, (code, name, items) in enumerate(COLLABORATION):
            dimension = Dimension.objects.create(
                version=version, code=code, name=name, order=d_order, min_answered=2
            )
            for item_code, text, reverse in items:
                order += 1
                Item.objects.create(
                    version=version,
                    dimension=dimension,
                    code=item_code,
                    text=text,
                    scale=Scale.LIKERT_5,
                    reverse=reverse,
                    labels=LIKERT,
                    order=order,
                )
    for key, name, description, domains, scale, labels in (
        (
            "zrm",
            "Zelfredzaamheid-Matrix (ZRM)",
            "Per domein: hoe zelfredzaam was de persoon de afgelopen 30 dagen? "
            "1 acute problematiek … 5 volledig zelfredzaam.",
            ZRM_DOMAINS,
            Scale.LEVEL_1_5,
            ZRM_LEVELS,
        ),
        (
            "positive_health",
            "Positieve Gezondheid",
            "Zes dimensies, elk 0–10, ingevuld door of samen met de persoon.",
            POSITIVE_HEALTH,
            Scale.ZERO_TEN,
            [],
        ),
    ):
        if Instrument.objects.filter(code=CODES[key]).exists():
            continue
        instrument = Instrument.objects.create(
            code=CODES[key], name=name, purpose="patient_outcome", description=description
        )
        version = InstrumentVersion.objects.create(instrument=instrument, number=1)
        for order, (code, label) in enumerate(domains):
            dimension = Dimension.objects.create(version=version, code=code, name=label, order=order)
            Item.objects.create(
                version=version,
                dimension=dimension,
                code=code,
                text=label,
                scale=scale,
                labels=labels,
                order=order,
            )
