from django import forms
from django.contrib import admin
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext_lazy as _

from teams.choices import Discipline, LifeDomain
from teams.models import Organisation

from .models import LetterField, Pathway, ReminderRule, RoutingRule
from .routing import propose

# Referrals themselves are patient data: they are not in the admin (see patients/admin.py).


class LetterFieldInline(admin.TabularInline):
    model = LetterField
    extra = 0
    fields = ("order", "key", "label", "kind", "choices", "help_text", "required")


class PathwayForm(forms.ModelForm):
    life_domains = forms.MultipleChoiceField(
        label=_("life domains"),
        choices=LifeDomain.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    sender_disciplines = forms.MultipleChoiceField(
        label=_("who may send"),
        choices=Discipline.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )


@admin.register(Pathway)
class PathwayAdmin(admin.ModelAdmin):
    form = PathwayForm
    list_display = ("name", "direction", "receiving_team_kind", "consent_purpose", "accept_within", "active")
    list_filter = ("direction", "active")
    search_fields = ("name", "code")
    prepopulated_fields = {"code": ("name",)}
    inlines = [LetterFieldInline]


class RoutingRuleForm(forms.ModelForm):
    life_domains = forms.MultipleChoiceField(
        label=_("when a concern is in one of these life domains"),
        choices=LifeDomain.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )


class RoutingTryForm(forms.Form):
    postcode = forms.CharField(label=_("Patient's postcode"), max_length=7)
    practice = forms.ModelChoiceField(
        label=_("GP practice"), queryset=Organisation.objects.filter(kind__in=Organisation.PRIMARY_CARE)
    )
    domains = forms.MultipleChoiceField(
        label=_("Life domains with concerns"), choices=LifeDomain.choices, widget=forms.CheckboxSelectMultiple
    )
    high_user = forms.BooleanField(label=_("High user"), required=False)


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    form = RoutingRuleForm
    list_display = ("order", "name", "pathway", "min_domains", "high_user", "active")
    list_display_links = ("name",)
    list_editable = ("order", "active")
    list_filter = ("active", "pathway")
    autocomplete_fields = ("pathway",)
    change_list_template = "admin/referrals/routingrule/change_list.html"

    def get_urls(self):
        extra = [path("try/", self.admin_site.admin_view(self.try_view), name="referrals_routingrule_try")]
        return extra + super().get_urls()

    def try_view(self, request):
        """Which pathway and contact would the guide propose for postcode X, domain Y?"""
        form = RoutingTryForm(request.POST or None)
        proposal = None
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            proposal = propose(
                practice=data["practice"],
                postcode=data["postcode"],
                domains=data["domains"],
                high_user=data["high_user"],
            )
        context = {
            **self.admin_site.each_context(request),
            "form": form,
            "proposal": proposal,
            "title": _("Try the routing guide"),
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/referrals/routingrule/try.html", context)


@admin.register(ReminderRule)
class ReminderRuleAdmin(admin.ModelAdmin):
    list_display = ("name", "trigger", "days", "audience", "pathway", "active")
    list_editable = ("active",)
    list_filter = ("trigger", "audience", "active")
    autocomplete_fields = ("pathway",)
