from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from collab_hub.accounts.admin import UserAdmin as BaseUserAdmin

from .choices import LifeDomain, Weekday
from .models import (
    Absence,
    Area,
    ConsultationHour,
    Membership,
    NamedContact,
    Organisation,
    PostcodeRange,
    Profile,
    Service,
    Team,
)

User = get_user_model()


class PostcodeRangeInline(admin.TabularInline):
    model = PostcodeRange
    extra = 0


@admin.register(Area)
class AreaAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "parent", "population")
    list_filter = ("kind",)
    search_fields = ("name",)
    autocomplete_fields = ("parent",)
    inlines = [PostcodeRangeInline]


class NamedContactInline(admin.TabularInline):
    model = NamedContact
    fk_name = "practice"
    extra = 0
    autocomplete_fields = ("team", "contact", "deputy")
    verbose_name = _("named contact in a welfare team")
    verbose_name_plural = _("named contacts in welfare teams")


class TeamInline(admin.TabularInline):
    model = Team
    extra = 0
    show_change_link = True
    fields = ("name", "kind", "phone", "email")


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "area", "phone", "agb_code")
    list_filter = ("kind", "area")
    search_fields = ("name", "agb_code", "city")
    autocomplete_fields = ("area", "contact_person")
    inlines = [TeamInline, NamedContactInline]

    def get_inlines(self, request, obj):
        if obj is not None and obj.is_primary_care:
            return [TeamInline, NamedContactInline]
        return [TeamInline]


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ("user",)


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "organisation", "kind")
    list_filter = ("kind", "organisation")
    search_fields = ("name", "organisation__name")
    autocomplete_fields = ("organisation",)
    filter_horizontal = ("areas",)
    inlines = [MembershipInline]


@admin.register(NamedContact)
class NamedContactAdmin(admin.ModelAdmin):
    list_display = ("practice", "team", "life_domain", "contact", "deputy")
    list_filter = ("team", "life_domain")
    search_fields = ("practice__name", "team__name", "contact__last_name", "deputy__last_name")
    autocomplete_fields = ("practice", "team", "contact", "deputy")


@admin.register(Absence)
class AbsenceAdmin(admin.ModelAdmin):
    list_display = ("user", "starts_on", "ends_on", "note")
    list_filter = ("starts_on",)
    search_fields = ("user__first_name", "user__last_name", "user__username")
    autocomplete_fields = ("user",)
    date_hierarchy = "starts_on"


@admin.register(ConsultationHour)
class ConsultationHourAdmin(admin.ModelAdmin):
    list_display = (
        "person",
        "location",
        "weekday",
        "starts_at",
        "ends_at",
        "every_n_weeks",
        "starts_on",
        "ends_on",
    )
    list_filter = ("weekday", "location")
    search_fields = ("person__last_name", "location__name")
    autocomplete_fields = ("person", "location")


class ServiceAdminForm(forms.ModelForm):
    life_domains = forms.MultipleChoiceField(
        label=_("life domains"), choices=LifeDomain.choices, widget=forms.CheckboxSelectMultiple
    )


class StaleFilter(admin.SimpleListFilter):
    title = _("checked")
    parameter_name = "stale"

    def lookups(self, request, model_admin):
        return [("yes", _("Not checked for 6 months")), ("no", _("Checked recently"))]

    def queryset(self, request, queryset):
        limit = timezone.localdate() - Service.STALE_AFTER
        if self.value() == "yes":
            return queryset.filter(last_checked_on__lt=limit)
        if self.value() == "no":
            return queryset.filter(last_checked_on__gte=limit)
        return queryset


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    form = ServiceAdminForm
    list_display = ("name", "organisation", "capacity", "last_checked_on")
    list_filter = ("capacity", StaleFilter, "organisation__kind")
    search_fields = ("name", "description", "organisation__name")
    autocomplete_fields = ("organisation", "contact_person")
    filter_horizontal = ("areas",)
    actions = ["mark_checked_today"]

    @admin.action(description=_("Mark selected entries as checked today"))
    def mark_checked_today(self, request, queryset):
        updated = queryset.update(last_checked_on=timezone.localdate())
        self.message_user(request, _("%(count)d entries marked as checked.") % {"count": updated})


class ProfileForm(forms.ModelForm):
    working_days = forms.TypedMultipleChoiceField(
        label=_("working days"),
        choices=Weekday.choices,
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )


class ProfileInline(admin.StackedInline):
    model = Profile
    form = ProfileForm
    can_delete = False


class UserMembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ("team",)


class AbsenceInline(admin.TabularInline):
    model = Absence
    extra = 0


class ConsultationHourInline(admin.TabularInline):
    model = ConsultationHour
    extra = 0
    autocomplete_fields = ("location",)


admin.site.unregister(User)


@admin.register(User)
class ProfessionalAdmin(BaseUserAdmin):
    """The user admin with the professional's profile, teams, absences and consultation hours inline."""

    inlines = [ProfileInline, UserMembershipInline, AbsenceInline, ConsultationHourInline]
    list_display = ("username", "first_name", "last_name", "discipline", "is_active", "is_staff")
    list_filter = ("is_active", "is_staff", "profile__discipline")
    list_select_related = ("profile",)

    @admin.display(description=_("discipline"), ordering="profile__discipline")
    def discipline(self, obj):
        profile = getattr(obj, "profile", None)
        return profile.get_discipline_display() if profile else "–"
