"""Outcome measurements (ZRM, Positive Health) on the patient page, as far as consent allows."""

from django.utils.translation import gettext as _

from . import measurement_selectors as ms


def panels(request, access) -> list[tuple[str, dict]]:
    charts = ms.outcome_charts(ms.visible_outcomes(patient=access.patient, user=request.user))
    return [
        (
            "evaluations/_patient_outcomes.html",
            {
                "patient": access.patient,
                "charts": charts,
                "chart_data": ms.chart_data(charts, _("first"), _("latest")),
                "instruments": ms.outcome_instruments(),
            },
        )
    ]
