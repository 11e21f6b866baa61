"""The referrals and feedback timeline on the patient page."""

from . import selectors
from .views import _allowed_pathways


def panels(request, access) -> list[tuple[str, dict]]:
    referrals = list(selectors.referrals_of_patient(patient=access.patient, user=request.user))
    can_refer = bool(_allowed_pathways(request.user))
    return [
        (
            "referrals/_patient_referrals.html",
            {"patient": access.patient, "referrals": referrals, "can_refer": can_refer},
        )
    ]
