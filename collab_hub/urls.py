from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from collab_hub.accounts import views as account_views
from collab_hub.core import views as core_views

urlpatterns = [
    path("", core_views.home, name="home"),
    path("health/", core_views.health, name="health"),
    path("accounts/login/", account_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("i18n/setlang/", account_views.set_language, name="set_language"),
    path("", include("teams.urls")),
    path("patients/", include("patients.urls")),
    path("referrals/", include("referrals.urls")),
    path("notifications/", include("collab_hub.notifications.urls")),
    path("evaluations/", include("evaluations.urls")),
    path("admin/", admin.site.urls),
]
