from django.contrib import admin

from .models import (
    ActionItem,
    CoreTeamMember,
    Cycle,
    DoLogEntry,
    ImprovementProject,
    MeetingFinding,
    ReflectionMeeting,
)


class CoreTeamInline(admin.TabularInline):
    model = CoreTeamMember
    extra = 0
    autocomplete_fields = ("user",)


class CycleInline(admin.TabularInline):
    model = Cycle
    extra = 0
    fields = ("number", "starts_on", "ends_on", "phase", "decision")
    show_change_link = True


@admin.register(ImprovementProject)
class ImprovementProjectAdmin(admin.ModelAdmin):
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
    inlines = [DoLogInline]


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
