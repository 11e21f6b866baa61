"""Instruments, anonymous questionnaire rounds, ZRM/Positive Health over time, effects calculator."""

import json
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from collab_hub.notifications.models import Notification
from collab_hub.notifications.tasks import run_sweep
from evaluations.instrument_seed import CODES, install_instruments
from evaluations.instruments import from_fhir, score, summarise, to_fhir
from evaluations.measurement_models import (
    CaseActivity,
    Dimension,
    EffectCase,
    Instrument,
    InstrumentVersion,
    Item,
    OutcomeMeasurement,
    Response,
    RoundInvitation,
    UnitPrice,
)
from evaluations.measurement_selectors import case_totals, outcome_change_per_cycle, visible_outcomes
from evaluations.measurement_services import response_submit, responses_store, round_close, round_open
from evaluations.models import CoreTeamMember, Cycle
from tests.factories import PatientFactory, ProfessionalFactory, give_consent

pytestmark = pytest.mark.django_db


@pytest.fixture
def instruments(db):
    install_instruments()
    return {key: Instrument.objects.get(code=code).current_version() for key, code in CODES.items()}


def small_version():
    instrument = Instrument.objects.create(code="proef", name="Proef", purpose="professionals")
    version = InstrumentVersion.objects.create(instrument=instrument, number=1)
    mean_dim = Dimension.objects.create(version=version, code="samen", name="Samen", min_answered=2)
    sum_dim = Dimension.objects.create(version=version, code="tijd", name="Tijd", scoring="sum")
    for code, dim, mirrored in (
        ("a", mean_dim, False),
        ("b", mean_dim, True),
        ("c", mean_dim, False),
        ("d", sum_dim, False),
    ):
        Item.objects.create(
            version=version, dimension=dim, code=code, text=code.upper(), scale="likert5", reverse=mirrored
        )
    Item.objects.create(version=version, code="opmerking", text="Opmerking", scale="text")
    return version


def test_scoring_reverse_items_minimum_answered_mean_and_sum():
    version = small_version()
    # b is reversed: 1 counts as 5. Mean of (4, 5, 3) = 4; sum dimension: 2.
    assert score(version, {"a": 4, "b": 1, "c": 3, "d": 2}) == {"samen": 4.0, "tijd": 2.0}
    # Only one answered item in "samen" (minimum 2): no score rather than a misleading one.
    assert score(version, {"a": 4, "d": 5}) == {"samen": None, "tijd": 5.0}
    assert score(version, {"opmerking": "goed"}) == {"samen": None, "tijd": None}


def test_versions_keep_old_answers_and_json_round_trip():
    v1 = small_version()
    data = to_fhir(v1)
    assert data["resourceType"] == "Questionnaire" and [g["linkId"] for g in data["item"][:2]] == [
        "samen",
        "tijd",
    ]
    data["item"][0]["item"][1]["extension"][1]["valueBoolean"] = False  # version 2: b no longer reversed
    v2 = from_fhir(data)
    assert (v2.instrument_id, v2.number) == (v1.instrument_id, 2)
    assert v2.items.get(code="b").reverse is False and v1.items.get(code="b").reverse is True
    answers = {"a": 4, "b": 1, "c": 3}
    assert score(v1, answers)["samen"] == 4.0 and score(v2, answers)["samen"] == pytest.approx(
        8 / 3, abs=1e-3
    )
    assert v1.instrument.current_version() == v2
    with pytest.raises(ValidationError):
        from_fhir({"resourceType": "Patient"})


def test_summaries_need_five_responses():
    version = small_version()
    dimensions = list(version.dimensions.all())
    four = [{"samen": 3.0, "tijd": 2.0}] * 4
    assert all(
        row["small"] and row["mean"] is None and row["n"] is None for row in summarise(four, dimensions)
    )
    five = [*four, {"samen": 5.0, "tijd": None}]
    samen, tijd = summarise(five, dimensions)
    assert (samen["n"], samen["mean"], samen["sd"]) == (5, 3.4, 0.8)
    assert tijd["small"]  # only four answered that dimension


@pytest.fixture
def measured_project(project, instruments):
    members = ProfessionalFactory.create_batch(6)
    for user in members:
        CoreTeamMember.objects.create(project=project, user=user, role="coach")
    return project, members


def test_round_invites_everyone_answers_are_anonymous_and_bad_input_refused(
    client, measured_project, instruments
):
    project, members = measured_project
    closes = timezone.localdate() + timedelta(days=14)
    measurement_round = round_open(
        project=project, by=project.lead, moment="baseline", after_cycle=None, closes_on=closes
    )
    invited = set(RoundInvitation.objects.filter(round=measurement_round).values_list("user_id", flat=True))
    assert {u.pk for u in members} <= invited and project.lead_id in invited
    assert Notification.objects.filter(kind="evaluations.questionnaire", recipient=members[0]).count() == 1

    version = instruments["collaboration"]
    answers = {item.code: 4 for item in version.items.all()}
    url = reverse("evaluations:round_answer", args=[measurement_round.pk])
    client.force_login(members[0])
    response = client.post(url, {**{k: str(v) for k, v in answers.items()}, "c1": "9"})
    assert response.status_code == 400 and not Response.objects.exists()  # out of range: nothing saved
    client.post(url, {k: str(v) for k, v in answers.items()})
    # Taken, but not yet stored: answers are stored in shuffled batches of five or more (no link).
    assert RoundInvitation.objects.get(round=measurement_round, user=members[0]).answered
    assert Response.objects.count() == 0
    with pytest.raises(ValidationError, match="al beantwoord"):
        response_submit(measurement_round=measurement_round, by=members[0], raw=answers)
    assert responses_store(measurement_round=measurement_round) == 0  # not while the round is open
    # A response has no link to a person: no field on it points at a user.
    assert not [
        f for f in Response._meta.get_fields() if getattr(f, "related_model", None) is type(members[0])
    ]

    client.force_login(project.lead)
    dashboard = reverse("evaluations:dashboard", args=[project.pk])
    table = client.get(dashboard).content.decode().split('data-testid="rounds"')[1].split("</table>")[0]
    assert "&lt;5 van" in table and "3,33" not in table  # one answer: no numbers, no exact count
    for member in members[1:5]:
        response_submit(measurement_round=measurement_round, by=member, raw=answers)
    assert responses_store(measurement_round=measurement_round) == 0 and not Response.objects.exists()
    table = client.get(dashboard).content.decode().split('data-testid="rounds"')[1].split("</table>")[0]
    assert "3,33" not in table and "na sluiten" in table and "5+ van" in table  # open: no results yet

    client.post(reverse("evaluations:round_close", args=[project.pk, measurement_round.pk]))
    table = client.get(dashboard).content.decode().split('data-testid="rounds"')[1].split("</table>")[0]
    assert "3,33" in table and "n 5" in table  # (4 + 4 + a reversed 4 → 2) / 3 per dimension
    assert set(Response.objects.values_list("received_on", flat=True)) == {timezone.localdate()}
    with pytest.raises(ValidationError, match="gesloten"):
        response_submit(measurement_round=measurement_round, by=members[5], raw=answers)


def test_questionnaire_reminder_after_a_week_once(measured_project):
    project, _members = measured_project
    measurement_round = round_open(
        project=project,
        by=project.lead,
        moment="baseline",
        after_cycle=None,
        closes_on=timezone.localdate() + timedelta(days=30),
    )
    later = timezone.now() + timedelta(days=8)
    created = dict(run_sweep(now=later))
    assert (
        created["questionnaire_reminders"] == RoundInvitation.objects.filter(round=measurement_round).count()
    )
    assert dict(run_sweep(now=later))["questionnaire_reminders"] == 0


def measure(patient, version, on, values, by, organisation_id=None):
    return OutcomeMeasurement.objects.create(
        patient=patient,
        version=version,
        measured_on=on,
        values=values,
        recorded_by=by,
        recorded_by_organisation_id=organisation_id,
    )


def test_outcome_change_per_cycle_on_known_data(loop, project, instruments):
    zrm = instruments["zrm"]
    worker = loop["contact"]
    from referrals.models import Referral
    from tests.evaluations.test_dashboard import bulk_referrals  # noqa: F401 - shared helper

    patients = PatientFactory.create_batch(5, practice=loop["practice"])
    for i, patient in enumerate(patients):
        Referral.objects.create(
            patient=patient,
            pathway=loop["pathways"]["maatschappelijk-werk"],
            sender=loop["gp"],
            sender_organisation=loop["practice"],
            receiving_team=loop["team"],
            receiver=worker,
            assigned_via="contact",
            status="accepted",
            sent_at=timezone.make_aware(timezone.datetime(2026, 2, 1, 10)),
            consent=loop["consent"],
        )
        measure(patient, zrm, date(2026, 2, 10), {"financien": 1, "huisvesting": 2}, worker)
        measure(patient, zrm, date(2026, 5, 10), {"financien": 3 + i % 2, "huisvesting": 2}, worker)
    cycles = list(Cycle.objects.filter(project=project).order_by("number"))
    rows = outcome_change_per_cycle(project=project, cycles=cycles)
    first = next(r for r in rows if r["cycle"] == 1)
    by_domain = {d["domain"]: d for d in first["domains"]}
    assert by_domain["financien"] == {
        "domain": "financien",
        "label": "Financiën",
        "n": 5,
        "change": 2.4,
    }  # (2+3+2+3+2)/5
    assert by_domain["huisvesting"]["change"] == 0
    OutcomeMeasurement.objects.filter(patient=patients[0]).order_by("measured_on").last().delete()
    first = next(r for r in outcome_change_per_cycle(project=project, cycles=cycles) if r["cycle"] == 1)
    assert all(d["n"] is None and d["change"] is None for d in first["domains"])  # 4 patients: hidden
    # Within each cycle, not cumulative: cycle 2 has no measurements, so it repeats nothing of cycle 1.
    second = next(r for r in rows if r["cycle"] == 2) if any(r["cycle"] == 2 for r in rows) else None
    assert second is None or all(d["n"] is None for d in second["domains"])
    for patient in patients[:5]:
        measure(patient, zrm, date(2026, 8, 1), {"financien": 3, "huisvesting": 2}, worker)
        measure(patient, zrm, date(2026, 9, 1), {"financien": 4, "huisvesting": 2}, worker)
    Cycle.objects.filter(project=project, number=2).update(phase="do")
    cycles = list(Cycle.objects.filter(project=project).order_by("number"))
    second = next(r for r in outcome_change_per_cycle(project=project, cycles=cycles) if r["cycle"] == 2)
    assert {d["domain"]: d["change"] for d in second["domains"]}["financien"] == 1.0  # 3 → 4, not 1 → 4


def test_gp_sees_welfare_measurements_only_with_consent(loop, instruments):
    patient, worker, gp = loop["patient"], loop["contact"], loop["gp"]
    measure(
        patient, instruments["zrm"], date(2026, 3, 1), {"financien": 2}, worker, loop["team"].organisation_id
    )
    assert visible_outcomes(patient=patient, user=worker)
    assert visible_outcomes(patient=patient, user=gp) == []
    from patients.models import ConsentPurpose

    give_consent(patient, organisation=loop["practice"], by=gp, purpose=ConsentPurpose.OUTCOME_MEASUREMENT)
    assert len(visible_outcomes(patient=patient, user=gp)) == 1


def test_recording_a_zrm_refuses_bad_input(client, loop, instruments):
    from tests.referrals.conftest import make_referral

    make_referral(loop, status="accepted")  # the contact receives it: access to the patient
    client.force_login(loop["contact"])
    url = reverse("evaluations:outcome_new", args=[loop["patient"].pk, "zrm"])
    future = (timezone.localdate() + timedelta(days=3)).isoformat()
    response = client.post(url, {"measured_on": future, "financien": "2"})
    assert response.status_code == 400 and not OutcomeMeasurement.objects.exists()
    response = client.post(url, {"measured_on": "2026-03-01", "financien": "7"})
    assert response.status_code == 400 and not OutcomeMeasurement.objects.exists()
    response = client.post(url, {"measured_on": "2026-03-01"})  # nothing scored
    assert response.status_code == 400 and not OutcomeMeasurement.objects.exists()
    response = client.post(url, {"measured_on": "2026-03-01", "financien": "2", "justitie": "5"})
    assert response.status_code == 302
    assert OutcomeMeasurement.objects.get().values == {"financien": 2, "justitie": 5}
    client.force_login(loop["outsider"])
    assert client.get(url).status_code == 404


def test_effects_calculator_totals_per_party_on_a_hand_computed_case(project):
    gp_consult = UnitPrice.objects.create(
        name="Consult", unit="consult", price="12.50", party="healthcare", source="x", year=2026
    )
    debt = UnitPrice.objects.create(
        name="Schuldhulp", unit="uur", price="90.00", party="municipality", source="x", year=2026
    )
    eviction = UnitPrice.objects.create(
        name="Uitzetting", unit="keer", price="6500.00", party="municipality", source="x", year=2026
    )
    fine = UnitPrice.objects.create(
        name="Boete", unit="maand", price="60.00", party="person", source="x", year=2026
    )
    case = EffectCase.objects.create(project=project, label="Casus 1")
    for scenario, price, quantity in (
        ("with", gp_consult, 4),
        ("with", debt, 12),
        ("without", gp_consult, 12),
        ("without", eviction, 1),
        ("without", fine, 8),
    ):
        CaseActivity.objects.create(case=case, scenario=scenario, price=price, quantity=quantity)
    totals = case_totals([case])
    parties = {p["party"]: p for p in totals["parties"]}
    assert (parties["healthcare"]["with"], parties["healthcare"]["without"]) == (
        Decimal("50.00"),
        Decimal("150.00"),
    )
    assert parties["municipality"]["difference"] == Decimal("6500.00") - Decimal("1080.00")
    assert parties["person"]["difference"] == Decimal("480.00")
    assert totals["total"] == {
        "with": Decimal("1130.00"),
        "without": Decimal("7130.00"),
        "difference": Decimal("6000.00"),
    }


def test_a_price_without_a_year_is_refused_with_a_message():
    price = UnitPrice(name="Consult", unit="consult", price="12.50", party="healthcare", source="NZa")
    with pytest.raises(ValidationError) as error:
        price.full_clean()
    assert "year" in error.value.message_dict
    assert not UnitPrice.objects.exists()


def test_effects_page_and_csv_sum_over_cases_and_escape_cells(client, project):
    price = UnitPrice.objects.create(
        name="=Consult", unit="consult", price="10.00", party="healthcare", source="x", year=2026
    )
    for label, quantity in (("Casus 1", 2), ("Casus 2", 3)):
        case = EffectCase.objects.create(project=project, label=label)
        CaseActivity.objects.create(case=case, scenario="without", price=price, quantity=quantity)
    client.force_login(project.lead)
    html = client.get(reverse("evaluations:effects", args=[project.pk])).content.decode()
    assert "Alle casussen samen (2 casussen)" in html
    total = html.split('data-testid="effects-total"')[1].split("</table>")[0]
    assert "€ 50,00" in total  # (2 + 3) × € 10 without support
    body = client.get(reverse("evaluations:effects_csv", args=[project.pk])).content.decode()
    assert "'=Consult" in body and body.count("\n") == 3


@pytest.mark.django_db(transaction=True)
def test_responses_cannot_be_joined_to_invitations_by_transaction_or_order(measured_project, instruments):
    """The invitation is marked in its own transaction; the responses of a batch share one other
    transaction and are inserted in random order."""
    from django.db import connection

    project, members = measured_project
    members = [*members, *ProfessionalFactory.create_batch(4)]
    for user in members[6:]:
        CoreTeamMember.objects.create(project=project, user=user, role="coach")
    measurement_round = round_open(
        project=project,
        by=project.lead,
        moment="baseline",
        after_cycle=None,
        closes_on=timezone.localdate() + timedelta(days=14),
    )
    version = instruments["collaboration"]
    items = list(version.items.all())
    # Each of ten answers the first two items with a pair of their own, to follow them.
    marks = [(1 + i % 5, 1 + i // 5) for i in range(10)]
    for member, (first, second) in zip(members, marks, strict=True):
        response_submit(
            measurement_round=measurement_round,
            by=member,
            raw={item.code: (first, second)[j] if j < 2 else 3 for j, item in enumerate(items)},
        )
    # While the round is open, not even Redis keeps the answering order: a set in random score order.
    from evaluations.measurement_services import _pending_key, _redis

    waiting = [json.loads(m) for m in _redis().zrange(_pending_key(measurement_round.pk), 0, -1)]
    assert len(waiting) == 10 and all("nonce" in w for w in waiting)
    waiting_marks = [(w["answers"][items[0].code], w["answers"][items[1].code]) for w in waiting]
    assert sorted(waiting_marks) == sorted(marks) and waiting_marks != marks  # 1 in 3.6 million by luck
    round_close(measurement_round=measurement_round, by=project.lead)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT xmin::text FROM evaluations_response WHERE round_id = %s", [measurement_round.pk]
        )
        response_xmins = {row[0] for row in cursor.fetchall()}
        cursor.execute(
            "SELECT xmin::text FROM evaluations_roundinvitation WHERE round_id = %s AND answered",
            [measurement_round.pk],
        )
        invitation_xmins = {row[0] for row in cursor.fetchall()}
    # Stored at closing, all in one transaction that no invitation shares.
    assert len(response_xmins) == 1 and not response_xmins & invitation_xmins
    assert len(invitation_xmins) == 10
    stored = [
        (r.answers[items[0].code], r.answers[items[1].code])
        for r in Response.objects.filter(round=measurement_round).order_by("pk")
    ]
    assert sorted(stored) == sorted(marks)
    assert stored != marks  # shuffled (the chance of the same order by luck: 1 in 3.6 million or less)
