from django.contrib import admin

from .models import Notification


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    """For operators: delivery state of e-mails (no patient data is stored in notifications)."""

    list_display = (
        "created_at",
        "recipient",
        "kind",
        "reference",
        "email_state",
        "email_attempts",
        "read_at",
    )
    list_filter = ("email_state", "kind")
    search_fields = ("reference", "recipient__username")
    readonly_fields = [f.name for f in Notification._meta.fields]

    def has_add_permission(self, request):
        return False
