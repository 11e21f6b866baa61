"""Writes for measurement: rounds of the professionals' questionnaire, anonymous responses, outcome
measurements per patient, and the effects calculator's cases."""

import json
import logging
import random
import secrets
from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from teams.models import Membership

from .instruments import clean_answers, score
from .measurement_models import (
    CaseActivity,
    EffectCase,
    Instrument,
    MeasurementRound,
    OutcomeMeasurement,
    Response,
    RoundInvitation,
)
from .models import ImprovementProject
from .selectors import can_manage, takes_part

logger = logging.getLogger(__name__)


def project_professionals(project: ImprovementProject):
    """Everyone who works in the project: the lead, the core team, and the members of its teams and
    organisations."""
    from django.contrib.auth import get_user_model

    teams = project.teams.values("pk")
    organisations = project.organisations.values("pk")
    members = Membership.objects.filter(Q(team__in=teams) | Q(team__organisation__in=organisations)).values(
        "user"
    )
    return get_user_model().objects.filter(
        Q(pk=project.lead_id) | Q(pk__in=project.core_team.values("user")) | Q(pk__in=members), is_active=True
    )


@transaction.atomic
def round_open(
    *, project: ImprovementProject, by, moment: str, after_cycle: int | None, closes_on: date
) -> MeasurementRound:
    """Open a round and invite every professional of the project (in the app and by e-mail)."""
    if not can_manage(user=by, project=project):
        raise ValidationError(_("Only the project lead can open a measurement round."))
    version = Instrument.objects.get(
        purpose=Instrument.Purpose.PROFESSIONALS, code="samenwerking"
    ).current_version()
    if version is None:
        raise ValidationError(_("There is no published version of the questionnaire."))
    today = timezone.localdate()
    if closes_on < today:
        raise ValidationError(_("A round cannot close before it opens."))
    if MeasurementRound.objects.filter(project=project, state=MeasurementRound.State.OPEN).exists():
        raise ValidationError(_("Close the open round before opening a new one."))
    measurement_round = MeasurementRound.objects.create(
        project=project,
        version=version,
        moment=moment,
        after_cycle=after_cycle,
        opens_on=today,
        closes_on=closes_on,
        opened_by=by,
    )
    RoundInvitation.objects.bulk_create(
        [RoundInvitation(round=measurement_round, user=user) for user in project_professionals(project)]
    )
    from .reminders import invite_round

    invite_round(measurement_round)
    return measurement_round


def round_close(*, measurement_round: MeasurementRound, by) -> None:
    if not can_manage(user=by, project=measurement_round.project):
        raise ValidationError(_("Only the project lead can close a measurement round."))
    updated = MeasurementRound.objects.filter(
        pk=measurement_round.pk, state=MeasurementRound.State.OPEN
    ).update(state=MeasurementRound.State.CLOSED)
    if updated != 1:
        raise ValidationError(_("This round is closed already."))
    try:
        responses_store(measurement_round=measurement_round)
    except Exception:  # Redis or the database away: the sweep stores them; results appear then
        logger.exception("answers of round %s wait for the sweep", measurement_round.pk)


# --- anonymous answers: no link between a response and the invitation it answered -------------------
#
# Marking the invitation "answered" and inserting the response in one transaction would give both rows the
# same transaction id (xmin) and neighbouring ids: anyone with the database (or a backup) could join them.
# So the answers wait in Redis (no person, no day) while the round is open, and are stored when it
# closes: all at once, shuffled, in one transaction, dated the day of closing (docs/privacy-aggregates.md).
# Results are shown only after closing anyway.


def _pending_key(round_id: int) -> str:
    """A sorted set scored at random: Redis keeps (and snapshots) its members in score order, so not even
    a copy of Redis's memory tells the order in which people answered (a list would)."""
    return f"collab_hub:pending-answers:{round_id}"


def _listed_key(round_id: int) -> str:
    """Where answers waited, in answering order, before they went into a sorted set: still read."""
    return f"collab_hub:pending-responses:{round_id}"


def _scored(items) -> dict:
    rng = random.SystemRandom()
    return {item: rng.random() for item in items}


def _redis():
    import redis
    from django.conf import settings

    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)


def response_submit(*, measurement_round: MeasurementRound, by, raw: dict) -> None:
    """Take an anonymous answer: the invitation is marked answered and the answers (without any reference
    to the person) wait until the round closes (`responses_store`). Both in one step: the round's row lock
    makes a closing wait for it, so no answer arrives after the round's answers were stored."""
    today = timezone.localdate()
    with transaction.atomic():
        current = MeasurementRound.objects.select_for_update().get(pk=measurement_round.pk)
        if current.state != MeasurementRound.State.OPEN or today > current.closes_on:
            raise ValidationError(_("This questionnaire round has closed; answers can no longer be given."))
        answers = clean_answers(current.version, raw)
        marked = RoundInvitation.objects.filter(round=current, user=by, answered=False).update(answered=True)
        if marked != 1:
            if RoundInvitation.objects.filter(round=current, user=by).exists():
                raise ValidationError(_("You answered this round already; thank you."))
            raise ValidationError(_("You were not invited to this round."))
        # The nonce keeps two people's identical answers two members of the set.
        pending = json.dumps(
            {"answers": answers, "scores": score(current.version, answers), "nonce": secrets.token_hex(8)},
            cls=DjangoJSONEncoder,
        )
        try:
            _redis().zadd(_pending_key(current.pk), _scored([pending]))
        except Exception as exc:  # nothing is kept (the mark rolls back): the person may answer later
            raise ValidationError(
                _(
                    "Your answers could not be stored just now; nothing was kept. "
                    "Please try again in a few minutes."
                )
            ) from exc


def responses_store(*, measurement_round: MeasurementRound) -> int:
    """Store the answers of a closed round: all that wait, shuffled, in one transaction, dated today."""
    if not MeasurementRound.objects.filter(
        pk=measurement_round.pk, state=MeasurementRound.State.CLOSED
    ).exists():
        return 0
    key, listed = _pending_key(measurement_round.pk), _listed_key(measurement_round.pk)
    client = _redis()
    with client.pipeline(transaction=True) as pipe:
        pipe.zrange(key, 0, -1)
        pipe.lrange(listed, 0, -1)
        pipe.delete(key, listed)
        scored, older, _deleted = pipe.execute()
    items = scored + older
    if not items:
        return 0
    random.SystemRandom().shuffle(items)
    today = timezone.localdate()
    try:
        with transaction.atomic():
            Response.objects.bulk_create(
                [
                    Response(
                        round_id=measurement_round.pk,
                        version_id=measurement_round.version_id,
                        answers=data["answers"],
                        scores=data["scores"],
                        received_on=today,
                    )
                    for data in map(json.loads, items)
                ]
            )
    except Exception:
        client.zadd(key, _scored(items))  # kept for the next sweep
        raise
    return len(items)


def responses_store_all() -> int:
    """The sweep's part: closed rounds (of the last quarter) whose answers still wait (a closing that
    could not store them)."""
    stored = 0
    recent = timezone.localdate() - timedelta(days=90)
    for measurement_round in MeasurementRound.objects.filter(
        state=MeasurementRound.State.CLOSED, closes_on__gte=recent
    ):
        stored += responses_store(measurement_round=measurement_round)
    return stored


@transaction.atomic
def outcome_record(
    *, access, by, version, measured_on: date, raw: dict, self_report: bool = False
) -> OutcomeMeasurement:
    """A ZRM or Positive Health measurement for a patient the recorder may see (access from
    get_patient_for_user). Domains may be left empty; given ones must be on the scale."""
    if measured_on > timezone.localdate():
        raise ValidationError(_("A measurement cannot be in the future."))
    if version.instrument.purpose != Instrument.Purpose.PATIENT_OUTCOME:
        raise ValidationError(_("This instrument is not an outcome measurement."))
    values = clean_answers(version, raw)
    if not values:
        raise ValidationError(_("Score at least one domain."))
    membership = Membership.objects.filter(user=by).select_related("team").first()
    return OutcomeMeasurement.objects.create(
        patient=access.patient,
        version=version,
        measured_on=measured_on,
        values=values,
        self_report=self_report,
        recorded_by=by,
        recorded_by_organisation_id=membership.team.organisation_id if membership else None,
    )


@transaction.atomic
def effect_case_add(*, project, by, label: str, summary: str = "") -> EffectCase:
    if not takes_part(user=by, project=project):
        raise ValidationError(_("Only the project lead and the core team can add cases."))
    try:
        with transaction.atomic():
            return EffectCase.objects.create(project=project, label=label.strip(), summary=summary.strip())
    except IntegrityError:
        raise ValidationError(_("This project has a case with that label already.")) from None


@transaction.atomic
def case_activity_add(*, case: EffectCase, by, scenario: str, price, quantity, month: int) -> CaseActivity:
    project = case.project
    if not takes_part(user=by, project=project):
        raise ValidationError(_("Only the project lead and the core team can change cases."))
    if quantity <= 0:
        raise ValidationError(_("The quantity must be more than zero."))
    return CaseActivity.objects.create(
        case=case, scenario=scenario, price=price, quantity=quantity, month=month
    )
