"""Reads for measurement: open questionnaires, round summaries (never an individual answer), a
patient's outcome history as far as consent allows, and effects-calculator totals."""

from collections import defaultdict
from decimal import Decimal
from statistics import mean

from django.db.models import Count, DecimalField, ExpressionWrapper, F, Q, Sum

from patients.models import ConsentPurpose
from patients.selectors import consent_is_valid
from teams.models import Membership

from .indicators import SMALL_GROUP, project_referrals
from .instruments import summarise
from .measurement_models import (
    SCALE_RANGE,
    CaseActivity,
    Dimension,
    EffectCase,
    Instrument,
    MeasurementRound,
    OutcomeMeasurement,
    RoundInvitation,
    UnitPrice,
)


def open_invitations(*, user):
    return (
        RoundInvitation.objects.filter(user=user, answered=False, round__state=MeasurementRound.State.OPEN)
        .select_related("round__project")
        .order_by("round__closes_on")
    )


def round_summaries(*, project) -> list[dict]:
    """Per round: invited, responded, and per dimension mean/spread/n (only with 5+ responses)."""
    rounds = list(
        MeasurementRound.objects.filter(project=project)
        .annotate(
            invited=Count("invitations", distinct=True),
            responded=Count("invitations", filter=Q(invitations__answered=True), distinct=True),
        )
        .select_related("version")
        .prefetch_related("version__dimensions", "responses")
        .order_by("opens_on", "pk")
    )
    result = []
    for r in rounds:
        dimensions = list(r.version.dimensions.all())
        scores = [response.scores for response in r.responses.all()]
        # Results only once the round is closed and five or more answered: while it is open, the answer
        # that moves n from 5 to 6 would be 6·mean₆ − 5·mean₅, and who just said "done" is known.
        closed = r.state == MeasurementRound.State.CLOSED and len(scores) >= SMALL_GROUP
        rows = summarise(scores if closed else [], dimensions)
        result.append(
            {
                "round": r,
                "rows": rows,
                "dimensions": dimensions,
                "results": closed,
                "answered_shown": r.responded
                if r.state != MeasurementRound.State.OPEN
                else _about(r.responded),
            }
        )
    return result


def _about(n: int) -> str:
    """How many answered an open round, to the five below: '<5', '5+', '10+' …"""
    return "<5" if n < SMALL_GROUP else f"{n - n % SMALL_GROUP}+"


def _viewer_recipients(user) -> tuple[set[int], list]:
    memberships = list(Membership.objects.filter(user=user).select_related("team__organisation"))
    organisations = {m.team.organisation_id for m in memberships}
    recipients = [m.team for m in memberships] + list(
        {m.team.organisation_id: m.team.organisation for m in memberships}.values()
    )
    return organisations, recipients


def visible_outcomes(*, patient, user) -> list[OutcomeMeasurement]:
    """Measurements of the viewer's own organisation, and the others' when the patient consented to
    sharing outcome measurements with the viewer's team or organisation."""
    measurements = list(
        OutcomeMeasurement.objects.filter(patient=patient).select_related(
            "version__instrument", "recorded_by"
        )
    )
    organisations, recipients = _viewer_recipients(user)
    shared = any(
        consent_is_valid(patient=patient, purpose=ConsentPurpose.OUTCOME_MEASUREMENT, recipient=r)
        for r in recipients
    )
    return [
        m
        for m in measurements
        if m.recorded_by_organisation_id in organisations or m.recorded_by_id == user.pk or shared
    ]


def outcome_charts(measurements: list[OutcomeMeasurement]) -> list[dict]:
    """Per instrument: domains, the first and latest measurement (radar chart), and the history."""
    by_instrument = defaultdict(list)
    for m in measurements:
        by_instrument[m.version.instrument].append(m)
    charts = []
    for instrument, items in by_instrument.items():
        items.sort(key=lambda m: (m.measured_on, m.pk))
        version = items[-1].version
        domains = [(d.code, d.name) for d in version.dimensions.all()]
        low, high = SCALE_RANGE[version.items.all()[0].scale]  # one scale for all domains
        charts.append(
            {
                "instrument": instrument,
                "key": instrument.code,
                "domains": domains,
                "labels": [name for _, name in domains],
                "first": [items[0].values.get(code) for code, _ in domains],
                "latest": [items[-1].values.get(code) for code, _ in domains],
                "first_on": items[0].measured_on.isoformat(),
                "latest_on": items[-1].measured_on.isoformat(),
                "min": low,
                "max": high,
                "dates": [m.measured_on for m in items],
                "table": [
                    {"name": name, "values": [m.values.get(code) for m in items]} for code, name in domains
                ],
            }
        )
    return charts


def chart_data(charts: list[dict], first_label: str, latest_label: str) -> list[dict]:
    """What the radar-chart script needs, as plain JSON."""
    keys = ("key", "labels", "first", "latest", "min", "max")
    return [
        {**{k: c[k] for k in keys}, "first_label": first_label, "latest_label": latest_label} for c in charts
    ]


def outcome_change_per_cycle(*, project, cycles) -> list[dict]:
    """Per cycle and instrument: the mean change per domain within the cycle (the last measurement in
    the cycle minus the first in it) over the project's patients measured at least twice in it; domains
    with under 5 patients hidden. Within the cycle, not since the first measurement ever: cumulative
    rows would repeat the earlier cycles' change, and the difference of two nested groups (6 patients
    now, 5 at the previous cycle) would be one patient's change."""
    patients = project_referrals(project, start=project.starts_on, end=project.ends_on).values("patient_id")
    rows = list(
        OutcomeMeasurement.objects.filter(patient_id__in=patients, measured_on__lte=project.ends_on)
        .order_by("patient_id", "measured_on", "pk")
        .values(
            "patient_id", "measured_on", "values", "version__instrument__code", "version__instrument__name"
        )
    )
    instruments = {r["version__instrument__code"]: r["version__instrument__name"] for r in rows}
    # The domains' names (the values are keyed by code; a later version's name wins).
    names = {
        (instrument, code): name
        for instrument, code, name in Dimension.objects.filter(
            version__instrument__code__in=list(instruments)
        )
        .order_by("version__number")
        .values_list("version__instrument__code", "code", "name")
    }
    result = []
    for cycle in cycles:
        if cycle.phase == "plan":  # its end date can still move: a one-day move would single one out
            continue
        for code, name in sorted(instruments.items()):
            series = defaultdict(list)
            for r in rows:
                if (
                    r["version__instrument__code"] == code
                    and cycle.starts_on <= r["measured_on"] <= cycle.ends_on
                ):
                    series[r["patient_id"]].append(r["values"])
            changes = defaultdict(list)
            for values in series.values():
                if len(values) < 2:
                    continue
                for domain, last in values[-1].items():
                    first = values[0].get(domain)
                    if first is not None and last is not None:
                        changes[domain].append(last - first)
            domains = [
                {
                    "domain": domain,
                    "label": names.get((code, domain), domain),
                    "n": len(deltas) if len(deltas) >= SMALL_GROUP else None,
                    "change": round(mean(deltas), 2) if len(deltas) >= SMALL_GROUP else None,
                }
                for domain, deltas in sorted(changes.items())
            ]
            result.append({"cycle": cycle.number, "instrument": name, "domains": domains})
    return result


COST = ExpressionWrapper(
    F("quantity") * F("price__price"), output_field=DecimalField(max_digits=14, decimal_places=2)
)


def case_totals(cases) -> dict:
    """Cost per party and scenario, and the difference (without − with: what support saved), summed
    over `cases` in one aggregate query."""
    sums = (
        CaseActivity.objects.filter(case__in=cases)
        .values("price__party", "scenario")
        .annotate(total=Sum(COST))
        .order_by()
    )
    table = {party: {"with": Decimal(0), "without": Decimal(0)} for party in UnitPrice.Party.values}
    for row in sums:
        table[row["price__party"]][row["scenario"]] += row["total"] or Decimal(0)
    parties = [
        {
            "party": party,
            "label": UnitPrice.Party(party).label,
            "with": table[party]["with"],
            "without": table[party]["without"],
            "difference": table[party]["without"] - table[party]["with"],
        }
        for party in UnitPrice.Party.values
    ]
    total = {k: sum(p[k] for p in parties) for k in ("with", "without", "difference")}
    return {"parties": parties, "total": total}


def effect_cases(*, project):
    return EffectCase.objects.filter(project=project).order_by("label")


def outcome_instruments():
    return [
        i.current_version()
        for i in Instrument.objects.filter(purpose=Instrument.Purpose.PATIENT_OUTCOME).order_by("name")
        if i.current_version()
    ]
