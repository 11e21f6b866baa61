import json

from django import forms
from django.contrib import admin
from django.http import HttpResponse
from django.utils.translation import gettext_lazy as _

from .disclosure import Scope
from .indicators import baseline_dates
from .models import (
    ActionItem,
    CaseActivity,
    CoreTeamMember,
    Cycle,
    Dimension,
    DoLogEntry,
    EffectCase,
    ImprovementProject,
    Instrument,
    InstrumentVersion,
    Item,
    MeetingFinding,
    ReflectionMeeting,
    UnitPrice,
)
from .services import check_project_scope


class CoreTeamInline(admin.TabularInline):
    model = CoreTeamMember
    extra = 0
    autocomplete_fields = ("user",)


class CycleInline(admin.TabularInline):
    """Cycles are planned and moved through the project pages, which keep their dates honest (no
    overlap, four weeks, fixed after Plan: docs/privacy-aggregates.md); here they are read only."""

    model = Cycle
    extra = 0
    fields = ("number", "starts_on", "ends_on", "phase", "decision")
    readonly_fields = fields
    show_change_link = True
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class ImprovementProjectForm(forms.ModelForm):
    """Scope and period go through services.check_project_scope: no two projects count the same
    referrals, and dates that have passed stay put (docs/privacy-aggregates.md)."""

    def _baseline_from(self, months):
        """The baseline's first day with these months, before cycle 1 as saved (none without it)."""
        first = None
        if self.instance.pk:
            first = self.instance.cycles.filter(number=1).values_list("starts_on", flat=True).first()
        dates = baseline_dates(months if months is not None else self.instance.baseline_months, first)
        return dates[0] if dates else None

    class Meta:
        model = ImprovementProject
        fields = (
            "name",
            "aim",
            "aim_health",
            "aim_experience",
            "aim_cost",
            "shared_vision",
            "area",
            "organisations",
            "teams",
            "pathways",
            "lead",
            "starts_on",
            "ends_on",
            "baseline_months",
        )

    def clean(self):
        data = super().clean()
        if self.errors or data.get("starts_on") is None or data.get("ends_on") is None:
            return data
        scope = Scope(
            self.instance.pk,
            data["starts_on"],
            data["ends_on"],
            frozenset(t.pk for t in data.get("teams") or ()),
            frozenset(p.pk for p in data.get("pathways") or ()),
            self._baseline_from(data.get("baseline_months")),
        )
        check_project_scope(scope)
        return data


@admin.register(ImprovementProject)
class ImprovementProjectAdmin(admin.ModelAdmin):
    form = ImprovementProjectForm
    list_display = ("name", "lead", "starts_on", "ends_on")
    search_fields = ("name",)
    autocomplete_fields = ("lead", "area")
    filter_horizontal = ("organisations", "teams", "pathways")
    inlines = [CoreTeamInline, CycleInline]


class DoLogInline(admin.TabularInline):
    model = DoLogEntry
    extra = 0
    autocomplete_fields = ("author",)


@admin.register(Cycle)
class CycleAdmin(admin.ModelAdmin):
    list_display = ("project", "number", "starts_on", "ends_on", "phase", "decision")
    list_filter = ("phase", "project")
    # Dates and phase change only through the project pages (see CycleInline).
    readonly_fields = ("project", "number", "starts_on", "ends_on", "phase")
    inlines = [DoLogInline]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # its referrals' months would move to another group: a cycle stays, or is abandoned


@admin.register(ActionItem)
class ActionItemAdmin(admin.ModelAdmin):
    list_display = ("title", "project", "cycle", "owner", "due_on", "status")
    list_filter = ("status", "project")
    autocomplete_fields = ("owner",)


class FindingInline(admin.TabularInline):
    model = MeetingFinding
    extra = 1


@admin.register(ReflectionMeeting)
class ReflectionMeetingAdmin(admin.ModelAdmin):
    list_display = ("project", "held_on", "kind", "cycle")
    list_filter = ("kind", "project")
    filter_horizontal = ("participants",)
    inlines = [FindingInline]


# --- instruments, measurement, effects calculator -------------------------------------------------


class VersionInline(admin.TabularInline):
    model = InstrumentVersion
    extra = 0
    fields = ("number", "published")
    show_change_link = True


@admin.register(Instrument)
class InstrumentAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "purpose")
    inlines = [VersionInline]


class DimensionInline(admin.TabularInline):
    model = Dimension
    extra = 0


class ItemInline(admin.TabularInline):
    model = Item
    extra = 0
    fields = ("order", "code", "text", "dimension", "scale", "reverse", "required", "labels")


@admin.register(InstrumentVersion)
class InstrumentVersionAdmin(admin.ModelAdmin):
    list_display = ("instrument", "number", "published")
    inlines = [DimensionInline, ItemInline]
    actions = ["export_fhir"]

    @admin.action(description=_("Download as FHIR Questionnaire (JSON)"))
    def export_fhir(self, request, queryset):
        from .instruments import to_fhir

        data = [to_fhir(version) for version in queryset.select_related("instrument")]
        response = HttpResponse(
            json.dumps(data[0] if len(data) == 1 else data, ensure_ascii=False, indent=2),
            content_type="application/fhir+json; charset=utf-8",
        )
        response["Content-Disposition"] = 'attachment; filename="questionnaire.json"'
        return response


@admin.register(UnitPrice)
class UnitPriceAdmin(admin.ModelAdmin):
    list_display = ("name", "unit", "price", "party", "year", "source")
    list_filter = ("party", "year")
    search_fields = ("name", "source")


class ActivityInline(admin.TabularInline):
    model = CaseActivity
    extra = 0
    autocomplete_fields = ("price",)


@admin.register(EffectCase)
class EffectCaseAdmin(admin.ModelAdmin):
    list_display = ("label", "project")
    inlines = [ActivityInline]
