from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from collab_hub.core.forms import limit_length
from teams.models import Organisation, Team

from .models import PATIENT_FIELDS, Concern, Consent, ConsentPurpose, Patient, Perspective

# Letter pairs PostNL never uses in postcodes.
UNUSED_POSTCODE_LETTERS = {"SA", "SD", "SS"}


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


def tidy_postcode(value: str) -> str:
    """'6535ab' → '6535 AB'; raise a clear error for a postcode that cannot exist."""
    compact = value.replace(" ", "").upper()
    ascii_ok = compact.isascii() and compact[:4].isdecimal() and compact[4:].isalpha()
    if len(compact) != 6 or not ascii_ok or compact[0] == "0":
        raise forms.ValidationError(_("Enter a Dutch postcode such as 6535 AB."))
    if compact[4:] in UNUSED_POSTCODE_LETTERS:
        raise forms.ValidationError(
            _("This postcode does not exist: the letters SA, SD and SS are never used.")
        )
    return f"{compact[:4]} {compact[4:]}"


class PatientForm(forms.ModelForm):
    perspectives = forms.MultipleChoiceField(
        label=_("Perspectives"),
        choices=Perspective.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Tick what applies; no single perspective says who someone is."),
    )
    confirm_not_duplicate = forms.BooleanField(
        label=_("This is a different person: save anyway"), required=False, widget=forms.CheckboxInput
    )

    class Meta:
        model = Patient
        fields = list(PATIENT_FIELDS)
        widgets = {
            "date_of_birth": DateInput(),
            "high_user_since": DateInput(),
            "bsn": forms.TextInput(attrs={"autocomplete": "off", "inputmode": "numeric", "maxlength": 9}),
        }
        help_texts = {"bsn": _("Optional. Only the GP practice sees it.")}

    def __init__(self, *args, practices=None, show_duplicate_confirmation=False, **kwargs):
        super().__init__(*args, **kwargs)
        if practices is not None and len(practices) > 1:
            self.fields["practice"] = forms.ModelChoiceField(label=_("GP practice"), queryset=practices)
        if not show_duplicate_confirmation:
            del self.fields["confirm_not_duplicate"]

    def clean_postcode(self):
        return tidy_postcode(self.cleaned_data["postcode"])

    def clean_bsn(self):
        return self.cleaned_data.get("bsn", "").replace(" ", "").replace(".", "")

    def clean_date_of_birth(self):
        value = self.cleaned_data["date_of_birth"]
        if value > timezone.localdate():
            raise forms.ValidationError(_("The date of birth cannot be in the future."))
        return value

    def clean(self):
        data = super().clean()
        if data.get("is_high_user") and not data.get("high_user_since"):
            self.add_error("high_user_since", _("Give the date since when the patient is a high user."))
        return data


class PatientSearchForm(forms.Form):
    name = forms.CharField(label=_("Name"), required=False, max_length=100)
    date_of_birth = forms.DateField(label=_("Date of birth"), required=False, widget=DateInput())

    def clean(self):
        data = super().clean()
        if not data.get("name", "").strip() and not data.get("date_of_birth"):
            raise forms.ValidationError(_("Search by name, date of birth or both."))
        return data


class ConcernForm(forms.ModelForm):
    class Meta:
        model = Concern
        fields = ["domain", "description", "since", "status"]
        widgets = {"since": DateInput(), "description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        limit_length(self.fields["description"], 2000)

    def clean_since(self):
        value = self.cleaned_data.get("since")
        if value and value > timezone.localdate():
            raise forms.ValidationError(_("This date lies in the future."))
        return value


class ConsentForm(forms.ModelForm):
    recipient_team = forms.ModelChoiceField(
        label=_("Recipient team"),
        queryset=Team.objects.exclude(kind=Team.Kind.PRACTICE)
        .select_related("organisation")
        .order_by("name"),
        required=False,
    )
    recipient_organisation = forms.ModelChoiceField(
        label=_("Or a whole organisation"), queryset=Organisation.objects.order_by("name"), required=False
    )

    class Meta:
        model = Consent
        fields = [
            "purpose",
            "recipient_team",
            "recipient_organisation",
            "form",
            "given_on",
            "valid_until",
            "note",
        ]
        widgets = {"given_on": DateInput(), "valid_until": DateInput()}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["purpose"].choices = ConsentPurpose.choices
        self.fields["given_on"].initial = timezone.localdate()

    def clean(self):
        data = super().clean()
        team, organisation = data.get("recipient_team"), data.get("recipient_organisation")
        if bool(team) == bool(organisation):
            raise forms.ValidationError(_("Choose the recipient: a team or an organisation, not both."))
        given_on, valid_until = data.get("given_on"), data.get("valid_until")
        if given_on and given_on > timezone.localdate():
            self.add_error("given_on", _("Consent cannot be recorded for a day in the future."))
        if given_on and valid_until and valid_until < given_on:
            self.add_error("valid_until", _("Consent cannot end before the day it was given."))
        return data


class EmergencyAccessForm(forms.Form):
    last_name = forms.CharField(label=_("Last name"), max_length=150)
    date_of_birth = forms.DateField(label=_("Date of birth"), widget=DateInput())
    postcode = forms.CharField(label=_("Postcode"), max_length=7)
    reason = forms.CharField(
        label=_("Reason"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Why you need this patient's data now. The access is checked afterwards."),
        required=False,
        max_length=500,  # the care relationship's column
    )

    def clean_postcode(self):
        return tidy_postcode(self.cleaned_data["postcode"])

    def clean_reason(self):
        reason = self.cleaned_data.get("reason", "").strip()
        if len(reason) < 10:
            raise forms.ValidationError(_("Explain in a sentence why you need emergency access."))
        return reason
