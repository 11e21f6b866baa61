from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django_otp.admin import OTPAdminSite

from collab_hub.accounts import views as account_views
from collab_hub.core import views as core_views

# Django admin only for people whose second factor is verified in this session.
admin.site.__class__ = OTPAdminSite

handler400 = "collab_hub.core.views.bad_request"
handler403 = "collab_hub.core.views.permission_denied"
handler404 = "collab_hub.core.views.page_not_found"
handler500 = "collab_hub.core.views.server_error"

urlpatterns = [
    path("", core_views.home, name="home"),
    path("health/", core_views.health, name="health"),
    path("ping/", core_views.ping, name="ping"),
    path("accounts/login/", account_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", account_views.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/2fa/setup/", account_views.twofactor_setup, name="twofactor_setup"),
    path("accounts/2fa/verify/", account_views.twofactor_verify, name="twofactor_verify"),
    path("accounts/2fa/", account_views.twofactor_manage, name="twofactor_manage"),
    path("accounts/password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("i18n/setlang/", account_views.set_language, name="set_language"),
    path("", include("teams.urls")),
    path("patients/", include("patients.urls")),
    path("referrals/", include("referrals.urls")),
    path("notifications/", include("collab_hub.notifications.urls")),
    path("evaluations/", include("evaluations.urls")),
    # One log-in page for everyone: the admin's own would skip the throttle and tell a right staff
    # password from a wrong one before the second factor.
    path("admin/login/", account_views.admin_login, name="admin_login_redirect"),
    path("admin/", admin.site.urls),
]
