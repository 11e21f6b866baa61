"""Two years of demo referrals: every status, a coherent event log, and indicators that improve over time.

Each referral is told as a story through the same steps the services take (send, accept, forward,
first contact, feedback, hold, complete, acknowledge, …), with moments in the past on working days.
Two years ago referrals waited longer to be accepted, progress feedback was often late and more
loops ended without closure feedback; in recent months acceptance is quick and loops are closed.

Deterministic (a fixed random seed) and idempotent: when the demo patients already have referrals,
nothing happens. The event log is append-only in the database, so referrals are never rebuilt.
"""

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.db.models import Case, DateTimeField, Value, When
from django.utils import timezone

from collab_hub.audit.services import AuditContext
from collab_hub.core.workdays import add_working_days, is_working_day
from patients.models import Concern, Consent, ConsentPurpose, Patient
from patients.selectors import consent_is_valid
from patients.services import consent_record
from teams.models import Absence, Membership, Organisation, Team
from teams.selectors import current_contact_for, discipline_of

from . import services
from .models import (
    DeclineReason,
    Feedback,
    LetterField,
    Pathway,
    Referral,
    Reminder,
    ReminderRule,
    Status,
    Urgency,
)

# The demo acts through the services like everyone else; its access-log rows say where they came from.
DEMO = AuditContext(on_behalf_of="demo data (seed_demo)")

User = get_user_model()

SEED = 20261124
YEAR = 365
# The demo covers two years, so the demo improvement project has three PDCA cycles of real data.
SPAN = 2 * YEAR

# How many referrals end (by now) in which state; the pathways are shuffled over them.
FATES = {
    "completed": 165,
    "in_progress": 12,
    "in_progress_overdue": 4,
    "on_hold": 5,
    "accepted": 3,
    "accepted_overdue": 3,
    "requested": 4,
    "requested_overdue": 3,
    "requested_forwarded": 1,
    "rejected": 20,
    "cancelled": 18,
    "entered_in_error": 2,
}
PATHWAY_MIX = {
    "maatschappelijk-werk": 44,
    "welzijn-op-recept": 44,
    "schuldhulp": 30,
    "wonen": 13,
    "gezamenlijk-consult": 10,
}
# Requests for information from the social domain to the GP (the reverse direction).
INFO_FATES = ["completed"] * 6 + ["in_progress", "requested"]

# Days from sending to closing, per pathway.
DURATION = {
    "welzijn-op-recept": (35, 110),
    "maatschappelijk-werk": (45, 160),
    "schuldhulp": (60, 200),
    "wonen": (30, 120),
    "gezamenlijk-consult": (20, 70),
}

# Who passes a referral on to whom (forward by the receiver, or reassignment by a coordinator).
HANDOVER_TO = {
    "maatschappelijkwerker": ("schuldhulp", "Vooral geldzorgen; Eva is hiervoor de vaste contactpersoon."),
    "jeroen": ("maatschappelijkwerker", "Patiënt spreekt liever Arabisch; Samira neemt het over."),
    "schuldhulp": ("maatschappelijkwerker", "Geen schulden maar spanningen thuis; Samira pakt dit op."),
    "welzijnscoach": ("fatma", "Fatma kent de patiënt al van het taalcafé."),
    "fatma": ("welzijnscoach", "Wim heeft ruimte en ervaring met deze vraag."),
    "teamleider": ("maatschappelijkwerker", "Samira is de vaste contactpersoon voor deze praktijk."),
}

LETTER_TEXT = {
    "complaint": [
        "Voelt zich eenzaam sinds het overlijden van de partner, vorig jaar.",
        "Somber, weinig energie, komt de deur nauwelijks uit sinds de zomer.",
        "Slaapt slecht en piekert veel sinds het verlies van het werk.",
        "Mist structuur en contact met anderen sinds het pensioen.",
        "Veel lichamelijke klachten zonder duidelijke oorzaak; lijkt vooral alleen te zijn.",
    ],
    "wish": [
        "Wil graag meer onder de mensen komen.",
        "Zou weer iets nuttigs willen doen, bijvoorbeeld vrijwilligerswerk.",
        "Wil in beweging komen, het liefst samen met anderen.",
        "Zoekt iemand om af en toe mee te praten en iets mee te ondernemen.",
        "Wil de Nederlandse taal beter leren en nieuwe mensen ontmoeten.",
    ],
    "question": [
        "Hulp bij een stapel ongeopende post en contact met instanties.",
        "Spanningen thuis na de scheiding; de kinderen lijden eronder.",
        "Verloor het werk en raakt het overzicht over geld en dagbesteding kwijt.",
        "Meerdere problemen tegelijk: huur, schulden en somberheid.",
        "Mantelzorg voor een zieke ouder valt zwaar; zoekt ondersteuning en rust.",
    ],
    "already_known": [
        "Nee, nog niet bekend.",
        "Eerder bekend bij de GGZ, afgesloten in 2023.",
        "Heeft een bewindvoerder.",
        "Klantmanager bij de gemeente voor de uitkering.",
    ],
    "problem": [
        "Betalingsachterstand bij energie en zorgverzekering.",
        "Aanmaningen van incassobureaus; durft de post niet meer open te maken.",
        "Huurachterstand van drie maanden.",
        "Toeslagen teruggevorderd, kan de vaste lasten niet meer betalen.",
        "Inkomen gedaald na ziekte, rondkomen lukt niet meer.",
    ],
    "situation": [
        "Dreigende huisuitzetting door huurachterstand.",
        "Woont tijdelijk bij een vriend na de scheiding.",
        "Woning is vochtig en te klein voor het gezin; veel luchtwegklachten bij de kinderen.",
        "Verhuurder wil de woning verkopen; patiënt moet eruit.",
        "Trap is niet meer te doen; zoekt een gelijkvloerse woning.",
    ],
    "reason": [
        "Veel spreekuurbezoek met klachten die samenhangen met geldzorgen en eenzaamheid.",
        "Huisarts en wijkteam werken langs elkaar heen; samen met de patiënt één plan maken.",
        "Patiënt komt wekelijks met wisselende klachten; stress door schulden en huisvesting.",
        "Veel contact met praktijk én wijkteam; de patiënt weet niet meer wie wat doet.",
    ],
}
INFO_QUESTIONS = [
    "Zijn er medische redenen waardoor werken nu niet lukt? Nodig voor de aanvraag bij de gemeente.",
    "Welke medicatie gebruikt de patiënt? Nodig voor de indicatie begeleiding.",
    "Kunt u een medische verklaring geven voor de urgentieaanvraag van een woning?",
    "Is bij u bekend of er sprake is van geheugenproblemen? Dat helpt bij het regelen van bewind.",
]
INFO_ANSWERS = [
    "Er zijn beperkingen bij langdurig staan en tillen; werken in deeltijd, zittend, is mogelijk.",
    "Medicatieoverzicht met toestemming van de patiënt gedeeld; geen middelen die het rijden beperken.",
    "Medische verklaring voor de urgentieaanvraag opgesteld en aan de patiënt meegegeven.",
    "Geen geheugenproblemen bekend; wel stemmingsklachten, daarvoor loopt begeleiding bij de POH-GGZ.",
]

FIRST_CONTACT_TEXT = [
    "Kennismakingsgesprek gehad; de patiënt is gemotiveerd.",
    "Telefonisch contact gehad en een afspraak gemaakt voor een huisbezoek.",
    "Eerste gesprek op het spreekuur in de praktijk; hulpvraag samen scherp gekregen.",
    "Kennisgemaakt; de patiënt was wat afwachtend maar wil het proberen.",
    "",
]
CONTACT_METHODS = (
    [Feedback.ContactMethod.PHONE] * 7
    + [Feedback.ContactMethod.HOME_VISIT] * 5
    + [Feedback.ContactMethod.CONSULTATION_HOUR] * 5
    + [Feedback.ContactMethod.OFFICE] * 3
)
PLAN_TEXT = {
    "welzijn-op-recept": (
        "Plan afgesproken: eerst twee keer mee naar de wandelgroep, daarna kijken naar vrijwilligerswerk."
    ),
    "maatschappelijk-werk": "Plan afgesproken: wekelijks gesprek, eerst de post en de geldzaken op orde.",
    "schuldhulp": "Plan afgesproken: schulden in kaart, betalingsregelingen aanvragen, budgetcoaching.",
    "wonen": "Plan afgesproken: contact met de corporatie, huurachterstand regelen, urgentie onderzoeken.",
    "gezamenlijk-consult": (
        "Plan afgesproken: gezamenlijk consult met patiënt, huisarts en maatschappelijk werker."
    ),
}
PROGRESS_TEXT = {
    "welzijn-op-recept": [
        "Gaat beter, heeft contact gemaakt met de wandelgroep.",
        "Komt wekelijks bij het taalcafé en voelt zich minder alleen.",
        "Eerste keer mee geweest met de buurtmaaltijd; vond het spannend maar leuk.",
        "Twijfelt nog over vrijwilligerswerk; we zoeken samen verder.",
        "Heeft een maatje via Samen Sterk; ze spreken elke week af.",
    ],
    "maatschappelijk-werk": [
        "Hulpvraag in kaart gebracht; we werken aan rust in huis en regelzaken met instanties.",
        "Gesprek met de partner gevoerd; de spanning thuis is wat minder.",
        "De post wordt nu samen doorgenomen; de achterstanden zijn in beeld.",
        "Moeilijke periode, maar de patiënt houdt de afspraken goed vol.",
    ],
    "schuldhulp": [
        "Alle schulden zijn geïnventariseerd; de aanmelding bij de gemeentelijke schuldhulp loopt.",
        "Betalingsregeling met de energieleverancier getroffen.",
        "Budgetcoaching gestart; het eerste weekbudget werkt.",
        "Bijzondere bijstand aangevraagd voor de achterstand bij de zorgverzekering.",
    ],
    "wonen": [
        "Contact gelegd met de woningcorporatie; ontruiming is voorlopig van de baan.",
        "Urgentieaanvraag ingediend bij de gemeente.",
        "Klussendienst heeft de vochtplekken aangepakt; de patiënt is er blij mee.",
    ],
    "gezamenlijk-consult": [
        "Gezamenlijk consult gehouden; er is nu één plan en één aanspreekpunt.",
        "Afspraken uit het consult lopen: de patiënt belt zelf de schuldhulp.",
        "Minder spreekuurbezoek sinds het consult; de patiënt weet bij wie hij terecht kan.",
    ],
}
CLOSURE_TEXT = {
    Feedback.Outcome.GOALS_MET: {
        "welzijn-op-recept": "Gaat zelfstandig naar de wandelgroep en heeft een maatje gevonden. Afgesloten.",
        "maatschappelijk-werk": (
            "Rust in huis en de post is op orde. De patiënt weet ons te vinden als het nodig is."
        ),
        "schuldhulp": "Alle schuldeisers akkoord met de regeling; budgetbeheer loopt. Afgesloten.",
        "wonen": "Huurachterstand geregeld; de patiënt kan in de woning blijven.",
        "gezamenlijk-consult": (
            "Afspraken uit het gezamenlijk consult zijn uitgevoerd; verdere hulp loopt via het wijkteam."
        ),
    },
    Feedback.Outcome.PARTLY_MET: (
        "Een deel van de doelen is behaald; voor de rest is de patiënt nog niet toe aan stappen."
    ),
    Feedback.Outcome.REFERRED_ON: (
        "Doorverwezen voor langere begeleiding (Schuldhulpmaatjes / GGZ / Wmo-loket)."
    ),
    Feedback.Outcome.PATIENT_STOPPED: (
        "De patiënt wil stoppen met de begeleiding. Opnieuw aanmelden kan altijd."
    ),
    Feedback.Outcome.NOT_REACHED: "Na de eerste gesprekken niet meer bereikbaar, ook niet na een huisbezoek.",
    Feedback.Outcome.OTHER: (
        "De patiënt is verhuisd naar een andere gemeente; overgedragen aan het wijkteam daar."
    ),
}
OUTCOMES_RECENT = (
    [Feedback.Outcome.GOALS_MET] * 9
    + [Feedback.Outcome.PARTLY_MET] * 6
    + [Feedback.Outcome.REFERRED_ON] * 3
    + [Feedback.Outcome.PATIENT_STOPPED, Feedback.Outcome.NOT_REACHED]
)
OUTCOMES_EARLY = (
    [Feedback.Outcome.GOALS_MET] * 6
    + [Feedback.Outcome.PARTLY_MET] * 5
    + [Feedback.Outcome.REFERRED_ON] * 3
    + [Feedback.Outcome.PATIENT_STOPPED] * 3
    + [Feedback.Outcome.NOT_REACHED] * 2
    + [Feedback.Outcome.OTHER]
)
DECLINES = [
    (DeclineReason.NO_CAPACITY, "Wachtlijst van zes weken; advies: de inloop op het Wijkplein."),
    (DeclineReason.NOT_ELIGIBLE, "Valt onder de Wmo-consulent, niet onder maatschappelijk werk."),
    (DeclineReason.NOT_ELIGIBLE, "Patiënt woont buiten ons werkgebied."),
    (DeclineReason.WRONG_PATHWAY, "Dit is een vraag voor de schuldhulpverlener; graag via Schuldhulp."),
    (DeclineReason.PATIENT_DECLINED, "Patiënt wil op dit moment geen hulp van het wijkteam."),
    (DeclineReason.OTHER, "Patiënt heeft al een vaste hulpverlener bij de GGZ; afgestemd met haar."),
]
NOT_REACHED_NOTE = "Drie keer gebeld en een brief gestuurd, geen reactie."
HOLD_NOTES = [
    "Patiënt is een maand in het buitenland.",
    "Patiënt is opgenomen in het ziekenhuis.",
    "Patiënt wil eerst de uitslag van het UWV afwachten.",
    "Even pauze op verzoek van de patiënt vanwege de mantelzorg.",
]
CANCEL_NO_RESPONSE = [
    "Geen reactie ontvangen; de patiënt is inmiddels elders geholpen.",
    "Na twee weken nog niets gehoord; de patiënt heeft zelf de gemeente gebeld.",
]
CANCEL_OTHER = [
    "Patiënt is verhuisd naar een andere gemeente.",
    "Patiënt wil toch geen hulp meer.",
    "Het probleem is inmiddels opgelost met hulp van de familie.",
]
ERROR_NOTES = ["Verkeerde patiënt geselecteerd.", "Per ongeluk dubbel verstuurd."]
# (who asks: "receiver" or "sender", question, answer)
MESSAGES = [
    (
        "receiver",
        "Is de patiënt overdag goed bereikbaar? Ik krijg geen gehoor.",
        "De patiënt werkt overdag; na vijf uur lukt het meestal beter.",
    ),
    (
        "receiver",
        "Heeft de patiënt voorkeur voor een huisbezoek of een gesprek in de praktijk?",
        "Liefst in de praktijk, daar voelt de patiënt zich vertrouwd.",
    ),
    (
        "receiver",
        "Is er een tolk nodig bij het eerste gesprek?",
        "Ja graag, de patiënt spreekt beperkt Nederlands.",
    ),
    (
        "sender",
        "Hoe gaat het nu? De patiënt was vorige week weer op het spreekuur.",
        "Met ups en downs; we zien elkaar volgende week weer. Ik houd u op de hoogte.",
    ),
    (
        "sender",
        "De patiënt vertelde dat het goed bevalt, mooi om te horen!",
        "Ja, het gaat de goede kant op. Volgende stap is iets zelfstandig oppakken.",
    ),
    (
        "sender",
        "Mag ik u bellen over de medicatie? Dat speelt mee bij de klachten.",
        "Natuurlijk, ik ben maandag en dinsdag bereikbaar.",
    ),
]


class Retry(Exception):
    """This draw does not fit before now (or someone was on leave that day): draw again."""


@dataclass
class World:
    rng: random.Random
    now: datetime
    today: date
    users: dict[str, object]
    team_by_kind: dict[str, Team]
    practice_team: dict[int, Team]
    coordinators: dict[int, list]
    members: dict[int, list]
    org_of: dict[int, Organisation]
    absences: list[tuple[int, date, date]]
    letter_fields: dict[int, list[LetterField]]
    domains_of: dict[int, set[str]]
    concerns_of: dict[int, list[tuple[int, str]]]
    route_cache: dict = field(default_factory=dict)

    def absent(self, user, day: date) -> bool:
        return any(uid == user.pk and start <= day <= end for uid, start, end in self.absences)

    def moment(self, day: date, earliest: int = 8 * 60 + 15, latest: int = 17 * 60) -> datetime:
        """A moment during office hours on `day` (local time)."""
        minutes = self.rng.randint(earliest, latest)
        return datetime.combine(
            day, time(minutes // 60, minutes % 60), tzinfo=timezone.get_current_timezone()
        )

    def later(self, at: datetime, working_days: int = 0) -> datetime:
        """A moment `working_days` working days after `at` (0: later that day, or the next working day)."""
        day = add_working_days(timezone.localdate(at), working_days)
        result = self.moment(day)
        if result <= at + timedelta(minutes=10):
            result = at + timedelta(minutes=self.rng.randint(15, 120))
        return result

    def after_days(self, at: datetime, days: int) -> datetime:
        day = timezone.localdate(at) + timedelta(days=days)
        while not is_working_day(day):
            day += timedelta(days=1)
        return max(self.moment(day), at + timedelta(minutes=30))

    def sent_moment(self, days_ago: int = 0, working_days_ago: int | None = None) -> datetime:
        day = self.today - timedelta(days=days_ago)
        if working_days_ago is not None:
            day = self.today
            for _ in range(working_days_ago):
                day -= timedelta(days=1)
                while not is_working_day(day):
                    day -= timedelta(days=1)
        while not is_working_day(day):
            day -= timedelta(days=1)
        return self.moment(day, latest=16 * 60 + 30)


class Story:
    """One referral told step by step, with the fields, events and feedback the services would write."""

    def __init__(self, w: World, referral: Referral, fate: str, handover: str = "") -> None:
        self.w = w
        self.r = referral
        self.first_via = referral.assigned_via
        self.fate = fate
        self.handover = handover
        self.status = Status.DRAFT
        self.last: datetime | None = None
        self.feedback: list[Feedback] = []
        self.shared: list[int] = []
        # What the services are asked to do, in order: (moment, action, acting user, arguments).
        self.steps: list[tuple[datetime, str, object, dict]] = []

    def _step(self, at: datetime, action: str, by, **arguments) -> None:
        self.steps.append((at, action, by, arguments))

    # -- bookkeeping ---------------------------------------------------------------------------

    @property
    def code(self) -> str:
        return self.r.pathway.code

    @property
    def age(self) -> float:
        """0 for a referral sent today, 1 for one sent at the start of the demo span."""
        return min(1.0, max(0.0, (self.w.now - self.r.sent_at).days / SPAN))

    def _at(self, at: datetime, actor) -> None:
        if self.last is not None and at <= self.last:
            raise Retry
        if at >= self.w.now - timedelta(minutes=5):
            raise Retry
        if self.w.absent(actor, timezone.localdate(at)):
            raise Retry
        self.last = at

    def _advance(self, at: datetime, actor, to_status: str | None = None) -> None:
        """The plan moves on at `at` (the status the service will set, for the steps planned after it)."""
        self._at(at, actor)
        self.status = self.r.status = to_status or self.status

    # -- the requester's steps ---------------------------------------------------------------------

    def send(self, at: datetime) -> None:
        r, pathway = self.r, self.r.pathway
        day = timezone.localdate(at)
        r.sent_at = at
        r.status = Status.REQUESTED
        r.accept_by = add_working_days(day, pathway.accept_within)
        r.first_contact_by = add_working_days(day, pathway.accept_within + pathway.first_contact_within)
        self._advance(at, r.sender, Status.REQUESTED)
        self._step(at, "send", r.sender, receiving_team=r.receiving_team, receiver=r.receiver)

    def acknowledge(self, at: datetime) -> None:
        pending = [f for f in self.feedback if f.acknowledged_at is None]
        if not pending:
            return
        for item in pending:
            item.acknowledged_at, item.acknowledged_by = at, self.r.sender
        self._advance(at, self.r.sender)
        if self.status == Status.COMPLETED and self.r.acknowledged_at is None:
            self.r.acknowledged_at = at
        self._step(at, "acknowledge", self.r.sender)

    def cancel(self, at: datetime, note: str) -> None:
        self._advance(at, self.r.sender, Status.CANCELLED)
        self.r.closed_at = at
        self._step(at, "cancel", self.r.sender, note=note)

    def mark_entered_in_error(self, at: datetime, note: str) -> None:
        self._advance(at, self.r.sender, Status.ENTERED_IN_ERROR)
        self._step(at, "entered_in_error", self.r.sender, note=note)

    # -- the receiver's steps ----------------------------------------------------------------------

    def accept(self, at: datetime) -> None:
        self._advance(at, self.r.receiver, Status.ACCEPTED)
        self.r.accepted_at = at
        self._step(at, "accept", self.r.receiver)

    def decline(self, at: datetime, reason: str, note: str) -> None:
        self._advance(at, self.r.receiver, Status.REJECTED)
        self.r.decline_reason, self.r.decline_note, self.r.closed_at = reason, note, at
        self._step(at, "decline", self.r.receiver, reason=reason, note=note)

    def forward(self, at: datetime, to_user, note: str) -> None:
        previous = self.r.receiver
        self._advance(at, previous, Status.REQUESTED)
        self.r.receiver = to_user
        self.r.accepted_at = None
        self.r.assigned_via = Referral.AssignedVia.FORWARDED
        self.r.accept_by = add_working_days(timezone.localdate(at), self.r.pathway.accept_within)
        self._step(at, "forward", previous, to_user=to_user, note=note)

    def reassign(self, at: datetime, coordinator, to_user) -> None:
        self._advance(at, coordinator)
        self.r.receiver = to_user
        self.r.assigned_via = Referral.AssignedVia.REASSIGNED
        self._step(at, "reassign", coordinator, to_user=to_user)

    def first_contact(self, at: datetime, method: str, text: str) -> None:
        self._advance(at, self.r.receiver, Status.IN_PROGRESS)
        day = timezone.localdate(at)
        earliest = timezone.localdate(self.r.sent_at)
        contact = max(earliest, day - timedelta(days=self.w.rng.choice([0, 0, 0, 1, 2])))
        if not is_working_day(contact):
            contact = day
        self.r.first_contact_at = self.r.last_feedback_at = at
        self.r.feedback_by = day + timedelta(days=self.r.pathway.feedback_every)
        self.feedback.append(Feedback(kind=Feedback.Kind.FIRST_CONTACT))
        self._step(
            at, "first_contact", self.r.receiver, contact_date=contact, contact_method=method, text=text
        )

    def send_feedback(self, at: datetime, kind: str, text: str, domain_statuses: dict) -> None:
        self._advance(at, self.r.receiver)
        self.r.last_feedback_at = at
        self.r.feedback_by = timezone.localdate(at) + timedelta(days=self.r.pathway.feedback_every)
        self.feedback.append(Feedback(kind=kind))
        self._step(at, "feedback", self.r.receiver, kind=kind, text=text, domain_statuses=domain_statuses)

    def hold(self, at: datetime, note: str) -> None:
        self._advance(at, self.r.receiver, Status.ON_HOLD)
        self._step(at, "hold", self.r.receiver, note=note)

    def resume(self, at: datetime) -> None:
        self._advance(at, self.r.receiver, Status.IN_PROGRESS)
        self._step(at, "resume", self.r.receiver)

    def complete(self, at: datetime, outcome: str, text: str) -> None:
        self._advance(at, self.r.receiver, Status.COMPLETED)
        r = self.r
        r.completed_at = r.closed_at = r.last_feedback_at = at
        r.acknowledged_at = r.feedback_by = None
        self.feedback.append(Feedback(kind=Feedback.Kind.CLOSURE))
        self._step(at, "complete", r.receiver, outcome=outcome, text=text)

    def message(self, at: datetime, author, text: str) -> None:
        self._at(at, author)
        self._step(at, "message", author, text=text)


# --- the shapes of a referral's life -----------------------------------------------------------------


def _chance(w: World, recent: float, early: float, age: float) -> bool:
    """True with a probability sliding from `recent` (sent now) to `early` (sent at the demo's start)."""
    return w.rng.random() < recent + (early - recent) * age


def _handover(w: World, s: Story) -> None:
    """The forward or reassignment this story was picked for, shortly after it was sent."""
    rng = w.rng
    if s.r.receiver.username not in HANDOVER_TO:
        raise Retry
    target_name, note = HANDOVER_TO[s.r.receiver.username]
    target = w.users[target_name]
    if s.handover == "forward":
        s.forward(w.later(s.last, rng.choice([0, 1])), target, note)
    elif s.handover == "reassign":
        coordinator = w.coordinators[s.r.receiving_team_id][0]
        s.reassign(w.later(s.last, rng.choice([0, 1])), coordinator, target)


def _accept(w: World, s: Story) -> None:
    if s.handover:
        _handover(w, s)
    quick = _chance(w, 0.95, 0.2, s.age)
    delay = w.rng.choice([0, 0, 1, 1, 2]) if quick else w.rng.randint(3, 8)
    s.accept(w.later(s.last, delay))


def _first_contact(w: World, s: Story) -> None:
    quick = _chance(w, 0.9, 0.4, s.age)
    delay = w.rng.randint(1, 4) if quick else w.rng.randint(6, 14)
    s.first_contact(w.later(s.last, delay), w.rng.choice(CONTACT_METHODS), w.rng.choice(FIRST_CONTACT_TEXT))
    _maybe_acknowledge(w, s)
    _maybe_messages(w, s, 0.15)


def _maybe_acknowledge(w: World, s: Story, *, closure: bool = False) -> None:
    """The GP reads the new feedback: soon in recent months, later (or not at all) two years ago."""
    if closure:
        recent_close = (w.now - s.last).days < 14
        if recent_close and w.rng.random() < 0.4:
            return
        if not recent_close and w.rng.random() < 0.03:
            return
    elif not _chance(w, 0.85, 0.45, s.age):
        return
    quick = _chance(w, 0.9, 0.4, s.age)
    at = w.later(s.last, w.rng.randint(0, 2) if quick else w.rng.randint(4, 18))
    if at < w.now - timedelta(minutes=5):
        s.acknowledge(at)


def _maybe_messages(w: World, s: Story, probability: float) -> None:
    if w.rng.random() >= probability:
        return
    asker, question, answer = w.rng.choice(MESSAGES)
    first, second = (s.r.receiver, s.r.sender) if asker == "receiver" else (s.r.sender, s.r.receiver)
    asked = w.later(s.last, w.rng.randint(0, 2))
    if asked >= w.now - timedelta(hours=2):
        return
    s.message(asked, first, question)
    answered = w.later(asked, w.rng.choice([0, 0, 1]))
    if answered < w.now - timedelta(minutes=5):
        s.message(answered, second, answer)


def _domain_statuses(w: World, s: Story) -> dict:
    domains = sorted(w.domains_of.get(s.r.patient_id, set()) & set(s.r.pathway.life_domains))
    choices = [Concern.Status.IMPROVING] * 3 + [Concern.Status.ACTIVE, Concern.Status.STABLE]
    return {d: str(w.rng.choice(choices)) for d in domains}


def _progress(w: World, s: Story, until: datetime, *, may_hold: bool = False) -> None:
    """Plan and progress feedback until `until`; on time in recent months, often late two years ago."""
    first, held = True, False
    while True:
        on_time = _chance(w, 0.92, 0.4, s.age)
        nxt = w.after_days(s.last, w.rng.randint(21, 38) if on_time else w.rng.randint(50, 85))
        if nxt >= until:
            return
        if first and w.rng.random() < 0.45:
            s.send_feedback(nxt, Feedback.Kind.PLAN_AGREED, PLAN_TEXT[s.code], {})
        else:
            text = w.rng.choice(PROGRESS_TEXT[s.code])
            s.send_feedback(nxt, Feedback.Kind.PROGRESS, text, _domain_statuses(w, s))
        first = False
        _maybe_acknowledge(w, s)
        _maybe_messages(w, s, 0.08)
        if may_hold and not held and w.rng.random() < 0.08:
            held = True
            s.hold(w.after_days(s.last, w.rng.randint(2, 10)), w.rng.choice(HOLD_NOTES))
            resumed = w.after_days(s.last, w.rng.randint(14, 35))
            if resumed >= until:
                raise Retry
            s.resume(resumed)


def _outcome(w: World, s: Story) -> tuple[str, str]:
    outcome = w.rng.choice(OUTCOMES_EARLY if w.rng.random() < s.age else OUTCOMES_RECENT)
    text = CLOSURE_TEXT[outcome]
    return outcome, text[s.code] if isinstance(text, dict) else text


def fate_completed(w: World, s: Story) -> None:
    _accept(w, s)
    _first_contact(w, s)
    low, high = DURATION[s.code]
    days_ago = (w.now - s.r.sent_at).days
    latest = min(high, days_ago - 2)
    duration = w.rng.randint(min(low, max(10, latest // 2)), latest)
    end = max(s.r.sent_at + timedelta(days=duration), s.last + timedelta(days=w.rng.randint(7, 14)))
    if end >= w.now - timedelta(days=1):
        raise Retry
    _progress(w, s, end - timedelta(days=5), may_hold=True)
    day = timezone.localdate(max(end, s.last))
    while not is_working_day(day):
        day -= timedelta(days=1)  # closed on the Friday before, not piled up on the next Monday
    s.complete(max(w.moment(day), s.last + timedelta(minutes=30)), *_outcome(w, s))
    _maybe_acknowledge(w, s, closure=True)


def fate_in_progress(w: World, s: Story) -> None:
    _accept(w, s)
    _first_contact(w, s)
    _progress(w, s, w.now - timedelta(hours=2))
    if s.r.feedback_by < w.today:
        raise Retry


def fate_in_progress_overdue(w: World, s: Story) -> None:
    """Feedback stopped: the loop went quiet and the due date for progress feedback has passed."""
    _accept(w, s)
    _first_contact(w, s)
    _progress(w, s, w.now - timedelta(days=w.rng.randint(45, 150)))
    if s.r.feedback_by >= w.today:
        raise Retry


def fate_on_hold(w: World, s: Story) -> None:
    _accept(w, s)
    _first_contact(w, s)
    hold_at = w.now - timedelta(days=w.rng.randint(5, 40))
    _progress(w, s, hold_at - timedelta(days=3))
    s.hold(w.after_days(max(s.last, hold_at), 0), w.rng.choice(HOLD_NOTES))


def fate_accepted(w: World, s: Story) -> None:
    s.accept(w.later(s.last, w.rng.choice([0, 1])))
    if s.r.first_contact_by < w.today:
        raise Retry


def fate_accepted_overdue(w: World, s: Story) -> None:
    s.accept(w.later(s.last, w.rng.randint(1, 3)))
    s.message(w.later(s.last, w.rng.randint(2, 4)), s.r.receiver, NOT_REACHED_NOTE + " Ik probeer het nog.")
    if s.r.first_contact_by >= w.today:
        raise Retry


def fate_requested(w: World, s: Story) -> None:
    if s.r.accept_by < w.today:
        raise Retry


def fate_requested_overdue(w: World, s: Story) -> None:
    if s.r.accept_by >= w.today:
        raise Retry


def fate_requested_forwarded(w: World, s: Story) -> None:
    s.handover = "forward"
    target_name, note = HANDOVER_TO[s.r.receiver.username]
    s.forward(w.later(s.last, w.rng.randint(1, 3)), w.users[target_name], note)
    if s.r.accept_by < w.today:
        raise Retry


def fate_rejected(w: World, s: Story) -> None:
    if w.rng.random() < 0.25:
        s.accept(w.later(s.last, w.rng.randint(0, 2)))
        s.decline(w.later(s.last, w.rng.randint(6, 12)), DeclineReason.NOT_REACHED, NOT_REACHED_NOTE)
        return
    quick = _chance(w, 0.9, 0.4, s.age)
    reason, note = w.rng.choice(DECLINES)
    s.decline(w.later(s.last, w.rng.randint(0, 2) if quick else w.rng.randint(3, 8)), reason, note)


def fate_cancelled(w: World, s: Story) -> None:
    if s.age > 0.3 and w.rng.random() < 0.85:
        # A year ago referrals could wait weeks without an answer; the GP gave up.
        s.cancel(w.later(s.last, w.rng.randint(7, 15)), w.rng.choice(CANCEL_NO_RESPONSE))
        return
    _accept(w, s)
    if w.rng.random() < 0.5:
        _first_contact(w, s)
        s.acknowledge(w.later(s.last, w.rng.randint(0, 3)))
    s.cancel(w.later(s.last, w.rng.randint(3, 20)), w.rng.choice(CANCEL_OTHER))


def fate_entered_in_error(w: World, s: Story) -> None:
    at = s.last + timedelta(minutes=w.rng.randint(5, 90))
    s.mark_entered_in_error(at, w.rng.choice(ERROR_NOTES))


FATE_STEPS = {
    "completed": fate_completed,
    "in_progress": fate_in_progress,
    "in_progress_overdue": fate_in_progress_overdue,
    "on_hold": fate_on_hold,
    "accepted": fate_accepted,
    "accepted_overdue": fate_accepted_overdue,
    "requested": fate_requested,
    "requested_overdue": fate_requested_overdue,
    "requested_forwarded": fate_requested_forwarded,
    "rejected": fate_rejected,
    "cancelled": fate_cancelled,
    "entered_in_error": fate_entered_in_error,
}


def _sent_at(w: World, fate: str, attempt: int) -> datetime:
    rng = w.rng
    working_days = {
        "accepted": (1, 4),
        "accepted_overdue": (9, 14),
        "requested": (0, 2),
        "requested_overdue": (3, 8),
        "requested_forwarded": (3, 6),
    }
    if fate in working_days:
        return w.sent_moment(working_days_ago=rng.randint(*working_days[fate]))
    # (fewest, most days ago, skew): a skew above 1 favours recent months (use of the hub grew), below 1
    # favours early ones (unanswered referrals and loops that went quiet were commoner then).
    low, high, skew = {
        "completed": (15, SPAN - 5, 1.1),
        "in_progress": (10, 150, 1.0),
        "in_progress_overdue": (90, 300, 0.7),
        "on_hold": (30, 160, 1.0),
        "rejected": (5, SPAN - 5, 0.8),
        "cancelled": (60, SPAN - 5, 0.6),
        "entered_in_error": (10, 300, 1.0),
    }[fate]
    days_ago = low + int((high - low) * rng.random() ** skew) + attempt // 4
    return w.sent_moment(days_ago=min(SPAN - 3, days_ago))


# --- people, patients, letters --------------------------------------------------------------------


def _route(w: World, pathway: Pathway, practice: Organisation, day: date) -> tuple[Team, object, str]:
    """The receiving team and named person on `day`, as the routing guide would propose them."""
    key = (pathway.pk, practice.pk, day)
    if key not in w.route_cache:
        team = w.team_by_kind[pathway.receiving_team_kind]
        domain = {"schuldhulp": "finances", "wonen": "housing"}.get(pathway.code, "")
        resolution = current_contact_for(practice=practice, team=team, life_domain=domain, on=day)
        if resolution is not None and resolution.person is not None:
            w.route_cache[key] = (team, resolution.person, resolution.via)
        else:
            present = [u for u in w.coordinators.get(team.pk, []) if not w.absent(u, day)]
            w.route_cache[key] = (team, present[0], Referral.AssignedVia.COORDINATOR)
    return w.route_cache[key]


def _sender(w: World, pathway: Pathway, practice: Organisation):
    if practice.pk == w.org_of[w.users["huisarts2"].pk].pk:
        return w.users["huisarts2"]
    if pathway.code == "gezamenlijk-consult":
        return w.users["huisarts"]
    poh_share = 0.6 if pathway.code == "welzijn-op-recept" else 0.3
    return w.users["poh"] if w.rng.random() < poh_share else w.users["huisarts"]


def _pick_patient(w: World, patients: list[Patient], pathway: Pathway, day: date, taken: dict) -> Patient:
    candidates = [p for p in patients if p.is_high_user] if pathway.is_joint_consultation else patients

    def free(p: Patient) -> bool:
        return all(abs((day - other).days) > 60 for other in taken.get((p.pk, pathway.pk), []))

    fitting = [p for p in candidates if w.domains_of.get(p.pk, set()) & set(pathway.life_domains)]
    pool = [p for p in fitting if free(p)] or [p for p in candidates if free(p)] or candidates
    return w.rng.choice(pool)


def _letter(w: World, pathway: Pathway, sent: date) -> tuple[dict, str]:
    rng, answers, urgency = w.rng, {}, Urgency.ROUTINE
    roll = rng.random()
    if roll < 0.05:
        urgency = Urgency.URGENT
    elif roll < 0.2:
        urgency = Urgency.SOON
    for question in w.letter_fields.get(pathway.pk, []):
        if not question.required and rng.random() < 0.3:
            answers[question.key] = ""
            continue
        if question.kind == LetterField.Kind.CHOICE:
            value = rng.choice(question.choice_list())
        elif question.kind == LetterField.Kind.YES_NO:
            value = "yes" if rng.random() < (0.9 if question.key == "patient_agrees" else 0.2) else "no"
            if value == "yes" and question.key in ("eviction", "urgent_safety"):
                urgency = rng.choice([Urgency.SOON, Urgency.URGENT])
        elif question.kind == LetterField.Kind.DATE:
            offset = rng.randint(10, 20) if question.key == "deadline" else -rng.randint(30, 300)
            value = (sent + timedelta(days=offset)).isoformat()
        elif pathway.code == "info-huisarts" and question.key == "question":
            value = rng.choice(INFO_QUESTIONS)
        else:
            value = rng.choice(LETTER_TEXT.get(question.key, ["Zie de toelichting in het dossier."]))
        answers[question.key] = value
    return answers, urgency


def _new_referral(
    w: World, patient: Patient, pathway: Pathway, sender, sender_org, team, receiver, via, sent
):
    letter, urgency = _letter(w, pathway, timezone.localdate(sent))
    return Referral(
        patient=patient,
        pathway=pathway,
        sender=sender,
        sender_organisation=sender_org,
        receiving_team=team,
        receiver=receiver,
        assigned_via=via,
        letter=letter,
        urgency=urgency,
    )


def _plan_to_social(w: World, pathways: dict[str, Pathway], patients: list[Patient]) -> list[Story]:
    rng = w.rng
    fates = [fate for fate, count in FATES.items() for _ in range(count)]
    codes = [code for code, count in PATHWAY_MIX.items() if code in pathways for _ in range(count)]
    codes = (codes * 2)[: len(fates)]
    rng.shuffle(codes)
    handovers = {}
    completed = [i for i, fate in enumerate(fates) if fate == "completed"]
    for i, kind in zip(rng.sample(completed, 4), ["forward", "forward", "reassign", "reassign"], strict=True):
        handovers[i] = kind
    handovers[fates.index("in_progress")] = "reassign"
    taken: dict = {}
    stories = []
    for i, (fate, code) in enumerate(zip(fates, codes, strict=True)):
        pathway = pathways[code]
        for attempt in range(60):
            sent = _sent_at(w, fate, attempt)
            day = timezone.localdate(sent)
            patient = _pick_patient(w, patients, pathway, day, taken)
            team, receiver, via = _route(w, pathway, patient.practice, day)
            if rng.random() < 0.05 and code != "welzijn-op-recept":
                coordinators = w.coordinators.get(team.pk, [])
                others = [
                    u
                    for u in w.members[team.pk]
                    if u.pk != receiver.pk and u not in coordinators and not w.absent(u, day)
                ]
                receiver, via = rng.choice(others), Referral.AssignedVia.CHOSEN
            sender = _sender(w, pathway, patient.practice)
            referral = _new_referral(w, patient, pathway, sender, patient.practice, team, receiver, via, sent)
            story = Story(w, referral, fate, handovers.get(i, ""))
            try:
                story.send(sent)
                FATE_STEPS[fate](w, story)
            except Retry:
                continue
            break
        else:
            continue  # no fitting draw: leave this one out rather than write an incoherent story
        taken.setdefault((patient.pk, pathway.pk), []).append(day)
        story.shared = [
            pk
            for pk, domain in w.concerns_of.get(patient.pk, [])
            if pathway.is_joint_consultation or domain in pathway.life_domains
        ]
        stories.append(story)
    return stories


def _plan_info_requests(w: World, pathway: Pathway, stories: list[Story]) -> list[Story]:
    """A social worker asks the patient's GP for information, during a referral they are handling."""
    rng, result = w.rng, []
    windows = {"completed": (12, 300), "in_progress": (5, 20), "requested": (0, 1)}
    for fate in INFO_FATES:
        for attempt in range(60):
            low, high = windows[fate]
            if fate == "requested":
                sent = w.sent_moment(working_days_ago=rng.randint(low, high))
            else:
                sent = w.sent_moment(days_ago=rng.randint(low, high) + attempt)
            parents = [
                s
                for s in stories
                if s.r.first_contact_at is not None
                and s.r.first_contact_at < sent - timedelta(days=2)
                and (s.r.closed_at is None or s.r.closed_at > sent)
                and s.r.pathway.direction == Pathway.Direction.TO_SOCIAL
            ]
            if not parents:
                continue
            parent = rng.choice(parents)
            patient, sender = parent.r.patient, parent.r.receiver
            team = w.practice_team[patient.practice_id]
            gps = [u for u in w.members[team.pk] if discipline_of(u) == "gp"]
            referral = _new_referral(
                w,
                patient,
                pathway,
                sender,
                w.org_of[sender.pk],
                team,
                gps[0],
                Referral.AssignedVia.CONTACT,
                sent,
            )
            s = Story(w, referral, fate)
            try:
                s.send(sent)
                if fate != "requested":
                    s.accept(w.later(s.last, rng.choice([0, 0, 1])))
                    s.first_contact(
                        w.later(s.last, rng.choice([0, 1])),
                        Feedback.ContactMethod.CONSULTATION_HOUR,
                        "Patiënt gesproken op het spreekuur over de vraag van het wijkteam.",
                    )
                if fate == "completed":
                    _maybe_messages(w, s, 0.3)
                    s.complete(
                        w.later(s.last, rng.randint(0, 3)),
                        Feedback.Outcome.GOALS_MET,
                        rng.choice(INFO_ANSWERS),
                    )
                    _maybe_acknowledge(w, s, closure=True)
                elif fate == "in_progress" and s.r.feedback_by < w.today:
                    raise Retry
            except Retry:
                continue
            result.append(s)
            break
    return result


# --- writing it all down ----------------------------------------------------------------------------


def _consent_for(w: World, s: Story, team: Team) -> Consent:
    """A consent valid from the sending until the story's last step; recorded by the patient's practice
    shortly before the referral when there was none."""
    r = s.r
    purpose = r.pathway.consent_purpose
    last = timezone.localdate(s.last)
    found = consent_is_valid(patient=r.patient, purpose=purpose, recipient=team, at=r.sent_at)
    if found is not None and (found.valid_until is None or found.valid_until >= last):
        return found
    given = timezone.localdate(r.sent_at) - timedelta(days=w.rng.randint(0, 14))
    # patients/demo.py looks its consents up by (patient, purpose, team) for referrals and by
    # (patient, purpose, organisation) for joint consultations: use the other kind of recipient here,
    # or its update_or_create would find two rows on the next run.
    recipient = (
        {"recipient_organisation": team.organisation}
        if purpose == ConsentPurpose.REFERRAL_SOCIAL
        else {"recipient_team": team}
    )
    practice_team = w.practice_team[r.patient.practice_id]
    recorder = r.sender if r.sender in w.members[practice_team.pk] else w.members[practice_team.pk][0]
    consent = consent_record(
        by=recorder,
        patient=r.patient,
        purpose=purpose,
        form=w.rng.choice(list(Consent.Form.values)),
        given_on=given,
        valid_until=max(given + timedelta(days=YEAR), last + timedelta(days=60)),
        note="Besproken bij de verwijzing.",
        audit=DEMO,
        **recipient,
    )
    Consent.objects.filter(pk=consent.pk).update(recorded_at=min(w.moment(given), r.sent_at))
    return consent


def _set_moments(model, moments: dict[int, datetime], field_name: str) -> None:
    """One UPDATE for many `auto_now_add` fields that should lie in the past."""
    if moments:
        whens = [When(pk=pk, then=Value(at)) for pk, at in moments.items()]
        model.objects.filter(pk__in=list(moments)).update(
            **{field_name: Case(*whens, output_field=DateTimeField())}
        )


def _replay(w: World, s: Story) -> Referral:
    """Tell the story through the services, step by step, at its moments in the past."""
    plan = s.r
    sent_at, _send, sender, send = s.steps[0]
    _consent_for(w, s, send["receiving_team"])
    referral = services.referral_send(
        by=sender,
        patient=plan.patient,
        pathway=plan.pathway,
        receiving_team=send["receiving_team"],
        receiver=send["receiver"],
        letter=plan.letter,
        urgency=plan.urgency,
        shared_concerns=list(Concern.objects.filter(pk__in=s.shared)),
        assigned_via=s.first_via,
        audit=DEMO,
        at=sent_at,
    )
    Referral.objects.filter(pk=referral.pk).update(
        created_at=sent_at - timedelta(minutes=w.rng.randint(3, 25))
    )
    for at, action, by, arguments in s.steps[1:]:
        services.STEP_SERVICES[action](referral=referral, by=by, audit=DEMO, at=at, **arguments)
    referral.refresh_from_db()
    return referral


def _past_reminders(w: World, referrals: list[Referral]) -> None:
    """The reminders the sweep would have sent for steps that were late in the past (the sweep itself
    only sees what is overdue now), so "reminders per referral" tells the same story as the timings."""
    rules = {
        (rule.trigger, rule.days): rule
        for rule in ReminderRule.objects.filter(pathway=None, active=True)
        .exclude(trigger=ReminderRule.Trigger.CONSULTATION_SOON)
        .order_by("pk")
    }
    reminders: list[tuple[Reminder, datetime]] = []

    def late(r: Referral, trigger: str, days: int, since: datetime, until: datetime | None, occurrence):
        rule = rules.get((trigger, days))
        if rule is None or occurrence is None:
            return
        due = add_working_days(timezone.localdate(since), days + 1)  # the sweep after the cut-off
        if due <= min(timezone.localdate(until) if until else w.today, w.today - timedelta(days=1)):
            reminders.append((Reminder(referral=r, rule=rule, occurrence=str(occurrence)), w.moment(due)))

    for r in referrals:
        if r.accepted_at is None or r.sent_at is None:
            continue  # still waiting: the sweep after seeding creates these
        T = ReminderRule.Trigger
        late(r, T.NOT_ACCEPTED, 2, r.sent_at, r.accepted_at, r.accept_by)
        late(r, T.NOT_ACCEPTED, 4, r.sent_at, r.accepted_at, r.accept_by)
        if r.first_contact_at is not None:
            late(r, T.NO_FIRST_CONTACT, 5, r.accepted_at, r.first_contact_at, r.first_contact_by)
    Reminder.objects.bulk_create([reminder for reminder, _ in reminders])
    _set_moments(Reminder, {reminder.pk: at for reminder, at in reminders}, "created_at")


def _write(w: World, stories: list[Story]) -> None:
    stories.sort(key=lambda s: s.r.sent_at)
    referrals = [_replay(w, s) for s in stories]
    _past_reminders(w, referrals)


def _world(rng: random.Random) -> World:
    now = timezone.now()
    users = {u.username: u for u in User.objects.select_related("profile")}
    teams = list(Team.objects.select_related("organisation").order_by("pk"))
    team_by_kind: dict[str, Team] = {}
    for team in teams:
        team_by_kind.setdefault(team.kind, team)
    coordinators: dict[int, list] = {}
    members: dict[int, list] = {}
    org_of: dict[int, Organisation] = {}
    memberships = Membership.objects.select_related("team__organisation", "user__profile").order_by("pk")
    for m in memberships:
        members.setdefault(m.team_id, []).append(m.user)
        if m.role == Membership.Role.COORDINATOR:
            coordinators.setdefault(m.team_id, []).append(m.user)
        org_of.setdefault(m.user_id, m.team.organisation)
    domains_of: dict[int, set[str]] = {}
    concerns_of: dict[int, list[tuple[int, str]]] = {}
    for pk, patient_id, domain in Concern.objects.order_by("pk").values_list("pk", "patient_id", "domain"):
        domains_of.setdefault(patient_id, set()).add(domain)
        concerns_of.setdefault(patient_id, []).append((pk, domain))
    letter_fields: dict[int, list[LetterField]] = {}
    for question in LetterField.objects.order_by("order", "pk"):
        letter_fields.setdefault(question.pathway_id, []).append(question)
    return World(
        rng=rng,
        now=now,
        today=timezone.localdate(now),
        users=users,
        team_by_kind=team_by_kind,
        practice_team={t.organisation_id: t for t in teams if t.kind == Team.Kind.PRACTICE},
        coordinators=coordinators,
        members=members,
        org_of=org_of,
        absences=list(Absence.objects.values_list("user_id", "starts_on", "ends_on")),
        letter_fields=letter_fields,
        domains_of=domains_of,
        concerns_of=concerns_of,
    )


def seed_referrals(pathways: dict[str, Pathway]) -> None:
    practices = Organisation.objects.filter(kind__in=Organisation.PRIMARY_CARE)
    patients = list(Patient.objects.filter(practice__in=practices).select_related("practice").order_by("pk"))
    if not patients or Referral.objects.filter(patient__in=patients).exists():
        return  # already seeded: the event log is append-only, so referrals are never rebuilt
    rng = random.Random(SEED)  # noqa: S311 - demo data, not security
    w = _world(rng)
    needed = {
        "huisarts",
        "poh",
        "huisarts2",
        "maatschappelijkwerker",
        "jeroen",
        "schuldhulp",
        "welzijnscoach",
    }
    if not needed <= set(w.users) or not {Team.Kind.SOCIAL_WELFARE, Team.Kind.WELLBEING} <= set(
        w.team_by_kind
    ):
        return
    stories = _plan_to_social(w, pathways, patients)
    if "info-huisarts" in pathways:
        stories += _plan_info_requests(w, pathways["info-huisarts"], stories)
    _write(w, stories)
