from django.urls import path

from . import views

app_name = "teams"

urlpatterns = [
    path("people/", views.people_list, name="people"),
    path("people/<int:pk>/", views.person_detail, name="person"),
    path("organisations/<int:pk>/", views.organisation_detail, name="organisation"),
    path("teams/<int:pk>/", views.team_detail, name="team"),
    path("social-map/", views.social_map, name="social_map"),
    path("social-map/export.json", views.hsds_export, name="hsds_export"),
    path("social-map/<int:pk>/", views.service_detail, name="service_detail"),
    path("social-map/<int:pk>/checked/", views.service_checked, name="service_checked"),
]
