"""The reminder rules the hub ships with. Used by a data migration and by `seed_demo`; admins may change
them. Kept free of model imports so the migration can pass its historical model."""

DEFAULT_REMINDER_RULES = [
    ("Niet geaccepteerd na 2 werkdagen: herinner de ontvanger", "not_accepted", 2, "receiver"),
    (
        "Niet geaccepteerd na 4 werkdagen: vervanger en teamleider, verzender op de hoogte",
        "not_accepted",
        4,
        "escalate",
    ),
    (
        "Geen eerste contact 5 werkdagen na acceptatie: herinner de ontvanger",
        "no_first_contact",
        5,
        "receiver",
    ),
    (
        "Voortgangsterugkoppeling verschuldigd (elke 6 weken): vraag de ontvanger",
        "feedback_due",
        0,
        "receiver",
    ),
    ("Afgesloten, na 3 werkdagen niet bevestigd: vraag de verzender", "acknowledge", 3, "sender"),
    ("Gezamenlijk consult over 2 dagen: herinner de deelnemers", "consultation_soon", 2, "participants"),
]


def install_default_reminder_rules(rule_model) -> None:
    for name, trigger, days, audience in DEFAULT_REMINDER_RULES:
        rule_model.objects.get_or_create(
            trigger=trigger, days=days, audience=audience, pathway=None, defaults={"name": name}
        )
