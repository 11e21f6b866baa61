from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReferralsConfig(AppConfig):
    name = "referrals"
    verbose_name = _("Referrals")

    def ready(self) -> None:
        # Connects the consent-withdrawal receiver in every process (web, worker, management commands).
        from . import services  # noqa: F401
