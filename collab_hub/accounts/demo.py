"""Demo accounts: one per role of the product brief. Profiles come from the teams app's demo."""

from django.conf import settings

from .models import User

# username, first name, last name, role (shown when seeding), is_staff
DEMO_USERS = [
    ("huisarts", "Hanna", "de Vries", "GP (huisarts)", False),
    ("poh", "Pieter", "Jansen", "practice nurse mental health (POH-GGZ)", False),
    ("maatschappelijkwerker", "Samira", "El Amrani", "social worker (maatschappelijk werker)", False),
    ("welzijnscoach", "Wim", "Bakker", "well-being coach (welzijnscoach)", False),
    ("teamleider", "Tessa", "Visser", "team coordinator (teamleider)", False),
    ("projectleider", "Priya", "Ramdin", "project lead (projectleider)", False),
    ("onderzoeker", "Olaf", "Smit", "researcher (onderzoeker)", False),
    ("beheerder", "Bram", "Mulder", "admin (beheerder)", True),
]


def demo_user(username: str, first: str, last: str, *, staff: bool = False) -> User:
    """A demo account with the DEMO_PASSWORD, created once and its password kept in step."""
    user, created = User.objects.get_or_create(
        username=username,
        defaults={
            "first_name": first,
            "last_name": last,
            "email": f"{username}@demo.invalid",
            "is_staff": staff,
            "is_superuser": staff,
        },
    )
    if created or not user.check_password(settings.DEMO_PASSWORD):
        user.set_password(settings.DEMO_PASSWORD)
        user.save(update_fields=["password"])
    return user


def seed(command) -> None:
    for username, first, last, _role, staff in DEMO_USERS:
        demo_user(username, first, last, staff=staff)
