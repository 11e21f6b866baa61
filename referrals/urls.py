from django.urls import path

from . import views

app_name = "referrals"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("new/<int:patient_pk>/", views.referral_create, name="create"),
    path("reminders/", views.reminders_overview, name="reminders"),
    path("<int:pk>/", views.referral_detail, name="detail"),
    path("<int:pk>/letter/", views.referral_letter, name="letter"),
    path("<int:pk>/consultation/", views.consultation_plan, name="consultation"),
    path("<int:pk>/consultation/record/", views.consultation_record, name="consultation_record"),
    path("<int:pk>/<slug:action>/", views.referral_action, name="action"),
]
