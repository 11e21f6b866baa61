from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from .models import User
from .services import sessions_end_for


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        (_("Preferences"), {"fields": ("language",)}),
    )
    list_display = ("username", "first_name", "last_name", "email", "is_active", "is_staff")

    def save_model(self, request, obj, form, change):
        was_active = change and User.objects.filter(pk=obj.pk, is_active=True).exists()
        super().save_model(request, obj, form, change)
        if was_active and not obj.is_active:
            # A deactivated account is logged out everywhere at once, not at its next request.
            sessions_end_for(user=obj, request=request)
