from django import forms
from django.utils.translation import gettext_lazy as _

from patients.forms import DateInput

from .models import MeetingFinding, ReflectionMeeting


class MeetingForm(forms.Form):
    held_on = forms.DateField(label=_("Date"), widget=DateInput())
    kind = forms.ChoiceField(label=_("Kind"), choices=ReflectionMeeting.Kind.choices)
    cycle = forms.ChoiceField(label=_("Cycle"), required=False)
    minutes = forms.CharField(label=_("Minutes"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    lessons = forms.CharField(
        label=_("Lessons learned"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    finding_kind = forms.ChoiceField(label=_("Barrier or facilitator"), choices=MeetingFinding.Kind.choices)
    finding_category = forms.ChoiceField(label=_("Category"), choices=MeetingFinding.Category.choices)
    finding_text = forms.CharField(label=_("Description"), required=False, max_length=500)

    def __init__(self, *args, cycles, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cycle"].choices = [("", "—")] + [(str(c.number), str(c.number)) for c in cycles]
