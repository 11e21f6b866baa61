import pytest
from django.apps import apps
from django.core.management import CommandError, call_command

from collab_hub.accounts.models import User


def _row_counts() -> dict[str, int]:
    return {model._meta.label: model.objects.count() for model in apps.get_models()}


@pytest.mark.django_db
def test_seed_demo_twice_gives_the_same_row_counts(settings):
    call_command("seed_demo", "--force", stdout=open("/dev/null", "w"))  # noqa: SIM115
    first = _row_counts()
    call_command("seed_demo", "--force", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert _row_counts() == first
    assert User.objects.filter(username="huisarts").exists()
    assert User.objects.get(username="huisarts").check_password(settings.DEMO_PASSWORD)


@pytest.mark.django_db
def test_seed_demo_refuses_without_debug_unless_forced(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="refuses to run with DEBUG off"):
        call_command("seed_demo")
    call_command("seed_demo", "--force", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert User.objects.filter(username="beheerder", is_staff=True).exists()
