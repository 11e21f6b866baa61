from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from collab_hub.audit.models import AccessEvent
from patients.selectors import concerns_for, consent_is_valid, get_patient_for_user
from teams.models import Membership, Team
from teams.selectors import practices_of

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
    ReferralForm,
)
from .models import Referral, Status
from .routing import Proposal, propose, team_members

User = get_user_model()
PAGE_SIZE = 50


@never_cache
def inbox(request):
    """'To me / my team' for receivers and 'sent by me / my practice' for GPs, most urgent first."""
    box = request.GET.get("box") or ("sent" if practices_of(request.user).exists() else "received")
    today = timezone.localdate()
    if box == "sent":
        referrals = selectors.sent_for(user=request.user)
        filters = selectors.sent_filters(today)
    else:
        box = "received"
        referrals = selectors.received_for(user=request.user, scope=request.GET.get("scope", "me"))
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
        paginator.count = selectors.received_total(
            user=request.user, scope=request.GET.get("scope", "me"), statuses=statuses
        )
    page = paginator.get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "box": box,
        "page": page,
        "filters": list(filters),
        "chosen": chosen,
        "scope": request.GET.get("scope", "me"),
        "statuses": Status.choices,
        "query": query.urlencode(),
        "today": today,
    }
    return render(request, "referrals/inbox.html", context)


def _sender_practice(user, patient):
    practices = list(practices_of(user))
    if patient.practice in practices:
        return patient.practice
    return practices[0] if practices else patient.practice


@never_cache
def referral_create(request, patient_pk: int):
    """Refer in about a minute: the routing guide proposes pathway and named person; the letter follows."""
    access = get_patient_for_user(
        request,
        patient_pk,
        purpose="referral",
        event=AccessEvent.CREATE if request.method == "POST" else AccessEvent.VIEW,
    )
    patient = access.patient
    pathways = selectors.pathways_for_sender(user=request.user)
    chosen = next(
        (p for p in pathways if str(p.pk) == (request.POST.get("pathway") or request.GET.get("pathway"))),
        None,
    )
    practice = _sender_practice(request.user, patient)
    proposal = propose(patient=patient, practice=practice, pathway=chosen)
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
            concerns=concerns_for(access),
            initial={"receiver": str(proposal.receiver.pk) if proposal.receiver else ""},
        )
        if request.method == "POST":
            if consent is None:
                messages.warning(request, _("Record the patient's consent first; nothing has been sent."))
                back = reverse("referrals:create", args=[patient.pk]) + f"?pathway={pathway.pk}"
                return redirect(reverse("patients:consent_create", args=[patient.pk]) + f"?next={back}")
            if form.is_valid():
                receiver = User.objects.filter(pk=form.cleaned_data["receiver"]).first()
                via = proposal.assigned_via if receiver == proposal.receiver else Referral.AssignedVia.CHOSEN
                shared = list(patient.concerns.filter(pk__in=form.cleaned_data["shared_concerns"]))
                try:
                    referral = services.referral_send(
                        request=request,
                        patient=patient,
                        pathway=pathway,
                        receiving_team=proposal.team,
                        receiver=receiver,
                        letter=form.letter_answers(),
                        urgency=form.cleaned_data["urgency"],
                        shared_concerns=shared,
                        assigned_via=via,
                    )
                except ValidationError as error:
                    for message in error.messages:
                        form.add_error(None, message)
                else:
                    messages.success(
                        request, _("Referral sent to %(name)s.") % {"name": receiver.get_full_name()}
                    )
                    return redirect("referrals:detail", pk=referral.pk)
    context = {
        "patient": patient,
        "proposal": proposal,
        "pathway": pathway,
        "pathways": pathways,
        "form": form,
        "consent": consent,
        "consent_url": reverse("patients:consent_create", args=[patient.pk])
        + (f"?next={reverse('referrals:create', args=[patient.pk])}?pathway={pathway.pk}" if pathway else ""),
    }
    return render(request, "referrals/referral_form.html", context)


def _action_forms(request, referral: Referral) -> dict:
    user = request.user
    receiver = services.is_receiver(user, referral)
    requester = services.is_requester(user, referral)
    s = referral.status
    forms = {}
    if receiver:
        if s == Status.REQUESTED:
            forms["accept"] = None
        if s in (Status.REQUESTED, Status.ACCEPTED):
            forms["decline"] = DeclineForm()
            people = [
                u
                for t in Team.objects.filter(kind=referral.receiving_team.kind)
                for u in team_members(t)
                if u.pk != referral.receiver_id
            ]
            forms["forward"] = ForwardForm(people=people)
        if s == Status.ACCEPTED:
            forms["first_contact"] = FirstContactForm()
        if s in (Status.IN_PROGRESS, Status.ON_HOLD):
            forms["feedback"] = FeedbackForm()
            forms["complete"] = CompleteForm()
        if s == Status.IN_PROGRESS:
            forms["hold"] = NoteForm()
        if s == Status.ON_HOLD:
            forms["resume"] = None
        if s == Status.COMPLETED:
            forms["reopen"] = NoteForm()
        if (
            s in (Status.REQUESTED, Status.ACCEPTED, Status.IN_PROGRESS, Status.ON_HOLD)
            and Membership.objects.filter(
                user=user, team=referral.receiving_team, role=Membership.Role.COORDINATOR
            ).exists()
        ):
            forms["reassign"] = ForwardForm(
                people=[u for u in team_members(referral.receiving_team) if u.pk != referral.receiver_id]
            )
    if requester:
        if referral.feedback.filter(acknowledged_at__isnull=True).exists():
            forms["acknowledge"] = None
        if s in (Status.DRAFT, Status.REQUESTED, Status.ACCEPTED, Status.IN_PROGRESS, Status.ON_HOLD):
            forms["cancel"] = NoteForm()
        if s != Status.ENTERED_IN_ERROR:
            forms["entered_in_error"] = NoteForm()
    return forms


@never_cache
def referral_detail(request, pk: int):
    referral = selectors.get_referral_for_user(request, pk)
    if referral.status == Status.ENTERED_IN_ERROR and not services.is_requester(request.user, referral):
        raise Http404
    context = {
        "referral": referral,
        "timeline": selectors.timeline_for(referral),
        "letter": [(q.label, referral.letter.get(q.key, "")) for q in referral.pathway.letter_fields.all()],
        "shared_concerns": referral.shared_concerns.all(),
        "actions": _action_forms(request, referral),
        "message_form": MessageForm() if services.can_take_part(request.user, referral) else None,
        "consultation": getattr(referral, "joint_consultation", None),
        "is_receiver": services.is_receiver(request.user, referral),
        "is_requester": services.is_requester(request.user, referral),
    }
    return render(request, "referrals/referral_detail.html", context)


@never_cache
def referral_letter(request, pk: int):
    referral = selectors.get_referral_for_user(request, pk, event=AccessEvent.PRINT)
    context = {
        "referral": referral,
        "letter": [(q.label, referral.letter.get(q.key, "")) for q in referral.pathway.letter_fields.all()],
        "shared_concerns": referral.shared_concerns.all(),
    }
    return render(request, "referrals/letter_print.html", context)


def _user(pk) -> User:
    user = User.objects.filter(pk=pk, is_active=True).first()
    if user is None:
        raise ValidationError(_("Choose a person from the list."))
    return user


ACTIONS = {
    # action: (form class or None, service call with request, referral and cleaned data, success message)
    "accept": (
        None,
        lambda r, ref, d: services.referral_accept(request=r, referral=ref),
        _("Referral accepted."),
    ),
    "decline": (
        DeclineForm,
        lambda r, ref, d: services.referral_decline(request=r, referral=ref, **d),
        _("Referral declined; the sender is informed."),
    ),
    "forward": (
        None,
        lambda r, ref, d: services.referral_forward(
            request=r, referral=ref, to_user=_user(r.POST.get("to_user")), note=r.POST.get("note", "")
        ),
        _("Referral forwarded."),
    ),
    "reassign": (
        None,
        lambda r, ref, d: services.referral_reassign(
            request=r, referral=ref, to_user=_user(r.POST.get("to_user"))
        ),
        _("Referral reassigned."),
    ),
    "first_contact": (
        FirstContactForm,
        lambda r, ref, d: services.referral_first_contact(request=r, referral=ref, **d),
        _("First contact recorded and reported to the GP."),
    ),
    "feedback": (
        FeedbackForm,
        lambda r, ref, d: services.referral_feedback(request=r, referral=ref, **d),
        _("Feedback sent to the GP."),
    ),
    "complete": (
        CompleteForm,
        lambda r, ref, d: services.referral_complete(request=r, referral=ref, **d),
        _("Referral closed; the GP has your summary."),
    ),
    "hold": (
        NoteForm,
        lambda r, ref, d: services.referral_hold(request=r, referral=ref, **d),
        _("Put on hold."),
    ),
    "resume": (None, lambda r, ref, d: services.referral_resume(request=r, referral=ref), _("Resumed.")),
    "reopen": (
        NoteForm,
        lambda r, ref, d: services.referral_reopen(request=r, referral=ref, **d),
        _("Referral reopened."),
    ),
    "acknowledge": (
        None,
        lambda r, ref, d: services.referral_acknowledge(request=r, referral=ref),
        _("Feedback acknowledged."),
    ),
    "cancel": (
        NoteForm,
        lambda r, ref, d: services.referral_cancel(request=r, referral=ref, **d),
        _("Referral cancelled."),
    ),
    "entered_in_error": (
        NoteForm,
        lambda r, ref, d: services.referral_mark_entered_in_error(request=r, referral=ref, **d),
        _("Marked as entered in error; it is hidden from the lists."),
    ),
    "message": (
        MessageForm,
        lambda r, ref, d: services.message_post(request=r, referral=ref, **d),
        _("Message sent."),
    ),
}


@require_POST
def referral_action(request, pk: int, action: str):
    if action not in ACTIONS:
        raise Http404
    referral = selectors.get_referral_for_user(request, pk, event=AccessEvent.CHANGE)
    form_class, call, success = ACTIONS[action]
    form = form_class(request.POST) if form_class else None
    if form is not None and not form.is_valid():
        for field, errors in form.errors.items():
            for error in errors:
                messages.error(
                    request, f"{form.fields[field].label}: {error}" if field in form.fields else error
                )
    else:
        try:
            call(request, referral, form.cleaned_data if form else {})
        except PermissionDenied:
            raise
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
        else:
            messages.success(request, str(success))
    if request.htmx and request.POST.get("row"):
        referral = (
            selectors.received_for(user=request.user).filter(pk=pk).first()
            or selectors.sent_for(user=request.user).filter(pk=pk).first()
        )
        return render(
            request,
            "referrals/_referral_row.html",
            {"r": referral, "today": timezone.localdate(), "box": request.POST.get("row")},
        )
    return redirect("referrals:detail", pk=pk)


@never_cache
def consultation_plan(request, pk: int):
    referral = selectors.get_referral_for_user(
        request, pk, event=AccessEvent.CHANGE if request.POST else AccessEvent.VIEW
    )
    if not referral.pathway.is_joint_consultation or not services.can_take_part(request.user, referral):
        raise PermissionDenied
    people = _consultation_people(referral)
    form = JointConsultationForm(
        request.POST or None,
        people=people,
        initial={"participants": [str(referral.sender_id), str(referral.receiver_id)]},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        participants = list(User.objects.filter(pk__in=data.pop("participants")))
        try:
            services.joint_consultation_schedule(
                request=request, referral=referral, participants=participants, **data
            )
        except ValidationError as error:
            for message in error.messages:
                form.add_error(None, message)
        else:
            messages.success(request, _("Joint consultation planned."))
            return redirect("referrals:detail", pk=pk)
    return render(request, "referrals/consultation_form.html", {"referral": referral, "form": form})


def _consultation_people(referral: Referral) -> list:
    """Who can be invited: the receiving team and the patient's and sender's practices."""
    teams = Team.objects.filter(
        Q(pk=referral.receiving_team_id)
        | Q(organisation_id=referral.sender_organisation_id)
        | Q(organisation_id=referral.patient.practice_id)
    )
    people = {u for team in teams for u in team_members(team)}
    return sorted(people, key=lambda u: (u.last_name, u.first_name))


@never_cache
def consultation_record(request, pk: int):
    """Minutes of a joint consultation and the actions agreed, each with an owner."""
    referral = selectors.get_referral_for_user(
        request, pk, event=AccessEvent.CHANGE if request.POST else AccessEvent.VIEW
    )
    consultation = getattr(referral, "joint_consultation", None)
    if consultation is None or not services.can_take_part(request.user, referral):
        raise PermissionDenied
    people = list(consultation.participants.all())
    form = ConsultationRecordForm(request.POST or None, people=people, initial={"notes": consultation.notes})
    if request.method == "POST" and form.is_valid():
        by_pk = {str(u.pk): u for u in people}
        actions = [(text, by_pk[owner], due) for text, owner, due in form.actions()]
        services.joint_consultation_record(
            request=request, consultation=consultation, notes=form.cleaned_data["notes"], actions=actions
        )
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
    return render(request, "referrals/reminders_overview.html", context)
