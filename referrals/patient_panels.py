"""The referrals and feedback timeline on the patient page."""

from . import selectors


def panels(request, access) -> list[tuple[str, dict]]:
    referrals = list(selectors.referrals_of_patient(patient=access.patient, user=request.user))
    can_refer = bool(selectors.pathways_for_sender(user=request.user))
    return [
        (
            "referrals/_patient_referrals.html",
            {
                "patient": access.patient,
                "referrals": referrals,
                "can_refer": can_refer,
                # The practice sees every concern above; others see a medical one only with the referral
                # that shared it with them (and only while they are involved in it).
                "sees_medical": access.is_full,
            },
        )
    ]
