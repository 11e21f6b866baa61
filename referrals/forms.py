from django import forms
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from patients.forms import DateInput

from .models import DeclineReason, Feedback, LetterField, Pathway, Urgency

YES_NO = [("", "—"), ("yes", _("Yes")), ("no", _("No"))]


def letter_form_fields(pathway: Pathway) -> dict[str, forms.Field]:
    """Form fields for a pathway's standard letter, prefixed `letter_` to keep them apart."""
    fields = {}
    for question in pathway.letter_fields.all():
        common = {"label": question.label, "help_text": question.help_text, "required": question.required}
        if question.kind == LetterField.Kind.CHOICE:
            field = forms.ChoiceField(
                choices=[("", "—")] + [(c, c) for c in question.choice_list()], **common
            )
        elif question.kind == LetterField.Kind.YES_NO:
            field = forms.ChoiceField(choices=YES_NO, **common)
        elif question.kind == LetterField.Kind.DATE:
            field = forms.DateField(widget=DateInput(), **common)
        else:
            field = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=2000, **common)
        fields[f"letter_{question.key}"] = field
    return fields


class ReferralForm(forms.Form):
    # A token per form: posting the same form twice (a double click, a retry) sends one referral.
    # The form's own token (a uuid4 in hex, views.referral_create): anything else is a forged form.
    submission = forms.RegexField(
        regex=r"^[0-9a-f]{32}$",
        widget=forms.HiddenInput,
        required=False,
        error_messages={"invalid": _("This form cannot be sent again. Open a new referral form.")},
    )
    receiver = forms.ChoiceField(
        label=_("To"), help_text=_("The named contact is proposed; you may choose a colleague.")
    )
    urgency = forms.ChoiceField(label=_("Urgency"), choices=Urgency.choices, initial=Urgency.ROUTINE)
    shared_concerns = forms.MultipleChoiceField(
        label=_("Share these concerns"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Only what you tick is shared with the receiving team."),
    )

    def __init__(self, *args, pathway: Pathway, candidates: list, concerns: list, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["receiver"].choices = [
            (
                str(u.pk),
                f"{u.get_full_name()} – {u.profile.get_discipline_display()}"
                if hasattr(u, "profile")
                else u.get_full_name(),
            )
            for u in candidates
        ]
        self.fields["shared_concerns"].choices = [
            (str(c.pk), f"{c.get_domain_display()}: {c.description}") for c in concerns
        ]
        self.fields.update(letter_form_fields(pathway))

    def letter_answers(self) -> dict:
        answers = {}
        for name, value in self.cleaned_data.items():
            if name.startswith("letter_"):
                answers[name.removeprefix("letter_")] = (
                    value.isoformat() if hasattr(value, "isoformat") else value
                )
        return answers


class DeclineForm(forms.Form):
    # No reason is chosen for the receiver: a decline sent with the first one by mistake misleads the GP.
    reason = forms.ChoiceField(
        label=_("Reason"), choices=[("", _("— choose a reason —")), *DeclineReason.choices]
    )
    note = forms.CharField(
        label=_("Explanation"), required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        name = obj.get_full_name() or obj.get_username()
        until = getattr(obj, "absent_until", None)
        if until is None:
            return name
        return _("%(name)s (absent until %(date)s)") % {
            "name": name,
            "date": date_format(until, "SHORT_DATE_FORMAT"),
        }


class ForwardForm(forms.Form):
    """Forward to someone of a team that receives the pathway and has the patient's consent; the choice
    is the people the service accepts (referrals.services.forward_candidates), nothing typed in."""

    to_user = PersonChoiceField(
        label=_("Forward to"),
        queryset=None,
        error_messages={"invalid_choice": _("Choose a person from the list.")},
        help_text=_(
            "Hand the referral to someone who fits it better, in this or another team that receives this "
            "pathway and for which the patient gave consent. You can no longer open it afterwards."
        ),
    )
    note = forms.CharField(label=_("Note for the new receiver"), required=False, max_length=500)

    def __init__(self, *args, people, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_user"].queryset = people


class ReassignForm(forms.Form):
    to_user = PersonChoiceField(
        label=_("Reassign to"),
        queryset=None,
        error_messages={"invalid_choice": _("Choose a person from the list.")},
        help_text=_(
            "As the team's coordinator: give the referral to another member of this team. If it was not "
            "accepted yet, the time to accept starts again for them."
        ),
    )

    def __init__(self, *args, people, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_user"].queryset = people


class FirstContactForm(forms.Form):
    contact_date = forms.DateField(label=_("Date of contact"), widget=DateInput(), initial=timezone.localdate)
    contact_method = forms.ChoiceField(label=_("How"), choices=Feedback.ContactMethod.choices)
    text = forms.CharField(
        label=_("First impression for the GP"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class FeedbackForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=[
            (Feedback.Kind.PLAN_AGREED, Feedback.Kind.PLAN_AGREED.label),
            (Feedback.Kind.PROGRESS, Feedback.Kind.PROGRESS.label),
        ],
    )
    text = forms.CharField(
        label=_("How is the patient doing?"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )


class CompleteForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("Outcome"), choices=[("", _("— choose the outcome —")), *Feedback.Outcome.choices]
    )
    text = forms.CharField(
        label=_("Summary for the GP"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )


class NoteForm(forms.Form):
    note = forms.CharField(label=_("Note"), required=False, max_length=500)


class MessageForm(forms.Form):
    text = forms.CharField(label=_("Message"), max_length=4000, widget=forms.Textarea(attrs={"rows": 2}))


class JointConsultationForm(forms.Form):
    scheduled_at = forms.DateTimeField(
        label=_("Date and time"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    location = forms.CharField(label=_("Location"), max_length=200)
    participants = forms.MultipleChoiceField(label=_("Participants"), widget=forms.CheckboxSelectMultiple)
    patient_attends = forms.BooleanField(label=_("The patient takes part"), required=False, initial=True)
    agenda = forms.CharField(
        label=_("Agenda"), required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, people: list, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["participants"].choices = [(str(u.pk), u.get_full_name()) for u in people]


class ConsultationRecordForm(forms.Form):
    """Minutes and up to three agreed actions with owners."""

    notes = forms.CharField(label=_("Notes"), max_length=8000, widget=forms.Textarea(attrs={"rows": 4}))

    def __init__(self, *args, people: list, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", "—")] + [(str(u.pk), u.get_full_name()) for u in people]
        for i in range(1, 4):
            self.fields[f"action_{i}"] = forms.CharField(
                label=_("Agreed action %(n)d") % {"n": i}, required=False, max_length=300
            )
            self.fields[f"owner_{i}"] = forms.ChoiceField(label=_("Owner"), choices=choices, required=False)
            self.fields[f"due_{i}"] = forms.DateField(label=_("Due on"), required=False, widget=DateInput())

    def clean(self):
        data = super().clean()
        for i in range(1, 4):
            if data.get(f"action_{i}") and not data.get(f"owner_{i}"):
                self.add_error(f"owner_{i}", _("Every agreed action needs an owner."))
        return data

    def actions(self) -> list[tuple[str, str, object]]:
        data = self.cleaned_data
        return [
            (data[f"action_{i}"], data[f"owner_{i}"], data[f"due_{i}"])
            for i in range(1, 4)
            if data.get(f"action_{i}")
        ]
