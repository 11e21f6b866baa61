from django.contrib import admin

from .models import AccessLogEntry


@admin.register(AccessLogEntry)
class AccessLogEntryAdmin(admin.ModelAdmin):
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

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
