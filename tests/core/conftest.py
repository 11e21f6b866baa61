"""Fixtures of the URL-conf sweeps (test_sweeps.py, test_bad_input.py)."""

import pytest

from tests.factories import PracticeFactory, make_gp


@pytest.fixture
def world(demo_data):
    """The demo district, plus an export, and an outsider: a GP of a practice that works with no one."""
    from collab_hub.accounts.models import User
    from collab_hub.notifications.models import Notification
    from evaluations.models import ActionItem, EffectCase, Export, ImprovementProject, MeasurementRound
    from patients.models import Consent, Patient
    from referrals.models import Referral
    from teams.models import Organisation, Service, Team

    project = ImprovementProject.objects.first()
    export = Export.objects.create(
        project=project, requested_by=User.objects.get(username="onderzoeker"), dataset="events", format="csv"
    )
    patient = Patient.objects.filter(referrals__isnull=False).order_by("pk").first()
    round_ = MeasurementRound.objects.filter(project=project).first()
    case = EffectCase.objects.filter(project=project).first()
    consent = Consent.objects.filter(patient=patient).first()
    referrals = list(Referral.objects.order_by("pk").values_list("pk", flat=True)[:3])
    outsider = make_gp(PracticeFactory(name="Praktijk Nergens"))
    ids = {
        ("patients", "pk"): [patient.pk, Patient.objects.order_by("-pk").first().pk],
        ("patients", "consent_pk"): [consent.pk],
        ("referrals", "pk"): referrals,
        ("referrals", "patient_pk"): [patient.pk],
        ("notifications", "pk"): [Notification.objects.order_by("pk").first().pk],
        ("evaluations", "pk"): [project.pk],
        ("evaluations", "number"): [1, 3],
        ("evaluations", "item_id"): [ActionItem.objects.filter(project=project).first().pk],
        ("evaluations", "export_id"): [export.pk],
        ("evaluations", "round_id"): [round_.pk],
        ("evaluations", "case_id"): [case.pk],
        ("evaluations", "patient_pk"): [patient.pk],
        ("evaluations", "code"): ["zrm", "positieve-gezondheid"],
        ("teams", "pk"): [
            User.objects.get(username="maatschappelijkwerker").pk,
            Organisation.objects.first().pk,
            Team.objects.first().pk,
            Service.objects.first().pk,
        ],
    }
    return {"ids": ids, "outsider": outsider, "patient": patient, "project": project}
