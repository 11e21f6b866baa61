"""Indicators on a small hand-built data set with known answers."""

from datetime import date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from evaluations.indicators import (
    declined_by_reason,
    indicators,
    indicators_per_period,
    project_referrals,
    sent_per_pathway,
    shown,
)
from evaluations.models import ImprovementProject
from referrals.models import Event, Reminder, ReminderRule, Status
from tests.referrals.conftest import make_referral

pytestmark = pytest.mark.django_db


def at(day: str, hour: int = 9) -> datetime:
    return timezone.make_aware(datetime.fromisoformat(f"{day}T{hour:02d}:00"))


@pytest.fixture
def data(loop):
    project = ImprovementProject.objects.create(
        name="Gezond Oost",
        aim="Sneller en vaker terugkoppeling",
        lead=loop["gp"],
        starts_on=date(2026, 1, 1),
        ends_on=date(2026, 12, 31),
    )
    project.teams.set([loop["team"]])
    social = loop["pathways"]["maatschappelijk-werk"]
    debt = loop["pathways"]["schuldhulp"]
    # Four referrals in March: accepted after 1, 2, 3 and 10 days (median 2.5); two first contacts.
    for days, pathway in ((1, social), (2, social), (3, debt), (10, social)):
        make_referral(
            loop,
            pathway=pathway,
            sent_at=at("2026-03-02"),
            status=Status.ACCEPTED,
            accepted_at=at("2026-03-02") + timedelta(days=days),
        )
    r = make_referral(
        loop,
        sent_at=at("2026-03-05"),
        status=Status.COMPLETED,
        accepted_at=at("2026-03-06"),
        first_contact_at=at("2026-03-09"),
        completed_at=at("2026-04-20"),
    )
    make_referral(loop, sent_at=at("2026-03-10"), status=Status.REJECTED, decline_reason="no_capacity")
    forwarded = make_referral(
        loop,
        sent_at=at("2026-03-11"),
        status=Status.IN_PROGRESS,
        accepted_at=at("2026-03-12"),
        first_contact_at=at("2026-03-16"),
    )
    Event.objects.create(referral=forwarded, at=at("2026-03-11", 12), kind="forwarded", actor=loop["contact"])
    rule = ReminderRule.objects.first()
    Reminder.objects.create(referral=forwarded, rule=rule, occurrence="a")
    Reminder.objects.create(referral=forwarded, rule=rule, occurrence="b")
    Reminder.objects.create(referral=r, rule=rule, occurrence="a")
    make_referral(loop, sent_at=at("2026-03-12"), status=Status.ENTERED_IN_ERROR)  # never counts
    # One referral sent in the last days of March and accepted in April: it belongs to March.
    make_referral(loop, sent_at=at("2026-03-31", 16), status=Status.ACCEPTED, accepted_at=at("2026-04-01"))
    return project


def test_each_indicator_has_its_known_answer(data):
    result = indicators(project_referrals(data, start=date(2026, 3, 1), end=date(2026, 3, 31)))
    assert result["sent"] == 8
    assert result["accepted"] == 7
    assert result["acceptance_rate"] == round(7 / 8, 4)
    # Working days to acceptance (sent Monday 2 March): 1, 2, 3, 8 (10 calendar days), then 1, 1, 1.
    assert result["median_days_to_acceptance"] == 1
    # Two first contacts: a median of fewer than five is not shown (it would be about two patients).
    assert result["contacted"] == 2 and result["median_days_to_first_contact"] is None
    assert result["closed_loop_share"] == round(1 / 8, 4)
    assert result["acknowledged_share"] is None  # of one closed referral: too few
    assert result["matured"] == 8 and result["maturing"] == 0 and result["still_open"] == 6
    assert result["declined_share"] == round(1 / 8, 4)
    assert result["forwarded_share"] == round(1 / 8, 4)
    assert result["reminders_per_referral"] == round(3 / 8, 2)
    assert result["named_contact_share"] == round(7 / 8, 4)


def test_breakdowns(data):
    qs = project_referrals(data, start=date(2026, 3, 1), end=date(2026, 3, 31))
    assert [(row["pathway__name"], row["n"]) for row in sent_per_pathway(qs)] == [
        ("Maatschappelijk werk (meervoudige problematiek)", 7),
        ("Schuldhulp en geldzaken", 1),
    ]
    assert declined_by_reason(qs) == [{"decline_reason": "no_capacity", "n": 1}]


def test_an_empty_period_gives_no_rates(data):
    result = indicators(project_referrals(data, start=date(2026, 6, 1), end=date(2026, 6, 30)))
    assert result["sent"] == 0
    assert result["acceptance_rate"] is None
    assert result["median_days_to_acceptance"] is None


def test_per_month_in_one_query(data, loop):
    make_referral(loop, sent_at=at("2026-05-04"), status=Status.ACCEPTED, accepted_at=at("2026-05-05"))
    qs = project_referrals(data, start=date(2026, 1, 1), end=date(2026, 12, 31))
    with CaptureQueriesContext(connection) as ctx:
        rows = indicators_per_period(qs, period="month")
    assert len(ctx.captured_queries) == 1
    assert [(row["period"].month, row["sent"]) for row in rows] == [(3, 8), (5, 1)]


def test_small_groups_are_hidden():
    assert shown(3) == "<5"
    assert shown(5) == "5"
    assert shown(0) == "0"
