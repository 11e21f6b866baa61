from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from .models import User
from .services import sessions_end_for, twofactor_reset

# django-otp's own device pages would let staff read anyone's key or add a device with a key of their
# choosing, past the rules of two-step log-in and the security log. Devices change only through the
# Two-step log-in pages and the "reset two-step log-in" action below.
for _model in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        (_("Preferences"), {"fields": ("language",)}),
    )
    list_display = ("username", "first_name", "last_name", "email", "is_active", "is_staff")
    actions = ["reset_two_step_login"]

    def get_readonly_fields(self, request, obj=None):
        """Only a superuser hands out admin rights: anyone else who may change users would otherwise
        make themselves superuser."""
        fields = super().get_readonly_fields(request, obj)
        if request.user.is_superuser:
            return fields
        return (*fields, "is_staff", "is_superuser", "groups", "user_permissions")

    @admin.action(description=_("Reset two-step log-in (lost phone)"), permissions=["change"])
    def reset_two_step_login(self, request, queryset):
        """Check who is asking first (see docs/security.md): the person enrols again at their next
        log-in with nothing but the password."""
        done = 0
        for user in queryset:
            if user.pk == request.user.pk:
                self.message_user(
                    request,
                    _("Your own phone is changed on the Two-step log-in page, not here."),
                    messages.ERROR,
                )
                continue
            if user.is_superuser and not request.user.is_superuser:
                self.message_user(
                    request,
                    _("Only a superuser may reset the two-step log-in of %(name)s.") % {"name": user},
                    messages.ERROR,
                )
                continue
            twofactor_reset(user=user, by=request.user, request=request)
            done += 1
        if done:
            self.message_user(
                request,
                ngettext(
                    "Two-step log-in reset for %(count)d person: their sessions are ended and they set up "
                    "a new authenticator at their next log-in.",
                    "Two-step log-in reset for %(count)d people: their sessions are ended and they set up "
                    "a new authenticator at their next log-in.",
                    done,
                )
                % {"count": done},
                messages.SUCCESS,
            )

    def save_model(self, request, obj, form, change):
        was_active = change and User.objects.filter(pk=obj.pk, is_active=True).exists()
        super().save_model(request, obj, form, change)
        if was_active and not obj.is_active:
            # A deactivated account is logged out everywhere at once, not at its next request.
            sessions_end_for(user=obj, request=request, by=request.user)
