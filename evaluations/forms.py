from datetime import timedelta

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from patients.forms import DateInput

from .indicators import LABELS, first_of_month
from .models import Cycle, Export, MeetingFinding, ReflectionMeeting

PREDICTION_PREFIX = "prediction_"


class MeetingForm(forms.Form):
    held_on = forms.DateField(label=_("Date"), widget=DateInput())
    kind = forms.ChoiceField(label=_("Kind"), choices=ReflectionMeeting.Kind.choices)
    cycle = forms.ChoiceField(label=_("Cycle"), required=False)
    minutes = forms.CharField(
        label=_("Minutes"), required=False, max_length=10000, widget=forms.Textarea(attrs={"rows": 3})
    )
    lessons = forms.CharField(
        label=_("Lessons learned"), required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 2})
    )
    finding_kind = forms.ChoiceField(label=_("Barrier or facilitator"), choices=MeetingFinding.Kind.choices)
    finding_category = forms.ChoiceField(label=_("Category"), choices=MeetingFinding.Category.choices)
    finding_text = forms.CharField(label=_("Description"), required=False, max_length=500)

    def __init__(self, *args, cycles, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cycle"].choices = [("", "—")] + [(str(c.number), str(c.number)) for c in cycles]


class PeriodForm(forms.Form):
    starts_on = forms.DateField(label=_("Start"), widget=DateInput())
    ends_on = forms.DateField(
        label=_("End"),
        widget=DateInput(),
        help_text=_("A cycle runs in whole months: from the first of a month to the last day of a month."),
    )

    @staticmethod
    def after(cycle) -> "PeriodForm":
        """Proposes the next cycle: from the day after this one, as many whole months as this one."""
        if cycle.ends_on.year >= 9999:  # a project made before projects ended by 2100: nothing to propose
            return PeriodForm()
        start = cycle.ends_on + timedelta(days=1)
        months = max(1, round((cycle.ends_on - cycle.starts_on).days / 30.44))
        end = min(first_of_month(start, months) - timedelta(days=1), cycle.project.ends_on)
        return PeriodForm(initial={"starts_on": start, "ends_on": end})

    @staticmethod
    def first(project) -> "PeriodForm":
        """Proposes a first cycle of three whole months, from the project's start."""
        start = project.starts_on
        if start.year >= 9999:
            return PeriodForm(initial={"starts_on": start, "ends_on": start})
        end = min(first_of_month(start, 3) - timedelta(days=1), project.ends_on)
        return PeriodForm(initial={"starts_on": start, "ends_on": end})

    def clean(self):
        data = super().clean()
        if data.get("starts_on") and data.get("ends_on") and data["ends_on"] < data["starts_on"]:
            self.add_error("ends_on", _("A cycle cannot end before it starts."))
        return data


class PlanForm(PeriodForm):
    objective = forms.CharField(
        label=_("Objective"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
    change_to_test = forms.CharField(
        label=_("Change to test"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
    measures = forms.CharField(
        label=_("Measures"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("How you will know whether the change is an improvement."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for key, label in LABELS.items():
            self.fields[PREDICTION_PREFIX + key] = forms.FloatField(
                label=label,
                required=False,
                min_value=0,
                help_text=_("Prediction as a number; shares as a fraction (0.8 is 80%)."),
            )

    @classmethod
    def for_cycle(cls, cycle: Cycle, data=None) -> "PlanForm":
        initial = {
            "starts_on": cycle.starts_on,
            "ends_on": cycle.ends_on,
            "objective": cycle.objective,
            "change_to_test": cycle.change_to_test,
            "measures": cycle.measures,
            **{PREDICTION_PREFIX + key: value for key, value in cycle.predictions.items()},
        }
        return cls(data, initial=initial)

    def clean(self):
        data = super().clean()
        for key in LABELS:
            value = data.get(PREDICTION_PREFIX + key)
            if value is not None and key.endswith(("_rate", "_share")) and value > 1:
                self.add_error(PREDICTION_PREFIX + key, _("A share is a fraction between 0 and 1."))
        return data

    def predictions(self) -> dict:
        return {
            key: self.cleaned_data[PREDICTION_PREFIX + key]
            for key in LABELS
            if self.cleaned_data.get(PREDICTION_PREFIX + key) is not None
        }


class DoLogForm(forms.Form):
    on = forms.DateField(label=_("Date"), widget=DateInput())
    text = forms.CharField(
        label=_("What happened"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )


class ActForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"), choices=Cycle.Decision.choices, widget=forms.RadioSelect
    )
    rationale = forms.CharField(
        label=_("Rationale"), max_length=4000, widget=forms.Textarea(attrs={"rows": 2})
    )
    lessons = forms.CharField(
        label=_("Lessons learned"), required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 2})
    )


class ActionItemForm(forms.Form):
    title = forms.CharField(label=_("Action"), max_length=300)
    owner = forms.ModelChoiceField(label=_("Owner"), queryset=None)
    due_on = forms.DateField(label=_("Due on"), widget=DateInput())
    cycle = forms.ModelChoiceField(label=_("Cycle"), queryset=None, required=False)

    def __init__(self, *args, project, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = (
            get_user_model()
            .objects.filter(Q(pk=project.lead_id) | Q(pk__in=project.core_team.values("user_id")))
            .order_by("first_name", "last_name")
        )
        self.fields["owner"].label_from_instance = lambda user: user.get_full_name() or user.username
        self.fields["cycle"].queryset = project.cycles.order_by("number")
        self.fields["cycle"].label_from_instance = lambda cycle: _("Cycle %(n)s") % {"n": cycle.number}


class ExportForm(forms.Form):
    dataset = forms.ChoiceField(label=_("Data"), choices=Export.Dataset.choices, widget=forms.RadioSelect)
    format = forms.ChoiceField(
        label=_("Format"), choices=Export.Format.choices, widget=forms.RadioSelect, initial=Export.Format.CSV
    )

    def __init__(self, *args, researcher: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if not researcher:  # row-by-row referral events are for researchers only
            self.fields["dataset"].choices = [
                (value, label) for value, label in Export.Dataset.choices if value != Export.Dataset.EVENTS
            ]
