import uuid

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import OuterRef, Subquery
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from collab_hub.audit.models import AccessEvent
from collab_hub.audit.services import AuditContext, access_log_write
from patients.models import Concern
from patients.selectors import EMERGENCY, concerns_for, consent_is_valid, get_patient_for_user, role_of
from teams.models import Absence
from teams.selectors import care_practices_of, coordinated_teams

from . import selectors, services
from .forms import (
    CompleteForm,
    ConsultationRecordForm,
    DeclineForm,
    FeedbackForm,
    FirstContactForm,
    ForwardForm,
    JointConsultationForm,
    MessageForm,
    NoteForm,
    ReassignForm,
    ReferralForm,
)
from .models import Referral, Status
from .routing import Proposal, propose
from .workflow import allowed_actions

User = get_user_model()
PAGE_SIZE = 50


@never_cache
def inbox(request):
    """'To me / my team' for receivers and 'sent by me / my practice' for GPs, most urgent first."""
    box = request.GET.get("box") or ("sent" if care_practices_of(request.user).exists() else "received")
    today = timezone.localdate()
    coordinates = (
        selectors.overview_teams(user=request.user)
        .filter(memberships__user=request.user, memberships__role="coordinator")
        .exists()
    )
    # A coordinator's next work is their team's (issue 21): their inbox opens on it.
    asked = request.GET.get("scope") or ("team" if coordinates else "me")
    scope = "team" if asked == "team" and coordinates else "me"
    if box == "sent":
        referrals = selectors.sent_for(user=request.user)
        filters = selectors.sent_filters(today)
    else:
        box = "received"
        referrals = selectors.received_for(user=request.user, scope=scope)
        filters = selectors.received_filters(today)
    chosen = request.GET.get("filter", "")
    statuses = None  # the statuses the list is limited to, when only statuses limit it
    if chosen in filters:
        referrals = referrals.filter(filters[chosen])
        statuses = selectors.STATUS_FILTERS.get(chosen, False)
    elif request.GET.get("status") in Status.values:
        referrals = referrals.filter(status=request.GET["status"])
        statuses = [request.GET["status"]]
    paginator = Paginator(referrals, PAGE_SIZE)
    if box == "received" and statuses is not False:
        # The database keeps these totals; counting a busy receiver's list per request would not scale.
        paginator.count = selectors.received_total(user=request.user, scope=scope, statuses=statuses)
    page = paginator.get_page(request.GET.get("page"))
    # One access-log row per list: the patients' names on it are patient data seen.
    access_log_write(
        user=request.user,
        request=request,
        event=AccessEvent.SEARCH,
        role=role_of(request.user),
        object_type="referral_list",
        reason=f"{box}/{scope}: " + ",".join(str(r.pk) for r in page),
    )
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "box": box,
        "page": page,
        "filters": list(filters),
        "chosen": chosen,
        "scope": scope,
        "coordinates": coordinates,
        "statuses": Status.choices,
        "query": query.urlencode(),
        "today": today,
    }
    return render(request, "referrals/inbox.html", context)


@never_cache
def referral_create(request, patient_pk: int):
    """Refer in about a minute: the routing guide proposes pathway and named person; the letter follows."""
    audit = AuditContext.from_request(request)
    access = get_patient_for_user(
        user=request.user,
        pk=patient_pk,
        audit=audit,
        purpose="referral",
        event=AccessEvent.CREATE if request.method == "POST" else AccessEvent.VIEW,
    )
    if access.view == EMERGENCY:
        raise PermissionDenied  # emergency access reads; it does not refer
    patient = access.patient
    pathways = selectors.pathways_for_sender(user=request.user)
    chosen = next(
        (p for p in pathways if str(p.pk) == (request.POST.get("pathway") or request.GET.get("pathway"))),
        None,
    )
    # The routing guide routes for a practice: the sender's own when they send from one, otherwise (a
    # social worker asking the GP, say) the patient's.
    sender_org = services.sending_organisation(request.user, patient)
    practice = sender_org if sender_org is not None and sender_org.is_primary_care else patient.practice
    # The guide sees what the sender sees: a minimal-view sender's proposal must not reveal medical domains.
    concerns = concerns_for(access)
    domains = sorted({c.domain for c in concerns if c.status != Concern.Status.RESOLVED})
    proposal = propose(patient=patient, practice=practice, pathway=chosen, domains=domains)
    if proposal.pathway is not None and proposal.pathway not in pathways:
        proposal = Proposal(pathway=None)  # the guide's pathway is not one this sender may use
    pathway = proposal.pathway
    form = consent = None
    if pathway is not None and proposal.team is not None:
        consent = consent_is_valid(patient=patient, purpose=pathway.consent_purpose, recipient=proposal.team)
        form = ReferralForm(
            request.POST or None,
            pathway=pathway,
            candidates=proposal.candidates,
            concerns=concerns,
            initial={
                "receiver": str(proposal.receiver.pk) if proposal.receiver else "",
                "submission": uuid.uuid4().hex,
            },
        )
        if request.method == "POST":
            if consent is None:
                messages.warning(request, _("Record the patient's consent first; nothing has been sent."))
                back = reverse("referrals:create", args=[patient.pk]) + f"?pathway={pathway.pk}"
                return redirect(reverse("patients:consent_create", args=[patient.pk]) + f"?next={back}")
            if form.is_valid():
                receiver = next(
                    (u for u in proposal.candidates if str(u.pk) == form.cleaned_data["receiver"]), None
                )
                via = proposal.assigned_via if receiver == proposal.receiver else Referral.AssignedVia.CHOSEN
                visible = {str(c.pk) for c in concerns}
                shared = [
                    c for c in concerns if str(c.pk) in set(form.cleaned_data["shared_concerns"]) & visible
                ]
                try:
                    referral = services.referral_send(
                        by=request.user,
                        audit=audit,
                        patient=patient,
                        pathway=pathway,
                        receiving_team=proposal.team,
                        receiver=receiver,
                        letter=form.letter_answers(),
                        urgency=form.cleaned_data["urgency"],
                        shared_concerns=shared,
                        assigned_via=via,
                        submission=form.cleaned_data.get("submission") or None,
                    )
                except ValidationError as error:
                    for message in error.messages:
                        form.add_error(None, message)
                else:
                    messages.success(
                        request, _("Referral sent to %(name)s.") % {"name": referral.receiver.get_full_name()}
                    )
                    return redirect("referrals:detail", pk=referral.pk)
    context = {
        "patient": patient,
        "proposal": proposal,
        "pathway": pathway,
        "pathways": pathways,
        "form": form,
        "consent": consent,
        "can_record_consent": access.can_edit,
        "consent_url": reverse("patients:consent_create", args=[patient.pk])
        + (f"?next={reverse('referrals:create', args=[patient.pk])}?pathway={pathway.pk}" if pathway else ""),
    }
    return render(request, "referrals/referral_form.html", context)


# The form each workflow step asks for (None: a button only). Steps with their own page are left out.
ACTION_FORMS = {
    "accept": None,
    "decline": DeclineForm,
    "forward": ForwardForm,
    "reassign": ReassignForm,
    "first_contact": FirstContactForm,
    "feedback": FeedbackForm,
    "complete": CompleteForm,
    "hold": NoteForm,
    "resume": None,
    "reopen": NoteForm,
    "acknowledge": None,
    "cancel": NoteForm,
    "entered_in_error": NoteForm,
    "message": MessageForm,
}


def _people_for(action: str, referral: Referral):
    if action == "forward":
        people = services.forward_candidates(referral)
    elif action == "reassign":
        people = (
            User.objects.filter(is_active=True, memberships__team=referral.receiving_team_id)
            .exclude(pk=referral.receiver_id)
            .order_by("last_name", "first_name", "pk")
        )
    else:
        return None
    # Who is away today says so in the list (issue 21): a referral handed to them would wait.
    today = timezone.localdate()
    away = Absence.objects.filter(user=OuterRef("pk"), starts_on__lte=today, ends_on__gte=today)
    return people.annotate(absent_until=Subquery(away.order_by("-ends_on").values("ends_on")[:1]))


def _action_form(action: str, referral: Referral, data=None):
    form_class = ACTION_FORMS[action]
    if form_class is None:
        return None
    people = _people_for(action, referral)
    # Several step forms share a page and field names ("note", "text"): ids per step, so that each
    # label points at its own field (the names posted stay the same).
    ids = {"auto_id": f"id_{action}_%s"}
    return form_class(data, people=people, **ids) if people is not None else form_class(data, **ids)


def _action_forms(request, referral: Referral) -> dict:
    """The buttons of the referral page: exactly the steps the workflow table allows this person now."""
    allowed = allowed_actions(request.user, referral)
    forms = {}
    for action in allowed:
        if action not in ACTION_FORMS or action == "message":
            continue
        if action == "acknowledge" and not referral.feedback.filter(acknowledged_at__isnull=True).exists():
            continue
        forms[action] = _action_form(action, referral)
    return forms


def _referral(request, pk: int, **kwargs) -> Referral:
    return selectors.get_referral_for_user(
        user=request.user, pk=pk, audit=AuditContext.from_request(request), **kwargs
    )


@never_cache
def referral_detail(request, pk: int):
    referral = _referral(request, pk)
    allowed = allowed_actions(request.user, referral)
    context = {
        "referral": referral,
        "timeline": selectors.timeline_for(referral),
        "letter": [(q.label, referral.letter.get(q.key, "")) for q in referral.pathway.letter_fields.all()],
        "shared_concerns": referral.shared_concerns.all(),
        "actions": _action_forms(request, referral),
        "message_form": MessageForm() if "message" in allowed else None,
        "consultation": getattr(referral, "joint_consultation", None),
        "can_plan": "plan_consultation" in allowed,
        "can_record": "record_consultation" in allowed,
    }
    return render(request, "referrals/referral_detail.html", context)


@never_cache
def referral_letter(request, pk: int):
    referral = _referral(request, pk, event=AccessEvent.PRINT)
    context = {
        "referral": referral,
        "letter": [(q.label, referral.letter.get(q.key, "")) for q in referral.pathway.letter_fields.all()],
        "shared_concerns": referral.shared_concerns.all(),
    }
    return render(request, "referrals/letter_print.html", context)


SUCCESS = {
    "accept": _("Referral accepted."),
    "decline": _("Referral declined."),
    "forward": _("Referral forwarded."),
    "reassign": _("Referral reassigned."),
    "first_contact": _("First contact recorded and reported to the GP."),
    "feedback": _("Feedback sent to the GP."),
    "complete": _("Referral closed; the GP has your summary."),
    "hold": _("Put on hold."),
    "resume": _("Resumed."),
    "reopen": _("Referral reopened."),
    "acknowledge": _("Feedback acknowledged."),
    "cancel": _("Referral cancelled."),
    "entered_in_error": _("Marked as entered in error; it is hidden from the lists."),
    "message": _("Message sent."),
}


@require_POST
def referral_action(request, pk: int, action: str):
    if action not in ACTION_FORMS:
        raise Http404
    audit = AuditContext.from_request(request)
    try:
        referral = selectors.get_referral_for_user(
            user=request.user, pk=pk, audit=audit, event=AccessEvent.CHANGE, needs=action
        )
    except selectors.StepUnavailable as refusal:  # someone else was first, or a second click
        messages.error(request, refusal.message)
        return _after_action(request, pk)
    form = _action_form(action, referral, request.POST)
    if form is not None and not form.is_valid():
        for field, errors in form.errors.items():
            for error in errors:
                messages.error(
                    request, f"{form.fields[field].label}: {error}" if field in form.fields else error
                )
    else:
        try:
            data = form.cleaned_data if form else {}
            services.STEP_SERVICES[action](referral=referral, by=request.user, audit=audit, **data)
        except PermissionDenied:
            raise
        except ValidationError as error:
            if isinstance(error, services.TransitionRefused | services.ConsentMissing):
                services.step_refused_log(by=request.user, audit=audit, referral=referral, action=action)
            for message in error.messages:
                messages.error(request, message)
        else:
            messages.success(request, str(SUCCESS[action]))
    return _after_action(request, pk)


def _after_action(request, pk: int):
    if request.htmx and request.POST.get("row"):
        referral = (
            selectors.received_for(user=request.user).filter(pk=pk).first()
            or selectors.sent_for(user=request.user).filter(pk=pk).first()
        )
        if referral is None:  # no longer on this person's lists (forwarded away, say)
            return render(request, "referrals/_referral_row_gone.html", {"pk": pk})
        return render(
            request,
            "referrals/_referral_row.html",
            {"r": referral, "today": timezone.localdate(), "box": request.POST.get("row")},
        )
    if selectors.visible_referrals(user=request.user).filter(pk=pk).exists():
        return redirect("referrals:detail", pk=pk)
    return redirect("referrals:inbox")  # the step ended this person's access (declined, forwarded …)


@never_cache
def consultation_plan(request, pk: int):
    audit = AuditContext.from_request(request)
    referral = selectors.get_referral_for_user(
        user=request.user,
        pk=pk,
        audit=audit,
        event=AccessEvent.CHANGE if request.method == "POST" else AccessEvent.VIEW,
        needs="plan_consultation",
    )
    consultation = getattr(referral, "joint_consultation", None)
    if consultation is not None and consultation.state == consultation.State.HELD:
        raise PermissionDenied
    people = list(services.consultation_candidates(referral))
    form = JointConsultationForm(
        request.POST or None,
        people=people,
        initial={"participants": [str(referral.sender_id), str(referral.receiver_id)]},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        chosen = set(data.pop("participants"))
        participants = [u for u in people if str(u.pk) in chosen]
        try:
            services.joint_consultation_schedule(
                referral=referral, by=request.user, audit=audit, participants=participants, **data
            )
        except ValidationError as error:
            for message in error.messages:
                form.add_error(None, message)
        else:
            messages.success(request, _("Joint consultation planned."))
            return redirect("referrals:detail", pk=pk)
    return render(request, "referrals/consultation_form.html", {"referral": referral, "form": form})


@never_cache
def consultation_record(request, pk: int):
    """Minutes of a joint consultation and the actions agreed, each with an owner."""
    audit = AuditContext.from_request(request)
    referral = selectors.get_referral_for_user(
        user=request.user,
        pk=pk,
        audit=audit,
        event=AccessEvent.CHANGE if request.method == "POST" else AccessEvent.VIEW,
        needs="record_consultation",
    )
    consultation = getattr(referral, "joint_consultation", None)
    if consultation is None or consultation.state != consultation.State.PLANNED:
        raise PermissionDenied
    people = list(consultation.participants.all())
    form = ConsultationRecordForm(request.POST or None, people=people, initial={"notes": consultation.notes})
    if request.method == "POST" and form.is_valid():
        by_pk = {str(u.pk): u for u in people}
        actions = [(text, by_pk[owner], due) for text, owner, due in form.actions()]
        try:
            services.joint_consultation_record(
                consultation=consultation,
                by=request.user,
                audit=audit,
                notes=form.cleaned_data["notes"],
                actions=actions,
            )
        except ValidationError as error:
            for message in error.messages:
                form.add_error(None, message)
        else:
            messages.success(request, _("Joint consultation recorded."))
            return redirect("referrals:detail", pk=pk)
    return render(
        request, "referrals/consultation_form.html", {"referral": referral, "form": form, "recording": True}
    )


@never_cache
def reminders_overview(request):
    """Reminders sent this week per rule, and which referrals are overdue now (no patient names)."""
    teams = selectors.overview_teams(user=request.user)
    if not teams.exists():
        raise PermissionDenied
    context = selectors.reminder_overview(teams=teams, today=timezone.localdate())
    # A coordinator acts on their team's referrals from here (their role opens them); a project lead
    # reads the list only (referrals/workflow.py).
    context["openable_teams"] = set(coordinated_teams(request.user).values_list("pk", flat=True))
    return render(request, "referrals/reminders_overview.html", context)
