"""Demo patients: ~40 fictional people over both practices, most of them high users of GP and welfare team.

Deterministic (a fixed random seed) and idempotent (looked up by practice, name and date of birth).
"""

import random
from datetime import date, timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from teams.choices import LifeDomain as D
from teams.models import Organisation, Team

from .models import Concern, Consent, ConsentPurpose, Patient, Perspective, bsn_is_valid

User = get_user_model()

FIRST_NAMES = [
    "Anna",
    "Mohamed",
    "Sanne",
    "Ahmet",
    "Lotte",
    "Yusuf",
    "Eva",
    "Daan",
    "Fatima",
    "Joost",
    "Marieke",
    "Kofi",
    "Ilse",
    "Bilal",
    "Noor",
    "Pieter",
    "Hatice",
    "Ruben",
    "Olena",
    "Thijs",
    "Amira",
    "Kees",
    "Ewa",
    "Sem",
    "Zeynep",
    "Bart",
    "Linda",
    "Tesfaye",
    "Henk",
    "Samira",
    "Wouter",
    "Mirjam",
    "Ali",
    "Gerda",
    "Nadia",
    "Rik",
    "Agnieszka",
    "Frank",
    "Aisha",
    "Jan",
]
LAST_NAMES = [
    "Jansen",
    "el Idrissi",
    "de Jong",
    "Yildiz",
    "Bakker",
    "Demir",
    "Visser",
    "Smit",
    "Benali",
    "Meijer",
    "de Boer",
    "Mensah",
    "Mulder",
    "Hassan",
    "de Groot",
    "Bos",
    "Kaya",
    "Vos",
    "Kovalenko",
    "Peters",
    "Haddou",
    "Hendriks",
    "Nowak",
    "van Dijk",
    "Arslan",
    "Dekker",
    "van Leeuwen",
    "Gebremedhin",
    "Brouwer",
    "Amrani",
    "de Wit",
    "Dijkstra",
    "Rahimi",
    "Vermeulen",
    "Bouzid",
    "van den Berg",
    "Kowalska",
    "Janssen",
    "Osei",
    "van der Linden",
]
CONCERNS = [
    (D.MENTAL_HEALTH, "Somber en slaapt slecht sinds het verlies van werk."),
    (D.FINANCES, "Betalingsachterstanden bij energie en zorgverzekering."),
    (D.SOCIAL_NETWORK, "Weinig contact met anderen, voelt zich eenzaam."),
    (D.HOUSING, "Dreigende huisuitzetting door huurachterstand."),
    (D.WORK, "Langdurig zonder werk, wil graag weer aan de slag."),
    (D.DOMESTIC_RELATIONS, "Spanningen thuis sinds de scheiding."),
    (D.PHYSICAL_HEALTH, "Chronische rugpijn, veel spreekuurbezoek."),
    (D.DAYTIME_ACTIVITY, "Geen dagritme of zinvolle dagbesteding."),
    (D.SUBSTANCE_USE, "Alcoholgebruik neemt toe bij stress."),
    (D.PARTICIPATION, "Moeite met brieven en digitale formulieren."),
]
PERSPECTIVES = list(Perspective.values)
LETTERS = "ABCEGHJKLMNPRTVWXZ"


def bsn_for(index: int) -> str:
    """A fictional but elfproef-valid BSN, the same for the same index every run."""
    base = 100000000 + index * 7919
    while True:
        candidate = str(base)[:9]
        if bsn_is_valid(candidate):
            return candidate
        base += 1


def seed(command) -> None:
    rng = random.Random(20261123)  # noqa: S311 - demo data, not security
    today = timezone.localdate()
    practices = list(Organisation.objects.filter(kind=Organisation.Kind.GP_PRACTICE).order_by("name"))
    if not practices:
        return
    gp = User.objects.get(username="huisarts")
    social_team = Team.objects.filter(kind=Team.Kind.SOCIAL_WELFARE).first()
    coaches = Team.objects.filter(kind=Team.Kind.WELLBEING).first()
    for i, (first, last) in enumerate(zip(FIRST_NAMES, LAST_NAMES, strict=True)):
        practice = practices[i % len(practices)]
        birth = date(1940 + rng.randrange(0, 62), rng.randrange(1, 13), rng.randrange(1, 29))
        hood_pc4 = 6531 + rng.randrange(0, 8)
        high_user = i < 30
        patient, _ = Patient.objects.update_or_create(
            practice=practice,
            first_name=first,
            last_name=last,
            date_of_birth=birth,
            defaults={
                "postcode": f"{hood_pc4} {rng.choice(LETTERS)}{rng.choice(LETTERS)}",
                "phone": f"06-{20000000 + i * 1117}",
                "preferred_language": rng.choice(["nl", "nl", "nl", "ar", "tr", "en", "pl", "uk"]),
                "bsn": bsn_for(i) if i % 3 else "",
                "perspectives": sorted(set(rng.sample(PERSPECTIVES, k=rng.randrange(0, 3)))),
                "is_high_user": high_user,
                "high_user_since": today - timedelta(days=200 + 10 * i) if high_user else None,
                "high_user_reason": "Veel contact met praktijk én wijkteam" if high_user else "",
                "created_by": gp,
            },
        )
        for domain, text in rng.sample(CONCERNS, k=2 + i % 3):
            Concern.objects.update_or_create(
                patient=patient,
                domain=domain,
                defaults={
                    "description": text,
                    "since": today - timedelta(days=30 * (1 + i % 12)),
                    "status": Concern.Status.ACTIVE if i % 4 else Concern.Status.IMPROVING,
                    "recorded_by": gp,
                },
            )
        given = today - timedelta(days=20 + i * 7)
        for purpose, team in (
            (ConsentPurpose.REFERRAL_SOCIAL, social_team),
            (ConsentPurpose.REFERRAL_SOCIAL, coaches),
        ):
            if team is None:
                continue
            Consent.objects.update_or_create(
                patient=patient,
                purpose=purpose,
                recipient_team=team,
                defaults={
                    "form": Consent.Form.VERBAL if i % 2 else Consent.Form.SIGNED,
                    "given_on": given,
                    "valid_until": given + timedelta(days=365),
                    "recorded_by": gp,
                },
            )
        if high_user:
            Consent.objects.update_or_create(
                patient=patient,
                purpose=ConsentPurpose.JOINT_CONSULTATION,
                recipient_organisation=social_team.organisation if social_team else practice,
                defaults={
                    "form": Consent.Form.SIGNED,
                    "given_on": given,
                    "valid_until": given + timedelta(days=365),
                    "recorded_by": gp,
                },
            )
