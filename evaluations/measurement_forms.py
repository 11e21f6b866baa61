from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from collab_hub.core.forms import limit_length
from patients.forms import DateInput

from .measurement_models import SCALE_RANGE, CaseActivity, EffectCase, MeasurementRound, Scale, UnitPrice


def answer_fields(version, *, optional: bool = False) -> dict[str, forms.Field]:
    """One form field per item of an instrument version, in its scale."""
    fields = {}
    for item in version.items.all():
        required = item.required and not optional
        if item.scale == Scale.TEXT:
            fields[item.code] = forms.CharField(  # refused over 2,000, not cut (instruments.clean_answers)
                label=item.text, required=required, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
            )
            continue
        low, high = SCALE_RANGE[item.scale]
        if item.labels or item.scale in (Scale.LIKERT_5, Scale.YES_NO):
            labels = item.labels or ([_("No"), _("Yes")] if item.scale == Scale.YES_NO else [])
            choices = [
                (str(low + i), f"{low + i} – {label}" if label else str(low + i))
                for i, label in enumerate(labels)
            ]
            if not choices:
                choices = [(str(v), str(v)) for v in range(low, high + 1)]
            widget = forms.RadioSelect if item.scale != Scale.LEVEL_1_5 else forms.Select
            if widget is forms.Select:
                choices = [("", "—"), *choices]
            fields[item.code] = forms.ChoiceField(
                label=item.text, choices=choices, required=required, widget=widget, help_text=item.help_text
            )
        else:
            fields[item.code] = forms.IntegerField(
                label=item.text, required=required, min_value=low, max_value=high, help_text=item.help_text
            )
    return fields


class AnswerForm(forms.Form):
    def __init__(self, *args, version, optional: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields.update(answer_fields(version, optional=optional))

    def answers(self) -> dict:
        return {k: v for k, v in self.cleaned_data.items() if v not in (None, "")}


class OutcomeForm(AnswerForm):
    measured_on = forms.DateField(label=_("Date"), widget=DateInput())
    self_report = forms.BooleanField(label=_("Filled in by or together with the patient"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, optional=True, **kwargs)
        self.order_fields(["measured_on", "self_report"])

    def answers(self) -> dict:
        return {
            k: v
            for k, v in self.cleaned_data.items()
            if k not in ("measured_on", "self_report") and v not in (None, "")
        }


class RoundForm(forms.Form):
    moment = forms.ChoiceField(label=_("Moment"), choices=MeasurementRound.Moment.choices)
    after_cycle = forms.IntegerField(label=_("After cycle"), required=False, min_value=1, max_value=999)
    closes_on = forms.DateField(label=_("Closes on"), widget=DateInput())

    def clean_closes_on(self):
        value = self.cleaned_data["closes_on"]
        if value < timezone.localdate():
            raise forms.ValidationError(_("A round cannot close before it opens."))
        return value


class CaseForm(forms.ModelForm):
    class Meta:
        model = EffectCase
        fields = ["label", "summary"]
        widgets = {"summary": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        limit_length(self.fields["summary"], 2000)


class ActivityForm(forms.ModelForm):
    class Meta:
        model = CaseActivity
        fields = ["scenario", "price", "quantity", "month"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["price"].queryset = UnitPrice.objects.order_by("party", "name")
