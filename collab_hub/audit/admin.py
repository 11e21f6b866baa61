from django.contrib import admin

from .models import AccessLogEntry, SecurityEvent


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AccessLogEntry)
class AccessLogEntryAdmin(ReadOnlyAdmin):
    """Read-only: the access log can be searched and read, never changed or deleted."""

    list_display = (
        "at",
        "event",
        "outcome",
        "user_name",
        "role",
        "patient_id",
        "object_type",
        "object_id",
        "needs_review",
    )
    list_filter = ("event", "outcome", "needs_review", "at")
    search_fields = ("user_name", "=patient_id", "=object_id")
    date_hierarchy = "at"
    list_select_related = ("user",)


@admin.register(SecurityEvent)
class SecurityEventAdmin(ReadOnlyAdmin):
    """Read-only, like the access log. Unlock a locked-out account under Axes → access attempts."""

    list_display = ("at", "kind", "username", "actor", "client_address", "path")
    list_filter = ("kind", "at")
    list_select_related = ("actor",)
    search_fields = ("username", "=client_address")
    date_hierarchy = "at"
